"""Administration through the API: agents, teams, accounts, SLA/hours/routing settings, bulk actions."""
from __future__ import annotations

import json

import pytest

from chalicelib.auth import mint
from infra.local import demo
from infra.local import payloads as p
from tests.conftest import TEST_SECRETS
from tests import stored

BRAND_X = "1500000000000000001"


def _call(desk, method, path, body=None, role="admin", agent="root"):
    headers = {"Authorization": f"Bearer {mint(agent, role, TEST_SECRETS['LOCAL_JWT_SECRET'])}",
               "Content-Type": "application/json"}
    answer = getattr(desk.client.http, method)(path, headers=headers, body=json.dumps(body) if body is not None else b"")
    return answer.status_code, json.loads(answer.body or b"null")


def test_agents_are_created_updated_listed_and_removed_through_the_api(desk):
    # The use cases (presence, load and performance kept on an edit) run on the in-memory store in
    # tests/unit/test_agent_use_cases.py; this is the round trip on moto: routes, roles, answers.
    stored.put_agent(desk.store(), {"id": "sam", "role": "supervisor", "brands": ["nordlight"]})
    status, agent = _call(desk, "put", "/api/agents/eeva", {"name": "Eeva Laine", "languages": ["fi", "sv", "en"],
                                                            "skills": ["billing"], "teams": ["nordic"], "capacity": 6,
                                                            "brands": ["nordlight"]})
    assert status == 200 and agent["status"] == "offline" and agent["load"] == 0
    desk.store().agents.set_status("eeva", "online", "2026-11-23T10:00:00+00:00")
    status, agent = _call(desk, "put", "/api/agents/eeva", {"name": "Eeva Laine", "languages": ["fi"], "capacity": 9})
    assert status == 200 and agent["status"] == "online" and agent["capacity"] == 9
    status, listed = _call(desk, "get", "/api/agents", role="supervisor", agent="sam")
    assert status == 200 and [(a["id"], a["brands"]) for a in listed["items"]] == [("eeva", ["nordlight"]),
                                                                                  ("sam", ["nordlight"])]
    assert _call(desk, "put", "/api/agents/eeva", {"name": "E", "languages": ["finnish"]})[0] == 400
    assert _call(desk, "put", "/api/agents/Bad Id", {"name": "E"})[0] == 400
    assert _call(desk, "delete", "/api/agents/eeva")[0] == 204 and _call(desk, "delete", "/api/agents/eeva")[0] == 404


def test_teams(desk):
    assert _call(desk, "put", "/api/teams/nordic", {"name": "Nordic care", "languages": ["fi", "sv"],
                                                    "brands": ["nordlight"]})[0] == 200
    stored.put_agent(desk.store(), {"id": "ana", "brands": ["nordlight"]})
    status, teams = _call(desk, "get", "/api/teams", role="agent", agent="ana")
    assert status == 200 and [t["id"] for t in teams["items"]] == ["nordic"]


def test_the_shipped_sla_meets_social_expectations_and_saves_are_versioned(desk):
    stored.put_agent(desk.store(), {"id": "root", "brands": ["nordlight"]})  # a supervisor reads them for her brands
    status, sla = _call(desk, "get", "/api/settings/sla", role="supervisor")
    assert status == 200 and sla["version"] == 0
    bands = {b["name"]: b for b in sla["bands"]}
    assert bands["urgent"]["first_response_minutes"] == 15 and bands["normal"]["first_response_minutes"] == 60
    assert bands["low"]["first_response_minutes"] == 24 * 60 and sla["public_negative_band"] == "urgent"
    sla["channel_overrides"] = {"email": {"normal": {"first_response_minutes": 240, "next_response_minutes": 480,
                                                     "resolution_minutes": 2880}}}
    status, saved = _call(desk, "put", "/api/settings/sla", sla)
    assert status == 200 and saved["version"] == 1
    assert _call(desk, "put", "/api/settings/sla", sla)[0] == 409  # still says version 0
    broken = {**saved, "bands": list(reversed(saved["bands"]))}
    status, body = _call(desk, "put", "/api/settings/sla", broken)
    assert status == 400 and "min_priority" in body["error"]
    assert _call(desk, "put", "/api/settings/sla", saved, role="supervisor")[0] == 403
    assert _call(desk, "get", "/api/settings/nonsense", role="supervisor")[0] == 404


