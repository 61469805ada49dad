"""The agent desk's web UI: static files served by the API itself at `/` and `/ui/<name>`.

Only files in this folder with a known type are served (no paths, no dotfiles), read once per
container. Nothing is fetched from a CDN: the UI works on a closed network.

Every UI answer carries `SECURITY_HEADERS`: a Content-Security-Policy that allows scripts, styles,
images and connections from the desk's own origin only (no inline script or style, no `eval`,
no plugins, no `<base>`), forbids framing (clickjacking), and sends no referrer (a ticket id in
the address never leaks to a customer's attachment host). The hosted sign-in (Cognito) is a
top-level navigation by a link and its redirect back, neither of which the policy governs, and
the token arrives in the address fragment: no Cognito origin needs to be listed.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Optional

FOLDER = Path(__file__).resolve().parent
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".json": "application/json",
         ".ico": "image/x-icon"}

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",  # the favicon; attachments are links, never loaded by the page
    "connect-src 'self'",  # /api and /auth/config
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
    # the UI builds the DOM with textContent and attributes; no string ever reaches an HTML sink
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def headers(content_type: str) -> dict[str, str]:
    """Everything a UI answer (page, asset, sign-in config) is sent with."""
    return {"Content-Type": content_type, "Cache-Control": "no-cache", **SECURITY_HEADERS}


@lru_cache(maxsize=64)
def asset(name: str) -> Optional[tuple[str, str]]:
    path = FOLDER / name
    content_type = TYPES.get(path.suffix)
    if content_type is None or "/" in name or "\\" in name or name.startswith(".") or not path.is_file():
        return None
    return path.read_text(encoding="utf-8"), content_type
