"""The outbound worker and the receipts on the in-memory store (fast; the same MessageStore and
TicketStore ports the DynamoDB store passes in tests/contract): a queued reply is sent exactly once
by its channel's sender, whatever is redelivered, lost, refused or rate-limited, and delivery
receipts move it forward only, in any order, before or after `sent`. The channel is Toy
(tests/channels/toy), its sender scripted per test. The real platforms' requests, SQS and moto stay
in tests/integration/test_outbound.py and test_add_a_channel_replies.py."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.aggregates.message import Message
from chalicelib.aggregates.ticket import Ticket
from chalicelib.channels import registry
from chalicelib.errors import Ambiguous, Permanent, Retry
from chalicelib.models import DeliveryStatus, OutboundRequest
from chalicelib.outbound import receipts, worker
from chalicelib.store import keys
from chalicelib.store.memory import MemoryStore
from tests.channels import toy
from tests.channels.toy import send as toy_platform

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self):
        self.at = T0

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def desk(monkeypatch) -> MemoryStore:
    """Toy registered, its platform empty, and one ticket with a queued private reply."""
    monkeypatch.setattr(registry, "CHANNELS", registry.CHANNELS + (
        dataclasses.replace(toy.CHANNEL, package="tests.channels.toy"),))
    toy_platform.POSTED.clear()
    toy_platform.LOSE_ANSWER.clear()
    desk = MemoryStore()
    ticket = Ticket.opened("t1", channel="toy", kind="chat", brand="acme", brand_account_id="toy-brand-1",
                           conversation_key="toy#toy-brand-1#u-42", opened_by="toy#c1", customer_id="c1",
                           now_iso=T0.isoformat(), first_inbound_at=(T0 - timedelta(minutes=10)).isoformat(),
                           clocks={}, visibility="private", language="en", topic=None, subject=None)
    desk.tickets.open_for(ticket.conversation_key, ticket)
    return desk


def _queue(desk: MemoryStore, message_id: str = "r1", text: str = "A new parcel is on its way.") -> OutboundRequest:
    reply = Message.reply(message_id, ticket_id="t1", platform="toy", kind="toy_chat", text=text,
                          visibility="private", target={"account_id": "toy-brand-1", "chat_id": "u-42"},
                          template_id=None, created_at=T0.isoformat(), agent_id="ana", agent_name="Ana",
                          brand="acme", notes=[], automatic=False)
    desk.messages.put_reply(reply)
    return OutboundRequest(ticket_id="t1", message_id=message_id, message_sk=keys.message_sk(T0.isoformat(), message_id))


def _reply(desk: MemoryStore, message_id: str = "r1") -> Message:
    return desk.messages.get("t1", message_id)


def _sender(monkeypatch, **changes) -> None:
    """Toy's sender with `changes` (a scripted send, no look-up, awaits_receipt, ...)."""
    monkeypatch.setitem(toy_platform.SENDERS, "toy_chat", dataclasses.replace(toy_platform.SENDERS["toy_chat"], **changes))


def _script(*outcomes):
    """A send that raises or returns each outcome in turn (and records each call)."""
    calls = []

    def send(message, credential, attempt=1):
        calls.append((message.id, attempt))
        outcome = outcomes[min(len(calls), len(outcomes)) - 1]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome
    send.calls = calls
    return send


def _status(platform_id: str, status: str, minute: int = 1, ours=None) -> DeliveryStatus:
    return DeliveryStatus(platform="toy", brand_account_id="toy-brand-1", external_id=platform_id, status=status,
                          recipient_id="u-42", timestamp=T0 + timedelta(minutes=minute), ours=ours)


# -- exactly once ----------------------------------------------------------------------------
def test_a_queued_reply_is_sent_once_and_a_redelivery_posts_nothing_more(desk):
    request = _queue(desk)
    assert worker.deliver(request, desk, now=Clock()) == "sent"
    assert worker.deliver(request, desk, now=Clock()) == "sent"
    assert [p["text"] for p in toy_platform.POSTED] == ["A new parcel is on its way."]
    reply = _reply(desk)
    assert (reply.status, reply.platform_message_id, reply.confirmed_by, reply.attempts) == ("sent", "toy-1", "answer", 1)
    assert reply.attempt_token and reply.lease_until is None
    # and the sent path ran: the pointer for receipts, the ticket's first response, the touchpoint
    assert desk.messages.by_platform_id("toy", "toy-1").id == "r1"
    ticket = desk.tickets.get("t1")
    assert ticket.first_response_at == reply.sent_at and ticket.first_response_by == "ana"
    assert [t["direction"] for t in desk.customers.touchpoints["c1"]] == ["out"]


