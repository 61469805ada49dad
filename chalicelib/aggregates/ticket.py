"""The Ticket aggregate: one conversation that needs care, whatever its channel.

A ticket is built in one place: `Ticket.opened` (the ingest worker meets a conversation with no
open ticket) or `Ticket.from_item` (read back from the store). The stored item is `to_item()`
plus the keys of store/keys.py (the ticket's key, and the inbox index `GSI1PK`/`GSI1SK`, which
the store and the writers of changes set), the same shape the desk has always stored, so
existing items read as they are; what a ticket never had stays absent. A ticket changes by
conditional updates named as a dict of changes (a None removes), never by a put of the whole.
Imports pydantic only.
"""
from __future__ import annotations

from typing import Any, Literal, Mapping, Optional

from pydantic import BaseModel, ConfigDict

Status = Literal["open", "pending", "on_hold", "closed"]
STATUSES: tuple[str, ...] = ("open", "pending", "on_hold", "closed")
HELD_STATUSES: tuple[str, ...] = tuple(s for s in STATUSES if s != "closed")  # in its holder's load until closed


class Ticket(BaseModel):
    """A ticket as stored. Identity and channel (`id`, `brand`, `channel`, `kind`,
    `brand_account_id`, `conversation_key`, `opened_by`, `customer_id`), its state (`status`,
    `priority`, `assignee`, `tags`, `topic`, `team`, `version`), what it was told (the latest
    inbound: `last_inbound_at`, `last_message_preview`, `search_text`, `classification`), its SLA
    clocks (ingest, replies, the sweeper) and how it ended."""

    model_config = ConfigDict(extra="ignore")  # the table's keys (PK, SK, GSI1*) are the store's business

    id: str
    brand: Optional[str] = None
    channel: Optional[str] = None
    kind: Optional[str] = None
    brand_account_id: Optional[str] = None
    conversation_key: Optional[str] = None
    opened_by: Optional[str] = None
    customer_id: Optional[str] = None
    status: Status = "open"
    priority: int = 0
    version: int = 0
    message_count: Optional[int] = None
    created_at: Optional[str] = None
    updated_at: Optional[str] = None
    visibility: Optional[str] = None
    language: Optional[str] = None
    topic: Optional[str] = None
    subject: Optional[str] = None
    team: Optional[str] = None
    tags: Optional[list[str]] = None
    # the latest inbound and what the classifier and the priority rules said
    first_inbound_at: Optional[str] = None
    last_inbound_at: Optional[str] = None
    last_message_preview: Optional[str] = None
    search_text: Optional[str] = None  # what the inbox's text search reads (never shown)
    customer_name: Optional[str] = None  # who wrote the latest message, as the inbox row shows them
    classification: Optional[dict] = None
    priority_factors: Optional[list[dict]] = None
    priority_overridden_by: Optional[str] = None
    # who holds it
    assignee: Optional[str] = None
    previous_assignee: Optional[str] = None
    waiting_since: Optional[str] = None
    # the SLA clocks (chalicelib/sla.py) and the sweeper's marks
    sla_band: Optional[str] = None
    first_response_due_at: Optional[str] = None
    resolution_due_at: Optional[str] = None
    next_response_minutes: Optional[int] = None
    next_response_due_at: Optional[str] = None
    sla_due_at: Optional[str] = None
    paused_at: Optional[str] = None
    sla_warned_for: Optional[str] = None
    sla_breached_for: Optional[str] = None
    escalated_at: Optional[str] = None
    offhours_ack_at: Optional[str] = None
    # responses and the end
    first_response_at: Optional[str] = None
    first_response_by: Optional[str] = None
    last_outbound_at: Optional[str] = None
    closed_at: Optional[str] = None
    done_without_reply: Optional[bool] = None
    done_reason: Optional[str] = None
    csat: Optional[int] = None
    csat_at: Optional[str] = None
    csat_comment: Optional[str] = None
    csat_source: Optional[str] = None  # "customer" (a survey answer) or "supervisor"
    survey_sent_at: Optional[str] = None  # the one CSAT survey was queued (chalicelib/surveys.py)

    @classmethod
    def opened(cls, ticket_id: str, *, channel: str, kind: str, brand: Optional[str], brand_account_id: str,
               conversation_key: str, opened_by: str, customer_id: str, now_iso: str, first_inbound_at: str,
               clocks: Mapping[str, Any], visibility: str, language: Optional[str], topic: Optional[str],
               subject: Optional[str], team: Optional[str] = None) -> "Ticket":
        """A new conversation's ticket, before its first message is recorded: open, priority 0,
        version 0, no messages yet; `clocks` are the SLA due times (sla.clocks)."""
        return cls.model_validate({
            "id": ticket_id, "channel": channel, "kind": kind, "brand_account_id": brand_account_id,
            "conversation_key": conversation_key, "status": "open", "priority": 0, "version": 0,
            "message_count": 0, "opened_by": opened_by, "customer_id": customer_id, "created_at": now_iso,
            "updated_at": now_iso, "first_inbound_at": first_inbound_at, **clocks, "visibility": visibility,
            "language": language, "topic": topic, "subject": subject, "brand": brand, "team": team})

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> "Ticket":
        return cls.model_validate(item)

    def to_item(self) -> dict:
        """The stored attributes (no keys); absent values are left out, as the desk always stored them."""
        return self.model_dump(exclude_none=True)

    def changed(self, changes: Mapping[str, Any]) -> "Ticket":
        """This ticket with `changes` applied (a None removes; the store's keys are ignored) and its
        version one up: what a conditional update leaves in the table."""
        item = {k: v for k, v in {**self.to_item(), **changes}.items() if v is not None}
        return type(self).from_item({**item, "version": self.version + 1})

    @property
    def answered(self) -> bool:
        """Our word is the latest: an agent has responded, and a reply went out at or after the
        customer's last message (an automatic acknowledgement alone is no answer). The inbox puts
        such a ticket below the unanswered ones of its priority (keys.inbox_index)."""
        return answered(self.first_response_at, self.last_outbound_at, self.last_inbound_at)

    @property
    def holder(self) -> Optional[str]:
        """Who holds it for their load: the assignee while it is not closed."""
        return self.assignee if self.assignee and self.status != "closed" else None


def answered(first_response_at: Optional[str], last_outbound_at: Optional[str], last_inbound_at: Optional[str]) -> bool:
    """`Ticket.answered` from the three times it reads: also of a ticket as a change will leave it
    (a follow-up, a first response) and of the migration's plain items, without a Ticket made for it."""
    return bool(first_response_at) and bool(last_outbound_at) and last_outbound_at >= (last_inbound_at or "")
