"""The agent's side of a reply: check it against the platform's rules, store it, queue it.

`POST /api/tickets/{id}/replies` lands here. Nothing is queued that the platform would refuse
(length, reply window, public vs private: see policy.py); the agent gets a 422 naming the field
and the reason instead. An `Idempotency-Key` header makes a double-click one reply.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chalicelib import collab, queues, templates, views
from chalicelib.aggregates.message import Message, ReplyCondition
from chalicelib.aggregates.ticket import Ticket
from chalicelib.config import settings
from chalicelib.errors import EnqueueFailed, NotFound
from chalicelib.models import OutboundRequest, sortable, utcnow
from chalicelib.outbound import approvals, policy
from chalicelib.store import keys
from chalicelib.store.dynamodb import DynamoStore
from chalicelib.store.ports import TIMELINE_PAGE

REPLY_NAMESPACE = uuid.UUID("6f8f4f0e-2b0c-4d8e-9a55-0d3b1c2e7a91")
REDRIVE_AFTER_SECONDS = 300


class ReplyRequest(BaseModel):
    """The agent's reply; with `template_id` and no text, the template rendered for the ticket."""

    model_config = ConfigDict(extra="forbid")

    text: Optional[str] = Field(default=None, min_length=1, max_length=100_000)
    visibility: Literal["public", "private"]
    template_id: Optional[str] = Field(default=None, min_length=1, max_length=64)
    # issue 16: the newest timeline entry the agent's view loaded; newer messages in or out → 409 (collab.py)
    seen: Optional[str] = Field(default=None, min_length=1, max_length=collab.SEEN_MAX)

    @model_validator(mode="after")
    def _text_or_template(self) -> "ReplyRequest":
        if self.text is None and self.template_id is None:
            raise ValueError("give the text, or a template_id to send the template")
        return self


def queue_reply(store: DynamoStore, ticket_id: str, request: ReplyRequest, agent_id: str,
                idempotency_key: Optional[str] = None, automatic: bool = False,
                role: Optional[str] = None) -> tuple[dict, bool]:
    """(the reply as the API shows it, whether it is new). Raises NotFound, ReplyRefused, EnqueueFailed.
    A public reply the brand's approval rules hold is stored `pending_approval` and not queued
    (chalicelib/outbound/approvals.py; `role`: the caller's, a supervisor's is never held)."""
    ticket = store.tickets.get(ticket_id)
    if ticket is None:
        raise NotFound(ticket_id)
    now = utcnow()
    text = request.text
    if request.template_id:
        text = text or templates.rendered(store, ticket_id, request.template_id, agent_id)["text"]
    messages = store.messages.timeline(ticket_id, latest=TIMELINE_PAGE)  # the newest page is what a reply reads
    if request.seen is not None:  # composed on a stale view: 409 naming what she has not seen (no read of its own)
        collab.refuse_if_stale(messages, request.seen, agent_id, TIMELINE_PAGE, repeat_of=str(uuid.uuid5(
            REPLY_NAMESPACE, f"{ticket_id}:{idempotency_key}")) if idempotency_key else None)
    account = store.accounts.get(ticket.channel, ticket.brand_account_id)
    plan = policy.plan(ticket, messages, account, request.visibility, text, now)
    agent = store.agents.get(agent_id)
    held = approvals.reasons(store, ticket, agent, agent_id, request.visibility, automatic, role)  # issue 16
    message_id = str(uuid.uuid5(REPLY_NAMESPACE, f"{ticket_id}:{idempotency_key}") if idempotency_key
                     else uuid.uuid4())
    reply = Message.reply(message_id, ticket_id=ticket_id, platform=ticket.channel, kind=plan.action, text=text,
                          visibility=request.visibility, target=plan.target, template_id=request.template_id,
                          created_at=sortable(now), agent_id=agent_id, agent_name=agent.name if agent else None,
                          brand=ticket.brand, notes=list(plan.notes), automatic=automatic, held_for=held)
    if reply.status == "pending_approval":  # issue 16: its place in the approvals queue first, so a
        approvals.hold(store, reply)          # crash before the reply is put never leaves it unseen
    stored, new = store.messages.put_reply(reply, idempotency_key)
    if reply.status == "pending_approval" or stored.status == "pending_approval":
        approvals.held_as(store, reply, stored)  # a repeat kept the first request's reply: its entry
    if new and stored.status == "queued":
        body = OutboundRequest(ticket_id=ticket_id, message_id=message_id,
                               message_sk=keys.message_sk(reply.created_at, message_id)).model_dump_json()
        try:
            queues.send(settings().outbound_queue_url, body)
        except EnqueueFailed:
            store.messages.update_reply(stored, {"status": "failed", "error": {
                "reason": "the reply could not be queued; nothing was sent, send it again", "code": "enqueue"},
                **keys.out_of_in_flight()}, ReplyCondition.status_in("queued"))
            raise
    return views.message(stored), new


def reply_options(store: DynamoStore, ticket: Ticket, messages: list[Message]) -> dict:
    account = store.accounts.get(ticket.channel, ticket.brand_account_id)
    return policy.options(ticket, messages, account, utcnow())


def redrive(store: DynamoStore, send, now) -> int:
    """Replies still in flight long after they should have moved (a queue message lost between
    the write and the send, a crash): queued again. The worker's state machine makes a second
    delivery harmless."""
    before = (now - timedelta(seconds=REDRIVE_AFTER_SECONDS)).isoformat()
    moved = 0
    for message in store.messages.in_flight(before):
        stale = message.status == "queued" or (
            message.status == "retrying" and message.next_attempt_at
            and datetime.fromisoformat(message.next_attempt_at) < now - timedelta(seconds=REDRIVE_AFTER_SECONDS))
        if stale:
            send(OutboundRequest(ticket_id=message.ticket_id, message_id=message.id,
                                 message_sk=keys.message_sk(message.created_at, message.id)).model_dump_json())
            moved += 1
    return moved
