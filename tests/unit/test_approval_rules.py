"""Which public replies wait for a supervisor (issue 16, point 2): outbound.approvals.held_for, a
pure rule over the brand's settings, the ticket and the replying agent; and the settings' validation."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.aggregates.agent import Agent
from chalicelib.aggregates.ticket import Ticket
from chalicelib.desk_settings import BrandApprovals
from chalicelib.outbound.approvals import held_for


def _ticket(channel="x", priority=40, sentiment="neutral") -> Ticket:
    return Ticket.model_validate({"id": "t1", "channel": channel, "kind": "post", "brand": "nordlight",
                                  "brand_account_id": "1", "status": "open", "priority": priority, "version": 1,
                                  "classification": {"sentiment": sentiment}})


def _held(rules, ticket=None, agent=None, agent_id="ana", visibility="public", **kw):
    return held_for(BrandApprovals.model_validate(rules) if rules is not None else None, ticket=ticket or _ticket(),
                    agent=agent or Agent(id=agent_id, role="agent"), agent_id=agent_id, visibility=visibility, **kw)


@pytest.mark.parametrize("rules, ticket, expected", [
    ({"channels": ["x"]}, _ticket("x"), ["channel: x"]),
    ({"channels": ["facebook"]}, _ticket("x"), []),
    ({"agents": ["ana"]}, _ticket(), ["agent: ana"]),
    ({"agents": ["bo"]}, _ticket(), []),
    ({"min_priority": 80}, _ticket(priority=80), ["priority 80 (at least 80)"]),
    ({"min_priority": 80}, _ticket(priority=79), []),
    ({"negative_sentiment": True}, _ticket(sentiment="negative"), ["negative sentiment"]),
    ({"negative_sentiment": True}, _ticket(sentiment="positive"), []),
    ({}, _ticket(priority=100, sentiment="negative"), []),  # a brand with no rule holds nothing
    ({"channels": ["x"], "min_priority": 30, "negative_sentiment": True}, _ticket("x", 50, "negative"),
     ["channel: x", "priority 50 (at least 30)", "negative sentiment"]),  # any rule holds it; each says why
])
def test_a_reply_is_held_when_any_rule_of_its_brand_holds(rules, ticket, expected):
    assert _held(rules, ticket) == expected


def test_new_agents_are_those_whose_record_says_needs_approval():
    rules = {"new_agents": True}
    assert _held(rules, agent=Agent(id="ana", role="agent", needs_approval=True)) == ["new agent"]
    assert _held(rules, agent=Agent(id="ana", role="agent", needs_approval=False)) == []
    assert _held(rules, agent=Agent(id="ana", role="agent")) == []  # a record from before the flag: trusted
    assert _held({"new_agents": False}, agent=Agent(id="ana", role="agent", needs_approval=True)) == []


def test_private_automatic_and_supervisors_replies_are_never_held():
    every = {"channels": ["x"], "agents": ["ana", "sam"], "min_priority": 0}
    assert _held(every, visibility="private") == []
    assert _held(every, automatic=True) == []
    assert _held(every, role="supervisor") == [] and _held(every, role="admin") == []
    assert _held(every, agent=Agent(id="sam", role="supervisor"), agent_id="sam") == []  # by her record too
    assert _held(None) == []  # the brand has no rules


@pytest.mark.parametrize("rules", [{"channels": ["myspace"]}, {"min_priority": 101}, {"agents": ["no spaces"]},
                                   {"everything": True}])
def test_rules_that_name_nothing_real_are_refused(rules):
    with pytest.raises(ValidationError):
        BrandApprovals.model_validate(rules)


def test_for_reports_a_held_reply_submitted_in_time_meets_the_first_response_target():
    """The sweeper breached the first-response deadline while the reply waited for approval; the
    agent had submitted it before: reports count it met, the wait apart (counters.breached)."""
    from chalicelib import counters

    ticket = {"created_at": "2026-11-27T10:00:00+00:00", "first_inbound_at": "2026-11-27T10:00:00+00:00",
              "channel": "x", "sla_band": "urgent", "first_response_due_at": "2026-11-27T10:15:00+00:00",
              "sla_breached_for": "2026-11-27T10:15:00+00:00", "first_response_at": "2026-11-27T10:10:00+00:00",
              "approvals_n": 1, "approval_wait_s": 1200}
    counts = counters.hour_counts(ticket)
    assert counts["sla:urgent:met"] == 1 and "breached" not in counts
    assert (counts["approval:n"], counts["approval:wait_s"]) == (1, 1200)
    # submitted late, or no reply held: breached as before
    assert "sla:urgent:breached" in counters.hour_counts({**ticket, "first_response_at": "2026-11-27T10:16:00+00:00"})
    assert counters.hour_counts({**ticket, "approvals_n": 0})["breached"] == 1
    # a later deadline breached (resolution): breached whatever the first response
    assert counters.hour_counts({**ticket, "sla_breached_for": "2026-11-27T14:00:00+00:00"})["breached"] == 1
