"""Brand scoping of the use cases on the in-memory store (fast; the HTTP round trip of every route is
tests/integration/test_brand_isolation.py): another brand's ticket is NotFound to every action, the
inbox reads only the caller's brands, a ticket goes only to an agent of its brand, a supervisor
manages only her brands' agents and teams, and a caller with no brands sees nothing."""
from __future__ import annotations

import pytest

from chalicelib import admin, api, tickets
from chalicelib.aggregates.agent import Agent
from chalicelib.aggregates.team import Team
from chalicelib.aggregates.ticket import Ticket
from chalicelib.auth import Forbidden, Principal
from chalicelib.errors import NotFound
from chalicelib.store import keys
from chalicelib.store.memory import MemoryStore

AT = "2026-11-24T10:00:00+00:00"
ANA = Principal("ana", "agent", frozenset({"aegean"}))
SAM = Principal("sam", "supervisor", frozenset({"aegean"}))
ROOT = Principal("root", "admin")
NOBODY = Principal("ghost", "supervisor")


@pytest.fixture
def desk() -> MemoryStore:
    desk = MemoryStore()
    for agent in (Agent(id="ana", name="Ana", status="online", capacity=3, brands=["aegean"]),
                  Agent(id="nora", name="Nora", status="online", capacity=3, brands=["nordlight"]),
                  Agent(id="both", name="Both", status="online", capacity=3, brands=["aegean", "nordlight"]),
                  Agent(id="sam", name="Sam", role="supervisor", brands=["aegean"])):
        desk.agents.put(agent)
    desk.teams.put(Team(id="team-b", name="B", brands=["nordlight"]))
    for ticket_id, brand in (("ta", "aegean"), ("tb", "nordlight")):
        new = Ticket.opened(ticket_id, channel="x", kind="mention", brand=brand, brand_account_id="b1",
                            conversation_key=f"conv-{ticket_id}", opened_by=f"x#{ticket_id}", customer_id=None,
                            now_iso=AT, first_inbound_at=AT, clocks={"sla_due_at": AT}, visibility="public",
                            language="en", topic="delivery", subject=None)
        desk.tickets.open_for(new.conversation_key, new)
        desk.tickets.update(ticket_id, 0, {"priority": 40, **keys.inbox_index("open", 40, AT, ticket_id)})
    return desk


def test_every_action_on_another_brands_ticket_is_not_found_and_changes_nothing(desk):
    actions = [
        lambda: tickets.edit(desk, "tb", tickets.TicketPatch(version=1, status="pending"), ANA),
        lambda: tickets.claim(desk, "tb", tickets.ClaimRequest(version=1), ANA),
        lambda: tickets.add_note(desk, "tb", tickets.NoteRequest(text="peek"), ANA),
        lambda: tickets.done(desk, "tb", tickets.DoneRequest(reason="spam", version=1), ANA),
        lambda: tickets.rate(desk, "tb", tickets.CsatRequest(score=1), by=SAM),
    ]
    for action in actions:
        with pytest.raises(NotFound):
            action()
    after = desk.tickets.get("tb")
    assert (after.version, after.assignee, after.status, after.csat) == (1, None, "open", None)
    assert desk.messages.timeline("tb") == []


def test_the_inbox_reads_the_callers_brands_only(desk):
    assert [t["id"] for t in api.list_tickets(desk, None, ANA)["items"]] == ["ta"]
    assert sorted(t["id"] for t in api.list_tickets(desk, None, ROOT)["items"]) == ["ta", "tb"]
    assert api.list_tickets(desk, None, NOBODY)["items"] == []


def test_a_ticket_goes_only_to_an_agent_of_its_brand_and_a_team_the_caller_sees(desk):
    both = Principal("sam2", "supervisor", frozenset({"aegean", "nordlight"}))
    with pytest.raises(NotFound, match="agent nora"):
        tickets.edit(desk, "ta", tickets.TicketPatch(version=1, assignee="nora"), both)
    with pytest.raises(NotFound, match="team team-b"):
        tickets.edit(desk, "ta", tickets.TicketPatch(version=1, team="team-b"), SAM)
    assert tickets.edit(desk, "ta", tickets.TicketPatch(version=1, assignee="both"), both)["assignee"] == "both"


def test_bulk_reports_another_brands_ticket_as_not_found(desk):
    answer = admin.bulk(desk, admin.BulkRequest(ticket_ids=["ta", "tb"], action="close"), SAM)
    assert answer["results"] == {"ta": "ok", "tb": "not_found"}
    assert desk.tickets.get("tb").status == "open"


def test_a_supervisor_manages_only_her_brands_agents_and_teams(desk):
    assert [a["id"] for a in admin.list_agents(desk.agents, SAM)] == ["ana", "both", "sam"]
    assert admin.list_teams(desk.teams, SAM) == [] and admin.list_teams(desk.teams, ROOT)[0]["id"] == "team-b"
    with pytest.raises(NotFound):
        admin.put_agent(desk.agents, admin.Agent(id="nora", name="Mine now", brands=["aegean"]), SAM)
    with pytest.raises(NotFound):
        admin.delete_agent(desk.agents, "nora", SAM)
    with pytest.raises(NotFound):
        admin.put_team(desk.teams, admin.Team(id="team-b", name="Mine now"), SAM)
    with pytest.raises(NotFound):
        admin.put_agent(desk.agents, admin.Agent(id="new", name="New", brands=["nordlight"]), SAM)
    with pytest.raises(Forbidden):
        admin.put_agent(desk.agents, admin.Agent(id="new", name="New", role="admin"), SAM)
    kept = admin.put_agent(desk.agents, admin.Agent(id="both", name="Both", brands=["aegean"]), SAM)
    assert kept["brands"] == ["aegean", "nordlight"]  # not hers to take away
    with pytest.raises(Forbidden):
        admin.delete_agent(desk.agents, "both", SAM)
    assert desk.agents.get("nora").brands == ["nordlight"] and desk.teams.get("team-b").name == "B"


def test_a_caller_without_brands_sees_no_agent_team_or_ticket(desk):
    assert admin.list_agents(desk.agents, NOBODY) == [] and admin.list_teams(desk.teams, NOBODY) == []
    with pytest.raises(NotFound):
        api.get_rules(desk, "aegean", NOBODY)
    with pytest.raises(NotFound):
        tickets.add_note(desk, "ta", tickets.NoteRequest(text="x"), NOBODY)
