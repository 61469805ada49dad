"""Approval for public replies (issue 16, point 2), through the agent API.

Each test ingests a real signed tweet, sets the brand's approval rules as its supervisor, replies as
an agent, and decides as a supervisor; the outbound worker runs from the real (moto) outbound queue
and the platform sandbox, over HTTP, says what reached X.
"""
from __future__ import annotations

import json

import pytest

from infra.local import payloads as p
from tests import stored
from tests.conftest import TEST_SECRETS
from tests.integration.agent_http import call
from tests.integration.conftest import connected_platforms

BRAND_X = "1500000000000000001"
CUSTOMER = {"id": "2244994945", "name": "Aino Korhonen", "handle": "ainok", "followers": 1200}
HELD_ON_X = {"channels": ["x"]}


@pytest.fixture
def desk_x(desk, aws_env):
    """The sandbox with nordlight's X account connected; ana (agent), sam (supervisor) of nordlight,
    olga (supervisor) of another brand; one ticket from a customer's tweet. Yields (desk, sandbox, ticket id)."""
    with connected_platforms(desk, aws_env, {("x", BRAND_X): "x-user-token-1"}) as sandbox:
        store = desk.store()
        stored.put_agent(store, {"id": "ana", "name": "Ana", "role": "agent", "brands": ["nordlight"]})
        stored.put_agent(store, {"id": "sam", "name": "Sam", "role": "supervisor", "brands": ["nordlight"]})
        stored.put_agent(store, {"id": "olga", "name": "Olga", "role": "supervisor", "brands": ["other"]})
        body = p.encode(p.x_tweet_event(BRAND_X, "1850000000000000001", CUSTOMER,
                                        "@NordlightShop my order #4411 never arrived"))
        answer = desk.client.http.post("/webhooks/x", body=body, headers={
            "Content-Type": "application/json", **p.sign_x(body, TEST_SECRETS["X_CONSUMER_SECRET"])})
        assert answer.status_code == 200
        desk.drain(only=("ingest_worker",))
        [ticket] = list(store.all_tickets())
        yield desk, sandbox, ticket["id"]


def _rules(desk, rules, brand="nordlight", agent="sam", role="supervisor"):
    status, current = call(desk, "get", "/api/approval-rules", None, agent, role)
    assert status == 200, current
    return call(desk, "put", f"/api/approval-rules/{brand}", {"version": current["version"], "rules": rules},
                agent, role)


def _reply(desk, ticket_id, text="So sorry, Aino! Checking #4411 now.", visibility="public", agent="ana",
           role="agent"):
    status, body = call(desk, "post", f"/api/tickets/{ticket_id}/replies", {"text": text, "visibility": visibility},
                        agent, role)
    assert status == 202, body
    return body


def _tweets(sandbox):
    return [r for r in sandbox.requests if r["method"] == "POST" and r["path"] == "/2/tweets"]


