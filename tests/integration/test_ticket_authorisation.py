"""Who may take a ticket and rate it, and load counters that follow every change of holder.

An agent claims a ticket nobody holds (or one they hold); taking another agent's ticket is a
supervisor's reassignment through PATCH, so claim answers 409 naming the holder. Every change of
holder (claim, assign, unassign, team transfer, close, done, bulk, reopen) moves the agents'
`load` in the same transaction. CSAT feeds routing, so agents cannot set it: supervisors through
the API, the customer through `tickets.rate(..., by=None)` (a survey's answer).
"""
from __future__ import annotations

import pytest

from infra.local import demo
from tests.integration import agent_http
from chalicelib.aggregates.agent import Performance
from tests import stored

_headers, _call = agent_http.headers, agent_http.call


def _loads(desk) -> dict:
    return {a.id: a.load for a in desk.store().agents.all()}



# --- claim ------------------------------------------------------------------------------------

def test_an_agent_claims_a_free_ticket_and_their_load_goes_up(desk, ticket):
    status, mine = _call(desk, "post", f"/api/tickets/{ticket['id']}/claim", {"version": ticket["version"]})
    assert status == 200 and mine["assignee"] == "ana"
    assert _loads(desk)["ana"] == 1
    # claiming it again (it is already theirs) changes nobody's load
    status, again = _call(desk, "post", f"/api/tickets/{ticket['id']}/claim", {"version": mine["version"]})
    assert status == 200 and again["assignee"] == "ana" and _loads(desk)["ana"] == 1


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_claiming_another_agents_ticket_is_409_naming_the_holder_and_changes_nothing(desk, ticket, role):
    # Given a ticket ana holds
    status, mine = _call(desk, "post", f"/api/tickets/{ticket['id']}/claim", {"version": ticket["version"]})
    assert status == 200
    # When mikko (or a supervisor, who reassigns through PATCH) claims it at its current version
    status, answer = _call(desk, "post", f"/api/tickets/{ticket['id']}/claim", {"version": mine["version"]},
                           agent="mikko" if role == "agent" else "sam", role=role)
    # Then it is refused, and the ticket and every load are as they were
    assert status == 409 and "ana holds this ticket" in answer["error"] and "supervisor" in answer["error"]
    assert stored.ticket(desk.store(), ticket["id"])["assignee"] == "ana"
    assert stored.ticket(desk.store(), ticket["id"])["version"] == mine["version"]
    assert _loads(desk) == {**{a["id"]: 0 for a in demo.AGENTS}, "ana": 1}


def test_a_claim_at_a_stale_version_after_someone_else_took_it_is_409(desk, ticket):
    assert _call(desk, "post", f"/api/tickets/{ticket['id']}/claim", {"version": ticket["version"]},
                 agent="wei")[0] == 200
    status, _ = _call(desk, "post", f"/api/tickets/{ticket['id']}/claim", {"version": ticket["version"]},
                      agent="mikko")
    assert status == 409 and stored.ticket(desk.store(), ticket["id"])["assignee"] == "wei"
    assert _loads(desk)["wei"] == 1 and _loads(desk)["mikko"] == 0


def test_someone_who_is_no_agent_cannot_claim(desk, ticket):
    status, answer = _call(desk, "post", f"/api/tickets/{ticket['id']}/claim", {"version": ticket["version"]},
                           agent="stranger")
    assert status == 404 and ticket["id"] in answer["error"]  # no agent record: no brand's ticket to claim
    assert not stored.ticket(desk.store(), ticket["id"]).get("assignee")


# --- load follows every change of holder: tests/unit/test_ticket_use_cases.py, on the in-memory store
# (assign, reassign, unassign, close, reopen, pending, done, team transfer, bulk, a drifted load, a
# deleted holder); the claim above is its HTTP round trip.


# --- CSAT ---------------------------------------------------------------------------------------

def test_an_agent_cannot_set_csat_a_supervisor_can_and_it_feeds_routing(desk, ticket):
    path = f"/api/tickets/{ticket['id']}"
    _call(desk, "post", f"{path}/claim", {"version": ticket["version"]})
    # When the agent who holds it rates it, Then 403 and nothing recorded
    status, answer = _call(desk, "post", f"{path}/csat", {"score": 5})
    assert status == 403 and "supervisor" in answer["error"]
    assert stored.ticket(desk.store(), ticket["id"]).get("csat") is None
    assert (desk.store().agents.get("ana").performance or Performance()).csat is None
    # When a supervisor enters the customer's rating, Then it counts for ana and the timeline says who
    status, rated = _call(desk, "post", f"{path}/csat", {"score": 2}, agent="sam", role="supervisor")
    assert status == 201 and rated == {"ticket_id": ticket["id"], "csat": 2, "agent_id": "ana", "source": "supervisor"}
    assert desk.store().agents.get("ana").performance.csat == 2
    [event] = [m for m in stored.messages(desk.store(), ticket["id"]) if m.get("action") == "csat_recorded"]
    assert event["agent_id"] == "sam"


def test_the_customers_own_answer_still_feeds_routing(desk, ticket):
    # the path a survey's answer takes: no agent, no API route
    from chalicelib import tickets

    _call(desk, "post", f"/api/tickets/{ticket['id']}/claim", {"version": ticket["version"]})
    rated = tickets.rate(desk.store(), ticket["id"], tickets.CsatRequest(score=4))
    assert rated["source"] == "customer" and desk.store().agents.get("ana").performance.csat == 4