def test_business_hours_check_time_zones_and_spans(desk):
    hours = {"teams": {"nordic": {"timezone": "Europe/Helsinki", "days": {"mon": [["08:00", "16:00"]]},
                                  "holidays": ["2026-12-24"]}}}
    assert _call(desk, "put", "/api/settings/hours", hours)[0] == 200
    bad_zone = {"teams": {"x": {"timezone": "Mars/Olympus", "days": {}}}}
    status, body = _call(desk, "put", "/api/settings/hours", bad_zone)
    assert status == 400 and "Mars/Olympus" in body["error"]
    bad_span = {"version": 1, "teams": {"x": {"timezone": "UTC", "days": {"mon": [["17:00", "09:00"]]}}}}
    assert _call(desk, "put", "/api/settings/hours", bad_span)[0] == 400


def test_a_discovered_account_is_connected_by_an_admin(desk):
    body = p.encode(p.x_tweet_event("1599", "1850000000000000301", {"id": "5", "name": "N", "handle": "n"}, "hello?"))
    desk.client.http.post("/webhooks/x", body=body, headers={
        "Content-Type": "application/json", **p.sign_x(body, TEST_SECRETS["X_CONSUMER_SECRET"])})
    desk.drain(only=("ingest_worker",))
    status, accounts = _call(desk, "get", "/api/accounts")  # of no brand yet: the admins' to connect
    assert [(a["platform"], a["account_id"], a["status"]) for a in accounts["items"]] == [("x", "1599", "discovered")]
    assert _call(desk, "get", "/api/accounts", role="supervisor")[1]["items"] == []
    status, account = _call(desk, "patch", "/api/accounts/x/1599", {"status": "active", "brand": "nordlight"})
    assert status == 200 and account["status"] == "active" and account["brand"] == "nordlight"
    assert _call(desk, "patch", "/api/accounts/x/404", {"status": "active"})[0] == 404
    assert _call(desk, "patch", "/api/accounts/x/1599", {"callback_url": "ftp://nope"})[0] == 400


def test_bulk_close_and_assign_report_each_ticket(desk):
    store = desk.store()
    stored.put_account(store, "x", BRAND_X, status="active", brand="nordlight")
    for agent in demo.AGENTS:
        stored.put_agent(store, {**agent, "status": "online", "capacity": 10, "load": 0})
    for i in range(3):
        body = p.encode(p.x_tweet_event(BRAND_X, f"18500000000000004{i}", {"id": f"6{i}", "name": "C", "handle": f"c{i}"},
                                        f"spam spam {i}"))
        desk.client.http.post("/webhooks/x", body=body, headers={
            "Content-Type": "application/json", **p.sign_x(body, TEST_SECRETS["X_CONSUMER_SECRET"])})
    desk.drain(only=("ingest_worker",))
    ids = [t["id"] for t in store.all_tickets()]
    status, result = _call(desk, "post", "/api/tickets/bulk", {"ticket_ids": ids[:2] + ["missing"], "action": "assign",
                                                               "assignee": "wei"}, role="supervisor", agent="sam")
    assert status == 200 and result["ok"] == 2 and result["results"]["missing"] == "not_found"
    assert {stored.ticket(store, i).get("assignee") for i in ids[:2]} == {"wei"}
    status, result = _call(desk, "post", "/api/tickets/bulk", {"ticket_ids": ids, "action": "close", "reason": "spam"},
                           role="supervisor", agent="sam")
    assert result["ok"] == 3 and {stored.ticket(store, i)["status"] for i in ids} == {"closed"}
    assert {stored.ticket(store, i)["done_reason"] for i in ids} == {"spam"}
    desk.drain(only=("ticket_stream",))  # queue counts are the stream's gauges
    assert _call(desk, "get", "/api/queues", role="supervisor", agent="sam")[1]["statuses"] == {
        "open": 0, "pending": 0, "on_hold": 0, "closed": 3}
    assert _call(desk, "post", "/api/tickets/bulk", {"ticket_ids": ids, "action": "assign"}, role="supervisor")[0] == 400
    assert _call(desk, "post", "/api/tickets/bulk", {"ticket_ids": ids, "action": "close"}, role="agent")[0] == 403
