"""The Agent aggregate: who works the inbox, their presence, how much they hold, what they can take
and how well they have done.

An agent is built in one place: `Agent.registered` (an admin's edit over what the desk already
knows of them) or `Agent.from_item` (read back from the store). The stored item is `to_item()`
plus the keys of store/keys.py, the same shape the desk has always stored, so existing items read
as they are. Imports pydantic only.
"""
from __future__ import annotations

from typing import Any, Literal, Mapping, Optional

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["online", "away", "offline"]
Role = Literal["agent", "supervisor", "admin"]
Measure = Literal["first_response_seconds", "resolution_seconds", "csat"]
PERFORMANCE_WEIGHT = 0.2  # each new observation moves a rolling average a fifth of the way
ROSTER_FIELDS = ("id", "name", "role", "status", "status_changed_at", "capacity", "languages", "skills", "teams",
                 "brands")  # what the roster holds of an agent (`Agent.roster_item`)


class Performance(BaseModel):
    """Rolling (exponentially weighted) averages of the agent's work, and how many went into each."""

    model_config = ConfigDict(extra="ignore")

    first_response_seconds: Optional[float] = None
    resolution_seconds: Optional[float] = None
    csat: Optional[float] = None
    counts: dict[str, int] = Field(default_factory=dict)

    def folded(self, measure: Measure, value: float, weight: float = PERFORMANCE_WEIGHT) -> "Performance":
        """These averages with one more observation of `measure` folded in."""
        old = getattr(self, measure)
        new = value if old is None else round(old + weight * (value - old), 3)
        counts = {**self.counts, measure: int(self.counts.get(measure, 0)) + 1}
        return self.model_copy(update={measure: new, "counts": counts})

    def score(self) -> float:
        """0..1: quick first responses and happy customers (neutral 0.5 until there is a record)."""
        frt, csat = self.first_response_seconds, self.csat
        speed = 0.5 if frt is None else 1 / (1 + frt / 600)
        satisfaction = 0.5 if csat is None else max(min((csat - 1) / 4, 1), 0)
        return round((speed + satisfaction) / 2, 4)


class Agent(BaseModel):
    """An agent as stored. Presence (`status`, `status_changed_at`), `load` and `performance` are
    the desk's to change (presence route, router, outbound worker); the rest is the admin's."""

    model_config = ConfigDict(extra="ignore")  # the table's keys (PK, SK) are the store's business

    id: str
    name: Optional[str] = None
    role: Optional[Role] = None
    status: Status = "offline"
    status_changed_at: Optional[str] = None
    load: int = 0
    capacity: int = 0
    languages: list[str] = Field(default_factory=list)
    skills: list[str] = Field(default_factory=list)
    teams: list[str] = Field(default_factory=list)
    brands: list[str] = Field(default_factory=list)  # the brands (tenants) they work for; none: no brand's data
    needs_approval: Optional[bool] = None  # a new agent: held by the approval rules' `new_agents` (approvals.py)
    performance: Optional[Performance] = None
    load_drift: Optional[dict] = None  # the sweeper's note of a load that did not match what they hold

    @classmethod
    def registered(cls, agent_id: str, profile: Mapping[str, Any], current: Optional["Agent"]) -> "Agent":
        """An admin's edit of the profile (name, role, languages, skills, teams, brands, capacity): a new
        agent starts offline with nothing held; a known one keeps presence, load and performance."""
        kept = current.to_item() if current is not None else {}
        return cls.model_validate({**kept, **profile, "id": agent_id})

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> "Agent":
        return cls.model_validate(item)

    def to_item(self) -> dict:
        """The stored attributes (no keys); absent values are left out, as the desk always stored them
        (no brands too: a record from before brands writes back as it was read)."""
        item = self.model_dump(exclude_none=True)
        if not item["brands"]:
            del item["brands"]
        return item

    def roster_item(self) -> dict:
        """The agent's entry on the roster (store/keys.py): profile and presence only, no load and no
        performance, so it changes only when an admin edits them or their presence changes. Read back
        (`from_item`) it is an Agent with load 0 and no performance."""
        return {k: v for k, v in self.to_item().items() if k in ROSTER_FIELDS}

    @property
    def spare(self) -> int:
        return self.capacity - self.load

    def works_for(self, brand: Optional[str]) -> bool:
        """May this agent hold the brand's tickets: an admin's record works for every brand."""
        return self.role == "admin" or (brand is not None and brand in self.brands)

    def takes_work(self) -> bool:
        """Online with a free slot: what the router's conditional write checks again."""
        return self.status == "online" and self.load < self.capacity
