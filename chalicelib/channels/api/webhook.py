"""Generic API channel: any system that can POST signed JSON can feed the desk.

Body, one message:
    {"external_id": "...", "author": {"id": "...", "name": "...", "handle": "..."?},
     "text": "...", "thread_id": "..."?, "created_at": "<ISO 8601>"?, "channel_id": "..."?}
or a JSON list of such objects (a batch; an empty list is accepted and yields nothing).
Extra fields are allowed and ignored. Signed with `X-Signature-256: sha256=<hex HMAC-SHA256 of
the raw body with the secret>`:
* one secret per account: the integrator names its account in `X-Channel-Id` and signs with that
  account's secret (`API_CHANNEL_SECRET:<channel_id>` in the platform secret); every message of
  the body is that account's (a message naming another `channel_id` is rejected and quarantined,
  one without is the account's), so account A's secret never signs for account B;
* the shared API_CHANNEL_SECRET, without `X-Channel-Id`, is still accepted while integrators move
  to their own (any `channel_id`, as before); an account with its own secret is refused there once
  the shared secret is removed from the platform secret.

Normalisation: kind "message"; brand_account_id = channel_id (default "default");
conversation_id = thread_id, else "author:<author.id>"; reply_to_id = external_id; visibility
private; created_at defaults to now and is converted to UTC (a naive timestamp is taken as UTC).
A single message with a missing or mistyped required field raises UnknownPayload naming every
bad field; in a batch each bad item is rejected on its own ("[1].author.name (missing)").

Imports pydantic, the standard library, chalicelib.models, chalicelib.errors and the sibling
signing module only.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, ValidationError, ValidatorFunctionWrapHandler, field_validator

from chalicelib import channels
from chalicelib.channels import signing
from chalicelib.channels.api import ID
from chalicelib.errors import UnknownPayload
from chalicelib.models import Author, Mention, ParseResult, Visibility, utcnow

SIGNATURE_HEADER = "X-Signature-256"
ACCOUNT_HEADER = "X-Channel-Id"  # names the account whose own secret signed the body
DEFAULT_CHANNEL = "default"
ACCOUNT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$")


def account_secret_key(account: str) -> Optional[str]:
    """The platform secret's key holding the account's own signing secret (None: not an account id)."""
    return f"API_CHANNEL_SECRET:{account}" if ACCOUNT_ID.fullmatch(account) else None


def bind(result: ParseResult, account: str) -> ParseResult:
    """What a body signed with `account`'s own secret may say: its messages (one without a
    channel_id is the account's), each naming another account rejected."""
    kept = []
    for mention in result.mentions:
        if mention.brand_account_id in (account, DEFAULT_CHANNEL):
            kept.append(mention.model_copy(update={"brand_account_id": account}))
        else:
            result.reject(f"{mention.external_id}: channel_id {mention.brand_account_id!r} is not the signing "
                          f"account {account!r}")
    result.mentions = kept
    return result


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

    @field_validator("created_at", mode="wrap")
    @classmethod
    def _readable_or_now(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Optional[datetime]:
        """A time we cannot read (year 10000, not a date) is when we got it, as for every channel."""
        try:
            return handler(value)
        except ValidationError:
            return None


def parse(payload: Any) -> ParseResult:
    """One message object, or a list of them.

    A single message that cannot be read raises UnknownPayload listing the bad fields; in a
    batch, each bad item is rejected ("[1].author.name (missing)") and the others are read."""
    if not isinstance(payload, list):
        try:
            return ParseResult(mentions=[_mention(_validate(payload, ""))])
        except ValidationError as exc:  # a field the Mention refuses, such as an empty external_id
            raise UnknownPayload("api: invalid fields: " + channels.describe(exc)) from exc
    result = ParseResult()
    for index, item in enumerate(payload):
        channels.each(result, [item], f"[{index}]",
                      lambda one, where=f"[{index}].": result.mentions.append(_mention(_validate(one, where))))
    return result


def _validate(item: Any, where: str) -> ApiMessage:
    try:
        return ApiMessage.model_validate(item)
    except ValidationError as exc:
        problems = [where + _location(err) + f" ({err['type']})" for err in exc.errors()[:20]]
        raise UnknownPayload("api: missing or invalid fields: " + ", ".join(problems)) from exc


def _location(err: dict) -> str:
    return ".".join(str(part) for part in err["loc"]) or "(body)"


def _mention(message: ApiMessage) -> Mention:
    return Mention(
        platform=ID,
        kind="message",
        brand_account_id=message.channel_id or DEFAULT_CHANNEL,
        external_id=message.external_id,
        conversation_id=message.thread_id or f"author:{message.author.id}",
        reply_to_id=message.external_id,
        author=Author(id=message.author.id, name=message.author.name, handle=message.author.handle),
        text=message.text,
        visibility=Visibility.PRIVATE,
        created_at=message.created_at or utcnow(),  # Mention takes a naive time as UTC, clamps the absurd
    )
