"""Outbound worker: deliver each queued reply to its platform exactly once.

A reply moves queued ▸ sending ▸ sent | failed (with `retrying` and `unconfirmed` in between),
every step a conditional write on the message item:

* **claim**: `queued`/`retrying`/`unconfirmed` ▸ `sending`, or a `sending` whose lease ran out
  (a worker that died mid-send). The claim stamps an attempt token; only its holder may finish.
  A redelivered queue message that finds `sending` under a live lease, or `sent`/`failed`,
  does nothing more.
* **the channel's sender** (`SENDERS[action]` of `chalicelib/channels/<platform>/send.py`, imported
  on that channel's first reply; the interface: chalicelib/channels/reply.py) sends, given what its
  `Sender.credential` names (the account's credential, a platform secret, an AWS client), which this
  worker fetches.
* **before a resend** after an attempt whose outcome is unknown (a timeout after sending, a
  crash, X's "duplicate content"), the platform is asked whether it has our post
  (`Sender.find`): X user timeline and DM events, Facebook and Instagram comment replies, the
  Messenger/Instagram conversation. A channel with no such read may be confirmed by its status
  webhooks (`Sender.awaits_receipt`: WhatsApp's carry our `biz_opaque_callback_data`, and the
  ingest worker confirms the message from them); a resend waits that long for it. Email (our own
  Message-ID) and the API channel (Idempotency-Key) are safe to resend (`Sender.resend_safe`). A
  refusal the sender says proves the earlier attempt landed (`Sender.landed`: Meta's "already
  replied privately") after an unknown attempt counts as sent.
* **429 and 5xx** retry in the same invocation when the wait is short, otherwise the message is
  parked as `retrying` and made visible again after the platform's wait (`x-rate-limit-reset`,
  Meta's usage headers) by changing its SQS visibility. On the queue's last receive it is
  marked failed (`RepliesFailed`, `OutboundGaveUp`) and raised, so SQS moves it to the DLQ.
* **auth errors** refresh the account credential once (credentials.refresh, with the channel's
  `refresh_grant` when its send.py has one).
* **permanent errors** mark it failed with the platform's reason, for the agent.

After `sent` (sent.after_sent): the platform id points back at the message (for receipts), the ticket
gets `first_response_at` (the first reply of any visibility) and `last_outbound_at`, the
customer's history a touchpoint; metrics `RepliesSent` and `FirstResponseTime`.
"""
from __future__ import annotations

import os
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Callable, Optional

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from chalicelib import aws
from chalicelib.channels import http
from chalicelib.channels import registry as channel_registry
from chalicelib.channels.reply import Sender, module
from chalicelib.config import settings
from chalicelib.errors import Ambiguous, AuthFailed, ConcurrentUpdate, MissingCredential, Permanent, Retry
from chalicelib.models import OutboundRequest, utcnow
from chalicelib.observability import M, count, logger
from chalicelib.outbound import credentials
from chalicelib.aggregates.message import Message, ReplyCondition
from chalicelib.outbound.sent import DONE_WITH, after_sent, transition
from chalicelib.store import keys
from chalicelib.store.dynamodb import DynamoStore

LEASE = timedelta(seconds=120)  # longer than a Lambda invocation can run (60 s)
IN_PROCESS_WAIT = 2.0  # waits up to this long happen in the invocation; longer ones via SQS
IN_PROCESS_ATTEMPTS = 3
DEFAULT_MAX_RECEIVES = 8  # infra/resources.py gives the outbound queue the same maxReceiveCount
RESUMABLE = ("queued", "retrying", "unconfirmed")


class Deferred(Exception):
    """Try again in `after` seconds (the SQS visibility is set to it)."""

    def __init__(self, reason: str, after: float):
        super().__init__(reason)
        self.after = after


class _Unverifiable(Permanent):
    pass


class GaveUp(Exception):
    """The last allowed receive failed too: the message goes to the DLQ."""


