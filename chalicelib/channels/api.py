"""Generic API channel: any system that can POST signed JSON can feed the desk.

Body, one message:
    {"external_id": "...", "author": {"id": "...", "name": "...", "handle": "..."?},
     "text": "...", "thread_id": "..."?, "created_at": "<ISO 8601>"?, "channel_id": "..."?}
or a JSON list of such objects (a batch; an empty list is accepted and yields nothing).
Extra fields are allowed and ignored. Signed with `X-Signature-256: sha256=<hex HMAC-SHA256 of
the raw body with API_CHANNEL_SECRET>`.

Normalisation: kind "message"; brand_account_id = channel_id (default "default");
conversation_id = thread_id, else "author:<author.id>"; reply_to_id = external_id; visibility
private; created_at defaults to now and is converted to UTC (a naive timestamp is taken as UTC).
A missing or mistyped required field raises UnknownPayload naming every bad field
("[1].author.name", ...).

Imports pydantic, the standard library, chalicelib.models, chalicelib.errors and the sibling
signing module only.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, ValidationError

from chalicelib.channels import signing
from chalicelib.errors import UnknownPayload
from chalicelib.models import Author, Mention, ParseResult, Platform, Visibility, utcnow

SIGNATURE_HEADER = "X-Signature-256"
DEFAULT_CHANNEL = "default"


def verify(raw_body: bytes, signature_header: Optional[str], secret: str) -> None:
    """Check `X-Signature-256` (sha256=<hex>) over the raw request bytes."""
    signing.verify_hex(secret, raw_body, signature_header)


class ApiAuthor(BaseModel):
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)

    id: str
    name: str
    handle: Optional[str] = None


class ApiMessage(BaseModel):
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)

    external_id: str
    author: ApiAuthor
    text: str
    thread_id: Optional[str] = None
    created_at: Optional[datetime] = None
    channel_id: Optional[str] = None


def parse(payload: Any) -> ParseResult:
    """One message object, or a list of them; raises UnknownPayload listing the bad fields."""
    items = payload if isinstance(payload, list) else [payload]
    prefix = isinstance(payload, list)
    messages, problems = [], []
    for index, item in enumerate(items):
        try:
            messages.append(ApiMessage.model_validate(item))
        except ValidationError as exc:
            where = f"[{index}]." if prefix else ""
            problems += [where + _location(err) + f" ({err['type']})" for err in exc.errors()]
    if problems:
        raise UnknownPayload("api: missing or invalid fields: " + ", ".join(problems))
    return ParseResult(mentions=[_mention(message) for message in messages])


def _location(err: dict) -> str:
    return ".".join(str(part) for part in err["loc"]) or "(body)"


def _mention(message: ApiMessage) -> Mention:
    return Mention(
        platform=Platform.API,
        kind="message",
        brand_account_id=message.channel_id or DEFAULT_CHANNEL,
        external_id=message.external_id,
        conversation_id=message.thread_id or f"author:{message.author.id}",
        reply_to_id=message.external_id,
        author=Author(id=message.author.id, name=message.author.name, handle=message.author.handle),
        text=message.text,
        visibility=Visibility.PRIVATE,
        created_at=_utc(message.created_at),
    )


def _utc(value: Optional[datetime]) -> datetime:
    if value is None:
        return utcnow()
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)
