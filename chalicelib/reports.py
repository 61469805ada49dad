"""Reports for the desk: first response time, volume, sentiment over time, topics, reply rate; queue
counts; the tickets behind a figure as CSV.

Read from the aggregates the table's stream keeps (chalicelib/counters.py), never the tickets: a
report over N days reads the N×24 + 1 hour items of each of the caller's brands (BatchGetItem, 100
keys a call), queue counts one gauge item per brand. An admin's brands are the inbox's: every brand
that ever had a ticket (search.brands_of). "The last N days" is counted in whole hours (the
hour N days ago included). First response times come from buckets: median and p90 are the bucket
bounds the ranks fall in (counters.FRT_BOUNDS), not the exact seconds. A report looks back at most
MAX_DAYS; the hour items live counters.RETENTION_DAYS (400) after their hour, then the table's TTL
removes them.

Every figure is of the tickets *created* in the report's hours (counters.py: a ticket's counts are
all in its creation hour): `reply_rate` is the share of those tickets, done-without-reply ones
aside, that have a first response by now, whenever it came; the first response times are theirs;
`done_without_reply` counts those of them closed without a reply. A reply at 14:05 to a ticket
created yesterday at 13:50 counts in yesterday's 13:00 hour, so a past period's figures still move
as its tickets are answered or reopened, and match the CSV export of the same period row for row.

The CSV export reads the tickets behind a figure (created in the report's hours, of one channel,
sentiment, topic, team, status, or breached) a bounded page at a time, through the search index's
hour partitions (chalicelib/search.py): `limit` rows, a cursor for the next page.
"""
from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from chalicelib import counters, search
from chalicelib.errors import Invalid
from chalicelib.models import utcnow

MAX_DAYS = 90  # the furthest a report or an export looks back (SummaryQuery, ExportQuery)
STATUSES = ("open", "pending", "on_hold", "closed")
CSV_FIELDS = ("id", "brand", "channel", "status", "priority", "assignee", "team", "language", "topic",
              "created_at", "first_inbound_at", "first_response_at", "closed_at", "sla_breached_for",
              "done_without_reply")


brands_of = search.brands_of


def hours(days: int, now=None) -> list[str]:
    now = now or utcnow()
    return [counters.hour_of((now - timedelta(hours=h)).isoformat()) for h in range(days * 24, -1, -1)]


def period(days: int, now=None) -> dict:
    """The hours a report over `days` reads: {"days", "hours", "from", "to"} (`from` the start of
    its first hour, `to` the end of its last, the current one; UTC, ISO)."""
    span = hours(days, now)
    start = datetime.fromisoformat(span[0] + ":00:00+00:00")
    end = datetime.fromisoformat(span[-1] + ":00:00+00:00") + timedelta(hours=1)
    return {"days": days, "hours": len(span), "from": start.isoformat(), "to": end.isoformat()}


def buckets(days: int, now=None) -> tuple[str, list[str]]:
    """How a report's series over time is cut: by hour for up to two days (`yyyy-mm-ddThh`), else
    by day (`yyyy-mm-dd`); every bucket of the period, empty ones included, oldest first."""
    if days <= 2:
        return "hour", hours(days, now)
    return "day", sorted({h[:10] for h in hours(days, now)})


def _numbers(item: dict) -> dict:
    return {k: v for k, v in item.items() if isinstance(v, int) and not isinstance(v, bool)}


def _hour(item: dict) -> str:
    return item["PK"].rsplit("#", 1)[1]


