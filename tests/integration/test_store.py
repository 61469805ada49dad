"""The DynamoDB store's conditional writes: races lose cleanly, nothing is written twice."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest

from chalicelib.errors import ConcurrentUpdate, DuplicateEvent

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def _ticket(ticket_id: str) -> dict:
    return {"id": ticket_id, "status": "open", "version": 0, "priority": 10, "created_at": NOW.isoformat(),
            "channel": "x", "customer_id": "c1", "sla_due_at": NOW.isoformat()}


def _message(message_id: str) -> dict:
    return {"id": message_id, "direction": "in", "platform": "x", "kind": "tweet", "text": "hi",
            "created_at": NOW.isoformat()}


def test_a_conversation_keeps_its_open_ticket(desk):
    store = desk.store()
    first, created = store.open_ticket_for("x#b#conv1", _ticket("t1"))
    again, created_again = store.open_ticket_for("x#b#conv1", _ticket("t2"))
    assert (first["id"], created, again["id"], created_again) == ("t1", True, "t1", False)
    assert store.get_ticket("t2") is None


def test_a_closed_ticket_makes_way_for_a_new_one(desk):
    store = desk.store()
    store.open_ticket_for("x#b#conv1", _ticket("t1"))
    store.table.update_item(Key={"PK": "TICKET#t1", "SK": "TICKET"}, UpdateExpression="SET #s = :c",
                            ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":c": "closed"})
    ticket, created = store.open_ticket_for("x#b#conv1", _ticket("t2"))
    assert (ticket["id"], created) == ("t2", True)


def test_a_stale_ticket_version_is_a_concurrent_update(desk):
    store = desk.store()
    ticket, _ = store.open_ticket_for("x#b#conv1", _ticket("t1"))
    store.record_inbound(ticket, _message("m1"), "x#1", "c1", {"priority": 20}, NOW)
    with pytest.raises(ConcurrentUpdate):
        store.record_inbound(ticket, _message("m2"), "x#2", "c1", {"priority": 30}, NOW)  # version 0 is stale
    assert [m["id"] for m in store.messages("t1")] == ["m1"]


def test_a_platform_id_already_recorded_is_a_duplicate(desk):
    store = desk.store()
    ticket, _ = store.open_ticket_for("x#b#conv1", _ticket("t1"))
    store.record_inbound(ticket, _message("m1"), "x#1", "c1", {}, NOW)
    with pytest.raises(DuplicateEvent):
        store.record_inbound(store.get_ticket("t1"), _message("m1"), "x#1", "c1", {}, NOW)
    assert store.get_ticket("t1")["message_count"] == 1


def test_one_customer_per_identity_with_fresh_reach(desk):
    store = desk.store()
    a = store.link_customer("x", {"id": "u1", "name": "Aino", "followers": 10}, NOW)
    b = store.link_customer("x", {"id": "u1", "name": "Aino", "followers": 99}, NOW)
    c = store.link_customer("facebook", {"id": "u1", "name": "Aino"}, NOW)
    assert a == b != c
    [identity] = store.customer_history(a)["identities"]
    assert identity["followers"] == 99


def test_racing_workers_on_one_conversation_make_one_ticket_with_every_message(desk):
    from chalicelib import pipeline
    from chalicelib.models import Author, Mention, MentionEnvelope, utcnow

    store = desk.store()
    bodies = [MentionEnvelope(mention=Mention(
        platform="facebook", kind="message", brand_account_id="p1", external_id=f"m_{i}", conversation_id="u9",
        author=Author(id="u9", name="Ola"), text=f"message {i}", visibility="private", created_at=utcnow()),
        received_at=utcnow()).model_dump_json() for i in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(lambda b: pipeline.handle_record(b, store), bodies))
    tickets = list(store.all_tickets())
    assert len(tickets) == 1
    assert sorted(m["text"] for m in store.messages(tickets[0]["id"])) == [f"message {i}" for i in range(6)]
    assert sorted(o.result for o in outcomes).count("created") == 1
