"""The ticket use cases on the in-memory store (fast; the same ports the DynamoDB store passes in
tests/contract): agents edit, claim, note, close and rate tickets at the version they read; a
change of holder moves agents' load; supervisors alone give tickets away or override priority;
the inbox pages and filters; the router assigns and releases. The HTTP round trips on moto stay in
tests/integration/test_ticket_actions.py, test_ticket_authorisation.py and test_rerouting.py."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import api, routing, tickets
from chalicelib.aggregates.agent import Agent
from chalicelib.aggregates.team import Team
from chalicelib.aggregates.ticket import Ticket
from chalicelib.auth import Forbidden, Principal
from chalicelib.errors import ConcurrentUpdate, NotFound
from chalicelib.models import RoutingRequest
from chalicelib.store import keys
from chalicelib.store.memory import MemoryStore

AT = "2026-11-24T10:00:00+00:00"
DUE = "2026-11-24T11:00:00.000000+00:00"
ACME = frozenset({"acme"})  # the brand of every ticket here
ANA, SAM = Principal("ana", "agent", ACME), Principal("sam", "supervisor", ACME)
WEI = Principal("wei", "agent", ACME)


@pytest.fixture
def desk() -> MemoryStore:
    desk = MemoryStore()
    for agent in (Agent(id="ana", name="Ana Berg", status="online", capacity=3, languages=["en"], brands=["acme"]),
                  Agent(id="wei", name="Wei", status="online", capacity=3, languages=["en"], brands=["acme"]),
                  Agent(id="sam", name="Sam", role="supervisor", brands=["acme"])):
        desk.agents.put(agent)
    return desk


def _ticket(desk: MemoryStore, ticket_id: str = "t1", priority: int = 40, **fields) -> Ticket:
    """A ticket as the ingest worker leaves it: open, in the inbox, at version 1."""
    new = Ticket.opened(ticket_id, channel="x", kind="mention", brand="acme", brand_account_id="b1",
                        conversation_key=f"conv-{ticket_id}", opened_by=f"x#{ticket_id}", customer_id="c1",
                        now_iso=AT, first_inbound_at=AT, clocks={"sla_due_at": DUE}, visibility="public",
                        language="en", topic="delivery", subject=None)
    desk.tickets.open_for(new.conversation_key, new)
    return desk.tickets.update(ticket_id, 0, {"priority": priority, **fields,
                                              **keys.inbox_index(fields.get("status", "open"), priority, DUE,
                                                                 ticket_id)})


def _timeline(desk: MemoryStore, ticket_id: str = "t1") -> list[tuple]:
    return [(m.direction, m.action or m.text) for m in desk.messages.timeline(ticket_id)]


# -- edit ------------------------------------------------------------------------------------
def test_an_edit_changes_the_ticket_and_is_kept_on_the_timeline(desk):
    # Given a ticket at version 1
    _ticket(desk)
    # When an agent sets its status, tags and topic
    shown = tickets.edit(desk, "t1", tickets.TicketPatch(version=1, status="pending", tags=[" VIP ", "vip", "late"],
                                                         topic="billing"), ANA)
    # Then it changed at once, version up, and the change is an event naming who
    assert (shown["status"], shown["tags"], shown["topic"], shown["version"]) == ("pending", ["vip", "late"],
                                                                                  "billing", 2)
    assert desk.tickets.get("t1").paused_at is not None  # the SLA clock waits on the customer
    [event] = desk.messages.timeline("t1")
    assert (event.direction, event.action, event.author) == ("event", "edited", {"id": "ana", "name": "Ana Berg"})
    assert event.changes["status"] == "pending" and "GSI1SK" not in event.changes
    # and the ticket moved to the pending inbox
    assert api.list_tickets(desk, api.InboxQuery(status="pending"), ANA)["items"][0]["id"] == "t1"
    assert api.list_tickets(desk, None, ANA)["items"] == []


def test_a_stale_version_is_a_conflict_and_changes_nothing(desk):
    _ticket(desk)
    with pytest.raises(ConcurrentUpdate):
        tickets.edit(desk, "t1", tickets.TicketPatch(version=0, status="closed"), ANA)
    assert desk.tickets.get("t1").status == "open" and desk.messages.timeline("t1") == []


def test_an_unknown_ticket_is_not_found(desk):
    with pytest.raises(NotFound):
        tickets.edit(desk, "ghost", tickets.TicketPatch(version=0, status="closed"), ANA)


def test_only_a_supervisor_gives_a_ticket_away_or_overrides_priority(desk):
    _ticket(desk)
    for patch in (tickets.TicketPatch(version=1, assignee="wei"), tickets.TicketPatch(version=1, priority=90)):
        with pytest.raises(Forbidden):
            tickets.edit(desk, "t1", patch, ANA)
    shown = tickets.edit(desk, "t1", tickets.TicketPatch(version=1, assignee="ana"), ANA)  # taking it is fine
    assert shown["assignee"] == "ana"
    with pytest.raises(Forbidden):  # taking it from her is not
        tickets.edit(desk, "t1", tickets.TicketPatch(version=2, assignee="wei"), WEI)
    assert desk.tickets.get("t1").assignee == "ana"


def test_a_priority_override_reorders_the_inbox_and_names_who(desk):
    _ticket(desk, "t1", priority=40)
    _ticket(desk, "t2", priority=60)
    shown = tickets.edit(desk, "t1", tickets.TicketPatch(version=1, priority=99), SAM)
    assert (shown["priority"], shown["priority_overridden_by"]) == (99, "sam")
    assert [t["id"] for t in api.list_tickets(desk, None, ANA)["items"]] == ["t1", "t2"]


# -- holders and load ------------------------------------------------------------------------
def test_assign_reassign_unassign_and_close_move_load_with_the_ticket(desk):
    _ticket(desk)
    tickets.edit(desk, "t1", tickets.TicketPatch(version=1, assignee="ana"), SAM)
    assert (desk.agents.get("ana").load, desk.agents.get("wei").load) == (1, 0)
    tickets.edit(desk, "t1", tickets.TicketPatch(version=2, assignee="wei"), SAM)
    assert (desk.agents.get("ana").load, desk.agents.get("wei").load) == (0, 1)
    shown = tickets.edit(desk, "t1", tickets.TicketPatch(version=3, unassign=True), SAM)
    assert shown["assignee"] is None and desk.agents.get("wei").load == 0
    tickets.claim(desk, "t1", tickets.ClaimRequest(version=4), ANA)
    tickets.edit(desk, "t1", tickets.TicketPatch(version=5, status="closed"), ANA)
    assert desk.agents.get("ana").load == 0 and desk.tickets.get("t1").closed_at
    assert desk.agents.get("ana").performance.counts == {"resolution_seconds": 1}


def test_an_unknown_assignee_or_team_is_not_found_and_nothing_changes(desk):
    _ticket(desk)
    with pytest.raises(NotFound):
        tickets.edit(desk, "t1", tickets.TicketPatch(version=1, assignee="nobody"), SAM)
    with pytest.raises(NotFound):
        tickets.edit(desk, "t1", tickets.TicketPatch(version=1, team="nowhere"), SAM)
    assert desk.tickets.get("t1").version == 1


def test_a_transfer_to_a_team_puts_it_in_the_teams_queue(desk):
    desk.teams.put(Team(id="nordic", name="Nordic care", brands=["acme"]))
    _ticket(desk)
    tickets.claim(desk, "t1", tickets.ClaimRequest(version=1), ANA)
    moved = tickets.edit(desk, "t1", tickets.TicketPatch(version=2, team="nordic"), ANA)
    assert (moved["team"], moved["assignee"], desk.agents.get("ana").load) == ("nordic", None, 0)
    assert [t["id"] for t in api.list_tickets(desk, api.InboxQuery(team="nordic"), ANA)["items"]] == ["t1"]


def test_a_claim_takes_a_free_ticket_but_never_anothers(desk):
    _ticket(desk)
    shown = tickets.claim(desk, "t1", tickets.ClaimRequest(version=1), WEI)
    assert shown["assignee"] == "wei" and desk.agents.get("wei").load == 1
    with pytest.raises(tickets.HeldByAnother):
        tickets.claim(desk, "t1", tickets.ClaimRequest(version=2), ANA)
    _ticket(desk, "t2")
    with pytest.raises(NotFound):  # no agent record: no tickets
        tickets.claim(desk, "t2", tickets.ClaimRequest(version=1), Principal("stranger", "agent", ACME))
    assert desk.tickets.get("t2").assignee is None


# -- notes, done, rating ---------------------------------------------------------------------
def test_a_note_is_on_the_timeline_and_done_closes_with_the_reason(desk):
    _ticket(desk)
    note = tickets.add_note(desk, "t1", tickets.NoteRequest(text="called them"), ANA)
    assert (note["direction"], note["text"], note["author"]) == ("note", "called them", {"id": "ana", "name": "Ana Berg"})
    shown = tickets.done(desk, "t1", tickets.DoneRequest(reason="spam", note="bot", version=1), ANA)
    assert (shown["status"], shown["done_without_reply"], shown["done_reason"]) == ("closed", True, "spam")
    assert _timeline(desk) == [("note", "called them"), ("event", "done"), ("note", "bot")]
    assert api.list_tickets(desk, api.InboxQuery(status="closed"), ANA)["items"][0]["id"] == "t1"


def test_a_rating_is_kept_once_and_counts_for_who_answered(desk):
    _ticket(desk, first_response_by="wei")
    answer = tickets.rate(desk, "t1", tickets.CsatRequest(score=5, comment="quick"), by=SAM)
    assert answer == {"ticket_id": "t1", "csat": 5, "agent_id": "wei", "source": "supervisor"}
    assert desk.agents.get("wei").performance.csat == 5 and _timeline(desk) == [("event", "csat_recorded")]
    with pytest.raises(ValueError, match="rated already"):
        tickets.rate(desk, "t1", tickets.CsatRequest(score=1))
    assert desk.tickets.get("t1").csat == 5


# -- the inbox -------------------------------------------------------------------------------
def test_the_inbox_pages_by_cursor_and_refuses_a_forged_one(desk):
    for i in range(5):
        _ticket(desk, f"t{i}", priority=10 * i)
    first = api.list_tickets(desk, api.InboxQuery(limit=2), ANA)
    second = api.list_tickets(desk, api.InboxQuery(limit=2, cursor=first["next_cursor"]), ANA)
    third = api.list_tickets(desk, api.InboxQuery(limit=2, cursor=second["next_cursor"]), ANA)
    assert [t["id"] for page in (first, second, third) for t in page["items"]] == ["t4", "t3", "t2", "t1", "t0"]
    assert third["next_cursor"] is None
    from chalicelib.errors import Invalid

    with pytest.raises(Invalid):
        api.list_tickets(desk, api.InboxQuery(cursor="bm90IGEgY3Vyc29y"), ANA)


def test_the_inbox_shows_no_internal_attribute(desk):
    _ticket(desk, search_text="secret words")
    [shown] = api.list_tickets(desk, api.InboxQuery(q="secret"), ANA)["items"]
    assert shown["id"] == "t1" and "search_text" not in shown and not any(k.startswith("GSI") for k in shown)


# -- routing ---------------------------------------------------------------------------------
SETTINGS = {"sticky": True, "strongest_agent_priority": 80, "strongly_negative_score": -0.7,
            "relax_language_after_minutes": 10, "relax_skill_after_minutes": 20}


def test_the_router_gives_a_ticket_to_the_agent_with_most_room_and_a_redelivery_changes_nothing(desk):
    desk.agents.put(desk.agents.get("ana").model_copy(update={"load": 2}))
    _ticket(desk)
    request = RoutingRequest(ticket_id="t1", message_id="m1", reason="new_message", priority=40)
    assert routing.route(request, desk, SETTINGS) == "wei"
    assert routing.route(request, desk, SETTINGS) == "wei"  # held by an online agent: stays
    assert desk.agents.get("wei").load == 1 and desk.tickets.get("t1").assignee == "wei"


def test_nobody_eligible_leaves_the_ticket_waiting_then_presence_offers_it(desk):
    for agent_id in ("ana", "wei"):
        desk.agents.set_status(agent_id, "offline", AT)
    _ticket(desk)
    now = datetime(2026, 11, 24, 10, 5, tzinfo=timezone.utc)
    request = RoutingRequest(ticket_id="t1", message_id="m1", reason="new_message", priority=40)
    assert routing.route(request, desk, SETTINGS, now) is None
    assert desk.tickets.get("t1").waiting_since == now.isoformat()
    desk.agents.set_status("ana", "online", AT)
    sent: list[str] = []
    moved = routing.on_presence(desk, "ana", "online", sent.append, now + timedelta(minutes=1))
    assert moved == {"released": [], "offered": ["t1"]} and len(sent) == 1


def test_going_away_releases_what_is_unanswered(desk):
    _ticket(desk, "t1")
    _ticket(desk, "t2", first_response_at=AT)
    for ticket_id in ("t1", "t2"):
        desk.agents.assign_within_capacity(ticket_id, 1, "ana")
    moved = routing.on_presence(desk, "ana", "away", lambda body: None)
    assert moved["released"] == ["t1"] and desk.tickets.get("t1").previous_assignee == "ana"
    assert desk.tickets.get("t2").assignee == "ana" and desk.agents.get("ana").load == 1


def test_reopening_gives_the_load_back_and_pending_keeps_it(desk):
    _ticket(desk)
    tickets.claim(desk, "t1", tickets.ClaimRequest(version=1), ANA)
    tickets.edit(desk, "t1", tickets.TicketPatch(version=2, status="closed"), ANA)
    assert desk.agents.get("ana").load == 0
    tickets.edit(desk, "t1", tickets.TicketPatch(version=3, status="open"), ANA)
    assert desk.agents.get("ana").load == 1
    tickets.edit(desk, "t1", tickets.TicketPatch(version=4, status="pending"), ANA)
    assert desk.agents.get("ana").load == 1
    tickets.done(desk, "t1", tickets.DoneRequest(reason="other", version=5), ANA)
    assert desk.agents.get("ana").load == 0


def test_bulk_actions_move_load_and_report_each_ticket(desk):
    from chalicelib import admin

    _ticket(desk, "t1")
    _ticket(desk, "t2")
    answer = admin.bulk(desk, admin.BulkRequest(ticket_ids=["t1", "t2", "ghost"], action="assign", assignee="wei"),
                        SAM)
    assert answer == {"results": {"t1": "ok", "t2": "ok", "ghost": "not_found"}, "ok": 2}
    assert desk.agents.get("wei").load == 2
    admin.bulk(desk, admin.BulkRequest(ticket_ids=["t1", "t2"], action="close"), SAM)
    assert desk.agents.get("wei").load == 0 and {desk.tickets.get(t).status for t in ("t1", "t2")} == {"closed"}


def test_a_drifted_zero_load_or_a_deleted_holder_never_blocks_a_change(desk):
    # Given ana holds the ticket but her load says 0 (drifted)
    _ticket(desk)
    tickets.claim(desk, "t1", tickets.ClaimRequest(version=1), ANA)
    desk.agents.put(desk.agents.get("ana").model_copy(update={"load": 0}))
    # When a supervisor reassigns it, Then it moves; ana stays at 0, never below
    tickets.edit(desk, "t1", tickets.TicketPatch(version=2, assignee="wei"), SAM)
    assert (desk.agents.get("ana").load, desk.agents.get("wei").load) == (0, 1)
    # and when wei's record is gone, unassigning still works and makes no ghost agent
    desk.agents.delete("wei")
    shown = tickets.edit(desk, "t1", tickets.TicketPatch(version=3, unassign=True), SAM)
    assert shown["assignee"] is None and desk.agents.get("wei") is None
