"""Local platform sandbox: an HTTP server standing in for X API v2 and the Meta Graph API.

The local stack and the tests point `X_API_BASE` at `sandbox.url` and `GRAPH_API_BASE` at
`sandbox.url + "/v21.0"`, so platform clients are exercised over real HTTP on loopback,
never mocked. Standard library only (http.server, json, threading, ...): it must start
anywhere, in a test process or standalone with `python -m infra.local.sandbox --port N`.
Only echoes (below) import `infra.local.payloads`, and only once they are configured.

Contract (docs: /work/shared/DESIGN.md, "Commands"):
  * every request outside /_sandbox/ is recorded, and listed by `GET /_sandbox/requests` as
    {"requests": [{"method", "path", "query", "headers", "body"}, ...]}; `query` maps each
    query-string key to its last value, `body` is the raw body decoded as UTF-8 text.
    `DELETE /_sandbox/requests` clears the list. Control endpoints are never recorded.
  * control endpoints (JSON bodies):
      GET    /_sandbox/health
      GET    /_sandbox/requests[?path_prefix=/2/]     DELETE /_sandbox/requests
      POST   /_sandbox/reset                          forget all state
      POST   /_sandbox/x/mentions   {"user_id", "tweets": [...], "users": [...], "media": [...]}
      POST   /_sandbox/x/rate_limit {"limit"?, "remaining"?, "reset"?, "endpoint"?: "mentions"}
      POST   /_sandbox/fail         {"path_prefix", "status": 500, "times": 1, "after"?: 0, "body"?,
                                     "headers"?: {...}, "mode"?: "timeout_after_accept", "delay"?: 3}
      POST   /_sandbox/tokens       {"token", "platform": "x"|"graph", "user_id"?, "refresh_token"?,
                                     "client_id"?, "expired"?: false}
      POST   /_sandbox/tokens/expire {"token"}
      POST   /_sandbox/tokens/revoke {"token"}          the user took the app's access back
      POST   /_sandbox/subscriptions {"platform": "x"|"graph", "account_id", "subscribed": false}
      POST   /_sandbox/x/webhook    {"present"?: true, "valid"?: true}   the app's Account Activity webhook
      POST   /_sandbox/inbound      {"platform": "facebook"|"instagram"|"whatsapp", "account_id",
                                     "user_id", "at"?: epoch seconds (default now), "comment_id"?}
      POST   /_sandbox/echoes       {"x_consumer_secret", "meta_app_secret", "url"?, "brand_ids"?}
      POST   /_sandbox/tap          {"message_id", "choice"?: 0}   the customer taps an answer of a
                                    message with choices we sent (a CSAT survey: WhatsApp buttons,
                                    Messenger/Instagram quick replies, X options): its signed webhook
                                    is queued as an echo (echoes must be configured)
      GET    /_sandbox/echoes       {"echoes": [...]} (queued, left in the queue)
      POST   /_sandbox/echoes/take  {"echoes": [...]} (queued, removed from the queue)
      GET    /_sandbox/posts[?platform=x|facebook|instagram|messenger|whatsapp]   {"posts": [...]}
      POST   /_sandbox/graph/objects  {"objects": [{"id", "from"|"username", "message"|"text", ...}]}
      POST   /_sandbox/graph/profiles {"profiles": [{"id", "name"?, "first_name"?, "last_name"?, "username"?}]}
  * platform endpoints (Graph paths are under /{version}, e.g. /v21.0):
      GET  /2/users/{id}/mentions                               X: mentions timeline
      GET  /2/users/{id}/tweets                                 X: posts authored by {id}
      POST /2/tweets                                            X: 201 {"data": {"id", "text", ...}}
      POST /2/dm_conversations/with/{participant_id}/messages   X: 201 {"data": {...}}
      POST /1.1/direct_messages/events/new.json                 X: a DM with quick-reply options (CSAT)
      GET  /2/dm_conversations/with/{participant_id}/dm_events  X: that pair's DM events
      GET  /2/users/me                                          X: the user token's own user
      GET  /2/account_activity/webhooks                         X: the app's webhooks (app bearer)
      GET  /2/account_activity/webhooks/{id}/subscriptions/all  X: is the token's user subscribed
      POST /2/oauth2/token   (form: grant_type=refresh_token&refresh_token=R&client_id=C)
      POST /{version}/{phone_number_id}/messages  (messaging_product whatsapp)   WhatsApp Cloud
      POST /{version}/me/messages | /{version}/{page_id}/messages               Send API
      GET  /{version}/{node}/conversations?user_id=U[&platform=messenger|instagram]
      POST|GET /{version}/{comment_id}/comments | /replies      comment replies (store / list)
      POST /{version}/{comment_id}/private_replies              private reply (legacy edge)
      POST /{version}/{ig_user_id}/mentions  (media_id, comment_id?, message)
      GET  /{version}/{object_id}?fields=from,message,created_time     a seeded post or comment
                                                                (or the token's own account: {"id"})
      GET  /{version}/{node}/subscribed_apps                    apps whose webhooks the node feeds
      GET  /{version}/{psid}?fields=name,first_name,last_name                Messenger user profile
      GET  /{version}/{igsid}?fields=name,username                          Instagram user profile
                                                                (a seeded profile, or a demo customer's
                                                                 from corpus.jsonl; 100/33 for any other id)
      GET  /{version}/{ig_user_id}?fields=mentioned_comment.comment_id(C){text,username,timestamp}
                                                                (or mentioned_media.media_id(M){caption,...})
      anything else                                             200 {} (still recorded)

Fail rules run before the platform handler: the next `times` requests under `path_prefix`
(after skipping `after`) answer `status` with `body` (default: an X problem, or a Graph error)
plus `headers`. X answers keep the x-rate-limit-* headers; a Graph 429 without body/headers
answers code 80001 with X-Business-Use-Case-Usage and X-App-Usage. With
`mode: "timeout_after_accept"` the request is processed normally (stored, echoed) and the
answer is written only after `delay` seconds: a client with a shorter timeout gives up
although the platform accepted.

X rate limits: each authenticated call to an X endpoint consumes one request of that
endpoint's window ("mentions", "user_tweets", "tweets", "dm"); the answer carries
x-rate-limit-limit, -remaining (after this call) and -reset (epoch seconds). A call made
while remaining is 0 answers 429. Once `reset` is in the past the window rolls over
(remaining = limit, reset = now + 15 min), as X's does; to force a 429 set a future reset.

Credentials. X wants an `Authorization` header (`Bearer ...` for the mentions timeline) and
answers 401 without one; the Graph edges above want an `access_token` (query or body) or an
`Authorization` header and answer 400 OAuthException code 104 without one. While no token of
a platform ("x" or "graph") is registered, any non-empty credential is accepted. Once one is,
only registered, unexpired tokens are: X answers 401 (the read timelines still accept any
bearer that is not a registered, expired token: app-only auth), Graph answers 400 code 190
(subcode 463 when expired). A token's `user_id` is who posts: X posts and DMs are authored by
it (else `brand_ids["x"]`, else SANDBOX_X_USER_ID); Graph posts are `from` it (else the node
for /{node}/messages and /{node}/mentions, else `brand_ids[platform]`, else "0").
`POST /2/oauth2/token` exchanges a registered X refresh token for a new access token and a
new refresh token (the old access token expires, the old refresh token stops working).
A revoked token (the user removed the app) answers X 401, Graph 400 code 190 subcode 458, and
its refresh token no longer works.

Subscriptions (channel health): every account is subscribed until told otherwise
(`set_subscribed(platform, account_id, False)`): Graph `GET /{node}/subscribed_apps` answers
`{"data": []}` for it, X `GET /2/account_activity/webhooks/{id}/subscriptions/all` answers
`{"data": {"subscribed": false}}` for the token's user. The app has one X webhook
(SANDBOX_X_WEBHOOK_ID, `valid: true`) until `set_x_webhook(present=False)` or `valid=False`
(it failed X's CRC re-check).

Checks the real APIs make: tweet weighted length <= 280 (400), the same author posting the
same text twice (403), DM text <= 10,000, Facebook comment <= 8,000, Instagram reply <= 2,200,
Send API text <= 2,000, WhatsApp text body <= 4,096 (400 code 100 on Graph). Reply windows,
learnt from `/_sandbox/inbound` (the latest `at` given for a customer and account wins):
Send API to recipient.id needs that user to have written to the node within 24 h, or 7 days
with messaging_type MESSAGE_TAG and tag HUMAN_AGENT (else code 10 / 2018278; never seen:
code 100 / 2018001). A private reply (recipient.comment_id, or /private_replies) is allowed
once per comment, within 7 days of it when the comment was registered with comment_id (a
comment only registers the comment, it opens no messaging window). WhatsApp non-template
messages need `to` to have written to that phone number within 24 h (else code 131047).

Stored posts: every successful post is kept as {"platform", "kind", "id", "account_id" (the
poster), "target" (what it answers: tweet id, participant, comment, recipient), "created"
(epoch seconds), "object" (the platform object, as the lookups answer it)}; kinds: tweet, dm
(x), comment (facebook), reply | comment | mention_reply (instagram), message | private_reply
(messenger, instagram), message (whatsapp). Lookups: GET /2/users/{id}/tweets,
GET .../dm_events, GET /{comment}/comments | /replies, GET /{node}/conversations.

Echoes: once configured, each successful post also queues the signed webhook(s) the platform
would send back, as {"path": "/webhooks/x" | "/webhooks/meta", "headers": {signature,
"Content-Type"}, "body": the exact signed JSON text}: X tweet_create_events /
direct_message_events for the author; a Page feed comment; an Instagram comments change; a
Send API message echo, then (Messenger) a delivery, then a read; WhatsApp sent, delivered and
read statuses. `brand_ids` ({"x", "facebook", "instagram", "whatsapp"} -> id) names the
brand's accounts when no token does (and the WhatsApp business account id). With a `url`, a
daemon thread also POSTs each echo to `url + path`, in order, 0.2 s after the answer was
written, and drops it from the queue (errors go to stderr); these deliveries are not recorded.

Seed from Python with `Sandbox.seed_profiles` (Messenger and Instagram users), `Sandbox.seed_x_mentions` (the `x_tweet` / `x_user` builders make v2
objects), `set_x_rate_limit`, `fail_next`, `add_token`, `expire_token`, `customer_wrote`,
`configure_echoes`, `revoke_token`, `set_subscribed`, `set_x_webhook`; read with `Sandbox.requests`, `posts`, `take_echoes`.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import os
import queue
import re
import secrets
import string
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable, Optional
from urllib.parse import parse_qs, urlsplit

X_WINDOW_SECONDS = 15 * 60  # https://docs.x.com/fundamentals/rate-limits: 15-minute windows
X_DEFAULT_LIMITS = {"mentions": 450, "user_tweets": 900, "tweets": 100, "dm": 200,
                    "me": 75, "webhooks": 15, "subscription": 500}
SANDBOX_X_WEBHOOK_ID = "1146654567674912769"
SANDBOX_APP_ID = "1234567890123456"
X_EPOCH_MS = 1288834974657  # https://docs.x.com/resources/fundamentals/x-ids (snowflake epoch)
X_DEFAULT_TWEET_FIELDS = ("id", "text", "edit_history_tweet_ids")
X_DEFAULT_USER_FIELDS = ("id", "name", "username")
X_DEFAULT_MEDIA_FIELDS = ("media_key", "type")
X_DEFAULT_DM_FIELDS = ("id", "event_type", "text")
SANDBOX_X_USER_ID = "1000000000000000001"  # "our" account, the sender of DMs posted here
X_TWEET_MAX_WEIGHT = 280  # https://docs.x.com/resources/fundamentals/counting-characters
X_URL_WEIGHT = 23
X_DM_MAX_CHARS = 10_000  # https://docs.x.com/x-api/direct-messages/manage/introduction
X_QUICK_REPLY_OPTIONS_MAX = 20  # https://developer.x.com/en/docs/x-api/v1/direct-messages/quick-replies/api-reference/options
X_OAUTH_SCOPE = "tweet.read tweet.write users.read dm.read dm.write offline.access"
X_ACCESS_TOKEN_SECONDS = 7200  # https://docs.x.com/resources/fundamentals/authentication/oauth-2-0/user-access-token

GRAPH_VERSION = re.compile(r"^/(v\d+\.\d+)(/.*)?$")
GRAPH_ROUTES = {("POST", "messages"), ("POST", "comments"), ("POST", "replies"),
                ("POST", "private_replies"), ("POST", "mentions"), ("GET", "comments"),
                ("GET", "replies"), ("GET", "conversations"), ("GET", "subscribed_apps")}
FB_COMMENT_MAX_CHARS = 8000
PROFILE_FIELDS = ("id", "name", "first_name", "last_name", "username", "profile_pic")  # a user's, to a page
DEMO_CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus.jsonl")
IG_COMMENT_MAX_CHARS = 2200  # https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-comment/replies
SEND_API_MAX_CHARS = 2000  # https://developers.facebook.com/docs/messenger-platform/reference/send-api
WA_TEXT_MAX_CHARS = 4096  # https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
STANDARD_WINDOW = 24 * 3600  # https://developers.facebook.com/docs/messenger-platform/policy-overview
HUMAN_AGENT_WINDOW = 7 * 24 * 3600
PRIVATE_REPLY_WINDOW = 7 * 24 * 3600  # https://developers.facebook.com/docs/messenger-platform/discovery/private-replies
WA_SERVICE_WINDOW = 24 * 3600  # https://developers.facebook.com/docs/whatsapp/pricing#customer-service-windows
INSTAGRAM_ID_PREFIX = "178414"  # Instagram professional account ids start like this
SANDBOX_PAGE_NAME = "Sandbox Page"
SANDBOX_IG_USERNAME = "sandbox_brand"
SANDBOX_WABA_ID = "102290129340398"
GRAPH_TOKEN_EXPIRY = "Friday, 01-Jan-2027 00:00:00 PST"
ECHO_DELAY_SECONDS = 0.2
INBOUND_PLATFORMS = ("facebook", "instagram", "whatsapp")
POST_PLATFORMS = ("x", "facebook", "instagram", "messenger", "whatsapp")


# --------------------------------------------------------------------------- state


class _Window:
    def __init__(self, limit: int, now: float):
        self.limit = limit
        self.remaining = limit
        self.reset = int(now) + X_WINDOW_SECONDS

    def roll(self, now: float) -> None:
        if now >= self.reset:
            self.remaining = self.limit
            self.reset = int(now) + X_WINDOW_SECONDS

    def headers(self) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(self.limit),
            "x-rate-limit-remaining": str(max(self.remaining, 0)),
            "x-rate-limit-reset": str(int(self.reset)),
        }


class _EchoCourier:
    """Delivers echoes to the configured URL, in order, ECHO_DELAY_SECONDS after each answer."""

    def __init__(self, state: "SandboxState"):
        self._state = state
        self._queue: "queue.Queue[Optional[tuple[float, str, dict]]]" = queue.Queue()
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()

    def send(self, url: str, echoes: list[dict]) -> None:
        due = time.monotonic() + ECHO_DELAY_SECONDS
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="sandbox-echoes",
                                                daemon=True)
                self._thread.start()
            for echo in echoes:
                self._queue.put((due, url, echo))

    def close(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                self._queue.put(None)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            due, url, echo = item
            time.sleep(max(0.0, due - time.monotonic()))
            try:
                status = _post(url.rstrip("/") + echo["path"], echo["body"].encode("utf-8"),
                               echo["headers"])
                if status >= 300:
                    sys.stderr.write(f"sandbox: echo to {url}{echo['path']} answered {status}\n")
            except Exception as exc:  # a dead receiver must never take the sandbox down
                sys.stderr.write(f"sandbox: echo to {url}{echo['path']} failed: {exc}\n")
            finally:
                self._state.drop_echo(echo)


def _post(url: str, body: bytes, headers: dict) -> int:
    """POST with the header names exactly as given (urllib would re-capitalise them)."""
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    connection = (http.client.HTTPSConnection if secure else http.client.HTTPConnection)(
        parts.netloc, timeout=10)
    try:
        connection.request("POST", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
                           body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


class SandboxState:
    """Everything the sandbox remembers; every access holds `lock`."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.courier = _EchoCourier(self)
        self.clear()

    def clear(self) -> None:
        with self.lock:
            self.requests: list[dict] = []
            self.x_mentions: dict[str, dict[str, dict]] = {}  # user id -> tweet id -> tweet
            self.x_users: dict[str, dict] = {}
            self.x_media: dict[str, dict] = {}
            now = time.time()
            self.x_windows = {name: _Window(limit, now) for name, limit in X_DEFAULT_LIMITS.items()}
            self.fail_rules: list[dict] = []
            self.tokens: dict[str, dict] = {}
            self.posts: list[dict] = []
            self.inbound: dict[tuple[str, str, str], float] = {}  # (platform, account, user) -> at
            self.comments: dict[str, dict] = {}  # comment id -> {platform, account_id, user_id, at}
            self.graph_objects: dict[str, dict] = {}  # object id -> what GET /{id} answers (posts, comments)
            self.profiles: dict[str, dict] = {}  # PSID / IGSID -> the user profile GET /{id} answers
            self.seed_profiles(demo_profiles())  # the demo's Messenger and Instagram customers
            self.private_replied: set[str] = set()
            self.echoes: list[dict] = []
            self.echo_config: Optional[dict] = None
            self.unsubscribed: set[tuple[str, str]] = set()  # ("x" | "graph", account id)
            self.x_webhook: Optional[dict] = {"id": SANDBOX_X_WEBHOOK_ID, "valid": True,
                                              "created_at": _x_time(time.time())}
            self._sequence = 0

    # -- seeding
    def seed_graph_objects(self, objects: Iterable[dict]) -> None:
        """Posts and comments GET /{id} answers (Facebook) and an Instagram account's
        mentioned_comment / mentioned_media lookups find: {"id", "from": {"id", "name"} |
        "username", "message" | "text", "created_time" | "timestamp"}."""
        with self.lock:
            for item in objects:
                self.graph_objects[str(item["id"])] = dict(item)

    def seed_profiles(self, profiles: Iterable[dict]) -> None:
        """People GET /{psid} (Messenger) and GET /{igsid} (Instagram) describe: {"id", "name"?,
        "first_name"?, "last_name"?, "username"?}; a name and its first and last parts complete each
        other, as the Graph API answers them."""
        with self.lock:
            for item in profiles:
                profile = {k: str(v) for k, v in item.items() if v not in (None, "")}
                if "name" not in profile and (profile.get("first_name") or profile.get("last_name")):
                    profile["name"] = " ".join(filter(None, (profile.get("first_name"), profile.get("last_name"))))
                if "name" in profile and "first_name" not in profile:
                    first, _, last = profile["name"].partition(" ")
                    profile.update(first_name=first, **({"last_name": last} if last else {}))
                self.profiles[str(item["id"])] = profile

    def seed_x_mentions(self, user_id: str, tweets: Iterable[dict], users: Iterable[dict] = (),
                        media: Iterable[dict] = ()) -> None:
        with self.lock:
            timeline = self.x_mentions.setdefault(str(user_id), {})
            for tweet in tweets:
                timeline[str(tweet["id"])] = dict(tweet)
            for user in users:
                self.x_users[str(user["id"])] = dict(user)
            for item in media:
                self.x_media[str(item["media_key"])] = dict(item)

    def set_x_rate_limit(self, limit: Optional[int] = None, remaining: Optional[int] = None,
                         reset: Optional[float] = None, endpoint: str = "mentions") -> None:
        with self.lock:
            window = self.x_windows.setdefault(endpoint, _Window(limit or 100, time.time()))
            if limit is not None:
                window.limit = int(limit)
            if remaining is not None:
                window.remaining = int(remaining)
            if reset is not None:
                window.reset = int(reset)

    def add_fail_rule(self, path_prefix: str, status: int = 500, times: int = 1, after: int = 0,
                      body: Any = None, headers: Optional[dict] = None, mode: Optional[str] = None,
                      delay: float = 3.0) -> None:
        if mode not in (None, "timeout_after_accept"):
            raise ValueError(f"unknown fail mode {mode!r}")
        with self.lock:
            self.fail_rules.append({"path_prefix": path_prefix, "status": int(status),
                                    "times": int(times), "after": int(after), "body": body,
                                    "headers": dict(headers) if headers else None, "mode": mode,
                                    "delay": float(3.0 if delay is None else delay)})

    # -- tokens
    def add_token(self, token: str, platform: str, user_id: Optional[str] = None,
                  refresh_token: Optional[str] = None, client_id: Optional[str] = None,
                  expired: bool = False) -> None:
        if platform not in ("x", "graph"):
            raise ValueError(f"token platform must be 'x' or 'graph', not {platform!r}")
        if not token:
            raise ValueError("token must be non-empty")
        with self.lock:
            self.tokens[str(token)] = {"platform": platform,
                                       "user_id": str(user_id) if user_id else None,
                                       "refresh_token": refresh_token or None,
                                       "client_id": client_id or None, "expired": bool(expired)}

    def expire_token(self, token: str) -> bool:
        with self.lock:
            record = self.tokens.get(str(token))
            if record is None:
                return False
            record["expired"] = True
            return True

    def revoke_token(self, token: str) -> bool:
        with self.lock:
            record = self.tokens.get(str(token))
            if record is None:
                return False
            record["revoked"] = True
            return True

    def set_subscribed(self, platform: str, account_id: str, subscribed: bool) -> None:
        if platform not in ("x", "graph"):
            raise ValueError(f"subscription platform must be 'x' or 'graph', not {platform!r}")
        with self.lock:
            (self.unsubscribed.discard if subscribed else self.unsubscribed.add)((platform, str(account_id)))

    def subscribed(self, platform: str, account_id: str) -> bool:
        with self.lock:
            return (platform, str(account_id)) not in self.unsubscribed

    def set_x_webhook(self, present: bool = True, valid: bool = True) -> None:
        with self.lock:
            self.x_webhook = ({"id": SANDBOX_X_WEBHOOK_ID, "valid": bool(valid),
                               "created_at": _x_time(time.time())} if present else None)

    def check_token(self, platform: str, credential: str) -> tuple[str, Optional[dict]]:
        """("open", None) while no token of the platform is registered, else ("ok" | "expired" |
        "revoked", the token's record) or ("unknown", None)."""
        with self.lock:
            if not any(r["platform"] == platform for r in self.tokens.values()):
                return "open", None
            record = self.tokens.get(credential)
            if record is None or record["platform"] != platform:
                return "unknown", None
            if record.get("revoked"):
                return "revoked", dict(record)
            return ("expired" if record["expired"] else "ok"), dict(record)

    def refresh_x_token(self, refresh_token: str, client_id: Optional[str]) -> Optional[dict]:
        """Rotate both tokens of the X token holding `refresh_token`; None when it is not valid."""
        if not refresh_token:
            return None
        with self.lock:
            for record in self.tokens.values():
                if record["platform"] != "x" or record["refresh_token"] != refresh_token:
                    continue
                if record.get("revoked"):
                    return None
                if client_id and record["client_id"] and client_id != record["client_id"]:
                    return None
                record["refresh_token"] = None
                record["expired"] = True
                access, refresh = secrets.token_urlsafe(48), secrets.token_urlsafe(48)
                self.tokens[access] = {"platform": "x", "user_id": record["user_id"],
                                       "refresh_token": refresh, "client_id": record["client_id"],
                                       "expired": False}
                return {"access_token": access, "refresh_token": refresh}
            return None

    # -- customers (reply windows)
    def customer_wrote(self, platform: str, account_id: str, user_id: str,
                       at: Optional[float] = None, comment_id: Optional[str] = None) -> None:
        if platform not in INBOUND_PLATFORMS:
            raise ValueError(f"platform must be one of {INBOUND_PLATFORMS}, not {platform!r}")
        user = _wa_id(str(user_id)) if platform == "whatsapp" else str(user_id)
        moment = time.time() if at is None else float(at)
        with self.lock:
            if comment_id:
                self.comments[str(comment_id)] = {"platform": platform, "user_id": user,
                                                  "account_id": str(account_id), "at": moment}
            else:
                self.inbound[(platform, str(account_id), user)] = moment

    def last_wrote(self, platforms: Iterable[str], account_id: Optional[str],
                   user_id: str) -> Optional[float]:
        """When `user_id` last wrote to `account_id` (any account when None) on `platforms`."""
        platforms = tuple(platforms)
        with self.lock:
            times = [at for (platform, account, user), at in self.inbound.items()
                     if platform in platforms and user == user_id
                     and (account_id is None or account == account_id)]
        return max(times) if times else None

    def claim_private_reply(self, comment_id: str, now: float) -> tuple[bool, Optional[str]]:
        """(allowed, the commenter if known); an allowed claim uses the comment's one reply."""
        with self.lock:
            known = self.comments.get(comment_id)
            user = known["user_id"] if known else None
            if comment_id in self.private_replied:
                return False, user
            if known is not None and now - known["at"] > PRIVATE_REPLY_WINDOW:
                return False, user
            self.private_replied.add(comment_id)
            return True, user

    # -- posts
    def store_post(self, platform: str, kind: str, post_id: str, account_id: str, target: Any,
                   created: float, obj: dict, choices: Optional[list] = None) -> None:
        """`choices`: the answers a customer can tap on it (a CSAT survey's buttons, quick replies or
        options, as [{"title", "payload"}]), for POST /_sandbox/tap."""
        with self.lock:
            self.posts.append({"platform": platform, "kind": kind, "id": post_id,
                               "account_id": account_id, "target": target, "created": created,
                               "object": obj, **({"choices": choices} if choices else {})})

    def find_posts(self, predicate: Callable[[dict], bool] = lambda p: True) -> list[dict]:
        """Copies of the stored posts matching `predicate`, oldest first."""
        with self.lock:
            return [json.loads(json.dumps(p)) for p in self.posts if predicate(p)]

    def post_tweet(self, author: str, text: str, reply_to: Optional[str],
                   now: float) -> Optional[dict]:
        """Store a tweet unless `author` already posted `text` (None then: X refuses duplicates)."""
        with self.lock:
            if any(p["kind"] == "tweet" and p["account_id"] == author
                   and p["object"]["text"] == text for p in self.posts):
                return None
            tweet_id = self.next_snowflake()
            tweet: dict[str, Any] = {"id": tweet_id, "text": text, "author_id": author,
                                     "created_at": _x_time(now), "conversation_id": tweet_id,
                                     "edit_history_tweet_ids": [tweet_id]}
            if reply_to:
                known = self.all_tweets().get(reply_to)
                tweet["conversation_id"] = str((known or {}).get("conversation_id") or reply_to)
                tweet["referenced_tweets"] = [{"type": "replied_to", "id": reply_to}]
                if known and known.get("author_id"):
                    tweet["in_reply_to_user_id"] = str(known["author_id"])
            self.store_post("x", "tweet", tweet_id, author, reply_to, now, tweet)
            return dict(tweet)

    def all_tweets(self) -> dict[str, dict]:
        """Every tweet the sandbox knows: seeded mentions and posted tweets."""
        with self.lock:
            tweets = {t_id: t for tl in self.x_mentions.values() for t_id, t in tl.items()}
            tweets.update({p["id"]: p["object"] for p in self.posts if p["kind"] == "tweet"})
            return tweets

    # -- echoes
    def configure_echoes(self, x_consumer_secret: str, meta_app_secret: str,
                         url: Optional[str] = None, brand_ids: Optional[dict] = None) -> None:
        with self.lock:
            self.echo_config = {"x_consumer_secret": x_consumer_secret,
                                "meta_app_secret": meta_app_secret, "url": url or None,
                                "brand_ids": {k: str(v) for k, v in (brand_ids or {}).items()}}

    def brand_id(self, platform: str) -> Optional[str]:
        with self.lock:
            return (self.echo_config or {}).get("brand_ids", {}).get(platform)

    def queue_echoes(self, echoes: list[dict]) -> None:
        with self.lock:
            self.echoes.extend(echoes)

    def take_echoes(self) -> list[dict]:
        with self.lock:
            taken, self.echoes = self.echoes, []
            return taken

    def drop_echo(self, echo: dict) -> None:
        with self.lock:
            self.echoes = [e for e in self.echoes if e is not echo]

    # -- serving
    def record(self, entry: dict) -> None:
        with self.lock:
            self.requests.append(entry)

    def snapshot(self, path_prefix: str = "") -> list[dict]:
        with self.lock:
            return [json.loads(json.dumps(r)) for r in self.requests
                    if r["path"].startswith(path_prefix)]

    def take_failure(self, path: str) -> Optional[dict]:
        with self.lock:
            for rule in self.fail_rules:
                if not path.startswith(rule["path_prefix"]) or rule["times"] <= 0:
                    continue
                if rule["after"] > 0:
                    rule["after"] -= 1
                    continue
                rule["times"] -= 1
                self.fail_rules = [r for r in self.fail_rules if r["times"] > 0]
                return rule
            return None

    def next_snowflake(self) -> str:
        """A numeric id shaped like X's: milliseconds since X's epoch, shifted, plus a sequence."""
        with self.lock:
            self._sequence = (self._sequence + 1) % 4096
            millis = int(time.time() * 1000) - X_EPOCH_MS
            return str((millis << 22) | (secrets.randbelow(1024) << 12) | self._sequence)


