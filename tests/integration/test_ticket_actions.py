"""Agents act on tickets through the API: edit with optimistic concurrency, note, done, claim, presence."""
from __future__ import annotations

import json
import threading

import pytest

from tests.integration import agent_http
from tests import stored

_headers, _call = agent_http.headers, agent_http.call


def _inbox(desk, status):
    answer = desk.client.http.get(f"/api/tickets?status={status}", headers=_headers())
    return [t["id"] for t in json.loads(answer.body)["items"]]


def test_an_edit_changes_the_ticket_moves_it_in_the_inbox_and_is_kept_on_the_timeline(desk, ticket):
    status, updated = _call(desk, "patch", f"/api/tickets/{ticket['id']}",
                            {"version": ticket["version"], "status": "pending", "tags": ["Broken", "lamp", "broken"]})
    assert status == 200
    assert updated["status"] == "pending" and updated["tags"] == ["broken", "lamp"]
    assert updated["version"] == ticket["version"] + 1
    assert _inbox(desk, "pending") == [ticket["id"]] and _inbox(desk, "open") == []
    [event] = [m for m in stored.messages(desk.store(), ticket["id"]) if m["direction"] == "event"]
    assert event["action"] == "edited" and event["changes"]["status"] == "pending" and event["agent_id"] == "ana"


def test_a_stale_version_is_409_and_changes_nothing(desk, ticket):
    path = f"/api/tickets/{ticket['id']}"
    assert _call(desk, "patch", path, {"version": ticket["version"], "topic": "delivery"})[0] == 200
    status, body = _call(desk, "patch", path, {"version": ticket["version"], "topic": "billing"})
    assert status == 409 and "reload" in body["error"]
    assert stored.ticket(desk.store(), ticket["id"])["topic"] == "delivery"


def test_two_agents_editing_the_same_version_at_once_one_wins_one_gets_409(desk, ticket):
    results = []

    def edit(agent, topic):
        results.append(_call(desk, "patch", f"/api/tickets/{ticket['id']}",
                             {"version": ticket["version"], "topic": topic}, agent=agent)[0])

    threads = [threading.Thread(target=edit, args=(a, topic)) for a, topic in (("ana", "delivery"), ("wei", "billing"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 409]
    assert stored.ticket(desk.store(), ticket["id"])["version"] == ticket["version"] + 1


def test_claim_takes_the_ticket(desk, ticket):
    status, updated = _call(desk, "post", f"/api/tickets/{ticket['id']}/claim", {"version": ticket["version"]},
                            agent="mikko")
    assert status == 200 and updated["assignee"] == "mikko"


def test_a_note_is_on_the_timeline_for_agents_and_never_sent(desk, ticket):
    status, note = _call(desk, "post", f"/api/tickets/{ticket['id']}/notes", {"text": "Customer called too; VIP."})
    assert status == 201 and note["direction"] == "note" and note["author"]["name"] == "Ana Papadopoulou"
    shown = json.loads(desk.client.http.get(f"/api/tickets/{ticket['id']}", headers=_headers()).body)
    assert [m["direction"] for m in shown["messages"]] == ["in", "note"]
    assert shown["reply_options"]["public"]["allowed"]  # a note does not change whom a reply answers
    assert desk.queued("OUTBOUND_QUEUE_URL") == []


def test_done_without_a_reply_closes_with_the_reason(desk, ticket):
    status, updated = _call(desk, "post", f"/api/tickets/{ticket['id']}/done",
                            {"version": ticket["version"], "reason": "resolved_elsewhere", "note": "Solved by phone"})
    assert status == 200 and updated["status"] == "closed" and updated["done_without_reply"] is True
    assert updated["done_reason"] == "resolved_elsewhere" and _inbox(desk, "closed") == [ticket["id"]]
    assert [m["direction"] for m in stored.messages(desk.store(), ticket["id"])] == ["in", "event", "note"]


@pytest.mark.parametrize("path, body, field", [
    ("", {"status": "open"}, "version"),
    ("", {"version": 0}, "at least one"),
    ("", {"version": 0, "status": "archived"}, "status"),
    ("", {"version": 0, "priority": 101}, "priority"),
    ("", {"version": 0, "colour": "red"}, "colour"),
    ("/done", {"version": 0, "reason": "bored"}, "reason"),
    ("/notes", {"text": ""}, "text"),
])
def test_bad_bodies_are_400_naming_the_field(desk, ticket, path, body, field):
    method = "patch" if path == "" else "post"
    status, answer = _call(desk, method, f"/api/tickets/{ticket['id']}{path}", body)
    assert status == 400 and field in answer["error"]


def test_unknown_ticket_is_404_and_no_token_is_401(desk, ticket):
    assert _call(desk, "patch", "/api/tickets/nope", {"version": 0, "status": "open"})[0] == 404
    answer = desk.client.http.post(f"/api/tickets/{ticket['id']}/notes", body=json.dumps({"text": "x"}),
                                   headers={"Content-Type": "application/json"})
    assert answer.status_code == 401


def test_presence_is_read_and_set_by_the_agent_themself(desk, ticket):
    assert _call(desk, "get", "/api/agents/me/status", None)[1]["status"] == "offline"
    status, me = _call(desk, "put", "/api/agents/me/status", {"status": "online"})
    assert status == 200 and me["status"] == "online" and me["status_changed_at"]
    assert desk.store().agents.get("ana").status == "online"
    assert _call(desk, "put", "/api/agents/me/status", {"status": "asleep"})[0] == 400
    assert _call(desk, "get", "/api/agents/me/status", None, agent="stranger")[0] == 404


def test_only_supervisors_give_tickets_away_or_override_priority(desk, ticket):
    path = f"/api/tickets/{ticket['id']}"
    assert _call(desk, "patch", path, {"version": ticket["version"], "assignee": "wei"})[0] == 403
    assert _call(desk, "patch", path, {"version": ticket["version"], "priority": 80})[0] == 403
    status, mine = _call(desk, "patch", path, {"version": ticket["version"], "assignee": "ana"})  # taking it is fine
    assert status == 200 and mine["assignee"] == "ana"
    assert _call(desk, "patch", path, {"version": mine["version"], "assignee": "mikko"}, agent="mikko")[0] == 403
    assert stored.ticket(desk.store(), ticket["id"])["assignee"] == "ana"


def test_resolution_and_csat_roll_up_into_performance(desk, ticket):
    store = desk.store()
    status, mine = _call(desk, "post", f"/api/tickets/{ticket['id']}/claim", {"version": ticket["version"]})
    status, _ = _call(desk, "post", f"/api/tickets/{ticket['id']}/done", {"version": mine["version"], "reason": "other"})
    assert store.agents.get("ana").performance.resolution_seconds is not None
    rate = dict(agent="sam", role="supervisor")  # CSAT is the customer's answer, or a supervisor's entry
    status, rated = _call(desk, "post", f"/api/tickets/{ticket['id']}/csat", {"score": 5}, **rate)
    assert status == 201 and rated["agent_id"] == "ana" and store.agents.get("ana").performance.csat == 5
    assert _call(desk, "post", f"/api/tickets/{ticket['id']}/csat", {"score": 1}, **rate)[0] == 400  # once
    assert _call(desk, "post", f"/api/tickets/{ticket['id']}/csat", {"score": 6}, **rate)[0] == 400
