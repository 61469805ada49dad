"""The staffing report (issue 15, point 7) against aggregates figured by hand: tickets with known
bands, answers, closes and ratings go through the table's stream (as Lambda's event source mapping
delivers moto's records) into the hour counters and gauges; the report reads only those.

Given six tickets at known hours, when the report is read over 1 and 7 days, then arrivals per hour
of the week are the 4-week means, SLA attainment and each agent's output are those of the tickets
created in the period, and the two periods differ where their tickets do."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from chalicelib import reports
from chalicelib.auth import mint
from chalicelib.models import utcnow
from chalicelib.store import keys
from infra.local import stack
from tests import stored
from tests.conftest import TEST_SECRETS

NOW = utcnow().replace(minute=30, second=0, microsecond=0)
WEEK = 7 * 24


def _iso(hours_ago: float, seconds: float = 0) -> str:
    return (NOW - timedelta(hours=hours_ago) + timedelta(seconds=seconds)).isoformat()


def _ticket(table, ticket_id: str, *, hours_ago: float, channel="x", brand="nordlight", band="high",
            due_after=1800, answered_after=None, by=None, closed_after=None, csat=None, breached=False,
            language="en", team=None):
    created = _iso(hours_ago)
    item = {**keys.ticket(ticket_id), "id": ticket_id, "brand": brand, "channel": channel,
            "status": "closed" if closed_after is not None else "open", "priority": 10, "version": 1,
            "created_at": created, "first_inbound_at": created, "classification": {"sentiment": "neutral"},
            "language": language, "sla_band": band, "first_response_due_at": _iso(hours_ago, due_after)}
    if by:
        item["assignee"] = by
    if answered_after is not None:
        item.update(first_response_at=_iso(hours_ago, answered_after), first_response_by=by)
    if closed_after is not None:
        item["closed_at"] = _iso(hours_ago, closed_after)
    if csat:
        item["csat"] = csat
    if breached:
        item["sla_breached_for"] = "first_response"
    if team:
        item["team"] = team
    table.put_item(Item=item)
    table.put_item(Item=keys.brand_entry(brand))


def _deliver(desk) -> None:
    arn = desk.store().table.meta.client.describe_table(TableName="social-care-desk")["Table"]["LatestStreamArn"]
    desk.handlers.ticket_stream(stack.stream_event(desk.ticket_stream_records(), arn),
                                stack.LambdaContext("ticket_stream"))


@pytest.fixture
def known(desk):
    table = desk.store().table
    # a1: answered in 10 min (due 30) by Ana, closed an hour in, rated 5
    _ticket(table, "a1", hours_ago=2, answered_after=600, by="ana", closed_after=3600, csat=5)
    # a2: answered late by Ana (40 min, due 30), still open, Finnish, day team
    _ticket(table, "a2", hours_ago=3, answered_after=2400, by="ana", language="fi", team="day")
    # a3: yesterday, urgent band, Wei answered in 5 min (due 15), closed after 2 h, rated 3
    _ticket(table, "a3", hours_ago=26, channel="facebook", band="urgent", due_after=900, answered_after=300,
            by="wei", closed_after=7200, csat=3)
    # a4: two weeks ago at a1's hour of the week, WhatsApp, breached unanswered: in the heatmap only
    _ticket(table, "a4", hours_ago=2 * WEEK + 2, channel="whatsapp", breached=True)
    # a5: a week and 2 h ago, X, unanswered: in the heatmap (a1's slot) and outside 7 days
    _ticket(table, "a5", hours_ago=WEEK + 2)
    # another brand's ticket at a1's hour, answered by Ana there: never in nordlight's report
    _ticket(table, "o1", brand="other", hours_ago=2, answered_after=60, by="ana", closed_after=120, csat=1)
    stored.put_agent(desk.store(), {"id": "ana", "name": "Ana Costa", "role": "agent", "brands": ["nordlight"]})
    stored.put_agent(desk.store(), {"id": "sam", "name": "Sam", "role": "supervisor", "brands": ["nordlight"]})
    _deliver(desk)
    return desk


def _slot(hours_ago: float) -> tuple[int, int]:
    moment = datetime.fromisoformat(_iso(hours_ago)[:13] + ":00:00")
    return moment.weekday(), moment.hour


def test_the_staffing_report_is_what_the_tickets_add_up_to_by_hand(known):
    stats: dict = {}
    report = reports.staffing(known.store(), 7, ["nordlight"], stats, now=NOW)
    # arrivals: each hour of the week's mean over 4 weeks; a1 and a5 share a slot (2 → 0.5)
    expected: dict = {}
    for channel, hours_ago in (("x", 2), ("x", 3), ("facebook", 26), ("whatsapp", 2 * WEEK + 2), ("x", WEEK + 2)):
        day, hour = _slot(hours_ago)
        grid = expected.setdefault(channel, [[0.0] * 24 for _ in range(7)])
        grid[day][hour] += 0.25
    assert report["arrivals"] == {"weeks": 4, "timezone": "UTC", "channels": expected}
    assert expected["x"][_slot(2)[0]][_slot(2)[1]] == 0.5
    # queue now: a2 (fi, day), a4 and a5 (en, no team) are open
    assert report["queue"] == {"open_by_team": {"day": 1, "none": 2}, "open_by_language": {"en": 2, "fi": 1}}
    # SLA over 7 days: high a1 met, a2 late; urgent a3 met (a4's breach is two weeks old)
    assert report["sla_by_band"] == [{"band": "high", "met": 1, "breached": 1, "attainment": 0.5},
                                     {"band": "urgent", "met": 1, "breached": 0, "attainment": 1.0}]
    assert report["agents"] == [
        {"agent": "ana", "name": "Ana Costa", "handled": 1, "first_response_seconds": 1500.0, "first_responses": 2,
         "resolution_seconds": 3600.0, "csat": 5.0, "csat_count": 1},
        {"agent": "wei", "name": "wei", "handled": 1, "first_response_seconds": 300.0, "first_responses": 1,
         "resolution_seconds": 7200.0, "csat": 3.0, "csat_count": 1}]
    # one read of the period's and the heatmap's hours (672 + the current one), and one gauge
    assert stats["items_read"] <= 4 * WEEK + 1 + 1 and stats["calls"] == 7 + 1
    assert report["period"] == {"days": 7, "hours": WEEK + 1, "from": _iso(WEEK)[:13] + ":00:00+00:00",
                                "to": (NOW + timedelta(minutes=30)).isoformat()}


def test_the_last_24_hours_and_the_last_30_days_differ_where_their_tickets_do(known):
    day = reports.staffing(known.store(), 1, ["nordlight"], now=NOW)
    month = reports.staffing(known.store(), 30, ["nordlight"], now=NOW)
    assert day["sla_by_band"] == [{"band": "high", "met": 1, "breached": 1, "attainment": 0.5}]
    assert [a["agent"] for a in day["agents"]] == ["ana"]  # Wei's ticket is 26 h old
    assert month["sla_by_band"] == [{"band": "high", "met": 1, "breached": 2, "attainment": 1 / 3},
                                    {"band": "urgent", "met": 1, "breached": 0, "attainment": 1.0}]
    assert day["arrivals"] == month["arrivals"]  # always the last four weeks
    short = reports.summary(known.store(), 1, ["nordlight"], now=NOW)
    long = reports.summary(known.store(), 30, ["nordlight"], now=NOW)
    assert (short["tickets"], long["tickets"]) == (2, 5)
    assert short["period"]["hours"] == 25 and long["period"]["hours"] == 30 * 24 + 1
    # the series over time: every hour of the 24 (and the current one), every day of the 30
    assert short["sentiment_over_time"]["unit"] == "hour" and len(short["sentiment_over_time"]["rows"]) == 25
    assert long["sentiment_over_time"]["unit"] == "day" and len(long["sentiment_over_time"]["rows"]) == 31
    assert sum(r["neutral"] for r in long["sentiment_over_time"]["rows"]) == 5
    assert [r["at"] for r in short["sentiment_over_time"]["rows"] if r["neutral"]] == [_iso(3)[:13], _iso(2)[:13]]


def _get(desk, path, role="supervisor"):
    token = mint("sam", role, TEST_SECRETS["LOCAL_JWT_SECRET"])
    answer = desk.client.http.get(path, headers={"Authorization": f"Bearer {token}"})
    return answer.status_code, json.loads(answer.body or b"null")


def test_the_staffing_route_reads_the_period_asked_for_and_is_a_supervisors(known):
    status, day = _get(known, "/api/reports/staffing?days=1")
    assert status == 200 and day["period"]["days"] == 1 and [a["agent"] for a in day["agents"]] == ["ana"]
    status, month = _get(known, "/api/reports/staffing?days=30")
    assert status == 200 and [a["agent"] for a in month["agents"]] == ["ana", "wei"]
    assert _get(known, "/api/reports/summary?days=30")[1]["tickets"] == 5
    assert _get(known, "/api/reports/summary?days=1")[1]["tickets"] == 2
    assert _get(known, "/api/reports/staffing?days=91")[0] == 400
    assert _get(known, "/api/reports/staffing", role="agent")[0] == 403
