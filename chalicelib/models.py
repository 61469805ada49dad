"""Boundary models shared by every part of the desk.

A platform adapter turns whatever a platform sends into these; queues carry them as JSON;
the pipeline and the store speak nothing else. Imports pydantic and the standard library only:
a channel's package imports this module, so this one knows no channel (the registry,
`channels/registry.py`, sits above it).
"""
from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

# What a platform may say about when something happened. Outside this window a time is not
# believed: a mention's time is clamped to when we received it (no year 1 waiting +20 points,
# no year 9999 overflowing an SLA clock), a receipt's time makes the receipt unreadable.
EARLIEST = datetime(2006, 3, 21, tzinfo=timezone.utc)  # the first tweet
FUTURE_SKEW = timedelta(days=1)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def sortable(moment: datetime) -> str:
    """One fixed ISO form (UTC, microseconds) so sort keys built from times order correctly."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def from_epoch(seconds: float) -> datetime:
    """A POSIX time as UTC; ValueError for one outside the believable window (or not finite)."""
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not math.isfinite(seconds):
        raise ValueError("timestamp is not a finite number")
    if not EARLIEST.timestamp() <= seconds <= (utcnow() + FUTURE_SKEW).timestamp():
        raise ValueError(f"timestamp {seconds!r} is outside {EARLIEST.year}..now")
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def iso_time(value: Any) -> Optional[datetime]:
    """An ISO 8601 time a platform wrote ("Z", "+0000" and "+00:00" alike) as an aware datetime
    (a naive one is taken as UTC); None for anything else."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def clamp_time(value: datetime) -> datetime:
    """A mention's time as UTC, or now when it lies outside the believable window."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    now = utcnow()
    try:
        if EARLIEST <= value <= now + FUTURE_SKEW:
            return value.astimezone(timezone.utc)
    except OverflowError:  # year 1 with a positive offset, year 9999 with a negative one
        pass
    return now


# A time a platform gives: believed inside the window, else when we got it.
BelievableTime = Annotated[datetime, AfterValidator(clamp_time)]

_SURROGATE = re.compile("[\ud800-\udfff]")


def utf8(value: str) -> str:
    """The text with any lone surrogate (JSON allows "\\ud800"; UTF-8 does not) replaced by U+FFFD,
    so it can be written to a queue, a table and a log."""
    return _SURROGATE.sub("\ufffd", value) if _SURROGATE.search(value) else value


def utf8_tree(value, depth: int = 0):
    """utf8() through a small JSON tree (platform error objects); deeper than 5 levels is cut,
    and so are non-finite numbers (Python's json reads "Infinity"; JSON has none)."""
    if isinstance(value, str):
        return utf8(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no Infinity: it would not survive the queue
    if depth > 5:
        return None
    if isinstance(value, dict):
        return {utf8(str(k)): utf8_tree(v, depth + 1) for k, v in list(value.items())[:50]}
    if isinstance(value, list):
        return [utf8_tree(v, depth + 1) for v in value[:50]]
    return value


Text = Annotated[str, AfterValidator(utf8)]

# Bounds that keep one mention inside one DynamoDB item (400 KB) and one queue message.
PlatformId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=512),
                       AfterValidator(utf8)]
MAX_TEXT_CHARS = 20_000  # longer than any platform allows (X long posts: 25k bytes); email is cut
MAX_ATTACHMENTS = 50
MAX_NAME_CHARS = 256


# A channel's id as a parser writes it (its package's `ID`: "x", "facebook", ...). Which ids exist
# is the registry's business (`channels/registry.py`, `ChannelId` for ids in requests); here only
# its shape, so a queue message cannot smuggle a key separator or a long string into a key.
Platform = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]


class Visibility(str, Enum):
    PUBLIC = "public"
    PRIVATE = "private"


class Author(BaseModel):
    """The person who wrote a mention, as the platform identifies them."""

    model_config = ConfigDict(frozen=True)

    id: PlatformId
    name: Optional[Text] = None
    handle: Optional[Text] = None
    followers: Optional[int] = None
    verified: Optional[bool] = None

    @field_validator("name", "handle")
    @classmethod
    def _short(cls, value: Optional[str]) -> Optional[str]:
        return value[:MAX_NAME_CHARS] if value else value

    @field_validator("followers", mode="before")
    @classmethod
    def _count(cls, value):
        """A follower count the platform got wrong (negative, absurd, not a number) is unknown."""
        if isinstance(value, str) and value.isdigit() and len(value) <= 13:
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10**12:
            return None
        return value


