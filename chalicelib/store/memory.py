"""In-memory twins of the store ports, for fast use-case tests (and nothing Lambda runs).

Each honours its port's semantics as the DynamoDB implementation does, conditions and races
included: a lock stands in for DynamoDB's conditional writes and transactions, so threads racing
here lose the same way they lose against the table. `tests/contract/` runs one suite against both.
Values are copied in and out, as a table would, so a caller never holds the stored object.
"""
from __future__ import annotations

import copy
import threading
import uuid
from datetime import datetime
from typing import Any, Iterator, Mapping, Optional

from chalicelib.aggregates.account import Account
from chalicelib.aggregates.agent import PERFORMANCE_WEIGHT, Agent, Measure, Performance, Status
from chalicelib.aggregates.customer import (Customer, CustomerEvent, CustomerHistory, Identity, Merge, Moved,
                                              check_changes, refreshed_fields)
from chalicelib.aggregates.message import Message, Receipt, ReplyCondition
from chalicelib.aggregates.team import Team
from chalicelib.aggregates.ticket import Ticket
from chalicelib.errors import AgentUnavailable, ConcurrentUpdate, DuplicateEvent, NotFound, TicketChanged
from chalicelib.store import keys
from chalicelib.store.ports import ROSTER_LIMIT


class MemoryAgentStore:
    """Agents in a dict. Assignment and release also change the ticket, so the store is given the
    tickets it shares with the rest of an in-memory desk (`{ticket id: ticket dict}`)."""

    def __init__(self, tickets: Optional[dict[str, dict]] = None, lock: Optional[threading.RLock] = None):
        self.agents: dict[str, Agent] = {}
        self.tickets: dict[str, dict] = {} if tickets is None else tickets
        self._lock = lock or threading.RLock()

    def get(self, agent_id: str) -> Optional[Agent]:
        with self._lock:
            agent = self.agents.get(agent_id)
            return None if agent is None else agent.model_copy(deep=True)

    def put(self, agent: Agent) -> None:
        with self._lock:
            self.agents[agent.id] = Agent.from_item(agent.to_item())

    def delete(self, agent_id: str) -> bool:
        with self._lock:
            return self.agents.pop(agent_id, None) is not None

    def all(self, limit: int = ROSTER_LIMIT) -> list[Agent]:
        with self._lock:
            return [self.agents[k].model_copy(deep=True) for k in sorted(self.agents)[:limit]]

    def set_status(self, agent_id: str, status: Status, at_iso: str) -> None:
        with self._lock:
            agent = self.agents.get(agent_id)
            if agent is None:
                raise NotFound(f"agent {agent_id}")
            self.agents[agent_id] = agent.model_copy(update={"status": status, "status_changed_at": at_iso})

    def record_performance(self, agent_id: str, measure: Measure, value: float,
                           weight: float = PERFORMANCE_WEIGHT) -> None:
        with self._lock:
            agent = self.agents.get(agent_id)
            if agent is None:
                return
            folded = (agent.performance or Performance()).folded(measure, value, weight)
            self.agents[agent_id] = agent.model_copy(update={"performance": folded})

    def assign_within_capacity(self, ticket_id: str, expected_version: int, agent_id: str) -> None:
        with self._lock:
            ticket = self.tickets.get(ticket_id)
            if ticket is None or ticket.get("assignee") or ticket.get("version") != expected_version:
                raise TicketChanged(f"ticket {ticket_id} changed")
            agent = self.agents.get(agent_id)
            if agent is None or not agent.takes_work():
                raise AgentUnavailable(f"agent {agent_id} is full or away")
            self.agents[agent_id] = agent.model_copy(update={"load": agent.load + 1})
            ticket.pop("waiting_since", None)
            ticket.update(assignee=agent_id, version=expected_version + 1)

    def release(self, ticket_id: str, expected_version: int, agent_id: str, since_iso: str) -> None:
        with self._lock:
            ticket = self.tickets.get(ticket_id)
            agent = self.agents.get(agent_id)
            if (ticket is None or ticket.get("assignee") != agent_id or ticket.get("version") != expected_version
                    or agent is None or agent.load <= 0):
                raise TicketChanged(f"ticket {ticket_id} changed")
            self.agents[agent_id] = agent.model_copy(update={"load": agent.load - 1})
            ticket.pop("assignee")
            ticket.update(previous_assignee=agent_id, waiting_since=since_iso, version=expected_version + 1)

    def move_load(self, ticket_id: str, expected_version: int, changes: Mapping[str, Any],
                  load: Mapping[str, int]) -> Ticket:
        with self._lock:
            ticket = self.tickets.get(ticket_id)
            if ticket is None or ticket.get("version") != expected_version:
                raise ConcurrentUpdate(ticket_id)
            for agent_id, delta in load.items():
                agent = self.agents.get(agent_id)
                if agent is None or (delta < 0 and agent.load <= 0):
                    continue  # dropped, as the table's conditions drop it
                self.agents[agent_id] = agent.model_copy(update={"load": agent.load + delta})
            _apply(ticket, changes)
            ticket["version"] = expected_version + 1
            return Ticket.from_item(copy.deepcopy(ticket))


