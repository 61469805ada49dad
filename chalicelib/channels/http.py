"""One HTTP call to a platform, for every channel's sender and look-up: the desk's only HTTP client.

`http()` answers a `Reply` (status, headers, the JSON body read at most `MAX_ANSWER_BYTES` far) and
turns a transport failure into the outbound errors (chalicelib/errors.py): a connection that never
carried the request is `Retry`, a POST that timed out after it was sent is `Ambiguous` (the platform
may have accepted it). Redirects are never followed (urllib would replay the Authorization header
to wherever one points); a token travels in the Authorization header only, never in a URL.

`pinned_opener` reaches one address that chalicelib/netguard.py checked (the API channel's
callback, the one URL an admin chooses): no second DNS look-up, no proxy, no redirect.
`backoff`, `number` and `header_json` help a channel read its answers and rate-limit headers.

Imports the standard library, chalicelib.errors and chalicelib.backoff only.
"""
from __future__ import annotations

import http.client as httplib
import json
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Optional

from chalicelib.backoff import exponential
from chalicelib.errors import Ambiguous, Retry

TIMEOUT_SECONDS = 8.0
MAX_ANSWER_BYTES = 2 * 1024 * 1024  # an answer is read this far and no further (a receiver may be hostile)
ERROR_TEXT_LIMIT = 300


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


MAX_BACKOFF_SECONDS = 300.0


def backoff(attempt: int) -> float:
    """Seconds before attempt `attempt + 1` after a transient failure: 1, 2, 4 ... at most 300, no
    jitter (a message's visibility timeout). The desk's one backoff (chalicelib/backoff.py, shared
    with the AWS wire client, which channels may not import). Callers read it as `http.backoff` (a
    test may make it 0)."""
    return exponential(attempt, cap=MAX_BACKOFF_SECONDS)


def number(headers: Any, name: str) -> Optional[float]:
    """A header holding a number (e.g. X's `x-rate-limit-reset`), or None."""
    try:
        value = headers.get(name) if headers is not None else None
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def header_json(headers: Any, name: str) -> Optional[dict]:
    """A header holding a JSON object (e.g. Meta's `X-App-Usage`), or None."""
    value = headers.get(name) if headers is not None else None
    try:
        parsed = json.loads(value) if value else None
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None
