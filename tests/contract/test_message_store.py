"""The MessageStore contract, on DynamoDB (moto) and in memory alike: an inbound message is
recorded once per platform id, with its effect on the ticket, or not at all; the timeline reads
back oldest first; a reply is stored once per idempotency key and moves through its states only
by the conditional transitions the outbound worker makes; a sent reply is a first response once."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest

from chalicelib.aggregates.message import Message, Receipt, ReplyCondition
from chalicelib.aggregates.ticket import Ticket
from chalicelib.errors import ConcurrentUpdate, DuplicateEvent
from chalicelib.store import keys

AT = "2026-11-24T10:00:00.000000+00:00"
NOW = datetime.fromisoformat(AT)


def _ticket(desk, ticket_id: str = "t1") -> Ticket:
    ticket = Ticket.opened(ticket_id, channel="x", kind="mention", brand="acme", brand_account_id="brand",
                           conversation_key=f"conv-{ticket_id}", opened_by="x#1", customer_id="c1", now_iso=AT,
                           first_inbound_at=AT, clocks={}, visibility="public", language="en", topic=None,
                           subject=None)
    return desk.tickets.open_for(f"conv-{ticket_id}", ticket)[0]


def _inbound(message_id: str = "m1", at: str = AT, text: str = "hello") -> Message:
    return Message.inbound(message_id, mention={"platform": "x", "kind": "mention", "external_id": f"e-{message_id}",
                                                "text": text, "visibility": "public",
                                                "author": {"id": "u1", "name": "Mia"}, "source": "webhook"},
                           customer_id="c1", created_at=at, received_at=at,
                           classification={"sentiment": "neutral", "topic": None}, priority=40, priority_factors=[],
                           priority_rules_version=0, brand="acme")


def _reply(message_id: str = "r1", at: str = "2026-11-24T10:01:00.000000+00:00", **fields) -> Message:
    reply = Message.reply(message_id, ticket_id="t1", platform="x", kind="x_reply", text="on it", visibility="public",
                          target={"account_id": "brand"}, template_id=None, created_at=at, agent_id="ana",
                          agent_name="Ana", brand="acme", notes=[], automatic=False)
    return reply.model_copy(update=fields)


# -- inbound -----------------------------------------------------------------------------------
def test_an_inbound_message_is_stored_with_its_effect_on_the_ticket(desk):
    ticket = _ticket(desk)
    desk.messages.record_inbound(ticket, _inbound(), "x#e-m1", "c1", {"priority": 40, "last_inbound_at": AT}, NOW)
    stored = _inbound().model_copy(update={"classification": {"sentiment": "neutral"}})  # a None is never stored
    assert desk.messages.timeline("t1") == [stored] and desk.messages.get("t1", "m1") == stored
    after = desk.tickets.get("t1")
    assert (after.version, after.message_count, after.priority, after.updated_at) == (1, 1, 40, NOW.isoformat())
    assert desk.messages.seen("x#e-m1") == {**desk.messages.seen("x#e-m1"), "ticket_id": "t1", "message_id": "m1"}
    [touch] = desk.touchpoints("c1")
    assert {k: touch[k] for k in ("ticket_id", "message_id", "channel", "direction", "at")} == {
        "ticket_id": "t1", "message_id": "m1", "channel": "x", "direction": "in", "at": AT}


def _opening(ticket_id: str = "t1", dedupe: str = "x#e-m1") -> Ticket:
    new = Ticket.opened(ticket_id, channel="x", kind="mention", brand="acme", brand_account_id="brand",
                        conversation_key="conv", opened_by=dedupe, customer_id="c1", now_iso=AT,
                        first_inbound_at=AT, clocks={}, visibility="public", language="en", topic=None, subject=None)
    return new.changed({"priority": 40, "message_count": 1, "last_inbound_at": AT})


def _open(desk, conversation: str, ticket: Ticket, message: Message, dedupe: str, replaces) -> None:
    desk.messages.record_opening(conversation, ticket, message, "c1", replaces)
    desk.messages.claim(dedupe, ticket.id, message.id, NOW)


def test_an_opening_message_opens_its_ticket_stores_itself_and_claims_its_id(desk):
    _open(desk, "conv", _opening(), _inbound(), "x#e-m1", None)
    after = desk.tickets.get("t1")
    assert (after.version, after.message_count, after.priority, after.opened_by) == (1, 1, 40, "x#e-m1")
    assert desk.tickets.by_conversation("conv").id == "t1"
    assert [m.id for m in desk.messages.timeline("t1")] == ["m1"] and len(desk.touchpoints("c1")) == 1
    assert desk.messages.seen("x#e-m1")["ticket_id"] == "t1"
    assert [t.id for t in desk.tickets.inbox("open", brands=["acme"])[0]] == ["t1"]


def test_an_opening_retried_after_a_crash_finishes_the_job_and_never_overwrites_the_ticket(desk):
    # a first attempt got as far as the ticket (no message, no claim), then the ticket moved on
    desk.tickets.open_for("conv", _opening())
    desk.tickets.update("t1", 1, {"assignee": "ana"})
    _open(desk, "conv", _opening(), _inbound(), "x#e-m1", None)
    after = desk.tickets.get("t1")
    assert (after.assignee, after.version) == ("ana", 2)
    assert [m.id for m in desk.messages.timeline("t1")] == ["m1"] and desk.messages.seen("x#e-m1")
    with pytest.raises(DuplicateEvent):  # and once claimed, it is a duplicate
        _open(desk, "conv", _opening(), _inbound(), "x#e-m1", None)
    assert len(desk.touchpoints("c1")) == 1


def test_an_opening_loses_to_another_ticket_of_the_conversation_and_writes_nothing(desk):
    _open(desk, "conv", _opening("t1"), _inbound(), "x#e-m1", None)
    with pytest.raises(ConcurrentUpdate):
        _open(desk, "conv", _opening("t2", "x#e-m2"), _inbound("m2"), "x#e-m2", None)
    assert desk.tickets.get("t2") is None and desk.messages.seen("x#e-m2") is None
    assert desk.tickets.by_conversation("conv").id == "t1"


def test_an_opening_follows_the_closed_ticket_it_names(desk):
    _open(desk, "conv", _opening("t1"), _inbound(), "x#e-m1", None)
    desk.tickets.update("t1", 1, {"status": "closed"})
    with pytest.raises(ConcurrentUpdate):  # naming no closed ticket, it does not take a conversation that has one
        _open(desk, "conv", _opening("t2", "x#e-m2"), _inbound("m2"), "x#e-m2", None)
    _open(desk, "conv", _opening("t2", "x#e-m2"), _inbound("m2"), "x#e-m2", "t1")
    assert desk.tickets.by_conversation("conv").id == "t2" and desk.tickets.get("t1").status == "closed"


def test_a_platform_id_seen_before_is_a_duplicate_and_changes_nothing(desk):
    # (a platform id is always the same message: the pipeline derives the id from it)
    ticket = _ticket(desk)
    desk.messages.record_inbound(ticket, _inbound(), "x#e-m1", "c1", {"priority": 40}, NOW)
    with pytest.raises(DuplicateEvent):
        desk.messages.record_inbound(desk.tickets.get("t1"), _inbound(), "x#e-m1", "c1", {"priority": 90}, NOW)
    assert [m.id for m in desk.messages.timeline("t1")] == ["m1"] and len(desk.touchpoints("c1")) == 1
    after = desk.tickets.get("t1")
    assert (after.priority, after.message_count, after.version) == (40, 1, 1)


def test_a_ticket_changed_since_it_was_read_is_a_conflict_the_ticket_and_the_claim_unchanged(desk):
    ticket = _ticket(desk)
    desk.tickets.update("t1", 0, {"topic": "billing"})
    with pytest.raises(ConcurrentUpdate):
        desk.messages.record_inbound(ticket, _inbound(), "x#e-m1", "c1", {"priority": 40}, NOW)
    assert desk.messages.seen("x#e-m1") is None
    after = desk.tickets.get("t1")
    assert (after.priority, after.message_count, after.version) == (0, 0, 1)
    # the retry at the version read again records it once
    desk.messages.record_inbound(after, _inbound(), "x#e-m1", "c1", {"priority": 40}, NOW)
    assert [m.id for m in desk.messages.timeline("t1")] == ["m1"] and len(desk.touchpoints("c1")) == 1
    assert desk.tickets.get("t1").message_count == 1


def test_racing_workers_with_one_platform_id_store_it_once(desk):
    _ticket(desk)

    def attempt(i):
        for _ in range(20):
            try:
                desk.messages.record_inbound(desk.tickets.get("t1"), _inbound(), "x#same", "c1", {}, NOW)
                return "stored"
            except DuplicateEvent:
                return "duplicate"
            except ConcurrentUpdate:
                continue
        return "gave up"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, range(8)))
    assert outcomes.count("stored") == 1 and outcomes.count("duplicate") == 7
    assert len(desk.messages.timeline("t1")) == 1 and desk.tickets.get("t1").message_count == 1


# -- the timeline ------------------------------------------------------------------------------
def test_the_timeline_is_every_kind_of_message_oldest_first(desk):
    ticket = _ticket(desk)
    desk.messages.record_inbound(ticket, _inbound(at="2026-11-24T10:00:00.000000+00:00"), "x#1", "c1", {}, NOW)
    desk.messages.put_reply(_reply(at="2026-11-24T10:03:00.000000+00:00"))
    note = Message.note("n1", ticket_id="t1", created_at="2026-11-24T10:02:00.000000+00:00", agent_id="ana",
                        agent_name=None, text="call them")
    event = Message.event("e1", ticket_id="t1", created_at="2026-11-24T10:01:00.000000+00:00", agent_id="ana",
                          agent_name="Ana", action="edited", changes={"status": "pending"})
    desk.messages.put(note)
    desk.messages.put(event)
    timeline = desk.messages.timeline("t1")
    assert [(m.id, m.direction) for m in timeline] == [("m1", "in"), ("e1", "event"), ("n1", "note"), ("r1", "out")]
    assert timeline[2] == note and note.author == {"id": "ana", "name": "ana"}
    assert desk.messages.get("t1", "e1") == event and desk.messages.get("t1", "nope") is None


# -- replies -----------------------------------------------------------------------------------
def test_a_reply_is_stored_once_per_idempotency_key(desk):
    _ticket(desk)
    first, new = desk.messages.put_reply(_reply("r1"), "click-1")
    again, new_again = desk.messages.put_reply(_reply("r2", at="2026-11-24T10:02:00.000000+00:00"), "click-1")
    assert (new, new_again) == (True, False) and again == first == _reply("r1")
    other, new_other = desk.messages.put_reply(_reply("r3", at="2026-11-24T10:04:00.000000+00:00"), "click-2")
    assert new_other and [m.id for m in desk.messages.timeline("t1")] == ["r1", "r3"]


def test_a_reply_is_in_flight_until_it_is_done_with(desk):
    _ticket(desk)
    reply, _ = desk.messages.put_reply(_reply("r1", at="2026-11-24T10:01:00.000000+00:00"))
    desk.messages.put_reply(_reply("r2", at="2026-11-24T10:09:00.000000+00:00"))
    assert [m.id for m in desk.messages.in_flight("2026-11-24T10:05:00")] == ["r1"]
    assert [m.id for m in desk.messages.in_flight("2026-11-24T10:30:00")] == ["r1", "r2"]
    assert desk.messages.in_flight("2026-11-24T11:00:00") == []  # older than IN_FLIGHT_WINDOW
    assert [m.id for m in desk.messages.in_flight("2026-11-24T11:00:00", "2026-11-24T10:00:00")] == ["r1", "r2"]
    desk.messages.update_reply(reply, {"status": "failed", **keys.out_of_in_flight()}, ReplyCondition.status_in("queued"))
    assert [m.id for m in desk.messages.in_flight("2026-11-24T10:30:00")] == ["r2"]


def test_a_reply_moves_only_from_the_states_named(desk):
    _ticket(desk)
    reply, _ = desk.messages.put_reply(_reply())
    claimed = desk.messages.update_reply(reply, {"status": "sending", "attempt_token": "a1", "lease_until": AT},
                                         ReplyCondition.claimable(AT))
    assert (claimed.status, claimed.attempt_token) == ("sending", "a1")
    with pytest.raises(ConcurrentUpdate):  # under a live lease
        desk.messages.update_reply(reply, {"attempt_token": "b2"}, ReplyCondition.claimable(AT))
    with pytest.raises(ConcurrentUpdate):  # not the attempt that holds it
        desk.messages.update_reply(reply, {"status": "sent"}, ReplyCondition.held("b2"))
    reclaimed = desk.messages.update_reply(reply, {"attempt_token": "c3"},
                                           ReplyCondition.claimable("2026-11-24T10:00:01.000000+00:00"))
    assert reclaimed.attempt_token == "c3"  # the lease ran out: another worker may take it
    sent = desk.messages.update_reply(reply, {"status": "sent", "lease_until": None, "platform_message_id": "p1"},
                                      ReplyCondition.held("c3"))
    assert (sent.status, sent.lease_until, sent.platform_message_id) == ("sent", None, "p1")
    assert desk.messages.reply("t1", keys.message_sk(reply.created_at, reply.id)) == sent


def test_delivery_receipts_only_move_forward(desk):
    _ticket(desk)
    reply, _ = desk.messages.put_reply(_reply())
    desk.messages.update_reply(reply, {"delivery_status": "read", "delivery_rank": 3}, ReplyCondition.delivery_before(3))
    with pytest.raises(ConcurrentUpdate):
        desk.messages.update_reply(reply, {"delivery_status": "delivered", "delivery_rank": 2},
                                   ReplyCondition.delivery_before(2))
    assert desk.messages.get("t1", "r1").delivery_status == "read"


def test_of_racing_claims_one_wins(desk):
    _ticket(desk)
    reply, _ = desk.messages.put_reply(_reply())

    def attempt(i):
        try:
            desk.messages.update_reply(reply, {"status": "sending", "attempt_token": f"a{i}",
                                               "lease_until": "2026-11-24T10:10:00.000000+00:00"},
                                       ReplyCondition.claimable(AT))
            return True
        except ConcurrentUpdate:
            return False

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert sum(pool.map(attempt, range(8))) == 1


def test_a_reply_whose_first_request_stopped_after_claiming_its_key_is_stored_by_the_second(desk, request):
    if "dynamodb" not in request.node.name:
        pytest.skip("a crash between two writes is the table's case")
    _ticket(desk)
    first = _reply()
    desk.messages.table.put_item(Item={**keys.reply_key("t1", "k1"), "message_id": first.id, "created_at": first.created_at,
                                       "message_sk": keys.message_sk(first.created_at, first.id)})  # and then it crashed
    later = _reply("r-other", at="2026-11-24T10:05:00.000000+00:00")
    stored, new = desk.messages.put_reply(later, "k1")
    assert (stored.id, stored.created_at, new) == (first.id, first.created_at, False)
    assert [m.id for m in desk.messages.timeline("t1")] == [first.id]
    assert desk.messages.put_reply(later, "k1") == (stored, False)


def test_a_sent_reply_is_the_first_response_once_and_found_by_its_platform_id(desk):
    _ticket(desk)
    reply, _ = desk.messages.put_reply(_reply())
    sent = reply.model_copy(update={"status": "sent", "platform_message_id": "p1",
                                    "sent_at": "2026-11-24T10:02:00.000000+00:00"})
    assert desk.messages.record_sent(sent, "c1") is True
    assert desk.messages.record_sent(sent, "c1") is False  # idempotent
    ticket = desk.tickets.get("t1")
    assert (ticket.first_response_at, ticket.first_response_by, ticket.last_outbound_at) == (
        sent.sent_at, "ana", sent.sent_at)
    assert desk.messages.by_platform_id("x", "p1").id == "r1" and desk.messages.by_platform_id("x", "p2") is None
    assert [(t["direction"], t["agent_id"]) for t in desk.touchpoints("c1")] == [("out", "ana")]


@pytest.mark.parametrize("moved_meanwhile", [False, True])
def test_a_first_response_moves_the_sla_on_to_resolution_in_the_inbox_and_due_index(desk, moved_meanwhile):
    first_due, resolution_due = "2026-11-24T11:00:00+00:00", "2026-11-25T10:00:00+00:00"
    opened = Ticket.opened("t1", channel="x", kind="mention", brand="acme", brand_account_id="brand",
                           conversation_key="conv-t1", opened_by="x#1", customer_id="c1", now_iso=AT,
                           first_inbound_at=AT, visibility="public", language="en", topic=None, subject=None,
                           clocks={"sla_due_at": first_due, "first_response_due_at": first_due,
                                   "resolution_due_at": resolution_due})
    read = desk.tickets.open_for("conv-t1", opened)[0]
    if moved_meanwhile:  # its priority changed after the worker read it: the long way, same outcome
        desk.tickets.update("t1", read.version, {"priority": 70, **keys.inbox_index("open", 70, first_due, "t1")})
    reply, _ = desk.messages.put_reply(_reply())
    sent = reply.model_copy(update={"status": "sent", "platform_message_id": "p1",
                                    "sent_at": "2026-11-24T10:02:00.000000+00:00"})
    assert desk.messages.record_sent(sent, "c1", read) is True
    after = desk.tickets.get("t1")
    assert (after.first_response_at, after.last_outbound_at, after.sla_due_at) == (
        sent.sent_at, sent.sent_at, resolution_due)
    assert [t.id for t in desk.tickets.due_between("2026-11-25T10:00", "2026-11-25T10:00")] == ["t1"]
    assert desk.tickets.due_between("2026-11-24T11:00", "2026-11-24T11:00") == []
    [listed] = desk.tickets.inbox("open", brands=["acme"])[0]
    assert listed.sla_due_at == resolution_due


def test_an_automatic_reply_is_no_first_response(desk):
    _ticket(desk)
    reply, _ = desk.messages.put_reply(_reply(automatic=True))
    sent = reply.model_copy(update={"platform_message_id": "p1", "sent_at": "2026-11-24T10:02:00.000000+00:00"})
    assert desk.messages.record_sent(sent, None) is False
    ticket = desk.tickets.get("t1")
    assert ticket.first_response_at is None and ticket.last_outbound_at == sent.sent_at


# -- the stored shapes stay as they were -------------------------------------------------------
def test_the_items_stored_are_the_shapes_the_desk_always_stored(dynamodb_table):
    from chalicelib.store.messages import DynamoMessageStore
    from chalicelib.store.tickets import DynamoTicketStore

    tickets, messages = DynamoTicketStore(dynamodb_table), DynamoMessageStore(dynamodb_table)
    ticket = Ticket.opened("t1", channel="x", kind="mention", brand="acme", brand_account_id="brand",
                           conversation_key="conv-t1", opened_by="x#1", customer_id="c1", now_iso=AT,
                           first_inbound_at=AT, clocks={}, visibility="public", language="en", topic=None,
                           subject=None)
    tickets.open_for("conv-t1", ticket)
    messages.record_inbound(ticket, _inbound(), "x#e-m1", "c1", {}, NOW)
    messages.put_reply(_reply(), "k1")

    def item(key):
        return dynamodb_table.get_item(Key=key)["Item"]

    assert item(keys.message("t1", AT, "m1")) == {
        **keys.message("t1", AT, "m1"), "id": "m1", "direction": "in", "platform": "x", "kind": "mention",
        "platform_message_id": "e-m1", "text": "hello", "visibility": "public", "author": {"id": "u1", "name": "Mia"},
        "customer_id": "c1", "attachments": [], "created_at": AT, "received_at": AT, "source": "webhook",
        "classification": {"sentiment": "neutral"}, "priority": 40, "priority_factors": [],
        "priority_rules_version": 0, "brand": "acme"}
    at = "2026-11-24T10:01:00.000000+00:00"
    assert item(keys.message("t1", at, "r1")) == {
        **keys.message("t1", at, "r1"), **keys.outbound_in_flight(at, "r1"), "id": "r1", "ticket_id": "t1",
        "direction": "out", "platform": "x", "kind": "x_reply", "text": "on it", "visibility": "public",
        "target": {"account_id": "brand"}, "status": "queued", "attempts": 0, "created_at": at, "agent_id": "ana",
        "author": {"id": "ana", "name": "Ana"}, "brand": "acme"}
    assert item(keys.reply_key("t1", "k1")) == {**keys.reply_key("t1", "k1"), "message_id": "r1",
                                                "message_sk": keys.message_sk(at, "r1"), "created_at": at}
    assert item(keys.ticket("t1")) == {**keys.ticket("t1"), **keys.new_ticket_keys("t1", "acme", "open", 0, None),
                                       "id": "t1", "channel": "x", "kind": "mention",
                                       "brand": "acme", "brand_account_id": "brand", "conversation_key": "conv-t1",
                                       "opened_by": "x#1", "customer_id": "c1", "status": "open", "priority": 0,
                                       "version": 1, "message_count": 1, "created_at": AT,
                                       "updated_at": NOW.isoformat(), "first_inbound_at": AT,
                                       "visibility": "public", "language": "en"}


# -- delivery receipts ---------------------------------------------------------------------------
def _receipt(status: str, at: str, **fields) -> Receipt:
    return Receipt(platform="whatsapp", external_id="wamid.1", status=status, at=at, **fields)


def test_receipts_are_kept_as_they_came_once_each_in_time_order(desk):
    later, earlier = "2026-11-24T10:05:00+00:00", "2026-11-24T10:02:00+00:00"
    read = _receipt("read", later, recipient_id="358401", brand_account_id="waba-1", callback_data="desk:t1:r1")
    desk.messages.record_delivery_status(read)
    desk.messages.record_delivery_status(_receipt("delivered", earlier, errors=[{"code": 1}]))
    desk.messages.record_delivery_status(read)  # a platform's retry is the same receipt
    assert desk.messages.delivery_statuses("whatsapp", "wamid.1") == [
        _receipt("delivered", earlier, errors=[{"code": 1}]), read]
    assert desk.messages.delivery_statuses("whatsapp", "wamid.2") == []
    assert desk.messages.delivery_statuses("messenger", "wamid.1") == []


def test_two_statuses_at_one_time_are_two_receipts(desk):
    desk.messages.record_delivery_status(_receipt("sent", AT))
    desk.messages.record_delivery_status(_receipt("delivered", AT))
    assert [r.status for r in desk.messages.delivery_statuses("whatsapp", "wamid.1")] == ["delivered", "sent"]


def test_a_receipt_is_stored_as_the_desk_always_stored_it(dynamodb_table):
    from chalicelib.store.messages import DynamoMessageStore

    stored = {**keys.delivery_status("whatsapp", "wamid.1", AT, "failed"), "platform": "whatsapp",
              "external_id": "wamid.1", "status": "failed", "at": AT, "recipient_id": "358401",
              "errors": [{"code": 131047, "title": "Re-engagement message"}], "brand_account_id": "waba-1"}
    messages = DynamoMessageStore(dynamodb_table)
    messages.record_delivery_status(_receipt("failed", AT, recipient_id="358401", brand_account_id="waba-1",
                                             errors=[{"code": 131047, "title": "Re-engagement message"}]))
    assert dynamodb_table.get_item(Key=keys.delivery_status("whatsapp", "wamid.1", AT, "failed"))["Item"] == stored
    later = "2026-11-24T10:09:00.000000+00:00"
    before = {**stored, **keys.delivery_status("whatsapp", "wamid.1", later, "read"), "status": "read", "at": later,
              "errors": []}
    dynamodb_table.put_item(Item=before)  # one stored before the port
    assert [{**keys.delivery_status(r.platform, r.external_id, r.at, r.status), **r.to_item()}
            for r in messages.delivery_statuses("whatsapp", "wamid.1")] == [stored, before]


def test_the_newest_messages_are_one_bounded_page_oldest_first(desk):
    _ticket(desk)
    for i in range(7):
        desk.messages.put(_inbound(f"n{i}").model_copy(update={"ticket_id": "t1",
                                                             "created_at": f"2026-11-24T10:0{i}:00.000000+00:00"}))
    assert [m.id for m in desk.messages.timeline("t1", latest=3)] == ["n4", "n5", "n6"]
    assert [m.id for m in desk.messages.timeline("t1", latest=50)] == [f"n{i}" for i in range(7)]
    assert [m.id for m in desk.messages.timeline("t1")] == [f"n{i}" for i in range(7)]
