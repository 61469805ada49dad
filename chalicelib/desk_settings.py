"""The desk's settings documents: their models, shipped defaults, and reading and saving them.

Settings are versioned documents (`SETTINGS#<name>`), validated here and saved only over the
version the admin edited (409 otherwise):
* `sla`: first response, next response and resolution targets per priority band, with
  per-channel overrides. The shipped defaults meet what customers expect on social: urgent
  or public-negative within 15 minutes, normal within the hour, low within a day.
* `hours`: business hours per team, with time zone and holidays.
* `routing`: when a ticket goes to the strongest agent, and when rules relax after a wait.
* `replies`: where a ticket goes after an agent's reply (stays open, Pending or closed), the
  desk's default and each brand's own; the agent's composer offers it as its send action.
* `approvals`: per brand, which public replies wait for a supervisor's approval
  (chalicelib/outbound/approvals.py); a brand's supervisors save their own brand's rules.

The admin routes write them (chalicelib/admin.py); the ingest worker, router, sweeper and
off-hours acknowledgement read them (`cached_settings`: once a minute per container). This
module sits below all of them, so none of those use cases imports another to read a setting.
"""
from __future__ import annotations

import re
import time
from typing import Iterable, Literal, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chalicelib.channels import registry as channel_registry
from chalicelib.errors import NotFound
from chalicelib.store.dynamodb import DynamoStore

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


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
            if channel_registry.find(channel) is None:
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


AfterReply = Literal["open", "pending", "closed"]


class ReplySettings(BaseModel):
    """After a reply, the ticket stays open, waits on the customer (pending) or is closed: the
    send action the composer offers first, per brand (`brands`), else the desk's `after_reply`."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(default=0, ge=0)
    after_reply: AfterReply = "open"
    brands: dict[str, AfterReply] = Field(default_factory=dict)


# -- approvals of public replies (issue 16, point 2) --------------------------------------------
class BrandApprovals(BaseModel):
    """Which of a brand's public replies wait for a supervisor: a reply is held when any one rule
    given holds. `new_agents`: replies by agents whose record has `needs_approval` (a supervisor sets
    it with PUT /api/agents/{id}; clear it when they are trusted). Automatic replies and the replies of
    supervisors and admins are never held."""

    model_config = ConfigDict(extra="forbid")

    channels: list[str] = Field(default_factory=list, max_length=20)  # replies on these channels
    agents: list[str] = Field(default_factory=list, max_length=200)  # replies by these agents
    new_agents: bool = False
    min_priority: Optional[int] = Field(default=None, ge=0, le=100)  # tickets at or above this priority
    negative_sentiment: bool = False  # tickets whose customer wrote negatively

    @field_validator("channels")
    @classmethod
    def _channels(cls, channels: list[str]) -> list[str]:
        for channel in channels:
            if channel_registry.find(channel) is None:
                raise ValueError(f"unknown channel {channel!r}")
        return sorted(set(channels))

    @field_validator("agents")
    @classmethod
    def _agents(cls, agents: list[str]) -> list[str]:
        for agent in agents:
            if not re.fullmatch(r"[A-Za-z0-9_.@-]{1,64}", agent):
                raise ValueError(f"{agent!r} is not an agent id")
        return sorted(set(agents))


class ApprovalSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(default=0, ge=0)
    brands: dict[str, BrandApprovals] = Field(default_factory=dict)


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
    "replies": ReplySettings(),
    "approvals": ApprovalSettings(),  # no brand holds replies until its supervisors say so
}
MODELS = {"sla": SlaPolicy, "hours": BusinessHours, "routing": RoutingSettings, "replies": ReplySettings,
          "approvals": ApprovalSettings}


_cache: dict[str, tuple[float, dict]] = {}
CACHE_SECONDS = 60


def cached_settings(store: DynamoStore, name: str) -> dict:
    """Settings for the workers: read at most once a minute per container."""
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


def after_reply(store: DynamoStore, brands: Optional[Iterable[str]]) -> dict:
    """The status a ticket moves to after a reply: the desk's default and that of each of `brands`
    (None: every brand, for admins) that has its own; another brand's setting is never shown."""
    document = ReplySettings.model_validate(get_settings(store, "replies"))
    seen = None if brands is None else set(brands)
    return {"default": document.after_reply,
            "brands": {b: s for b, s in sorted(document.brands.items()) if seen is None or b in seen}}


# -- one brand's default after a reply, for its supervisors (GET|PUT /api/brands/{brand}/replies) ---
class BrandReplyRequest(BaseModel):
    """`after_reply`: the brand's own default; null gives it the desk's again. `version`: the
    replies document's version the editor read (409 when it moved meanwhile)."""

    model_config = ConfigDict(extra="forbid")

    after_reply: Optional[AfterReply] = None
    version: int = Field(ge=0)


def brand_after_reply(store: DynamoStore, brand: str, principal) -> dict:
    """{"brand", "after_reply", "own", "default", "version"}: the status a ticket of `brand` moves
    to after a reply, whether the brand set it (`own`) or has the desk's. Another brand: NotFound."""
    if not principal.sees(brand):
        raise NotFound(f"brand {brand}")
    return _brand_view(ReplySettings.model_validate(get_settings(store, "replies")), brand)


def _brand_view(document: ReplySettings, brand: str) -> dict:
    return {"brand": brand, "after_reply": document.brands.get(brand, document.after_reply),
            "own": brand in document.brands, "default": document.after_reply, "version": document.version}


def put_brand_after_reply(store: DynamoStore, brand: str, request: BrandReplyRequest, principal) -> dict:
    """The brand's own default (a supervisor of the brand, or an admin), over the version read:
    only this brand's entry of the desk's replies document changes (ConcurrentUpdate: 409)."""
    if not principal.sees(brand):
        raise NotFound(f"brand {brand}")
    principal.require("supervisor")
    document = ReplySettings.model_validate(get_settings(store, "replies"))
    brands = {b: s for b, s in document.brands.items() if b != brand}
    if request.after_reply is not None:
        brands[brand] = request.after_reply
    saved = store.put_settings("replies", {**document.model_dump(mode="json"), "brands": brands,
                                           "version": request.version}, principal.agent_id)
    _cache.pop("replies", None)
    return _brand_view(ReplySettings.model_validate(saved), brand)  # as saved: no read again
