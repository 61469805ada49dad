"""Many routers at once against one agent pool: capacity is never exceeded, no ticket is assigned
twice, and everything that fits is assigned. moto handles each DynamoDB call as DynamoDB does,
atomically (a lock around each call); the interleaving between calls is the routers' own."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.models import RoutingRequest
from tests import stored


@pytest.fixture
def atomic_moto(monkeypatch):
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.Lock()
    original = DynamoHandler.call_action

    def call_action(self):
        with lock:
            return original(self)

    monkeypatch.setattr(DynamoHandler, "call_action", call_action)


def _tickets(store, n):
    ids = []
    for i in range(n):
        ticket = {"id": f"t{i:03d}", "status": "open", "brand": "acme", "priority": 40 + i % 50, "version": 0, "channel": "x",
                  "language": "en", "topic": "delivery", "created_at": "2026-11-24T09:00:00+00:00"}
        store.table.put_item(Item={"PK": f"TICKET#{ticket['id']}", "SK": "TICKET", **ticket})
        ids.append(ticket["id"])
    return ids


def test_many_routers_never_overfill_an_agent_or_assign_a_ticket_twice(desk, atomic_moto):
    from chalicelib import routing

    store = desk.store()
    capacities = {"a": 3, "b": 5, "c": 2, "d": 4}
    for agent_id, capacity in capacities.items():
        stored.put_agent(store, {"id": agent_id, "languages": ["en"], "brands": ["acme"], "status": "online", "capacity": capacity, "load": 0})
    ids = _tickets(store, 24)
    requests = [RoutingRequest(ticket_id=t, message_id="m", reason="new_ticket", priority=50) for t in ids]
    requests += requests[:8]  # SQS delivers some twice

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda r: routing.route(r, store, routing.DEFAULT_SETTINGS), requests))

    assigned = {t: stored.ticket(store, t).get("assignee") for t in ids}
    loads = {a.id: a.load for a in store.agents.all()}
    for agent_id, capacity in capacities.items():
        assert loads[agent_id] <= capacity
        assert loads[agent_id] == sum(1 for who in assigned.values() if who == agent_id)  # no double count
    assert sum(1 for who in assigned.values() if who) == sum(capacities.values())  # every slot used
    assert sum(1 for who in assigned.values() if who is None) == 24 - sum(capacities.values())
    waiting = [t for t, who in assigned.items() if who is None]
    assert all(stored.ticket(store, t).get("waiting_since") for t in waiting)
    assert all(r in (None, assigned[req.ticket_id]) for r, req in zip(results, requests))