def test_a_reply_under_another_workers_live_lease_is_deferred_and_an_expired_lease_is_looked_up_first(desk):
    request = _queue(desk)
    clock = Clock()
    # Given a worker claimed the reply, then died mid-send after Toy accepted it
    desk.messages.update_reply(_reply(desk), {"status": "sending", "attempt_token": "dead", "attempts": 1,
                                              "lease_until": worker._iso(T0 + worker.LEASE),
                                              "first_attempt_at": worker._iso(T0), "last_attempt_at": worker._iso(T0)},
                               worker.ReplyCondition.status_in("queued"))
    toy_platform.POSTED.append({"chat_id": "u-42", "text": "A new parcel is on its way.", "credential": None})
    # When the queue redelivers under the live lease: another worker is sending it
    with pytest.raises(worker.Deferred, match="another worker is sending it") as deferred:
        worker.deliver(request, desk, now=clock)
    assert 119 < deferred.value.after <= 121
    # and after the lease ran out: the look-up finds the post, nothing is sent twice
    clock.at = T0 + worker.LEASE + timedelta(seconds=1)
    assert worker.deliver(request, desk, now=clock) == "sent"
    assert len(toy_platform.POSTED) == 1
    reply = _reply(desk)
    assert (reply.confirmed_by, reply.platform_message_id, reply.attempts) == ("lookup", "toy-1", 2)


def test_a_lost_answer_is_found_by_the_look_up_not_sent_again(desk):
    request = _queue(desk)
    toy_platform.LOSE_ANSWER.add("r1")
    assert worker.deliver(request, desk, now=Clock()) == "sent"
    assert len(toy_platform.POSTED) == 1 and _reply(desk).confirmed_by == "lookup"


def test_a_lost_answer_on_a_channel_safe_to_resend_is_retried(desk, monkeypatch):
    send = _script(Ambiguous("timeout"), "toy-9")
    _sender(monkeypatch, send=send, find=None, resend_safe=True)
    request = _queue(desk)
    with pytest.raises(worker.Deferred) as deferred:
        worker.deliver(request, desk, now=Clock())
    assert deferred.value.after == 2 and _reply(desk).status == "retrying"
    assert worker.deliver(request, desk, receive_count=2, now=Clock()) == "sent"
    assert send.calls == [("r1", 1), ("r1", 2)] and _reply(desk).platform_message_id == "toy-9"


def test_a_refusal_that_proves_the_earlier_attempt_landed_counts_as_sent(desk, monkeypatch):
    landed = Permanent("already replied", code="10/2018278")
    _sender(monkeypatch, send=_script(Ambiguous("timeout"), landed), find=None, landed=lambda err: err is landed)
    request = _queue(desk)
    with pytest.raises(worker.Deferred):
        worker.deliver(request, desk, now=Clock())
    assert _reply(desk).status == "unconfirmed"
    assert worker.deliver(request, desk, receive_count=2, now=Clock()) == "sent"
    reply = _reply(desk)
    assert (reply.confirmed_by, reply.platform_message_id) == ("platform refused a second private reply",
                                                                "unknown:r1")


def test_a_look_up_the_platform_refuses_fails_the_reply_rather_than_risk_a_second_post(desk, monkeypatch):
    def refuse(message, credential, since):
        raise Permanent("lookup forbidden", code="403")
    _sender(monkeypatch, send=_script(Ambiguous("timeout")), find=refuse)
    assert worker.deliver(_queue(desk), desk, now=Clock()) == "failed"
    reply = _reply(desk)
    assert reply.error == {"reason": "an earlier attempt may have been posted and the platform would not say "
                                     "(lookup forbidden); check the conversation before sending again", "code": "403"}
    assert reply.lease_until is None and reply.failed_at


# -- retries and refusals --------------------------------------------------------------------
def test_a_short_wait_is_retried_in_the_invocation_and_a_long_one_parks_the_reply(desk, monkeypatch, capsys):
    slept = []
    send = _script(Retry("slow down", after=1, code="429"), "toy-2")
    _sender(monkeypatch, send=send)
    assert worker.deliver(_queue(desk), desk, now=Clock(), sleep=slept.append) == "sent"
    assert slept == [1] and '"OutboundRetries"' in capsys.readouterr().out
    # and a wait longer than the invocation's parks it as retrying, visible again after the wait
    _sender(monkeypatch, send=_script(Retry("rate limited", after=600, code="429"), "toy-3"))
    request = _queue(desk, "r2", "Second")
    with pytest.raises(worker.Deferred) as deferred:
        worker.deliver(request, desk, now=Clock(), sleep=slept.append)
    reply = _reply(desk, "r2")
    assert deferred.value.after == 600 and reply.status == "retrying"
    assert reply.error == {"reason": "rate limited", "code": "429", "retrying": True}
    assert reply.next_attempt_at == worker._iso(T0 + timedelta(seconds=600))
    assert worker.deliver(request, desk, receive_count=2, now=Clock()) == "sent"
    assert _reply(desk, "r2").error is None