class Attachment(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: Annotated[str, StringConstraints(max_length=64), AfterValidator(utf8)]  # image, video, file, ...
    url: Optional[Annotated[str, StringConstraints(max_length=2048), AfterValidator(utf8)]] = None


class Mention(BaseModel):
    """One inbound customer message from any channel, normalised.

    `kind` tells what it was on the platform (tweet, dm, comment, message, mention, email);
    `conversation_id` groups messages that belong in the same ticket; `reply_to_id` is the
    platform id an answer must reference (the tweet or comment to reply to).
    """

    model_config = ConfigDict(frozen=True)

    platform: Platform
    kind: Text
    brand_account_id: PlatformId
    external_id: PlatformId  # never empty: two empty ids would dedupe into one message
    conversation_id: PlatformId
    reply_to_id: Optional[PlatformId] = None
    in_reply_to_id: Optional[PlatformId] = None  # what the customer was answering, when known
    author: Author
    text: Text = ""
    attachments: tuple[Attachment, ...] = ()
    visibility: Visibility
    created_at: BelievableTime
    source: Literal["webhook", "poller", "email"] = "webhook"
    subject: Optional[Text] = None  # email only
    headers: dict[Text, Text] = Field(default_factory=dict)  # email threading headers
    truncated: bool = False  # text or attachments were cut to the bounds above

    @field_validator("subject")
    @classmethod
    def _short_subject(cls, value: Optional[str]) -> Optional[str]:
        return value[:1000] if value else value

    @field_validator("headers")
    @classmethod
    def _short_headers(cls, value: dict[str, str]) -> dict[str, str]:
        return {k[:100]: v[:4000] for k, v in list(value.items())[:20]}

    def bounded(self) -> "Mention":
        """This mention cut to what one stored message keeps (the raw body is quarantined whole)."""
        if len(self.text) <= MAX_TEXT_CHARS and len(self.attachments) <= MAX_ATTACHMENTS:
            return self
        return self.model_copy(update={"text": self.text[:MAX_TEXT_CHARS], "truncated": True,
                                       "attachments": self.attachments[:MAX_ATTACHMENTS]})

    @property
    def dedupe_key(self) -> str:
        """The same platform message seen twice (retry, webhook and poller) has one key."""
        return f"{self.platform}#{self.external_id}"

    @property
    def conversation_key(self) -> str:
        return f"{self.platform}#{self.brand_account_id}#{self.conversation_id}"


class DeliveryStatus(BaseModel):
    """A platform's word on our outbound messages: WhatsApp `statuses`, Messenger `delivery`
    and `read`, Instagram `read`.

    Usually about one message (`external_id`). Messenger's `read` names no message: it says
    every message sent to `recipient_id` before `watermark` has been read, so `external_id`
    is None and `watermark` is set.
    """

    model_config = ConfigDict(frozen=True)

    platform: Platform
    brand_account_id: PlatformId
    external_id: Optional[PlatformId] = None  # the platform id of our outbound message
    status: Annotated[Text, StringConstraints(max_length=64)]  # sent, delivered, read, failed, deleted
    recipient_id: Optional[PlatformId] = None  # the customer the message went to
    timestamp: BelievableTime
    watermark: Optional[datetime] = None  # everything sent to recipient_id up to here
    callback_data: Optional[PlatformId] = None  # what the platform echoed of our send, kept as it came
    # the reply it is about, (ticket id, message id), when the platform echoes a reference of ours
    # (WhatsApp's biz_opaque_callback_data); the channel's parser decodes it, receipts only read it
    ours: Optional[tuple[PlatformId, PlatformId]] = None
    errors: tuple[dict, ...] = ()

    @field_validator("errors")
    @classmethod
    def _small(cls, value: tuple[dict, ...]) -> tuple[dict, ...]:
        return tuple(utf8_tree(e) for e in value[:20])


class SurveyAnswer(BaseModel):
    """A customer's tap on a CSAT survey's button or quick reply (chalicelib/channels/survey.py):
    the ticket and score its payload names, the signature the ingest worker checks, and who tapped
    (the platform's id of the customer, checked against the ticket's customer)."""

    model_config = ConfigDict(frozen=True)

    platform: Platform
    brand_account_id: PlatformId
    external_id: PlatformId  # the platform's id of the answering message
    ticket_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f-]{36}$")]
    score: int = Field(ge=1, le=5)
    sig: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{22}$")]
    author_id: PlatformId
    timestamp: BelievableTime


class ParseResult(BaseModel):
    """What an adapter made of one webhook delivery."""

    mentions: list[Mention] = Field(default_factory=list)
    statuses: list[DeliveryStatus] = Field(default_factory=list)
    answers: list[SurveyAnswer] = Field(default_factory=list)  # CSAT survey answers: never mentions
    ignored: int = 0
    rejected: list[str] = Field(default_factory=list)  # why each unreadable event was refused

    def reject(self, reason: str) -> None:
        self.rejected.append(reason[:500])


class MentionEnvelope(BaseModel):
    type: Literal["mention"] = "mention"
    mention: Mention
    received_at: datetime


class StatusEnvelope(BaseModel):
    type: Literal["status"] = "status"
    status: DeliveryStatus
    received_at: datetime


class AnswerEnvelope(BaseModel):
    type: Literal["survey_answer"] = "survey_answer"
    answer: SurveyAnswer
    received_at: datetime


IngestMessage = Annotated[Union[MentionEnvelope, StatusEnvelope, AnswerEnvelope], Field(discriminator="type")]


class RoutingRequest(BaseModel):
    """What the ingest worker asks of the routing worker."""

    ticket_id: str
    message_id: str
    reason: Literal["new_ticket", "new_message"]
    priority: int
    language: Optional[str] = None


class OutboundRequest(BaseModel):
    """What the agent API asks of the outbound worker: send this stored reply."""

    ticket_id: str
    message_id: str
    message_sk: str