class MemoryAccountStore:
    """Accounts in a dict keyed by (platform, account id)."""

    def __init__(self):
        self.accounts: dict[tuple[str, str], Account] = {}
        self._lock = threading.Lock()

    def get(self, platform: str, account_id: str) -> Optional[Account]:
        with self._lock:
            account = self.accounts.get((platform, account_id))
            return None if account is None else account.model_copy(deep=True)

    def put(self, account: Account) -> None:
        with self._lock:
            self.accounts[(account.platform, account.account_id)] = Account.from_item(account.to_item())

    def all(self, platform: Optional[str] = None) -> list[Account]:
        with self._lock:  # the table's order: by sort key, "<platform>#<id>"
            chosen = [k for k in self.accounts if platform is None or k[0] == platform]
            return [self.accounts[k].model_copy(deep=True) for k in sorted(chosen, key=lambda k: f"{k[0]}#{k[1]}")]

    def discover(self, platform: str, account_id: str, at: datetime) -> bool:
        with self._lock:
            if (platform, account_id) in self.accounts:
                return False
            self.accounts[(platform, account_id)] = Account.discovered(platform, account_id, at)
            return True

    def update(self, platform: str, account_id: str, changes: Mapping[str, Any]) -> Account:
        with self._lock:
            account = self.accounts.get((platform, account_id))
            if account is None:
                Account(platform=platform, account_id=account_id).patched(changes)  # the same refusal first
                raise NotFound(f"account {platform}/{account_id}")
            self.accounts[(platform, account_id)] = account.patched(changes)
            return self.accounts[(platform, account_id)].model_copy(deep=True)


class MemoryTeamStore:
    """Teams in a dict keyed by id."""

    def __init__(self):
        self.teams: dict[str, Team] = {}
        self._lock = threading.Lock()

    def get(self, team_id: str) -> Optional[Team]:
        with self._lock:
            team = self.teams.get(team_id)
            return None if team is None else team.model_copy(deep=True)

    def put(self, team: Team) -> None:
        with self._lock:
            self.teams[team.id] = Team.from_item(team.to_item())

    def delete(self, team_id: str) -> bool:
        with self._lock:
            return self.teams.pop(team_id, None) is not None

    def all(self) -> list[Team]:
        with self._lock:
            return [self.teams[k].model_copy(deep=True) for k in sorted(self.teams)]


