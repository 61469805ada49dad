"""AgentStore.save_profile, on DynamoDB (moto) and in memory alike: an admin's edit changes the
profile only, so a load, presence or performance the desk moved after the admin read the agent is
never written back as it was read (issue 15, point 2: found by tests/unit/test_load_invariant.py)."""
from __future__ import annotations

from chalicelib.aggregates.agent import Agent, Performance

AT = "2026-11-24T10:00:00+00:00"


def _agent(agent_id="ana", **fields) -> Agent:
    return Agent.from_item({"id": agent_id, "name": agent_id.title(), "role": "agent", "languages": ["en"],
                            "status": "offline", "capacity": 2, "load": 0, "brands": ["acme"], **fields})


def test_a_new_agent_is_saved_whole(store):
    saved = store.agents.save_profile(_agent(skills=["billing"]))
    assert saved == store.agents.get("ana") == _agent(skills=["billing"])
    assert [a.id for a in store.agents.roster()] == ["ana"]


def test_an_edit_keeps_the_load_presence_and_performance_moved_since_it_was_read(store):
    # Given an agent, as the admin reads her
    store.agents.put(_agent(skills=["billing"]))
    read = store.agents.get("ana")
    # When the desk moves her load, presence and performance before the admin saves her edit
    store.agents.set_status("ana", "online", AT)
    store.agents.reserve("ana")
    store.agents.record_performance("ana", "csat", 5)
    saved = store.agents.save_profile(read.model_copy(update={"capacity": 5, "skills": [], "name": "Ana B"}))
    # Then the profile is the edit and the rest is as the desk left it
    again = store.agents.get("ana")
    assert saved == again
    assert (again.capacity, again.skills, again.name) == (5, [], "Ana B")
    assert (again.load, again.status, again.status_changed_at) == (1, "online", AT)
    assert again.performance is not None and again.performance.csat == 5
    [listed] = store.agents.roster()
    assert (listed.capacity, listed.name, listed.status) == (5, "Ana B", "online")
