"""Platform clients: send one reply, or find it after an attempt whose outcome is unknown.

One function pair per action (see policy.py): `send(message, credential) -> platform id` and,
where the platform lets us read our own posts, `find(message, credential, since) -> id | None`.
Both raise the errors of chalicelib.outbound.errors; nothing here touches the table.

| action            | request (base X_API_BASE or GRAPH_API_BASE)                                  |
| x_reply           | POST /2/tweets {text, reply.in_reply_to_tweet_id}                           |
| x_dm              | POST /2/dm_conversations/with/{participant}/messages {text}                 |
| fb_comment_reply  | POST /{comment-id}/comments {message}                                       |
| fb_private_reply  | POST /{page-id}/messages {recipient.comment_id, message.text}               |
| messenger         | POST /{page-id}/messages {recipient.id, messaging_type RESPONSE, message}   |
| ig_comment_reply  | POST /{ig-comment-id}/replies {message}                                     |
| ig_private_reply  | POST /{ig-user-id}/messages {recipient.comment_id, message.text}            |
| ig_mention_reply  | POST /{ig-user-id}/mentions {media_id, comment_id?, message}                |
| ig_dm             | POST /{ig-user-id}/messages {recipient.id, messaging_type RESPONSE, message}|
| whatsapp          | POST /{phone-number-id}/messages {messaging_product, to, type text, context}|
| email             | SES SendRawEmail with In-Reply-To, References and our own Message-ID        |
| api_callback      | POST <callback_url>, X-Signature-256 HMAC of the body, Idempotency-Key      |

The callback URL is the one request whose address an admin, not the operator, chooses: it is
checked again before every send (chalicelib/netguard.py: https only, public addresses only), the
connection goes to the very address that was checked (no second DNS lookup, no proxy), redirects
are never followed, and nothing of the receiver's answer but a short id reaches the agent.

Errors: X 429 waits until `x-rate-limit-reset`; Graph throttling (HTTP 429 or codes 4, 17, 32,
613, 80001-80014, WhatsApp 130429/131056) waits `estimated_time_to_regain_access` from
`X-Business-Use-Case-Usage`, or a minute when `X-App-Usage` shows a quota at 100%; 5xx and
transient errors back off; X 401 and Graph code 190 are auth failures; X's "duplicate
content" 403 means our first attempt landed. Tokens travel in the Authorization header only,
never in a URL, a log line or an error reason.
"""
from __future__ import annotations

import hashlib
import hmac
import http.client as httplib
import json
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Optional

from chalicelib.config import settings
from chalicelib.models import iso_time
from chalicelib.outbound.errors import Ambiguous, AuthFailed, Permanent, Retry

TIMEOUT_SECONDS = 8.0
MAX_ANSWER_BYTES = 2 * 1024 * 1024  # an answer is read this far and no further (a receiver may be hostile)
ERROR_TEXT_LIMIT = 300
GRAPH_RATE_CODES = {4, 17, 32, 613, 130429, 131056} | set(range(80001, 80015))
GRAPH_TRANSIENT_CODES = {1, 2, 131000, 131016}
GRAPH_REASONS = {
    (10, 2018278): "outside the platform's reply window (24 hours after the customer's last message, "
                   "or one private reply per comment)",
    (131047, None): "more than 24 hours since the customer last wrote; WhatsApp now accepts only an "
                    "approved template",
    (100, 2018001): "the platform knows no such recipient",
}


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Any
    body: Any


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """urllib would replay the Authorization header to wherever a redirect points."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D401
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _pinned(connection_class, address: str):
    """A connection class that connects to `address` whatever the URL's host resolves to now;
    the Host header and TLS (SNI, certificate check) still use the URL's host name."""
    def build(host, **kwargs):
        connection = connection_class(host, **kwargs)
        connection._create_connection = lambda where, *args, **kw: socket.create_connection(
            (address, where[1]), *args, **kw)
        return connection
    return build


class _PinnedHTTP(urllib.request.HTTPHandler):
    def __init__(self, address: str):
        super().__init__()
        self.address = address

    def http_open(self, req):
        return self.do_open(_pinned(httplib.HTTPConnection, self.address), req)


class _PinnedHTTPS(urllib.request.HTTPSHandler):
    def __init__(self, address: str):
        super().__init__()
        self.address = address

    def https_open(self, req):
        return self.do_open(_pinned(httplib.HTTPSConnection, self.address), req, context=self._context)


