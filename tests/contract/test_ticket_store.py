"""The TicketStore contract, on DynamoDB (moto) and in memory alike: one ticket per conversation
however many workers race, changes only at the version read, the inbox in priority then due order
page after page, the one-time marks (rating, off-hours acknowledgement, waiting since), and a
change of holder that moves agents' load in the same write."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.aggregates.agent import Agent
from chalicelib.aggregates.ticket import Ticket
from chalicelib.errors import ConcurrentUpdate
from chalicelib.store import keys

AT = "2026-11-24T10:00:00+00:00"
DUE = "2026-11-24T11:00:00.000000+00:00"


def _new(ticket_id: str = "t1", conversation: str = "x#brand#c1", **fields) -> Ticket:
    ticket = Ticket.opened(ticket_id, channel="x", kind="mention", brand="acme", brand_account_id="brand",
                           conversation_key=conversation, opened_by=f"x#{ticket_id}", customer_id="c1", now_iso=AT,
                           first_inbound_at=AT, clocks={"sla_band": "normal", "sla_due_at": DUE},
                           visibility="public", language="en", topic="billing", subject=None)
    return ticket.model_copy(update=fields)


def _inboxed(desk, ticket_id: str, priority: int = 50, due: str = DUE, status: str = "open", **changes) -> Ticket:
    """A ticket as the ingest worker leaves it: opened, then in the inbox of its status."""
    desk.tickets.open_for(f"conv-{ticket_id}", _new(ticket_id, f"conv-{ticket_id}"))
    return desk.tickets.update(ticket_id, 0, {"status": status, "priority": priority, "sla_due_at": due,
                                              **keys.inbox_index(status, priority, due, ticket_id), **changes})


# -- opening and reading -----------------------------------------------------------------------
def test_a_conversation_opens_one_ticket_and_finds_it_again(desk):
    ticket, created = desk.tickets.open_for("x#brand#c1", _new())
    assert created and ticket == _new()
    again, created = desk.tickets.open_for("x#brand#c1", _new("t2"))
    assert (again.id, created) == ("t1", False)
    assert desk.tickets.get("t1") == _new() and desk.tickets.get("t2") is None
    assert desk.tickets.by_conversation("x#brand#c1").id == "t1" and desk.tickets.by_conversation("other") is None


def test_after_a_closed_ticket_the_conversation_opens_a_new_one_for_the_same_agent(desk):
    desk.tickets.open_for("x#brand#c1", _new())
    desk.tickets.update("t1", 0, {"status": "closed", "assignee": "ana"})
    ticket, created = desk.tickets.open_for("x#brand#c1", _new("t2"))
    assert created and (ticket.id, ticket.previous_assignee) == ("t2", "ana")
    assert desk.tickets.get("t2").previous_assignee == "ana"
    assert desk.tickets.by_conversation("x#brand#c1").id == "t2"


def test_racing_workers_on_one_conversation_make_one_ticket(desk):
    with ThreadPoolExecutor(max_workers=8) as pool:
        opened = list(pool.map(lambda i: desk.tickets.open_for("x#brand#c1", _new(f"t{i}")), range(8)))
    assert len({t.id for t, _ in opened}) == 1 and sum(created for _, created in opened) == 1


# -- changes at a version ----------------------------------------------------------------------
def test_an_update_at_the_version_read_applies_and_moves_the_version(desk):
    desk.tickets.open_for("x#brand#c1", _new(tags=["vip"]))
    updated = desk.tickets.update("t1", 0, {"status": "pending", "tags": None, "paused_at": AT})
    assert (updated.status, updated.tags, updated.paused_at, updated.version) == ("pending", None, AT, 1)
    assert desk.tickets.get("t1") == updated


@pytest.mark.parametrize("ticket_id, version", [("t1", 3), ("ghost", 0)], ids=["stale", "no-ticket"])
def test_an_update_at_another_version_or_of_no_ticket_is_a_conflict_and_changes_nothing(desk, ticket_id, version):
    desk.tickets.open_for("x#brand#c1", _new())
    with pytest.raises(ConcurrentUpdate):
        desk.tickets.update(ticket_id, version, {"status": "closed"})
    assert desk.tickets.get("t1") == _new() and desk.tickets.get("ghost") is None


def test_of_racing_editors_at_one_version_one_wins(desk):
    desk.tickets.open_for("x#brand#c1", _new())

    def attempt(i):
        try:
            desk.tickets.update("t1", 0, {"topic": f"topic-{i}"})
            return True
        except ConcurrentUpdate:
            return False

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert sum(pool.map(attempt, range(8))) == 1
    assert desk.tickets.get("t1").version == 1


# -- the inbox ---------------------------------------------------------------------------------
def test_the_inbox_is_one_status_by_priority_then_due(desk):
    _inboxed(desk, "low", priority=10)
    _inboxed(desk, "high-later", priority=90, due="2026-11-24T12:00:00.000000+00:00")
    _inboxed(desk, "high-sooner", priority=90)
    _inboxed(desk, "pending", status="pending")
    page, cursor = desk.tickets.inbox("open", limit=10)
    assert [t.id for t in page] == ["high-sooner", "high-later", "low"] and cursor is None
    assert desk.tickets.inbox_count("open") == 3 and desk.tickets.inbox_count("pending") == 1


def test_cursors_read_every_ticket_once_in_order(desk):
    for i in range(7):
        _inboxed(desk, f"t{i}", priority=i * 10)
    seen, cursor, pages = [], None, 0
    while True:
        page, cursor = desk.tickets.inbox("open", limit=3, cursor=cursor)
        assert len(page) <= 3
        seen += [t.id for t in page]
        pages += 1
        if cursor is None:
            break
    assert seen == [f"t{i}" for i in reversed(range(7))] and pages <= 4
    assert [t.id for t in desk.tickets.inbox_all("open")] == seen


@pytest.mark.parametrize("filters, expected", [
    ({"assignee": "none"}, ["t2", "t3"]),
    ({"assignee": "ana"}, ["t1"]),
    ({"channel": "facebook"}, ["t3"]),
    ({"team": "nordic"}, ["t2"]),
    ({"priority_min": 40, "priority_max": 60}, ["t2"]),
    ({"sentiment": "negative"}, ["t1"]),
    ({"q": "REFUND"}, ["t3"]),
], ids=["unassigned", "assignee", "channel", "team", "priority", "sentiment", "text"])
def test_the_inbox_filters(desk, filters, expected):
    _inboxed(desk, "t1", priority=70, assignee="ana", classification={"sentiment": "negative"})
    _inboxed(desk, "t2", priority=50, team="nordic", classification={"sentiment": "neutral"})
    _inboxed(desk, "t3", priority=30, channel="facebook", search_text="where is my refund")
    assert [t.id for t in desk.tickets.inbox("open", limit=10, filters=filters)[0]] == expected
    assert [t.id for t in desk.tickets.inbox_all("open", filters)] == expected


def test_assigned_and_waiting_read_the_open_inbox(desk):
    _inboxed(desk, "t1", priority=70, assignee="ana")
    _inboxed(desk, "t2", priority=50)
    _inboxed(desk, "t3", priority=60)
    _inboxed(desk, "t4", priority=60, status="pending", assignee="ana")
    assert [t.id for t in desk.tickets.assigned_to("ana")] == ["t1"]
    assert [t.id for t in desk.tickets.assigned_to("ana", "pending")] == ["t4"]
    assert [t.id for t in desk.tickets.waiting(1)] == ["t3"] and [t.id for t in desk.tickets.waiting(5)] == ["t3", "t2"]


def test_a_new_deadline_moves_the_ticket_in_the_inbox_but_not_its_version(desk):
    _inboxed(desk, "t1")
    second = _inboxed(desk, "t2")
    desk.tickets.set_sla_due(second, "2026-11-24T09:00:00.000000+00:00")
    assert [t.id for t in desk.tickets.inbox("open", limit=10)[0]] == ["t2", "t1"]
    assert desk.tickets.get("t2").sla_due_at == "2026-11-24T09:00:00.000000+00:00"
    assert desk.tickets.get("t2").version == 1


# -- one-time marks ----------------------------------------------------------------------------
def test_a_ticket_is_rated_once(desk):
    desk.tickets.open_for("x#brand#c1", _new())
    desk.tickets.rate("t1", 4, "quick", AT)
    with pytest.raises(ValueError, match="rated already"):
        desk.tickets.rate("t1", 1, None, AT)
    rated = desk.tickets.get("t1")
    assert (rated.csat, rated.csat_comment, rated.csat_at, rated.version) == (4, "quick", AT, 0)


def test_the_offhours_acknowledgement_is_claimed_once(desk):
    desk.tickets.open_for("x#brand#c1", _new())
    desk.tickets.claim_offhours_ack("t1", AT)
    with pytest.raises(ConcurrentUpdate):
        desk.tickets.claim_offhours_ack("t1", "2026-11-24T10:05:00+00:00")
    assert desk.tickets.get("t1").offhours_ack_at == AT


def test_the_csat_survey_is_claimed_once_even_by_racing_closers(desk):
    # issue 16, point 4: survey_sent_at is the one claim of the ticket's one survey
    desk.tickets.open_for("x#brand#c1", _new())

    def claim(i: int) -> bool:
        try:
            desk.tickets.mark_survey("t1", f"2026-11-24T10:0{i}:00+00:00")
            return True
        except ConcurrentUpdate:
            return False

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert sorted(pool.map(claim, range(4))) == [False, False, False, True]
    assert desk.tickets.get("t1").survey_sent_at and desk.tickets.get("t1").version == 0


def test_the_customers_rating_says_where_it_came_from(desk):
    desk.tickets.open_for("x#brand#c1", _new())
    desk.tickets.rate("t1", 5, None, AT, source="customer")
    with pytest.raises(ValueError, match="rated already"):
        desk.tickets.rate("t1", 1, None, AT, source="supervisor")
    assert (desk.tickets.get("t1").csat, desk.tickets.get("t1").csat_source) == (5, "customer")


def test_waiting_since_keeps_the_first_time(desk):
    desk.tickets.open_for("x#brand#c1", _new())
    desk.tickets.mark_waiting("t1", AT)
    desk.tickets.mark_waiting("t1", "2026-11-24T10:05:00+00:00")
    assert desk.tickets.get("t1").waiting_since == AT


def test_tickets_move_to_another_customer(desk):
    desk.tickets.open_for("a", _new("t1", "a"))
    desk.tickets.open_for("b", _new("t2", "b"))
    desk.tickets.set_customer(["t1", "t2"], "c9")
    assert {desk.tickets.get(t).customer_id for t in ("t1", "t2")} == {"c9"}


def test_a_redacted_ticket_keeps_its_times_and_verdicts(desk):
    from chalicelib.aggregates.message import Message

    ticket = _inboxed(desk, "t1", last_message_preview="my card 1234", subject="card")
    inbound = Message.inbound("m1", mention={"platform": "x", "kind": "mention", "external_id": "1",
                                             "text": "my card 1234", "visibility": "public",
                                             "author": {"id": "u1", "name": "Mia"}, "subject": "card",
                                             "attachments": [{"type": "image", "url": "https://x/1"}]},
                              customer_id="c1", created_at=AT, received_at=AT, classification={"sentiment": "negative"},
                              priority=50, priority_factors=[], priority_rules_version=0, brand="acme")
    desk.messages.record_inbound(ticket, inbound, "x#1", "c1", {"last_inbound_at": AT}, ticket_now())
    assert desk.tickets.redact("t1", "[erased]") == 1
    [message] = desk.messages.timeline("t1")
    assert (message.text, message.author, message.attachments, message.subject) == ("[erased]", {"id": "[erased]"},
                                                                                      None, None)
    assert message.classification == {"sentiment": "negative"} and message.created_at == AT
    redacted = desk.tickets.get("t1")
    assert (redacted.last_message_preview, redacted.subject, redacted.channel) == ("[erased]", None, "x")


def ticket_now():
    from datetime import datetime

    return datetime.fromisoformat(AT)


# -- a change of holder moves load in the same write ------------------------------------------
def test_a_change_of_holder_moves_both_agents_load(desk):
    desk.agents.put(Agent(id="ana", load=1, capacity=3))
    desk.agents.put(Agent(id="wei", load=0, capacity=3))
    _inboxed(desk, "t1", assignee="ana")
    moved = desk.agents.move_load("t1", 1, {"assignee": "wei"}, {"ana": -1, "wei": 1})
    assert (moved.assignee, moved.version) == ("wei", 2)
    assert (desk.agents.get("ana").load, desk.agents.get("wei").load) == (0, 1)


def test_a_stale_change_of_holder_moves_no_load(desk):
    desk.agents.put(Agent(id="ana", load=1, capacity=3))
    _inboxed(desk, "t1", assignee="ana")
    with pytest.raises(ConcurrentUpdate):
        desk.agents.move_load("t1", 0, {"assignee": None}, {"ana": -1})
    assert desk.agents.get("ana").load == 1 and desk.tickets.get("t1").assignee == "ana"


def test_a_load_move_onto_no_agent_or_below_zero_is_dropped_and_the_rest_written(desk):
    desk.agents.put(Agent(id="ana", load=0, capacity=3))
    desk.agents.put(Agent(id="wei", load=0, capacity=3))
    _inboxed(desk, "t1", assignee="ana")
    moved = desk.agents.move_load("t1", 1, {"assignee": "ghost"}, {"ana": -1, "ghost": 1})
    assert moved.assignee == "ghost" and desk.agents.get("ghost") is None and desk.agents.get("ana").load == 0
    moved = desk.agents.move_load("t1", 2, {"assignee": "wei"}, {"wei": 1})
    assert moved.assignee == "wei" and desk.agents.get("wei").load == 1


def test_an_item_stored_before_the_port_reads_as_it_is(dynamodb_table):
    # Given a ticket item as the ingest worker and an agent's edit have always left it
    from decimal import Decimal

    from chalicelib.store.tickets import DynamoTicketStore

    item = {**keys.ticket("t1"), **keys.inbox_index("open", 55, DUE, "t1"), "id": "t1", "channel": "x",
            "kind": "mention", "brand": "acme", "brand_account_id": "b1", "conversation_key": "x#b1#1",
            "status": "open", "priority": Decimal(55), "version": Decimal(3), "message_count": Decimal(2),
            "opened_by": "x#1", "customer_id": "c1", "created_at": AT, "updated_at": AT, "first_inbound_at": AT,
            "sla_band": "normal", "first_response_due_at": DUE, "resolution_due_at": DUE,
            "next_response_minutes": Decimal(120), "sla_due_at": DUE, "visibility": "public", "language": "en",
            "topic": "billing", "last_inbound_at": AT, "last_message_preview": "hi", "search_text": "hi mia",
            "priority_factors": [{"name": "negative", "points": Decimal(20)}],
            "classification": {"sentiment": "negative", "sentiment_score": Decimal("-0.6")},
            "tags": ["vip"], "assignee": "ana"}
    dynamodb_table.put_item(Item=item)
    # When it is read as a Ticket
    ticket = DynamoTicketStore(dynamodb_table).get("t1")
    # Then every attribute but the keys is on it, as stored
    from chalicelib.store.items import plain

    assert ticket.to_item() == {k: v for k, v in plain(item).items() if k not in ("PK", "SK", "GSI1PK", "GSI1SK")}


# -- the sharded inbox, by brand ---------------------------------------------------------------
def _branded(desk, ticket_id: str, brand: str, priority: int, due: str = DUE, **changes) -> Ticket:
    new = _new(ticket_id, f"conv-{ticket_id}").model_copy(update={"brand": brand})
    desk.tickets.open_for(f"conv-{ticket_id}", new)
    return desk.tickets.update(ticket_id, 0, {"priority": priority, "sla_due_at": due,
                                              **keys.inbox_index("open", priority, due, ticket_id), **changes})


def _due(minute_offset: int) -> str:
    return f"2026-11-24T11:{minute_offset:02d}:30.000000+00:00"


def test_a_brands_inbox_is_spread_over_its_write_shards_and_read_back_merged_in_order(desk):
    # Given 40 tickets of one brand (every shard holds some) at mixed priorities and deadlines
    expected = []
    for i in range(40):
        _branded(desk, f"t{i:02d}", "acme", priority=(i * 7) % 5 * 20, due=_due(i % 13))
        expected.append(((100 - (i * 7) % 5 * 20), _due(i % 13), f"t{i:02d}"))
    shards = {keys.inbox_home("acme", f"t{i:02d}")["GSI1PK"] for i in range(40)}
    assert len(shards) >= keys.INBOX_SHARDS // 2  # spread over the shards
    # When the inbox is read 7 at a time, the cursor going through the API's encoding
    seen, cursor = [], None
    while True:
        page, position = desk.tickets.inbox("open", brands=["acme"], limit=7, cursor=cursor)
        assert len(page) <= 7
        seen += [t.id for t in page]
        if position is None:
            break
        cursor = keys.inbox_start(keys.inbox_cursor(position), "open")
        assert cursor is not None
    # Then every ticket comes once, by priority then deadline, across the shards
    assert seen == [ticket_id for *_, ticket_id in sorted(expected)]


def test_the_inbox_reads_only_the_brands_asked_for(desk):
    _branded(desk, "a1", "acme", 50)
    _branded(desk, "b1", "bolt", 90)
    _branded(desk, "b2", "bolt", 10)
    assert [t.id for t in desk.tickets.inbox("open", brands=["acme"], limit=10)[0]] == ["a1"]
    assert [t.id for t in desk.tickets.inbox("open", brands=["bolt", "acme"], limit=10)[0]] == ["b1", "a1", "b2"]
    assert [t.id for t in desk.tickets.inbox("open", limit=10)[0]] == ["b1", "a1", "b2"]  # None: every brand
    assert desk.tickets.inbox("open", brands=[], limit=10) == ([], None)
    assert desk.tickets.inbox_count("open", brands=["bolt"]) == 2 and desk.tickets.inbox_count("open") == 3
    # a cursor given out for one brand's inbox reads no other brand's
    page, position = desk.tickets.inbox("open", brands=["acme"], limit=1)
    assert position is None or desk.tickets.inbox("open", brands=["acme"], limit=5, cursor=position)[0] == []


def test_an_inbox_cursor_is_taken_back_only_for_its_status_and_shape(desk):
    for i in range(4):
        _branded(desk, f"t{i}", "acme", 50)
    _, position = desk.tickets.inbox("open", brands=["acme"], limit=2)
    cursor = keys.inbox_cursor(position)
    assert keys.inbox_start(cursor, "open") == position
    assert keys.inbox_start(cursor, "pending") is None
    assert keys.inbox_start("not-base64!", "open") is None
    assert keys.inbox_start(keys.inbox_cursor({"status": "open", "after": {"TICKET#x": None}}), "open") is None
    assert keys.inbox_start(keys.inbox_cursor({"status": "open", "after": {"INBOX#acme#1": "closed#1"}}),
                            "open") is None


def test_a_filtered_inbox_merges_the_shards_in_order(desk):
    for i in range(12):
        _branded(desk, f"t{i:02d}", "acme", priority=i * 5, **({"assignee": "ana"} if i % 3 == 0 else {}))
    seen, cursor = [], None
    while True:
        page, cursor = desk.tickets.inbox("open", brands=["acme"], filters={"assignee": "none"}, limit=3,
                                          cursor=cursor)
        seen += [t.id for t in page]
        if cursor is None:
            break
    assert seen == [f"t{i:02d}" for i in reversed(range(12)) if i % 3]


# -- deadlines and re-drives by minute, an agent's own -------------------------------------------
def test_the_due_index_finds_the_tickets_of_those_minutes_only(desk):
    _branded(desk, "early", "acme", 50, due="2026-11-24T10:59:59.000000+00:00")
    _branded(desk, "on-time", "acme", 50, due="2026-11-24T11:00:10.000000+00:00")
    _branded(desk, "later", "acme", 50, due="2026-11-24T11:01:05.000000+00:00")
    _branded(desk, "much-later", "bolt", 50, due="2026-11-24T15:00:00.000000+00:00")
    assert [t.id for t in desk.tickets.due_between("2026-11-24T11:00", "2026-11-24T11:01")] == ["on-time", "later"]
    assert [t.id for t in desk.tickets.due_between("2026-11-24T10:59", "2026-11-24T10:59")] == ["early"]
    # a new deadline moves the ticket to its minute; closing takes it out
    moved = desk.tickets.get("later")
    desk.tickets.set_sla_due(moved, "2026-11-24T12:00:00.000000+00:00")
    assert [t.id for t in desk.tickets.due_between("2026-11-24T11:00", "2026-11-24T11:01")] == ["on-time"]
    desk.tickets.update("on-time", 1, {"status": "closed"})
    assert desk.tickets.due_between("2026-11-24T11:00", "2026-11-24T11:01") == []
    assert [t.id for t in desk.tickets.due_between("2026-11-24T12:00", "2026-11-24T12:00")] == ["later"]


def test_an_unassigned_ticket_is_due_for_a_redrive_until_someone_holds_it(desk):
    desk.agents.put(Agent(id="ana", name="Ana", status="online", capacity=3))
    desk.tickets.open_for("conv-t1", _new("t1", "conv-t1"))  # opened at 10:00, and the router is asked at once:
    assert desk.tickets.redrives_between("2026-11-24T10:00", "2026-11-24T10:59") == []  # no re-drive written yet
    desk.tickets.mark_waiting("t1", "2026-11-24T10:00:00+00:00")  # the router found nobody: first re-drive at 10:02
    desk.tickets.mark_waiting("t1", "2026-11-24T10:01:00+00:00")  # (it waits already: nothing moves)
    assert desk.tickets.redrives_between("2026-11-24T10:00", "2026-11-24T10:01") == []
    assert [t.id for t in desk.tickets.redrives_between("2026-11-24T10:02", "2026-11-24T10:02")] == ["t1"]
    desk.tickets.redrive_later(desk.tickets.get("t1"), "2026-11-24T10:06:00+00:00")  # backoff
    assert desk.tickets.redrives_between("2026-11-24T10:00", "2026-11-24T10:05") == []
    assert [t.id for t in desk.tickets.redrives_between("2026-11-24T10:06", "2026-11-24T10:06")] == ["t1"]
    desk.agents.assign_within_capacity("t1", 0, "ana")
    assert desk.tickets.redrives_between("2026-11-24T10:00", "2026-11-24T10:59") == []
    desk.tickets.redrive_later(desk.tickets.get("t1"), "2026-11-24T10:07:00+00:00")  # held: nothing
    assert desk.tickets.redrives_between("2026-11-24T10:00", "2026-11-24T10:59") == []
    desk.agents.release("t1", 1, "ana", "2026-11-24T10:20:00+00:00")  # given back: waits again
    assert [t.id for t in desk.tickets.redrives_between("2026-11-24T10:22", "2026-11-24T10:22")] == ["t1"]


def test_an_agents_own_tickets_come_from_the_assignee_index(desk):
    for i in range(30):
        _branded(desk, f"t{i:02d}", "acme", priority=i, **({"assignee": "ana"} if i in (3, 17) else {}))
    _branded(desk, "p1", "acme", 10, assignee="ana", status="pending",
             **keys.inbox_index("pending", 10, DUE, "p1"))
    assert [t.id for t in desk.tickets.assigned_to("ana")] == ["t17", "t03"]
    assert [t.id for t in desk.tickets.assigned_to("ana", "pending")] == ["p1"]
    assert desk.tickets.assigned_to("wei") == []
    _branded(desk, "c1", "acme", 10, assignee="ana", status="closed", **keys.inbox_index("closed", 10, DUE, "c1"))
    assert desk.tickets.held_count("ana") == 3 and desk.tickets.held_count("wei") == 0  # closed is not held


def test_a_brands_full_page_cursor_fits_the_apis_limit(desk):
    for i in range(60):
        _branded(desk, f"ticket-{i:03d}-with-a-long-id-0000-000000000000", "nordlight", priority=50)
    _, position = desk.tickets.inbox("open", brands=["nordlight"], limit=20)
    cursor = keys.inbox_cursor(position)
    assert len(cursor) < 500 and keys.inbox_start(cursor, "open") == position