def test_the_last_receive_gives_up_with_the_reason_and_a_metric(desk, monkeypatch, capsys):
    _sender(monkeypatch, send=_script(Retry("X answered 503", after=30, code="503")))
    with pytest.raises(worker.GaveUp):
        worker.deliver(_queue(desk), desk, receive_count=8, max_receives=8, now=Clock())
    reply = _reply(desk)
    assert reply.status == "failed" and reply.error == {"reason": "gave up after 8 attempts: X answered 503",
                                                         "code": "503"}
    out = capsys.readouterr().out
    assert '"OutboundGaveUp"' in out and '"RepliesFailed"' in out


def test_a_permanent_refusal_fails_the_reply_with_the_platforms_reason(desk, monkeypatch):
    _sender(monkeypatch, send=_script(Permanent("the chat is closed", code="410")))
    assert worker.deliver(_queue(desk), desk, now=Clock()) == "failed"
    assert _reply(desk).error == {"reason": "the chat is closed", "code": "410"}
    assert worker.deliver(_queue(desk), desk, now=Clock()) == "failed"  # a redelivery changes nothing


# -- receipts --------------------------------------------------------------------------------
def test_a_channel_with_no_look_up_waits_for_its_status_webhook_which_confirms_the_reply(desk, monkeypatch):
    send = _script(Ambiguous("timeout"))
    _sender(monkeypatch, send=send, find=None, awaits_receipt=timedelta(seconds=30))
    request, clock = _queue(desk), Clock()
    with pytest.raises(worker.Deferred) as deferred:
        worker.deliver(request, desk, now=clock)
    assert deferred.value.after == 30 and _reply(desk).status == "unconfirmed"
    clock.at = T0 + timedelta(seconds=10)
    with pytest.raises(worker.Deferred, match="waiting for Toy's status webhook"):
        worker.deliver(request, desk, now=clock)
    # When a status naming our reply arrives (the platform id not yet known to the desk)
    receipts.record(_status("toy-77", "delivered", ours=("t1", "r1")), desk)  # applied by the sent path it ran
    # Then it confirmed the reply, and the worker finds it sent: posted once
    reply = _reply(desk)
    assert (reply.status, reply.platform_message_id, reply.confirmed_by) == ("sent", "toy-77", "toy status webhook")
    assert reply.delivery_status == "delivered"
    assert worker.deliver(request, desk, now=clock) == "sent" and len(send.calls) == 1


def test_a_status_naming_a_reply_that_is_not_ours_or_not_a_reply_changes_nothing(desk):
    _queue(desk)
    assert receipts.record(_status("toy-5", "delivered", ours=("t1", "nope")), desk) == 0
    assert receipts.record(_status("toy-5", "delivered", ours=("t9", "r1")), desk) == 0
    assert _reply(desk).status == "queued"


def test_receipts_move_delivery_forward_only_in_any_order_and_wait_for_sent(desk):
    # Given a receipt that beats the worker's `sent` write
    request = _queue(desk)
    assert receipts.record(_status("toy-1", "delivered", minute=1), desk) == 0
    # When the reply is sent: the stored receipt applies
    assert worker.deliver(request, desk, now=Clock()) == "sent"
    assert _reply(desk).delivery_status == "delivered"
    # Then read wins over a late delivered, and failed over read; a repeat changes nothing
    assert receipts.record(_status("toy-1", "read", minute=3), desk) == 1
    assert receipts.record(_status("toy-1", "delivered", minute=2), desk) == 0
    assert receipts.record(_status("toy-1", "read", minute=3), desk) == 0
    reply = _reply(desk)
    assert (reply.delivery_status, reply.delivery_rank) == ("read", 3)
    assert receipts.record(_status("toy-1", "failed", minute=4), desk) == 1
    assert _reply(desk).delivery_status == "failed"


def test_a_watermark_reads_every_reply_sent_before_it(desk):
    for message_id in ("r1", "r2"):
        assert worker.deliver(_queue(desk, message_id, f"text {message_id}"), desk, now=Clock()) == "sent"
    sent_at = datetime.fromisoformat(_reply(desk, "r2").sent_at)
    watermark = DeliveryStatus(platform="toy", brand_account_id="toy-brand-1", status="read", recipient_id="u-42",
                               timestamp=sent_at + timedelta(seconds=5), watermark=sent_at + timedelta(seconds=1))
    assert receipts.record(watermark, desk) == 2
    assert {_reply(desk, m).delivery_status for m in ("r1", "r2")} == {"read"}
