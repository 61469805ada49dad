"""A reply once it is sent: the `sent` write for an attempt the platform proves landed, what
follows a sent reply, and its delivery status moving forward.

Below both the outbound worker (which writes `sent` itself, then calls `after_sent`) and the
receipts (a WhatsApp status that proves an unconfirmed reply landed calls `confirm`; receipts
that arrived before `sent` wait in the table until `after_sent` applies them).

`delivery_status` moves forward only (sent < delivered < read; failed wins), with a
conditional write, so receipts arriving out of order or twice change nothing.

The worker and the receipts hold a reply as its `Message`; `transition` is their one conditional
write through the MessageStore port.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

from chalicelib.aggregates.message import Message, ReplyCondition
from chalicelib.errors import ConcurrentUpdate
from chalicelib.models import sortable, utcnow
from chalicelib.observability import M, count, logger, measure
from chalicelib.store import keys
from chalicelib.store.dynamodb import DynamoStore

RANK = {"sent": 1, "delivered": 2, "read": 3, "failed": 4}
DONE_WITH = keys.out_of_in_flight()  # out of the in-flight index the sweeper re-drives from


def transition(store: DynamoStore, message: Message, changes: dict, when: ReplyCondition) -> Message:
    """Change a reply while `when` holds (ConcurrentUpdate otherwise); the reply as it now is."""
    return store.messages.update_reply(message, changes, when)


def confirm(store: DynamoStore, message: Message, platform_id: str, confirmed_by: str) -> Optional[Message]:
    """A reply whose send we never heard back from, proven sent by the platform (a receipt)."""
    try:
        message = transition(
            store, message, {"status": "sent", "platform_message_id": platform_id, "sent_at": sortable(utcnow()),
                             "confirmed_by": confirmed_by, "error": None, "lease_until": None, **DONE_WITH},
            ReplyCondition.status_in("sending", "unconfirmed", "retrying"))
    except ConcurrentUpdate:
        return store.messages.reply(message.ticket_id, keys.message_sk(message.created_at, message.id))
    after_sent(message, store)
    return message


def after_sent(message: Message, store: DynamoStore) -> None:
    """Pointer, ticket response times, history and metrics for a sent reply. Idempotent."""
    ticket = store.tickets.get(message.ticket_id)
    # a first response also moves the ticket's SLA on to its resolution deadline, in the same write
    first = store.messages.record_sent(message, ticket.customer_id if ticket else None, ticket)
    apply_stored(store, message)
    channel = message.platform
    count(M.REPLIES_SENT, channel, message_id=message.id, ticket_id=message.ticket_id)
    if first and ticket and ticket.first_inbound_at:
        responded = message.created_at if message.approval else message.sent_at  # approved: the submission
        waited = (_time(responded) - _time(ticket.first_inbound_at)).total_seconds()
        measure(M.FIRST_RESPONSE_TIME, channel, max(waited, 0), unit="Seconds", ticket_id=message.ticket_id)
        if message.agent_id:  # the router prefers agents who answer quickly
            store.agents.record_performance(message.agent_id, "first_response_seconds", max(waited, 0))
    _join_history(store, message, ticket)
    logger.info("reply sent", extra={"ticket_id": message.ticket_id, "message_id": message.id,
                                     "platform_message_id": message.platform_message_id})


def apply(store: DynamoStore, message: Message, status: str, at: str, errors: Optional[list] = None) -> bool:
    rank = RANK.get(status)
    if rank is None:
        return False
    changes = {"delivery_status": status, "delivery_rank": rank, f"{status}_at": at}
    if errors:
        changes["delivery_errors"] = errors
    try:
        transition(store, message, changes, ReplyCondition.delivery_before(rank))
    except ConcurrentUpdate:
        return False  # an equal or later receipt is already applied
    if status == "failed":
        count(M.REPLIES_FAILED, message.platform, message_id=message.id, stage="delivery")
        logger.warning("platform reports a reply undelivered", extra={"message_id": message.id})
    return True


def apply_stored(store: DynamoStore, message: Message) -> None:
    """Receipts that arrived before the worker wrote `sent` (a fast webhook) apply now."""
    for receipt in store.messages.delivery_statuses(message.platform, message.platform_message_id):
        apply(store, message, receipt.status, receipt.at, receipt.errors)


def _time(value: Optional[str]) -> datetime:
    return datetime.fromisoformat(value) if value else datetime.min.replace(tzinfo=timezone.utc)


# -- suggested answers (issue 16, point 3): a sent reply joins its brand's history -------------
def _join_history(store: DynamoStore, message: Message, ticket) -> None:
    """The reply and what it answered, into the brand's history (history.entries.record_sent:
    idempotent, the entry's id is the message's). Not worth a re-send: the reply is out, so a
    failure to record it is logged and the reply stays sent."""
    from botocore.exceptions import BotoCoreError, ClientError

    from chalicelib.history import entries  # light: the ranker is never imported here

    try:
        entries.record_sent(store, message, ticket)
    except (ClientError, BotoCoreError) as err:
        logger.warning("sent reply not added to the suggestion history",
                       extra={"message_id": message.id, "error": type(err).__name__})
