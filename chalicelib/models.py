"""Boundary models shared by every part of the desk.

A platform adapter turns whatever a platform sends into these; queues carry them as JSON;
the pipeline and the store speak nothing else. Imports pydantic and the standard library only.
"""
from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum
from typing import Annotated, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field


class Platform(str, Enum):
    X = "x"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    WHATSAPP = "whatsapp"
    EMAIL = "email"
    API = "api"


class Visibility(str, Enum):
    PUBLIC = "public"
    PRIVATE = "private"


class Author(BaseModel):
    """The person who wrote a mention, as the platform identifies them."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: Optional[str] = None
    handle: Optional[str] = None
    followers: Optional[int] = None
    verified: Optional[bool] = None


class Attachment(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: str  # image, video, audio, file, sticker, location, link, ...
    url: Optional[str] = None


class Mention(BaseModel):
    """One inbound customer message from any channel, normalised.

    `kind` tells what it was on the platform (tweet, dm, comment, message, mention, email);
    `conversation_id` groups messages that belong in the same ticket; `reply_to_id` is the
    platform id an answer must reference (the tweet or comment to reply to).
    """

    model_config = ConfigDict(frozen=True)

    platform: Platform
    kind: str
    brand_account_id: str
    external_id: str
    conversation_id: str
    reply_to_id: Optional[str] = None
    in_reply_to_id: Optional[str] = None  # what the customer was answering, when known
    author: Author
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    visibility: Visibility
    created_at: datetime
    source: Literal["webhook", "poller", "email"] = "webhook"
    subject: Optional[str] = None  # email only
    headers: dict[str, str] = Field(default_factory=dict)  # email threading headers

    @property
    def dedupe_key(self) -> str:
        """The same platform message seen twice (retry, webhook and poller) has one key."""
        return f"{self.platform.value}#{self.external_id}"

    @property
    def conversation_key(self) -> str:
        return f"{self.platform.value}#{self.brand_account_id}#{self.conversation_id}"


class DeliveryStatus(BaseModel):
    """A platform's word on our outbound messages: WhatsApp `statuses`, Messenger `delivery`
    and `read`, Instagram `read`.

    Usually about one message (`external_id`). Messenger's `read` names no message: it says
    every message sent to `recipient_id` before `watermark` has been read, so `external_id`
    is None and `watermark` is set.
    """

    model_config = ConfigDict(frozen=True)

    platform: Platform
    brand_account_id: str
    external_id: Optional[str] = None  # the platform id of our outbound message
    status: str  # sent, delivered, read, failed, deleted
    recipient_id: Optional[str] = None  # the customer the message went to
    timestamp: datetime
    watermark: Optional[datetime] = None  # everything sent to recipient_id up to here
    callback_data: Optional[str] = None  # WhatsApp biz_opaque_callback_data: our message id
    errors: tuple[dict, ...] = ()


class ParseResult(BaseModel):
    """What an adapter made of one webhook delivery."""

    mentions: list[Mention] = Field(default_factory=list)
    statuses: list[DeliveryStatus] = Field(default_factory=list)
    ignored: int = 0


class MentionEnvelope(BaseModel):
    type: Literal["mention"] = "mention"
    mention: Mention
    received_at: datetime


class StatusEnvelope(BaseModel):
    type: Literal["status"] = "status"
    status: DeliveryStatus
    received_at: datetime


IngestMessage = Annotated[Union[MentionEnvelope, StatusEnvelope], Field(discriminator="type")]


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


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)
