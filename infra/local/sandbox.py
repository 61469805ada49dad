"""Local platform sandbox: an HTTP server standing in for X API v2 and the Meta Graph API.

The local stack and the tests point `X_API_BASE` at `sandbox.url` and `GRAPH_API_BASE` at
`sandbox.url + "/v21.0"`, so platform clients are exercised over real HTTP on loopback,
never mocked. Standard library only (http.server, json, threading, ...): it must start
anywhere, in a test process or standalone with `python -m infra.local.sandbox --port N`.

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
      POST   /_sandbox/fail         {"path_prefix", "status": 500, "times": 1, "after"?: 0, "body"?}
  * platform endpoints:
      GET  /2/users/{id}/mentions                               X: mentions timeline
      POST /2/tweets                                            X: 201 {"data": {"id", "text"}}
      POST /2/dm_conversations/with/{participant_id}/messages   X: 201 {"data": {...}}
      POST /{version}/{phone_number_id}/messages  (messaging_product whatsapp)   WhatsApp Cloud
      POST /{version}/me/messages | /{version}/{page_id}/messages               Send API
      POST /{version}/{comment_id}/comments | /replies | /private_replies       comments
      anything else                                             200 {} (still recorded)

X rate limits: each authenticated call to an X endpoint consumes one request of that
endpoint's window ("mentions", "tweets", "dm"); the answer carries x-rate-limit-limit,
-remaining (after this call) and -reset (epoch seconds). A call made while remaining is 0
answers 429. Once `reset` is in the past the window rolls over (remaining = limit, reset =
now + 15 min), as X's does; to force a 429 set a reset in the future.

The endpoints above need a credential, as the real ones do (unknown paths do not): X wants
an `Authorization` header (`Bearer ...` for the mentions timeline) and answers 401 without
one; the Graph send/comment edges want an `access_token` (query or body) or an
`Authorization` header and answer 400 OAuthException code 104 without one.

Seed from Python with `Sandbox.seed_x_mentions` (the `x_tweet` / `x_user` builders make v2
objects), `set_x_rate_limit`, `fail_next`; read with `Sandbox.requests`.
"""
from __future__ import annotations

import argparse
import json
import re
import secrets
import string
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterable, Optional
from urllib.parse import parse_qs, urlsplit

X_WINDOW_SECONDS = 15 * 60  # https://docs.x.com/fundamentals/rate-limits: 15-minute windows
X_DEFAULT_LIMITS = {"mentions": 450, "tweets": 100, "dm": 200}
X_EPOCH_MS = 1288834974657  # https://docs.x.com/resources/fundamentals/x-ids (snowflake epoch)
X_DEFAULT_TWEET_FIELDS = ("id", "text", "edit_history_tweet_ids")
X_DEFAULT_USER_FIELDS = ("id", "name", "username")
X_DEFAULT_MEDIA_FIELDS = ("media_key", "type")
SANDBOX_X_USER_ID = "1000000000000000001"  # "our" account, the sender of DMs posted here
GRAPH_VERSION = re.compile(r"^/(v\d+\.\d+)(/.*)?$")
GRAPH_EDGES = ("messages", "comments", "replies", "private_replies")


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


