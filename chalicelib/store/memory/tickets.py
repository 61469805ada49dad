"""The in-memory TicketStore (see the package docstring)."""
from __future__ import annotations

import copy
import threading
from typing import Any, Iterator, Mapping, Optional

from chalicelib.aggregates.ticket import Ticket
from chalicelib.errors import ConcurrentUpdate, NotFound
from chalicelib.store import keys
from chalicelib.store.memory.items import apply, clean, matches


class MemoryTicketStore:
    """Tickets as their items (attributes and inbox index keys, `{ticket id: item}`), shared with
    the agent twin (assignment, release, load moves) and the message twin (which records inbound
    messages' effect on them and keeps the timelines, `{ticket id: {sort key: item}}`)."""

    def __init__(self, tickets: Optional[dict[str, dict]] = None, timelines: Optional[dict[str, dict]] = None,
                 lock: Optional[threading.RLock] = None):
        self.tickets: dict[str, dict] = {} if tickets is None else tickets
        self.timelines: dict[str, dict[str, dict]] = {} if timelines is None else timelines
        self.conversations: dict[str, str] = {}
        self._lock = lock or threading.RLock()

    def _read(self, ticket_id: str) -> Optional[Ticket]:
        item = self.tickets.get(ticket_id)
        return None if item is None else Ticket.from_item(copy.deepcopy(item))

    def open_for(self, conversation_key: str, new: Ticket) -> tuple[Ticket, bool]:
        with self._lock:
            current = self._read(self.conversations.get(conversation_key, ""))
            if current is not None and current.status != "closed":
                return current, False
            if current is not None and current.assignee:
                new = new.model_copy(update={"previous_assignee": current.assignee})
            self.tickets[new.id] = clean(new.to_item())
            self.conversations[conversation_key] = new.id
            return new.model_copy(deep=True), True

    def get(self, ticket_id: str) -> Optional[Ticket]:
        with self._lock:
            return self._read(ticket_id)

    def by_conversation(self, conversation_key: str) -> Optional[Ticket]:
        with self._lock:
            return self._read(self.conversations.get(conversation_key, ""))

    def update(self, ticket_id: str, expected_version: int, changes: Mapping[str, Any]) -> Ticket:
        with self._lock:
            item = self.tickets.get(ticket_id)
            if item is None or item.get("version") != expected_version:
                raise ConcurrentUpdate(ticket_id)
            apply(item, changes)
            item["version"] = expected_version + 1
            return self._read(ticket_id)

    def inbox(self, status: str, limit: int, cursor: Optional[dict] = None,
              filters: Optional[Mapping[str, Any]] = None) -> tuple[list[Ticket], Optional[dict]]:
        with self._lock:
            after = (cursor or {}).get("GSI1SK", "")
            ordered = sorted((i for i in self.tickets.values()
                              if i.get("GSI1PK") == keys.inbox_partition(status) and i["GSI1SK"] > after),
                             key=lambda i: i["GSI1SK"])
            found: list[dict] = []
            for index, item in enumerate(ordered):
                if matches(item, filters or {}):
                    found.append(item)
                if len(found) == limit:
                    rest = index < len(ordered) - 1
                    return ([Ticket.from_item(copy.deepcopy(i)) for i in found],
                            keys.inbox_position({**keys.ticket(item["id"]), **item}) if rest else None)
            return [Ticket.from_item(copy.deepcopy(i)) for i in found], None

    def inbox_all(self, status: str, filters: Optional[Mapping[str, Any]] = None) -> Iterator[Ticket]:
        cursor = None
        while True:
            page, cursor = self.inbox(status, 100, cursor, filters)
            yield from page
            if not cursor:
                return

    def inbox_count(self, status: str) -> int:
        with self._lock:
            return sum(1 for i in self.tickets.values() if i.get("GSI1PK") == keys.inbox_partition(status))

    def assigned_to(self, agent_id: str, status: str = "open") -> list[Ticket]:
        return list(self.inbox_all(status, {"assignee": agent_id}))

    def waiting(self, limit: int) -> list[Ticket]:
        return self.inbox("open", limit, None, {"assignee": "none"})[0]

    def set_sla_due(self, ticket: Ticket, due_iso: str) -> None:
        with self._lock:
            item = self._existing(ticket.id)
            item.update(sla_due_at=due_iso,
                        GSI1SK=keys.inbox_index(ticket.status, ticket.priority, due_iso, ticket.id)["GSI1SK"])

    def rate(self, ticket_id: str, score: int, comment: Optional[str], at_iso: str) -> None:
        with self._lock:
            item = self.tickets.get(ticket_id)
            if item is None or "csat" in item:
                raise ValueError("this ticket was rated already")
            apply(item, {"csat": score, "csat_at": at_iso, "csat_comment": comment or None})

    def claim_offhours_ack(self, ticket_id: str, at_iso: str) -> None:
        with self._lock:
            item = self.tickets.get(ticket_id)
            if item is None or "offhours_ack_at" in item:
                raise ConcurrentUpdate(ticket_id)
            item["offhours_ack_at"] = at_iso

    def mark_waiting(self, ticket_id: str, since_iso: str) -> None:
        with self._lock:
            self._existing(ticket_id).setdefault("waiting_since", since_iso)

    def set_customer(self, ticket_ids: list[str], customer_id: str) -> None:
        with self._lock:
            for ticket_id in ticket_ids:
                self._existing(ticket_id)["customer_id"] = customer_id

    def redact(self, ticket_id: str, erased: str) -> int:
        with self._lock:
            count = 0
            for message in self.timelines.get(ticket_id, {}).values():
                if message.get("direction") == "in":
                    apply(message, {"text": erased, "author": {"id": erased}, "attachments": None,
                                     "headers": None, "subject": None})
                    count += 1
            apply(self._existing(ticket_id), {"last_message_preview": erased, "search_text": erased,
                                               "subject": None})
            return count

    def _existing(self, ticket_id: str) -> dict:
        item = self.tickets.get(ticket_id)
        if item is None:  # the table refuses the conditional write (attribute_exists)
            raise NotFound(ticket_id)
        return item
