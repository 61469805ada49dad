"""The local platform sandbox: recording contract, X and Graph endpoints, control endpoints."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Optional

import pytest

from infra.local import sandbox as sb

ROOT = Path(__file__).resolve().parents[2]
BRAND = "2244994945"
AUTH = {"Authorization": "Bearer test-token"}


@pytest.fixture
def box():
    running = sb.start(port=0)
    yield running
    running.stop()


def call(base: str, method: str, path: str, body: Any = None, headers: Optional[dict] = None,
         raw: Optional[bytes] = None) -> tuple[int, dict, Any]:
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode("utf-8"))
    request = urllib.request.Request(base + path, data=data, method=method, headers={
        **({"Content-Type": "application/json"} if data is not None else {}), **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            status, head, text = response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        status, head, text = exc.code, exc.headers, exc.read()
    return status, {k.lower(): v for k, v in head.items()}, json.loads(text) if text else None


# --- recording contract ----------------------------------------------------------------------

def test_every_platform_request_is_recorded_with_the_documented_fields(box):
    # Given a POST with a query string, custom headers and a non-ASCII JSON body
    body = {"text": "Olá, obrigado! ✓"}
    call(box.url, "POST", "/v21.0/123/anything?access_token=abc&x=1&x=2",
         raw=json.dumps(body, ensure_ascii=False).encode("utf-8"),
         headers={"X-Custom": "yes", "Content-Type": "application/json"})
    # When the recorded requests are listed over HTTP
    status, _, listing = call(box.url, "GET", "/_sandbox/requests")
    # Then the request is there with method, path, query (last value wins), headers and body text
    assert status == 200
    (entry,) = listing["requests"]
    assert set(entry) == {"method", "path", "query", "headers", "body"}
    assert entry["method"] == "POST"
    assert entry["path"] == "/v21.0/123/anything"
    assert entry["query"] == {"access_token": "abc", "x": "2"}
    assert entry["headers"]["X-Custom"] == "yes"
    assert json.loads(entry["body"]) == body
    assert "Olá" in entry["body"]
    # And the Python view agrees with the HTTP one
    assert box.requests == listing["requests"]


def test_control_endpoints_are_not_recorded_and_delete_clears(box):
    # Given one platform request and several control calls
    call(box.url, "GET", "/whatever")
    call(box.url, "GET", "/_sandbox/health")
    call(box.url, "POST", "/_sandbox/x/rate_limit", {"remaining": 10})
    # When the requests are listed
    _, _, listing = call(box.url, "GET", "/_sandbox/requests")
    # Then only the platform request was recorded
    assert [r["path"] for r in listing["requests"]] == ["/whatever"]
    # And DELETE empties the list
    status, _, _ = call(box.url, "DELETE", "/_sandbox/requests")
    assert status == 200
    assert call(box.url, "GET", "/_sandbox/requests")[2] == {"requests": []}


def test_requests_can_be_filtered_by_path_prefix(box):
    # Given requests to X and to the Graph API
    call(box.url, "POST", "/2/tweets", {"text": "hi"}, AUTH)
    call(box.url, "POST", "/v21.0/me/messages?access_token=t",
         {"recipient": {"id": "1"}, "message": {"text": "hi"}})
    # When listed with a path prefix
    _, _, listing = call(box.url, "GET", "/_sandbox/requests?path_prefix=/2/")
    # Then only the X call is listed
    assert [r["path"] for r in listing["requests"]] == ["/2/tweets"]


def test_health_and_unknown_paths(box):
    # Given a running sandbox
    # When health and an unknown platform path are called
    health = call(box.url, "GET", "/_sandbox/health")
    unknown = call(box.url, "POST", "/1.1/something/else.json", {"a": 1})
    # Then health is 200, the unknown path answers 200 {} and is still recorded
    assert health[0] == 200
    assert unknown[0] == 200 and unknown[2] == {}
    assert box.requests[-1]["path"] == "/1.1/something/else.json"


def test_chunked_bodies_are_recorded(box):
    # Given a request body sent with chunked transfer encoding
    import http.client

    conn = http.client.HTTPConnection(box.host, box.port, timeout=5)
    conn.request("POST", "/chunked", body=iter([b'{"a":', b' "b"}']),
                 headers={"Content-Type": "application/json"}, encode_chunked=True)
    # When the sandbox answers
    assert conn.getresponse().status == 200
    conn.close()
    # Then the whole body was read and recorded
    assert json.loads(box.requests[-1]["body"]) == {"a": "b"}


# --- X endpoints -----------------------------------------------------------------------------

def seed_over_http(box, ids, user_id=BRAND):
    tweets = [sb.x_tweet(str(i), f"@brand #{i}", "42", media_keys=["3_9"] if i == ids[0] else ())
              for i in ids]
    status, _, _ = call(box.url, "POST", "/_sandbox/x/mentions", {
        "user_id": user_id, "tweets": tweets,
        "users": [sb.x_user("42", "customer", followers=7), sb.x_user("43", "unrelated")],
        "media": [{"media_key": "3_9", "type": "photo", "url": "https://pbs.twimg.com/m.jpg"}]})
    assert status == 200


def test_mentions_answer_exactly_as_x_documents(box):
    # Given 3 mentions seeded over HTTP (one with a photo), and an unrelated user
    seed_over_http(box, [101, 103, 102])
    # When the timeline is read with expansions and fields
    status, headers, body = call(
        box.url, "GET", f"/2/users/{BRAND}/mentions?expansions=author_id,attachments.media_keys"
        "&tweet.fields=created_at,author_id,attachments&user.fields=public_metrics"
        "&media.fields=url", headers=AUTH)
    # Then it is the v2 shape: data newest first, includes for what the page references, meta
    assert status == 200
    assert list(body) == ["data", "includes", "meta"]
    assert [t["id"] for t in body["data"]] == ["103", "102", "101"]
    assert set(body["data"][0]) == {"id", "text", "edit_history_tweet_ids", "created_at", "author_id"}
    assert [u["username"] for u in body["includes"]["users"]] == ["customer"]
    assert body["includes"]["users"][0]["public_metrics"]["followers_count"] == 7
    assert body["includes"]["media"] == [
        {"media_key": "3_9", "type": "photo", "url": "https://pbs.twimg.com/m.jpg"}]
    assert body["meta"] == {"result_count": 3, "newest_id": "103", "oldest_id": "101"}
    # And the rate-limit headers are present, as epoch seconds for the reset
    assert int(headers["x-rate-limit-limit"]) >= int(headers["x-rate-limit-remaining"]) >= 0
    assert int(headers["x-rate-limit-reset"]) > time.time()


def test_mentions_without_field_parameters_return_only_defaults(box):
    # Given a seeded mention
    seed_over_http(box, [101])
    # When read without expansions or fields
    _, _, body = call(box.url, "GET", f"/2/users/{BRAND}/mentions", headers=AUTH)
    # Then only the default tweet fields come back, and no includes
    assert set(body["data"][0]) == {"id", "text", "edit_history_tweet_ids"}
    assert "includes" not in body


def test_mentions_paginate_with_default_page_size_and_since_id(box):
    # Given 25 mentions with ids 1001..1025
    box.seed_x_mentions(BRAND, [sb.x_tweet(str(1000 + n), "hi", "42") for n in range(1, 26)])
    # When read since 1003 with the default page size, following next_token
    pages, token = [], None
    while True:
        query = "?since_id=1003" + (f"&pagination_token={token}" if token else "")
        _, _, body = call(box.url, "GET", f"/2/users/{BRAND}/mentions{query}", headers=AUTH)
        pages.append([t["id"] for t in body["data"]])
        token = body["meta"].get("next_token")
        if not token:
            break
    # Then pages of 10, 10, 2 cover 1025..1004 exactly once, newest first
    assert [len(p) for p in pages] == [10, 10, 2]
    assert sum(pages, []) == [str(i) for i in range(1025, 1003, -1)]


def test_mentions_empty_answer(box):
    # Given no mentions newer than the cursor
    seed_over_http(box, [101])
    # When read since the newest id
    status, _, body = call(box.url, "GET", f"/2/users/{BRAND}/mentions?since_id=101", headers=AUTH)
    # Then X's empty answer comes back exactly
    assert status == 200
    assert body == {"meta": {"result_count": 0}}


@pytest.mark.parametrize("value", ["4", "101", "abc"])
def test_mentions_reject_out_of_range_max_results(box, value):
    # Given a max_results outside 5..100
    # When the timeline is read
    status, _, body = call(box.url, "GET", f"/2/users/{BRAND}/mentions?max_results={value}",
                           headers=AUTH)
    # Then X's invalid-request problem comes back
    assert status == 400
    assert body["title"] == "Invalid Request"
    assert body["errors"][0]["parameters"] == {"max_results": [value]}


def test_mentions_need_a_bearer_token(box):
    # Given a seeded timeline
    seed_over_http(box, [101])
    # When read without a token, or with another scheme
    missing = call(box.url, "GET", f"/2/users/{BRAND}/mentions")
    basic = call(box.url, "GET", f"/2/users/{BRAND}/mentions", headers={"Authorization": "Basic eDp5"})
    # Then both are 401 with X's problem body
    assert missing[0] == basic[0] == 401
    assert missing[2]["title"] == "Unauthorized"


def test_each_call_consumes_the_window_and_zero_answers_429(box):
    # Given a window with 2 calls left until a future reset
    reset = int(time.time()) + 600
    status, _, _ = call(box.url, "POST", "/_sandbox/x/rate_limit",
                        {"limit": 75, "remaining": 2, "reset": reset})
    assert status == 200
    path = f"/2/users/{BRAND}/mentions"
    # When the timeline is read three times
    answers = [call(box.url, "GET", path, headers=AUTH) for _ in range(3)]
    # Then the headers count down, and the third call is a 429 with X's error body
    assert [a[0] for a in answers] == [200, 200, 429]
    assert [a[1]["x-rate-limit-remaining"] for a in answers] == ["1", "0", "0"]
    assert {a[1]["x-rate-limit-limit"] for a in answers} == {"75"}
    assert {a[1]["x-rate-limit-reset"] for a in answers} == {str(reset)}
    assert answers[2][2]["errors"][0]["code"] == 88
    assert answers[2][2]["status"] == 429


def test_window_rolls_over_once_reset_has_passed(box):
    # Given an exhausted window whose reset time is already past
    box.set_x_rate_limit(limit=10, remaining=0, reset=int(time.time()) - 1)
    # When the timeline is read
    status, headers, _ = call(box.url, "GET", f"/2/users/{BRAND}/mentions", headers=AUTH)
    # Then a new window has started
    assert status == 200
    assert headers["x-rate-limit-remaining"] == "9"
    assert int(headers["x-rate-limit-reset"]) > time.time()


def test_post_tweet_answers_201_with_a_new_numeric_id(box):
    # Given an authorised client
    # When it posts two replies
    first = call(box.url, "POST", "/2/tweets",
                 {"text": "@ana we're on it", "reply": {"in_reply_to_tweet_id": "101"}}, AUTH)
    second = call(box.url, "POST", "/2/tweets", {"text": "second"}, AUTH)
    # Then each is 201 with a distinct numeric id and the text echoed
    assert first[0] == second[0] == 201
    assert first[2]["data"]["text"] == "@ana we're on it"
    ids = {first[2]["data"]["id"], second[2]["data"]["id"]}
    assert len(ids) == 2 and all(i.isdigit() for i in ids)
    # And the request body was recorded for later assertions
    assert json.loads(box.requests[0]["body"])["reply"] == {"in_reply_to_tweet_id": "101"}


def test_post_tweet_needs_auth_and_text(box):
    # Given requests missing a credential or a text
    # When posted
    no_auth = call(box.url, "POST", "/2/tweets", {"text": "x"})
    no_text = call(box.url, "POST", "/2/tweets", {"reply": {}}, AUTH)
    # Then X answers 401 and 400
    assert no_auth[0] == 401
    assert no_text[0] == 400


def test_send_dm_answers_201_with_conversation_and_event(box):
    # Given an authorised client
    # When it sends a DM to participant 42
    status, _, body = call(box.url, "POST", "/2/dm_conversations/with/42/messages",
                           {"text": "Hi, can you DM us your order number?"}, AUTH)
    # Then it is created, in the one-to-one conversation with 42
    assert status == 201
    assert body["data"]["dm_conversation_id"].split("-")[0] == "42"
    assert body["data"]["dm_event_id"].isdigit()


# --- Graph endpoints -------------------------------------------------------------------------

def test_whatsapp_send_answers_like_cloud_api(box):
    # Given a WhatsApp text message to +16505551234, who wrote to the number (24-hour window)
    box.customer_wrote("whatsapp", "106540352242922", "16505551234")
    # When it is sent through the phone number's messages edge
    status, _, body = call(box.url, "POST", "/v21.0/106540352242922/messages", {
        "messaging_product": "whatsapp", "to": "+16505551234", "type": "text",
        "text": {"body": "Thanks, we're on it"}}, AUTH)
    # Then the answer has the contact and a wamid
    assert status == 200
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": "+16505551234", "wa_id": "16505551234"}]
    assert body["messages"][0]["id"].startswith("wamid.")


def test_whatsapp_requires_messaging_product_whatsapp(box):
    # Given a body naming another messaging product
    # When it is sent
    status, _, body = call(box.url, "POST", "/v21.0/106540352242922/messages?access_token=t",
                           {"messaging_product": "sms", "to": "1"})
    # Then the Graph API error comes back
    assert status == 400
    assert body["error"]["code"] == 100


@pytest.mark.parametrize("node", ["me", "104523456789"])
def test_messenger_send_api(box, node):
    # Given a Messenger/Instagram message to a PSID who wrote to the page (24-hour window)
    box.customer_wrote("facebook", "104523456789", "6543210987")
    # When it is sent via /me/messages or /{page_id}/messages
    status, _, body = call(box.url, "POST", f"/v21.0/{node}/messages?access_token=t",
                           {"recipient": {"id": "6543210987"}, "messaging_type": "RESPONSE",
                            "message": {"text": "Hello"}})
    # Then the Send API answer names the recipient and a new message id
    assert status == 200
    assert body["recipient_id"] == "6543210987"
    assert body["message_id"].startswith("m_")


def test_messenger_send_api_accepts_form_encoded_bodies(box):
    # Given a form-encoded Send API call with JSON-valued fields, as the Graph API allows
    box.customer_wrote("facebook", "104523456789", "777")
    form = "recipient=%7B%22id%22%3A%22777%22%7D&message=%7B%22text%22%3A%22hi%22%7D&access_token=t"
    # When it is sent
    status, _, body = call(box.url, "POST", "/v21.0/me/messages", raw=form.encode(),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    # Then it is understood like the JSON form
    assert status == 200
    assert body["recipient_id"] == "777"


def test_graph_send_needs_an_access_token(box):
    # Given a Send API call without access_token or Authorization
    # When it is sent
    status, _, body = call(box.url, "POST", "/v21.0/me/messages",
                           {"recipient": {"id": "1"}, "message": {"text": "x"}})
    # Then the Graph API refuses it
    assert status == 400
    assert body["error"]["type"] == "OAuthException"


@pytest.mark.parametrize("edge", ["comments", "replies"])
def test_comment_replies_answer_a_new_id(box, edge):
    # Given a reply to a Facebook comment (post-prefixed id) or an Instagram comment
    # When it is posted
    fb = call(box.url, "POST", f"/v19.0/1234_5678/{edge}?access_token=t", {"message": "Sorry!"})
    ig = call(box.url, "POST", f"/v21.0/17858893269000001/{edge}?access_token=t", {"message": "Hi"})
    # Then each answer is a new id; Facebook's keeps the post prefix
    assert fb[0] == ig[0] == 200
    assert fb[2]["id"].startswith("1234_") and fb[2]["id"] != "1234_5678"
    assert ig[2]["id"].isdigit()


def test_private_reply_answers_an_id(box):
    # Given a private reply to a comment
    # When it is posted
    status, _, body = call(box.url, "POST", "/v21.0/1234_5678/private_replies",
                           {"message": "Check your inbox"}, AUTH)
    # Then it answers with an id
    assert status == 200
    assert body["id"]


# --- failure injection ------------------------------------------------------------------------

def test_fail_rule_fails_the_next_n_matching_requests_only(box):
    # Given the next 2 requests under /v21.0/me/ must fail with a 500 (user 1 wrote to the page)
    box.customer_wrote("facebook", "104523456789", "1")
    status, _, _ = call(box.url, "POST", "/_sandbox/fail",
                        {"path_prefix": "/v21.0/me/", "status": 500, "times": 2})
    assert status == 200
    send = {"recipient": {"id": "1"}, "message": {"text": "x"}}
    # When other paths, then the matching path, are called
    other = call(box.url, "POST", "/2/tweets", {"text": "x"}, AUTH)
    answers = [call(box.url, "POST", "/v21.0/me/messages?access_token=t", send) for _ in range(3)]
    # Then only the 2 matching requests failed, with a transient Graph error, and all were recorded
    assert other[0] == 201
    assert [a[0] for a in answers] == [500, 500, 200]
    assert answers[0][2]["error"]["is_transient"] is True
    assert len(box.requests) == 4


def test_fail_rule_can_skip_requests_and_set_the_body(box):
    # Given the second X call must fail with a 503 and a custom body
    box.fail_next("/2/", status=503, times=1, after=1, body={"custom": True})
    # When three calls are made (distinct texts: X refuses a duplicate)
    answers = [call(box.url, "POST", "/2/tweets", {"text": f"x{n}"}, AUTH) for n in range(3)]
    # Then only the second failed, with that body
    assert [a[0] for a in answers] == [201, 503, 201]
    assert answers[1][2] == {"custom": True}


def test_reset_forgets_state(box):
    # Given seeded mentions, a fail rule and a recorded request
    seed_over_http(box, [101])
    box.fail_next("/2/", status=500, times=5)
    call(box.url, "GET", "/x")
    # When the sandbox is reset over HTTP
    assert call(box.url, "POST", "/_sandbox/reset")[0] == 200
    # Then nothing remains
    assert box.requests == []
    status, _, body = call(box.url, "GET", f"/2/users/{BRAND}/mentions", headers=AUTH)
    assert status == 200 and body == {"meta": {"result_count": 0}}


# --- standalone -------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_module_runs_standalone():
    # Given the sandbox started as `python -m infra.local.sandbox --port N`
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "infra.local.sandbox", "--port", str(port)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = proc.stdout.readline()
        # When its health endpoint is called
        status, _, body = call(f"http://127.0.0.1:{port}", "GET", "/_sandbox/health")
        # Then it announced its address and answers
        assert f"http://127.0.0.1:{port}" in banner
        assert status == 200 and body == {"ok": True}
    finally:
        proc.terminate()
        proc.wait(timeout=5)