def pinned_opener(address: str):
    """An opener that reaches only `address` (checked by netguard), through no proxy, following
    no redirect."""
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect, _PinnedHTTP(address),
                                       _PinnedHTTPS(address))


def http(method: str, url: str, *, token: str = "", body: Optional[dict] = None,
         headers: Optional[dict] = None, raw: Optional[bytes] = None, timeout: Optional[float] = None,
         opener=None) -> Reply:
    """One HTTP call. A POST that timed out after it was sent raises Ambiguous; a connection that
    never carried the request raises Retry."""
    data = raw if raw is not None else (json.dumps(body).encode("utf-8") if body is not None else None)
    all_headers = {"Accept": "application/json", "User-Agent": "social-care-desk/1.0", **(headers or {})}
    if data is not None:
        all_headers.setdefault("Content-Type", "application/json")
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with (opener or _OPENER).open(request, timeout=timeout or TIMEOUT_SECONDS) as response:
            return Reply(response.status, response.headers, _json(response.read(MAX_ANSWER_BYTES)))
    except urllib.error.HTTPError as err:
        try:
            return Reply(err.code, err.headers, _json(err.read(MAX_ANSWER_BYTES)))
        finally:
            err.close()
    except urllib.error.URLError as err:  # connect/send failed: the platform never saw it
        raise Retry(f"platform unreachable: {type(err.reason).__name__}", after=2) from None
    except (TimeoutError, ConnectionError, httplib.HTTPException) as err:
        if method == "GET":
            raise Retry(f"platform lookup failed: {type(err).__name__}", after=2) from None
        raise Ambiguous(f"no answer after sending ({type(err).__name__}); the platform may have "
                        "accepted it") from None


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except (ValueError, RecursionError):  # not JSON, cut at MAX_ANSWER_BYTES, or nested too deep
        return {"raw": raw[:ERROR_TEXT_LIMIT].decode("utf-8", "replace")}


def backoff(attempt: int) -> float:
    return float(min(2 ** max(attempt - 1, 0), 300))


# --- X ---------------------------------------------------------------------------------------

def _x(path: str) -> str:
    return settings().x_api_base + path


def _x_check(reply: Reply, attempt: int) -> dict:
    if reply.status in (200, 201):
        return reply.body or {}
    body = reply.body if isinstance(reply.body, dict) else {}
    detail = str(body.get("detail") or body.get("title") or
                 "; ".join(e.get("message", "") for e in body.get("errors") or []) or reply.status)
    if reply.status == 401:
        raise AuthFailed(f"X refused the account's token: {detail}"[:ERROR_TEXT_LIMIT], code="401")
    if reply.status == 429:
        reset = _number(reply.headers, "x-rate-limit-reset")
        raise Retry("X rate limit reached", after=max((reset or time.time() + 60) - time.time(), 1), code="429")
    if reply.status >= 500:
        raise Retry(f"X answered {reply.status}", after=backoff(attempt), code=str(reply.status))
    if reply.status == 403 and "duplicate content" in detail.lower():
        raise Ambiguous("X refused the text as a duplicate: an earlier attempt was posted", code="403")
    raise Permanent(f"X refused the reply ({reply.status}): {detail}"[:ERROR_TEXT_LIMIT], code=str(reply.status))


def x_reply(message: dict, credential, attempt: int = 1) -> str:
    body = {"text": message["text"], "reply": {"in_reply_to_tweet_id": message["target"]["in_reply_to_tweet_id"]}}
    return str(_x_check(http("POST", _x("/2/tweets"), token=credential.token, body=body), attempt)["data"]["id"])


def x_reply_find(message: dict, credential, since: datetime) -> Optional[str]:
    query = urllib.parse.urlencode({"max_results": 20, "tweet.fields": "created_at,referenced_tweets"})
    page = _x_check(http("GET", _x(f"/2/users/{message['target']['account_id']}/tweets?{query}"),
                         token=credential.token), 1)
    wanted = message["target"]["in_reply_to_tweet_id"]
    for tweet in page.get("data") or []:
        replied = {r.get("id") for r in tweet.get("referenced_tweets") or [] if r.get("type") == "replied_to"}
        if wanted in replied and _same(tweet.get("text"), message["text"]) and _after(tweet.get("created_at"), since):
            return str(tweet["id"])
    return None


