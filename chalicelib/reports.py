"""Reports for the desk: first response time, volume, sentiment over time, topics, reply rate.

Read from the inbox index (one query per status, never a table scan) over the tickets created in
the last `days`. Fine for a desk's first months; past a few hundred thousand tickets it should
read daily aggregates kept by the workers instead.
"""
from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import datetime, timedelta

from chalicelib.models import utcnow
from chalicelib.store.dynamodb import DynamoStore

STATUSES = ("open", "pending", "on_hold", "closed")


def summary(store: DynamoStore, days: int) -> dict:
    since = utcnow() - timedelta(days=days)
    tickets = [t for t in _all(store) if _time(t.created_at) >= since]
    response = defaultdict(list)
    for t in tickets:
        if t.first_response_at and t.first_inbound_at:
            response[t.channel].append((_time(t.first_response_at) - _time(t.first_inbound_at)).total_seconds())
    every = sorted(s for values in response.values() for s in values)
    by_day: dict = defaultdict(Counter)
    for t in tickets:
        by_day[t.created_at[:10]][(t.classification or {}).get("sentiment", "neutral")] += 1
    answerable = [t for t in tickets if not t.done_without_reply]
    return {
        "days": days, "tickets": len(tickets),
        "first_response_seconds": {
            "median": statistics.median(every) if every else None,
            "p90": every[min(int(len(every) * 0.9), len(every) - 1)] if every else None,
            "by_channel": {c: statistics.median(v) for c, v in sorted(response.items())}},
        "volume_by_channel": dict(sorted(Counter(t.channel for t in tickets).items())),
        "sentiment_by_day": [{"day": day, **{s: by_day[day].get(s, 0) for s in ("negative", "neutral", "positive")}}
                             for day in sorted(by_day)],
        "top_topics": [{"topic": topic, "count": n} for topic, n in
                       Counter(t.topic or "other" for t in tickets).most_common(8)],
        "reply_rate": (sum(1 for t in answerable if t.first_response_at) / len(answerable)) if answerable else None,
        "done_without_reply": sum(1 for t in tickets if t.done_without_reply),
    }


def _all(store: DynamoStore):
    for status in STATUSES:
        yield from store.tickets.inbox_all(status)


def _time(value) -> datetime:
    return datetime.fromisoformat(value) if value else datetime.min.replace(tzinfo=utcnow().tzinfo)