# --------------------------------------------------------------------------- helpers


def demo_profiles() -> list[dict]:
    """The Messenger and Instagram DM authors of the demo traffic (infra/local/corpus.jsonl), whom
    the sandbox's Graph API knows by name as the real one knows a page's customers; read once."""
    if _DEMO_PROFILES is None:
        found: dict[str, dict] = {}
        try:
            with open(DEMO_CORPUS, encoding="utf-8") as lines:
                for line in lines:
                    item = json.loads(line) if line.strip() else {}
                    author = item.get("author") or {}
                    if item.get("channel") in ("messenger", "ig_dm") and author.get("id") and author.get("name"):
                        found[str(author["id"])] = {"id": str(author["id"]), "name": author["name"],
                                                    **({"username": author["handle"]} if author.get("handle") else {})}
        except (OSError, ValueError):
            pass  # a sandbox started without the corpus knows no one until seeded
        globals()["_DEMO_PROFILES"] = list(found.values())
    return list(_DEMO_PROFILES or [])


_DEMO_PROFILES: Optional[list[dict]] = None


def _random_alnum(n: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(n))


def _random_digits(n: int) -> str:
    return str(secrets.randbelow(9) + 1) + "".join(str(secrets.randbelow(10)) for _ in range(n - 1))


def _x_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _graph_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _wa_id(to: str) -> str:
    return re.sub(r"\D", "", to) or to


