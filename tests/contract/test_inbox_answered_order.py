"""An answered ticket drops below the unanswered ones of its priority, on DynamoDB (moto) and in
memory alike: the inbox orders a status by priority, then unanswered before answered, then SLA due
(keys.inbox_index, `Ticket.answered`). Every reply sent puts its ticket below; a customer's
follow-up brings it back up (the ingest pipeline places it unanswered); an automatic acknowledgement
is no answer."""
from __future__ import annotations

from chalicelib.aggregates.message import Message
from chalicelib.aggregates.ticket import Ticket
from chalicelib.store import keys

AT = "2026-11-24T10:00:00.000000+00:00"


def _open(desk, ticket_id: str, at: str, first_due: str, resolution_due: str) -> Ticket:
    opened = Ticket.opened(ticket_id, channel="x", kind="mention", brand="acme", brand_account_id="brand",
                           conversation_key=f"conv-{ticket_id}", opened_by=f"x#{ticket_id}", customer_id="c1",
                           now_iso=at, first_inbound_at=at, visibility="public", language="en", topic=None,
                           subject=None, clocks={"sla_due_at": first_due, "first_response_due_at": first_due,
                                                 "resolution_due_at": resolution_due})
    return desk.tickets.open_for(f"conv-{ticket_id}", opened)[0]


def _order(desk) -> list[str]:
    return [t.id for t in desk.tickets.inbox("open", brands=["acme"])[0]]


def _send(desk, ticket, reply_id: str, at: str, automatic: bool = False) -> bool:
    """A reply put and recorded sent at `at`; whether the store took it as the first response."""
    reply = Message.reply(reply_id, ticket_id=ticket.id, platform="x", kind="x_reply", text="on it",
                          visibility="public", target={"account_id": "brand"}, template_id=None, created_at=at,
                          agent_id=None if automatic else "ana", agent_name=None if automatic else "Ana",
                          brand="acme", notes=[], automatic=automatic)
    stored, _ = desk.messages.put_reply(reply)
    return desk.messages.record_sent(stored.model_copy(update={"status": "sent", "platform_message_id": f"p-{reply_id}",
                                                               "sent_at": at}), "c1", ticket)


def test_an_answered_ticket_drops_below_an_unanswered_one_of_the_same_priority(desk):
    # Given two open tickets of the same priority (normal band: first response in 1 h, resolution in 24 h),
    # the older one first because its first response is due first
    older = _open(desk, "t1", AT, "2026-11-24T11:00:00+00:00", "2026-11-25T10:00:00+00:00")
    _open(desk, "t2", "2026-11-24T10:30:00.000000+00:00", "2026-11-24T11:30:00+00:00", "2026-11-25T10:30:00+00:00")
    assert _order(desk) == ["t1", "t2"]
    # When the older one is answered (its reply sent: the first response)
    assert _send(desk, older, "r1", "2026-11-24T10:41:00.000000+00:00") is True
    # Then the unanswered one is first
    assert _order(desk) == ["t2", "t1"]


def test_a_higher_priority_answered_ticket_stays_above_a_lower_unanswered_one(desk):
    older = _open(desk, "t1", AT, "2026-11-24T11:00:00+00:00", "2026-11-25T10:00:00+00:00")
    desk.tickets.update("t1", older.version, {"priority": 70, **keys.inbox_index("open", 70, "2026-11-24T11:00:00+00:00", "t1")})
    older = desk.tickets.get("t1")
    _open(desk, "t2", "2026-11-24T10:30:00.000000+00:00", "2026-11-24T11:30:00+00:00", "2026-11-25T10:30:00+00:00")
    _send(desk, older, "r1", "2026-11-24T10:41:00.000000+00:00")
    assert _order(desk) == ["t1", "t2"]  # priority first: an answer never buries a more urgent ticket


def test_answered_goes_below_even_when_its_next_deadline_is_sooner(desk):
    # Given t1, opened yesterday: its resolution is due at 11:10, before t2's first response (11:30)
    t1 = _open(desk, "t1", "2026-11-23T11:10:00.000000+00:00", "2026-11-23T12:10:00+00:00", "2026-11-24T11:10:00+00:00")
    _open(desk, "t2", "2026-11-24T10:30:00.000000+00:00", "2026-11-24T11:30:00+00:00", "2026-11-25T10:30:00+00:00")
    # When t1 is answered
    _send(desk, t1, "r1", "2026-11-24T10:41:00.000000+00:00")
    # Then it goes below the unanswered t2 all the same
    assert _order(desk) == ["t2", "t1"]
    assert desk.tickets.get("t1").sla_due_at == "2026-11-24T11:10:00+00:00"  # its clock did not move for it


def test_a_follow_up_brings_it_back_up_and_the_next_reply_puts_it_below_again(desk):
    t1 = _open(desk, "t1", AT, "2026-11-24T11:00:00+00:00", "2026-11-25T10:00:00+00:00")
    _open(desk, "t2", "2026-11-24T10:30:00.000000+00:00", "2026-11-24T11:30:00+00:00", "2026-11-25T10:30:00+00:00")
    _send(desk, t1, "r1", "2026-11-24T10:41:00.000000+00:00")
    assert _order(desk) == ["t2", "t1"]
    # When the customer writes again (as the ingest pipeline records a follow-up: a new response clock)
    read = desk.tickets.get("t1")
    follow_up = {"last_inbound_at": "2026-11-24T10:50:00.000000+00:00"}
    assert read.changed(follow_up).answered is False
    desk.tickets.update("t1", read.version, {**follow_up, **keys.sla_due("open", read.priority, "2026-11-24T11:20:00+00:00",
                                                                        "t1", read.changed(follow_up).answered)})
    assert _order(desk) == ["t1", "t2"]  # unanswered again, and due sooner
    # When the agent answers that too (not a first response: only the inbox place moves)
    _send(desk, desk.tickets.get("t1"), "r2", "2026-11-24T10:55:00.000000+00:00")
    assert desk.tickets.get("t1").answered is True
    assert _order(desk) == ["t2", "t1"]


def test_an_automatic_acknowledgement_is_no_answer(desk):
    t1 = _open(desk, "t1", AT, "2026-11-24T11:00:00+00:00", "2026-11-25T10:00:00+00:00")
    _open(desk, "t2", "2026-11-24T10:30:00.000000+00:00", "2026-11-24T11:30:00+00:00", "2026-11-25T10:30:00+00:00")
    _send(desk, t1, "ack", "2026-11-24T10:00:05.000000+00:00", automatic=True)  # the off-hours answer
    assert desk.tickets.get("t1").answered is False
    assert _order(desk) == ["t1", "t2"]
