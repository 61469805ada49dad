"""The read side of the agent API that this slice ships: the inbox and one ticket in context."""
from __future__ import annotations

import json

from chalicelib.auth import mint
from infra.local import payloads as p
from tests.conftest import TEST_SECRETS
from tests import stored

PAGE = "104000000000001"


def _auth(role="agent"):
    return {"Authorization": "Bearer " + mint("ana", role, TEST_SECRETS["LOCAL_JWT_SECRET"])}


def _comment(desk, post, comment, text):
    body = p.encode(p.meta_payload("page", [p.meta_entry(PAGE, changes=[
        p.fb_comment_change(PAGE, post, comment, {"id": "501", "name": "Eleni"}, text)])]))
    desk.client.http.post("/webhooks/meta", body=body, headers={
        "Content-Type": "application/json", **p.sign_meta(body, TEST_SECRETS["META_APP_SECRET"])})


def test_no_token_or_a_forged_one_is_401(desk):
    assert desk.client.http.get("/api/tickets").status_code == 401
    forged = "Bearer " + mint("ana", "admin", "not-the-secret")
    assert desk.client.http.get("/api/tickets", headers={"Authorization": forged}).status_code == 401


def test_the_inbox_is_ordered_by_priority_and_pages_with_a_cursor(desk):
    stored.put_agent(desk.store(), {"id": "ana", "brands": ["aegean", "default", "nordlight"]})  # an agent of the tickets' brands
    _comment(desk, "p1", "c1", "Nice photo")
    _comment(desk, "p2", "c2", "URGENT: my charger caught fire and the battery is smoking, help now!")
    _comment(desk, "p3", "c3", "Where is my order? It is two weeks late")
    desk.drain(only=("ingest_worker",))
    first = json.loads(desk.client.http.get("/api/tickets?limit=2", headers=_auth()).body)
    rest = json.loads(desk.client.http.get(f"/api/tickets?limit=2&cursor={first['next_cursor']}",
                                           headers=_auth()).body)
    items = first["items"] + rest["items"]
    assert [t["priority"] for t in items] == sorted((t["priority"] for t in items), reverse=True)
    assert "charger" in items[0]["last_message_preview"] and len(items) == 3
    assert rest["next_cursor"] is None


def test_a_ticket_comes_with_its_messages_customer_and_other_tickets(desk):
    stored.put_agent(desk.store(), {"id": "ana", "brands": ["aegean", "default", "nordlight"]})  # an agent of the tickets' brands
    _comment(desk, "p1", "c1", "Where is my refund?")
    _comment(desk, "p2", "c2", "Also, my invoice is wrong")
    desk.drain(only=("ingest_worker",))
    items = json.loads(desk.client.http.get("/api/tickets", headers=_auth()).body)["items"]
    one = json.loads(desk.client.http.get(f"/api/tickets/{items[0]['id']}", headers=_auth()).body)
    assert [m["platform_message_id"] for m in one["messages"]] in (["c1"], ["c2"])
    assert one["customer"]["identities"][0]["user_id"] == "501"
    assert [t["id"] for t in one["other_tickets"]] == [items[1]["id"]]
    assert desk.client.http.get("/api/tickets/nope", headers=_auth()).status_code == 404
