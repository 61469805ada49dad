"""The in-memory CustomerStore (see the package docstring)."""
from __future__ import annotations

import copy
import threading
import uuid
from datetime import datetime
from typing import Any, Mapping, Optional

from chalicelib.aggregates.customer import (Customer, CustomerEvent, CustomerHistory, Identity, Merge, Moved,
                                              GENERATIONS, changed_fields, check_changes, first_sight_id)
from chalicelib.errors import ConcurrentUpdate, NotFound
from chalicelib.store import keys
from chalicelib.store.memory.items import clean


class MemoryCustomerStore:
    """Profiles by customer id; identity pointers (with the names and reach as last seen, which
    `history` shows) and each customer's identities (as linked) by (platform, user id); touchpoints as their stored items (`{customer id: [item]}`, written by the message
    twin with the message); imported events as their items by sort key (`event_items`, `{customer
    id: {sort key: item}}`) and merge records by id in the survivor's (`merges`). CRM records are still DynamoStore's, so a
    test that needs erasure to forget them puts them in `crm` itself (`{(platform, key): record}`)."""

    def __init__(self):
        self.customers: dict[str, Customer] = {}
        self.pointers: dict[tuple[str, str], Identity] = {}
        self.identities: dict[str, dict[tuple[str, str], Identity]] = {}
        self.touchpoints: dict[str, list[dict]] = {}
        self.event_items: dict[str, dict[str, dict]] = {}
        self.merges: dict[str, dict[str, dict]] = {}
        self.crm: dict[tuple[str, str], dict] = {}
        self._lock = threading.RLock()

    def link(self, platform: str, author: Mapping[str, Any], now: datetime) -> str:
        with self._lock:
            name = (platform, author["id"])
            found = self.pointers.get(name)
            if found:
                changed = changed_fields(author, found.to_item())
                if changed:  # the table's refresh updates the pointer alone, and only for a change
                    self.pointers[name] = found.model_copy(update=changed)
                    profile = self.customers.get(found.customer_id)
                    if changed.get("name") and profile is not None and profile.name == author["id"]:
                        # the profile was first seen by id alone: the name the platform gave since
                        self.customers[found.customer_id] = profile.model_copy(update={"name": changed["name"]})
                return found.customer_id
            for generation in range(GENERATIONS):  # as the table's: a profile that is gone is skipped
                customer_id = first_sight_id(platform, author["id"], generation)
                there = self.customers.get(customer_id)
                if there is None or not there.gone:
                    break
            else:
                customer_id, there = str(uuid.uuid4()), None
            identity = Identity.of_author(platform, author, customer_id)
            if there is None:
                self.customers[customer_id] = Customer.first_seen(customer_id, author, now)
                self.identities.setdefault(customer_id, {})[name] = identity.model_copy(
                    update={"linked_at": now.isoformat()})
            self.pointers[name] = identity
            return customer_id

    def name_asked(self, platform: str, user_id: str, now: datetime) -> None:
        with self._lock:
            found = self.pointers.get((platform, user_id))
            if found is not None:
                self.pointers[(platform, user_id)] = found.model_copy(update={"name_asked_at": now.isoformat()})

    def identity(self, platform: str, user_id: str) -> Optional[Identity]:
        with self._lock:
            found = self.pointers.get((platform, user_id))
            return None if found is None else found.model_copy(deep=True)

    def customer_of(self, platform: str, user_id: str) -> Optional[str]:
        with self._lock:
            found = self.pointers.get((platform, user_id))
            return None if found is None else found.customer_id

    def get(self, customer_id: str) -> Optional[Customer]:
        with self._lock:
            found = self.customers.get(customer_id)
            return None if found is None else found.model_copy(deep=True)

    def history(self, customer_id: str) -> CustomerHistory:
        with self._lock:
            found = self.customers.get(customer_id)
            if found is None:
                raise NotFound(customer_id)
            mine = self.identities.get(customer_id, {})
            # the table's order: by sort key, "IDENTITY#<platform>#<user id>", "TOUCH#<iso>#<id>"
            return CustomerHistory(
                customer=found, identities=[
                    mine[k].refreshed_from(p.to_item() if (p := self.pointers.get(k)) else None)
                    for k in sorted(mine, key=lambda k: f"{k[0]}#{k[1]}")],
                touchpoints=sorted(self.touchpoints.get(customer_id, []), key=lambda t: t["SK"])
            ).model_copy(deep=True)

    def profile(self, customer_id: str) -> CustomerHistory:
        return self.history(customer_id).model_copy(update={"touchpoints": []})

    def latest_touchpoints(self, customer_id: str, before: Optional[str], limit: int) -> tuple[list[dict], Optional[str]]:
        with self._lock:
            older = sorted((t for t in self.touchpoints.get(customer_id, []) if before is None or t["SK"] < before),
                           key=lambda t: t["SK"], reverse=True)[:limit]
            return copy.deepcopy(older), (older[-1]["SK"] if len(older) == limit else None)

    def update(self, customer_id: str, expected_version: int, changes: Mapping[str, Any]) -> None:
        check_changes(changes)
        with self._lock:
            found = self.customers.get(customer_id)
            if found is None or found.current_version != expected_version:
                raise ConcurrentUpdate(customer_id)
            self.customers[customer_id] = found.changed(changes)

    def count_touchpoints(self, customer_id: str, since_iso: str) -> int:
        _, low, high = keys.touchpoints_between(customer_id, since_iso)
        with self._lock:
            return sum(1 for t in self.touchpoints.get(customer_id, []) if low <= t["SK"] <= high)

    def events(self, customer_id: str) -> list[CustomerEvent]:
        with self._lock:
            mine = self.event_items.get(customer_id, {})
            return [CustomerEvent.from_item(copy.deepcopy(mine[sk])) for sk in sorted(mine)]

    def put_event(self, customer_id: str, event: CustomerEvent) -> None:
        with self._lock:
            sort_key = keys.customer_event(customer_id, event.at, event.id)["SK"]
            self.event_items.setdefault(customer_id, {})[sort_key] = clean(event.to_item())

    def moving(self, customer_id: str) -> Moved:
        with self._lock:
            mine = self.identities.get(customer_id, {})
            touchpoints = sorted(self.touchpoints.get(customer_id, []), key=lambda t: t["SK"])
            return Moved(identities=sorted(mine, key=lambda k: f"{k[0]}#{k[1]}"),
                         touchpoints=[t["SK"] for t in touchpoints],
                         events=sorted(self.event_items.get(customer_id, {})),
                         tickets=sorted({t["ticket_id"] for t in touchpoints if t.get("ticket_id")}))

    def move(self, from_id: str, to_id: str, moved: Moved) -> None:
        with self._lock:
            for name in map(tuple, moved.identities):
                identity = self.identities.get(from_id, {}).pop(name, None)
                if identity is not None:
                    self.identities.setdefault(to_id, {})[name] = identity.model_copy(update={"customer_id": to_id})
            for sort_key in moved.touchpoints:
                found = [t for t in self.touchpoints.get(from_id, []) if t["SK"] == sort_key]
                for touch in found:
                    self.touchpoints[from_id].remove(touch)
                    moved_touch = {**touch, **keys.customer_item(to_id, sort_key)}
                    if "customer_id" in touch:
                        moved_touch["customer_id"] = to_id
                    self.touchpoints.setdefault(to_id, []).append(moved_touch)
            for sort_key in moved.events:
                event = self.event_items.get(from_id, {}).pop(sort_key, None)
                if event is not None:
                    self.event_items.setdefault(to_id, {})[sort_key] = event
            for platform, user_id in moved.identities:  # the table's update makes a pointer it misses
                pointer = self.pointers.get((platform, user_id))
                self.pointers[(platform, user_id)] = (
                    Identity(platform=platform, user_id=user_id, customer_id=to_id) if pointer is None
                    else pointer.model_copy(update={"customer_id": to_id}))

    def put_merge(self, merge: Merge) -> None:
        with self._lock:
            self.merges.setdefault(merge.survivor_id, {})[merge.id] = clean(merge.to_item())

    def get_merge(self, survivor_id: str, merge_id: str) -> Optional[Merge]:
        with self._lock:
            item = self.merges.get(survivor_id, {}).get(merge_id)
            return None if item is None else Merge.from_item(copy.deepcopy(item))

    def mark_merge_undone(self, survivor_id: str, merge_id: str, agent_id: str, at_iso: str) -> None:
        with self._lock:
            item = self.merges.setdefault(survivor_id, {}).setdefault(merge_id, {})  # as the table's update
            if "undone_at" in item:
                raise ConcurrentUpdate(f"merge {merge_id} was undone already")
            item.update(undone_at=at_iso, undone_by=agent_id)

    def erase(self, customer_id: str, identities: list[tuple[str, str]], crm_records: list[tuple[str, str]],
              erased_at: str, erased_by: str) -> None:
        with self._lock:
            for record in crm_records:
                self.crm.pop(tuple(record), None)
            for name in map(tuple, identities):
                self.pointers.pop(name, None)
                self.identities.get(customer_id, {}).pop(name, None)
            self.event_items.pop(customer_id, None)
            found = self.customers.get(customer_id)
            if found is not None:  # (the table's update would leave a bare item; the use case reads the profile first)
                self.customers[customer_id] = found.model_copy(update={
                    "name": "[erased]", "erased_at": erased_at, "erased_by": erased_by, "identity_count": 0,
                    "tags": None, "note": None, "vip": None})
