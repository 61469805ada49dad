"""What one ticket adds to its creation hour for the staffing report (chalicelib/counters.py
band_counts and agent_counts), figured by hand: SLA attainment per band and each agent's output."""
from __future__ import annotations

from chalicelib import counters

CREATED = "2026-11-26T13:50:00+00:00"
BASE = {"id": "t1", "brand": "b", "channel": "x", "status": "open", "created_at": CREATED,
        "first_inbound_at": CREATED, "sla_band": "high", "first_response_due_at": "2026-11-26T14:20:00+00:00"}
HOUR = ("hour", "b", "2026-11-26T13")


def staffing(counts: dict) -> dict:
    return {k: v for k, v in counts.items() if k.startswith(("sla:", "agent:"))}


def test_a_ticket_inside_its_target_and_unanswered_counts_for_no_band_and_no_agent():
    assert staffing(counters.hour_counts(BASE)) == {}
    assert staffing(counters.hour_counts({**BASE, "assignee": "ana"})) == {}  # held, not closed: nothing yet


def test_answered_in_time_by_ana_then_closed_and_rated_four():
    answered = {**BASE, "assignee": "ana", "first_response_by": "ana",
                "first_response_at": "2026-11-26T14:05:00+00:00"}  # 15 min after, 15 min before due
    assert staffing(counters.hour_counts(answered)) == {"sla:high:met": 1, "agent:ana:frt_n": 1,
                                                        "agent:ana:frt_s": 900}
    closed = {**answered, "status": "closed", "closed_at": "2026-11-26T16:50:00+00:00", "csat": 4}
    assert staffing(counters.hour_counts(closed)) == {
        "sla:high:met": 1, "agent:ana:frt_n": 1, "agent:ana:frt_s": 900,
        "agent:ana:handled": 1, "agent:ana:res_n": 1, "agent:ana:res_s": 3 * 3600,
        "agent:ana:csat_n": 1, "agent:ana:csat_sum": 4}
    # the stream moves exactly the difference into the creation hour
    assert counters.delta(answered, closed)[HOUR] == {
        "closed": 1, "agent:ana:handled": 1, "agent:ana:res_n": 1, "agent:ana:res_s": 10800,
        "agent:ana:csat_n": 1, "agent:ana:csat_sum": 4}


def test_a_late_answer_or_a_breach_counts_breached_never_met():
    late = {**BASE, "first_response_by": "wei", "first_response_at": "2026-11-26T14:20:01+00:00"}
    assert staffing(counters.hour_counts(late)) == {"sla:high:breached": 1, "agent:wei:frt_n": 1,
                                                    "agent:wei:frt_s": 1801}
    swept = {**BASE, "sla_breached_for": "first_response"}  # the sweeper marked it, still unanswered
    assert staffing(counters.hour_counts(swept)) == {"sla:high:breached": 1}
    # answered in time, then the resolution clock breached: breached, no longer met
    resolution = {**BASE, "first_response_at": "2026-11-26T14:00:00+00:00", "sla_breached_for": "resolution"}
    assert counters.delta({**resolution, "sla_breached_for": None}, resolution)[HOUR] == {
        "breached": 1, "sla:high:met": -1, "sla:high:breached": 1}


def test_reassigned_after_closing_the_handled_ticket_moves_between_agents():
    closed = {**BASE, "status": "closed", "assignee": "ana", "closed_at": "2026-11-26T15:50:00+00:00"}
    moved = counters.delta(closed, {**closed, "assignee": "zofia"})[HOUR]
    assert moved == {"agent:ana:handled": -1, "agent:ana:res_n": -1, "agent:ana:res_s": -7200,
                     "agent:zofia:handled": 1, "agent:zofia:res_n": 1, "agent:zofia:res_s": 7200}


def test_csat_goes_to_the_first_responder_else_the_holder_as_tickets_rate_credits_it():
    rated = {**BASE, "assignee": "zofia", "csat": 2}
    assert staffing(counters.hour_counts(rated)) == {"agent:zofia:csat_n": 1, "agent:zofia:csat_sum": 2}
    answered = {**rated, "first_response_by": "ana", "first_response_at": "2026-11-26T13:51:00+00:00"}
    assert {k: v for k, v in counters.hour_counts(answered).items() if "csat" in k} == {
        "agent:ana:csat_n": 1, "agent:ana:csat_sum": 2}


def test_a_ticket_without_a_band_adds_only_what_it_always_added():
    old = {k: v for k, v in BASE.items() if k not in ("sla_band", "first_response_due_at")}
    assert counters.hour_counts(old) == {"tickets": 1, "ch:x": 1, "sentiment:neutral": 1, "topic:other": 1,
                                         "answerable": 1}
