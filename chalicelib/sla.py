"""SLA clocks: which targets a ticket has, and when they fall due in a team's business hours.

Pure functions over the `sla` and `hours` settings (chalicelib/desk_settings.py), so the ingest worker,
the sweeper and the off-hours acknowledgement compute the same times, and tests can freeze them.

* `band_for` picks the priority band; a public, negative mention is answered as fast as the
  policy's `public_negative_band` (urgent by default), whatever its score.
* `targets` are the band's, unless the channel overrides them (email may wait longer).
* `add_business_minutes` counts only open minutes of the team's week, in its time zone, skipping
  holidays; a team without hours (or the 24/7 channels) counts wall-clock minutes.
* `next_open` is when a person will next be there: what the off-hours acknowledgement tells.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Optional
from zoneinfo import ZoneInfo

from chalicelib.aggregates.ticket import Ticket

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS_AHEAD = 370  # a week with no open hours at all must not loop forever


def band_for(priority: int, policy: dict, *, negative_public: bool = False) -> dict:
    bands = sorted(policy["bands"], key=lambda b: b["min_priority"], reverse=True)
    chosen = next(b for b in bands if priority >= b["min_priority"])
    if negative_public:
        fast = next(b for b in bands if b["name"] == policy.get("public_negative_band", "urgent"))
        if fast["first_response_minutes"] < chosen["first_response_minutes"]:
            return fast
    return chosen


def targets(policy: dict, band: dict, channel: str) -> dict:
    override = (policy.get("channel_overrides") or {}).get(channel, {}).get(band["name"])
    keys = ("first_response_minutes", "next_response_minutes", "resolution_minutes")
    return {k: (override or band)[k] for k in keys}


def _spans(hours: dict, day: date) -> list[tuple[time, time]]:
    if day.isoformat() in set(hours.get("holidays") or ()):
        return []
    spans = []
    for start, end in (hours.get("days") or {}).get(DAYS[day.weekday()], []):
        spans.append((_clock(start), _clock(end)))
    return sorted(spans)


def _clock(text: str) -> time:
    return time.max if text == "24:00" else time.fromisoformat(text)


def _open_intervals(hours: dict, start: datetime):
    """Open intervals (aware, in UTC) from `start` on, in the team's time zone, in order."""
    zone = ZoneInfo(hours["timezone"])
    local = start.astimezone(zone)
    for offset in range(MAX_DAYS_AHEAD):
        day = local.date() + timedelta(days=offset)
        for open_at, close_at in _spans(hours, day):
            begin = datetime.combine(day, open_at, tzinfo=zone)
            finish = datetime.combine(day, close_at, tzinfo=zone)
            if finish <= start:
                continue
            yield max(begin, start).astimezone(timezone.utc), finish.astimezone(timezone.utc)


def is_open(hours: Optional[dict], moment: datetime) -> bool:
    if not hours:
        return True
    return next_open(hours, moment) == moment.astimezone(timezone.utc)


def next_open(hours: Optional[dict], moment: datetime) -> datetime:
    """`moment` itself when the team is open then, else when it next opens."""
    if not hours:
        return moment.astimezone(timezone.utc)
    for begin, _ in _open_intervals(hours, moment):
        return begin
    raise ValueError("the team has no open hours in the coming year")


def add_business_minutes(hours: Optional[dict], start: datetime, minutes: float) -> datetime:
    """`start` plus `minutes` of the team's open time (wall-clock time when it has no hours)."""
    if not hours:
        return (start + timedelta(minutes=minutes)).astimezone(timezone.utc)
    left = timedelta(minutes=minutes)
    for begin, finish in _open_intervals(hours, start):
        if begin + left <= finish:
            return begin + left
        left -= finish - begin
    raise ValueError("the team has no open hours in the coming year")


def business_minutes_between(hours: Optional[dict], start: datetime, end: datetime) -> float:
    """Open minutes between two moments: how much of a target a ticket has used."""
    if end <= start:
        return 0.0
    if not hours:
        return (end - start).total_seconds() / 60
    used = timedelta()
    for begin, finish in _open_intervals(hours, start):
        if begin >= end:
            break
        used += min(finish, end) - begin
    return used.total_seconds() / 60


def hours_for(settings: dict, team: Optional[str]) -> Optional[dict]:
    teams = (settings or {}).get("teams") or {}
    return teams.get(team or "") or teams.get("default")


def clocks(policy: dict, hours: Optional[dict], *, priority: int, negative_public: bool, channel: str,
           start: datetime) -> dict:
    """A new ticket's SLA: its band and when the first response and the resolution fall due."""
    band = band_for(priority, policy, negative_public=negative_public)
    wanted = targets(policy, band, channel)
    first = add_business_minutes(hours, start, wanted["first_response_minutes"])
    return {"sla_band": band["name"], "first_response_due_at": _iso(first),
            "resolution_due_at": _iso(add_business_minutes(hours, start, wanted["resolution_minutes"])),
            "next_response_minutes": wanted["next_response_minutes"], "sla_due_at": _iso(first)}


def after_customer_wrote(ticket: Ticket, hours: Optional[dict], at: datetime) -> dict:
    """A customer message on an answered ticket starts the next-response clock; one on a ticket
    waiting for the customer (pending) resumes the paused resolution clock."""
    changes: dict = {}
    resolution = ticket.resolution_due_at
    if ticket.status == "pending" and ticket.paused_at and resolution:
        paused = business_minutes_between(hours, datetime.fromisoformat(ticket.paused_at), at)
        resolution = _iso(add_business_minutes(hours, datetime.fromisoformat(resolution), paused))
        changes.update(resolution_due_at=resolution, paused_at=None)
    if ticket.first_response_at and ticket.next_response_minutes:
        due = _iso(add_business_minutes(hours, at, ticket.next_response_minutes))
        changes.update(next_response_due_at=due, sla_due_at=min(due, resolution) if resolution else due)
    return changes


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")
