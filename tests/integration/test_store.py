"""The DynamoDB store's conditional writes: races lose cleanly, nothing is written twice."""
from __future__ import annotations

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


class _StaleOnce:
    """A table whose first read of a conversation pointer answers from before a rival's write."""

    def __init__(self, table):
        self._table, self._stale = table, True

    def get_item(self, **kwargs):
        if self._stale and kwargs["Key"]["PK"].startswith("CONV#"):
            self._stale = False
            return {}
        return self._table.get_item(**kwargs)

    def __getattr__(self, name):
        return getattr(self._table, name)


def test_a_worker_that_lost_the_race_for_a_conversation_uses_the_winners_ticket(desk):
    from chalicelib.store.dynamodb import DynamoStore

    winner = desk.store()
    winner.open_ticket_for("facebook#p1#u9", _ticket("t1"))
    # Given a rival that read the pointer before the winner wrote it
    rival = DynamoStore(desk.store().table)
    rival.table = _StaleOnce(rival.table)
    # When it tries to open its own ticket for the conversation
    ticket, created = rival.open_ticket_for("facebook#p1#u9", _ticket("t2"))
    # Then its conditional write fails, it re-reads, and joins the winner's ticket
    assert (ticket["id"], created) == ("t1", False)
    assert desk.store().get_ticket("t2") is None


def test_every_message_of_a_burst_lands_in_one_ticket_and_only_the_first_opens_it(desk):
    from chalicelib import pipeline
    from chalicelib.models import Author, Mention, MentionEnvelope, utcnow

    store = desk.store()
    outcomes = [pipeline.handle_record(MentionEnvelope(mention=Mention(
        platform="facebook", kind="message", brand_account_id="p1", external_id=f"m_{i}", conversation_id="u9",
        author=Author(id="u9", name="Ola"), text=f"message {i}", visibility="private", created_at=utcnow()),
        received_at=utcnow()).model_dump_json(), store) for i in range(4)]
    [ticket] = list(store.all_tickets())
    assert [m["text"] for m in store.messages(ticket["id"])] == [f"message {i}" for i in range(4)]
    assert [o.result for o in outcomes] == ["created", "threaded", "threaded", "threaded"]


def test_messages_keep_platform_time_order_whatever_the_precision(desk):
    from datetime import timedelta

    from chalicelib import pipeline
    from chalicelib.models import Author, Mention, MentionEnvelope, utcnow

    store = desk.store()
    base = datetime(2026, 11, 23, 12, 0, 0, tzinfo=timezone.utc)
    # Given a later message whose time has no microseconds and an earlier one that has them
    times = [base + timedelta(microseconds=500), base + timedelta(seconds=1),
             base.astimezone(timezone(timedelta(hours=2))) + timedelta(seconds=2)]
    for i, moment in enumerate(times):
        pipeline.handle_record(MentionEnvelope(mention=Mention(
            platform="whatsapp", kind="message", brand_account_id="p", external_id=f"w{i}", conversation_id="u",
            author=Author(id="u"), text=f"m{i}", visibility="private", created_at=moment),
            received_at=utcnow()).model_dump_json(), store)
    [ticket] = list(store.all_tickets())
    assert [m["text"] for m in store.messages(ticket["id"])] == ["m0", "m1", "m2"]
