"""The agent desk's API beyond one ticket: filtered inbox, templates, agents, reports."""
from __future__ import annotations

import json

import pytest

from chalicelib.auth import mint
from infra.local import demo
from infra.local import payloads as p
from tests.conftest import TEST_SECRETS
from tests import stored

BRAND_X, PAGE = "1500000000000000001", "104000000000001"


def _get(desk, path, agent="ana", role="agent"):
    answer = desk.client.http.get(path, headers=_auth(agent, role))
    return answer.status_code, json.loads(answer.body or b"null")


def _auth(agent="ana", role="agent"):
    return {"Authorization": f"Bearer {mint(agent, role, TEST_SECRETS['LOCAL_JWT_SECRET'])}",
            "Content-Type": "application/json"}


@pytest.fixture
def desk_with_tickets(desk):
    store = desk.store()
    for agent in demo.AGENTS:  # offline while the mentions arrive (they open unassigned), online after
        stored.put_agent(store, {**agent, "status": "offline", "capacity": 10, "load": 0})
    for template in demo.TEMPLATES:
        store.put_template(template, expected_version=0)
    stored.put_account(store, "x", BRAND_X, status="active", brand="nordlight", name="Nordlight Electronics (x)")
    stored.put_account(store, "facebook", PAGE, status="active", brand="nordlight", name="Nordlight Electronics (facebook)")
    tweets = [("1850000000000000101", {"id": "1", "name": "Aino", "handle": "aino"}, "Tilaukseni ei ole saapunut, olen todella vihainen!"),
              ("1850000000000000102", {"id": "2", "name": "Sam", "handle": "sam_k"}, "Love the new lamp, thank you!"),
              ("1850000000000000103", {"id": "3", "name": "Lee", "handle": "lee"}, "my laptop will not boot after the update, help")]
    for tweet_id, user, text in tweets:
        body = p.encode(p.x_tweet_event(BRAND_X, tweet_id, user, text))
        desk.client.http.post("/webhooks/x", body=body, headers={
            "Content-Type": "application/json", **p.sign_x(body, TEST_SECRETS["X_CONSUMER_SECRET"])})
    change = p.fb_comment_change(PAGE, "555", "555_901", {"id": "9", "name": "Eleni"}, "Πού είναι η παραγγελία μου;")
    body = p.encode(p.meta_payload("page", [p.meta_entry(PAGE, changes=[change])]))
    desk.client.http.post("/webhooks/meta", body=body, headers={
        "Content-Type": "application/json", **p.sign_meta(body, TEST_SECRETS["META_APP_SECRET"])})
    desk.drain(only=("ingest_worker",))
    for agent in demo.AGENTS:
        store.agents.set_status(agent["id"], "online", "2026-11-27T09:00:00+00:00")
    return desk


def test_the_inbox_filters_by_channel_language_sentiment_priority_and_text(desk_with_tickets):
    desk = desk_with_tickets
    _, everything = _get(desk, "/api/tickets")
    assert len(everything["items"]) == 4
    _, facebook = _get(desk, "/api/tickets?channel=facebook")
    assert [t["channel"] for t in facebook["items"]] == ["facebook"]
    _, finnish = _get(desk, "/api/tickets?language=fi")
    assert [t["language"] for t in finnish["items"]] == ["fi"]
    _, positive = _get(desk, "/api/tickets?sentiment=positive")
    assert [t["last_message_preview"] for t in positive["items"]] == ["Love the new lamp, thank you!"]
    top = everything["items"][0]["priority"]
    _, high = _get(desk, f"/api/tickets?priority_min={top}")
    assert all(t["priority"] >= top for t in high["items"]) and high["items"]
    desk.drain()  # the stream into the search index, as Lambda would
    _, text = _get(desk, "/api/tickets?q=laptop")
    assert [t["last_message_preview"] for t in text["items"]] == ["my laptop will not boot after the update, help"]
    _, shouted = _get(desk, "/api/tickets?q=LAPTOP")
    assert shouted["items"] == text["items"]  # case-blind
    _, by_name = _get(desk, "/api/tickets?q=aino")
    assert [t["language"] for t in by_name["items"]] == ["fi"]  # the customer's name finds their ticket


def test_assignee_me_and_paging_with_filters(desk_with_tickets):
    desk = desk_with_tickets
    _, everything = _get(desk, "/api/tickets")
    first = everything["items"][0]
    desk.client.http.post(f"/api/tickets/{first['id']}/claim", headers=_auth(), body=json.dumps({"version": first["version"]}))
    _, mine = _get(desk, "/api/tickets?assignee=me")
    assert [t["id"] for t in mine["items"]] == [first["id"]]
    _, nobody = _get(desk, "/api/tickets?assignee=none")
    assert first["id"] not in [t["id"] for t in nobody["items"]] and len(nobody["items"]) == 3
    seen, cursor = [], None
    while True:
        _, page = _get(desk, "/api/tickets?channel=x&limit=1" + (f"&cursor={cursor}" if cursor else ""))
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 3 == len(set(seen))


@pytest.mark.parametrize("query, field", [("status=archived", "status"), ("priority_min=200", "priority_min"),
                                          ("language=finnish", "language"), ("colour=red", "colour"),
                                          ("limit=0", "limit")])
