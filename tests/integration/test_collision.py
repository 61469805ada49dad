"""Collision detection through the API on moto (issue 16, point 1): two agents on one ticket see
each other in the ticket view, in the heartbeat's answer and on the inbox row; a reply or note
composed before a newer message is a 409 naming it, nothing stored or queued; "send anyway" (the
same Idempotency-Key, a newer `seen`) is one reply however often it is clicked, and a repeat of a
reply that went out is answered as before, never refused."""
from __future__ import annotations

import json

from infra.local import payloads as p
from tests import stored
from tests.conftest import TEST_SECRETS
from tests.integration import agent_http
from tests.integration.conftest import BRAND_X

FIRST_TWEET = "1850000000000000009"  # the ticket fixture's tweet
KIM = {"id": "42", "name": "Kim", "handle": "kim"}


def _call(desk, method, path, body=None, agent="ana", key=None):
    headers = {**agent_http.headers(agent), **({"Idempotency-Key": key} if key else {})}
    answer = getattr(desk.client.http, method)(path, headers=headers, body=json.dumps(body) if body is not None else None)
    return answer.status_code, json.loads(answer.body or b"null")


def _follow_up(desk, tweet_id: str, text: str) -> None:
    """Kim writes again in the same conversation (a reply to her first tweet), through the webhook."""
    body = p.encode(p.x_tweet_event(BRAND_X, tweet_id, KIM, text, in_reply_to=FIRST_TWEET))
    answer = desk.client.http.post("/webhooks/x", body=body, headers={
        "Content-Type": "application/json", **p.sign_x(body, TEST_SECRETS["X_CONSUMER_SECRET"])})
    assert answer.status_code == 200
    desk.drain(only=("ingest_worker",))


def _newest(view: dict) -> str:
    return view["messages"][-1]["id"]


def test_two_agents_see_each_other_on_the_ticket_its_inbox_row_and_the_heartbeat(desk, ticket):
    path = f"/api/tickets/{ticket['id']}"
    status, beat = _call(desk, "post", f"{path}/presence", {"state": "viewing"}, agent="ana")
    assert status == 200 and beat == {"state": "viewing", "viewers": []}
    status, beat = _call(desk, "post", f"{path}/presence", {"state": "typing"}, agent="wei")
    assert [(v["agent_id"], v["name"], v["state"]) for v in beat["viewers"]] == [("ana", "Ana Papadopoulou", "viewing")]
    # each sees the other, never herself
    assert [(v["name"], v["state"]) for v in _call(desk, "get", path, agent="ana")[1]["viewers"]] == [
        ("Wei Zhang", "typing")]
    assert [v["agent_id"] for v in _call(desk, "get", path, agent="wei")[1]["viewers"]] == ["ana"]
    [row] = _call(desk, "get", "/api/tickets", agent="mikko")[1]["items"]
    assert sorted(v["agent_id"] for v in row["viewers"]) == ["ana", "wei"]
    # Ana closes the ticket: she is gone at once
    assert _call(desk, "post", f"{path}/presence", {"state": "left"}, agent="ana")[0] == 200
    assert [v["agent_id"] for v in _call(desk, "get", path, agent="mikko")[1]["viewers"]] == ["wei"]


def test_a_heartbeat_with_an_unknown_state_or_field_is_400(desk, ticket):
    path = f"/api/tickets/{ticket['id']}/presence"
    assert _call(desk, "post", path, {"state": "lurking"})[0] == 400
    assert _call(desk, "post", path, {"state": "viewing", "ticket": "x"})[0] == 400
    assert _call(desk, "post", "/api/tickets/no-such-ticket/presence", {"state": "viewing"})[0] == 404


def test_a_stale_reply_is_409_naming_the_new_message_and_send_anyway_is_one_reply(desk, ticket):
    path = f"/api/tickets/{ticket['id']}"
    seen = _newest(_call(desk, "get", path, agent="ana")[1])
    _follow_up(desk, "1850000000000000010", "@NordlightShop also the cable is missing")
    reply = {"text": "Sorry Kim, a new lamp is on its way", "visibility": "public", "seen": seen}
    status, refused = _call(desk, "post", f"{path}/replies", reply, key="k-1")
    assert status == 409 and "unseen" in refused
    [unseen] = refused["unseen"]
    assert (unseen["direction"], unseen["author"]) == ("in", "Kim") and "cable is missing" in unseen["text"]
    assert desk.queued("OUTBOUND_QUEUE_URL") == []
    assert [m["direction"] for m in stored.messages(desk.store(), ticket["id"])] == ["in", "in"]
    # send anyway: the same key, what she has seen now; clicked twice, one reply
    anyway = {**reply, "seen": unseen["id"]}
    first, again = (_call(desk, "post", f"{path}/replies", anyway, key="k-1") for _ in range(2))
    assert (first[0], again[0]) == (202, 200) and first[1]["id"] == again[1]["id"]
    assert [m["direction"] for m in stored.messages(desk.store(), ticket["id"])] == ["in", "in", "out"]
    assert len(desk.queued("OUTBOUND_QUEUE_URL")) == 1


def test_a_reply_repeated_after_a_new_message_is_answered_as_before(desk, ticket):
    path = f"/api/tickets/{ticket['id']}"
    reply = {"text": "On it", "visibility": "public", "seen": _newest(_call(desk, "get", path)[1])}
    status, sent = _call(desk, "post", f"{path}/replies", reply, key="k-2")
    assert status == 202
    _follow_up(desk, "1850000000000000011", "@NordlightShop thanks!")
    status, repeat = _call(desk, "post", f"{path}/replies", reply, key="k-2")  # a retry after a lost answer
    assert status == 200 and repeat["id"] == sent["id"]
    status, _ = _call(desk, "post", f"{path}/replies", {**reply, "text": "More"}, key="k-3")  # a new one is stale
    assert status == 409


def test_a_stale_note_is_409_and_a_fresh_one_is_kept(desk, ticket):
    path = f"/api/tickets/{ticket['id']}"
    seen = _newest(_call(desk, "get", path, agent="wei")[1])
    _call(desk, "post", f"{path}/replies", {"text": "Hi Kim", "visibility": "public"}, agent="ana")
    status, refused = _call(desk, "post", f"{path}/notes", {"text": "I'll call her", "seen": seen}, agent="wei")
    assert status == 409 and [(u["direction"], u["author"]) for u in refused["unseen"]] == [
        ("out", "Ana Papadopoulou")]
    status, note = _call(desk, "post", f"{path}/notes", {"text": "I'll call her", "seen": refused["unseen"][0]["id"]},
                         agent="wei")
    assert status == 201 and note["direction"] == "note"
    assert _call(desk, "post", f"{path}/notes", {"text": "x", "seen": "not-a-message"}, agent="wei")[0] == 400
