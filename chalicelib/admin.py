"""Administration: agents, teams, brand accounts, bulk actions on tickets.

The desk's settings documents (sla, hours, routing) live in chalicelib/desk_settings.py, below
the workers that read them; `get_settings` and `put_settings` are re-exported here for the
settings routes.

Brands: an admin administers every brand; a supervisor only hers (`principal.brands`). She sees,
edits and removes the agents and teams that work for one of her brands (another's are NotFound,
a 404, and absent from lists), gives them only her brands (the brands she does not have that they
work for stay as they are), and never makes or edits an admin. Accounts are listed by brand too.
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
from chalicelib.auth import Principal, forget_brands
from chalicelib.errors import ConcurrentUpdate, Invalid, NotFound
from chalicelib.store.dynamodb import DynamoStore
from chalicelib.store.ports import AccountStore, AgentStore, TeamStore

_ID = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
__all__ = ["AccountPatch", "Agent", "BulkRequest", "Team", "bulk", "delete_agent", "delete_team", "get_settings",
           "list_accounts", "list_agents", "list_teams", "patch_account", "put_agent", "put_settings", "put_team"]


class Agent(BaseModel):
    """The admin's part of an agent (PUT /api/agents/{id}); the stored agent is aggregates.agent.Agent."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1, max_length=120)
    role: Literal["agent", "supervisor", "admin"] = "agent"
    languages: list[str] = Field(default_factory=lambda: ["en"], min_length=1)
    skills: list[str] = Field(default_factory=list)
    teams: list[str] = Field(default_factory=list)
    brands: Optional[list[str]] = Field(default=None, max_length=50)  # None: as they were (a new one: the supervisor's)
    capacity: int = Field(default=8, ge=1, le=100)
    needs_approval: bool = False  # a new agent: brands whose approval rules hold new agents' replies hold hers

    @field_validator("brands")
    @classmethod
    def _brands(cls, brands: Optional[list[str]]) -> Optional[list[str]]:
        for brand in brands or []:
            if not re.fullmatch(_ID, brand):
                raise ValueError(f"{brand!r} is not a brand id")
        return None if brands is None else sorted(set(brands))

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
    brands: Optional[list[str]] = Field(default=None, max_length=50)  # None: as they were (a new one: the supervisor's)


class AccountPatch(BaseModel):
    """Connecting a discovered account, or changing how replies go out through it."""

    model_config = ConfigDict(extra="forbid")

    status: Optional[Literal["active", "paused", "discovered"]] = None
    brand: Optional[str] = Field(default=None, pattern=_ID)
    name: Optional[str] = Field(default=None, min_length=1, max_length=120)
    human_agent_tag: Optional[bool] = None
    callback_url: Optional[str] = Field(default=None, pattern=r"^https?://\S+$", max_length=500)
    team: Optional[str] = Field(default=None, pattern=_ID)


def settings_for(store: DynamoStore, name: str, principal: Principal) -> dict:
    """The desk's settings document (desk-wide: every brand's tickets follow it), for a caller who
    works for at least one brand; NotFound for one of no brand, who sees no brand's data."""
    if not (principal.every_brand or principal.brands):
        raise NotFound(f"settings {name}")
    document = get_settings(store, name)
    if name == "approvals":  # issue 16: per brand; another brand's rules are never shown
        document = {**document, "brands": {b: r for b, r in document.get("brands", {}).items() if principal.sees(b)}}
    return document


def _brands(principal: Principal, given: Optional[list[str]], current: Optional[list[str]], what: str) -> list[str]:
    """The brands an agent or team works for after the caller's edit: what she gives of her own
    brands, plus those she does not have that they worked for. NotFound for a brand not hers (as
    for another brand's anything); a supervisor must leave them one of hers."""
    current = list(current or [])
    if principal.every_brand:
        return current if given is None else list(given)
    if given is None:
        given = [b for b in current if b in principal.brands] or sorted(principal.brands)
    for brand in given:
        principal.within(brand, f"brand {brand}")
    if not given:
        raise Invalid("brands", f"give {what} at least one of your brands")
    return sorted(set(given) | {b for b in current if b not in principal.brands})


def _manageable(principal: Principal, brands: list[str], what: str) -> None:
    """NotFound unless the agent or team works for one of the caller's brands (admins: any)."""
    if not principal.sees_any(brands):
        raise NotFound(what)


