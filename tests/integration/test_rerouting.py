"""Presence changes and returning customers move tickets: away releases, online pulls, sticky follow-ups,
and a reopened conversation never lands on an offline agent. Through the real routes and workers."""
from __future__ import annotations

import json

import pytest

from chalicelib.auth import mint
from infra.local import payloads as p
from tests.conftest import TEST_SECRETS
from tests import stored

PAGE = "104000000000001"


def _auth(agent):
    return {"Authorization": f"Bearer {mint(agent, 'agent', TEST_SECRETS['LOCAL_JWT_SECRET'])}",
            "Content-Type": "application/json"}


def _message(desk, sender, mid, text="Hei, tilaukseni on myöhässä"):
    body = p.encode(p.meta_payload("page", [p.meta_entry(PAGE, messaging=[
        p.messenger_event(PAGE, sender, mid, text=text)])]))
    assert desk.client.http.post("/webhooks/meta", body=body, headers={
        "Content-Type": "application/json", **p.sign_meta(body, TEST_SECRETS["META_APP_SECRET"])}).status_code == 200
    desk.drain()


def _presence(desk, agent, status):
    answer = desk.client.http.put("/api/agents/me/status", headers=_auth(agent), body=json.dumps({"status": status}))
    assert answer.status_code == 200, answer.body
    desk.drain(only=("route_worker",))
    return json.loads(answer.body)


@pytest.fixture
def team(desk):
    store = desk.store()
    stored.put_account(store, "facebook", PAGE, status="active", brand="nordlight")
    for agent_id, load in (("mikko", 0), ("eeva", 2)):
        stored.put_agent(store, {"id": agent_id, "name": agent_id.title(), "languages": ["fi", "en"], "status": "online",
                         "capacity": 3, "load": load, "brands": ["nordlight"]})
    return desk


def _ticket_of(desk, sender):
    tickets = [t for t in desk.store().all_tickets() if t["conversation_key"].endswith(f"#{sender}")]
    return max(tickets, key=lambda t: t["created_at"])


def test_going_away_releases_unanswered_tickets_to_someone_online(team):
    _message(team, "6001", "m_1")
    ticket = _ticket_of(team, "6001")
    assert ticket["assignee"] == "mikko"  # most spare capacity
    moved = _presence(team, "mikko", "away")
    assert moved["released"] == [ticket["id"]]
    assert stored.ticket(team.store(), ticket["id"])["assignee"] == "eeva"
    assert team.store().agents.get("mikko").load == 0 and team.store().agents.get("eeva").load == 3


def test_an_answered_ticket_stays_with_its_agent(team):
    _message(team, "6001", "m_1")
    ticket = _ticket_of(team, "6001")
    team.store().table.update_item(Key={"PK": f"TICKET#{ticket['id']}", "SK": "TICKET"},
                                   UpdateExpression="SET first_response_at = :t",
                                   ExpressionAttributeValues={":t": "2026-11-24T10:00:00+00:00"})
    assert _presence(team, "mikko", "offline")["released"] == []
    assert stored.ticket(team.store(), ticket["id"])["assignee"] == "mikko"


def test_coming_online_pulls_waiting_tickets_in_priority_order(team):
    for agent in ("mikko", "eeva"):
        team.store().agents.set_status(agent, "offline", "2026-11-24T08:00:00+00:00")
    _message(team, "6001", "m_1")
    _message(team, "6002", "m_2", text="Laturi kuumenee ja savuaa, vaarallista!")
    waiting = [t for t in team.store().all_tickets() if not t.get("assignee")]
    assert len(waiting) == 2 and all(t.get("waiting_since") for t in waiting)
    moved = _presence(team, "mikko", "online")
    assert len(moved["offered"]) == 2
    priorities = [stored.ticket(team.store(), t)["priority"] for t in moved["offered"]]
    assert priorities == sorted(priorities, reverse=True)
    assert {stored.ticket(team.store(), t["id"]).get("assignee") for t in waiting} == {"mikko"}


def test_a_returning_customer_goes_back_to_their_agent(team):
    _message(team, "6001", "m_1")
    first = _ticket_of(team, "6001")
    assert first["assignee"] == "mikko"
    team.client.http.post(f"/api/tickets/{first['id']}/done", headers=_auth("mikko"),
                          body=json.dumps({"version": stored.ticket(team.store(), first["id"])["version"],
                                           "reason": "resolved_elsewhere"}))
    team.store().agents.put(team.store().agents.get("eeva").model_copy(update={"load": 0}))  # eeva has more room
    _message(team, "6001", "m_2", text="Vielä yksi kysymys")
    second = _ticket_of(team, "6001")
    assert second["id"] != first["id"] and second["previous_assignee"] == "mikko"
    assert second["assignee"] == "mikko"  # sticky beats spare capacity


def test_a_reopened_conversation_never_lands_on_an_offline_agent(team):
    _message(team, "6001", "m_1")
    ticket = _ticket_of(team, "6001")
    assert ticket["assignee"] == "mikko"
    team.store().agents.set_status("mikko", "offline", "2026-11-24T08:00:00+00:00")  # left without a handover
    _message(team, "6001", "m_2", text="Haloo? Onko siellä ketään?")
    now = stored.ticket(team.store(), ticket["id"])
    assert now["assignee"] == "eeva" and now["previous_assignee"] == "mikko"
    assert team.store().agents.get("mikko").load == 0
