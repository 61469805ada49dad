"""Messenger and Instagram messaging webhook events: one `entry[].messaging[]` shape for both
products, read for the channel whose entry it is (`platform`: the channel package's `ID`).
(Sending on the Messenger Platform is `meta/messaging.py`.)

A customer's message or postback becomes a Mention (kind "message"); a `delivery` or `read` of
what the brand sent becomes DeliveryStatus records; echoes of the brand's own messages,
reactions and the brand's own receipts are ignored.

Imports pydantic, the standard library, chalicelib.models, chalicelib.errors and meta.entries only.
"""
from __future__ import annotations

from typing import Any, Optional

from pydantic import model_validator

from chalicelib import channels
from chalicelib.channels import survey
from chalicelib.channels.meta.entries import (
    Epoch,
    EpochMs,
    IdRef,
    Loose,
    collect,
    collect_statuses,
    time,
    validate,
    watermark,
)
from chalicelib.errors import UnknownPayload
from chalicelib.models import Attachment, Author, DeliveryStatus, Mention, ParseResult, SurveyAnswer, Visibility


class MessagingMessage(Loose):
    mid: str
    text: Optional[str] = None
    quick_reply: Optional[dict] = None  # the tapped quick reply's {payload}
    attachments: list[dict] = []
    is_echo: bool = False
    is_deleted: bool = False
    reply_to: Optional[dict] = None


class Postback(Loose):
    title: Optional[str] = None
    payload: Optional[str] = None
    mid: Optional[str] = None


class MessagingEvent(Loose):
    """One `entry[].messaging[]` item (Messenger and Instagram messaging share the shape).

    https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messages
    """

    sender: IdRef
    recipient: IdRef
    timestamp: Epoch = None
    message: Optional[MessagingMessage] = None
    postback: Optional[Postback] = None


class Delivery(Loose):
    """https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/message-deliveries"""

    mids: Optional[list[str]] = None  # "may not be present"; the watermark always is
    watermark: EpochMs  # everything sent before it was delivered


class Read(Loose):
    """Messenger names a watermark, Instagram the message read (`mid`).

    https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/message-reads
    https://developers.facebook.com/docs/messenger-platform/instagram/features/webhook (messaging_seen)
    """

    mid: Optional[str] = None
    watermark: Optional[EpochMs] = None  # everything sent up to it was read

    @model_validator(mode="after")
    def _names_what_was_read(self) -> Read:
        if self.mid is None and self.watermark is None:
            raise ValueError("read names neither mid nor watermark")
        return self


class _Receipt(Loose):
    """A `messaging[]` receipt: the customer (sender) got or read what the brand sent."""

    sender: IdRef
    recipient: IdRef
    timestamp: Optional[EpochMs] = None  # Meta's delivery example omits it


class DeliveryEvent(_Receipt):
    delivery: Delivery


class ReadEvent(_Receipt):
    read: Read


def event(result: ParseResult, platform: str, account_id: str, raw: Any) -> None:
    """One `messaging[]` item: a receipt of ours, a customer's message, or ignored."""
    if not isinstance(raw, dict):
        raise UnknownPayload("meta: messaging event is not an object")
    if "delivery" in raw or "read" in raw:
        collect_statuses(result, _receipts(platform, account_id, raw))
    else:
        found = _message(platform, account_id, raw)
        if isinstance(found, SurveyAnswer):  # a CSAT survey's quick reply: an answer, never a mention
            result.answers.append(found)
        else:
            collect(result, found)


def _message(platform: str, account_id: str, raw: dict) -> "Mention | SurveyAnswer | None":
    """A Messenger or Instagram DM (or a tap on our CSAT survey's quick reply); reactions and
    echoes are not mentions."""
    if "message" not in raw and "postback" not in raw:
        return None  # reaction, optin, referral, message_edit, ...
    item = validate(MessagingEvent, raw, "messaging event")
    if item.sender.id == account_id:
        return None  # sent by the brand itself
    if item.message is not None:
        # Messages the page sends come back with is_echo=true.
        # https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/message-echoes
        if item.message.is_echo or item.message.is_deleted:
            return None
        answer = _survey_answer(platform, account_id, item)
        if answer is not None:
            return answer
        return _dm(platform, account_id, item, item.message.mid, item.message.text or "",
                   _attachments(item.message.attachments),
                   channels.text((item.message.reply_to or {}).get("mid")) or None)
    postback = item.postback
    if postback is None:
        return None
    # A button tap: the button's title is what the customer "said".
    # https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messaging_postbacks
    mid = postback.mid or f"postback:{item.sender.id}:{item.timestamp}"
    return _dm(platform, account_id, item, mid, postback.title or postback.payload or "", (), None)


def _survey_answer(platform: str, account_id: str, item: MessagingEvent) -> Optional[SurveyAnswer]:
    """A quick reply whose payload is one of our survey's (channels/survey.py).
    https://developers.facebook.com/docs/messenger-platform/send-messages/quick-replies"""
    decoded = survey.decode(channels.obj(item.message.quick_reply).get("payload"))
    if decoded is None:
        return None
    ticket_id, score, sig = decoded
    return SurveyAnswer(platform=platform, brand_account_id=item.recipient.id or account_id,
                        external_id=item.message.mid, ticket_id=ticket_id, score=score, sig=sig,
                        author_id=item.sender.id, timestamp=time(item.timestamp))


def _dm(platform: str, account_id: str, item: MessagingEvent, mid: str, text: str,
        attachments: tuple[Attachment, ...], in_reply_to: Optional[str]) -> Mention:
    return Mention(
        platform=platform,
        kind="message",
        brand_account_id=item.recipient.id or account_id,
        external_id=mid,
        conversation_id=item.sender.id,
        reply_to_id=item.sender.id,
        in_reply_to_id=in_reply_to,
        author=Author(id=item.sender.id),
        text=text,
        attachments=attachments,
        visibility=Visibility.PRIVATE,
        created_at=time(item.timestamp),
    )


def _receipts(platform: str, account_id: str, raw: dict) -> list[DeliveryStatus]:
    """A `delivery` (one status per mid, or one by watermark alone) or a `read`."""
    item = validate(DeliveryEvent if "delivery" in raw else ReadEvent, raw, "messaging receipt")
    if item.sender.id == account_id:
        return []  # the brand's own receipt, not the customer's of ours
    if isinstance(item, DeliveryEvent):
        return [_receipt(platform, account_id, item, "delivered", mid, item.delivery.watermark)
                for mid in item.delivery.mids or [None]]
    return [_receipt(platform, account_id, item, "read", item.read.mid, item.read.watermark)]


def _receipt(platform: str, account_id: str, item: _Receipt, status: str,
             mid: Optional[str], mark: Optional[int]) -> DeliveryStatus:
    return DeliveryStatus(
        platform=platform,
        brand_account_id=item.recipient.id or account_id,
        external_id=mid,
        status=status,
        recipient_id=item.sender.id,
        timestamp=time(item.timestamp, mark),
        watermark=watermark(mark),
    )


def _attachments(items: list[dict]) -> tuple[Attachment, ...]:
    # Each attachment is {type: image|video|audio|file|location|fallback|..., payload: {url}}.
    out = []
    for item in items:
        if isinstance(item, dict):
            payload = channels.obj(item.get("payload"))
            kind = channels.text(item.get("type"))[:64] or "file"
            out.append(Attachment(type=kind, url=channels.url(payload.get("url"))))
    return tuple(out)