def put_agent(agents: AgentStore, body: Agent, principal: Principal) -> dict:
    """Create the agent (offline, nothing held) or change their profile, keeping presence, load
    and performance; within the caller's brands (see the module docstring)."""
    current = agents.get(body.id)
    if current is not None:
        _manageable(principal, current.brands, f"agent {body.id}")
    if body.role == "admin" or (current is not None and current.role == "admin"):
        principal.require("admin")
    brands = _brands(principal, body.brands, current.brands if current else None, "the agent")
    agent = aggregate.Agent.registered(body.id, {**body.model_dump(exclude={"brands"}), "brands": brands}, current)
    saved = agents.save_profile(agent)  # the profile only: load and presence as they are now, not as read
    forget_brands(agent.id)
    return views.agent(saved.model_dump())


def delete_agent(agents: AgentStore, agent_id: str, principal: Principal) -> None:
    """Remove the agent: NotFound if none works for the caller's brands; a supervisor removes only
    someone who works for her brands alone (Forbidden otherwise, as for an admin's record)."""
    current = agents.get(agent_id)
    if current is None:
        raise NotFound(f"agent {agent_id}")
    _manageable(principal, current.brands, f"agent {agent_id}")
    if current.role == "admin" or not set(current.brands) <= set(principal.brands):
        principal.require("admin")
    if not agents.delete(agent_id):
        raise NotFound(f"agent {agent_id}")
    forget_brands(agent_id)


def list_agents(agents: AgentStore, principal: Principal) -> list[dict]:
    return [views.agent(a.model_dump()) for a in agents.all() if principal.sees_any(a.brands)]


def put_team(teams: TeamStore, body: Team, principal: Principal) -> dict:
    current = teams.get(body.id)
    if current is not None:
        _manageable(principal, current.brands, f"team {body.id}")
    brands = _brands(principal, body.brands, current.brands if current else None, "the team")
    team = team_aggregate.Team.from_item({**body.model_dump(exclude={"brands"}), "brands": brands})
    teams.put(team)
    return views.team(team.to_item())


def delete_team(teams: TeamStore, team_id: str, principal: Principal) -> None:
    current = teams.get(team_id)
    if current is None:
        raise NotFound(f"team {team_id}")
    _manageable(principal, current.brands, f"team {team_id}")
    if not set(current.brands) <= set(principal.brands):
        principal.require("admin")
    if not teams.delete(team_id):
        raise NotFound(f"team {team_id}")


def list_teams(teams: TeamStore, principal: Principal) -> list[dict]:
    return [views.team(t.to_item()) for t in teams.all() if principal.sees_any(t.brands)]


def list_accounts(accounts: AccountStore, principal: Principal) -> list[dict]:
    """The caller's brands' accounts; a discovered one, of no brand yet, is the admins' to connect."""
    return [views.account(a.to_item()) for a in accounts.all() if principal.sees(a.brand)]


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


def bulk(store: DynamoStore, request: BulkRequest, principal: Principal) -> dict:
    """Each ticket on its own, at the version read just before: one that changed meanwhile is
    reported as a conflict rather than overwritten; one not of the caller's brands is not_found,
    as a missing one; one the assignee does not work for is not_theirs."""
    assignee = store.agents.get(request.assignee) if request.assignee else None
    if request.assignee and (assignee is None or not principal.sees_any(assignee.brands)):
        raise NotFound(f"agent {request.assignee}")
    results = {}
    for ticket_id in dict.fromkeys(request.ticket_ids):
        try:
            ticket = principal.ticket(store.tickets, ticket_id)
        except NotFound:
            results[ticket_id] = "not_found"
            continue
        try:
            if request.action == "close":
                tickets.done(store, ticket_id, tickets.DoneRequest(reason=request.reason, version=ticket.version),
                             principal)
            else:
                patch = tickets.TicketPatch(version=ticket.version, assignee=request.assignee,
                                            unassign=request.action == "unassign")
                tickets.edit(store, ticket_id, patch, principal)
            results[ticket_id] = "ok"
        except ConcurrentUpdate:
            results[ticket_id] = "conflict"
        except NotFound:  # the assignee does not work for this ticket's brand
            results[ticket_id] = "not_theirs"
    return {"results": results, "ok": sum(1 for r in results.values() if r == "ok")}