def test_a_held_reply_waits_then_an_edited_approval_reaches_x_exactly_once(desk_x):
    desk, sandbox, ticket_id = desk_x
    # Given nordlight holds its public replies on X
    status, saved = _rules(desk, HELD_ON_X)
    assert status == 200 and saved["brands"] == {"nordlight": {
        "channels": ["x"], "agents": [], "new_agents": False, "min_priority": None, "negative_sentiment": False}}
    # When ana answers publicly
    reply = _reply(desk, ticket_id)
    # Then it is stored pending approval and nothing is sent, whatever the worker does
    assert reply["status"] == "pending_approval" and reply["approval"]["reasons"] == ["channel: x"]
    desk.drain(only=("outbound_worker",))
    assert _tweets(sandbox) == []
    # And nordlight's supervisor sees it in the queue; another brand's supervisor does not
    status, queue = call(desk, "get", "/api/approvals", None, "sam", "supervisor")
    assert status == 200 and [i["id"] for i in queue["items"]] == [reply["id"]] and queue["next_cursor"] is None
    assert queue["items"][0]["reasons"] == ["channel: x"] and queue["items"][0]["author"]["name"] == "Ana"
    assert call(desk, "get", "/api/approvals", None, "olga", "supervisor") == (200, {"items": [], "next_cursor": None})
    assert call(desk, "get", "/api/approvals", None, "ana", "agent")[0] == 403
    # When the other brand's supervisor tries to decide it: 404, as for a missing one
    assert call(desk, "post", f"/api/approvals/{reply['id']}/approve", {}, "olga", "supervisor")[0] == 404
    assert call(desk, "post", f"/api/approvals/{reply['id']}/reject", {"reason": "no"}, "olga", "supervisor")[0] == 404
    # When sam edits and approves it
    status, approved = call(desk, "post", f"/api/approvals/{reply['id']}/approve",
                            {"text": "So sorry, Aino! Order #4411 ships today."}, "sam", "supervisor")
    assert status == 200, approved
    assert approved["status"] == "queued" and approved["approval"]["status"] == "approved"
    assert approved["approval"]["original_text"] == "So sorry, Aino! Checking #4411 now."
    # Then a second decision is a 409, and sends nothing more
    assert call(desk, "post", f"/api/approvals/{reply['id']}/approve", {}, "sam", "supervisor")[0] == 409
    assert call(desk, "post", f"/api/approvals/{reply['id']}/reject", {"reason": "late"}, "sam", "supervisor")[0] == 409
    desk.drain(only=("outbound_worker",))
    desk.drain(only=("outbound_worker",))
    [tweet] = _tweets(sandbox)
    assert json.loads(tweet["body"])["text"] == "So sorry, Aino! Order #4411 ships today."
    # And the queue is empty; the reply is sent; the first response counts from ana's submission
    assert call(desk, "get", "/api/approvals", None, "sam", "supervisor")[1]["items"] == []
    status, shown = call(desk, "get", f"/api/tickets/{ticket_id}", None)
    [out] = [m for m in shown["messages"] if m["direction"] == "out"]
    assert out["status"] == "sent" and shown["first_response_at"] == reply["created_at"] < out["sent_at"]
    # And the reports (fed by the table's stream) count the decision and its wait apart
    desk.drain()
    status, report = call(desk, "get", "/api/reports/summary?days=1", None, "sam", "supervisor")
    assert status == 200 and report["approvals"]["decided"] == 1 and report["approvals"]["rejected"] == 0
    assert report["approvals"]["mean_wait_seconds"] is not None and report["reply_rate"] == 1


def test_a_rejected_reply_is_never_sent_and_its_author_sees_why(desk_x):
    desk, sandbox, ticket_id = desk_x
    _rules(desk, HELD_ON_X)
    reply = _reply(desk, ticket_id)
    # A rejection needs a reason
    assert call(desk, "post", f"/api/approvals/{reply['id']}/reject", {}, "sam", "supervisor")[0] == 400
    assert call(desk, "post", f"/api/approvals/{reply['id']}/reject", {"reason": "  "}, "sam", "supervisor")[0] == 400
    status, rejected = call(desk, "post", f"/api/approvals/{reply['id']}/reject",
                            {"reason": "Don't promise a date"}, "sam", "supervisor")
    assert status == 200 and rejected["status"] == "rejected"
    assert call(desk, "post", f"/api/approvals/{reply['id']}/approve", {}, "sam", "supervisor")[0] == 409
    desk.drain(only=("outbound_worker",))
    assert _tweets(sandbox) == []
    status, shown = call(desk, "get", f"/api/tickets/{ticket_id}", None, "ana")
    [out] = [m for m in shown["messages"] if m["direction"] == "out"]
    assert out["status"] == "rejected" and out["approval"]["reason"] == "Don't promise a date"
    assert out["approval"]["decided_by"] == "sam" and not shown.get("first_response_at")


def test_what_is_not_held(desk_x):
    desk, sandbox, ticket_id = desk_x
    _rules(desk, {"channels": ["x"], "agents": ["ana"]})
    # A private reply, and a supervisor's own public reply, go out at once
    assert _reply(desk, ticket_id, "DM us your address", visibility="private")["status"] == "queued"
    assert _reply(desk, ticket_id, "On it", agent="sam", role="supervisor")["status"] == "queued"
    # Another brand's rules never hold nordlight's replies
    _rules(desk, None)
    _rules(desk, {"channels": ["x"]}, brand="other", agent="olga")
    assert _reply(desk, ticket_id, "Thanks!")["status"] == "queued"
    desk.drain(only=("outbound_worker",))
    assert len(_tweets(sandbox)) == 2


def test_new_agents_and_priority_rules_hold(desk_x):
    desk, _, ticket_id = desk_x
    # Given new agents' replies are held, and ana is marked new on her record by her supervisor
    _rules(desk, {"new_agents": True})
    status, agent = call(desk, "put", "/api/agents/ana", {"name": "Ana", "brands": ["nordlight"],
                                                          "needs_approval": True}, "sam", "supervisor")
    assert status == 200 and agent["needs_approval"] is True
    assert _reply(desk, ticket_id)["approval"]["reasons"] == ["new agent"]
    # When she is trusted, her replies go out
    call(desk, "put", "/api/agents/ana", {"name": "Ana", "brands": ["nordlight"]}, "sam", "supervisor")
    assert _reply(desk, ticket_id, "Anything else?")["status"] == "queued"


