"""Agents correct the classifier; corrections are stored per brand for the brand's adapted model."""
from __future__ import annotations

import json

from chalicelib.auth import mint
from infra.local import payloads as p
from tests.conftest import TEST_SECRETS
from tests import stored

BRAND_X = "1500000000000000002"
AUTH = {"Authorization": "Bearer " + mint("ana", "agent", TEST_SECRETS["LOCAL_JWT_SECRET"]),
        "Content-Type": "application/json"}


def _ticket(desk):
    stored.put_account(desk.store(), "x", BRAND_X, brand="aegean", status="active")
    body = p.encode(p.x_tweet_event(BRAND_X, "1891000000000000001", {"id": "7", "name": "K"},
                                    "@AegeanSkies flight A3 602 delayed again"))
    desk.client.http.post("/webhooks/x", body=body, headers={
        "Content-Type": "application/json", **p.sign_x(body, TEST_SECRETS["X_CONSUMER_SECRET"])})
    desk.drain(only=("ingest_worker",))
    [ticket] = list(desk.store().all_tickets())
    [message] = stored.messages(desk.store(), ticket["id"])
    return ticket, message


def test_a_correction_is_stored_for_the_brand_with_the_original_verdict(desk):
    from tests.stored import put_agent

    put_agent(desk.store(), {"id": "ana", "brands": ["aegean"]})  # an agent of the ticket's brand
    ticket, message = _ticket(desk)
    answer = desk.client.http.post(f"/api/tickets/{ticket['id']}/corrections", headers=AUTH, body=json.dumps(
        {"message_id": message["id"], "sentiment": "negative", "topic": "service_complaint"}))
    assert answer.status_code == 201
    [stored] = desk.store().corrections("aegean")
    assert (stored["text"], stored["sentiment"], stored["topic"], stored["agent_id"]) == (
        "@AegeanSkies flight A3 602 delayed again", "negative", "service_complaint", "ana")
    assert stored["original"]["sentiment"] == message["classification"]["sentiment"]


def test_an_empty_or_invalid_correction_is_a_400_naming_the_field(desk):
    ticket, message = _ticket(desk)
    url = f"/api/tickets/{ticket['id']}/corrections"
    empty = desk.client.http.post(url, headers=AUTH, body=json.dumps({"message_id": message["id"]}))
    wrong = desk.client.http.post(url, headers=AUTH, body=json.dumps({"message_id": message["id"],
                                                                       "sentiment": "furious"}))
    assert empty.status_code == 400 and wrong.status_code == 400
    assert "sentiment" in json.loads(wrong.body)["error"]
    assert desk.store().corrections("aegean") == []


def test_correcting_an_unknown_message_is_404_and_without_a_token_401(desk):
    ticket, _ = _ticket(desk)
    url = f"/api/tickets/{ticket['id']}/corrections"
    body = json.dumps({"message_id": "nope", "actionable": True})
    assert desk.client.http.post(url, headers=AUTH, body=body).status_code == 404
    assert desk.client.http.post(url, headers={"Content-Type": "application/json"}, body=body).status_code == 401
