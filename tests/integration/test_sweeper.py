"""The SLA sweeper on a frozen clock: a warning before the deadline, one breach after it with the
escalation, paused tickets left alone, stuck tickets re-driven, and the queue gauges."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import sweeper
from chalicelib.models import RoutingRequest
from chalicelib.store import keys
from infra.local import payloads as p
from tests.conftest import TEST_SECRETS
from tests import stored

BRAND_X = "1500000000000000001"
T0 = datetime.now(timezone.utc).replace(microsecond=0)  # the tweet arrives as it is written


@pytest.fixture
def ticket(desk):
    """A normal-band tweet at T0 (first response due T0 + 60 min), nobody online."""
    store = desk.store()
    stored.put_agent(store, {"id": "mikko", "languages": ["en"], "status": "offline", "capacity": 3, "load": 0})
    body = p.encode(p.x_tweet_event(BRAND_X, "1850000000000000601", {"id": "42", "name": "Kim", "handle": "kim"},
                                    "@NordlightShop which lamp fits a reading corner?", created_at=T0))
    desk.client.http.post("/webhooks/x", body=body, headers={
        "Content-Type": "application/json", **p.sign_x(body, TEST_SECRETS["X_CONSUMER_SECRET"])})
    desk.drain(only=("ingest_worker", "route_worker"))  # nobody online: it waits, its first re-drive 2 min on
    [found] = list(store.all_tickets())
    return found


def _sweep(desk, at):
    sent = []
    summary = sweeper.sweep(desk.store(), sent.append, now=at)
    return summary, [RoutingRequest.model_validate_json(b).ticket_id for b in sent]


def test_warning_once_then_one_breach_with_escalation(desk, ticket, capsys):
    due = datetime.fromisoformat(ticket["sla_due_at"])
    target = due - T0
    assert _sweep(desk, due - target * 0.5)[0]["warned"] == 0  # plenty of time left
    summary, _ = _sweep(desk, due - timedelta(minutes=4))
    assert summary["warned"] == 1
    assert _sweep(desk, due - timedelta(minutes=3))[0]["warned"] == 0  # once per deadline
    summary, rerouted = _sweep(desk, due + timedelta(seconds=1))
    assert summary["breached"] == 1 and rerouted == [ticket["id"]]  # nobody holds it: back to the router
    after = stored.ticket(desk.store(), ticket["id"])
    assert after["priority"] == min(ticket["priority"] + sweeper.BREACH_BUMP, 100)
    assert "sla-breached" in after["tags"] and after["GSI1SK"].startswith(f"open#{100 - after['priority']:03d}#")
    assert _sweep(desk, due + timedelta(minutes=5))[0]["breached"] == 0  # once
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    assert sum(1 for m in metrics if "SLABreaches" in m) == 1 and sum(1 for m in metrics if "SLAWarnings" in m) == 1
    gauges = [m for m in metrics if "QueueBacklog" in m]
    assert gauges and gauges[-1]["team"] == "default" and gauges[-1]["QueueBacklog"] == [1.0]


def test_a_ticket_waiting_on_the_customer_does_not_breach(desk, ticket):
    store = desk.store()
    store.tickets.update(ticket["id"], ticket["version"], {
        "status": "pending", "paused_at": T0.isoformat(),
        **keys.inbox_index("pending", ticket["priority"], ticket["sla_due_at"], ticket["id"])})
    summary, rerouted = _sweep(desk, datetime.fromisoformat(ticket["sla_due_at"]) + timedelta(hours=5))
    assert summary["breached"] == 0 and summary["tickets"] == 0 and rerouted == []


def test_a_stuck_unassigned_ticket_goes_back_to_the_router(desk, ticket):
    arrived = datetime.fromisoformat(ticket["created_at"])
    _, rerouted = _sweep(desk, arrived + timedelta(minutes=1))
    assert rerouted == []  # just arrived
    _, rerouted = _sweep(desk, arrived + timedelta(minutes=3))
    assert rerouted == [ticket["id"]]


def test_a_breach_on_a_ticket_held_by_an_online_agent_stays_with_them(desk, ticket):
    store = desk.store()
    store.agents.set_status("mikko", "online", T0.isoformat())
    store.tickets.update(ticket["id"], ticket["version"], {"assignee": "mikko"})
    summary, rerouted = _sweep(desk, datetime.fromisoformat(ticket["sla_due_at"]) + timedelta(minutes=1))
    assert summary["breached"] == 1 and rerouted == []
    assert stored.ticket(desk.store(), ticket["id"])["assignee"] == "mikko"


def _read_items(store) -> dict:
    """Every item the store's DynamoDB client reads from now on: counted per operation."""
    read = {"Query": 0, "BatchGetItem": 0, "GetItem": 0, "Scan": 0}

    def counted(http_response, parsed, model, **_):
        name = model.name
        if name in ("Query", "Scan"):
            read[name] += len(parsed.get("Items", []))
        elif name == "BatchGetItem":
            read[name] += sum(len(v) for v in parsed.get("Responses", {}).values())
        elif name == "GetItem" and "Item" in parsed:
            read[name] += 1

    store.table.meta.client.meta.events.register("after-call.dynamodb", counted)
    return read


def test_a_sweep_reads_only_the_tickets_of_its_minutes_however_many_are_open(desk):
    # Given 40 open tickets due hours from now and 3 due this minute
    from chalicelib.aggregates.ticket import Ticket

    store = desk.store()
    now = datetime(2026, 11, 24, 10, 0, 30, tzinfo=timezone.utc)

    def opened(ticket_id: str, due: datetime) -> None:
        new = Ticket.opened(ticket_id, channel="x", kind="mention", brand="acme", brand_account_id="b",
                            conversation_key=f"c-{ticket_id}", opened_by=f"x#{ticket_id}", customer_id="c1",
                            now_iso=(now - timedelta(seconds=20)).isoformat(), first_inbound_at=now.isoformat(),
                            clocks={"sla_band": "normal", "sla_due_at": due.isoformat()}, visibility="public",
                            language="en", topic=None, subject=None)
        store.tickets.open_for(new.conversation_key, new)

    for i in range(40):
        opened(f"later-{i:03d}", now + timedelta(hours=2, minutes=i))
    for i in range(3):
        opened(f"due-{i}", now - timedelta(seconds=10 + i))
    store.set_sweep_mark((now - timedelta(minutes=1)).isoformat())
    read = _read_items(store)
    # When the sweeper runs
    summary, rerouted = _sweep(desk, now)
    # Then it breached the three, and read about them only: their index entries and tickets, the
    # roster once, settings and its mark, never the 40
    assert summary["breached"] == 3 and sorted(rerouted) == ["due-0", "due-1", "due-2"]
    assert read["Scan"] == 0 and read["BatchGetItem"] >= 3  # (the count sees the sweeper's reads)
    assert read["Query"] + read["BatchGetItem"] + read["GetItem"] <= 3 * 2 + 10, read
