"""In-memory twins of the store ports, for fast use-case tests (and nothing Lambda runs).

Each honours its port's semantics as the DynamoDB implementation does, conditions and races
included: a lock stands in for DynamoDB's conditional writes and transactions, so threads racing
here lose the same way they lose against the table. `tests/contract/` runs one suite against both.
Values are copied in and out, as a table would, so a caller never holds the stored object.
"""
from __future__ import annotations

import threading
import uuid
from datetime import datetime
from typing import Any, Mapping, Optional

from chalicelib.aggregates.account import Account
from chalicelib.aggregates.agent import PERFORMANCE_WEIGHT, Agent, Measure, Performance, Status
from chalicelib.aggregates.customer import Customer, CustomerHistory, Identity, check_changes, refreshed_fields
from chalicelib.aggregates.team import Team
from chalicelib.errors import AgentUnavailable, ConcurrentUpdate, NotFound, TicketChanged
from chalicelib.store.ports import ROSTER_LIMIT


class MemoryAgentStore:
    """Agents in a dict. Assignment and release also change the ticket, so the store is given the
    tickets it shares with the rest of an in-memory desk (`{ticket id: ticket dict}`)."""

    def __init__(self, tickets: Optional[dict[str, dict]] = None):
        self.agents: dict[str, Agent] = {}
        self.tickets: dict[str, dict] = {} if tickets is None else tickets
        self._lock = threading.Lock()

    def get(self, agent_id: str) -> Optional[Agent]:
        with self._lock:
            agent = self.agents.get(agent_id)
            return None if agent is None else agent.model_copy(deep=True)

    def put(self, agent: Agent) -> None:
        with self._lock:
            self.agents[agent.id] = Agent.from_item(agent.to_item())

    def delete(self, agent_id: str) -> bool:
        with self._lock:
            return self.agents.pop(agent_id, None) is not None

    def all(self, limit: int = ROSTER_LIMIT) -> list[Agent]:
        with self._lock:
            return [self.agents[k].model_copy(deep=True) for k in sorted(self.agents)[:limit]]

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
            ticket.pop("waiting_since", None)
            ticket.update(assignee=agent_id, version=expected_version + 1)

    def release(self, ticket_id: str, expected_version: int, agent_id: str, since_iso: str) -> None:
        with self._lock:
            ticket = self.tickets.get(ticket_id)
            agent = self.agents.get(agent_id)
            if (ticket is None or ticket.get("assignee") != agent_id or ticket.get("version") != expected_version
                    or agent is None or agent.load <= 0):
                raise TicketChanged(f"ticket {ticket_id} changed")
            self.agents[agent_id] = agent.model_copy(update={"load": agent.load - 1})
            ticket.pop("assignee")
            ticket.update(previous_assignee=agent_id, waiting_since=since_iso, version=expected_version + 1)


class MemoryAccountStore:
    """Accounts in a dict keyed by (platform, account id)."""

    def __init__(self):
        self.accounts: dict[tuple[str, str], Account] = {}
        self._lock = threading.Lock()

    def get(self, platform: str, account_id: str) -> Optional[Account]:
        with self._lock:
            account = self.accounts.get((platform, account_id))
            return None if account is None else account.model_copy(deep=True)

    def put(self, account: Account) -> None:
        with self._lock:
            self.accounts[(account.platform, account.account_id)] = Account.from_item(account.to_item())

    def all(self, platform: Optional[str] = None) -> list[Account]:
        with self._lock:  # the table's order: by sort key, "<platform>#<id>"
            chosen = [k for k in self.accounts if platform is None or k[0] == platform]
            return [self.accounts[k].model_copy(deep=True) for k in sorted(chosen, key=lambda k: f"{k[0]}#{k[1]}")]

    def discover(self, platform: str, account_id: str, at: datetime) -> bool:
        with self._lock:
            if (platform, account_id) in self.accounts:
                return False
            self.accounts[(platform, account_id)] = Account.discovered(platform, account_id, at)
            return True

    def update(self, platform: str, account_id: str, changes: Mapping[str, Any]) -> Account:
        with self._lock:
            account = self.accounts.get((platform, account_id))
            if account is None:
                Account(platform=platform, account_id=account_id).patched(changes)  # the same refusal first
                raise NotFound(f"account {platform}/{account_id}")
            self.accounts[(platform, account_id)] = account.patched(changes)
            return self.accounts[(platform, account_id)].model_copy(deep=True)


