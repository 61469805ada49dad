"""Meta's Graph API, shared by Facebook, Instagram and WhatsApp: its address, reading its answers
and errors, and its rate-limit headers.

Errors (https://developers.facebook.com/docs/graph-api/guides/error-handling): code 190 is an auth
failure; throttling (HTTP 429 or codes 4, 17, 32, 613, 80001-80014, WhatsApp 130429/131056) waits
`estimated_time_to_regain_access` from `X-Business-Use-Case-Usage`, or a minute when `X-App-Usage`
shows a quota at 100% (https://developers.facebook.com/docs/graph-api/overview/rate-limiting); 5xx
and transient errors back off; the rest is permanent, in words an agent can act on.
"""
from __future__ import annotations

import urllib.parse
from typing import Any

from chalicelib.channels import http
from chalicelib.env import settings
from chalicelib.errors import AuthFailed, Permanent, Retry

RATE_CODES = {4, 17, 32, 613, 130429, 131056} | set(range(80001, 80015))
TRANSIENT_CODES = {1, 2, 131000, 131016}
REASONS = {
    (10, 2018278): "outside the platform's reply window (24 hours after the customer's last message, "
                   "or one private reply per comment)",
    (131047, None): "more than 24 hours since the customer last wrote; WhatsApp now accepts only an "
                    "approved template",
    (100, 2018001): "the platform knows no such recipient",
}


def url(path: str) -> str:
    return settings().graph_api_base + path


def seg(value: str) -> str:
    """One path segment (an id) of a Graph URL."""
    return urllib.parse.quote(str(value), safe="")


def answer(reply: http.Reply) -> dict:
    """A Graph API read's answer, or the typed error its code calls for (Retry, AuthFailed, Permanent)."""
    return check(reply, 1)


def check(reply: http.Reply, attempt: int) -> dict:
    if 200 <= reply.status < 300:
        return reply.body if isinstance(reply.body, dict) else {}
    error = (reply.body or {}).get("error") if isinstance(reply.body, dict) else None
    error = error if isinstance(error, dict) else {}
    code, subcode = error.get("code"), error.get("error_subcode")
    message = str(error.get("message") or f"HTTP {reply.status}")
    label = f"{code}/{subcode}" if subcode else str(code or reply.status)
    limit = http.ERROR_TEXT_LIMIT
    if code == 190:
        raise AuthFailed(f"Meta refused the account's token: {message}"[:limit], code=label)
    if reply.status == 429 or code in RATE_CODES:
        raise Retry(f"Meta rate limit: {message}"[:limit], after=wait(reply.headers), code=label)
    if reply.status >= 500 or error.get("is_transient") or code in TRANSIENT_CODES:
        raise Retry(f"Meta answered {reply.status}: {message}"[:limit], after=http.backoff(attempt), code=label)
    reason = REASONS.get((code, subcode)) or REASONS.get((code, None))
    raise Permanent((f"{reason} ({message})" if reason else f"Meta refused the reply: {message}")[:limit],
                    code=label)


def wait(headers: Any) -> float:
    """Seconds to wait from Meta's usage headers: the business use case's own estimate first."""
    usage = http.header_json(headers, "X-Business-Use-Case-Usage")
    minutes = [entry.get("estimated_time_to_regain_access", 0) for entries in (usage or {}).values()
               if isinstance(entries, list) for entry in entries if isinstance(entry, dict)]
    if minutes and max(minutes) > 0:
        return float(max(minutes) * 60)
    app = http.header_json(headers, "X-App-Usage") or {}
    if any(float(app.get(k) or 0) >= 100 for k in ("call_count", "total_time", "total_cputime")):
        return 60.0
    return 1.0


def post(path: str, body: dict, credential, attempt: int) -> dict:
    return check(http.http("POST", url(path), token=credential.token, body=body), attempt)


def get(path: str, credential, **query) -> dict:
    """A read: GET path?query, its answer or the typed error (attempt 1)."""
    return check(http.http("GET", url(f"{path}?{urllib.parse.urlencode(query)}"), token=credential.token), 1)
