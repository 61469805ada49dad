"""The Message aggregate: one entry on a ticket's timeline, whoever wrote it.

One model with a discriminating `direction`: `in` (the customer's message, from a mention),
`out` (an agent's or the desk's reply, and its delivery state), `note` (an agent's private note)
and `event` (an agent's action: who changed what). They share a partition (the ticket's), are read
by one query in time order and shown as one list, so one model keeps the timeline one list of
one type; each direction is built by its own constructor, which is where its shape is written:
`Message.inbound` (the ingest worker), `Message.reply` (outbound/replies.py), `Message.note` and
`Message.event` (tickets.py), and `Message.from_item` when read back. The stored item is
`to_item()` plus the keys of store/keys.py (the message's key; a queued reply's place in the
in-flight index `GSI1PK`/`GSI1SK` is the store's to add), the same shape the desk has always
stored. An inbound message has no `ticket_id` attribute (its key names the ticket), as before.
Imports pydantic only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Mapping, Optional

from pydantic import BaseModel, ConfigDict

Direction = Literal["in", "out", "note", "event"]
OutboundStatus = Literal["queued", "sending", "retrying", "unconfirmed", "sent", "failed",
                         "pending_approval", "rejected"]  # the last two: held for a supervisor (approvals.py)


class Message(BaseModel):
    """A timeline entry as stored; which fields it has depends on its `direction`."""

    model_config = ConfigDict(extra="ignore")  # the table's keys (PK, SK, GSI1*) are the store's business

    id: str
    direction: Direction
    created_at: str
    ticket_id: Optional[str] = None  # every direction but `in`
    text: Optional[str] = None
    author: Optional[dict] = None
    brand: Optional[str] = None
    # in (and out): the platform's side
    platform: Optional[str] = None
    kind: Optional[str] = None
    platform_message_id: Optional[str] = None
    reply_to_id: Optional[str] = None
    in_reply_to_id: Optional[str] = None
    visibility: Optional[str] = None
    customer_id: Optional[str] = None
    attachments: Optional[list[dict]] = None
    received_at: Optional[str] = None
    source: Optional[str] = None
    subject: Optional[str] = None
    headers: Optional[dict] = None
    classification: Optional[dict] = None
    priority: Optional[int] = None
    priority_factors: Optional[list[dict]] = None
    priority_rules_version: Optional[int] = None
    # out: the reply and its delivery (outbound/worker.py, outbound/sent.py)
    target: Optional[dict] = None
    template_id: Optional[str] = None
    status: Optional[OutboundStatus] = None
    attempts: Optional[int] = None
    notes: Optional[list[str]] = None
    automatic: Optional[bool] = None
    attempt_token: Optional[str] = None
    lease_until: Optional[str] = None
    first_attempt_at: Optional[str] = None
    last_attempt_at: Optional[str] = None
    next_attempt_at: Optional[str] = None
    sent_at: Optional[str] = None
    confirmed_by: Optional[str] = None
    failed_at: Optional[str] = None
    error: Optional[dict] = None
    delivery_status: Optional[str] = None
    delivery_rank: Optional[int] = None
    delivery_errors: Optional[list[dict]] = None
    delivered_at: Optional[str] = None
    read_at: Optional[str] = None
    # out, held for a supervisor (chalicelib/outbound/approvals.py): {"status": pending|approved|rejected,
    # "reasons", "submitted_at", "decided_by", "decided_at", "reason" (a rejection's), "original_text"}
    approval: Optional[dict] = None
    # note and event: who, and what they did
    agent_id: Optional[str] = None
    action: Optional[str] = None
    changes: Optional[dict] = None

    @classmethod
    def inbound(cls, message_id: str, *, mention: Mapping[str, Any], customer_id: str, created_at: str,
                received_at: str, classification: Mapping[str, Any], priority: int,
                priority_rules_version: Optional[int], brand: str,
                priority_factors: Optional[list[dict]] = None) -> "Message":
        """The customer's message from a mention (`mention` is the Mention's fields as a dict, its
        author, attachments and enums already plain). The priority's factors are the ticket's to
        keep (the message item stays under 1 KB for a tweet); the message keeps its score."""
        return cls.model_validate({
            "id": message_id, "direction": "in", "platform": mention["platform"], "kind": mention["kind"],
            "platform_message_id": mention["external_id"], "reply_to_id": mention.get("reply_to_id"),
            "in_reply_to_id": mention.get("in_reply_to_id"), "text": mention["text"],
            "visibility": mention["visibility"], "author": mention["author"], "customer_id": customer_id,
            "attachments": mention.get("attachments") or [], "created_at": created_at, "received_at": received_at,
            "source": mention.get("source"), "subject": mention.get("subject"),
            "headers": mention.get("headers") or None, "classification": dict(classification),
            "priority": priority, "priority_factors": priority_factors,
            "priority_rules_version": priority_rules_version, "brand": brand})

    @classmethod
    def reply(cls, message_id: str, *, ticket_id: str, platform: str, kind: str, text: str, visibility: str,
              target: Optional[dict], template_id: Optional[str], created_at: str, agent_id: str,
              agent_name: Optional[str], brand: Optional[str], notes: list[str], automatic: bool,
              held_for: Optional[list[str]] = None) -> "Message":
        """A reply as the agent (or the desk, `automatic`) queued it: not attempted yet; with
        `held_for` (the approval rules it met), stored `pending_approval` and not queued."""
        return cls.model_validate({
            "id": message_id, "ticket_id": ticket_id, "direction": "out", "platform": platform, "kind": kind,
            "text": text, "visibility": visibility, "target": target, "template_id": template_id,
            "status": "pending_approval" if held_for else "queued", "attempts": 0, "created_at": created_at,
            "agent_id": agent_id, "author": {"id": agent_id, "name": agent_name or agent_id}, "brand": brand,
            "notes": list(notes) or None, "automatic": automatic or None,
            "approval": {"status": "pending", "reasons": list(held_for), "submitted_at": created_at}
            if held_for else None})

    @classmethod
    def note(cls, message_id: str, *, ticket_id: str, created_at: str, agent_id: str, agent_name: Optional[str],
             text: str) -> "Message":
        return cls._by_agent(message_id, "note", ticket_id, created_at, agent_id, agent_name, {"text": text})

    @classmethod
    def event(cls, message_id: str, *, ticket_id: str, created_at: str, agent_id: str, agent_name: Optional[str],
              action: str, changes: Mapping[str, Any]) -> "Message":
        return cls._by_agent(message_id, "event", ticket_id, created_at, agent_id, agent_name,
                             {"action": action, "changes": dict(changes)})

    @classmethod
    def _by_agent(cls, message_id: str, direction: str, ticket_id: str, created_at: str, agent_id: str,
                  agent_name: Optional[str], fields: dict) -> "Message":
        return cls.model_validate({"id": message_id, "ticket_id": ticket_id, "direction": direction,
                                   "created_at": created_at, "agent_id": agent_id,
                                   "author": {"id": agent_id, "name": agent_name or agent_id}, **fields})

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> "Message":
        return cls.model_validate(item)

    def to_item(self) -> dict:
        """The stored attributes (no keys); absent values are left out, as the desk always stored them."""
        return self.model_dump(exclude_none=True)

    def changed(self, changes: Mapping[str, Any]) -> "Message":
        """This message with `changes` applied (a None removes; the store's keys are ignored)."""
        return type(self).from_item({k: v for k, v in {**self.to_item(), **changes}.items() if v is not None})


@dataclass(frozen=True)
class ReplyCondition:
    """When a reply may change: the outbound state machine's conditional writes, named rather than
    written as a database expression (the store turns it into one; `holds` is the same rule in
    Python). Build one with the class methods."""

    statuses: tuple[str, ...] = ()
    token: Optional[str] = None  # and the attempt is this one
    lease_expired_at: Optional[str] = None  # or `sending` under a lease that ran out before then
    rank_below: Optional[int] = None  # a delivery receipt: only forward

    @classmethod
    def status_in(cls, *statuses: str) -> "ReplyCondition":
        return cls(statuses=statuses)

    @classmethod
    def held(cls, token: str) -> "ReplyCondition":
        """Still `sending` by the attempt that claimed it."""
        return cls(statuses=("sending",), token=token)

    @classmethod
    def claimable(cls, now_iso: str) -> "ReplyCondition":
        """Waiting to be sent, or `sending` by a worker whose lease ran out."""
        return cls(statuses=("queued", "retrying", "unconfirmed"), lease_expired_at=now_iso)

    @classmethod
    def delivery_before(cls, rank: int) -> "ReplyCondition":
        return cls(rank_below=rank)

    def holds(self, reply: Message) -> bool:
        if self.rank_below is not None:
            return reply.delivery_rank is None or reply.delivery_rank < self.rank_below
        if reply.status in self.statuses and (self.token is None or reply.attempt_token == self.token):
            return True
        return bool(self.lease_expired_at and reply.status == "sending" and reply.lease_until is not None
                    and reply.lease_until < self.lease_expired_at)


class Receipt(BaseModel):
    """A platform's delivery status of one of our sent messages (its platform id), kept as it came:
    one per status and time, whatever order receipts arrive in (receipts that came before the worker
    wrote `sent` are applied from these)."""

    model_config = ConfigDict(extra="ignore")  # the table's keys (PK, SK) are the store's business

    platform: str
    external_id: str
    status: str
    at: str
    recipient_id: Optional[str] = None
    errors: list[dict] = []
    brand_account_id: Optional[str] = None
    callback_data: Optional[str] = None

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> "Receipt":
        return cls.model_validate(item)

    def to_item(self) -> dict:
        return self.model_dump(exclude_none=True)