def x_dm(message: dict, credential, attempt: int = 1) -> str:
    participant = urllib.parse.quote(message["target"]["participant_id"], safe="")
    reply = http("POST", _x(f"/2/dm_conversations/with/{participant}/messages"), token=credential.token,
                 body={"text": message["text"]})
    return str(_x_check(reply, attempt)["data"]["dm_event_id"])


def x_dm_find(message: dict, credential, since: datetime) -> Optional[str]:
    participant = urllib.parse.quote(message["target"]["participant_id"], safe="")
    query = urllib.parse.urlencode({"dm_event.fields": "id,text,sender_id,created_at,event_type"})
    page = _x_check(http("GET", _x(f"/2/dm_conversations/with/{participant}/dm_events?{query}"),
                         token=credential.token), 1)
    for event in page.get("data") or []:
        if (str(event.get("sender_id")) == message["target"]["account_id"]
                and _same(event.get("text"), message["text"]) and _after(event.get("created_at"), since)):
            return str(event["id"])
    return None


# --- Graph (Facebook, Instagram, WhatsApp) ---------------------------------------------------

def _graph(path: str) -> str:
    return settings().graph_api_base + path


def graph_answer(reply: Reply) -> dict:
    """A Graph API read's answer, or the typed error its code calls for (Retry, AuthFailed, Permanent)."""
    return _graph_check(reply, 1)


def _graph_check(reply: Reply, attempt: int) -> dict:
    if 200 <= reply.status < 300:
        return reply.body if isinstance(reply.body, dict) else {}
    error = (reply.body or {}).get("error") if isinstance(reply.body, dict) else None
    error = error if isinstance(error, dict) else {}
    code, subcode = error.get("code"), error.get("error_subcode")
    message = str(error.get("message") or f"HTTP {reply.status}")
    label = f"{code}/{subcode}" if subcode else str(code or reply.status)
    if code == 190:
        raise AuthFailed(f"Meta refused the account's token: {message}"[:ERROR_TEXT_LIMIT], code=label)
    if reply.status == 429 or code in GRAPH_RATE_CODES:
        raise Retry(f"Meta rate limit: {message}"[:ERROR_TEXT_LIMIT], after=meta_wait(reply.headers), code=label)
    if reply.status >= 500 or error.get("is_transient") or code in GRAPH_TRANSIENT_CODES:
        raise Retry(f"Meta answered {reply.status}: {message}"[:ERROR_TEXT_LIMIT], after=backoff(attempt), code=label)
    reason = GRAPH_REASONS.get((code, subcode)) or GRAPH_REASONS.get((code, None))
    raise Permanent((f"{reason} ({message})" if reason else f"Meta refused the reply: {message}")[:ERROR_TEXT_LIMIT],
                    code=label)


def meta_wait(headers: Any) -> float:
    """Seconds to wait from Meta's usage headers: the business use case's own estimate first."""
    usage = _header_json(headers, "X-Business-Use-Case-Usage")
    minutes = [entry.get("estimated_time_to_regain_access", 0) for entries in (usage or {}).values()
               if isinstance(entries, list) for entry in entries if isinstance(entry, dict)]
    if minutes and max(minutes) > 0:
        return float(max(minutes) * 60)
    app = _header_json(headers, "X-App-Usage") or {}
    if any(float(app.get(k) or 0) >= 100 for k in ("call_count", "total_time", "total_cputime")):
        return 60.0
    return 1.0


def _post_graph(path: str, body: dict, credential, attempt: int) -> dict:
    return _graph_check(http("POST", _graph(path), token=credential.token, body=body), attempt)


def _seg(value: str) -> str:
    return urllib.parse.quote(str(value), safe="")


def fb_comment_reply(message: dict, credential, attempt: int = 1) -> str:
    path = f"/{_seg(message['target']['comment_id'])}/comments"
    return str(_post_graph(path, {"message": message["text"]}, credential, attempt)["id"])


def fb_comment_reply_find(message: dict, credential, since: datetime) -> Optional[str]:
    return _find_comment(f"/{_seg(message['target']['comment_id'])}/comments", "message", message, credential, since)


def ig_comment_reply(message: dict, credential, attempt: int = 1) -> str:
    path = f"/{_seg(message['target']['comment_id'])}/replies"
    return str(_post_graph(path, {"message": message["text"]}, credential, attempt)["id"])


def ig_comment_reply_find(message: dict, credential, since: datetime) -> Optional[str]:
    return _find_comment(f"/{_seg(message['target']['comment_id'])}/replies", "text", message, credential, since)


