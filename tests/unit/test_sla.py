"""SLA clocks in business hours, with time zones, holidays and daylight saving: frozen times only."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from chalicelib import sla
from chalicelib.desk_settings import DEFAULTS

HEL = ZoneInfo("Europe/Helsinki")
NORDIC = {"timezone": "Europe/Helsinki", "days": {d: [("09:00", "17:00")] for d in ("mon", "tue", "wed", "thu", "fri")},
          "holidays": ["2026-12-24", "2026-12-25"]}
POLICY = DEFAULTS["sla"].model_dump(mode="json")


def hel(*args) -> datetime:
    return datetime(*args, tzinfo=HEL)


def test_bands_by_priority_and_public_negative_goes_fast():
    assert sla.band_for(85, POLICY)["name"] == "urgent"
    assert sla.band_for(45, POLICY)["name"] == "normal"
    assert sla.band_for(5, POLICY)["name"] == "low"
    assert sla.band_for(5, POLICY, negative_public=True)["name"] == "urgent"
    assert sla.targets(POLICY, sla.band_for(45, POLICY), "x")["first_response_minutes"] == 60


def test_channel_overrides_win():
    policy = {**POLICY, "channel_overrides": {"email": {"normal": {
        "first_response_minutes": 240, "next_response_minutes": 480, "resolution_minutes": 2880}}}}
    normal = sla.band_for(45, policy)
    assert sla.targets(policy, normal, "email")["first_response_minutes"] == 240
    assert sla.targets(policy, normal, "whatsapp")["first_response_minutes"] == 60


def test_inside_hours_the_clock_runs_as_the_wall_clock():
    assert sla.add_business_minutes(NORDIC, hel(2026, 11, 24, 10, 0), 60) == hel(2026, 11, 24, 11, 0)


def test_friday_evening_rolls_to_monday_morning():
    due = sla.add_business_minutes(NORDIC, hel(2026, 11, 27, 16, 50), 15)  # Friday 16:50 + 15 min
    assert due == hel(2026, 11, 30, 9, 5)  # Monday 09:05
    assert sla.next_open(NORDIC, hel(2026, 11, 28, 12, 0)) == hel(2026, 11, 30, 9, 0)
    assert not sla.is_open(NORDIC, hel(2026, 11, 28, 12, 0)) and sla.is_open(NORDIC, hel(2026, 11, 30, 9, 0))


def test_holidays_are_skipped():
    due = sla.add_business_minutes(NORDIC, hel(2026, 12, 23, 16, 30), 60)  # Wed; Thu 24 and Fri 25 are holidays
    assert due == hel(2026, 12, 28, 9, 30)


def test_daylight_saving_keeps_local_opening_hours():
    # Helsinki moves to summer time on Sunday 29 March 2026: Monday still opens at 09:00 local
    due = sla.add_business_minutes(NORDIC, hel(2026, 3, 27, 16, 30), 60)
    assert due == hel(2026, 3, 30, 9, 30) and due.astimezone(timezone.utc).hour == 6


def test_minutes_used_count_only_open_time():
    assert sla.business_minutes_between(NORDIC, hel(2026, 11, 27, 16, 0), hel(2026, 11, 30, 10, 0)) == 120
    assert sla.business_minutes_between(None, hel(2026, 11, 27, 16, 0), hel(2026, 11, 27, 17, 0)) == 60


def test_no_hours_means_around_the_clock_and_no_open_hours_is_an_error():
    assert sla.add_business_minutes(None, hel(2026, 11, 28, 3, 0), 15) == hel(2026, 11, 28, 3, 15)
    assert sla.is_open(None, hel(2026, 11, 28, 3, 0))
    with pytest.raises(ValueError):
        sla.add_business_minutes({"timezone": "UTC", "days": {}}, hel(2026, 11, 28, 3, 0), 15)


def test_team_hours_fall_back_to_the_default():
    settings = {"teams": {"default": NORDIC, "greek": {**NORDIC, "timezone": "Europe/Athens"}}}
    assert sla.hours_for(settings, "greek")["timezone"] == "Europe/Athens"
    assert sla.hours_for(settings, "unknown") is NORDIC and sla.hours_for({}, "x") is None
