"""The DynamoDB store's conditional writes: races lose cleanly, nothing is written twice."""
from __future__ import annotations

from datetime import datetime, timezone

from chalicelib.aggregates.ticket import Ticket
from tests import stored

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def _ticket(ticket_id: str) -> Ticket:
    return Ticket.from_item({"id": ticket_id, "status": "open", "version": 0, "priority": 10,
                             "created_at": NOW.isoformat(), "channel": "x", "customer_id": "c1",
                             "sla_due_at": NOW.isoformat()})


# Opening, threading, duplicates and stale versions are the TicketStore and MessageStore contract
# (tests/contract/), on moto and in memory; here, what only the table and the worker show.


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
    from chalicelib.store.tickets import DynamoTicketStore

    winner = desk.store()
    winner.tickets.open_for("facebook#p1#u9", _ticket("t1"))
    # Given a rival that read the pointer before the winner wrote it
    rival = DynamoTicketStore(desk.store().table)
    rival.table = _StaleOnce(rival.table)
    # When it tries to open its own ticket for the conversation
    ticket, created = rival.open_for("facebook#p1#u9", _ticket("t2"))
    # Then its conditional write fails, it re-reads, and joins the winner's ticket
    assert (ticket.id, created) == ("t1", False)
    assert stored.ticket(desk.store(), "t2") is None


def test_every_message_of_a_burst_lands_in_one_ticket_and_only_the_first_opens_it(desk):
    from chalicelib import pipeline
    from chalicelib.models import Author, Mention, MentionEnvelope, utcnow

    store = desk.store()
    outcomes = [pipeline.handle_record(MentionEnvelope(mention=Mention(
        platform="facebook", kind="message", brand_account_id="p1", external_id=f"m_{i}", conversation_id="u9",
        author=Author(id="u9", name="Ola"), text=f"message {i}", visibility="private", created_at=utcnow()),
        received_at=utcnow()).model_dump_json(), store) for i in range(4)]
    [ticket] = list(store.all_tickets())
    assert [m["text"] for m in stored.messages(store, ticket["id"])] == [f"message {i}" for i in range(4)]
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
    assert [m["text"] for m in stored.messages(store, ticket["id"])] == ["m0", "m1", "m2"]