def summary(store: Any, days: int, brands: Optional[list[str]] = None, stats: Optional[dict] = None,
            now=None) -> dict:
    now = now or utcnow()
    items = counters.read_hours(store.table, brands_of(store, brands), hours(days, now), stats)
    unit, cuts = buckets(days, now)
    width = 13 if unit == "hour" else 10
    total: Counter = Counter()
    by_day: dict = defaultdict(Counter)
    over_time: dict = {cut: Counter() for cut in cuts}
    for item in items:
        for name, n in _numbers(item).items():
            total[name] += n
            if name.startswith("sentiment:"):
                by_day[_hour(item)[:10]][name.split(":", 1)[1]] += n
                over_time.setdefault(_hour(item)[:width], Counter())[name.split(":", 1)[1]] += n
    frt: dict = defaultdict(Counter)
    for name, n in total.items():
        if name.startswith("frt:") and n:
            _, channel, bound = name.split(":")
            frt[channel][int(bound)] += n
    every: Counter = sum(frt.values(), Counter())
    answerable = total["answerable"]
    return {
        "days": days, "tickets": total["tickets"],
        "first_response_seconds": {
            "median": counters.median(every), "p90": counters.p90(every),
            "by_channel": {c: counters.median(b) for c, b in sorted(frt.items())}},
        "volume_by_channel": {name[3:]: n for name, n in sorted(total.items()) if name.startswith("ch:") and n},
        "sentiment_by_day": [{"day": day, **{s: by_day[day].get(s, 0) for s in ("negative", "neutral", "positive")}}
                             for day in sorted(by_day) if sum(by_day[day].values())],
        "top_topics": [{"topic": name[6:], "count": n} for name, n in sorted(
            ((k, v) for k, v in total.items() if k.startswith("topic:") and v), key=lambda kv: (-kv[1], kv[0]))[:8]],
        "reply_rate": (total["replied"] / answerable) if answerable else None,
        "done_without_reply": total["done"],
        # issue 16: held replies decided, rejected, and their wait for a supervisor (apart from first response)
        "approvals": {"decided": total["approval:n"], "rejected": total["approval:rejected"],
                      "mean_wait_seconds": (total["approval:wait_s"] / total["approval:n"]) if total["approval:n"]
                      else None},
        "period": period(days, now),
        "sentiment_over_time": {"unit": unit, "rows": [
            {"at": cut, **{s: over_time[cut].get(s, 0) for s in ("negative", "neutral", "positive")}}
            for cut in sorted(over_time)]},
    }


def queue_counts(store: Any, brands: Optional[list[str]] = None, stats: Optional[dict] = None) -> dict:
    """{"statuses": {status: n}, "open_by_team": {...}, "open_by_language": {...}} from the gauges."""
    total: Counter = Counter()
    for item in counters.read_gauges(store.table, brands_of(store, brands), stats):
        total.update({k: v for k, v in item.items() if isinstance(v, int) and not isinstance(v, bool)})

    def part(prefix: str) -> dict:
        return {k[len(prefix):]: v for k, v in sorted(total.items()) if k.startswith(prefix) and v}

    return {"statuses": {s: total[f"status:{s}"] for s in STATUSES}, "open_by_team": part("team:"),
            "open_by_language": part("language:")}


HEATMAP_WEEKS = 4  # the arrivals heatmap averages this many whole weeks of hours
AGENT_MEASURES = ("frt_n", "frt_s", "handled", "res_n", "res_s", "csat_n", "csat_sum")


class StaffingQuery(BaseModel):
    """`GET /api/reports/staffing`: how many days back SLA attainment and agents' output read."""

    model_config = ConfigDict(extra="forbid")

    days: int = Field(default=7, ge=1, le=MAX_DAYS)


def heatmap_hours(now=None) -> list[str]:
    """The HEATMAP_WEEKS × 168 hours up to the current one: each hour of the week HEATMAP_WEEKS times
    (the current hour so far counts as one of its four)."""
    now = now or utcnow()
    return [counters.hour_of((now - timedelta(hours=h)).isoformat()) for h in range(HEATMAP_WEEKS * 168 - 1, -1, -1)]


