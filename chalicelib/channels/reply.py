"""What a channel package provides for replies: the interface the outbound side finds it by.

A channel `<id>` answers its customers through modules of its package (`chalicelib/channels/<id>/`,
or the descriptor's `package`), found by name (`module(channel, "replies")`, `module(channel,
"send")`) and imported only when used, so the outbound worker loads one channel's sender on that
channel's first reply and no other:

`chalicelib/channels/<id>/replies.py` (read by outbound/policy.py, before anything is queued)
    ACTIONS: dict[str, str]        each reply action of the channel, named as the agent reads it
                                   ("x_reply": "a reply on X"); every action is also in one of the
                                   descriptor's `Counter.actions`, which gives its limit and counting
    PLANNERS: dict[str, Planner]   per kind of the latest inbound message, the planner: it returns the
                                   `Plan` (action, target ids, reply window) for a visibility, or raises
                                   `ReplyRefused(field, reason)` in words an agent can act on. A kind
                                   with no planner is refused as unsupported.
`chalicelib/channels/<id>/send.py` (read by outbound/worker.py)
    SENDERS: dict[str, Sender]     per action, how it is sent and found again (`Sender` below)
    refresh_grant(credential) -> dict   optional: new credential values after an auth error (X's
                                   OAuth 2.0 refresh grant); outbound/credentials.py stores them
`chalicelib/channels/<id>/authors.py` (optional, read by outbound/authors.py in the ingest worker)
    author(mention, credential, timeout) -> Mention   a mention whose webhook names no author, with
                                   its author (and text and time when absent) from the platform;
                                   raises LookupFailed

A sender raises the errors of chalicelib/errors.py (Retry, Permanent, AuthFailed, Ambiguous) and is
given what it needs (`Sender.credential`); a channel package never reads Secrets Manager, the table
or a queue itself (`channels-are-pure` in .importlinter). HTTP goes through channels/http.py.

A planner is given the ticket and its messages as the aggregates (`Ticket`, `Message`), a sender the
reply as its `Message`; attributes are read, never a stored item's keys.

Standard library, chalicelib.errors, chalicelib.models and chalicelib.aggregates only.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from types import ModuleType
from typing import Any, Callable, Optional, Protocol

from chalicelib.aggregates.message import Message
from chalicelib.aggregates.ticket import Ticket
from chalicelib.models import iso_time

ACCOUNT = "account"  # Sender.credential: the brand account's secret (outbound/credentials.py)


class ReplyRefused(Exception):
    """The platform would refuse this reply; `field` is the request field at fault."""

    def __init__(self, field: str, reason: str):
        super().__init__(reason)
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Plan:
    """The action that delivers a reply, its target ids (stored on the message, read by the sender),
    until when the platform accepts it, and notes shown to the agent."""

    action: str
    target: dict
    window_closes_at: Optional[datetime] = None
    notes: tuple[str, ...] = field(default=())


class Planner(Protocol):
    def __call__(self, ticket: Ticket, latest: Message, inbound: list[Message], messages: list[Message],
                 account: Any, visibility: str, now: datetime) -> Plan:
        """`latest` is the newest of `inbound`, the ticket's customer messages (`messages` holds the
        replies too); `account` the brand's Account (human_agent_tag, callback_url)."""


@dataclass(frozen=True)
class Sender:
    """How one action is sent, and found again after an attempt whose outcome is unknown.

    send(message: Message, credential, attempt) -> the platform's id of what was posted
    find(message: Message, credential, since) -> that id, or None: is our earlier attempt there? (None here:
        the platform has no such read)
    credential: what the worker hands to both: ACCOUNT (the account's Credential, refreshed once on
        AuthFailed), "secret:<KEY>" (that platform secret of the desk, a str), "aws:<service>" (a
        boto3 client of that service), or None (nothing)
    resend_safe: the receiver drops a resend itself (the same Message-ID, an Idempotency-Key)
    awaits_receipt: the platform's status webhook confirms a send whose answer was lost; an
        unconfirmed reply waits this long for it before the worker sends again
    landed(error) -> bool: a Permanent refusal of a resend that proves the earlier attempt landed
        (Meta's "already replied privately")
    """

    send: Callable[..., str]
    find: Optional[Callable[..., Optional[str]]] = None
    credential: Optional[str] = ACCOUNT
    resend_safe: bool = False
    awaits_receipt: Optional[timedelta] = None
    landed: Optional[Callable[[Exception], bool]] = None


def module(channel: Any, name: str) -> Optional[ModuleType]:
    """The module `name` of the channel's package (`ChannelInfo.module(name)`), or None when the
    package has none (or `channel` is None: no such channel)."""
    return None if channel is None else _import(channel.module(name))


@lru_cache(maxsize=None)
def _import(module: str) -> Optional[ModuleType]:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name is not None and module.startswith(err.name):  # it, or its package, does not exist
            return None
        raise


# --- helpers the planners share -------------------------------------------------------------

def private_only(visibility: str, name: str) -> None:
    if visibility != "private":
        raise ReplyRefused("visibility", f"the customer wrote privately ({name}); a public reply would "
                                         "expose the conversation. Reply privately")


def time(value: str) -> datetime:
    return datetime.fromisoformat(value)


# --- helpers the look-ups after an unknown outcome share ----------------------------------

def same(found: Optional[str], sent: str) -> bool:
    """The platform's text is the text we sent (whitespace aside)."""
    return " ".join((found or "").split()) == " ".join(sent.split())


def after(stamp: Optional[str], since: datetime) -> bool:
    """Posted at or after our first attempt (a minute's slack for clocks); unknown times match."""
    moment = iso_time(stamp)
    return moment is None or moment.timestamp() >= since.timestamp() - 60