def test_the_rules_are_each_brands_own(desk_x):
    desk, _, _ = desk_x
    _rules(desk, {"channels": ["x"]})
    _rules(desk, {"min_priority": 70}, brand="other", agent="olga")
    # A supervisor reads only her brands' rules, and cannot save another brand's
    assert call(desk, "get", "/api/approval-rules", None, "olga", "supervisor")[1]["brands"] == {
        "other": {"channels": [], "agents": [], "new_agents": False, "min_priority": 70, "negative_sentiment": False}}
    status, current = call(desk, "get", "/api/approval-rules", None, "sam", "supervisor")
    assert list(current["brands"]) == ["nordlight"]
    assert call(desk, "put", "/api/approval-rules/other", {"version": current["version"], "rules": {}},
                "sam", "supervisor")[0] == 404
    # A stale version is a 409; an unknown channel a 400; agents may not set rules
    assert call(desk, "put", "/api/approval-rules/nordlight", {"version": 0, "rules": {}}, "sam", "supervisor")[0] == 409
    assert call(desk, "put", "/api/approval-rules/nordlight", {"version": current["version"],
                                                               "rules": {"channels": ["myspace"]}},
                "sam", "supervisor")[0] == 400
    assert call(desk, "put", "/api/approval-rules/nordlight", {"version": current["version"], "rules": {}},
                "ana", "agent")[0] == 403


def test_a_decision_on_a_stale_read_loses_the_race(desk_x):
    """Two supervisors read the same pending reply; the second decision's conditional write fails (409)."""
    from chalicelib.errors import ConcurrentUpdate
    from chalicelib.store.approvals import DynamoApprovalStore

    desk, _, ticket_id = desk_x
    _rules(desk, HELD_ON_X)
    reply = _reply(desk, ticket_id)
    store = desk.store()
    approvals = DynamoApprovalStore(store.table)
    record = approvals.record(reply["id"])
    read = store.messages.reply(ticket_id, record["message_sk"])  # both read it pending
    approvals.decide(read, record, {"status": "rejected"}, "2026-11-27T12:00:00+00:00", 5, rejected=True)
    with pytest.raises(ConcurrentUpdate):
        approvals.decide(read, record, {"status": "queued"}, "2026-11-27T12:00:01+00:00", 6, rejected=False)
    from chalicelib.store import keys

    item = store.table.get_item(Key=keys.ticket(ticket_id))["Item"]
    assert (item["approvals_n"], item["approvals_rejected"], item["approval_wait_s"]) == (1, 1, 5)
    assert approvals.pending("nordlight", None, 10) == ([], False)  # its queue entry went with the decision


def test_the_queue_is_paged_oldest_first_and_bad_cursors_are_refused(desk_x):
    desk, _, ticket_id = desk_x
    _rules(desk, HELD_ON_X)
    ids = [_reply(desk, ticket_id, f"Answer {n}")["id"] for n in range(3)]
    status, first = call(desk, "get", "/api/approvals?limit=2", None, "sam", "supervisor")
    assert status == 200 and [i["id"] for i in first["items"]] == ids[:2] and first["next_cursor"]
    status, second = call(desk, "get", f"/api/approvals?limit=2&cursor={first['next_cursor']}", None, "sam",
                          "supervisor")
    assert [i["id"] for i in second["items"]] == ids[2:] and second["next_cursor"] is None
    assert call(desk, "get", "/api/approvals?cursor=nonsense", None, "sam", "supervisor")[0] == 400
    assert call(desk, "get", "/api/approvals?limit=1000", None, "sam", "supervisor")[0] == 400
    assert call(desk, "post", "/api/approvals/no-such-reply/approve", {}, "sam", "supervisor")[0] == 404


def test_the_settings_route_shows_a_supervisor_only_her_brands_approval_rules(desk_x):
    desk, _, _ = desk_x
    _rules(desk, {"channels": ["x"]})
    _rules(desk, {"min_priority": 70}, brand="other", agent="olga")
    status, document = call(desk, "get", "/api/settings/approvals", None, "olga", "supervisor")
    assert status == 200 and list(document["brands"]) == ["other"]
    assert list(call(desk, "get", "/api/settings/approvals", None, "root", "admin")[1]["brands"]) == ["nordlight", "other"]