_X_URL = re.compile(r"https?://\S+")


def _x_weight(text: str) -> int:
    """X's weighted length: URLs count 23, most CJK and emoji 2, the rest 1."""
    # https://docs.x.com/resources/fundamentals/counting-characters
    urls = _X_URL.findall(text)
    return X_URL_WEIGHT * len(urls) + sum(1 if _x_light(ord(c)) else 2 for c in _X_URL.sub("", text))


def _x_light(code_point: int) -> bool:
    return (code_point <= 0x10FF or 0x2000 <= code_point <= 0x200D
            or 0x2010 <= code_point <= 0x201F or 0x2032 <= code_point <= 0x2037)


def _dm_conversation_id(a: str, b: str) -> str:
    # one-to-one conversation ids are "<lower user id>-<higher user id>":
    # https://docs.x.com/x-api/direct-messages/manage/introduction
    return "-".join(sorted([a, b], key=lambda s: (len(s), s)))


def _x_problem(status: int, title: str, detail: str, **extra: Any) -> dict:
    # X API v2 errors are RFC 7807-style problems: https://docs.x.com/x-api/fundamentals/response-codes-and-errors
    return {"title": title, "detail": detail, "type": "about:blank", "status": status, **extra}


def _x_invalid(detail: str = "One or more parameters to your request was invalid.") -> dict:
    return _x_problem(400, "Invalid Request", detail)


def _x_rate_limited() -> dict:
    # Body documented at https://docs.x.com/fundamentals/rate-limits ({"errors": [{"code": 88, ...}]}),
    # plus the v2 problem fields the live API sends alongside.
    return {"errors": [{"code": 88, "message": "Rate limit exceeded"}],
            **_x_problem(429, "Too Many Requests", "Too Many Requests")}


def _graph_error(message: str, code: int, type_: str = "OAuthException", **extra: Any) -> dict:
    # Graph API error shape: https://developers.facebook.com/docs/graph-api/guides/error-handling
    return {"error": {"message": message, "type": type_, "code": code, **extra,
                      "fbtrace_id": _random_alnum(11)}}


def _graph_token_error(verdict: str) -> dict:
    # https://developers.facebook.com/docs/facebook-login/guides/access-tokens/debugging (190 / 463)
    if verdict == "expired":
        pacific = datetime.now(timezone.utc) - timedelta(hours=8)
        now = pacific.strftime("%A, %d-%b-%Y %H:%M:%S PST")
        return _graph_error(f"Error validating access token: Session has expired on "
                            f"{GRAPH_TOKEN_EXPIRY}. The current time is {now}.", 190,
                            error_subcode=463)
    if verdict == "revoked":  # the user removed the app (subcode 458)
        return _graph_error(f"Error validating access token: The user has not authorized application "
                            f"{SANDBOX_APP_ID}.", 190, error_subcode=458)
    return _graph_error("Invalid OAuth access token - Cannot parse access token", 190)


def _graph_outside_window(detail: bool = True) -> dict:
    # https://developers.facebook.com/docs/messenger-platform/error-codes (10 / 2018278)
    message = "(#10) This message is sent outside of allowed window."
    if detail:
        message += (" Learn more about the new policy here: "
                    "https://developers.facebook.com/docs/messenger-platform/policy-overview")
    return _graph_error(message, 10, error_subcode=2018278)


def _graph_too_long(param: str, limit: int) -> dict:
    return _graph_error(f"(#100) Length of param {param} must be less than or equal to {limit}",
                        100)


def _graph_fields(raw: str) -> list[str]:
    """Top-level names of a Graph `fields` list: "from{id,name},message" -> ["from", "message"]."""
    names, current, depth = [], "", 0
    for ch in raw:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            names.append(current)
            current = ""
        elif depth == 0:
            current += ch
    names.append(current)
    return [n.strip().split(".")[0] for n in names if n.strip()]


def _graph_cursor(value: str) -> str:
    return base64.b64encode(value.encode("utf-8")).decode("ascii")


def _select(obj: dict, defaults: Iterable[str], requested: Iterable[str]) -> dict:
    """X v2 returns only the default fields plus those asked for with *.fields parameters."""
    wanted = set(defaults) | set(requested)
    return {k: v for k, v in obj.items() if k in wanted}


def _csv(query: dict, key: str) -> list[str]:
    return [p for p in query.get(key, "").split(",") if p]


