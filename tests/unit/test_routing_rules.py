"""Who gets a ticket: eligibility, ranking, the hardest cases, stickiness and relaxing rules."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from chalicelib.aggregates.agent import Agent
from chalicelib.aggregates.ticket import Ticket
from chalicelib.routing import DEFAULT_SETTINGS, candidates, eligible, performance

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


def agent(id, languages=("en",), skills=(), teams=(), status="online", load=0, capacity=5, frt=None, csat=None,
          brands=("acme",), role="agent"):
    perf = {k: v for k, v in (("first_response_seconds", frt), ("csat", csat)) if v is not None}
    return Agent.from_item({"id": id, "languages": list(languages), "skills": list(skills), "teams": list(teams),
                            "status": status, "load": load, "capacity": capacity, "performance": perf,
                            "brands": list(brands), "role": role})


def ticket(language="en", topic="delivery", team=None, priority=40, score=0.0, waited=0, previous=None,
           brand="acme"):
    return Ticket.from_item({"id": "t", "brand": brand, "language": language, "topic": topic, "team": team,
                             "priority": priority,
                             "classification": {"sentiment_score": score}, "previous_assignee": previous,
                             "created_at": (NOW - timedelta(minutes=waited)).isoformat()})


def ids(t, agents, **settings):
    return [a.id for a in candidates(t, agents, {**DEFAULT_SETTINGS, **settings}, NOW)]


def test_only_online_agents_with_a_free_slot_language_skill_and_team():
    pool = [agent("away", status="away"), agent("full", load=5), agent("finn", languages=["fi"]),
            agent("billing", skills=["billing"]), agent("other-team", teams=["greek"]), agent("ok", teams=["nordic"])]
    assert ids(ticket(team=None), pool) == ["ok", "other-team"]
    assert ids(ticket(team="nordic"), pool) == ["ok"]


def test_only_agents_who_work_for_the_tickets_brand_or_admins():
    pool = [agent("acme-only"), agent("other-brand", brands=["nordlight"]), agent("no-brand", brands=()),
            agent("both", brands=["nordlight", "acme"]), agent("admin", brands=(), role="admin")]
    assert sorted(ids(ticket(brand="acme"), pool)) == ["acme-only", "admin", "both"]
    assert sorted(ids(ticket(brand="nordlight"), pool)) == ["admin", "both", "other-brand"]
    assert ids(ticket(brand=None), pool) == ["admin"]  # a ticket of no brand: only an admin's record


def test_most_spare_capacity_then_better_performance():
    pool = [agent("busy", load=3), agent("free-slow", load=0, frt=1800), agent("free-fast", load=0, frt=60)]
    assert ids(ticket(), pool) == ["free-fast", "free-slow", "busy"]


def test_hardest_cases_go_to_the_best_performer_even_if_busier():
    pool = [agent("free-slow", load=0, frt=3000, csat=2.5), agent("busy-star", load=4, frt=60, csat=4.9)]
    assert ids(ticket(priority=85), pool)[0] == "busy-star"
    assert ids(ticket(priority=40, score=-0.8), pool)[0] == "busy-star"
    assert ids(ticket(priority=40, score=-0.1), pool)[0] == "free-slow"


def test_a_follow_up_sticks_to_the_agent_already_on_the_conversation():
    pool = [agent("fresh"), agent("known", load=3)]
    assert ids(ticket(previous="known"), pool)[0] == "known"
    assert ids(ticket(previous="known"), [agent("fresh"), agent("known", status="offline")]) == ["fresh"]
    assert ids(ticket(previous="known"), pool, sticky=False)[0] == "fresh"


def test_language_and_then_skill_relax_after_a_wait():
    pool = [agent("english-billing", skills=["billing"])]
    finnish_delivery = dict(language="fi", topic="delivery")
    assert ids(ticket(**finnish_delivery, waited=5), pool) == []
    assert ids(ticket(**finnish_delivery, waited=12), pool) == []  # language relaxed, skill not yet
    assert ids(ticket(**finnish_delivery, waited=25), pool) == ["english-billing"]
    assert ids(ticket(**finnish_delivery, waited=25), pool, relax_language_after_minutes=None) == []


def test_performance_is_neutral_without_a_record():
    assert performance(agent("new")) == 0.5
    assert performance(agent("star", frt=0, csat=5)) == 1.0
    assert eligible(agent("x", capacity=0), ticket(), DEFAULT_SETTINGS, 0) is False
