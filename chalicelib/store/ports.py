"""The store's ports: one small interface per aggregate, which use cases depend on.

Each has a DynamoDB implementation, given its table (`store/agents.py`, ...), and an in-memory
twin with the same semantics (`store/memory.py`); `tests/contract/` runs one suite against both.
Aggregates not yet behind a port still go through `store/dynamodb.py`'s DynamoStore (see
docs/ARCHITECTURE.md, "Store ports"). Imports the aggregates only.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping, Optional, Protocol

from chalicelib.aggregates.account import Account
from chalicelib.aggregates.agent import PERFORMANCE_WEIGHT, Agent, Measure, Status
from chalicelib.aggregates.customer import Customer, CustomerHistory
from chalicelib.aggregates.team import Team

ROSTER_LIMIT = 1000  # agents read at most by one listing (the router reads them all)


class AgentStore(Protocol):
    def get(self, agent_id: str) -> Optional[Agent]: ...

    def put(self, agent: Agent) -> None:
        """Create or replace the agent (presence, load and performance as given)."""

    def delete(self, agent_id: str) -> bool:
        """True if there was such an agent."""

    def all(self, limit: int = ROSTER_LIMIT) -> list[Agent]:
        """Every agent (at most `limit`), in id order."""

    def set_status(self, agent_id: str, status: Status, at_iso: str) -> None:
        """Presence and when it changed; NotFound for an agent that does not exist."""

    def record_performance(self, agent_id: str, measure: Measure, value: float,
                           weight: float = PERFORMANCE_WEIGHT) -> None:
        """Fold one observation into the rolling average, conditional on the averages read, so
        concurrent workers never lose one another's update. Nothing for an unknown agent."""

    def assign_within_capacity(self, ticket_id: str, expected_version: int, agent_id: str) -> None:
        """Give the ticket to the agent at once: their load goes up only while they are online and
        below capacity (else AgentUnavailable), the ticket takes them only if it has no assignee
        at `expected_version` (else TicketChanged, which wins when both fail). The ticket's
        version goes up and `waiting_since` goes."""

    def release(self, ticket_id: str, expected_version: int, agent_id: str, since_iso: str) -> None:
        """Take the ticket back from the agent at once: it must be theirs at `expected_version`
        and their load above zero (else TicketChanged); it keeps `previous_assignee` and waits
        from `since_iso`."""


class AccountStore(Protocol):
    def get(self, platform: str, account_id: str) -> Optional[Account]: ...

    def put(self, account: Account) -> None:
        """Create or replace the account (the local stack's seeding, tests)."""

    def all(self, platform: Optional[str] = None) -> list[Account]:
        """The accounts of one platform, or of every platform, in (platform, id) order."""

    def discover(self, platform: str, account_id: str, at: datetime) -> bool:
        """Record an account on first sight (`Account.discovered`), only if there is none yet: True
        if this call made it, False (and nothing changed) if it was known, however it got there;
        of racing workers exactly one is told True."""

    def update(self, platform: str, account_id: str, changes: Mapping[str, Any]) -> Account:
        """Set the attributes in `changes` (a None removes one), leaving the others as they are;
        the account as it now is. NotFound for an account that does not exist (nothing written);
        ValueError for the account's identity or an attribute it cannot have."""


class TeamStore(Protocol):
    def get(self, team_id: str) -> Optional[Team]: ...

    def put(self, team: Team) -> None:
        """Create or replace the team."""

    def delete(self, team_id: str) -> bool:
        """True if there was such a team."""

    def all(self) -> list[Team]:
        """Every team, in id order."""


class CustomerStore(Protocol):
    """Customer profiles and their platform identities (touchpoints, events, merges and erasure
    are still DynamoStore's)."""

    def link(self, platform: str, author: Mapping[str, Any], now: datetime) -> str:
        """The customer of the author's platform identity, made on first sight (profile, identity
        pointer and the identity in its partition at once, only if there is no pointer yet: of
        racing workers linking the same identity all are told the one customer). A known identity
        has its names and reach refreshed from what the author carries."""

    def customer_of(self, platform: str, user_id: str) -> Optional[str]:
        """The customer id an identity points at, if any."""

    def get(self, customer_id: str) -> Optional[Customer]:
        """The profile alone."""

    def history(self, customer_id: str) -> CustomerHistory:
        """The profile with its identities and touchpoints; NotFound for no profile."""

    def update(self, customer_id: str, expected_version: int, changes: Mapping[str, Any]) -> None:
        """Set what `changes` names (a None removes) and the version one up, only at
        `expected_version` (a profile never edited is at 0): ConcurrentUpdate otherwise, or for no
        profile. ValueError for the identity, the version or an attribute a profile cannot have."""
