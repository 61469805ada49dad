"""A channel's reply side is its package too (docs/ARCHITECTURE.md, "How to add a channel"; the
interface: chalicelib/channels/reply.py).

Given Toy (tests/channels/toy) registered with its reply modules (replies.py: the planner per kind
and the action's name; send.py: the sender and its look-up) and nothing else edited,
then the agent's reply options and refusals are Toy's, a reply is delivered by Toy's sender through
the outbound worker's exactly-once machinery, and a send whose answer was lost is found, not resent.
"""
from __future__ import annotations

import dataclasses
import json

import pytest

from chalicelib.auth import mint
from chalicelib.channels import registry, signing
from tests.channels import toy
from tests.channels.toy import send as toy_platform
from tests.conftest import TEST_SECRETS
from tests import stored

SECRET = "toy-channel-secret"
ACCOUNT = "toy-brand-1"


@pytest.fixture
def with_toy(monkeypatch, desk):
    """Toy's one line in channels/registry.py (its package in the tests, so named), its secret, and
    its account connected by an admin."""
    from chalicelib.openapi import document

    monkeypatch.setattr(registry, "CHANNELS", registry.CHANNELS + (
        dataclasses.replace(toy.CHANNEL, package="tests.channels.toy"),))
    monkeypatch.setenv("TOY_CHANNEL_SECRET", SECRET)
    document.cache_clear()
    toy_platform.POSTED.clear()
    stored.put_account(desk.store(), toy.ID, ACCOUNT, status="active")
    yield
    document.cache_clear()


def _agent():
    return {"Authorization": "Bearer " + mint("ana", "admin", TEST_SECRETS["LOCAL_JWT_SECRET"]),
            "Content-Type": "application/json"}


def _ticket(desk) -> dict:
    body = json.dumps({"account": ACCOUNT, "chats": [
        {"id": "chat-1", "from": {"id": "u-42", "name": "Tove"}, "text": "My parcel never came"}]}).encode()
    answer = desk.client.http.post("/webhooks/toy", body=body, headers={
        "Content-Type": "application/json", "X-Toy-Signature": signing.hex_signature(SECRET, body)})
    assert answer.status_code == 200
    desk.drain(only=("ingest_worker",))
    [ticket] = desk.store().all_tickets()
    return ticket


def _reply(desk, ticket_id: str, text: str, visibility: str):
    return desk.client.http.post(f"/api/tickets/{ticket_id}/replies", headers=_agent(),
                                 body=json.dumps({"text": text, "visibility": visibility}))


def _outbound(desk, ticket_id: str) -> dict:
    view = json.loads(desk.client.http.get(f"/api/tickets/{ticket_id}", headers=_agent()).body)
    [message] = [m for m in view["messages"] if m["direction"] == "out"]
    return message


def test_a_reply_on_a_registered_channel_is_planned_and_sent_by_its_package(desk, with_toy):
    # Given a Toy chat that became a ticket
    ticket = _ticket(desk)
    # When the agent reads the reply options, then replies publicly, too long, and privately
    options = json.loads(desk.client.http.get(f"/api/tickets/{ticket['id']}", headers=_agent()).body)
    public = _reply(desk, ticket["id"], "Sorry!", "public")
    too_long = _reply(desk, ticket["id"], "a" * 501, "private")
    sent = _reply(desk, ticket["id"], "Sorry, Tove! A new parcel is on its way.", "private")
    desk.drain(only=("outbound_worker",))

    # Then the options and refusals are Toy's planner's and its descriptor's counter's
    assert options["reply_options"]["private"]["via"] == "a Toy chat message"
    assert options["reply_options"]["private"]["max_length"] == 500
    assert public.status_code == 422 and "privately (Toy chat)" in json.loads(public.body)["error"]
    assert too_long.status_code == 422
    assert json.loads(too_long.body)["error"] == "too long for a Toy chat message: 501 of at most 500 characters; shorten it"
    # and Toy's sender delivered the reply once, given no credential, and it is sent
    assert sent.status_code == 202
    assert toy_platform.POSTED == [{"chat_id": "u-42", "text": "Sorry, Tove! A new parcel is on its way.",
                                    "credential": None}]
    message = _outbound(desk, ticket["id"])
    assert (message["status"], message["kind"], message["platform_message_id"]) == ("sent", "toy_chat", "toy-1")


def test_a_send_whose_answer_was_lost_is_found_by_the_channels_look_up_not_sent_twice(desk, with_toy):
    ticket = _ticket(desk)
    # Given Toy accepts the reply but its answer is lost
    assert _reply(desk, ticket["id"], "We are on it.", "private").status_code == 202
    toy_platform.LOSE_ANSWER.add(_outbound(desk, ticket["id"])["id"])
    # When the worker runs (and runs again after the lost answer)
    for _ in range(3):
        desk.drain(only=("outbound_worker",))
    # Then Toy's look-up found it: posted once, sent, confirmed by the look-up
    message = _outbound(desk, ticket["id"])
    assert len(toy_platform.POSTED) == 1
    assert (message["status"], message["confirmed_by"]) == ("sent", "lookup")