def _post_reply(desk, ticket_id, key, text="So sorry, Aino! Checking #4411 now."):
    from tests.integration.agent_http import headers

    answer = desk.client.http.post(f"/api/tickets/{ticket_id}/replies", body=json.dumps(
        {"text": text, "visibility": "public"}), headers={**headers("ana", "agent"), "Idempotency-Key": key})
    return answer.status_code, json.loads(answer.body or b"null")


def _queue_partition(desk, brand="nordlight"):
    from chalicelib.store import keys

    table = desk.store().table
    return table.query(KeyConditionExpression="PK = :pk",
                       ExpressionAttributeValues={":pk": keys.approvals_partition(brand)})["Items"]


def test_a_crash_right_after_the_held_reply_is_stored_never_hides_it(desk_x, monkeypatch):
    """The queue entry is written before the reply: a worker that dies just after the put (and an
    agent who never retries) still leaves the reply in the supervisors' queue."""
    from chalicelib.store.messages import DynamoMessageStore

    desk, _, ticket_id = desk_x
    assert _rules(desk, HELD_ON_X)[0] == 200
    real = DynamoMessageStore.put_reply

    def put_then_die(self, reply, key=None):
        real(self, reply, key)
        raise RuntimeError("the function was stopped here")

    monkeypatch.setattr(DynamoMessageStore, "put_reply", put_then_die)
    status, _ = _post_reply(desk, ticket_id, "k-crash")
    assert status == 500
    monkeypatch.setattr(DynamoMessageStore, "put_reply", real)
    status, queue = call(desk, "get", "/api/approvals", None, "sam", "supervisor")
    assert status == 200 and [i["text"] for i in queue["items"]] == ["So sorry, Aino! Checking #4411 now."]


def test_a_repeated_request_lists_its_held_reply_once_and_leaves_no_stray_entry(desk_x):
    desk, _, ticket_id = desk_x
    assert _rules(desk, HELD_ON_X)[0] == 200
    first = _post_reply(desk, ticket_id, "k-double")
    again = _post_reply(desk, ticket_id, "k-double")  # the double-click: the same Idempotency-Key
    assert first[0] == 202 and again[0] == 200 and again[1]["id"] == first[1]["id"]
    status, queue = call(desk, "get", "/api/approvals", None, "sam", "supervisor")
    assert [i["id"] for i in queue["items"]] == [first[1]["id"]]
    assert len(_queue_partition(desk)) == 1  # the second request's entry went when the first reply was kept
    # and once decided, a third repeat neither re-queues it nor undoes the decision
    assert call(desk, "post", f"/api/approvals/{first[1]['id']}/reject", {"reason": "tone"}, "sam", "supervisor")[0] == 200
    assert _post_reply(desk, ticket_id, "k-double")[0] == 200
    assert _queue_partition(desk) == []
    assert call(desk, "post", f"/api/approvals/{first[1]['id']}/approve", {}, "sam", "supervisor")[0] == 409


def test_a_stray_entry_whose_reply_was_never_stored_is_swept_by_the_queues_read(desk_x, monkeypatch):
    """A request that died between the queue entry and the reply's put leaves an entry with no
    reply: the queue never shows it, and a read ten minutes on deletes it."""
    from datetime import timedelta

    from chalicelib.models import utcnow
    from chalicelib.outbound import approvals
    from chalicelib.store.messages import DynamoMessageStore

    desk, _, ticket_id = desk_x
    assert _rules(desk, HELD_ON_X)[0] == 200

    def die(self, reply, key=None):
        raise RuntimeError("the function was stopped before the put")

    real = DynamoMessageStore.put_reply
    monkeypatch.setattr(DynamoMessageStore, "put_reply", die)
    assert _post_reply(desk, ticket_id, "k-stray")[0] == 500
    monkeypatch.setattr(DynamoMessageStore, "put_reply", real)
    assert len(_queue_partition(desk)) == 1
    assert call(desk, "get", "/api/approvals", None, "sam", "supervisor")[1]["items"] == []
    assert len(_queue_partition(desk)) == 1  # too young to be called a stray
    later = utcnow() + approvals.STRAY_AFTER + timedelta(seconds=5)
    monkeypatch.setattr(approvals, "utcnow", lambda: later)
    assert call(desk, "get", "/api/approvals", None, "sam", "supervisor")[1]["items"] == []
    assert _queue_partition(desk) == []