class SandboxState:
    """Everything the sandbox remembers; every access holds `lock`."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
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
            self._sequence = 0

    # -- seeding
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
                      body: Any = None) -> None:
        with self.lock:
            self.fail_rules.append({"path_prefix": path_prefix, "status": int(status),
                                    "times": int(times), "after": int(after), "body": body})

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


def _random_alnum(n: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(n))


def _random_digits(n: int) -> str:
    return str(secrets.randbelow(9) + 1) + "".join(str(secrets.randbelow(10)) for _ in range(n - 1))


def _x_problem(status: int, title: str, detail: str, **extra: Any) -> dict:
    # X API v2 errors are RFC 7807-style problems: https://docs.x.com/x-api/fundamentals/response-codes-and-errors
    return {"title": title, "detail": detail, "type": "about:blank", "status": status, **extra}


def _x_rate_limited() -> dict:
    # Body documented at https://docs.x.com/fundamentals/rate-limits ({"errors": [{"code": 88, ...}]}),
    # plus the v2 problem fields the live API sends alongside.
    return {"errors": [{"code": 88, "message": "Rate limit exceeded"}],
            **_x_problem(429, "Too Many Requests", "Too Many Requests")}


def _graph_error(message: str, code: int, type_: str = "OAuthException", **extra: Any) -> dict:
    # Graph API error shape: https://developers.facebook.com/docs/graph-api/guides/error-handling
    return {"error": {"message": message, "type": type_, "code": code,
                      "fbtrace_id": _random_alnum(11), **extra}}


def _select(obj: dict, defaults: Iterable[str], requested: Iterable[str]) -> dict:
    """X v2 returns only the default fields plus those asked for with *.fields parameters."""
    wanted = set(defaults) | set(requested)
    return {k: v for k, v in obj.items() if k in wanted}


def _csv(query: dict, key: str) -> list[str]:
    return [p for p in query.get(key, "").split(",") if p]


# --------------------------------------------------------------------------- handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "PlatformSandbox/1.0"
    state: SandboxState  # set on the subclass made by make_server

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
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(raw)

    def _dispatch(self) -> None:
        split = urlsplit(self.path)
        path = split.path or "/"
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        raw = self._read_body()
        text = raw.decode("utf-8", errors="replace")
        try:
            if path.startswith("/_sandbox/") or path == "/_sandbox":
                self._control(path, query, text)
                return
            self.state.record({"method": self.command, "path": path, "query": query,
                               "headers": dict(self.headers.items()), "body": text})
            self._platform(path, query, text)
        except Exception as exc:  # a sandbox bug must still answer, or the client hangs
            self._send(500, {"error": f"sandbox error: {type(exc).__name__}: {exc}"})

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
        if path == "/_sandbox/reset" and method == "POST":
            state.clear()
            return self._send(200, {"reset": True})
        if not isinstance(body, dict) and method == "POST":
            return self._send(400, {"error": "control endpoints take a JSON object"})
        if path == "/_sandbox/x/mentions" and method == "POST":
            if not body.get("user_id"):
                return self._send(400, {"error": "user_id is required"})
            state.seed_x_mentions(body["user_id"], body.get("tweets") or [],
                                  body.get("users") or [], body.get("media") or [])
            return self._send(200, {"seeded": len(body.get("tweets") or [])})
        if path == "/_sandbox/x/rate_limit" and method == "POST":
            state.set_x_rate_limit(body.get("limit"), body.get("remaining"), body.get("reset"),
                                   body.get("endpoint") or "mentions")
            return self._send(200, {"ok": True})
        if path == "/_sandbox/fail" and method == "POST":
            if not isinstance(body.get("path_prefix"), str):
                return self._send(400, {"error": "path_prefix is required"})
            state.add_fail_rule(body["path_prefix"], body.get("status", 500), body.get("times", 1),
                                body.get("after", 0), body.get("body"))
            return self._send(200, {"ok": True})
        return self._send(404, {"error": f"no sandbox control endpoint {method} {path}"})

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

    # -- platform endpoints
    def _platform(self, path: str, query: dict, text: str) -> None:
        state = self.state
        rule = state.take_failure(path)
        if rule is not None:
            status = rule["status"]
            if rule["body"] is not None:
                payload = rule["body"]
            elif path.startswith("/2/"):
                payload = (_x_rate_limited() if status == 429 else
                           _x_problem(status, "Sandbox Failure", f"injected failure {status}"))
            else:
                payload = _graph_error("An unexpected error has occurred. Please retry your "
                                       "request later.", 2 if status >= 500 else 1,
                                       is_transient=status >= 500)
            headers = self._x_window_headers(path) if path.startswith("/2/") else None
            return self._send(status, payload, headers)
        if path.startswith("/2/"):
            return self._x(path, query, text)
        if GRAPH_VERSION.match(path):
            return self._graph(path, query, text)
        return self._send(200, {})

    # X -----------------------------------------------------------------------------
    @staticmethod
    def _x_endpoint(path: str) -> Optional[str]:
        if re.fullmatch(r"/2/users/[^/]+/mentions", path):
            return "mentions"
        if path == "/2/tweets":
            return "tweets"
        if path.startswith("/2/dm_conversations/"):
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

    def _x(self, path: str, query: dict, text: str) -> None:
        name = self._x_endpoint(path)
        if name is None:
            return self._send(200, {})
        authorization = self.headers.get("Authorization") or ""
        if name == "mentions":
            # App-only auth: "Authorization: Bearer <token>" (https://docs.x.com/fundamentals/authentication)
            ok = authorization.startswith("Bearer ") and authorization[7:].strip()
        else:
            ok = bool(authorization.strip())
        if not ok:
            return self._send(401, _x_problem(401, "Unauthorized", "Unauthorized"),
                              self._x_window_headers(path))
        allowed, headers = self._x_consume(name)
        if not allowed:
            return self._send(429, _x_rate_limited(), headers)
        if name == "mentions" and self.command == "GET":
            status, payload = self._x_mentions(path.split("/")[3], query)
            return self._send(status, payload, headers)
        if name == "tweets" and self.command == "POST":
            body = self._json(text)
            if not isinstance(body, dict) or not (body.get("text") or body.get("media")):
                return self._send(400, _x_problem(400, "Invalid Request",
                                                  "One or more parameters to your request was invalid."),
                                  headers)
            tweet_id = self.state.next_snowflake()
            # POST /2/tweets answers 201 with the new post: https://docs.x.com/x-api/posts/create-post
            return self._send(201, {"data": {"id": tweet_id, "text": body.get("text", ""),
                                             "edit_history_tweet_ids": [tweet_id]}}, headers)
        match = re.fullmatch(r"/2/dm_conversations/with/([^/]+)/messages", path)
        if match and self.command == "POST":
            body = self._json(text)
            if not isinstance(body, dict) or not (body.get("text") or body.get("attachments")):
                return self._send(400, _x_problem(400, "Invalid Request",
                                                  "One or more parameters to your request was invalid."),
                                  headers)
            participant = match.group(1)
            # one-to-one conversation ids are "<lower user id>-<higher user id>":
            # https://docs.x.com/x-api/direct-messages/manage/introduction
            pair = sorted([participant, SANDBOX_X_USER_ID], key=lambda s: (len(s), s))
            return self._send(201, {"data": {"dm_conversation_id": "-".join(pair),
                                             "dm_event_id": self.state.next_snowflake()}}, headers)
        return self._send(200, {}, headers)

    def _x_mentions(self, user_id: str, query: dict) -> tuple[int, dict]:
        # GET /2/users/:id/mentions: https://docs.x.com/x-api/posts/timelines/introduction
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
                return 400, _x_problem(400, "Invalid Request",
                                       "One or more parameters to your request was invalid.")
        since = int(query["since_id"]) if query.get("since_id") else None
        until = int(query["until_id"]) if query.get("until_id") else None
        token = query.get("pagination_token")
        below: Optional[int] = None
        if token:
            try:
                below = _decode_token(token)
            except ValueError:
                return 400, _x_problem(400, "Invalid Request",
                                       "The `pagination_token` query parameter value is not valid.")
        with self.state.lock:
            timeline = list(self.state.x_mentions.get(user_id, {}).values())
            users = dict(self.state.x_users)
            media = dict(self.state.x_media)
            every_tweet = {t_id: t for tl in self.state.x_mentions.values() for t_id, t in tl.items()}
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
        if self.command != "POST" or len(parts) != 2 or parts[1] not in GRAPH_EDGES:
            return self._send(200, {})
        body = self._form_or_json(text)
        authorization = self.headers.get("Authorization") or ""
        has_token = bool(query.get("access_token") or authorization.strip()
                         or (isinstance(body, dict) and body.get("access_token")))
        if not has_token:
            # https://developers.facebook.com/docs/graph-api/guides/error-handling (code 104)
            return self._send(400, _graph_error("An access token is required to request this "
                                                "resource.", 104))
        if body is None:
            return self._send(400, _graph_error("(#100) The request body could not be parsed.", 100))
        node, edge = parts
        if edge == "messages":
            return self._graph_messages(node, body)
        if edge in ("comments", "replies"):
            if not (body.get("message") or body.get("attachment_url") or body.get("attachment_id")):
                return self._send(400, _graph_error("(#100) The parameter message is required", 100))
            # Facebook comment ids are "<post id>_<comment id>"; Instagram ids are plain numbers
            prefix = node.split("_")[0] + "_" if "_" in node else ""
            return self._send(200, {"id": prefix + _random_digits(17)})
        if edge == "private_replies":
            if not body.get("message"):
                return self._send(400, _graph_error("(#100) The parameter message is required", 100))
            return self._send(200, {"id": "m_" + _random_alnum(40)})
        return self._send(200, {})

    def _graph_messages(self, node: str, body: dict) -> None:
        if "messaging_product" in body:
            # WhatsApp Cloud API send: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
            if body.get("messaging_product") != "whatsapp" or not body.get("to"):
                return self._send(400, _graph_error(
                    "(#100) The parameter messaging_product is required.", 100))
            to = str(body["to"])
            wa_id = re.sub(r"\D", "", to) or to
            return self._send(200, {"messaging_product": "whatsapp",
                                    "contacts": [{"input": to, "wa_id": wa_id}],
                                    "messages": [{"id": "wamid." + _random_alnum(48)}]})
        # Messenger / Instagram Send API: https://developers.facebook.com/docs/messenger-platform/reference/send-api
        recipient = body.get("recipient")
        if not isinstance(recipient, dict) or not recipient:
            return self._send(400, _graph_error("(#100) param recipient must be non-empty.", 100))
        recipient_id = str(recipient.get("id") or recipient.get("user_id") or _random_digits(16))
        if body.get("sender_action") and not body.get("message"):
            return self._send(200, {"recipient_id": recipient_id})
        if not body.get("message"):
            return self._send(400, _graph_error("(#100) param message must be non-empty.", 100))
        return self._send(200, {"recipient_id": recipient_id, "message_id": "m_" + _random_alnum(40)})


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

    def set_x_rate_limit(self, limit: Optional[int] = None, remaining: Optional[int] = None,
                         reset: Optional[float] = None, endpoint: str = "mentions") -> None:
        self.state.set_x_rate_limit(limit, remaining, reset, endpoint)

    def fail_next(self, path_prefix: str, status: int = 500, times: int = 1, after: int = 0,
                  body: Any = None) -> None:
        """The next `times` requests whose path starts with `path_prefix` (after skipping
        `after` of them) answer `status`, with a platform-shaped error body unless given."""
        self.state.add_fail_rule(path_prefix, status, times, after, body)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
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