def _find_comment(path: str, text_field: str, message: dict, credential, since: datetime) -> Optional[str]:
    query = urllib.parse.urlencode({"fields": f"id,{text_field},from,created_time,timestamp"})
    page = _graph_check(http("GET", _graph(f"{path}?{query}"), token=credential.token), 1)
    for item in page.get("data") or []:
        if (str((item.get("from") or {}).get("id")) == message["target"]["account_id"]
                and _same(item.get(text_field), message["text"])
                and _after(item.get("created_time") or item.get("timestamp"), since)):
            return str(item["id"])
    return None


def ig_mention_reply(message: dict, credential, attempt: int = 1) -> str:
    target = message["target"]
    body = {"media_id": target["media_id"], "message": message["text"]}
    if target.get("comment_id"):
        body["comment_id"] = target["comment_id"]
    return str(_post_graph(f"/{_seg(target['account_id'])}/mentions", body, credential, attempt)["id"])


def private_reply(message: dict, credential, attempt: int = 1) -> str:
    body = {"recipient": {"comment_id": message["target"]["comment_id"]}, "message": {"text": message["text"]}}
    answer = _post_graph(f"/{_seg(message['target']['account_id'])}/messages", body, credential, attempt)
    return str(answer.get("message_id") or answer.get("id"))


def send_api(message: dict, credential, attempt: int = 1) -> str:
    target = message["target"]
    body: dict = {"recipient": {"id": target["recipient_id"]}, "messaging_type": "RESPONSE",
                  "message": {"text": message["text"], "metadata": message["id"]}}
    if target.get("tag"):
        body.update(messaging_type="MESSAGE_TAG", tag=target["tag"])
    return str(_post_graph(f"/{_seg(target['account_id'])}/messages", body, credential, attempt)["message_id"])


def send_api_find(message: dict, credential, since: datetime) -> Optional[str]:
    target = message["target"]
    query = urllib.parse.urlencode({"platform": "instagram" if message["platform"] == "instagram" else "messenger",
                                    "user_id": target["recipient_id"],
                                    "fields": "messages{id,message,from,created_time}"})
    page = _graph_check(http("GET", _graph(f"/{_seg(target['account_id'])}/conversations?{query}"),
                             token=credential.token), 1)
    for conversation in page.get("data") or []:
        for item in (conversation.get("messages") or {}).get("data") or []:
            if (str((item.get("from") or {}).get("id")) == target["account_id"]
                    and _same(item.get("message"), message["text"]) and _after(item.get("created_time"), since)):
                return str(item["id"])
    return None


def whatsapp(message: dict, credential, attempt: int = 1) -> str:
    target = message["target"]
    body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": target["to"], "type": "text",
            "text": {"preview_url": False, "body": message["text"]},
            "biz_opaque_callback_data": callback_data(message)}
    if target.get("context_message_id"):
        body["context"] = {"message_id": target["context_message_id"]}
    answer = _post_graph(f"/{_seg(target['account_id'])}/messages", body, credential, attempt)
    return str(answer["messages"][0]["id"])


def callback_data(message: dict) -> str:
    """What WhatsApp echoes in every status of the message: enough to find it again."""
    return f"desk:{message['ticket_id']}:{message['id']}"


# --- email and the API channel ---------------------------------------------------------------

def email(message: dict, credential, attempt: int = 1) -> str:
    from email.message import EmailMessage
    from email.utils import formataddr, formatdate

    from botocore.exceptions import BotoCoreError, ClientError

    from chalicelib import aws

    target = message["target"]
    mail = EmailMessage()
    mail["From"] = target["account_id"]
    mail["To"] = formataddr((target.get("to_name") or "", target["to"]))
    mail["Subject"] = target["subject"]
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = email_message_id(message)  # the same on every attempt: mail systems dedupe on it
    mail["In-Reply-To"] = target["in_reply_to"]
    mail["References"] = target["references"]
    mail.set_content(message["text"])
    try:
        answer = aws.client("ses").send_raw_email(Source=target["account_id"], Destinations=[target["to"]],
                                                  RawMessage={"Data": mail.as_bytes()})
    except ClientError as err:
        code = err.response["Error"]["Code"]
        if code in ("Throttling", "ThrottlingException", "ServiceUnavailable", "InternalFailure"):
            raise Retry(f"SES {code}", after=backoff(attempt), code=code) from None
        raise Permanent(f"SES refused the email: {code}: {err.response['Error'].get('Message', '')}"[:ERROR_TEXT_LIMIT],
                        code=code) from None
    except BotoCoreError as err:
        raise Retry(f"SES unreachable: {type(err).__name__}", after=backoff(attempt)) from None
    return answer["MessageId"]


