"""The in-memory AgentStore (see the package docstring)."""
from __future__ import annotations

import copy
import threading
from typing import Any, Iterable, Mapping, Optional

from chalicelib.aggregates.agent import PERFORMANCE_WEIGHT, Agent, Measure, Performance, Status
from chalicelib.aggregates.ticket import Ticket
from chalicelib.errors import AgentUnavailable, ConcurrentUpdate, NotFound, TicketChanged
from chalicelib.store import keys
from chalicelib.store.memory.items import apply
from chalicelib.store.ports import PROFILE_FIELDS, ROSTER_LIMIT


class MemoryAgentStore:
    """Agents in a dict. Assignment and release also change the ticket, so the store is given the
    tickets it shares with the rest of an in-memory desk (`{ticket id: ticket dict}`)."""

    def __init__(self, tickets: Optional[dict[str, dict]] = None, lock: Optional[threading.RLock] = None):
        self.agents: dict[str, Agent] = {}
        self.tickets: dict[str, dict] = {} if tickets is None else tickets
        self._lock = lock or threading.RLock()

    def get(self, agent_id: str) -> Optional[Agent]:
        with self._lock:
            agent = self.agents.get(agent_id)
            return None if agent is None else agent.model_copy(deep=True)

    def put(self, agent: Agent) -> None:
        with self._lock:
            self.agents[agent.id] = Agent.from_item(agent.to_item())

    def save_profile(self, agent: Agent) -> Agent:
        with self._lock:
            current = self.agents.get(agent.id)
            given = agent.to_item()
            if current is not None:
                kept = {k: v for k, v in current.to_item().items() if k not in PROFILE_FIELDS}
                given = {**kept, **{k: given[k] for k in PROFILE_FIELDS if k in given}}
            self.agents[agent.id] = Agent.from_item(given)
            return self.agents[agent.id].model_copy(deep=True)

    def delete(self, agent_id: str) -> bool:
        with self._lock:
            return self.agents.pop(agent_id, None) is not None

    def all(self, limit: int = ROSTER_LIMIT) -> list[Agent]:
        with self._lock:
            return [self.agents[k].model_copy(deep=True) for k in sorted(self.agents)[:limit]]

    def roster(self, limit: int = ROSTER_LIMIT) -> list[Agent]:
        with self._lock:
            return [Agent.from_item(self.agents[k].roster_item()) for k in sorted(self.agents)[:limit]]

    def get_many(self, agent_ids: Iterable[str]) -> list[Agent]:
        with self._lock:
            return [self.agents[i].model_copy(deep=True) for i in dict.fromkeys(agent_ids) if i in self.agents]

    def set_status(self, agent_id: str, status: Status, at_iso: str) -> None:
        with self._lock:
            agent = self.agents.get(agent_id)
            if agent is None:
                raise NotFound(f"agent {agent_id}")
            self.agents[agent_id] = agent.model_copy(update={"status": status, "status_changed_at": at_iso})

    def record_performance(self, agent_id: str, measure: Measure, value: float,
                           weight: float = PERFORMANCE_WEIGHT) -> None:
        with self._lock:
            agent = self.agents.get(agent_id)
            if agent is None:
                return
            folded = (agent.performance or Performance()).folded(measure, value, weight)
            self.agents[agent_id] = agent.model_copy(update={"performance": folded})

    def assign_within_capacity(self, ticket_id: str, expected_version: int, agent_id: str) -> None:
        with self._lock:
            ticket = self.tickets.get(ticket_id)
            if ticket is None or ticket.get("assignee") or ticket.get("version") != expected_version:
                raise TicketChanged(f"ticket {ticket_id} changed")
            agent = self.agents.get(agent_id)
            if agent is None or not agent.takes_work():
                raise AgentUnavailable(f"agent {agent_id} is full or away")
            self.agents[agent_id] = agent.model_copy(update={"load": agent.load + 1})
            for name in ("waiting_since", "GSI3PK", "GSI3SK"):  # no longer waiting, out of the re-drives
                ticket.pop(name, None)
            ticket.update(assignee=agent_id, version=expected_version + 1)

    def note_drift(self, agent_id: str, seen_load: int, held: int, at_iso: str) -> None:
        with self._lock:
            agent = self.agents.get(agent_id)
            if agent is not None and agent.load == seen_load:
                self.agents[agent_id] = agent.model_copy(update={
                    "load_drift": {"load": seen_load, "held": held, "at": at_iso}})

    def settle_load(self, agent_id: str, seen_load: int, held: int) -> bool:
        with self._lock:
            agent = self.agents.get(agent_id)
            drift = (agent.load_drift or {}) if agent is not None else {}
            if agent is None or agent.load != seen_load or drift.get("load") != seen_load or drift.get("held") != held:
                return False
            self.agents[agent_id] = agent.model_copy(update={"load": held, "load_drift": None})
            return True

    def clear_drift(self, agent_id: str) -> None:
        with self._lock:
            agent = self.agents.get(agent_id)
            if agent is not None and agent.load_drift is not None:
                self.agents[agent_id] = agent.model_copy(update={"load_drift": None})

    def reserve(self, agent_id: str) -> None:
        with self._lock:
            agent = self.agents.get(agent_id)
            if agent is None or not agent.takes_work():
                raise AgentUnavailable(f"agent {agent_id} is full or away")
            self.agents[agent_id] = agent.model_copy(update={"load": agent.load + 1})

    def unreserve(self, agent_id: str) -> None:
        with self._lock:
            agent = self.agents.get(agent_id)
            if agent is not None and agent.load > 0:
                self.agents[agent_id] = agent.model_copy(update={"load": agent.load - 1})

    def release(self, ticket_id: str, expected_version: int, agent_id: str, since_iso: str) -> None:
        with self._lock:
            ticket = self.tickets.get(ticket_id)
            agent = self.agents.get(agent_id)
            if (ticket is None or ticket.get("assignee") != agent_id or ticket.get("version") != expected_version
                    or agent is None or agent.load <= 0):
                raise TicketChanged(f"ticket {ticket_id} changed")
            self.agents[agent_id] = agent.model_copy(update={"load": agent.load - 1})
            ticket.pop("assignee")
            ticket.update(previous_assignee=agent_id, waiting_since=since_iso, version=expected_version + 1,
                          **keys.redrive_index(keys.later(since_iso, keys.REDRIVE_AFTER), ticket_id))

    def move_load(self, ticket_id: str, expected_version: int, changes: Mapping[str, Any],
                  load: Mapping[str, int]) -> Ticket:
        with self._lock:
            ticket = self.tickets.get(ticket_id)
            if ticket is None or ticket.get("version") != expected_version:
                raise ConcurrentUpdate(ticket_id)
            for agent_id, delta in load.items():
                agent = self.agents.get(agent_id)
                if agent is None or (delta < 0 and agent.load <= 0):
                    continue  # dropped, as the table's conditions drop it
                self.agents[agent_id] = agent.model_copy(update={"load": agent.load + delta})
            apply(ticket, {**changes, **keys.ticket_index_changes(ticket_id, changes)})
            ticket["version"] = expected_version + 1
            return Ticket.from_item(copy.deepcopy(ticket))
