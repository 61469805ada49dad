"""Routing simulation for `make bench`: 2,000 tickets through 25 agents on a simulated clock.

The desk's own routing rules (`chalicelib.routing.candidates`: presence, capacity, language,
skill, team, relaxation after a wait, hardest cases to the best performers) and SLA clocks
(`chalicelib.sla.clocks` over the shipped policy) decide; the simulation supplies arrivals (a
busy day: bursts in the morning and evening), agents with mixed languages, skills and speed,
presence changes (breaks, shift ends), and handling times. It prints how long tickets waited
for an agent, how evenly work spread, how many first responses met their SLA, how many tickets
had to wait, and how fast one routing decision is in real time.
"""
from __future__ import annotations

import heapq
import random
import statistics
import time
from datetime import datetime, timedelta, timezone

from chalicelib import routing, sla
from chalicelib.aggregates.agent import Agent
from chalicelib.aggregates.ticket import Ticket
from chalicelib.desk_settings import DEFAULTS

LANGUAGES = {"en": 0.40, "fi": 0.15, "el": 0.12, "zh": 0.10, "ar": 0.10, "pl": 0.13}
TOPICS = {"delivery": 0.35, "billing": 0.2, "technical": 0.25, "account": 0.1, "praise": 0.1}
START = datetime(2026, 11, 24, 6, 0, tzinfo=timezone.utc)
BRAND = "acme"  # one brand: every agent works for it (the router picks only a ticket's brand's agents)


def _pick(rng: random.Random, weights: dict) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def make_agents(rng: random.Random, n: int = 25) -> tuple[list[Agent], dict[str, float]]:
    """The agents, and each one's handling-time multiplier (the simulation's, not the desk's)."""
    agents, speeds = [], {}
    for i in range(n):
        languages = sorted({"en", *rng.sample([lang for lang in LANGUAGES if lang != "en"], k=rng.choice([1, 1, 2]))})
        skills = [] if i % 5 == 0 else rng.sample(list(TOPICS), k=2)  # every fifth is a generalist
        agent_id, capacity = f"agent{i:02d}", rng.choice([3, 4, 5, 6])
        speeds[agent_id] = rng.uniform(0.6, 1.6)
        agents.append(Agent.from_item({
            "id": agent_id, "languages": languages, "skills": skills, "teams": [], "capacity": capacity, "load": 0,
            "status": "online", "brands": [BRAND],
            "performance": {"first_response_seconds": rng.uniform(60, 900), "csat": rng.uniform(3.2, 4.9)}}))
    return agents, speeds


def make_tickets(rng: random.Random, n: int = 2000) -> list[dict]:
    tickets, t = [], START
    for i in range(n):
        hour = (t - START).total_seconds() / 3600
        rate = 3.0 if hour % 12 < 3 else 1.2  # tickets a minute: a morning and an evening burst
        t += timedelta(minutes=rng.expovariate(rate))
        negative = rng.random() < 0.35
        score = rng.uniform(-1, -0.2) if negative else rng.uniform(-0.1, 0.8)
        priority = min(int(rng.gauss(62 if negative else 38, 15)), 100)
        tickets.append({"id": f"t{i:04d}", "brand": BRAND, "language": _pick(rng, LANGUAGES), "topic": _pick(rng, TOPICS),
                        "priority": max(priority, 0), "created_at": t.isoformat(), "channel": "x",
                        "classification": {"sentiment_score": score},
                        "public_negative": negative and rng.random() < 0.5})
        tickets[-1]["ticket"] = Ticket.from_item(tickets[-1])  # what the router reads
    return tickets