def deliver(request: OutboundRequest, store: DynamoStore, *, receive_count: int = 1,
            max_receives: Optional[int] = None, now: Callable[[], datetime] = utcnow,
            sleep: Callable[[float], None] = time.sleep) -> str:
    """Deliver one reply; returns its final state, or raises Deferred / GaveUp."""
    max_receives = max_receives or int(os.environ.get("OUTBOUND_MAX_RECEIVES") or DEFAULT_MAX_RECEIVES)
    message = store.messages.reply(request.ticket_id, request.message_sk)
    if message is None:
        logger.warning("outbound message not found", extra={"ticket_id": request.ticket_id})
        return "missing"
    logger.append_keys(correlation_id=f"out#{message.id}")
    if message.status in ("sent", "failed", "pending_approval", "rejected"):  # held ones are not to be sent
        return message.status
    moment = now()
    if message.status == "sending" and _time(message.lease_until) > moment:
        raise Deferred("another worker is sending it", after=(_time(message.lease_until) - moment).total_seconds() + 1)
    uncertain = message.status in ("sending", "unconfirmed")
    grace = sender_of(message).awaits_receipt
    if message.status == "unconfirmed" and grace and moment - _time(message.last_attempt_at) < grace:
        raise Deferred(f"waiting for {channel_registry.get(message.platform).name}'s status webhook",
                       after=grace.total_seconds())
    message = _claim(message, store, moment)
    return _Attempt(message, store, uncertain, receive_count, max_receives, now, sleep).run()


class _Attempt:
    def __init__(self, message: Message, store: DynamoStore, uncertain: bool, receive_count: int,
                 max_receives: int, now, sleep):
        self.message, self.store, self.uncertain = message, store, uncertain
        self.receive_count, self.max_receives, self.now, self.sleep = receive_count, max_receives, now, sleep
        self.sender = sender_of(message)
        self.credential = None
        self.since = _time(message.first_attempt_at)

    def run(self) -> str:
        try:
            self.credential = credentials.for_sender(self.sender.credential, self.message.platform,
                                                     self.message.target["account_id"])
            if self.uncertain and self.sender.find:
                found = self._find()
                if found:
                    return self._sent(found, confirmed_by="lookup")
            return self._send()
        except MissingCredential as err:
            return self._failed(str(err), "credentials")
        except _Unverifiable as err:
            return self._failed(f"an earlier attempt may have been posted and the platform would not say "
                                f"({err.reason}); check the conversation before sending again", err.code)
        except Retry as err:  # a lookup or a refresh that could not be made now
            return self._retry_later(err)
        except ConcurrentUpdate:  # a receipt confirmed it meanwhile (WhatsApp): nothing more to do
            current = self.store.messages.reply(self.message.ticket_id,
                                                keys.message_sk(self.message.created_at, self.message.id))
            return (current.status if current else None) or "missing"

    def _find(self) -> Optional[str]:
        """Is our earlier attempt on the platform? A lookup the platform refuses cannot tell, and
        a blind resend could post twice: the agent decides."""
        try:
            return self.sender.find(self.message, self.credential, self.since)
        except (Permanent, AuthFailed) as err:
            raise _Unverifiable(err.reason, err.code) from None

    def _send(self) -> str:
        refreshed, tries = False, 0
        while True:
            tries += 1
            try:
                platform_id = self.sender.send(self.message, self.credential, int(self.message.attempts))
                return self._sent(platform_id, confirmed_by="answer")
            except AuthFailed as err:
                if refreshed:
                    return self._failed(f"{err.reason}; refreshing the credential did not help: reconnect "
                                        "the account", err.code)
                grant = getattr(_send_module(self.message), "refresh_grant", None)
                self.credential = credentials.refresh(self.credential, grant)
                refreshed = True
            except Ambiguous as err:
                return self._ambiguous(err)
            except Retry as err:
                if err.after <= IN_PROCESS_WAIT and tries < IN_PROCESS_ATTEMPTS:
                    count(M.OUTBOUND_RETRIES, self.message.platform, reason=err.code or "")
                    self.sleep(err.after)
                    continue
                return self._retry_later(err)
            except Permanent as err:
                if self.uncertain and self.sender.landed and self.sender.landed(err):
                    return self._sent(None, confirmed_by="platform refused a second private reply")
                return self._failed(err.reason, err.code)

    def _ambiguous(self, err: Ambiguous) -> str:
        if self.sender.find:
            found = self._find()
            if found:
                return self._sent(found, confirmed_by="lookup")
        if self.sender.resend_safe:
            return self._retry_later(Retry(err.reason, after=2))
        self._park("unconfirmed", err.reason, err.code)
        wait = self.sender.awaits_receipt.total_seconds() if self.sender.awaits_receipt else 2.0
        raise Deferred(err.reason, after=wait)

    # -- endings ---------------------------------------------------------------------------
    def _sent(self, platform_id: Optional[str], confirmed_by: str) -> str:
        sent_at = _iso(self.now())
        message = transition(
            self.store, self.message,
            {"status": "sent", "platform_message_id": platform_id or f"unknown:{self.message.id}",
             "sent_at": sent_at, "confirmed_by": confirmed_by, "error": None, "lease_until": None, **DONE_WITH},
            ReplyCondition.held(self.message.attempt_token))
        after_sent(message, self.store)
        return "sent"

    def _failed(self, reason: str, code: Optional[str]) -> str:
        transition(
            self.store, self.message, {"status": "failed", "error": {"reason": reason, "code": code},
                                       "failed_at": _iso(self.now()), "lease_until": None, **DONE_WITH},
            ReplyCondition.held(self.message.attempt_token))
        count(M.REPLIES_FAILED, self.message.platform, message_id=self.message.id, code=code or "")
        logger.warning("reply failed", extra={"ticket_id": self.message.ticket_id, "reason": reason, "code": code})
        return "failed"

    def _retry_later(self, err: Retry) -> str:
        if self.receive_count >= self.max_receives:
            self._failed(f"gave up after {self.receive_count} attempts: {err.reason}", err.code)
            count(M.OUTBOUND_GAVE_UP, self.message.platform, message_id=self.message.id)
            raise GaveUp(err.reason)
        self._park("retrying", err.reason, err.code, next_attempt=err.after)
        raise Deferred(err.reason, after=err.after)

    def _park(self, status: str, reason: str, code: Optional[str], next_attempt: float = 0) -> None:
        transition(
            self.store, self.message, {"status": status, "error": {"reason": reason, "code": code, "retrying": True},
                                       "next_attempt_at": _iso(self.now() + timedelta(seconds=next_attempt)),
                                       "lease_until": None},
            ReplyCondition.held(self.message.attempt_token))