def _bearer(authorization: str) -> str:
    """The credential in an Authorization header: Bearer/OAuth token, or OAuth 1.0a oauth_token."""
    value = authorization.strip()
    found = re.search(r'oauth_token="([^"]+)"', value)
    if found:
        return found.group(1)
    scheme, _, rest = value.partition(" ")
    return rest.strip() if scheme.lower() in ("bearer", "oauth") and rest.strip() else value


# --------------------------------------------------------------------------- handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "PlatformSandbox/1.0"
    state: SandboxState  # set on the subclass made by make_server
    _delay = 0.0  # seconds to hold the answer back (fail mode timeout_after_accept)

    # quiet by default: the test output is not the place for an access log
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if getattr(self.server, "verbose", False):
            sys.stderr.write("sandbox: " + (format % args) + "\n")

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    # -- plumbing
    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: int, payload: Any = None, headers: Optional[dict] = None,
              content_type: str = "application/json; charset=utf-8") -> None:
        raw = b"" if payload is None else (
            payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8"))
        if self._delay > 0:
            delay, self._delay = self._delay, 0.0
            time.sleep(delay)
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(raw)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. its read timeout)

    def _dispatch(self) -> None:
        split = urlsplit(self.path)
        path = split.path or "/"
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        raw = self._read_body()
        text = raw.decode("utf-8", errors="replace")
        self._delay, self._echoes = 0.0, []
        try:
            if path.startswith("/_sandbox/") or path == "/_sandbox":
                self._control(path, query, text)
                return
            if path.startswith("/cognito/"):  # the user pool's hosted UI and JWKS (infra/local/cognito.py)
                from infra.local import cognito

                status, headers, payload = cognito.handle(self.command, path, query, text)
                content_type = headers.pop("Content-Type", "text/plain")
                return self._send(status, payload, headers, content_type=content_type)
            self.state.record({"method": self.command, "path": path, "query": query,
                               "headers": dict(self.headers.items()), "body": text})
            self._platform(path, query, text)
        except Exception as exc:  # a sandbox bug must still answer, or the client hangs
            self._send(500, {"error": f"sandbox error: {type(exc).__name__}: {exc}"})
        if self._echoes:
            url = (self.state.echo_config or {}).get("url")
            if url:
                self.state.courier.send(url, self._echoes)

    # -- control endpoints (never recorded)
    def _control(self, path: str, query: dict, text: str) -> None:
        state, method = self.state, self.command
        body = self._json(text)
        if path == "/_sandbox/health" and method == "GET":
            return self._send(200, {"ok": True})
        if path == "/_sandbox/requests" and method == "GET":
            return self._send(200, {"requests": state.snapshot(query.get("path_prefix", ""))})
        if path == "/_sandbox/requests" and method == "DELETE":
            with state.lock:
                state.requests.clear()
            return self._send(200, {"cleared": True})
        if path == "/_sandbox/posts" and method == "GET":
            platform = query.get("platform")
            return self._send(200, {"posts": state.find_posts(
                lambda p: platform is None or p["platform"] == platform)})
        if path == "/_sandbox/echoes" and method == "GET":
            with state.lock:
                queued = list(state.echoes)
            return self._send(200, {"echoes": queued})
        if path == "/_sandbox/reset" and method == "POST":
            state.clear()
            return self._send(200, {"reset": True})
        if path == "/_sandbox/echoes/take" and method == "POST":
            return self._send(200, {"echoes": state.take_echoes()})
        if not isinstance(body, dict) and method == "POST":
            return self._send(400, {"error": "control endpoints take a JSON object"})
        if path == "/_sandbox/x/mentions" and method == "POST":
            if not body.get("user_id"):
                return self._send(400, {"error": "user_id is required"})
            state.seed_x_mentions(body["user_id"], body.get("tweets") or [],
                                  body.get("users") or [], body.get("media") or [])
            return self._send(200, {"seeded": len(body.get("tweets") or [])})
        if path == "/_sandbox/graph/objects" and method == "POST":
            objects = body.get("objects")
            if not isinstance(objects, list) or not all(isinstance(o, dict) and o.get("id") for o in objects):
                return self._send(400, {"error": "objects: a list of objects with an id"})
            state.seed_graph_objects(objects)
            return self._send(200, {"seeded": len(objects)})
        if path == "/_sandbox/graph/profiles" and method == "POST":
            profiles = body.get("profiles")
            if not isinstance(profiles, list) or not all(isinstance(o, dict) and o.get("id") for o in profiles):
                return self._send(400, {"error": "profiles: a list of profiles with an id"})
            state.seed_profiles(profiles)
            return self._send(200, {"seeded": len(profiles)})
        if path == "/_sandbox/x/rate_limit" and method == "POST":
            state.set_x_rate_limit(body.get("limit"), body.get("remaining"), body.get("reset"),
                                   body.get("endpoint") or "mentions")
            return self._send(200, {"ok": True})
        try:
            return self._control_post(path, method, body)
        except (TypeError, ValueError) as exc:
            return self._send(400, {"error": str(exc)})

    def _control_post(self, path: str, method: str, body: dict) -> None:
        state = self.state
        if path == "/_sandbox/fail" and method == "POST":
            if not isinstance(body.get("path_prefix"), str):
                return self._send(400, {"error": "path_prefix is required"})
            state.add_fail_rule(body["path_prefix"], body.get("status", 500), body.get("times", 1),
                                body.get("after", 0), body.get("body"), body.get("headers"),
                                body.get("mode"), body.get("delay", 3.0))
            return self._send(200, {"ok": True})
        if path == "/_sandbox/tokens" and method == "POST":
            state.add_token(body.get("token"), body.get("platform"), body.get("user_id"),
                            body.get("refresh_token"), body.get("client_id"),
                            bool(body.get("expired")))
            return self._send(200, {"ok": True})
        if path == "/_sandbox/tokens/expire" and method == "POST":
            if not state.expire_token(str(body.get("token"))):
                return self._send(404, {"error": "no such token"})
            return self._send(200, {"ok": True})
        if path == "/_sandbox/tokens/revoke" and method == "POST":
            if not state.revoke_token(str(body.get("token"))):
                return self._send(404, {"error": "no such token"})
            return self._send(200, {"ok": True})
        if path == "/_sandbox/subscriptions" and method == "POST":
            if not body.get("account_id"):
                return self._send(400, {"error": "account_id is required"})
            state.set_subscribed(body.get("platform"), body["account_id"], bool(body.get("subscribed")))
            return self._send(200, {"ok": True})
        if path == "/_sandbox/x/webhook" and method == "POST":
            state.set_x_webhook(bool(body.get("present", True)), bool(body.get("valid", True)))
            return self._send(200, {"ok": True})
        if path == "/_sandbox/inbound" and method == "POST":
            if not body.get("account_id") or not body.get("user_id"):
                return self._send(400, {"error": "account_id and user_id are required"})
            state.customer_wrote(body.get("platform"), body["account_id"], body["user_id"],
                                 body.get("at"), body.get("comment_id"))
            return self._send(200, {"ok": True})
        if path == "/_sandbox/echoes" and method == "POST":
            if not body.get("x_consumer_secret") or not body.get("meta_app_secret"):
                return self._send(400, {"error": "x_consumer_secret and meta_app_secret "
                                                 "are required"})
            state.configure_echoes(body["x_consumer_secret"], body["meta_app_secret"],
                                   body.get("url"), body.get("brand_ids"))
            return self._send(200, {"ok": True})
        if path == "/_sandbox/tap" and method == "POST":
            return self._tap(body)
        return self._send(404, {"error": f"no sandbox control endpoint {method} {path}"})

    def _tap(self, body: dict) -> None:
        """The customer taps answer `choice` (0-based) of a message with choices the sandbox received
        (a CSAT survey: WhatsApp reply buttons, Messenger/Instagram quick replies, X quick-reply
        options): the platform's signed webhook of that tap is queued (and delivered, with an echo
        url) like any echo."""
        [post] = self.state.find_posts(lambda p: p["id"] == body.get("message_id") and p.get("choices")) or [None]
        index = body.get("choice", 0)
        if post is None or not isinstance(index, int) or not 0 <= index < len(post["choices"]):
            return self._send(404, {"error": "no such message with choices, or no such choice"})
        if not self.state.echo_config:
            return self._send(409, {"error": "configure echoes first (POST /_sandbox/echoes)"})
        chosen, account, customer = post["choices"][index], post["account_id"], str(post["target"])
        platform = post["platform"]
        tap_id = {"whatsapp": "wamid." + _random_alnum(48), "x": self.state.next_snowflake()}.get(
            platform, "m_" + _random_alnum(40))

        def build() -> list[dict]:
            from infra.local import payloads

            if platform == "whatsapp":
                waba = self.state.brand_id("whatsapp") or SANDBOX_WABA_ID
                change = payloads.wa_button_reply_change(account, customer, "Customer", tap_id, chosen["payload"],
                                                         chosen["title"], context_id=post["id"])
                return [payloads.meta_payload("whatsapp_business_account", [payloads.meta_entry(waba, changes=[change])])]
            if platform == "x":
                dm = payloads.x_dm(tap_id, customer, account, chosen["title"])
                dm["message_create"]["message_data"]["quick_reply_response"] = {"type": "options",
                                                                                "metadata": chosen["payload"]}
                users = [{"id": u, "name": self._x_name(u), "handle": self._x_name(u)} for u in (customer, account)]
                return [payloads.x_batch(account, dms=[dm], users=users)]
            event = payloads.quick_reply_event(account, customer, tap_id, chosen["title"], chosen["payload"])
            return [payloads.meta_payload("instagram" if platform == "instagram" else "page",
                                          [payloads.meta_entry(account, messaging=[event])])]

        self._echo("x" if platform == "x" else "meta", build)
        return self._send(200, {"ok": True, "message_id": tap_id})

    @staticmethod
    def _json(text: str) -> Any:
        if not text:
            return {}
        try:
            return json.loads(text)
        except ValueError:
            return None

    def _form_or_json(self, text: str) -> Optional[dict]:
        """Graph API accepts JSON or form-encoded bodies (nested values as JSON strings)."""
        parsed = self._json(text)
        if isinstance(parsed, dict):
            return parsed
        if parsed is None and "=" in text:
            form = {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}
            for key, value in list(form.items()):
                if value[:1] in ("{", "["):
                    try:
                        form[key] = json.loads(value)
                    except ValueError:
                        pass
            return form
        return None

    # -- echoes
    def _echo(self, kind: str, build: Callable[[], list[dict]]) -> None:
        """Queue the signed webhooks `build` returns, if echoes are configured."""
        config = self.state.echo_config
        if not config:
            return
        from infra.local import payloads  # builders and signing: only needed once echoes are on

        echoes = []
        for payload in build():
            raw = payloads.encode(payload)
            if kind == "x":
                signature = payloads.sign_x(raw, config["x_consumer_secret"])
            else:
                signature = payloads.sign_meta(raw, config["meta_app_secret"])
            echoes.append({"path": f"/webhooks/{kind}",
                           "headers": {**signature, "Content-Type": "application/json"},
                           "body": raw.decode("ascii")})
        self.state.queue_echoes(echoes)
        self._echoes.extend(echoes)

    # -- platform endpoints
    def _platform(self, path: str, query: dict, text: str) -> None:
        rule = self.state.take_failure(path)
        if rule is not None and rule["mode"] == "timeout_after_accept":
            self._delay = rule["delay"]
            rule = None
        if rule is not None:
            return self._fail(path, rule)
        if path.startswith("/2/") or path == "/1.1/direct_messages/events/new.json":
            return self._x(path, query, text)
        if GRAPH_VERSION.match(path):
            return self._graph(path, query, text)
        return self._send(200, {})

    def _fail(self, path: str, rule: dict) -> None:
        status, payload, headers = rule["status"], rule["body"], rule["headers"]
        if path.startswith("/2/"):
            if payload is None:
                payload = (_x_rate_limited() if status == 429 else
                           _x_problem(status, "Sandbox Failure", f"injected failure {status}"))
            return self._send(status, payload, {**self._x_window_headers(path), **(headers or {})})
        if status == 429:
            # Page-level throttling: https://developers.facebook.com/docs/graph-api/overview/rate-limiting
            node = next((p for p in path.split("/") if p and not GRAPH_VERSION.match("/" + p)), "0")
            if payload is None:
                payload = _graph_error("(#80001) There have been too many calls to this Page "
                                       "account. Wait a bit and try again.", 80001,
                                       is_transient=True)
            if headers is None:
                usage = {"type": "pages", "call_count": 100, "total_cputime": 20,
                         "total_time": 20, "estimated_time_to_regain_access": 0}
                headers = {"X-Business-Use-Case-Usage": json.dumps({node: [usage]}),
                           "X-App-Usage": json.dumps({"call_count": 100, "total_time": 20,
                                                      "total_cputime": 20})}
        elif payload is None:
            payload = _graph_error("An unexpected error has occurred. Please retry your "
                                   "request later.", 2 if status >= 500 else 1,
                                   is_transient=status >= 500)
        return self._send(status, payload, headers)

    # X -----------------------------------------------------------------------------
    @staticmethod
    def _x_endpoint(path: str) -> Optional[str]:
        if path == "/2/users/me":
            return "me"
        if path == "/2/account_activity/webhooks":
            return "webhooks"
        if re.fullmatch(r"/2/account_activity/webhooks/[^/]+/subscriptions/all", path):
            return "subscription"
        if re.fullmatch(r"/2/users/[^/]+/mentions", path):
            return "mentions"
        if re.fullmatch(r"/2/users/[^/]+/tweets", path):
            return "user_tweets"
        if path == "/2/tweets":
            return "tweets"
        if path.startswith("/2/dm_conversations/") or path == "/1.1/direct_messages/events/new.json":
            return "dm"
        return None

    def _x_window_headers(self, path: str) -> dict:
        name = self._x_endpoint(path)
        if name is None:
            return {}
        with self.state.lock:
            window = self.state.x_windows.get(name)
            if window is None:
                return {}
            window.roll(time.time())
            return window.headers()

    def _x_consume(self, name: str) -> tuple[bool, dict]:
        """Count one call against the endpoint's window: (allowed, rate-limit headers)."""
        with self.state.lock:
            window = self.state.x_windows.setdefault(name, _Window(100, time.time()))
            window.roll(time.time())
            if window.remaining <= 0:
                return False, window.headers()
            window.remaining -= 1
            return True, window.headers()

    def _x_user(self, name: str) -> Optional[str]:
        """Who the call acts for (the token's user, else the brand), or None: unauthorised."""
        authorization = (self.headers.get("Authorization") or "").strip()
        if name in ("mentions", "webhooks"):
            # App-only auth: "Authorization: Bearer <token>" (https://docs.x.com/fundamentals/authentication)
            if not (authorization.startswith("Bearer ") and authorization[7:].strip()):
                return None
        elif not authorization:
            return None
        verdict, token = self.state.check_token("x", _bearer(authorization))
        # The read timelines take any app-only bearer; only a registered, expired token fails.
        app_only = name in ("mentions", "user_tweets", "webhooks") and verdict == "unknown"
        if verdict not in ("open", "ok") and not app_only:
            return None
        return ((token or {}).get("user_id") or self.state.brand_id("x") or SANDBOX_X_USER_ID)

    def _x(self, path: str, query: dict, text: str) -> None:
        if path == "/2/oauth2/token" and self.command == "POST":
            return self._x_oauth_token(text)
        name = self._x_endpoint(path)
        if name is None:
            return self._send(200, {})
        user = self._x_user(name)
        if user is None:
            return self._send(401, _x_problem(401, "Unauthorized", "Unauthorized"),
                              self._x_window_headers(path))
        allowed, headers = self._x_consume(name)
        if not allowed:
            return self._send(429, _x_rate_limited(), headers)
        if name == "mentions" and self.command == "GET":
            with self.state.lock:
                timeline = list(self.state.x_mentions.get(path.split("/")[3], {}).values())
            status, payload = self._x_timeline(timeline, query)
            return self._send(status, payload, headers)
        if name == "user_tweets" and self.command == "GET":
            # GET /2/users/:id/tweets: https://docs.x.com/x-api/posts/timelines/get-posts-by-user
            author = path.split("/")[3]
            timeline = [t for t in self.state.all_tweets().values()
                        if str(t.get("author_id")) == author]
            status, payload = self._x_timeline(timeline, query)
            return self._send(status, payload, headers)
        if name == "tweets" and self.command == "POST":
            return self._x_post_tweet(user, text, headers)
        if self.command == "GET" and name in ("me", "webhooks", "subscription"):
            return self._x_account_activity(name, path, user, headers)
        if path == "/1.1/direct_messages/events/new.json" and self.command == "POST":
            return self._x_send_dm_event(user, text, headers)
        match = re.fullmatch(r"/2/dm_conversations/with/([^/]+)/(messages|dm_events)", path)
        if match and match.group(2) == "messages" and self.command == "POST":
            return self._x_send_dm(user, match.group(1), text, headers)
        if match and match.group(2) == "dm_events" and self.command == "GET":
            return self._x_dm_events(user, match.group(1), query, headers)
        return self._send(200, {}, headers)

    def _x_account_activity(self, name: str, path: str, user: str, headers: dict) -> None:
        # GET /2/users/me: https://docs.x.com/x-api/users/user-lookup-me
        if name == "me":
            return self._send(200, {"data": {"id": user, "name": self._x_name(user),
                                             "username": self._x_name(user)}}, headers)
        with self.state.lock:
            webhook = dict(self.state.x_webhook) if self.state.x_webhook else None
        # GET /2/account_activity/webhooks: https://docs.x.com/x-api/webhooks/get-webhook
        if name == "webhooks":
            found = [{**webhook, "url": "https://desk.example/webhooks/x"}] if webhook else []
            return self._send(200, {"data": found, "meta": {"result_count": len(found)}}, headers)
        # GET .../webhooks/:id/subscriptions/all (user context):
        # https://docs.x.com/x-api/account-activity/validate-subscription
        if webhook is None or path.split("/")[4] != webhook["id"]:
            return self._send(404, _x_problem(404, "Not Found Error", "Webhook not found"), headers)
        return self._send(200, {"data": {"subscribed": self.state.subscribed("x", user)}}, headers)

    def _x_oauth_token(self, text: str) -> None:
        # Refreshing a user access token: https://docs.x.com/resources/fundamentals/authentication/oauth-2-0/user-access-token
        form = {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}
        client_id = form.get("client_id")
        authorization = self.headers.get("Authorization") or ""
        if not client_id and authorization.startswith("Basic "):
            try:  # confidential clients authenticate with Basic client_id:client_secret
                client_id = base64.b64decode(authorization[6:]).decode("utf-8").split(":")[0]
            except (ValueError, UnicodeDecodeError):
                client_id = None
        issued = None
        if form.get("grant_type") == "refresh_token":
            issued = self.state.refresh_x_token(form.get("refresh_token", ""), client_id)
        if issued is None:
            return self._send(400, {"error": "invalid_request",
                                    "error_description": "Value passed for the token was invalid."})
        return self._send(200, {"token_type": "bearer", "expires_in": X_ACCESS_TOKEN_SECONDS,
                                "access_token": issued["access_token"], "scope": X_OAUTH_SCOPE,
                                "refresh_token": issued["refresh_token"]})

    def _x_post_tweet(self, author: str, text: str, headers: dict) -> None:
        # POST /2/tweets answers 201 with the new post: https://docs.x.com/x-api/posts/create-post
        body = self._json(text)
        if not isinstance(body, dict) or not (body.get("text") or body.get("media")):
            return self._send(400, _x_invalid(), headers)
        content = str(body.get("text") or "")
        if _x_weight(content) > X_TWEET_MAX_WEIGHT:
            return self._send(400, _x_problem(400, "Bad Request", "Tweet text is too long"),
                              headers)
        reply = body.get("reply") if isinstance(body.get("reply"), dict) else {}
        reply_to = str(reply["in_reply_to_tweet_id"]) if reply.get("in_reply_to_tweet_id") else None
        now = time.time()
        tweet = self.state.post_tweet(author, content, reply_to, now)
        if tweet is None:
            return self._send(403, {"detail": "You are not allowed to create a Tweet with "
                                              "duplicate content.", "type": "about:blank",
                                    "title": "Forbidden", "status": 403}, headers)

        def build() -> list[dict]:
            from infra.local import payloads

            user = {"id": author, "name": self._x_name(author), "handle": self._x_name(author)}
            event = payloads.x_tweet(tweet["id"], user, content, in_reply_to=reply_to,
                                     created_at=datetime.fromtimestamp(now, timezone.utc),
                                     in_reply_to_user_id=tweet.get("in_reply_to_user_id"))
            return [payloads.x_batch(author, tweets=[event])]

        self._echo("x", build)
        return self._send(201, {"data": {"id": tweet["id"], "text": content,
                                         "edit_history_tweet_ids": [tweet["id"]]}}, headers)

    def _x_name(self, user_id: str) -> str:
        with self.state.lock:
            known = self.state.x_users.get(user_id) or {}
        return str(known.get("username") or ("sandbox_brand" if user_id == SANDBOX_X_USER_ID
                                             else f"user{user_id}"))

    def _x_send_dm(self, sender: str, participant: str, text: str, headers: dict) -> None:
        # POST /2/dm_conversations/with/:participant_id/messages:
        # https://docs.x.com/x-api/direct-messages/send-a-new-message-to-a-user
        body = self._json(text)
        if not isinstance(body, dict) or not (body.get("text") or body.get("attachments")):
            return self._send(400, _x_invalid(), headers)
        content = str(body.get("text") or "")
        if len(content) > X_DM_MAX_CHARS:
            return self._send(400, _x_invalid(f"text must be at most {X_DM_MAX_CHARS} characters"),
                              headers)
        now = time.time()
        conversation_id = _dm_conversation_id(participant, sender)
        event_id = self.state.next_snowflake()
        event = {"id": event_id, "text": content, "sender_id": sender,
                 "dm_conversation_id": conversation_id, "created_at": _x_time(now),
                 "event_type": "MessageCreate"}
        self.state.store_post("x", "dm", event_id, sender, participant, now, event)

        def build() -> list[dict]:
            from infra.local import payloads

            dm = payloads.x_dm(event_id, sender, participant, content,
                               created_at=datetime.fromtimestamp(now, timezone.utc))
            users = [{"id": u, "name": self._x_name(u), "handle": self._x_name(u)}
                     for u in (sender, participant)]
            return [payloads.x_batch(sender, dms=[dm], users=users)]

        self._echo("x", build)
        return self._send(201, {"data": {"dm_conversation_id": conversation_id,
                                         "dm_event_id": event_id}}, headers)

    def _x_send_dm_event(self, sender: str, text: str, headers: dict) -> None:
        """POST /1.1/direct_messages/events/new.json: a message_create, here for its quick-reply
        options (a CSAT survey), checked as X checks them; stored and echoed as any DM.
        https://developer.x.com/en/docs/x-api/v1/direct-messages/sending-and-receiving/api-reference/new-event
        https://developer.x.com/en/docs/x-api/v1/direct-messages/quick-replies/api-reference/options"""
        body = self._json(text)
        create = (((body or {}).get("event") or {}).get("message_create") or {}) if isinstance(body, dict) else {}
        participant = str((create.get("target") or {}).get("recipient_id") or "")
        data = create.get("message_data") or {}
        content = data.get("text")
        if not participant or not isinstance(content, str) or not content or len(content) > X_DM_MAX_CHARS:
            return self._send(400, {"errors": [{"code": 214, "message": "event.message_create is invalid"}]}, headers)
        quick = data.get("quick_reply")
        if quick is not None:
            options = quick.get("options") if isinstance(quick, dict) and quick.get("type") == "options" else None
            if not isinstance(options, list) or not 1 <= len(options) <= X_QUICK_REPLY_OPTIONS_MAX or not all(
                    isinstance(o, dict) and isinstance(o.get("label"), str) and 0 < len(o["label"]) <= 36
                    and len(str(o.get("metadata") or "")) <= 1000 for o in options):
                return self._send(400, {"errors": [{"code": 214, "message": "quick_reply options are invalid"}]},
                                  headers)
        now = time.time()
        event_id = self.state.next_snowflake()
        event = {"id": event_id, "text": content, "sender_id": sender,
                 "dm_conversation_id": _dm_conversation_id(participant, sender), "created_at": _x_time(now),
                 "event_type": "MessageCreate"}
        self.state.store_post("x", "dm", event_id, sender, participant, now, event, choices=[
            {"title": o["label"], "payload": o.get("metadata") or o["label"]} for o in (quick or {}).get("options") or []])

        def build() -> list[dict]:
            from infra.local import payloads

            dm = payloads.x_dm(event_id, sender, participant, content, created_at=datetime.fromtimestamp(now, timezone.utc))
            users = [{"id": u, "name": self._x_name(u), "handle": self._x_name(u)} for u in (sender, participant)]
            return [payloads.x_batch(sender, dms=[dm], users=users)]

        self._echo("x", build)
        return self._send(200, {"event": {"type": "message_create", "id": event_id,
                                          "created_timestamp": str(int(now * 1000)), "message_create": create}},
                          headers)

    def _x_dm_events(self, user: str, participant: str, query: dict, headers: dict) -> None:
        # GET /2/dm_conversations/with/:participant_id/dm_events:
        # https://docs.x.com/x-api/direct-messages/get-dm-events-for-a-dm-conversation
        conversation_id = _dm_conversation_id(participant, user)
        events = self.state.find_posts(lambda p: p["kind"] == "dm"
                                       and p["object"]["dm_conversation_id"] == conversation_id)
        events.reverse()
        raw_max = query.get("max_results", "100")
        limit = int(raw_max) if raw_max.isdigit() and 1 <= int(raw_max) <= 100 else 100
        data = [_select(p["object"], X_DEFAULT_DM_FIELDS, _csv(query, "dm_event.fields"))
                for p in events[:limit]]
        if not data:
            return self._send(200, {"meta": {"result_count": 0}}, headers)
        return self._send(200, {"data": data, "meta": {"result_count": len(data)}}, headers)

    def _x_timeline(self, timeline: list[dict], query: dict) -> tuple[int, dict]:
        # Timelines (mentions, user posts): https://docs.x.com/x-api/posts/timelines/introduction
        raw_max = query.get("max_results", "10")
        if not raw_max.isdigit() or not 5 <= int(raw_max) <= 100:
            return 400, {
                "errors": [{"parameters": {"max_results": [raw_max]},
                            "message": f"The `max_results` query parameter value [{raw_max}] "
                                       "is not between 5 and 100"}],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.twitter.com/2/problems/invalid-request",
            }
        max_results = int(raw_max)
        for key in ("since_id", "until_id"):
            if query.get(key) and not query[key].isdigit():
                return 400, _x_invalid()
        since = int(query["since_id"]) if query.get("since_id") else None
        until = int(query["until_id"]) if query.get("until_id") else None
        token = query.get("pagination_token")
        below: Optional[int] = None
        if token:
            try:
                below = _decode_token(token)
            except ValueError:
                return 400, _x_invalid("The `pagination_token` query parameter value is not valid.")
        with self.state.lock:
            users = dict(self.state.x_users)
            media = dict(self.state.x_media)
        every_tweet = self.state.all_tweets()
        selected = sorted(
            (t for t in timeline
             if (since is None or int(t["id"]) > since)
             and (until is None or int(t["id"]) < until)
             and (below is None or int(t["id"]) < below)),
            key=lambda t: int(t["id"]), reverse=True)
        page, rest = selected[:max_results], selected[max_results:]
        if not page:
            return 200, {"meta": {"result_count": 0}}
        tweet_fields = _csv(query, "tweet.fields")
        expansions = set(_csv(query, "expansions"))
        data = [_select(t, X_DEFAULT_TWEET_FIELDS, tweet_fields) for t in page]
        includes: dict[str, list] = {}
        if "author_id" in expansions:
            seen = []
            for t in page:
                author = t.get("author_id")
                if author in users and author not in seen:
                    seen.append(author)
            if seen:
                includes["users"] = [_select(users[u], X_DEFAULT_USER_FIELDS,
                                             _csv(query, "user.fields")) for u in seen]
        if "attachments.media_keys" in expansions:
            keys = []
            for t in page:
                for key in (t.get("attachments") or {}).get("media_keys") or []:
                    if key in media and key not in keys:
                        keys.append(key)
            if keys:
                includes["media"] = [_select(media[k], X_DEFAULT_MEDIA_FIELDS,
                                             _csv(query, "media.fields")) for k in keys]
        if "referenced_tweets.id" in expansions:
            referenced = []
            for t in page:
                for ref in t.get("referenced_tweets") or []:
                    if ref.get("id") in every_tweet and ref["id"] not in referenced:
                        referenced.append(ref["id"])
            if referenced:
                includes["tweets"] = [_select(every_tweet[r], X_DEFAULT_TWEET_FIELDS, tweet_fields)
                                      for r in referenced]
        meta: dict[str, Any] = {"result_count": len(page), "newest_id": str(page[0]["id"]),
                                "oldest_id": str(page[-1]["id"])}
        if rest:
            meta["next_token"] = _encode_token(int(page[-1]["id"]))
        body: dict[str, Any] = {"data": data}
        if includes:
            body["includes"] = includes
        body["meta"] = meta
        return 200, body

    # Graph -------------------------------------------------------------------------
    def _graph(self, path: str, query: dict, text: str) -> None:
        match = GRAPH_VERSION.match(path)
        rest = (match.group(2) or "/").strip("/")
        parts = rest.split("/") if rest else []
        one_object = len(parts) == 1 and self.command == "GET" and "fields" in query
        if not one_object and (len(parts) != 2 or (self.command, parts[1]) not in GRAPH_ROUTES):
            return self._send(200, {})
        body = self._form_or_json(text) if self.command == "POST" else {}
        authorization = _bearer(self.headers.get("Authorization") or "")
        credential = (query.get("access_token") or authorization
                      or (body.get("access_token") if isinstance(body, dict) else None))
        if not credential:
            # https://developers.facebook.com/docs/graph-api/guides/error-handling (code 104)
            return self._send(400, _graph_error("An access token is required to request this "
                                                "resource.", 104))
        verdict, token = self.state.check_token("graph", str(credential))
        if verdict in ("unknown", "expired", "revoked"):
            return self._send(400, _graph_token_error(verdict))
        if body is None:
            return self._send(400, _graph_error("(#100) The request body could not be parsed.",
                                                100))
        token_user = (token or {}).get("user_id")
        if one_object:
            return self._graph_object(parts[0], query, token_user)
        node, edge = parts
        if self.command == "GET":
            if edge == "subscribed_apps":
                return self._graph_subscribed_apps(node)
            if edge == "conversations":
                return self._graph_conversations(node, query, token_user)
            return self._graph_list_comments(node, edge, query)
        if edge == "messages":
            if "messaging_product" in body:
                return self._graph_whatsapp(node, body)
            return self._graph_send_api(node, body, token_user)
        if edge == "private_replies":
            return self._graph_private_reply(node, body, token_user)
        if edge == "mentions":
            return self._graph_ig_mention_reply(node, body, token_user)
        return self._graph_comment(node, edge, body, token_user)

    def _graph_account(self, node: str, token_user: Optional[str], platform: str) -> str:
        """The page / account a Send API or mentions call acts as."""
        if token_user:
            return token_user
        if node != "me":
            return node
        return self.state.brand_id(platform) or "me"

    def _graph_comment(self, node: str, edge: str, body: dict, token_user: Optional[str]) -> None:
        if not (body.get("message") or body.get("attachment_url") or body.get("attachment_id")):
            return self._send(400, _graph_error("(#100) The parameter message is required", 100))
        message = str(body.get("message") or "")
        now = time.time()
        if "_" in node:
            # Facebook comment ids are "<post id>_<comment id>":
            # https://developers.facebook.com/docs/graph-api/reference/object/comments
            if len(message) > FB_COMMENT_MAX_CHARS:
                return self._send(400, _graph_too_long("message", FB_COMMENT_MAX_CHARS))
            poster = token_user or self.state.brand_id("facebook") or "0"
            post_object = node.split("_")[0]
            comment_id = f"{post_object}_{_random_digits(17)}"
            comment = {"id": comment_id, "message": message,
                       "from": {"id": poster, "name": SANDBOX_PAGE_NAME},
                       "created_time": _graph_time(now), "parent": {"id": node}}
            self.state.store_post("facebook", "comment", comment_id, poster, node, now, comment)

            def build() -> list[dict]:
                from infra.local import payloads

                change = payloads.fb_comment_change(
                    poster, post_object, comment_id, {"id": poster, "name": SANDBOX_PAGE_NAME},
                    message, parent_id=node, created_time=int(now))
                entry = payloads.meta_entry(poster, changes=[change])
                return [payloads.meta_payload("page", [entry])]

            self._echo("meta", build)
            return self._send(200, {"id": comment_id})
        # Instagram: /{ig-comment-id}/replies, or /{ig-media-id}/comments for a top-level comment
        # https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-comment/replies
        if len(message) > IG_COMMENT_MAX_CHARS:
            return self._send(400, _graph_too_long("message", IG_COMMENT_MAX_CHARS))
        poster = token_user or self.state.brand_id("instagram") or "0"
        if edge == "replies":
            # the media is known when the parent is a comment the sandbox stored
            parent = self.state.find_posts(lambda p: p["platform"] == "instagram"
                                           and p["id"] == node)
            media = (parent[0]["object"].get("media") or {}) if parent else {}
            media_id = media.get("id") or "0"
            return self._store_ig_comment("reply", poster, message, now, media_id, parent_id=node)
        return self._store_ig_comment("comment", poster, message, now, node, parent_id=None)

    def _store_ig_comment(self, kind: str, poster: str, message: str, now: float, media_id: str,
                          parent_id: Optional[str]) -> None:
        comment_id = _random_digits(17)
        comment: dict[str, Any] = {"id": comment_id, "text": message, "timestamp": _graph_time(now),
                                   "from": {"id": poster, "username": SANDBOX_IG_USERNAME}}
        if parent_id:
            comment["parent_id"] = parent_id
        if kind != "reply":
            comment["media"] = {"id": media_id}
        self.state.store_post("instagram", kind, comment_id, poster, parent_id or media_id, now,
                              comment)

        def build() -> list[dict]:
            from infra.local import payloads

            change = payloads.ig_comment_change(
                comment_id, media_id, {"id": poster, "username": SANDBOX_IG_USERNAME}, message,
                parent_id=parent_id)
            entry = payloads.meta_entry(poster, changes=[change])
            return [payloads.meta_payload("instagram", [entry])]

        self._echo("meta", build)
        return self._send(200, {"id": comment_id})

    def _graph_ig_mention_reply(self, node: str, body: dict, token_user: Optional[str]) -> None:
        # POST /{ig-user-id}/mentions: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/mentions
        if not body.get("media_id"):
            return self._send(400, _graph_error("(#100) The parameter media_id is required", 100))
        if not body.get("message"):
            return self._send(400, _graph_error("(#100) The parameter message is required", 100))
        message = str(body["message"])
        if len(message) > IG_COMMENT_MAX_CHARS:
            return self._send(400, _graph_too_long("message", IG_COMMENT_MAX_CHARS))
        poster = self._graph_account(node, token_user, "instagram")
        parent = str(body["comment_id"]) if body.get("comment_id") else None
        return self._store_ig_comment("mention_reply", poster, message, time.time(),
                                      str(body["media_id"]), parent_id=parent)

    def _graph_subscribed_apps(self, node: str) -> None:
        # GET /{page-id}/subscribed_apps (and an Instagram account's, a WhatsApp business account's):
        # https://developers.facebook.com/docs/graph-api/reference/page/subscribed_apps
        if not self.state.subscribed("graph", node):
            return self._send(200, {"data": []})
        return self._send(200, {"data": [{"id": SANDBOX_APP_ID, "name": "Sandbox App",
                                          "subscribed_fields": ["feed", "messages", "mention"]}]})

    def _graph_object(self, node: str, query: dict, token_user: Optional[str] = None) -> None:
        """GET /{object-id}?fields=from,message,created_time (a Facebook post or comment), or
        GET /{ig-user-id}?fields=mentioned_comment.comment_id(C){...} | mentioned_media.media_id(M){...}.
        https://developers.facebook.com/docs/graph-api/reference/post
        https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/mentioned_comment"""
        fields = str(query.get("fields") or "")
        with self.state.lock:
            profile = self.state.profiles.get(node)
        if profile is not None:
            return self._graph_profile(node, profile, fields)
        mentioned = re.match(r"^mentioned_(comment|media)\.(?:comment_id|media_id)\(([^)]+)\)\{([^}]*)\}$", fields)
        with self.state.lock:
            found = self.state.graph_objects.get(mentioned.group(2) if mentioned else node)
        if found is None and not mentioned and token_user and node == token_user:
            return self._send(200, {"id": node})  # the token's own page, account or phone number
        if found is None:
            # https://developers.facebook.com/docs/graph-api/guides/error-handling (code 100, subcode 33)
            return self._send(400, _graph_error(f"Unsupported get request. Object with ID '{node}' does not "
                                                "exist, cannot be loaded due to missing permissions, or does not "
                                                "support this operation.", 100, "GraphMethodException",
                                                error_subcode=33))
        if mentioned:
            wanted = [f.strip() for f in mentioned.group(3).split(",") if f.strip()] or ["id"]
            inner = {key: found[key] for key in wanted if key in found}
            return self._send(200, {f"mentioned_{mentioned.group(1)}": inner, "id": node})
        wanted = [f.strip() for f in fields.split(",") if f.strip()]
        return self._send(200, {"id": node, **{key: found[key] for key in wanted if key in found}})

    def _graph_profile(self, node: str, profile: dict, fields: str) -> None:
        """A person's profile, as the page sees them: the fields asked for that it has.
        https://developers.facebook.com/docs/messenger-platform/identity/user-profile
        https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/messaging-api/user-profile"""
        wanted = _graph_fields(fields) or ["name"]
        unknown = [f for f in wanted if f not in PROFILE_FIELDS]
        if unknown:
            return self._send(400, _graph_error(f"(#100) Tried accessing nonexisting field ({unknown[0]}) on "
                                                "node type (User)", 100, "GraphMethodException"))
        return self._send(200, {"id": node, **{f: profile[f] for f in wanted if f in profile}})

    def _graph_list_comments(self, node: str, edge: str, query: dict) -> None:
        # GET /{object-id}/comments: https://developers.facebook.com/docs/graph-api/reference/object/comments
        if "_" in node:
            found = self.state.find_posts(lambda p: p["platform"] == "facebook"
                                          and p["object"].get("parent", {}).get("id") == node)
            defaults = ["created_time", "from", "message"]
        else:
            found = self.state.find_posts(lambda p: p["platform"] == "instagram" and (
                p["object"].get("parent_id") == node
                or (edge == "comments" and p["kind"] == "comment"
                    and p["object"].get("media", {}).get("id") == node)))
            defaults = ["text", "timestamp"]
        wanted = set(_graph_fields(query["fields"]) if query.get("fields") else defaults) | {"id"}
        data = [{k: v for k, v in p["object"].items() if k in wanted} for p in found]
        if not data:
            return self._send(200, {"data": []})
        return self._send(200, {"data": data, "paging": {"cursors": {
            "before": _graph_cursor(data[0]["id"]), "after": _graph_cursor(data[-1]["id"])}}})

    def _graph_conversations(self, node: str, query: dict, token_user: Optional[str]) -> None:
        # GET /{page-id}/conversations: https://developers.facebook.com/docs/messenger-platform/conversations
        platform = "instagram" if query.get("platform") == "instagram" else "facebook"
        account = self._graph_account(node, token_user, platform)
        user = query.get("user_id")
        found = self.state.find_posts(lambda p: p["platform"] in ("messenger", "instagram")
                                      and p["kind"] in ("message", "private_reply")
                                      and p["account_id"] == account
                                      and (not user or p["target"] == user))
        threads: dict[str, list[dict]] = {}
        for post in found:
            threads.setdefault(post["target"], []).append(post["object"])
        data = []
        for peer, messages in threads.items():
            digest = int(hashlib.sha1(f"{account}:{peer}".encode("utf-8")).hexdigest(), 16)
            data.append({"id": f"t_{str(digest)[:15]}", "messages": {"data": [
                {"id": m["id"], "message": m["message"], "from": m["from"],
                 "created_time": m["created_time"]} for m in reversed(messages)]}})
        return self._send(200, {"data": data})

    def _graph_send_api(self, node: str, body: dict, token_user: Optional[str]) -> None:
        # Messenger / Instagram Send API: https://developers.facebook.com/docs/messenger-platform/reference/send-api
        recipient = body.get("recipient")
        if not isinstance(recipient, dict) or not recipient:
            return self._send(400, _graph_error("(#100) param recipient must be non-empty.", 100))
        if body.get("sender_action") and not body.get("message"):
            recipient_id = str(recipient.get("id") or recipient.get("user_id") or _random_digits(16))
            return self._send(200, {"recipient_id": recipient_id})
        message = body.get("message")
        if not message:
            return self._send(400, _graph_error("(#100) param message must be non-empty.", 100))
        message = message if isinstance(message, dict) else {"text": str(message)}
        problem = _quick_replies_problem(message.get("quick_replies"))
        if problem:
            return self._send(400, _graph_error(f"(#100) {problem}", 100))
        text = message.get("text")
        if text is not None and len(str(text)) > SEND_API_MAX_CHARS:
            return self._send(400, _graph_too_long("message[text]", SEND_API_MAX_CHARS))
        account = self._graph_account(node, token_user, "facebook")
        now = time.time()
        if recipient.get("comment_id"):
            # Private replies: https://developers.facebook.com/docs/messenger-platform/discovery/private-replies
            comment_id = str(recipient["comment_id"])
            allowed, user = self.state.claim_private_reply(comment_id, now)
            if not allowed:
                return self._send(400, _graph_outside_window(detail=False))
            peer = user or comment_id
            mid = self._graph_deliver(account, peer, recipient, message, now, "private_reply")
            return self._send(200, {"recipient_id": peer, "message_id": mid})
        user = str(recipient.get("id") or recipient.get("user_id") or "")
        last = self.state.last_wrote(("facebook", "instagram"),
                                     None if account == "me" else account, user)
        if last is None:
            return self._send(400, _graph_error("(#100) No matching user found", 100,
                                                error_subcode=2018001))
        age = now - last
        tagged = body.get("messaging_type") == "MESSAGE_TAG" and body.get("tag") == "HUMAN_AGENT"
        if not (age <= STANDARD_WINDOW or (tagged and age <= HUMAN_AGENT_WINDOW)):
            return self._send(400, _graph_outside_window())
        mid = self._graph_deliver(account, user, recipient, message, now, "message")
        return self._send(200, {"recipient_id": user, "message_id": mid})

    def _graph_private_reply(self, node: str, body: dict, token_user: Optional[str]) -> None:
        # The older edge, POST /{comment-id}/private_replies (same once-per-comment rule)
        if not body.get("message"):
            return self._send(400, _graph_error("(#100) The parameter message is required", 100))
        now = time.time()
        allowed, user = self.state.claim_private_reply(node, now)
        if not allowed:
            return self._send(400, _graph_outside_window(detail=False))
        account = token_user or self.state.brand_id("facebook") or "0"
        mid = self._graph_deliver(account, user or node, {"comment_id": node},
                                  {"text": str(body["message"])}, now, "private_reply")
        return self._send(200, {"id": mid})

    def _graph_deliver(self, account: str, peer: str, recipient: dict, message: dict, now: float,
                       kind: str) -> str:
        """Store a Send API message from `account` to `peer` and echo it; its message id."""
        platform = "instagram" if account.startswith(INSTAGRAM_ID_PREFIX) else "messenger"
        mid = "m_" + _random_alnum(40)
        text = message.get("text")
        stored = {"id": mid, "message": text, "from": {"id": account}, "to": recipient,
                  "created_time": _graph_time(now)}
        self.state.store_post(platform, kind, mid, account, peer, now, stored, choices=[
            {"title": q["title"], "payload": q["payload"]} for q in message.get("quick_replies") or []])
        self._echo("meta", lambda: _messaging_echoes(platform, account, peer, mid, text,
                                                     message.get("metadata"), int(now * 1000)))
        return mid

    def _graph_whatsapp(self, node: str, body: dict) -> None:
        # WhatsApp Cloud API send: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
        if body.get("messaging_product") != "whatsapp" or not body.get("to"):
            return self._send(400, _graph_error(
                "(#100) The parameter messaging_product is required.", 100))
        to = str(body["to"])
        wa_id = _wa_id(to)
        kind = str(body.get("type") or "text")
        if kind == "text":
            text = body.get("text")
            text_body = text.get("body") if isinstance(text, dict) else None
            if not text_body:
                return self._send(400, _graph_error("(#100) The parameter text['body'] is required.",
                                                    100))
            if len(str(text_body)) > WA_TEXT_MAX_CHARS:
                return self._send(400, _graph_too_long("text['body']", WA_TEXT_MAX_CHARS))
        if kind == "interactive":
            problem = _wa_interactive_problem(body.get("interactive"))
            if problem:
                return self._send(400, _graph_error(f"(#100) {problem}", 100))
        now = time.time()
        if kind != "template":
            # Free-form messages only inside the customer service window (templates open one).
            last = self.state.last_wrote(("whatsapp",), node, wa_id)
            if last is None or now - last > WA_SERVICE_WINDOW:
                return self._send(400, _graph_error(
                    "(#131047) Re-engagement message", 131047, error_data={
                        "messaging_product": "whatsapp",
                        "details": "Message failed to send because more than 24 hours have "
                                   "passed since the customer last replied to this number."}))
        wamid = "wamid." + _random_alnum(48)
        stored = {k: v for k, v in body.items() if k != "access_token"}
        stored.update(id=wamid, wa_id=wa_id, created_time=_graph_time(now))
        buttons = ((body.get("interactive") or {}).get("action") or {}).get("buttons") if kind == "interactive" else None
        self.state.store_post("whatsapp", "message", wamid, node, wa_id, now, stored,
                              choices=[{"title": b["reply"]["title"], "payload": b["reply"]["id"]} for b in buttons or []])
        callback = body.get("biz_opaque_callback_data")
        waba = self.state.brand_id("whatsapp") or SANDBOX_WABA_ID

        def build() -> list[dict]:
            from infra.local import payloads

            out = []
            for status in ("sent", "delivered", "read"):
                change = payloads.wa_status_change(node, wamid, status, wa_id, timestamp=int(now))
                if callback is not None:
                    change["value"]["statuses"][0]["biz_opaque_callback_data"] = callback
                out.append(payloads.meta_payload("whatsapp_business_account",
                                                 [payloads.meta_entry(waba, changes=[change])]))
            return out

        self._echo("meta", build)
        return self._send(200, {"messaging_product": "whatsapp",
                                "contacts": [{"input": to, "wa_id": wa_id}],
                                "messages": [{"id": wamid}]})