def simulate(seed: int = 7, n_tickets: int = 2000, n_agents: int = 25) -> dict:
    rng = random.Random(seed)
    agents, speeds = make_agents(rng, n_agents)
    by_id = {a.id: a for a in agents}
    tickets = make_tickets(rng, n_tickets)
    policy = DEFAULTS["sla"].model_dump(mode="json")
    settings = dict(routing.DEFAULT_SETTINGS)
    events: list = []  # (time, order, kind, payload)
    order = 0

    def push(at: datetime, kind: str, payload) -> None:
        nonlocal order
        order += 1
        heapq.heappush(events, (at, order, kind, payload))

    for ticket in tickets:
        push(datetime.fromisoformat(ticket["created_at"]), "arrive", ticket)
    for agent in agents:  # a break mid-shift, and a few leave early
        push(START + timedelta(hours=rng.uniform(1, 5)), "away", agent.id)
        if rng.random() < 0.2:
            push(START + timedelta(hours=rng.uniform(8, 12)), "offline", agent.id)
    for minute in range(0, 24 * 60, 1):
        push(START + timedelta(minutes=minute), "sweep", None)

    waiting: list[dict] = []
    handled = {a.id: 0 for a in agents}
    waits, decision_seconds, met, waited_count = [], [], 0, 0

    def try_assign(ticket: dict, now: datetime) -> bool:
        started = time.perf_counter()
        ranked = routing.candidates(ticket["ticket"], agents, settings, now)
        decision_seconds.append(time.perf_counter() - started)
        if not ranked:
            return False
        agent = ranked[0]
        agent.load += 1
        handled[agent.id] += 1
        arrived = datetime.fromisoformat(ticket["created_at"])
        waits.append((now - arrived).total_seconds())
        respond = now + timedelta(minutes=rng.uniform(2, 12) * speeds[agent.id])
        due = datetime.fromisoformat(sla.clocks(policy, None, priority=ticket["priority"], channel="x",
                                                negative_public=ticket["public_negative"], start=arrived)["sla_due_at"])
        ticket["met"] = respond <= due
        push(respond + timedelta(minutes=rng.uniform(3, 20) * speeds[agent.id]), "done", (agent.id, ticket))
        return True

    while events:
        now, _, kind, payload = heapq.heappop(events)
        if kind == "arrive":
            if not try_assign(payload, now):
                payload["waiting_since"] = now.isoformat()
                waiting.append(payload)
                waited_count += 1
        elif kind == "done":
            agent_id, ticket = payload
            by_id[agent_id].load -= 1
            met += int(ticket["met"])
        elif kind in ("away", "offline"):
            by_id[payload].status = kind
            if kind == "away":
                push(now + timedelta(minutes=rng.uniform(15, 45)), "back", payload)
        elif kind == "back":
            if by_id[payload].status == "away":
                by_id[payload].status = "online"
        if kind in ("done", "back", "sweep") and waiting:
            waiting.sort(key=lambda t: (-t["priority"], t["created_at"]))
            waiting[:] = [t for t in waiting if not try_assign(t, now)]
    counts = sorted(handled.values())
    return {
        "tickets": n_tickets, "agents": n_agents, "assigned": len(waits), "never_assigned": len(waiting),
        "waited_for_an_agent": waited_count,
        "assignment_wait_seconds": {"median": statistics.median(waits), "p90": sorted(waits)[int(len(waits) * 0.9)],
                                    "max": max(waits)},
        "routing_decision_ms": {"median": statistics.median(decision_seconds) * 1000,
                                "p99": sorted(decision_seconds)[int(len(decision_seconds) * 0.99)] * 1000},
        "load_spread": {"min": counts[0], "median": statistics.median(counts), "max": counts[-1],
                        "stdev": round(statistics.pstdev(counts), 1)},
        "first_response_sla_met": round(met / max(len(waits), 1), 3),
    }


def main() -> dict:
    result = simulate()
    print(f"Routing simulation: {result['tickets']} tickets, {result['agents']} agents "
          "(mixed languages and skills, breaks and early leavers)")
    wait = result["assignment_wait_seconds"]
    print(f"  assigned {result['assigned']}, waited for an agent {result['waited_for_an_agent']}, "
          f"never assigned {result['never_assigned']}")
    print(f"  wait for an agent: median {wait['median']:.0f} s, p90 {wait['p90']:.0f} s, max {wait['max']:.0f} s")
    spread = result["load_spread"]
    print(f"  tickets per agent: min {spread['min']}, median {spread['median']}, max {spread['max']}, "
          f"stdev {spread['stdev']}")
    print(f"  first responses within SLA: {result['first_response_sla_met']:.1%}")
    decision = result["routing_decision_ms"]
    print(f"  one routing decision (25 agents): median {decision['median']:.3f} ms, p99 {decision['p99']:.3f} ms")
    return result


if __name__ == "__main__":
    main()
