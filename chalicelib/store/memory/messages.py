"""The in-memory MessageStore (see the package docstring)."""
from __future__ import annotations

import copy
from datetime import datetime
from typing import Any, Mapping, Optional

from chalicelib.aggregates.message import Message, Receipt, ReplyCondition
from chalicelib.aggregates.ticket import Ticket
from chalicelib.errors import ConcurrentUpdate, DuplicateEvent
from chalicelib.store import keys
from chalicelib.store.memory.items import apply, clean
from chalicelib.store.memory.tickets import MemoryTicketStore
from chalicelib.store.ports import IN_FLIGHT_WINDOW


class MemoryMessageStore:
    """Timelines shared with the ticket twin; dedupe records, reply keys, sent pointers and delivery
    receipts (`{(platform, platform id): {sort key: item}}`) of its own; the customers' touchpoints
    shared with the customer twin (`{customer id: [item]}`)."""

    def __init__(self, tickets: MemoryTicketStore, touchpoints: Optional[dict[str, list[dict]]] = None):
        self.tickets = tickets
        self.timelines = tickets.timelines
        self.touchpoints: dict[str, list[dict]] = {} if touchpoints is None else touchpoints
        self.dedupe: dict[str, dict] = {}
        self.reply_keys: dict[tuple[str, str], str] = {}
        self.pointers: dict[tuple[str, str], tuple[str, str]] = {}
        self.receipts: dict[tuple[str, str], dict[str, dict]] = {}
        self._lock = tickets._lock

    def seen(self, dedupe_key: str) -> Optional[dict]:
        with self._lock:
            return copy.deepcopy(self.dedupe.get(dedupe_key))

    def record_opening(self, conversation_key: str, ticket: Ticket, message: Message, customer_id: str,
                       replaces: Optional[str]) -> bool:
        with self._lock:  # as the table: pointer, ticket (if new), message and touchpoint
            pointer = self.tickets.conversations.get(conversation_key)
            if pointer not in (None, ticket.id, replaces) or (pointer is None and replaces is not None):
                raise ConcurrentUpdate(conversation_key)
            self.tickets.conversations[conversation_key] = ticket.id
            created = ticket.id not in self.tickets.tickets
            if created:
                self.tickets.tickets[ticket.id] = clean({**ticket.to_item(), **keys.new_ticket_keys(
                    ticket.id, ticket.brand, ticket.status, ticket.priority, ticket.sla_due_at,
                    None if ticket.assignee else ticket.waiting_since)})
            self.timelines.setdefault(ticket.id, {})[keys.message_sk(message.created_at, message.id)] = \
                clean(message.to_item())
            self._touch(customer_id, message.created_at, message, ticket.id, "in", {})
            return created

    def claim(self, dedupe_key: str, ticket_id: str, message_id: str, now: datetime) -> None:
        with self._lock:
            if dedupe_key in self.dedupe:
                raise DuplicateEvent(dedupe_key)
            self.dedupe[dedupe_key] = {"ticket_id": ticket_id, "message_id": message_id}

    def record_inbound(self, ticket: Ticket, message: Message, dedupe_key: str, customer_id: str,
                       ticket_changes: Mapping[str, Any], now: datetime) -> None:
        with self._lock:
            # as the table: the message and the touchpoint first (a retry rewrites them), then the
            # claim and the ticket's count together
            self.timelines.setdefault(ticket.id, {})[keys.message_sk(message.created_at, message.id)] = \
                clean(message.to_item())
            self._touch(customer_id, message.created_at, message, ticket.id, "in", {})
            if dedupe_key in self.dedupe:
                raise DuplicateEvent(dedupe_key)
            item = self.tickets.tickets.get(ticket.id)
            if item is None or item.get("version") != ticket.version:
                raise ConcurrentUpdate(ticket.id)
            self.dedupe[dedupe_key] = {"ticket_id": ticket.id, "message_id": message.id}
            changes = {**ticket_changes, "updated_at": now.isoformat()}
            apply(item, {**changes, **keys.ticket_index_changes(ticket.id, changes)})
            item.update(version=ticket.version + 1, message_count=item.get("message_count", 0) + 1)

    def _touch(self, customer_id: str, at: str, message: Message, ticket_id: str, direction: str,
               also: dict) -> None:
        sort_key = keys.touchpoint(customer_id, at, message.id)["SK"]  # one item a key, as the table's
        self.touchpoints[customer_id] = [t for t in self.touchpoints.get(customer_id, []) if t["SK"] != sort_key]
        self.touchpoints.setdefault(customer_id, []).append(clean({
            **keys.touchpoint(customer_id, at, message.id), "ticket_id": ticket_id, "message_id": message.id,
            "channel": message.platform, "kind": message.kind, "direction": direction, "at": at, **also}))

    def timeline(self, ticket_id: str, latest: Optional[int] = None) -> list[Message]:
        with self._lock:
            mine = self.timelines.get(ticket_id, {})
            ordered = sorted(mine)
            wanted = ordered if latest is None else ordered[max(len(ordered) - latest, 0):]
            return [Message.from_item(copy.deepcopy(mine[sk])) for sk in wanted]

    def get(self, ticket_id: str, message_id: str) -> Optional[Message]:
        return next((m for m in self.timeline(ticket_id) if m.id == message_id), None)

    def put(self, message: Message) -> None:
        with self._lock:
            self.timelines.setdefault(message.ticket_id, {})[keys.message_sk(message.created_at, message.id)] = \
                clean(message.to_item())

    def put_reply(self, reply: Message, idempotency_key: Optional[str] = None) -> tuple[Message, bool]:
        with self._lock:
            if idempotency_key and (reply.ticket_id, idempotency_key) in self.reply_keys:
                first = self.reply(reply.ticket_id, self.reply_keys[(reply.ticket_id, idempotency_key)])
                return first, False
            sort_key = keys.message_sk(reply.created_at, reply.id)
            self.timelines.setdefault(reply.ticket_id, {})[sort_key] = clean(
                {**reply.to_item(), **keys.outbound_in_flight(reply.created_at, reply.id)})
            if idempotency_key:
                self.reply_keys[(reply.ticket_id, idempotency_key)] = sort_key
            return reply.model_copy(deep=True), True

    def reply(self, ticket_id: str, message_sk: str) -> Optional[Message]:
        with self._lock:
            item = self.timelines.get(ticket_id, {}).get(message_sk)
            return None if item is None else Message.from_item(copy.deepcopy(item))

    def update_reply(self, reply: Message, changes: Mapping[str, Any], when: ReplyCondition) -> Message:
        with self._lock:
            item = self.timelines.get(reply.ticket_id, {}).get(keys.message_sk(reply.created_at, reply.id))
            if item is None or not when.holds(Message.from_item(item)):
                raise ConcurrentUpdate(reply.id)
            apply(item, changes)
            return Message.from_item(copy.deepcopy(item))

    def in_flight(self, created_before_iso: str, since_iso: Optional[str] = None) -> list[Message]:
        before = datetime.fromisoformat(created_before_iso)
        since = since_iso or (before - IN_FLIGHT_WINDOW).isoformat()
        with self._lock:
            parts = {p for bucket in keys.minutes_between(keys.minute(since), keys.minute(created_before_iso))
                     for p in keys.in_flight_partitions(bucket)}
            found = [i for timeline in self.timelines.values() for i in timeline.values()
                     if i.get("GSI2PK") in parts and i["GSI2SK"] < created_before_iso]
            return [Message.from_item(copy.deepcopy(i)) for i in sorted(found, key=lambda i: i["GSI2SK"])]

    def by_platform_id(self, platform: str, platform_id: str) -> Optional[Message]:
        with self._lock:
            pointer = self.pointers.get((platform, platform_id))
            return None if pointer is None else self.reply(*pointer)

    def record_sent(self, reply: Message, customer_id: Optional[str], ticket: Optional[Ticket] = None) -> bool:
        with self._lock:
            self.pointers[(reply.platform, reply.platform_message_id)] = (
                reply.ticket_id, keys.message_sk(reply.created_at, reply.id))
            read, ticket = ticket, self.tickets.tickets.get(reply.ticket_id)
            first = False
            if ticket is not None:
                if not reply.automatic and "first_response_at" not in ticket:
                    ticket.update(first_response_at=reply.sent_at, first_response_by=reply.agent_id or "")
                    first = True
                    due = ticket.get("resolution_due_at") if read is not None and ticket["status"] != "closed" \
                        else None
                    if due:  # first response met: resolution is next, placed by its status and priority now
                        ticket.update(keys.sla_due(ticket["status"], ticket["priority"], due, read.id))
                if "last_outbound_at" not in ticket or ticket["last_outbound_at"] < reply.sent_at:
                    ticket["last_outbound_at"] = reply.sent_at
                if not reply.automatic and "GSI1SK" in ticket:  # answered: below the unanswered of its priority
                    now = Ticket.from_item(ticket)
                    ticket.update(keys.inbox_index(now.status, now.priority, now.sla_due_at or "", now.id, now.answered))
            if customer_id:
                sk = keys.touchpoint(customer_id, reply.sent_at, reply.id)["SK"]
                self.touchpoints[customer_id] = [t for t in self.touchpoints.get(customer_id, []) if t["SK"] != sk]
                self._touch(customer_id, reply.sent_at, reply, reply.ticket_id, "out", {"agent_id": reply.agent_id})
            return first

    def record_delivery_status(self, receipt: Receipt) -> None:
        with self._lock:
            sort_key = keys.delivery_status(receipt.platform, receipt.external_id, receipt.at, receipt.status)["SK"]
            self.receipts.setdefault((receipt.platform, receipt.external_id), {})[sort_key] = clean(receipt.to_item())

    def delivery_statuses(self, platform: str, external_id: str) -> list[Receipt]:
        with self._lock:
            mine = self.receipts.get((platform, external_id), {})
            return [Receipt.from_item(copy.deepcopy(mine[sk])) for sk in sorted(mine)]
