"""Ticket priority, 0..100, from a mention's classification and its author's reach.

Imports the standard library, pydantic and `chalicelib.classify` only.

The score is a sum of named factors, each recorded in `Priority.factors` with its points, so
an agent (and a test) can see why a ticket sits where it does; the factors always add up to
`score`. Default weights, in DEFAULT_WEIGHTS:

| rule                | points                                                             |
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
| repeat_contacts     | +4 per earlier contact from the same customer, at most +12         |
| clamp               | whatever brings the total back into 0..100                         |

Rules worth zero points are not listed (except base). Pass `weights=` to override any entry.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

from pydantic import BaseModel, Field

from . import Classification

DEFAULT_WEIGHTS: dict[str, Any] = {
    "base": 10,
    "actionable": 20,
    "negative_sentiment": 20,  # multiplied by |sentiment_score|
    "urgency": {"safety": 35, "outage": 20, "legal": 20, "churn": 12, "urgent": 10,
                "repeated_contact": 8},
    "topic": {"billing": 8, "refund": 6, "account": 6, "service_complaint": 6, "technical": 5,
              "order": 4, "delivery": 4, "product_question": 2, "other": 0, "praise": -5},
    "reach": ((1_000_000, 20), (100_000, 15), (10_000, 10), (1_000, 4)),  # (followers ≥, points)
    "verified": 5,
    "public_complaint": 10,
    "repeat_contact": 4,       # per earlier contact
    "repeat_contact_max": 12,
}

MIN_SCORE, MAX_SCORE = 0, 100


class PriorityFactor(BaseModel):
    rule: str
    points: int
    detail: str


class Priority(BaseModel):
    score: int = Field(ge=MIN_SCORE, le=MAX_SCORE)  # 0..100, clamped
    factors: list[PriorityFactor]


def prioritise(c: Classification, *, followers: Optional[int], verified: Optional[bool],
               public: bool, repeat_contacts: int = 0,
               weights: Optional[Mapping[str, Any]] = None) -> Priority:
    """Score a classified mention; `followers`/`verified` are None when the platform has none."""
    w = dict(DEFAULT_WEIGHTS)
    if weights:
        w.update(weights)
    factors: list[PriorityFactor] = [PriorityFactor(rule="base", points=int(w["base"]),
                                                    detail="every mention")]

    def add(rule: str, points: float, detail: str) -> None:
        p = int(round(points))
        if p:
            factors.append(PriorityFactor(rule=rule, points=p, detail=detail))

    if c.actionable:
        add("actionable", w["actionable"], f"needs a reply (confidence {c.actionable_confidence:.2f})")
    if c.sentiment == "negative":
        add("negative_sentiment", w["negative_sentiment"] * abs(c.sentiment_score),
            f"sentiment {c.sentiment_score:+.2f} × {w['negative_sentiment']}")
    for flag in c.urgency:
        add(f"urgency:{flag}", w["urgency"].get(flag, 0), f"urgency flag {flag}")
    add(f"topic:{c.topic}", w["topic"].get(c.topic, 0), f"topic {c.topic}")
    if followers is not None:
        for threshold, points in w["reach"]:
            if followers >= threshold:
                add("reach", points, f"{followers} followers ≥ {threshold}")
                break
    if verified:
        add("verified", w["verified"], "platform-verified author")
    if public and c.sentiment == "negative":
        add("public_complaint", w["public_complaint"], "negative and visible to everyone")
    if repeat_contacts > 0:
        add("repeat_contacts", min(w["repeat_contact"] * repeat_contacts, w["repeat_contact_max"]),
            f"{repeat_contacts} earlier contact(s) × {w['repeat_contact']}, max {w['repeat_contact_max']}")

    total = sum(f.points for f in factors)
    score = max(MIN_SCORE, min(MAX_SCORE, total))
    if score != total:
        factors.append(PriorityFactor(rule="clamp", points=score - total,
                                      detail=f"total {total} clamped to {MIN_SCORE}..{MAX_SCORE}"))
    return Priority(score=score, factors=factors)


__all__ = ["DEFAULT_WEIGHTS", "Priority", "PriorityFactor", "prioritise"]