def sender_of(message: Message) -> Sender:
    """The sender of the reply's action, from its channel's package (loaded on first use)."""
    return _send_module(message).SENDERS[message.kind]


def _send_module(message: Message):
    return module(channel_registry.get(message.platform), "send")


def _claim(message: Message, store: DynamoStore, moment: datetime) -> Message:
    changes = {"status": "sending", "attempt_token": str(uuid.uuid4()),
               "lease_until": _iso(moment + LEASE), "last_attempt_at": _iso(moment),
               "attempts": int(message.attempts or 0) + 1,
               "first_attempt_at": message.first_attempt_at or _iso(moment)}
    try:
        return transition(store, message, changes, ReplyCondition.claimable(_iso(moment)))
    except ConcurrentUpdate:
        raise Deferred("another worker claimed it", after=5) from None


def _iso(moment: datetime) -> str:
    """One fixed form, so stored times compare as strings (lease_until < :now)."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _time(value: Optional[str]) -> datetime:
    return datetime.fromisoformat(value) if value else datetime.min.replace(tzinfo=timezone.utc)


def process_sqs_event(event: dict, context) -> dict:
    """Lambda entry for the outbound queue: partial batch failures, and every failed record made
    visible again after its own wait (Deferred.after, or a backoff for anything unexpected)."""
    store = DynamoStore(aws.table())

    def record_handler(record) -> str:
        receives = int(record.attributes.approximate_receive_count or 1)
        try:
            return deliver(OutboundRequest.model_validate_json(record.body), store, receive_count=receives)
        except Deferred as err:
            _delay(record.receipt_handle, err.after)
            raise
        except GaveUp:
            _delay(record.receipt_handle, 0)  # back at once, past maxReceiveCount: SQS moves it to the DLQ
            raise
        except Exception:
            _delay(record.receipt_handle, http.backoff(receives))
            raise

    def _delay(receipt_handle: str, seconds: float) -> None:
        try:
            aws.client("sqs").change_message_visibility(
                QueueUrl=settings().outbound_queue_url, ReceiptHandle=receipt_handle,
                VisibilityTimeout=int(min(max(seconds, 0), 43_200)))
        except Exception:  # the queue's own visibility timeout still brings it back
            logger.exception("could not set the retry delay")

    return process_partial_response(event=event, record_handler=record_handler,
                                    processor=BatchProcessor(event_type=EventType.SQS), context=context)