def test_bad_filters_are_400_naming_the_parameter(desk_with_tickets, query, field):
    status, body = _get(desk_with_tickets, f"/api/tickets?{query}")
    assert status == 400 and field in body["error"]


def test_a_crafted_cursor_is_400_not_500(desk_with_tickets):
    import base64

    crafted = base64.urlsafe_b64encode(json.dumps({"PK": {"S": "x"}}).encode()).decode()
    for cursor in (crafted, "not-base64!!", base64.urlsafe_b64encode(b"[1,2]").decode()):
        status, body = _get(desk_with_tickets, f"/api/tickets?cursor={cursor}")
        assert status == 400 and "cursor" in body["error"]


def test_templates_render_in_the_tickets_language_with_its_variables(desk_with_tickets):
    desk = desk_with_tickets
    _, finnish = _get(desk, "/api/tickets?language=fi")
    ticket = finnish["items"][0]
    _, rendered = _get(desk, f"/api/tickets/{ticket['id']}/templates", agent="mikko")
    sorry = next(t for t in rendered["items"] if t["id"] == "sorry-looking")
    assert sorry["language"] == "fi"
    assert sorry["text"] == "Hei Aino, olen todella pahoillani. Selvitän asiaa juuri nyt. – Mikko"
    thanks = next(t for t in rendered["items"] if t["id"] == "thanks")
    assert thanks["language"] == "en"  # no Finnish variant: the default language


def test_a_reply_from_a_template_is_rendered_server_side_and_queued(desk_with_tickets):
    desk = desk_with_tickets
    _, greek = _get(desk, "/api/tickets?channel=facebook")
    ticket = greek["items"][0]
    answer = desk.client.http.post(f"/api/tickets/{ticket['id']}/replies", headers=_auth(),
                                   body=json.dumps({"visibility": "public", "template_id": "sorry-looking"}))
    assert answer.status_code == 202, answer.body
    reply = json.loads(answer.body)
    assert reply["template_id"] == "sorry-looking"
    assert reply["text"].startswith("Γεια σας Eleni") and reply["text"].endswith("– Ana")
    missing = desk.client.http.post(f"/api/tickets/{ticket['id']}/replies", headers=_auth(),
                                    body=json.dumps({"visibility": "public", "template_id": "nope"}))
    assert missing.status_code == 404
    neither = desk.client.http.post(f"/api/tickets/{ticket['id']}/replies", headers=_auth(),
                                    body=json.dumps({"visibility": "public"}))
    assert neither.status_code == 400 and "template_id" in json.loads(neither.body)["error"]


def test_admins_manage_templates_with_versions_and_unknown_variables_are_refused(desk_with_tickets):
    desk = desk_with_tickets
    admin = _auth("root", "admin")
    body = {"name": "Refund", "variants": {"en": "Your refund is on its way, {{customer.name}}."}}
    created = desk.client.http.put("/api/templates/refund", headers=admin, body=json.dumps(body))
    assert created.status_code == 200 and json.loads(created.body)["version"] == 1
    stale = desk.client.http.put("/api/templates/refund", headers=admin, body=json.dumps({**body, "version": 0}))
    assert stale.status_code == 409
    typo = desk.client.http.put("/api/templates/refund", headers=admin, body=json.dumps(
        {"name": "Refund", "version": 1, "variants": {"en": "Hi {{custmer.name}}"}}))
    assert typo.status_code == 400 and "custmer.name" in json.loads(typo.body)["error"]
    assert desk.client.http.put("/api/templates/refund", headers=_auth(), body=json.dumps(body)).status_code == 403
    assert desk.client.http.delete("/api/templates/refund", headers=admin).status_code == 204
    assert desk.client.http.delete("/api/templates/refund", headers=admin).status_code == 404


def test_supervisors_see_agents_load_and_presence(desk_with_tickets):
    status, agents = _get(desk_with_tickets, "/api/agents", agent="sam", role="supervisor")
    assert status == 200 and {a["id"] for a in agents["items"]} == {a["id"] for a in demo.AGENTS}
    assert all(set(a) >= {"status", "load", "capacity", "languages"} for a in agents["items"])
    assert _get(desk_with_tickets, "/api/agents")[0] == 403


def test_reports_summarise_volume_sentiment_topics_and_first_response(desk_with_tickets):
    from chalicelib.models import utcnow

    desk = desk_with_tickets
    store = desk.store()
    _, everything = _get(desk, "/api/tickets")
    answered = everything["items"][0]
    from chalicelib.aggregates.message import Message

    store.messages.record_sent(Message.from_item({
        "platform": "x", "platform_message_id": "999", "ticket_id": answered["id"], "id": "m1", "direction": "out",
        "created_at": utcnow().isoformat(), "sent_at": utcnow().isoformat(), "agent_id": "ana",
        "kind": "x_reply"}), None)
    desk.drain()  # the table's stream into the reports' counters, as Lambda would
    status, report = _get(desk, "/api/reports/summary?days=7")
    assert status == 200 and report["tickets"] == 4
    assert report["volume_by_channel"] == {"facebook": 1, "x": 3}
    assert sum(d["negative"] + d["neutral"] + d["positive"] for d in report["sentiment_by_day"]) == 4
    assert report["first_response_seconds"]["median"] is not None and report["reply_rate"] == 0.25
    assert sum(t["count"] for t in report["top_topics"]) == 4
    assert _get(desk, "/api/reports/summary?days=0")[0] == 400
