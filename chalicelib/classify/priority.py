"""Ticket priority, 0..100, from a brand-editable rule dictionary.

Imports the standard library, pydantic and `chalicelib.classify` only.

`PriorityRules` is the dictionary a brand edits (stored versioned in DynamoDB, validated here,
shipped defaults below); `PriorityContext` is what the desk knows about the mention's author
and situation. The score is a sum of named factors, each recorded in `Priority.factors` with
its points and why, so an agent (and a test) can see why a ticket sits where it does; the
factors always add up to `score`.

| rule                | points (shipped defaults)                                          |
| ------------------- | ------------------------------------------------------------------ |
| base                | 10, always                                                         |
| actionable          | +20 when the mention needs a reply                                 |
| negative_sentiment  | +20 × |sentiment_score| when the sentiment is negative             |
| urgency:<flag>      | safety 35, outage 20, legal 20, churn 12, urgent 10, repeated 8    |
| topic:<topic>       | billing 8, refund 6, account 6, service_complaint 6, technical 5,  |
|                     | order 4, delivery 4, product_question 2, other 0, praise −5        |
| reach               | followers ≥ 1M +20, ≥ 100k +15, ≥ 10k +10, ≥ 1k +4                 |
| verified            | +5 for a platform-verified author                                  |
| public_complaint    | +10 when a negative mention is public (others can see it)          |
| channel:<platform>  | per platform, none by default                                      |
| customer_value      | lifetime value ≥ 10k +15, ≥ 2k +10, ≥ 500 +5                       |
| recent_purchases    | +4 per purchase in the last 30 days, at most +16                   |
| vip / advocate      | +15 / +8 for customers the brand flags                             |
| waiting             | +5 per hour already waited, at most +20                            |
| repeat_contacts     | +4 per earlier contact in 72 h on any linked channel, at most +12  |
| clamp               | whatever brings the total back into 0..100                         |

Rules worth zero points are not listed (except base).
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from . import Classification

MIN_SCORE, MAX_SCORE = 0, 100
Points = int  # every weight is validated into [-100, 100]


def _check_points(value: int, name: str) -> int:
    if not -100 <= value <= 100:
        raise ValueError(f"{name}: {value} is outside -100..100")
    return value


class PriorityRules(BaseModel):
    """A brand's rule dictionary. Unknown keys are refused, so a typo is an error, not a no-op."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(default=0, ge=0)
    base: Points = 10
    actionable: Points = 20
    negative_sentiment: Points = 20  # multiplied by |sentiment_score|
    urgency: dict[str, Points] = Field(default_factory=lambda: {
        "safety": 35, "outage": 20, "legal": 20, "churn": 12, "urgent": 10, "repeated_contact": 8})
    topic: dict[str, Points] = Field(default_factory=lambda: {
        "billing": 8, "refund": 6, "account": 6, "service_complaint": 6, "technical": 5, "order": 4,
        "delivery": 4, "product_question": 2, "other": 0, "praise": -5})
    reach: list[tuple[int, Points]] = Field(default_factory=lambda: [
        (1_000_000, 20), (100_000, 15), (10_000, 10), (1_000, 4)])  # (followers ≥, points)
    verified: Points = 5
    public_complaint: Points = 10
    channel: dict[str, Points] = Field(default_factory=dict)
    customer_value: list[tuple[float, Points]] = Field(default_factory=lambda: [
        (10_000, 15), (2_000, 10), (500, 5)])  # (lifetime value ≥, points)
    recent_purchase: Points = 4
    recent_purchase_max: Points = 16
    recent_purchase_days: int = Field(default=30, gt=0, le=365)
    vip: Points = 15
    advocate: Points = 8
    waiting_per_hour: Points = 5
    waiting_max: Points = 20
    repeat_contact: Points = 4  # per earlier contact
    repeat_contact_max: Points = 12
    repeat_window_hours: int = Field(default=72, gt=0, le=24 * 30)
    taxonomy: dict[str, list[str]] = Field(default_factory=dict)  # the brand's own topics and cue phrases

    @field_validator("base", "actionable", "negative_sentiment", "verified", "public_complaint",
                     "recent_purchase", "recent_purchase_max", "vip", "advocate", "waiting_per_hour",
                     "waiting_max", "repeat_contact", "repeat_contact_max")
    @classmethod
    def _points(cls, value: int, info) -> int:
        return _check_points(value, info.field_name)

    @field_validator("urgency", "topic", "channel")
    @classmethod
    def _named_points(cls, value: dict[str, int], info) -> dict[str, int]:
        for name, points in value.items():
            _check_points(points, f"{info.field_name}.{name}")
        return value

    @field_validator("taxonomy")
    @classmethod
    def _taxonomy(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        if len(value) > 50:
            raise ValueError("taxonomy: at most 50 brand topics")
        for topic, phrases in value.items():
            if not topic.strip() or len(topic) > 64:
                raise ValueError(f"taxonomy: topic name {topic!r} must be 1..64 characters")
            if not phrases or any(not p.strip() for p in phrases):
                raise ValueError(f"taxonomy.{topic}: give at least one non-empty cue phrase")
        return value

    @field_validator("reach", "customer_value")
    @classmethod
    def _bands(cls, value: list, info) -> list:
        thresholds = [threshold for threshold, _ in value]
        if thresholds != sorted(thresholds, reverse=True) or len(set(thresholds)) != len(thresholds):
            raise ValueError(f"{info.field_name}: thresholds must be strictly descending")
        if any(threshold <= 0 for threshold in thresholds):
            raise ValueError(f"{info.field_name}: thresholds must be positive")
        for threshold, points in value:
            _check_points(points, f"{info.field_name}[{threshold}]")
        return value


DEFAULT_RULES = PriorityRules()
DEFAULT_WEIGHTS: dict[str, Any] = DEFAULT_RULES.model_dump()


class PriorityContext(BaseModel):
    """What the desk knows of the author and the situation, beyond the text."""

    followers: Optional[int] = None
    verified: Optional[bool] = None
    public: bool = False
    channel: Optional[str] = None
    lifetime_value: float = 0
    recent_purchases: int = 0  # within the rules' recent_purchase_days
    vip: bool = False
    advocate: bool = False
    waiting_minutes: float = 0
    repeat_contacts: int = 0  # earlier contacts within the rules' window, on any linked channel


class PriorityFactor(BaseModel):
    rule: str
    points: int
    detail: str


class Priority(BaseModel):
    score: int = Field(ge=MIN_SCORE, le=MAX_SCORE)  # 0..100, clamped
    factors: list[PriorityFactor]
    rules_version: int = 0


def prioritise(c: Classification, *, followers: Optional[int] = None, verified: Optional[bool] = None,
               public: bool = False, repeat_contacts: int = 0,
               weights: Optional[Mapping[str, Any]] = None, context: Optional[PriorityContext] = None,
               rules: Optional[PriorityRules] = None) -> Priority:
    """Score a classified mention.

    Either pass `context` (the full picture) or the reach keywords (`followers`, `verified`,
    `public`, `repeat_contacts`); `rules` is the brand's dictionary, `weights` a partial
    override of it (validated like the whole).
    """
    r = rules or DEFAULT_RULES
    if weights:
        r = PriorityRules.model_validate({**r.model_dump(), **weights})
    ctx = context or PriorityContext(followers=followers, verified=verified, public=public,
                                     repeat_contacts=repeat_contacts)
    factors: list[PriorityFactor] = [PriorityFactor(rule="base", points=r.base, detail="every mention")]

    def add(rule: str, points: float, detail: str) -> None:
        p = int(round(points))
        if p:
            factors.append(PriorityFactor(rule=rule, points=p, detail=detail))

    if c.actionable:
        add("actionable", r.actionable, f"needs a reply (confidence {c.actionable_confidence:.2f})")
    if c.sentiment == "negative":
        add("negative_sentiment", r.negative_sentiment * abs(c.sentiment_score),
            f"sentiment {c.sentiment_score:+.2f} × {r.negative_sentiment}")
    for flag in c.urgency:
        add(f"urgency:{flag}", r.urgency.get(flag, 0), f"urgency flag {flag}")
    add(f"topic:{c.topic}", r.topic.get(c.topic, 0), f"topic {c.topic}")
    _band(add, "reach", r.reach, ctx.followers, "followers")
    if ctx.verified:
        add("verified", r.verified, "platform-verified author")
    if ctx.public and c.sentiment == "negative":
        add("public_complaint", r.public_complaint, "negative and visible to everyone")
    if ctx.channel:
        add(f"channel:{ctx.channel}", r.channel.get(ctx.channel, 0), f"channel {ctx.channel}")
    _band(add, "customer_value", r.customer_value, ctx.lifetime_value or None, "lifetime value")
    if ctx.recent_purchases > 0:
        add("recent_purchases", min(r.recent_purchase * ctx.recent_purchases, r.recent_purchase_max),
            f"{ctx.recent_purchases} purchase(s) in {r.recent_purchase_days} days × {r.recent_purchase}, "
            f"max {r.recent_purchase_max}")
    if ctx.vip:
        add("vip", r.vip, "VIP customer")
    if ctx.advocate:
        add("advocate", r.advocate, "brand advocate")
    if ctx.waiting_minutes >= 60:
        hours = int(ctx.waiting_minutes // 60)
        add("waiting", min(r.waiting_per_hour * hours, r.waiting_max),
            f"waited {hours} h × {r.waiting_per_hour}, max {r.waiting_max}")
    if ctx.repeat_contacts > 0:
        add("repeat_contacts", min(r.repeat_contact * ctx.repeat_contacts, r.repeat_contact_max),
            f"{ctx.repeat_contacts} earlier contact(s) in {r.repeat_window_hours} h × {r.repeat_contact}, "
            f"max {r.repeat_contact_max}")

    total = sum(f.points for f in factors)
    score = max(MIN_SCORE, min(MAX_SCORE, total))
    if score != total:
        factors.append(PriorityFactor(rule="clamp", points=score - total,
                                      detail=f"total {total} clamped to {MIN_SCORE}..{MAX_SCORE}"))
    return Priority(score=score, factors=factors, rules_version=r.version)


def _band(add, rule: str, bands, value, what: str) -> None:
    if value is None:
        return
    for threshold, points in bands:
        if value >= threshold:
            add(rule, points, f"{value:g} {what} ≥ {threshold:g}")
            return


__all__ = ["DEFAULT_RULES", "DEFAULT_WEIGHTS", "Priority", "PriorityContext", "PriorityFactor",
           "PriorityRules", "prioritise"]