# -- CSAT surveys: the interactive shapes the desk sends, checked as the platforms check them ----
WA_BUTTONS_MAX, WA_BUTTON_TITLE_MAX, WA_BUTTON_ID_MAX, WA_INTERACTIVE_BODY_MAX = 3, 20, 256, 1024
QUICK_REPLIES_MAX, QUICK_REPLY_TITLE_MAX, QUICK_REPLY_PAYLOAD_MAX = 13, 20, 1000


def _wa_interactive_problem(interactive: Any) -> Optional[str]:
    """What WhatsApp would refuse in an interactive reply-button message (None: fine).
    https://developers.facebook.com/docs/whatsapp/cloud-api/messages/interactive-reply-buttons-messages"""
    if not isinstance(interactive, dict) or interactive.get("type") != "button":
        return "interactive['type'] must be button (the sandbox knows reply buttons only)"
    text = (interactive.get("body") or {}).get("text") if isinstance(interactive.get("body"), dict) else None
    if not isinstance(text, str) or not text or len(text) > WA_INTERACTIVE_BODY_MAX:
        return f"interactive['body']['text'] is required, at most {WA_INTERACTIVE_BODY_MAX} characters"
    buttons = (interactive.get("action") or {}).get("buttons") if isinstance(interactive.get("action"), dict) else None
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= WA_BUTTONS_MAX:
        return f"interactive['action']['buttons'] must hold 1 to {WA_BUTTONS_MAX} buttons"
    ids = []
    for button in buttons:
        reply = button.get("reply") if isinstance(button, dict) else None
        if not isinstance(reply, dict) or button.get("type") != "reply":
            return "each button is {type: reply, reply: {id, title}}"
        if not isinstance(reply.get("title"), str) or not 0 < len(reply["title"]) <= WA_BUTTON_TITLE_MAX:
            return f"a button's title is 1 to {WA_BUTTON_TITLE_MAX} characters"
        if not isinstance(reply.get("id"), str) or not 0 < len(reply["id"]) <= WA_BUTTON_ID_MAX:
            return f"a button's id is 1 to {WA_BUTTON_ID_MAX} characters"
        ids.append(reply["id"])
    return "button ids must be unique" if len(set(ids)) != len(ids) else None


