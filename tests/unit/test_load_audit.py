"""The sweeper's load audit on the in-memory store (the same ports the table passes in tests/contract):
an agent's load that no longer counts what they hold is noted, and repaired only when the next
audit finds the same mismatch unchanged, so a reservation whose ticket is being put is never
"repaired" away."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import sweeper
from chalicelib.aggregates.agent import Agent
from chalicelib.store.memory import MemoryStore

AT = datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def store() -> MemoryStore:
    desk = MemoryStore()
    desk.agents.put(Agent(id="ana", name="Ana", status="online", capacity=5, brands=["acme"]))
    for i, status in enumerate(("open", "pending", "closed")):
        desk.tickets.tickets[f"t{i}"] = {"id": f"t{i}", "status": status, "assignee": "ana", "version": 1}
    return desk


def _load(store: MemoryStore, load: int) -> None:
    store.agents.agents["ana"] = store.agents.agents["ana"].model_copy(update={"load": load})


def test_a_load_that_counts_what_they_hold_is_left_alone(store):
    _load(store, 2)  # open and pending count, closed does not
    assert sweeper.audit_loads(store, AT) == {"audited": 1, "noted": 0, "repaired": 0}
    assert store.agents.get("ana").load == 2 and store.agents.get("ana").load_drift is None


def test_a_drift_is_noted_then_repaired_when_it_held_unchanged(store):
    _load(store, 3)  # one over: a crash between a reservation and its ticket's put
    assert sweeper.audit_loads(store, AT)["noted"] == 1
    assert store.agents.get("ana").load == 3  # not yet: it may be a ticket being put this moment
    assert sweeper.audit_loads(store, AT + timedelta(minutes=1))["repaired"] == 0  # too soon
    assert sweeper.audit_loads(store, AT + sweeper.DRIFT_SETTLE)["repaired"] == 1
    agent = store.agents.get("ana")
    assert (agent.load, agent.load_drift) == (2, None)


def test_a_mismatch_that_moves_is_noted_again_not_repaired(store):
    _load(store, 3)
    sweeper.audit_loads(store, AT)
    _load(store, 4)  # she took another ticket meanwhile (its put not yet seen)
    summary = sweeper.audit_loads(store, AT + sweeper.DRIFT_SETTLE)
    assert (summary["repaired"], summary["noted"]) == (0, 1) and store.agents.get("ana").load == 4


def test_a_noted_mismatch_that_resolved_itself_is_cleared(store):
    _load(store, 3)
    sweeper.audit_loads(store, AT)
    store.tickets.tickets["t9"] = {"id": "t9", "status": "open", "assignee": "ana", "version": 1}  # its put landed
    sweeper.audit_loads(store, AT + sweeper.DRIFT_SETTLE)
    agent = store.agents.get("ana")
    assert (agent.load, agent.load_drift) == (3, None)


def test_a_large_roster_is_audited_a_slice_a_run_every_agent_within_the_slices(store):
    for i in range(sweeper.AUDIT_PER_RUN + 10):
        store.agents.put(Agent(id=f"agent{i:03d}", name="x", status="online", capacity=5))
    seen = [sweeper.audit_loads(store, AT + timedelta(minutes=m))["audited"] for m in range(sweeper.AUDIT_SLICES)]
    assert max(seen) < sweeper.AUDIT_PER_RUN and sum(seen) == sweeper.AUDIT_PER_RUN + 11
