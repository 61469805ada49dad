"""The in-memory TicketStore (see the package docstring)."""
from __future__ import annotations

import copy
import threading
from typing import Any, Iterator, Mapping, Optional, Sequence

from chalicelib.aggregates.ticket import HELD_STATUSES, Ticket
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
            self.tickets[new.id] = clean({**new.to_item(), **keys.new_ticket_keys(
                new.id, new.brand, new.status, new.priority, new.sla_due_at,
                None if new.assignee else new.waiting_since)})
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
            apply(item, {**changes, **keys.ticket_index_changes(ticket_id, changes)})
            item["version"] = expected_version + 1
            return self._read(ticket_id)

    def brands(self) -> list[Optional[str]]:
        with self._lock:
            return list(dict.fromkeys(keys.brand_of_entry(keys.brand_entry(i.get("brand"))["SK"])
                                      for i in self.tickets.values()))

    def inbox(self, status: str, *, brands: Optional[Sequence[str]] = None,
              filters: Optional[Mapping[str, Any]] = None, limit: int = 25,
              cursor: Optional[dict] = None) -> tuple[list[Ticket], Optional[dict]]:
        """The shards of the brands asked for, merged in GSI1SK order, each from where the cursor
        left it (the table's merge, without its read limits)."""
        if brands is not None and not brands:
            return [], None
        with self._lock:
            wanted = self.brands() if brands is None else list(dict.fromkeys(brands))
            parts = [p for brand in wanted for p in keys.inbox_partitions(brand)]
            after = dict((cursor or {}).get("after") or {})
            low, high = keys.inbox_range(status)
            ordered = sorted(
                (i["GSI1SK"], i.get("GSI1PK")) for i in self.tickets.values()
                if i.get("GSI1PK") in parts and low <= i.get("GSI1SK", "") <= high
                and not (i["GSI1PK"] in after and (after[i["GSI1PK"]] is None or i["GSI1SK"] <= after[i["GSI1PK"]]))
                and matches(self.tickets[keys.inbox_ticket_id(i["GSI1SK"])], filters or {}))
            page = ordered[:limit]
            tickets = [self._read(keys.inbox_ticket_id(sk)) for sk, _ in page]
            if len(ordered) <= limit:
                return tickets, None
            last = page[-1][0]
            position = {part: (last if any(p == part for _, p in ordered[limit:]) else None)
                        for part in parts if not (part in after and after[part] is None)}
            return tickets, {"status": status, "after": {**after, **position}}

    def inbox_all(self, status: str, filters: Optional[Mapping[str, Any]] = None, *,
                  brands: Optional[Sequence[str]] = None) -> Iterator[Ticket]:
        cursor = None
        while True:
            page, cursor = self.inbox(status, brands=brands, filters=filters, limit=100, cursor=cursor)
            yield from page
            if not cursor:
                return

    def inbox_count(self, status: str, *, brands: Optional[Sequence[str]] = None) -> int:
        return sum(1 for _ in self.inbox_all(status, brands=brands))

    def assigned_to(self, agent_id: str, status: str = "open") -> list[Ticket]:
        with self._lock:
            low, high = keys.inbox_range(status)
            mine = sorted(i["GSI1SK"] for i in self.tickets.values()
                          if i.get("assignee") == agent_id and low <= i.get("GSI1SK", "") <= high)
            return [self._read(keys.inbox_ticket_id(sk)) for sk in mine]

    def held_count(self, agent_id: str) -> int:
        with self._lock:
            return sum(1 for i in self.tickets.values()
                       if i.get("assignee") == agent_id and i.get("status") in HELD_STATUSES)

    def waiting(self, limit: int, *, brands: Optional[Sequence[str]] = None) -> list[Ticket]:
        return self.inbox("open", brands=brands, filters={"assignee": "none"}, limit=limit)[0]

    def due_between(self, first_minute: str, last_minute: str) -> list[Ticket]:
        return self._bucketed("GSI2", keys.due_partitions, first_minute, last_minute)

    def redrives_between(self, first_minute: str, last_minute: str) -> list[Ticket]:
        return self._bucketed("GSI3", keys.redrive_partitions, first_minute, last_minute)

    def _bucketed(self, index: str, partitions, first_minute: str, last_minute: str) -> list[Ticket]:
        with self._lock:
            parts = {p for bucket in keys.minutes_between(first_minute, last_minute) for p in partitions(bucket)}
            found = sorted(i[f"{index}SK"] for i in self.tickets.values() if i.get(f"{index}PK") in parts)
            return [self._read(keys.index_ticket_id(sk)) for sk in found]

    def redrive_later(self, ticket: Ticket, at_iso: str) -> None:
        with self._lock:
            item = self.tickets.get(ticket.id)
            if item is not None and "assignee" not in item:
                item.update(keys.redrive_index(at_iso, ticket.id))

    def set_sla_due(self, ticket: Ticket, due_iso: str) -> None:
        with self._lock:
            item = self._existing(ticket.id)
            item.update(keys.sla_due(ticket.status, ticket.priority, due_iso, ticket.id, ticket.answered))

    def rate(self, ticket_id: str, score: int, comment: Optional[str], at_iso: str,
             source: Optional[str] = None) -> None:
        with self._lock:
            item = self.tickets.get(ticket_id)
            if item is None or "csat" in item:
                raise ValueError("this ticket was rated already")
            apply(item, {"csat": score, "csat_at": at_iso, "csat_comment": comment or None, "csat_source": source})

    def mark_survey(self, ticket_id: str, at_iso: str) -> None:
        with self._lock:
            item = self.tickets.get(ticket_id)
            if item is None or "survey_sent_at" in item:
                raise ConcurrentUpdate(ticket_id)
            item["survey_sent_at"] = at_iso

    def claim_offhours_ack(self, ticket_id: str, at_iso: str) -> None:
        with self._lock:
            item = self.tickets.get(ticket_id)
            if item is None or "offhours_ack_at" in item:
                raise ConcurrentUpdate(ticket_id)
            item["offhours_ack_at"] = at_iso

    def mark_waiting(self, ticket_id: str, since_iso: str) -> None:
        with self._lock:
            item = self._existing(ticket_id)
            item.setdefault("waiting_since", since_iso)
            if not item.get("assignee") and not item.get("GSI3PK"):
                item.update(keys.redrive_index(keys.later(since_iso, keys.REDRIVE_AFTER), ticket_id))

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