def _quick_replies_problem(quick_replies: Any) -> Optional[str]:
    """What the Send API would refuse in `message.quick_replies` (None: fine or absent).
    https://developers.facebook.com/docs/messenger-platform/send-messages/quick-replies"""
    if quick_replies is None:
        return None
    if not isinstance(quick_replies, list) or not 1 <= len(quick_replies) <= QUICK_REPLIES_MAX:
        return f"message[quick_replies] must hold 1 to {QUICK_REPLIES_MAX} items"
    for item in quick_replies:
        if not isinstance(item, dict) or item.get("content_type") != "text":
            return "a quick reply is {content_type: text, title, payload}"
        if not isinstance(item.get("title"), str) or not 0 < len(item["title"]) <= QUICK_REPLY_TITLE_MAX:
            return f"a quick reply's title is 1 to {QUICK_REPLY_TITLE_MAX} characters"
        if not isinstance(item.get("payload"), str) or not 0 < len(item["payload"]) <= QUICK_REPLY_PAYLOAD_MAX:
            return f"a quick reply's payload is 1 to {QUICK_REPLY_PAYLOAD_MAX} characters"
    return None


def _messaging_echoes(platform: str, account: str, user: str, mid: str, text: Optional[str],
                      metadata: Optional[str], now_ms: int) -> list[dict]:
    """The webhooks Meta sends after a Send API message: the echo, (Messenger) delivery, read."""
    # https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/message-echoes
    from infra.local import payloads

    echo = payloads.messenger_event(account, user, mid, text=text, timestamp_ms=now_ms,
                                    is_echo=True)
    if metadata is not None:
        echo["message"]["metadata"] = metadata
    events = [echo]
    parties = {"sender": {"id": user}, "recipient": {"id": account}}
    if platform == "messenger":
        # https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/message-deliveries
        events.append({**parties, "timestamp": now_ms + 1,
                       "delivery": {"mids": [mid], "watermark": now_ms}})
        events.append({**parties, "timestamp": now_ms + 2, "read": {"watermark": now_ms}})
    else:
        events.append({**parties, "timestamp": now_ms + 2, "read": {"mid": mid}})
    product = "instagram" if platform == "instagram" else "page"
    return [payloads.meta_payload(product, [payloads.meta_entry(account, messaging=[event],
                                                                time_ms=event["timestamp"])])
            for event in events]


