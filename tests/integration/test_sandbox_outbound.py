"""The platform sandbox as the outbound worker meets it: tokens, stored posts and their lookups,
length and reply-window checks, more ways to fail, and the brand's posts echoed as webhooks."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional

import pytest
import requests

from chalicelib.channels.meta import webhook as meta
from chalicelib.channels.x import webhook as x
from infra.local import sandbox as sb
from tests.unit.parsing import meta_parse

BRAND = "2244994945"
PAGE = "104523456789"
IG = "17841400000000001"
PHONE = "106540352242922"
CUSTOMER = "6543210987"
WA_CUSTOMER = "16505551234"
X_SECRET = "x-consumer-secret"
META_SECRET = "meta-app-secret"
AUTH = {"Authorization": "Bearer test-token"}
HOUR = 3600


@pytest.fixture
def box():
    running = sb.start(port=0)
    yield running
    running.stop()


def call(box, method: str, path: str, body: Any = None, headers: Optional[dict] = None,
         data: Optional[str] = None, timeout: float = 5) -> requests.Response:
    return requests.request(method, box.url + path, json=body, data=data, headers=headers,
                            timeout=timeout)


def graph(box, method: str, path: str, body: Any = None, token: str = "t") -> requests.Response:
    separator = "&" if "?" in path else "?"
    return call(box, method, f"/v21.0{path}{separator}access_token={token}", body)


def send_api(box, node: str = PAGE, user: str = CUSTOMER, text: str = "Hello", **extra):
    return graph(box, "POST", f"/{node}/messages",
                 {"recipient": {"id": user}, "messaging_type": "RESPONSE",
                  "message": {"text": text}, **extra})


def whatsapp(box, to: str = WA_CUSTOMER, **extra):
    body = {"messaging_product": "whatsapp", "to": to, "type": "text",
            "text": {"body": "Thanks, we're on it"}, **extra}
    return graph(box, "POST", f"/{PHONE}/messages", body)


# --- tokens ----------------------------------------------------------------------------------

def test_x_takes_only_registered_unexpired_tokens_once_one_is_registered(box):
    # Given any credential works until a token is registered
    anyone = {"Authorization": "Bearer any"}
    assert call(box, "POST", "/2/tweets", {"text": "before"}, anyone).status_code == 201
    box.add_token("good", "x", user_id="42")
    call(box, "POST", "/_sandbox/tokens", {"token": "old", "platform": "x", "expired": True})
    # When posting with an unknown, an expired and the registered token
    unknown = call(box, "POST", "/2/tweets", {"text": "a"}, {"Authorization": "Bearer nope"})
    expired = call(box, "POST", "/2/tweets", {"text": "b"}, {"Authorization": "Bearer old"})
    good = call(box, "POST", "/2/tweets", {"text": "c"}, {"Authorization": "Bearer good"})
    # Then unknown and expired get X's 401 problem, and the good token posts as its user
    assert unknown.status_code == expired.status_code == 401
    assert unknown.json() == {"title": "Unauthorized", "type": "about:blank", "status": 401,
                              "detail": "Unauthorized"}
    assert good.status_code == 201
    assert box.posts("x")[-1]["object"]["author_id"] == "42"
    # And the app-only mentions timeline still takes any bearer
    assert call(box, "GET", f"/2/users/{BRAND}/mentions", headers=AUTH).status_code == 200


def test_graph_answers_190_for_unknown_and_463_for_expired_tokens(box):
    # Given a registered page token, and one that has expired
    box.add_token("page-token", "graph", user_id=PAGE)
    box.add_token("stale", "graph")
    box.expire_token("stale")
    box.customer_wrote("facebook", PAGE, CUSTOMER)
    # When the Send API is called with each
    message = {"recipient": {"id": CUSTOMER}, "message": {"text": "x"}}
    unknown = graph(box, "POST", f"/{PAGE}/messages", message, token="who")
    expired = graph(box, "POST", f"/{PAGE}/messages", message, token="stale")
    good = call(box, "POST", "/v21.0/me/messages", message, {"Authorization": "Bearer page-token"})
    # Then Graph's OAuthException 190 comes back (subcode 463 when expired) as HTTP 400
    assert unknown.status_code == expired.status_code == 400
    error = unknown.json()["error"]
    assert (error["code"], error["type"]) == (190, "OAuthException")
    assert error["message"] == "Invalid OAuth access token - Cannot parse access token"
    assert error["fbtrace_id"] and "error_subcode" not in error
    stale = expired.json()["error"]
    assert (stale["code"], stale["error_subcode"]) == (190, 463)
    assert stale["message"].startswith("Error validating access token: Session has expired on "
                                       "Friday, 01-Jan-2027 00:00:00 PST. The current time is ")
    # And /me resolves to the token's page
    assert good.status_code == 200
    assert box.posts("messenger")[0]["object"]["from"] == {"id": PAGE}


def test_refresh_rotates_both_tokens(box):
    # Given a registered X user token with a refresh token
    box.add_token("access-1", "x", user_id="42", refresh_token="refresh-1", client_id="app")
    form = "grant_type=refresh_token&refresh_token=refresh-1&client_id=app"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    # When the client refreshes
    answer = call(box, "POST", "/2/oauth2/token", data=form, headers=headers)
    # Then X's token answer carries a new access token and a new refresh token
    assert answer.status_code == 200
    issued = answer.json()
    assert issued["token_type"] == "bearer" and issued["expires_in"] == 7200
    assert issued["scope"] == "tweet.read tweet.write users.read dm.read dm.write offline.access"
    assert issued["access_token"] != "access-1" and issued["refresh_token"] != "refresh-1"
    # And the new access token posts as the same user, the old one is expired
    new = {"Authorization": f"Bearer {issued['access_token']}"}
    assert call(box, "POST", "/2/tweets", {"text": "hi"}, new).status_code == 201
    assert box.posts("x")[0]["account_id"] == "42"
    assert call(box, "POST", "/2/tweets", {"text": "ho"},
                {"Authorization": "Bearer access-1"}).status_code == 401
    # And the old refresh token is refused, the new one works
    again = call(box, "POST", "/2/oauth2/token", data=form, headers=headers)
    assert again.status_code == 400
    assert again.json() == {"error": "invalid_request",
                            "error_description": "Value passed for the token was invalid."}
    rotated = form.replace("refresh-1", issued["refresh_token"])
    assert call(box, "POST", "/2/oauth2/token", data=rotated, headers=headers).status_code == 200
    # And every exchange was recorded
    assert len(box.requests_to("/2/oauth2/token")) == 3


# --- X: stored posts and lookups ---------------------------------------------------------------

def test_posted_tweets_are_found_in_the_users_timeline(box):
    # Given a customer's mention, and our reply to it posted with a token of the brand
    box.seed_x_mentions(BRAND, [sb.x_tweet("101", "@brand help", "42", conversation_id="100")])
    box.add_token("brand-token", "x", user_id=BRAND)
    auth = {"Authorization": "Bearer brand-token"}
    reply = call(box, "POST", "/2/tweets",
                 {"text": "@ana on it", "reply": {"in_reply_to_tweet_id": "101"}}, auth).json()
    other = call(box, "POST", "/2/tweets", {"text": "news"}, auth).json()
    # When the brand's timeline is read with fields
    answer = call(box, "GET", f"/2/users/{BRAND}/tweets?max_results=5&tweet.fields=created_at,"
                  "author_id,conversation_id,referenced_tweets,in_reply_to_user_id", headers=auth)
    # Then both posts are there, newest first, with the reply's thread fields
    assert answer.status_code == 200
    body = answer.json()
    assert [t["id"] for t in body["data"]] == [other["data"]["id"], reply["data"]["id"]]
    posted = body["data"][1]
    assert posted["author_id"] == BRAND and posted["created_at"].endswith("Z")
    assert posted["conversation_id"] == "100"
    assert posted["referenced_tweets"] == [{"type": "replied_to", "id": "101"}]
    assert posted["in_reply_to_user_id"] == "42"
    assert body["meta"] == {"result_count": 2, "newest_id": other["data"]["id"],
                            "oldest_id": reply["data"]["id"]}
    # And since_id narrows it, default fields only; the window is "user_tweets" (limit 900)
    later = call(box, "GET", f"/2/users/{BRAND}/tweets?since_id={reply['data']['id']}", headers=auth)
    assert [t["id"] for t in later.json()["data"]] == [other["data"]["id"]]
    assert set(later.json()["data"][0]) == {"id", "text", "edit_history_tweet_ids"}
    assert later.headers["x-rate-limit-limit"] == "900"
    assert later.headers["x-rate-limit-remaining"] == "898"


def test_duplicate_tweet_is_forbidden(box):
    # Given a tweet already posted by our user
    assert call(box, "POST", "/2/tweets", {"text": "Sorry about that!"}, AUTH).status_code == 201
    # When the same user posts the same text again
    again = call(box, "POST", "/2/tweets", {"text": "Sorry about that!"}, AUTH)
    # Then X refuses it, and only one tweet is stored
    assert again.status_code == 403
    assert again.json() == {"detail": "You are not allowed to create a Tweet with duplicate content.",
                            "type": "about:blank", "title": "Forbidden", "status": 403}
    assert len(box.posts("x")) == 1


@pytest.mark.parametrize("text, status", [
    ("a" * 280, 201),
    ("a" * 281, 400),
    ("\u4f60" * 140, 201),  # CJK counts 2
    ("\u4f60" * 141, 400),
    ("see https://example.com/" + "x" * 300 + " " + "b" * 252, 201),  # a URL counts 23
    ("\u201cquoted\u201d \u2014 " + "c" * 268, 201),  # typographic punctuation counts 1
])
def test_tweet_weighted_length(box, text, status):
    # Given a text of a given weighted length
    # When it is posted
    answer = call(box, "POST", "/2/tweets", {"text": text}, AUTH)
    # Then over 280 is refused with X's problem
    assert answer.status_code == status
    if status == 400:
        assert answer.json()["detail"] == "Tweet text is too long"


def test_sent_dms_are_listed_in_the_conversation(box):
    # Given two DMs from our account to participant 42, and one to someone else
    first = call(box, "POST", "/2/dm_conversations/with/42/messages", {"text": "one"}, AUTH).json()
    second = call(box, "POST", "/2/dm_conversations/with/42/messages", {"text": "two"}, AUTH).json()
    call(box, "POST", "/2/dm_conversations/with/43/messages", {"text": "other"}, AUTH)
    # When the conversation's events are read, with and without fields
    plain = call(box, "GET", "/2/dm_conversations/with/42/dm_events", headers=AUTH).json()
    full = call(box, "GET", "/2/dm_conversations/with/42/dm_events?dm_event.fields="
                "sender_id,created_at,dm_conversation_id", headers=AUTH).json()
    # Then that pair's events come back newest first
    assert [e["id"] for e in plain["data"]] == [second["data"]["dm_event_id"],
                                               first["data"]["dm_event_id"]]
    assert plain["data"][0] == {"id": second["data"]["dm_event_id"], "event_type": "MessageCreate",
                                "text": "two"}
    assert plain["meta"] == {"result_count": 2}
    assert full["data"][0]["sender_id"] == sb.SANDBOX_X_USER_ID
    assert full["data"][0]["dm_conversation_id"] == first["data"]["dm_conversation_id"]
    assert full["data"][0]["created_at"].endswith("Z")


def test_dm_text_limit(box):
    # Given a DM of 10,001 characters
    # When sent
    answer = call(box, "POST", "/2/dm_conversations/with/42/messages", {"text": "a" * 10001}, AUTH)
    # Then X refuses it, and 10,000 is fine
    assert answer.status_code == 400 and answer.json()["status"] == 400
    assert call(box, "POST", "/2/dm_conversations/with/42/messages",
                {"text": "a" * 10000}, AUTH).status_code == 201


# --- Meta: stored posts and lookups ------------------------------------------------------------

def test_facebook_comment_reply_is_listed_under_the_comment(box):
    # Given a reply posted under a customer's comment
    posted = graph(box, "POST", "/1234_5678/comments", {"message": "Sorry! DM us"}).json()
    # When the comment's replies are read with fields
    listing = graph(box, "GET", "/1234_5678/comments?fields=message,from{id,name}").json()
    # Then the reply is there with only the fields asked for, plus id
    (reply,) = listing["data"]
    assert reply == {"id": posted["id"], "message": "Sorry! DM us",
                     "from": {"id": "0", "name": "Sandbox Page"}}
    assert set(listing["paging"]["cursors"]) == {"before", "after"}
    stored = box.posts("facebook")[0]["object"]
    assert stored["parent"] == {"id": "1234_5678"}
    assert stored["created_time"].endswith("+0000")
    # And another comment has no replies
    assert graph(box, "GET", "/1234_9999/comments").json() == {"data": []}


def test_instagram_replies_and_mention_replies(box):
    # Given a reply to an Instagram comment and a reply to a mention
    reply = graph(box, "POST", "/17858893269000001/replies", {"message": "Hi!"}).json()
    mention = graph(box, "POST", f"/{IG}/mentions",
                    {"media_id": "17999", "comment_id": "17888", "message": "Thanks!"}).json()
    # When the comment's replies are read
    listing = graph(box, "GET", "/17858893269000001/replies?fields=text,timestamp,from,parent_id")
    # Then the reply is listed, and the mention reply was stored too
    (item,) = listing.json()["data"]
    assert item["id"] == reply["id"] and item["text"] == "Hi!"
    assert item["from"]["username"] == "sandbox_brand"
    assert item["parent_id"] == "17858893269000001"
    assert mention["id"]
    kinds = {(p["kind"], p["id"]) for p in box.posts("instagram")}
    assert ("mention_reply", mention["id"]) in kinds
    posts = call(box, "GET", "/_sandbox/posts?platform=instagram").json()["posts"]
    assert len(posts) == 2


@pytest.mark.parametrize("path, limit", [("/1234_5678/comments", 8000),
                                         ("/17858893269000001/replies", 2200)])
def test_comment_length_limits(box, path, limit):
    # Given a comment just over the platform's limit
    # When posted
    over = graph(box, "POST", path, {"message": "a" * (limit + 1)})
    # Then Graph refuses it with code 100, and the limit itself is fine
    assert over.status_code == 400 and over.json()["error"]["code"] == 100
    assert graph(box, "POST", path, {"message": "a" * limit}).status_code == 200


def test_send_api_messages_are_listed_in_the_conversation(box):
    # Given the customer wrote, and two replies were sent
    box.customer_wrote("facebook", PAGE, CUSTOMER)
    first = send_api(box, text="one").json()
    second = send_api(box, text="two", message={"text": "two", "metadata": "ticket-1"}).json()
    # When the page's conversation with the user is read
    answer = graph(box, "GET", f"/{PAGE}/conversations?platform=messenger&user_id={CUSTOMER}"
                   "&fields=messages{id,message,from,created_time}").json()
    # Then one thread holds both, newest first
    (thread,) = answer["data"]
    assert thread["id"].startswith("t_")
    assert [m["id"] for m in thread["messages"]["data"]] == [second["message_id"],
                                                             first["message_id"]]
    assert thread["messages"]["data"][0]["from"] == {"id": PAGE}
    assert thread["messages"]["data"][0]["message"] == "two"
    # And the thread id is stable, and an unknown user has none
    assert graph(box, "GET", f"/{PAGE}/conversations?user_id={CUSTOMER}").json()["data"][0]["id"] \
        == thread["id"]
    assert graph(box, "GET", f"/{PAGE}/conversations?user_id=1").json() == {"data": []}


def test_send_api_text_limit(box):
    # Given a customer inside the window and a 2,001-character text
    box.customer_wrote("facebook", PAGE, CUSTOMER)
    # When sent
    answer = send_api(box, text="a" * 2001)
    # Then Messenger's limit error comes back
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == 100
    assert answer.json()["error"]["message"] == \
        "(#100) Length of param message[text] must be less than or equal to 2000"


def test_whatsapp_messages_are_stored_with_callback_data_and_context(box):
    # Given the customer wrote to the number
    box.customer_wrote("whatsapp", PHONE, "+" + WA_CUSTOMER)
    # When a reply quoting their message is sent
    answer = whatsapp(box, biz_opaque_callback_data="ticket-7", context={"message_id": "wamid.IN"})
    # Then it is stored under its wamid with the callback data and the context
    wamid = answer.json()["messages"][0]["id"]
    (post,) = box.posts("whatsapp")
    assert post["id"] == wamid and post["target"] == WA_CUSTOMER
    assert post["object"]["biz_opaque_callback_data"] == "ticket-7"
    assert post["object"]["context"] == {"message_id": "wamid.IN"}


def test_whatsapp_text_limit(box):
    # Given the customer wrote, and a body of 4,097 characters
    box.customer_wrote("whatsapp", PHONE, WA_CUSTOMER)
    # When sent
    answer = whatsapp(box, text={"body": "a" * 4097})
    # Then it is refused with code 100
    assert answer.status_code == 400 and answer.json()["error"]["code"] == 100


# --- reply windows -----------------------------------------------------------------------------

def test_send_api_window(box):
    # Given one customer who wrote an hour ago, one 25 hours ago, one 8 days ago
    now = time.time()
    box.customer_wrote("facebook", PAGE, "1", at=now - HOUR)
    call(box, "POST", "/_sandbox/inbound",
         {"platform": "facebook", "account_id": PAGE, "user_id": "2", "at": now - 25 * HOUR})
    box.customer_wrote("facebook", PAGE, "3", at=now - 8 * 24 * HOUR)
    tag = {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    # When replies are sent, with and without the HUMAN_AGENT tag
    inside = send_api(box, user="1")
    outside = send_api(box, user="2")
    tagged = send_api(box, user="2", **tag)
    too_late = send_api(box, user="3", **tag)
    stranger = send_api(box, user="4")
    # Then inside 24 h works, the tag stretches it to 7 days, and no further
    assert inside.status_code == tagged.status_code == 200
    assert outside.status_code == too_late.status_code == 400
    error = outside.json()["error"]
    assert (error["code"], error["error_subcode"], error["type"]) == (10, 2018278, "OAuthException")
    assert error["message"] == (
        "(#10) This message is sent outside of allowed window. Learn more about the new policy "
        "here: https://developers.facebook.com/docs/messenger-platform/policy-overview")
    # And a user who never wrote is not found
    assert stranger.status_code == 400
    assert stranger.json()["error"]["code"] == 100
    assert stranger.json()["error"]["error_subcode"] == 2018001
    assert stranger.json()["error"]["message"] == "(#100) No matching user found"


def test_private_reply_once_per_comment_within_seven_days(box):
    # Given a comment from yesterday and one from 8 days ago
    now = time.time()
    box.customer_wrote("facebook", PAGE, CUSTOMER, at=now - 24 * HOUR, comment_id="1234_1")
    box.customer_wrote("facebook", PAGE, "99", at=now - 8 * 24 * HOUR, comment_id="1234_2")
    # When private replies are sent to them (one twice), through both edges
    first = graph(box, "POST", f"/{PAGE}/messages",
                  {"recipient": {"comment_id": "1234_1"}, "message": {"text": "DM us"}})
    second = graph(box, "POST", f"/{PAGE}/messages",
                   {"recipient": {"comment_id": "1234_1"}, "message": {"text": "again"}})
    legacy_again = graph(box, "POST", "/1234_1/private_replies", {"message": "again"})
    old = graph(box, "POST", "/1234_2/private_replies", {"message": "late"})
    unknown = graph(box, "POST", "/1234_3/private_replies", {"message": "hi"})
    # Then only the first reply to a recent comment goes through; unknown comments are allowed
    assert first.status_code == 200 and first.json()["recipient_id"] == CUSTOMER
    for refused in (second, legacy_again, old):
        assert refused.status_code == 400
        error = refused.json()["error"]
        assert (error["code"], error["error_subcode"]) == (10, 2018278)
        assert error["message"].startswith("(#10) This message is sent outside of allowed window.")
    assert unknown.status_code == 200 and unknown.json()["id"].startswith("m_")
    # And the private reply counts in the conversation with the commenter
    thread = graph(box, "GET", f"/{PAGE}/conversations?user_id={CUSTOMER}").json()["data"][0]
    assert thread["messages"]["data"][0]["message"] == "DM us"


def test_whatsapp_window_and_templates(box):
    # Given a customer who last wrote 25 hours ago
    box.customer_wrote("whatsapp", PHONE, WA_CUSTOMER, at=time.time() - 25 * HOUR)
    # When a free-form text and a template are sent
    text = whatsapp(box)
    template = graph(box, "POST", f"/{PHONE}/messages", {
        "messaging_product": "whatsapp", "to": WA_CUSTOMER, "type": "template",
        "template": {"name": "follow_up", "language": {"code": "en"}}})
    # Then the text is refused as a re-engagement message, the template goes out
    assert text.status_code == 400
    error = text.json()["error"]
    assert error["message"] == "(#131047) Re-engagement message"
    assert (error["code"], error["type"]) == (131047, "OAuthException")
    assert error["error_data"] == {
        "messaging_product": "whatsapp",
        "details": "Message failed to send because more than 24 hours have passed since the "
                   "customer last replied to this number."}
    assert template.status_code == 200
    # And once the customer writes again, text is allowed
    box.customer_wrote("whatsapp", PHONE, WA_CUSTOMER)
    assert whatsapp(box).status_code == 200


# --- more ways to fail -------------------------------------------------------------------------

def test_timeout_after_accept_stores_the_post_but_answers_too_late(box):
    # Given the next tweet is accepted but answered after 1 s
    call(box, "POST", "/_sandbox/fail",
         {"path_prefix": "/2/tweets", "mode": "timeout_after_accept", "delay": 1.0})
    # When a client with a 0.5 s read timeout posts
    with pytest.raises(requests.exceptions.ReadTimeout):
        call(box, "POST", "/2/tweets", {"text": "did it go?"}, AUTH, timeout=0.5)
    # Then the tweet was stored and can be found in the timeline
    assert [p["object"]["text"] for p in box.posts("x")] == ["did it go?"]
    found = call(box, "GET", f"/2/users/{sb.SANDBOX_X_USER_ID}/tweets", headers=AUTH).json()
    assert found["data"][0]["text"] == "did it go?"


def test_graph_429_default_body_and_usage_headers(box):
    # Given the next Send API call is throttled
    box.fail_next(f"/v21.0/{PAGE}/messages", status=429)
    # When it is made
    answer = send_api(box)
    # Then Graph's page throttling error and usage headers come back
    assert answer.status_code == 429
    error = answer.json()["error"]
    assert (error["code"], error["is_transient"], error["type"]) == (80001, True, "OAuthException")
    assert error["message"].startswith("(#80001) There have been too many calls to this Page")
    usage = json.loads(answer.headers["X-Business-Use-Case-Usage"])
    assert usage[PAGE][0]["type"] == "pages" and usage[PAGE][0]["call_count"] == 100
    assert usage[PAGE][0]["estimated_time_to_regain_access"] == 0
    assert json.loads(answer.headers["X-App-Usage"]) == {"call_count": 100, "total_time": 20,
                                                         "total_cputime": 20}


def test_fail_rule_headers_are_added_and_x_keeps_rate_limit_headers(box):
    # Given an X failure with a Retry-After header
    box.fail_next("/2/tweets", status=503, headers={"Retry-After": "7"})
    # When a tweet is posted
    answer = call(box, "POST", "/2/tweets", {"text": "x"}, AUTH)
    # Then the header is there next to X's rate-limit headers
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "7"
    assert "x-rate-limit-remaining" in answer.headers


@pytest.mark.parametrize("method, path", [
    ("GET", f"/2/users/{BRAND}/tweets"),
    ("GET", "/2/dm_conversations/with/42/dm_events"),
    ("POST", "/2/oauth2/token"),
    ("GET", "/v21.0/1234_5678/comments?access_token=t"),
    ("POST", f"/v21.0/{IG}/mentions?access_token=t"),
    ("GET", f"/v21.0/{PAGE}/conversations?access_token=t"),
])
def test_fail_rules_cover_the_new_endpoints(box, method, path):
    # Given the next 2 calls to an endpoint must fail with a 500
    box.fail_next(path.split("?")[0], status=500, times=2)
    # When it is called three times
    statuses = [call(box, method, path, headers=AUTH).status_code for _ in range(3)]
    # Then two failures, then the endpoint's own answer
    assert statuses[:2] == [500, 500] and statuses[2] != 500


# --- echoes ------------------------------------------------------------------------------------

def check_echo(echo: dict) -> Any:
    """Verify an echo's signature as the desk does, and parse it with the desk's adapter."""
    raw = echo["body"].encode("utf-8")
    assert echo["headers"]["Content-Type"] == "application/json"
    if echo["path"] == "/webhooks/x":
        x.verify(raw, echo["headers"][x.SIGNATURE_HEADER], X_SECRET)
        return x.parse(json.loads(raw))
    assert echo["path"] == "/webhooks/meta"
    meta.verify(raw, echo["headers"][meta.SIGNATURE_HEADER], META_SECRET)
    return meta_parse(json.loads(raw))


def test_echoes_are_signed_and_never_mentions(box):
    # Given echoes are configured, and customers wrote on every channel
    call(box, "POST", "/_sandbox/echoes", {"x_consumer_secret": X_SECRET,
                                           "meta_app_secret": META_SECRET})
    box.customer_wrote("facebook", PAGE, CUSTOMER)
    box.customer_wrote("instagram", IG, "555")
    box.customer_wrote("whatsapp", PHONE, WA_CUSTOMER)
    box.seed_x_mentions(BRAND, [sb.x_tweet("101", "@brand help", "42")])
    # When the brand posts on every channel
    tweet = call(box, "POST", "/2/tweets",
                 {"text": "@ana on it", "reply": {"in_reply_to_tweet_id": "101"}}, AUTH).json()
    dm = call(box, "POST", "/2/dm_conversations/with/42/messages", {"text": "DM"}, AUTH).json()
    comment = graph(box, "POST", "/1234_5678/comments", {"message": "Sorry!"}).json()
    ig_reply = graph(box, "POST", "/17858893269000001/replies", {"message": "Hi"}).json()
    messenger = send_api(box, message={"text": "Hello", "metadata": "ticket-1"}).json()
    ig_dm = send_api(box, node=IG, user="555").json()
    graph(box, "POST", f"/{IG}/mentions", {"media_id": "17999", "message": "Thanks!"})
    wamid = whatsapp(box, biz_opaque_callback_data="ticket-9").json()["messages"][0]["id"]
    echoes = call(box, "POST", "/_sandbox/echoes/take").json()["echoes"]
    # Then each channel echoed what the platform would send, in order
    assert [e["path"] for e in echoes] == ["/webhooks/x"] * 2 + ["/webhooks/meta"] * 11
    bodies = [json.loads(e["body"]) for e in echoes]
    assert bodies[0]["tweet_create_events"][0]["id_str"] == tweet["data"]["id"]
    assert bodies[0]["tweet_create_events"][0]["in_reply_to_status_id_str"] == "101"
    assert bodies[1]["direct_message_events"][0]["id"] == dm["data"]["dm_event_id"]
    feed = bodies[2]["entry"][0]["changes"][0]["value"]
    assert (feed["comment_id"], feed["parent_id"], feed["verb"]) == (comment["id"], "1234_5678",
                                                                      "add")
    assert feed["from"]["id"] == bodies[2]["entry"][0]["id"]
    assert bodies[3]["object"] == "instagram"
    assert bodies[3]["entry"][0]["changes"][0]["value"]["id"] == ig_reply["id"]
    echo, delivery, read = (b["entry"][0]["messaging"][0] for b in bodies[4:7])
    assert echo["message"]["is_echo"] is True and echo["message"]["mid"] == messenger["message_id"]
    assert echo["message"]["metadata"] == "ticket-1"
    assert delivery["delivery"]["mids"] == [messenger["message_id"]]
    assert "watermark" in read["read"]
    assert [b["object"] for b in bodies[7:9]] == ["instagram", "instagram"]
    assert bodies[8]["entry"][0]["messaging"][0]["read"] == {"mid": ig_dm["message_id"]}
    mention = bodies[9]["entry"][0]["changes"][0]["value"]
    assert (mention["from"]["id"], mention["media"]["id"]) == (IG, "17999")
    # And every echo verifies; none is a mention; WhatsApp's are the wamid's three statuses
    results = [check_echo(e) for e in echoes]
    assert all(r.mentions == [] for r in results)
    statuses = [s for r in results[10:] for s in r.statuses]
    assert [(s.external_id, s.status, s.recipient_id) for s in statuses] == [
        (wamid, status, WA_CUSTOMER) for status in ("sent", "delivered", "read")]
    for body in bodies[10:]:
        assert body["entry"][0]["changes"][0]["value"]["statuses"][0][
            "biz_opaque_callback_data"] == "ticket-9"
    # And the queue is now empty
    assert box.take_echoes() == []


def test_echoes_use_the_brand_ids_and_keep_exact_bytes(box):
    # Given echoes naming the brand's X account, and a non-ASCII tweet
    box.configure_echoes(X_SECRET, META_SECRET, brand_ids={"x": BRAND})
    # When it is posted
    call(box, "POST", "/2/tweets", {"text": "Olá, já vimos 👀 https://x.co/a"}, AUTH)
    # Then the tweet is authored by the brand, escaped as X escapes, and signed over those bytes
    (echo,) = box.take_echoes()
    assert "\\u00e1" in echo["body"] and "https:\\/\\/x.co" in echo["body"]
    payload = json.loads(echo["body"])
    assert payload["for_user_id"] == BRAND
    assert payload["tweet_create_events"][0]["user"]["id_str"] == BRAND
    assert check_echo(echo).mentions == []


class _Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, dict(self.headers.items()), body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_echoes_are_delivered_to_a_configured_url(box):
    # Given a tiny webhook receiver, and echoes configured to reach it
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), type("Rx", (_Receiver,), {"received": []}))
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{receiver.server_address[1]}"
        box.configure_echoes(X_SECRET, META_SECRET, url=url)
        # When a DM is sent
        call(box, "POST", "/2/dm_conversations/with/42/messages", {"text": "Olá"}, AUTH)
        deadline = time.time() + 3
        while not receiver.RequestHandlerClass.received and time.time() < deadline:
            time.sleep(0.05)
        # Then the receiver got the signed echo, byte for byte, and the queue dropped it
        ((path, headers, body),) = receiver.RequestHandlerClass.received
        assert path == "/webhooks/x"
        x.verify(body, headers["x-twitter-webhooks-signature"], X_SECRET)
        assert x.parse(json.loads(body)).mentions == []
        while call(box, "GET", "/_sandbox/echoes").json()["echoes"] and time.time() < deadline:
            time.sleep(0.02)
        assert box.take_echoes() == []
        # And the delivery was not recorded as a sandbox request
        assert [r["path"] for r in box.requests] == ["/2/dm_conversations/with/42/messages"]
    finally:
        receiver.shutdown()
        receiver.server_close()


def test_echo_delivery_errors_do_not_break_the_sandbox(box):
    # Given echoes configured to a URL where nothing listens
    box.configure_echoes(X_SECRET, META_SECRET, url="http://127.0.0.1:9")
    # When two tweets are posted
    first = call(box, "POST", "/2/tweets", {"text": "one"}, AUTH)
    time.sleep(0.4)
    second = call(box, "POST", "/2/tweets", {"text": "two"}, AUTH)
    # Then both were accepted and the sandbox still answers
    assert first.status_code == second.status_code == 201
    assert call(box, "GET", "/_sandbox/health").json() == {"ok": True}
