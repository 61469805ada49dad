"""The silence rule of channel health, on hand-computed hour counters (no AWS, no HTTP).

A series is what `silent_channels` hands the rule: BASELINE_DAYS×24 baseline hours, then the
QUIET_HOURS of the quiet window (complete hours, oldest first); the current hour apart.
"""
from __future__ import annotations

from datetime import datetime, timezone

from chalicelib import channel_health as health

BASELINE = health.BASELINE_DAYS * 24  # 168
QUIET = health.QUIET_HOURS  # 3


def _series(per_hour, window=(0, 0, 0)) -> list[int]:
    """The baseline from `per_hour(i)` (i = 0 the oldest hour; the window starts at i = 168, a whole
    number of days on, so i % 24 is the clock hour relative to the window's first), then the window."""
    return [per_hour(i) for i in range(BASELINE)] + list(window)


def test_a_quiet_brand_never_pages():
    # Given one ticket an hour all week: 3 expected over the quiet window, under the bound of 10
    hourly = _series(lambda i: 1)
    assert health.expected(hourly) == 3.0
    # Then three empty hours are chance, not a dead channel
    assert health.unexpected_silence(hourly) is None


def test_a_usually_busy_channel_gone_silent_is_flagged():
    # Given ten tickets every hour of the week: 30 expected; then three hours of nothing
    hourly = _series(lambda i: 10)
    # Then it is flagged with what was expected (P(0 | 30) = e^-30)
    assert health.unexpected_silence(hourly) == 30.0


def test_the_bound_is_ten_expected():
    # Given 4, 3, 3 tickets in each run of three hours: 560 in 168 hours, 10 over any three
    exactly_ten = _series(lambda i: (4, 3, 3)[i % 3])
    assert health.unexpected_silence(exactly_ten) == 10.0
    # And 3, 3, 3: nine expected, not enough
    assert health.unexpected_silence(_series(lambda i: 3)) is None


def test_anything_in_the_window_or_the_current_hour_is_not_silence():
    assert health.unexpected_silence(_series(lambda i: 10, window=(0, 1, 0))) is None
    assert health.unexpected_silence(_series(lambda i: 10), current=1) is None


def test_a_brand_quiet_at_night_is_not_expected_to_be_busy_at_night():
    # Given 20 an hour from the window's clock hour 6 to 18, nothing at night (the window's hours 0-2)
    hourly = _series(lambda i: 20 if 6 <= i % 24 < 18 else 0)
    # The week's average says 30 over three hours, the same hours on each day say none
    assert health.expected(hourly) == 0.0
    assert health.unexpected_silence(hourly) is None


def test_a_brand_quiet_at_weekends_is_not_expected_to_be_busy_on_sunday():
    # Given 10 an hour on five days and nothing on the two days of the week the window falls on
    # (day 0 is the window's weekday a week ago, day 6 yesterday)
    hourly = _series(lambda i: 0 if i // 24 in (0, 6) else 10)
    # The median of the seven same-hour windows is 30 (five of seven), a week ago it was 0
    assert health.expected(hourly) == 0.0
    assert health.unexpected_silence(hourly) is None


def test_a_channel_without_history_expects_nothing():
    assert health.expected([0] * (BASELINE + QUIET)) == 0.0
    assert health.unexpected_silence([5] * 10 + [0, 0, 0]) is None  # a short history is padded with none


def test_the_hours_read_are_the_baseline_the_window_and_the_current_hour():
    hours = health.hours_read(datetime(2026, 11, 27, 10, 42, tzinfo=timezone.utc))
    assert len(hours) == BASELINE + QUIET + 1 == 172
    assert hours[-1] == "2026-11-27T10" and hours[-QUIET - 1:-1] == ["2026-11-27T07", "2026-11-27T08", "2026-11-27T09"]
    assert hours[0] == "2026-11-20T07"  # the same clock hours a week before the window


def test_a_stored_expiry_within_a_week_is_token_expiring():
    class Credential:
        def __init__(self, **values):
            self.values = values

        def get(self, key):
            return self.values.get(key) or ""

    now = datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)
    soon = int(datetime(2026, 12, 1, tzinfo=timezone.utc).timestamp())
    assert [r for r, _ in health._expiring(Credential(expires_at=soon), now)] == [health.TOKEN_EXPIRING]
    assert [r for r, _ in health._expiring(Credential(expires_at="2026-11-30T00:00:00+00:00"), now)] == [
        health.TOKEN_EXPIRING]
    assert health._expiring(Credential(expires_at="2027-06-01T00:00:00+00:00"), now) == []
    assert health._expiring(Credential(expires_at=0), now) == []  # Meta's "never"
    assert health._expiring(Credential(), now) == []