def _encode_token(below_id: int) -> str:
    """An opaque-looking pagination token; it resumes strictly below the last id served."""
    return "7140dibdnow9c7btw" + format(below_id, "x")


def _decode_token(token: str) -> int:
    if not token.startswith("7140dibdnow9c7btw"):
        raise ValueError(token)
    return int(token[len("7140dibdnow9c7btw"):], 16)


# --------------------------------------------------------------------------- public API


class Sandbox:
    """A running sandbox. Seed it from Python, read what it received, stop it when done."""

    def __init__(self, server: ThreadingHTTPServer, thread: Optional[threading.Thread],
                 state: SandboxState):
        self._server = server
        self._thread = thread
        self.state = state
        self.host = server.server_address[0]
        self.port = server.server_address[1]
        self.url = f"http://{self.host}:{self.port}"

    @property
    def graph_url(self) -> str:
        """What GRAPH_API_BASE points at (the Graph API base includes its version)."""
        return self.url + "/v21.0"

    @property
    def requests(self) -> list[dict]:
        """A copy of every recorded request, oldest first."""
        return self.state.snapshot()

    def requests_to(self, path_prefix: str) -> list[dict]:
        return self.state.snapshot(path_prefix)

    def clear_requests(self) -> None:
        with self.state.lock:
            self.state.requests.clear()

    def reset(self) -> None:
        self.state.clear()

    def seed_x_mentions(self, user_id: str, tweets: Iterable[dict], users: Iterable[dict] = (),
                        media: Iterable[dict] = ()) -> None:
        self.state.seed_x_mentions(user_id, tweets, users, media)

    def seed_graph_objects(self, objects: Iterable[dict]) -> None:
        self.state.seed_graph_objects(objects)

    def seed_profiles(self, profiles: Iterable[dict]) -> None:
        self.state.seed_profiles(profiles)

    def set_x_rate_limit(self, limit: Optional[int] = None, remaining: Optional[int] = None,
                         reset: Optional[float] = None, endpoint: str = "mentions") -> None:
        self.state.set_x_rate_limit(limit, remaining, reset, endpoint)

    def fail_next(self, path_prefix: str, status: int = 500, times: int = 1, after: int = 0,
                  body: Any = None, headers: Optional[dict] = None, mode: Optional[str] = None,
                  delay: float = 3.0) -> None:
        """The next `times` requests whose path starts with `path_prefix` (after skipping
        `after` of them) answer `status`, with a platform-shaped error body unless given, plus
        `headers`. With mode "timeout_after_accept" they are processed normally and answered
        only after `delay` seconds."""
        self.state.add_fail_rule(path_prefix, status, times, after, body, headers, mode, delay)

    def add_token(self, token: str, platform: str, user_id: Optional[str] = None,
                  refresh_token: Optional[str] = None, client_id: Optional[str] = None,
                  expired: bool = False) -> None:
        """Register a credential ("x" or "graph"); from then on that platform takes only these."""
        self.state.add_token(token, platform, user_id, refresh_token, client_id, expired)

    def expire_token(self, token: str) -> None:
        if not self.state.expire_token(token):
            raise KeyError(token)

    def revoke_token(self, token: str) -> None:
        """The user took the app's access back: the token and its refresh token stop working."""
        if not self.state.revoke_token(token):
            raise KeyError(token)

    def set_subscribed(self, platform: str, account_id: str, subscribed: bool = True) -> None:
        """Whether the account ("x" user or "graph" node) still feeds the app's webhook."""
        self.state.set_subscribed(platform, account_id, subscribed)

    def set_x_webhook(self, present: bool = True, valid: bool = True) -> None:
        """The app's X webhook: gone (present=False) or failing X's CRC re-check (valid=False)."""
        self.state.set_x_webhook(present, valid)

    def customer_wrote(self, platform: str, account_id: str, user_id: str,
                       at: Optional[float] = None, comment_id: Optional[str] = None) -> None:
        """Tell the sandbox a customer wrote (opens reply windows); with comment_id, registers
        that comment (for private replies) instead."""
        self.state.customer_wrote(platform, account_id, user_id, at, comment_id)

    def configure_echoes(self, x_consumer_secret: str, meta_app_secret: str,
                         url: Optional[str] = None, brand_ids: Optional[dict] = None) -> None:
        """Queue signed webhook echoes of every post; with `url`, also deliver them there."""
        self.state.configure_echoes(x_consumer_secret, meta_app_secret, url, brand_ids)

    def take_echoes(self) -> list[dict]:
        """The queued echoes, oldest first, removed from the queue."""
        return self.state.take_echoes()

    def posts(self, platform: Optional[str] = None) -> list[dict]:
        """Copies of the stored posts (oldest first), of one platform if given."""
        return self.state.find_posts(lambda p: platform is None or p["platform"] == platform)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.state.courier.close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def make_server(port: int = 0, host: str = "127.0.0.1",
                state: Optional[SandboxState] = None) -> tuple[ThreadingHTTPServer, SandboxState]:
    state = state or SandboxState()
    handler = type("SandboxHandler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server, state


def start(port: int = 0, host: str = "127.0.0.1") -> Sandbox:
    """Start a sandbox on a daemon thread; port 0 picks a free port (see `.port`, `.url`)."""
    server, state = make_server(port, host)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name=f"sandbox:{server.server_address[1]}", daemon=True)
    thread.start()
    return Sandbox(server, thread, state)


