"""Administration: agents, teams, brand accounts, bulk actions on tickets.

The desk's settings documents (sla, hours, routing) live in chalicelib/desk_settings.py, below
the workers that read them; `get_settings` and `put_settings` are re-exported here for the
settings routes.
"""
from __future__ import annotations

import re
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chalicelib.channels import registry as channel_registry
from chalicelib import netguard, tickets, views
from chalicelib.desk_settings import get_settings, put_settings
from chalicelib.aggregates import agent as aggregate
from chalicelib.aggregates import team as team_aggregate
from chalicelib.errors import ConcurrentUpdate, NotFound
from chalicelib.store.dynamodb import DynamoStore
from chalicelib.store.ports import AccountStore, AgentStore, TeamStore

_ID = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
__all__ = ["AccountPatch", "Agent", "BulkRequest", "Team", "bulk", "get_settings", "list_accounts",
           "list_agents", "list_teams", "patch_account", "put_agent", "put_settings", "put_team"]


class Agent(BaseModel):
    """The admin's part of an agent (PUT /api/agents/{id}); the stored agent is aggregates.agent.Agent."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1, max_length=120)
    role: Literal["agent", "supervisor", "admin"] = "agent"
    languages: list[str] = Field(default_factory=lambda: ["en"], min_length=1)
    skills: list[str] = Field(default_factory=list)
    teams: list[str] = Field(default_factory=list)
    capacity: int = Field(default=8, ge=1, le=100)

    @field_validator("languages")
    @classmethod
    def _languages(cls, languages: list[str]) -> list[str]:
        for code in languages:
            if not re.fullmatch(r"[a-z]{2}", code):
                raise ValueError(f"{code!r} is not a two-letter ISO 639-1 code")
        return languages


class Team(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1, max_length=120)
    languages: list[str] = Field(default_factory=list)
    skills: list[str] = Field(default_factory=list)
    brands: list[str] = Field(default_factory=list)


class AccountPatch(BaseModel):
    """Connecting a discovered account, or changing how replies go out through it."""

    model_config = ConfigDict(extra="forbid")

    status: Optional[Literal["active", "paused", "discovered"]] = None
    brand: Optional[str] = Field(default=None, pattern=_ID)
    name: Optional[str] = Field(default=None, min_length=1, max_length=120)
    human_agent_tag: Optional[bool] = None
    callback_url: Optional[str] = Field(default=None, pattern=r"^https?://\S+$", max_length=500)
    team: Optional[str] = Field(default=None, pattern=_ID)


def put_agent(agents: AgentStore, body: Agent) -> dict:
    """Create the agent (offline, nothing held) or change their profile, keeping presence, load
    and performance."""
    agent = aggregate.Agent.registered(body.id, body.model_dump(), agents.get(body.id))
    agents.put(agent)
    return views.agent(agent.model_dump())


def list_agents(agents: AgentStore) -> list[dict]:
    return [views.agent(a.model_dump()) for a in agents.all()]


def put_team(teams: TeamStore, body: Team) -> dict:
    team = team_aggregate.Team.from_item(body.model_dump())
    teams.put(team)
    return views.team(team.to_item())


def list_teams(teams: TeamStore) -> list[dict]:
    return [views.team(t.to_item()) for t in teams.all()]


def list_accounts(accounts: AccountStore) -> list[dict]:
    return [views.account(a.to_item()) for a in accounts.all()]


def patch_account(accounts: AccountStore, platform: str, account_id: str, patch: AccountPatch) -> dict:
    if channel_registry.find(platform) is None:
        raise NotFound(f"platform {platform}")
    if accounts.get(platform, account_id) is None:
        raise NotFound(f"account {platform}/{account_id}")
    changes = patch.model_dump(exclude_none=True)
    if not changes:
        raise ValueError("give at least one field to change")
    if "callback_url" in changes:  # checked again before every send: DNS may change meanwhile
        try:
            netguard.check(changes["callback_url"])
        except netguard.Refused as err:
            raise ValueError(f"callback_url: {err.reason}") from None
    return views.account(accounts.update(platform, account_id, changes).to_item())


# -- bulk actions on tickets -------------------------------------------------------------------
class BulkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticket_ids: list[str] = Field(min_length=1, max_length=100)
    action: Literal["close", "assign", "unassign"]
    assignee: Optional[str] = Field(default=None, pattern=_ID)
    reason: Literal["no_reply_needed", "spam", "duplicate", "resolved_elsewhere", "other"] = "other"

    @model_validator(mode="after")
    def _assignee(self) -> "BulkRequest":
        if (self.action == "assign") != (self.assignee is not None):
            raise ValueError("assign needs an assignee, and only assign takes one")
        return self


def bulk(store: DynamoStore, request: BulkRequest, principal) -> dict:
    """Each ticket on its own, at the version read just before: one that changed meanwhile is
    reported as a conflict rather than overwritten."""
    if request.assignee and store.agents.get(request.assignee) is None:
        raise NotFound(f"agent {request.assignee}")
    results = {}
    for ticket_id in dict.fromkeys(request.ticket_ids):
        ticket = store.tickets.get(ticket_id)
        if ticket is None:
            results[ticket_id] = "not_found"
            continue
        try:
            if request.action == "close":
                tickets.done(store, ticket_id, tickets.DoneRequest(reason=request.reason, version=ticket.version),
                             principal.agent_id)
            else:
                patch = tickets.TicketPatch(version=ticket.version, assignee=request.assignee,
                                            unassign=request.action == "unassign")
                tickets.edit(store, ticket_id, patch, principal)
            results[ticket_id] = "ok"
        except ConcurrentUpdate:
            results[ticket_id] = "conflict"
    return {"results": results, "ok": sum(1 for r in results.values() if r == "ok")}