class MemoryCustomerStore:
    """Profiles by customer id; identity pointers and each customer's identities by (platform,
    user id); touchpoints as their stored items (`{customer id: [item]}`, written by the message
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
                mine = self.identities.get(found.customer_id, {}).get(name)
                if mine is not None:
                    self.identities[found.customer_id][name] = mine.model_copy(update=refreshed_fields(author))
                return found.customer_id
            customer_id = str(uuid.uuid4())
            identity = Identity.of_author(platform, author, customer_id)
            self.pointers[name] = identity
            self.customers[customer_id] = Customer.first_seen(customer_id, author, now)
            self.identities.setdefault(customer_id, {})[name] = identity.model_copy(update={"linked_at": now.isoformat()})
            return customer_id

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
                customer=found, identities=[mine[k] for k in sorted(mine, key=lambda k: f"{k[0]}#{k[1]}")],
                touchpoints=sorted(self.touchpoints.get(customer_id, []), key=lambda t: t["SK"])
            ).model_copy(deep=True)

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
            self.event_items.setdefault(customer_id, {})[sort_key] = _clean(event.to_item())

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
            self.merges.setdefault(merge.survivor_id, {})[merge.id] = _clean(merge.to_item())

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


def _clean(value: Any) -> Any:
    """What the table keeps of a value: a deep copy without the Nones (DynamoDB stores no null
    attribute where the desk writes one)."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def _apply(item: dict, changes: Mapping[str, Any]) -> None:
    """An update expression's effect: each change set, a None removed."""
    for name, value in changes.items():
        if value is None:
            item.pop(name, None)
        else:
            item[name] = _clean(value)