def email_message_id(message: dict) -> str:
    domain = message["target"]["account_id"].rpartition("@")[2] or "desk.invalid"
    return f"<{message['id']}@{domain}>"


_RECEIVER_ID = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")


def api_callback(message: dict, credential, attempt: int = 1) -> str:
    from chalicelib import netguard
    from chalicelib.config import secrets

    target = message["target"]
    try:  # again at send time: the host's DNS may have changed since the URL was saved
        checked = netguard.check(target["url"])
    except netguard.Unresolvable as err:
        raise Retry(f"callback_url: {err.reason}", after=backoff(attempt), code="dns") from None
    except netguard.Refused as err:
        raise Permanent(f"callback_url refused: {err.reason}", code="address") from None
    payload = {"id": message["id"], "thread_id": target["thread_id"], "in_reply_to": target["in_reply_to"],
               "to": target["to"], "text": message["text"], "visibility": message["visibility"],
               "agent": (message.get("author") or {}).get("name"), "created_at": message["created_at"]}
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    key = (credential.get("callback_secret") if credential else "") or secrets().get("API_CHANNEL_SECRET")
    signature = "sha256=" + hmac.new(key.encode(), raw, hashlib.sha256).hexdigest()
    reply = http("POST", checked.url, raw=raw, headers={"X-Signature-256": signature, "Idempotency-Key": message["id"]},
                 opener=pinned_opener(checked.addresses[0]))
    if 200 <= reply.status < 300:  # the receiver's own id, if it gives a short one; never its body
        found = reply.body.get("id") if isinstance(reply.body, dict) else None
        found = str(found) if isinstance(found, int) and not isinstance(found, bool) else found
        return found if isinstance(found, str) and _RECEIVER_ID.match(found) else message["id"]
    if reply.status == 429 or reply.status >= 500:
        raise Retry(f"callback answered {reply.status}", after=backoff(attempt), code=str(reply.status))
    if 300 <= reply.status < 400:
        raise Permanent(f"callback answered a redirect ({reply.status}); the desk does not follow redirects",
                        code=str(reply.status))
    raise Permanent(f"callback refused the reply ({reply.status})", code=str(reply.status))


# --- the table of actions --------------------------------------------------------------------

@dataclass(frozen=True)
class Client:
    send: Callable[..., str]
    find: Optional[Callable[..., Optional[str]]] = None
    credential: bool = True  # needs a per-account secret
    resend_safe: bool = False  # the receiver drops a resend (same Message-ID / Idempotency-Key)


CLIENTS = {
    "x_reply": Client(x_reply, x_reply_find),
    "x_dm": Client(x_dm, x_dm_find),
    "fb_comment_reply": Client(fb_comment_reply, fb_comment_reply_find),
    "fb_private_reply": Client(private_reply),
    "messenger": Client(send_api, send_api_find),
    "ig_comment_reply": Client(ig_comment_reply, ig_comment_reply_find),
    "ig_private_reply": Client(private_reply),
    "ig_mention_reply": Client(ig_mention_reply),
    "ig_dm": Client(send_api, send_api_find),
    "whatsapp": Client(whatsapp),
    "email": Client(email, credential=False, resend_safe=True),
    "api_callback": Client(api_callback, credential=False, resend_safe=True),
}


def x_token_url() -> str:
    return _x("/2/oauth2/token")


# --- helpers ---------------------------------------------------------------------------------

def _same(found: Optional[str], sent: str) -> bool:
    return " ".join((found or "").split()) == " ".join(sent.split())


def _after(stamp: Optional[str], since: datetime) -> bool:
    """Posted at or after our first attempt (a minute's slack for clocks); unknown times match."""
    moment = iso_time(stamp)
    return moment is None or moment.timestamp() >= since.timestamp() - 60


def _number(headers: Any, name: str) -> Optional[float]:
    try:
        value = headers.get(name) if headers is not None else None
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _header_json(headers: Any, name: str) -> Optional[dict]:
    value = headers.get(name) if headers is not None else None
    try:
        parsed = json.loads(value) if value else None
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None