# ------------------------------------------------------------------ builders for seeding


def x_tweet(id: str, text: str, author_id: str, *, created_at: str = "2024-05-01T09:30:00.000Z",
            conversation_id: Optional[str] = None, in_reply_to_user_id: Optional[str] = None,
            replied_to: Optional[str] = None, media_keys: Iterable[str] = (),
            lang: str = "en") -> dict:
    """A v2 tweet object as the mentions timeline returns it (all fields we ask for)."""
    tweet: dict[str, Any] = {"id": str(id), "text": text, "author_id": str(author_id),
                             "created_at": created_at, "conversation_id": str(conversation_id or id),
                             "edit_history_tweet_ids": [str(id)], "lang": lang}
    if in_reply_to_user_id:
        tweet["in_reply_to_user_id"] = str(in_reply_to_user_id)
    if replied_to:
        tweet["referenced_tweets"] = [{"type": "replied_to", "id": str(replied_to)}]
    if media_keys:
        tweet["attachments"] = {"media_keys": list(media_keys)}
    return tweet


def x_user(id: str, username: str, name: Optional[str] = None, *, followers: int = 0,
           verified: bool = False) -> dict:
    return {"id": str(id), "name": name or username, "username": username, "verified": verified,
            "public_metrics": {"followers_count": followers, "following_count": 0,
                               "tweet_count": 0, "listed_count": 0}}


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local.sandbox",
                                     description="Local stand-in for X API v2 and Meta Graph API.")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    args = parser.parse_args(argv)
    server, _ = make_server(args.port, args.host)
    server.verbose = args.verbose  # type: ignore[attr-defined]
    host, port = server.server_address[:2]
    print(f"platform sandbox listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