def _matches(ticket: dict, filters: Mapping[str, Any]) -> bool:
    """The inbox's FilterExpression (store/tickets.py inbox_filter) in Python."""
    for name in ("channel", "assignee", "team", "topic", "language"):
        if name in filters:
            if name == "assignee" and filters[name] == "none":
                if "assignee" in ticket:
                    return False
            elif ticket.get(name) != filters[name]:
                return False
    priority = ticket.get("priority")
    if "priority_min" in filters and (priority is None or priority < filters["priority_min"]):
        return False
    if "priority_max" in filters and (priority is None or priority > filters["priority_max"]):
        return False
    if "sentiment" in filters and (ticket.get("classification") or {}).get("sentiment") != filters["sentiment"]:
        return False
    return "q" not in filters or filters["q"].lower() in (ticket.get("search_text") or "")


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
            self.tickets[new.id] = _clean(new.to_item())
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
            _apply(item, changes)
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
                if _matches(item, filters or {}):
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
            _apply(item, {"csat": score, "csat_at": at_iso, "csat_comment": comment or None})

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
                    _apply(message, {"text": erased, "author": {"id": erased}, "attachments": None,
                                     "headers": None, "subject": None})
                    count += 1
            _apply(self._existing(ticket_id), {"last_message_preview": erased, "search_text": erased,
                                               "subject": None})
            return count

    def _existing(self, ticket_id: str) -> dict:
        item = self.tickets.get(ticket_id)
        if item is None:  # the table refuses the conditional write (attribute_exists)
            raise NotFound(ticket_id)
        return item


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

    def mark_routed(self, dedupe_key: str) -> None:
        with self._lock:
            self.dedupe.setdefault(dedupe_key, {})["routed"] = True

    def record_inbound(self, ticket: Ticket, message: Message, dedupe_key: str, customer_id: str,
                       ticket_changes: Mapping[str, Any], now: datetime) -> None:
        with self._lock:
            if dedupe_key in self.dedupe:
                raise DuplicateEvent(dedupe_key)
            item = self.tickets.tickets.get(ticket.id)
            if item is None or item.get("version") != ticket.version:
                raise ConcurrentUpdate(ticket.id)
            self.dedupe[dedupe_key] = {"ticket_id": ticket.id, "message_id": message.id, "routed": False}
            self.timelines.setdefault(ticket.id, {})[keys.message_sk(message.created_at, message.id)] = \
                _clean(message.to_item())
            _apply(item, {**ticket_changes, "updated_at": now.isoformat()})
            item.update(version=ticket.version + 1, message_count=item.get("message_count", 0) + 1)
            self._touch(customer_id, message.created_at, message, ticket.id, "in", {})

    def _touch(self, customer_id: str, at: str, message: Message, ticket_id: str, direction: str,
               also: dict) -> None:
        self.touchpoints.setdefault(customer_id, []).append(_clean({
            **keys.touchpoint(customer_id, at, message.id), "ticket_id": ticket_id, "message_id": message.id,
            "channel": message.platform, "kind": message.kind, "direction": direction, "at": at, **also}))

    def timeline(self, ticket_id: str) -> list[Message]:
        with self._lock:
            mine = self.timelines.get(ticket_id, {})
            return [Message.from_item(copy.deepcopy(mine[sk])) for sk in sorted(mine)]

    def get(self, ticket_id: str, message_id: str) -> Optional[Message]:
        return next((m for m in self.timeline(ticket_id) if m.id == message_id), None)

    def put(self, message: Message) -> None:
        with self._lock:
            self.timelines.setdefault(message.ticket_id, {})[keys.message_sk(message.created_at, message.id)] = \
                _clean(message.to_item())

    def put_reply(self, reply: Message, idempotency_key: Optional[str] = None) -> tuple[Message, bool]:
        with self._lock:
            if idempotency_key and (reply.ticket_id, idempotency_key) in self.reply_keys:
                first = self.reply(reply.ticket_id, self.reply_keys[(reply.ticket_id, idempotency_key)])
                return first, False
            sort_key = keys.message_sk(reply.created_at, reply.id)
            self.timelines.setdefault(reply.ticket_id, {})[sort_key] = _clean(
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
            _apply(item, changes)
            return Message.from_item(copy.deepcopy(item))

    def in_flight(self, created_before_iso: str) -> list[Message]:
        with self._lock:
            found = [i for timeline in self.timelines.values() for i in timeline.values()
                     if i.get("GSI1PK") == keys.IN_FLIGHT_PK and i["GSI1SK"] < created_before_iso]
            return [Message.from_item(copy.deepcopy(i)) for i in sorted(found, key=lambda i: i["GSI1SK"])]

    def by_platform_id(self, platform: str, platform_id: str) -> Optional[Message]:
        with self._lock:
            pointer = self.pointers.get((platform, platform_id))
            return None if pointer is None else self.reply(*pointer)

    def record_sent(self, reply: Message, customer_id: Optional[str]) -> bool:
        with self._lock:
            self.pointers[(reply.platform, reply.platform_message_id)] = (
                reply.ticket_id, keys.message_sk(reply.created_at, reply.id))
            ticket = self.tickets.tickets.get(reply.ticket_id)
            first = False
            if ticket is not None:
                if not reply.automatic and "first_response_at" not in ticket:
                    ticket.update(first_response_at=reply.sent_at, first_response_by=reply.agent_id or "")
                    first = True
                if "last_outbound_at" not in ticket or ticket["last_outbound_at"] < reply.sent_at:
                    ticket["last_outbound_at"] = reply.sent_at
            if customer_id:
                sk = keys.touchpoint(customer_id, reply.sent_at, reply.id)["SK"]
                self.touchpoints[customer_id] = [t for t in self.touchpoints.get(customer_id, []) if t["SK"] != sk]
                self._touch(customer_id, reply.sent_at, reply, reply.ticket_id, "out", {"agent_id": reply.agent_id})
            return first

    def record_delivery_status(self, receipt: Receipt) -> None:
        with self._lock:
            sort_key = keys.delivery_status(receipt.platform, receipt.external_id, receipt.at, receipt.status)["SK"]
            self.receipts.setdefault((receipt.platform, receipt.external_id), {})[sort_key] = _clean(receipt.to_item())

    def delivery_statuses(self, platform: str, external_id: str) -> list[Receipt]:
        with self._lock:
            mine = self.receipts.get((platform, external_id), {})
            return [Receipt.from_item(copy.deepcopy(mine[sk])) for sk in sorted(mine)]


class MemoryStore:
    """The in-memory twin of DynamoStore's ports, one desk's state shared between them (a ticket's
    assignment moves an agent's load; an inbound message moves its ticket and touches its
    customer), for use-case tests."""

    def __init__(self):
        lock = threading.RLock()
        self.tickets = MemoryTicketStore(lock=lock)
        self.agents = MemoryAgentStore(self.tickets.tickets, lock=lock)
        self.customers = MemoryCustomerStore()
        self.messages = MemoryMessageStore(self.tickets, self.customers.touchpoints)
        self.accounts = MemoryAccountStore()
        self.teams = MemoryTeamStore()
