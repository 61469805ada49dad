"""Administration: agents, teams, brand accounts, and the desk's settings documents.

Settings are versioned documents (`SETTINGS#<name>`), validated here and saved only over the
version the admin edited (409 otherwise):
* `sla`: first response, next response and resolution targets per priority band, with
  per-channel overrides. The shipped defaults meet what customers expect on social: urgent
  or public-negative within 15 minutes, normal within the hour, low within a day.
* `hours`: business hours per team, with time zone and holidays.
* `routing`: when a ticket goes to the strongest agent, and when rules relax after a wait.
"""
from __future__ import annotations

import re
from typing import Literal, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chalicelib import views
from chalicelib.errors import NotFound
from chalicelib.store.dynamodb import DynamoStore

CHANNELS = ("x", "facebook", "instagram", "whatsapp", "email", "api")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ID = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


class Agent(BaseModel):
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


class Targets(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first_response_minutes: int = Field(ge=1, le=60 * 24 * 14)
    next_response_minutes: int = Field(ge=1, le=60 * 24 * 14)
    resolution_minutes: int = Field(ge=1, le=60 * 24 * 60)


class Band(Targets):
    name: str = Field(pattern=r"^[a-z_]{1,20}$")
    min_priority: int = Field(ge=0, le=100)


class SlaPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(default=0, ge=0)
    bands: list[Band] = Field(min_length=1)
    public_negative_band: str = "urgent"  # a public, negative mention is answered as fast as this band
    channel_overrides: dict[str, dict[str, Targets]] = Field(default_factory=dict)  # channel -> band -> targets

    @model_validator(mode="after")
    def _consistent(self) -> "SlaPolicy":
        floors = [b.min_priority for b in self.bands]
        if floors != sorted(floors, reverse=True) or len(set(floors)) != len(floors) or floors[-1] != 0:
            raise ValueError("bands: min_priority must fall strictly, highest first, and the last band start at 0")
        names = {b.name for b in self.bands}
        if self.public_negative_band not in names:
            raise ValueError(f"public_negative_band {self.public_negative_band!r} is not a band")
        for channel, bands in self.channel_overrides.items():
            if channel not in CHANNELS:
                raise ValueError(f"channel_overrides: unknown channel {channel!r}")
            if set(bands) - names:
                raise ValueError(f"channel_overrides.{channel}: unknown band {sorted(set(bands) - names)[0]!r}")
        return self


class TeamHours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timezone: str
    days: dict[str, list[tuple[str, str]]]  # "mon": [["09:00", "17:00"]]
    holidays: list[str] = Field(default_factory=list)  # "2026-12-24"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {zone!r} (use an IANA name such as Europe/Helsinki)") from None
        return zone

    @field_validator("days")
    @classmethod
    def _days(cls, days: dict) -> dict:
        for day, spans in days.items():
            if day not in DAYS:
                raise ValueError(f"unknown day {day!r}; use {', '.join(DAYS)}")
            for start, end in spans:
                if not (re.fullmatch(r"\d\d:\d\d", start) and re.fullmatch(r"\d\d:\d\d", end) and start < end <= "24:00"):
                    raise ValueError(f"{day}: {start}-{end} is not a span of HH:MM times within a day")
        return days

    @field_validator("holidays")
    @classmethod
    def _holidays(cls, holidays: list[str]) -> list[str]:
        for day in holidays:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
                raise ValueError(f"holiday {day!r} is not YYYY-MM-DD")
        return holidays


class BusinessHours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(default=0, ge=0)
    teams: dict[str, TeamHours] = Field(default_factory=dict)  # team id ("default" for the rest)


class RoutingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(default=0, ge=0)
    strongest_agent_priority: int = Field(default=80, ge=0, le=100)
    strongly_negative_score: float = Field(default=-0.6, ge=-1, le=0)
    sticky: bool = True
    relax_language_after_minutes: Optional[int] = Field(default=10, ge=1)
    relax_skill_after_minutes: Optional[int] = Field(default=20, ge=1)


WEEKDAYS_9_TO_17 = {d: [("09:00", "17:00")] for d in DAYS[:5]}
DEFAULTS = {
    "sla": SlaPolicy(bands=[
        Band(name="urgent", min_priority=80, first_response_minutes=15, next_response_minutes=30, resolution_minutes=240),
        Band(name="high", min_priority=60, first_response_minutes=30, next_response_minutes=60, resolution_minutes=480),
        Band(name="normal", min_priority=30, first_response_minutes=60, next_response_minutes=120,
             resolution_minutes=1440),
        Band(name="low", min_priority=0, first_response_minutes=1440, next_response_minutes=1440,
             resolution_minutes=4320)]),
    "hours": BusinessHours(),  # no hours set: every team is there around the clock
    "routing": RoutingSettings(),
}
MODELS = {"sla": SlaPolicy, "hours": BusinessHours, "routing": RoutingSettings}


_cache: dict[str, tuple[float, dict]] = {}
CACHE_SECONDS = 60


def cached_settings(store: DynamoStore, name: str) -> dict:
    """Settings for the workers: read at most once a minute per container."""
    import time

    hit = _cache.get(name)
    if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    value = get_settings(store, name)
    _cache[name] = (time.monotonic(), value)
    return value


def get_settings(store: DynamoStore, name: str) -> dict:
    if name not in MODELS:
        raise NotFound(f"settings {name}")
    stored = store.get_settings(name)
    return stored if stored is not None else DEFAULTS[name].model_dump(mode="json")


def put_settings(store: DynamoStore, name: str, body: dict, agent_id: str) -> dict:
    if name not in MODELS:
        raise NotFound(f"settings {name}")
    document = MODELS[name].model_validate(body).model_dump(mode="json")
    return store.put_settings(name, document, agent_id)


def put_agent(store: DynamoStore, agent: Agent) -> dict:
    current = store.get_agent(agent.id) or {"status": "offline", "load": 0}
    item = {**current, **agent.model_dump()}
    store.put_agent({k: v for k, v in item.items() if k not in ("PK", "SK")})
    return views.agent(item)


def put_team(store: DynamoStore, team: Team) -> dict:
    store.put_team(team.model_dump())
    return views.team(team.model_dump())


def patch_account(store: DynamoStore, platform: str, account_id: str, patch: AccountPatch) -> dict:
    if platform not in CHANNELS:
        raise NotFound(f"platform {platform}")
    if store.get_account(platform, account_id) is None:
        raise NotFound(f"account {platform}/{account_id}")
    changes = patch.model_dump(exclude_none=True)
    if not changes:
        raise ValueError("give at least one field to change")
    if "callback_url" in changes:  # checked again before every send: DNS may change meanwhile
        from chalicelib import netguard

        try:
            netguard.check(changes["callback_url"])
        except netguard.Refused as err:
            raise ValueError(f"callback_url: {err.reason}") from None
    store.update_account(platform, account_id, changes)
    return views.account(store.get_account(platform, account_id))


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
    from chalicelib import tickets
    from chalicelib.errors import ConcurrentUpdate

    if request.assignee and store.get_agent(request.assignee) is None:
        raise NotFound(f"agent {request.assignee}")
    results = {}
    for ticket_id in dict.fromkeys(request.ticket_ids):
        ticket = store.get_ticket(ticket_id)
        if ticket is None:
            results[ticket_id] = "not_found"
            continue
        try:
            if request.action == "close":
                tickets.done(store, ticket_id, tickets.DoneRequest(reason=request.reason, version=ticket["version"]),
                             principal.agent_id)
            else:
                patch = tickets.TicketPatch(version=ticket["version"], assignee=request.assignee,
                                            unassign=request.action == "unassign")
                tickets.edit(store, ticket_id, patch, principal)
            results[ticket_id] = "ok"
        except ConcurrentUpdate:
            results[ticket_id] = "conflict"
    return {"results": results, "ok": sum(1 for r in results.values() if r == "ok")}
