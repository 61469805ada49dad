"""What the Facebook and Instagram author look-ups share: one Graph read with the account's token,
and the author and time read from its answer. A failure of any kind is LookupFailed (the caller
keeps the author unknown); tokens travel only in the Authorization header."""
from __future__ import annotations

from datetime import datetime
from typing import Optional
from urllib.parse import quote, urlencode

from chalicelib.channels import http
from chalicelib.channels.meta import graph
from chalicelib.errors import LookupFailed, SendError
from chalicelib.models import Author, clamp_time, iso_time


def read(object_id: str, fields: str, credential, timeout: float) -> dict:
    """GET /{object_id}?fields=..., within `timeout` seconds."""
    url = graph.url(f"/{quote(object_id, safe='')}?{urlencode({'fields': fields})}")
    try:
        return graph.answer(http.http("GET", url, token=credential.token, timeout=timeout))
    except SendError as err:
        raise LookupFailed(err.reason) from err


def author(user_id: str, name: Optional[str], username: Optional[str]) -> Author:
    """The platform's user id when the answer names one, else the handle (still one per person)."""
    identity = user_id.strip() or (f"username:{username}" if username else "")
    if not identity:
        raise LookupFailed("the answer names no author")
    return Author(id=identity, name=name or None, handle=username or None)


def moment(value) -> Optional[datetime]:
    parsed = iso_time(value)
    return None if parsed is None else clamp_time(parsed)