class MemoryTeamStore:
    """Teams in a dict keyed by id."""

    def __init__(self):
        self.teams: dict[str, Team] = {}
        self._lock = threading.Lock()

    def get(self, team_id: str) -> Optional[Team]:
        with self._lock:
            team = self.teams.get(team_id)
            return None if team is None else team.model_copy(deep=True)

    def put(self, team: Team) -> None:
        with self._lock:
            self.teams[team.id] = Team.from_item(team.to_item())

    def delete(self, team_id: str) -> bool:
        with self._lock:
            return self.teams.pop(team_id, None) is not None

    def all(self) -> list[Team]:
        with self._lock:
            return [self.teams[k].model_copy(deep=True) for k in sorted(self.teams)]


class MemoryCustomerStore:
    """Profiles by customer id; identity pointers and each customer's identities by (platform,
    user id). Touchpoints are written by the ingest and outbound paths, still DynamoStore's, so a
    test that needs them puts them in `touchpoints` itself (`{customer id: [stored dict]}`)."""

    def __init__(self):
        self.customers: dict[str, Customer] = {}
        self.pointers: dict[tuple[str, str], Identity] = {}
        self.identities: dict[str, dict[tuple[str, str], Identity]] = {}
        self.touchpoints: dict[str, list[dict]] = {}
        self._lock = threading.Lock()

    def link(self, platform: str, author: Mapping[str, Any], now: datetime) -> str:
        with self._lock:
            name = (platform, author["id"])
            found = self.pointers.get(name)
            if found:
                mine = self.identities.get(found.customer_id, {}).get(name)
                if mine is not None:
                    self.identities[found.customer_id][name] = mine.model_copy(update=refreshed_fields(author))
                return found.customer_id
            customer_id = str(uuid.uuid4())
            identity = Identity.of_author(platform, author, customer_id)
            self.pointers[name] = identity
            self.customers[customer_id] = Customer.first_seen(customer_id, author, now)
            self.identities.setdefault(customer_id, {})[name] = identity.model_copy(update={"linked_at": now.isoformat()})
            return customer_id

    def customer_of(self, platform: str, user_id: str) -> Optional[str]:
        with self._lock:
            found = self.pointers.get((platform, user_id))
            return None if found is None else found.customer_id

    def get(self, customer_id: str) -> Optional[Customer]:
        with self._lock:
            found = self.customers.get(customer_id)
            return None if found is None else found.model_copy(deep=True)

    def history(self, customer_id: str) -> CustomerHistory:
        with self._lock:
            found = self.customers.get(customer_id)
            if found is None:
                raise NotFound(customer_id)
            mine = self.identities.get(customer_id, {})
            # the table's order: by sort key, "IDENTITY#<platform>#<user id>", "TOUCH#<iso>#<id>"
            return CustomerHistory(
                customer=found, identities=[mine[k] for k in sorted(mine, key=lambda k: f"{k[0]}#{k[1]}")],
                touchpoints=sorted(self.touchpoints.get(customer_id, []), key=lambda t: t["SK"])
            ).model_copy(deep=True)

    def update(self, customer_id: str, expected_version: int, changes: Mapping[str, Any]) -> None:
        check_changes(changes)
        with self._lock:
            found = self.customers.get(customer_id)
            if found is None or found.current_version != expected_version:
                raise ConcurrentUpdate(customer_id)
            self.customers[customer_id] = found.changed(changes)
