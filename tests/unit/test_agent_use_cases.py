"""The agent use cases on the in-memory AgentStore (fast; the same port the DynamoDB store passes
in tests/contract): an admin creates and edits agents without touching presence, load or
performance; the roster and an agent's presence read back as the API shows them.
The HTTP round trip on moto stays in tests/integration/test_admin_api.py."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.auth import Principal
from chalicelib import admin, tickets
from chalicelib.aggregates.agent import Agent, Performance
from chalicelib.errors import NotFound
from chalicelib.store.memory import MemoryAgentStore

AT = "2026-11-23T10:00:00+00:00"

ROOT = Principal("root", "admin")  # an admin: every brand


@pytest.fixture
def agents() -> MemoryAgentStore:
    return MemoryAgentStore()


def _body(**fields) -> admin.Agent:
    return admin.Agent.model_validate({"id": "eeva", "name": "Eeva Laine", **fields})


def test_a_new_agent_starts_offline_holding_nothing(agents):
    # When an admin adds an agent
    shown = admin.put_agent(agents, _body(languages=["fi", "sv", "en"], skills=["billing"], teams=["nordic"],
                                          capacity=6), ROOT)
    # Then they are offline with no load, and stored as given
    assert (shown["status"], shown["load"], shown["capacity"], shown["role"]) == ("offline", 0, 6, "agent")
    assert agents.get("eeva").languages == ["fi", "sv", "en"] and agents.get("eeva").skills == ["billing"]


def test_an_edit_keeps_presence_load_and_performance(agents):
    # Given an agent at work
    admin.put_agent(agents, _body(capacity=6), ROOT)
    agents.set_status("eeva", "online", AT)
    agents.put(agents.get("eeva").model_copy(update={"load": 2}))
    agents.record_performance("eeva", "csat", 5)
    # When the admin changes their profile
    shown = admin.put_agent(agents, _body(languages=["fi"], capacity=9), ROOT)
    # Then only the profile changed
    eeva = agents.get("eeva")
    assert (shown["status"], shown["load"], shown["capacity"], shown["languages"]) == ("online", 2, 9, ["fi"])
    assert eeva.status_changed_at == AT and eeva.performance == Performance(csat=5, counts={"csat": 1})


def test_the_admin_body_is_checked_before_anything_is_stored(agents):
    with pytest.raises(ValidationError, match="two-letter"):
        _body(languages=["finnish"])
    with pytest.raises(ValidationError):
        admin.Agent.model_validate({"id": "Bad Id", "name": "E"})
    assert agents.all() == []


def test_the_roster_shows_every_agent_without_performance(agents):
    admin.put_agent(agents, _body(), ROOT)
    admin.put_agent(agents, _body(id="ana", name="Ana", role="supervisor"), ROOT)
    agents.record_performance("ana", "first_response_seconds", 60)
    roster = admin.list_agents(agents, ROOT)
    assert [a["id"] for a in roster] == ["ana", "eeva"] and roster[0]["role"] == "supervisor"
    assert all("performance" not in a for a in roster)


def test_presence_reads_back_what_was_set(agents):
    agents.put(Agent(id="ana", capacity=5, load=1))
    assert tickets.get_presence(agents, "ana") == {"agent_id": "ana", "status": "offline", "load": 1, "capacity": 5,
                                                   "status_changed_at": None}
    agents.set_status("ana", "away", AT)
    assert tickets.get_presence(agents, "ana")["status"] == "away"
    with pytest.raises(NotFound):
        tickets.get_presence(agents, "stranger")
