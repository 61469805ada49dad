"""Delivery receipts: what the platform says happened to a reply after it was sent.

WhatsApp `statuses` (sent, delivered, read, failed), Messenger `delivery` (by message id) and
`read` (a watermark: everything sent to that person before it), Instagram `read` (by message
id). Each receipt is kept as it came (`OUTMSG#<platform>#<id>` / `STATUS#...`) and moves the
message's `delivery_status` forward only (sent < delivered < read; failed wins), with a
conditional write (`sent.apply`), so receipts arriving out of order or twice change nothing.

A receipt that names our reply (`DeliveryStatus.ours`, which the channel's parser decodes from what
the platform echoes, e.g. WhatsApp's `biz_opaque_callback_data`) is found by it even before the
platform id is known: if the send attempt never heard the answer (the message is `unconfirmed`), the
receipt confirms it and records the platform id.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from chalicelib.aggregates.message import Message, Receipt
from chalicelib.models import DeliveryStatus
from chalicelib.outbound.sent import apply, confirm
from chalicelib.store.dynamodb import DynamoStore
from chalicelib.store.ports import TIMELINE_PAGE

CONFIRMING = ("sent", "delivered", "read")


def record(status: DeliveryStatus, store: DynamoStore) -> int:
    """Store one receipt and apply it; returns how many of our messages it updated."""
    platform = status.platform
    at = status.timestamp.isoformat()
    errors = [dict(e) for e in status.errors]
    if status.external_id is None:
        return _watermark(status, store)
    store.messages.record_delivery_status(Receipt(
        platform=platform, external_id=status.external_id, status=status.status, at=at,
        recipient_id=status.recipient_id, errors=errors, brand_account_id=status.brand_account_id,
        callback_data=status.callback_data))
    message = store.messages.by_platform_id(platform, status.external_id)
    if message is None and status.ours:
        message = _confirm_ours(status, store)
    if message is None:
        return 0  # not ours, or our "sent" is not written yet: after_sent applies stored receipts
    return int(apply(store, message, status.status, at, errors))


def _confirm_ours(status: DeliveryStatus, store: DynamoStore) -> Optional[Message]:
    ticket_id, message_id = status.ours
    message = store.messages.get(ticket_id, message_id)
    if message is None or message.direction != "out":
        return None
    if message.status in ("sending", "unconfirmed", "retrying") and status.status in CONFIRMING:
        return confirm(store, message, status.external_id, f"{status.platform} status webhook")
    return message if message.platform_message_id == status.external_id else None


def _watermark(status: DeliveryStatus, store: DynamoStore) -> int:
    """Messenger's read (and mid-less delivery): every reply to that person up to the watermark."""
    if not status.recipient_id or status.watermark is None:
        return 0
    conversation = f"{status.platform}#{status.brand_account_id}#{status.recipient_id}"
    ticket = store.tickets.by_conversation(conversation)
    if ticket is None:
        return 0
    limit = status.watermark.timestamp()
    updated = 0
    for message in store.messages.timeline(ticket.id, latest=TIMELINE_PAGE):  # a watermark reads the newest
        if message.direction == "out" and message.status == "sent" and _epoch(message.sent_at) <= limit + 1:
            updated += apply(store, message, status.status, status.timestamp.isoformat())
    return updated


def _epoch(value: Optional[str]) -> float:
    return datetime.fromisoformat(value).timestamp() if value else float("inf")