def staffing(store: Any, days: int, brands: Optional[list[str]] = None, stats: Optional[dict] = None,
             now=None) -> dict:
    """What a manager staffs from, all from the aggregates (counters.py), never the tickets:

    * `arrivals`: tickets per hour of the week (UTC; Monday first, 7 rows of 24) per channel, the
      mean over the last HEATMAP_WEEKS weeks of hours (up to the current one), whatever `days` is;
    * `queue`: open tickets by language and team now (the gauges, as queue_counts);
    * `sla_by_band`: per SLA band of the tickets created in the period, those answered within
      target (`met`), those breached, and `attainment` = met / (met + breached);
    * `agents`: per agent over the period: `handled` (closed tickets held), mean first response and
      resolution seconds, mean CSAT and how many ratings; name from the roster when known.
    The hour items of the period and of the heatmap are read once (BatchGetItem, 100 keys a call)."""
    now = now or utcnow()
    scope = brands_of(store, brands)
    span, grid_hours = hours(days, now), heatmap_hours(now)
    in_span, in_grid = set(span), set(grid_hours)
    items = counters.read_hours(store.table, scope, sorted(in_span | in_grid), stats)
    grid: dict = defaultdict(lambda: [[0] * 24 for _ in range(7)])
    total: Counter = Counter()
    for item in items:
        hour, numbers = _hour(item), _numbers(item)
        if hour in in_grid:
            moment = datetime.fromisoformat(hour + ":00:00")
            for name, n in numbers.items():
                if name.startswith("ch:") and n:
                    grid[name[3:]][moment.weekday()][moment.hour] += n
        if hour in in_span:
            total.update({k: v for k, v in numbers.items() if k.startswith(("sla:", "agent:"))})
    bands: dict = defaultdict(lambda: {"met": 0, "breached": 0})
    agents: dict = defaultdict(Counter)
    for name, n in total.items():
        if name.startswith("sla:"):
            band, outcome = name[4:].rsplit(":", 1)
            if outcome in ("met", "breached"):
                bands[band][outcome] += n
        else:
            agent, measure = name[6:].rsplit(":", 1)
            if measure in AGENT_MEASURES:
                agents[agent][measure] += n
    roster = {a.id: a.name for a in store.agents.get_many(sorted(agents))} if agents else {}
    return {
        "period": period(days, now),
        "arrivals": {"weeks": HEATMAP_WEEKS, "timezone": "UTC", "channels": {
            channel: [[n / HEATMAP_WEEKS for n in row] for row in rows] for channel, rows in sorted(grid.items())}},
        "queue": {k: v for k, v in queue_counts(store, scope, stats).items() if k != "statuses"},
        "sla_by_band": [{"band": band, **c, "attainment": _share(c["met"], c["met"] + c["breached"])}
                        for band, c in sorted(bands.items()) if c["met"] or c["breached"]],
        "agents": [{"agent": agent, "name": roster.get(agent) or agent, "handled": c["handled"],
                    "first_response_seconds": _share(c["frt_s"], c["frt_n"]), "first_responses": c["frt_n"],
                    "resolution_seconds": _share(c["res_s"], c["res_n"]),
                    "csat": _share(c["csat_sum"], c["csat_n"]), "csat_count": c["csat_n"]}
                   for agent, c in sorted(agents.items()) if any(c.values())],
    }


def _share(part: float, whole: float) -> Optional[float]:
    return part / whole if whole else None


FIGURES = ("channel", "sentiment", "topic", "team", "status", "breached")


class ExportQuery(BaseModel):
    """`GET /api/reports/tickets`: the report's `days`, the figure (any of its fields), a page."""

    model_config = ConfigDict(extra="forbid")

    days: int = Field(default=7, ge=1, le=MAX_DAYS)
    channel: Optional[str] = Field(default=None, min_length=1, max_length=32)
    sentiment: Optional[Literal["negative", "neutral", "positive"]] = None
    topic: Optional[str] = Field(default=None, min_length=1, max_length=64)
    team: Optional[str] = Field(default=None, min_length=1, max_length=64)
    status: Optional[Literal["open", "pending", "on_hold", "closed"]] = None
    breached: Optional[bool] = None
    limit: int = Field(default=100, ge=1, le=500)
    cursor: Optional[str] = Field(default=None, max_length=2000)

    def figure(self) -> dict:
        return {k: v for k, v in self.model_dump(include=set(FIGURES)).items() if v is not None}


def behind(ticket: dict, figure: dict) -> bool:
    """Is the ticket one of a figure's (`channel`, `sentiment`, `topic`, `team`, `status`, `breached`)?"""
    values = {"channel": ticket.get("channel"), "team": ticket.get("team"), "status": ticket.get("status"),
              "sentiment": (ticket.get("classification") or {}).get("sentiment") or "neutral",
              "topic": ticket.get("topic") or "other", "breached": counters.breached(ticket)}  # as the counts (issue 16)
    return all(values[k] == v for k, v in figure.items())


def export_csv(store: Any, days: int, brands: Optional[list[str]], figure: Optional[dict] = None,
               limit: int = 100, cursor: Optional[str] = None, stats: Optional[dict] = None) -> dict:
    """One page of the tickets behind a figure of the report over `days` (created in its hours, of
    the caller's brands, newest hour first) as CSV: {"csv", "rows", "next_cursor"}. A request reads
    at most search.READ_BUDGET index entries and their tickets."""
    figure = {k: v for k, v in (figure or {}).items() if v is not None}
    unknown = set(figure) - set(FIGURES)
    if unknown:
        raise Invalid(sorted(unknown)[0], f"a figure is one of {', '.join(FIGURES)}")
    tickets, next_cursor = search.created_in(store.table, brands_of(store, brands), hours(days),
                                             lambda t: behind(t, figure), limit, cursor, stats)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for ticket in tickets:
        writer.writerow({k: _cell(ticket.get(k)) for k in CSV_FIELDS})
    return {"csv": out.getvalue(), "rows": len(tickets), "next_cursor": next_cursor}


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text  # no formula in a spreadsheet
