"""DynamoDB persistence of tickets, messages, customers, accounts and quarantine.

Given its table (a boto3 Table resource), so tests hand it a moto table. Every write that can
race is conditional; `ClientError` codes become the typed errors of chalicelib.errors.
Keys come from keys.py only. Agents, accounts, teams and customer profiles live behind their ports
(`self.agents`, store/agents.py; `self.accounts`, store/accounts.py; `self.teams`, store/teams.py;
`self.customers`, store/customers.py); their methods left here only delegate to them, for callers
not yet moved.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Iterator, Optional

from botocore.exceptions import ClientError

from chalicelib.aggregates.account import Account
from chalicelib.aggregates.agent import Agent
from chalicelib.aggregates.team import Team
from chalicelib.errors import ConcurrentUpdate, DuplicateEvent
from chalicelib.store import keys
from chalicelib.store.accounts import DynamoAccountStore
from chalicelib.store.agents import DynamoAgentStore
from chalicelib.store.customers import DynamoCustomerStore
from chalicelib.store.teams import DynamoTeamStore
from chalicelib.store.items import cancel_reasons as _cancel_reasons
from chalicelib.store.items import conditional_failed as _conditional_failed
from chalicelib.store.items import dynamo, partition, plain
from chalicelib.store.items import update_expression as _changes

DEDUPE_RETENTION = timedelta(days=30)  # platforms retry for up to 7 days (WhatsApp); keep 30


def _inbox_filter(filters: dict, kwargs: dict) -> str:
    """A FilterExpression for the inbox query; values and names added to `kwargs`."""
    names: dict = {}
    values = kwargs["ExpressionAttributeValues"]
    parts = []
    simple = {"channel": "channel", "assignee": "assignee", "team": "team", "topic": "topic", "language": "language"}
    for key, attribute in simple.items():
        if key in filters:
            if key == "assignee" and filters[key] == "none":
                names["#assignee"] = "assignee"
                parts.append("attribute_not_exists(#assignee)")
                continue
            names[f"#{attribute}"] = attribute
            values[f":{key}"] = filters[key]
            parts.append(f"#{attribute} = :{key}")
    if "priority_min" in filters:
        values[":pmin"] = filters["priority_min"]
        parts.append("priority >= :pmin")
    if "priority_max" in filters:
        values[":pmax"] = filters["priority_max"]
        parts.append("priority <= :pmax")
    if "sentiment" in filters:
        names.update({"#c": "classification", "#s": "sentiment"})
        values[":sentiment"] = filters["sentiment"]
        parts.append("#c.#s = :sentiment")
    if "q" in filters:
        names["#search"] = "search_text"
        values[":q"] = filters["q"].lower()
        parts.append("contains(#search, :q)")
    if names:
        kwargs["ExpressionAttributeNames"] = names
    return " AND ".join(parts)


class DynamoStore:
    def __init__(self, table: Any):
        self.table = table
        # The resource's client serialises plain Python values itself, transactions included.
        self.client = table.meta.client
        self.name = table.name
        self.agents = DynamoAgentStore(table)  # the AgentStore port; the agent methods below delegate to it
        self.accounts = DynamoAccountStore(table)  # the AccountStore port; put/get_account delegate to it
        self.teams = DynamoTeamStore(table)  # the TeamStore port; put_team delegates to it
        self.customers = DynamoCustomerStore(table)  # the CustomerStore port (profile, identities)

    # -- dedupe ----------------------------------------------------------------------------
    def get_dedupe(self, dedupe_key: str) -> Optional[dict]:
        return plain(self.table.get_item(Key=keys.dedupe(dedupe_key), ConsistentRead=True).get("Item"))

    def mark_routed(self, dedupe_key: str) -> None:
        self.table.update_item(Key=keys.dedupe(dedupe_key), UpdateExpression="SET routed = :t",
                               ExpressionAttributeValues={":t": True})

    # -- brand accounts: thin dict-shaped delegates to `self.accounts` (store/accounts.py) for the
    # callers not yet moved to the port (tests, the local stack's seeding, templates and replies);
    # new code uses `store.accounts`. The poller's cursors share the accounts' partition.
    def put_account(self, platform: str, account_id: str, **attrs) -> None:
        self.accounts.put(Account.from_item({k: v for k, v in attrs.items() if v is not None}
                                            | {"platform": platform, "account_id": account_id}))

    def get_account(self, platform: str, account_id: str) -> Optional[dict]:
        found = self.accounts.get(platform, account_id)
        return None if found is None else found.to_item()

    def get_cursor(self, platform: str, account_id: str) -> dict:
        return plain(self.table.get_item(Key=keys.poll_cursor(platform, account_id),
                                         ConsistentRead=True).get("Item")) or {}

    def save_cursor(self, platform: str, account_id: str, **attrs) -> None:
        self.table.put_item(Item=dynamo({**keys.poll_cursor(platform, account_id), **attrs}))

    # -- customers: the profile and identities are behind `self.customers` (store/customers.py);
    # link_customer, customer_history, update_customer and customer_of are thin dict-shaped
    # delegates for the callers not yet moved (merge, undo, erase, event import, off-hours,
    # templates, tests). Touchpoints, events, merges and erasure are still here.
    def link_customer(self, platform: str, author: dict, now: datetime) -> str:
        """One customer per platform identity; returns its id, creating it on first sight."""
        return self.customers.link(platform, author, now)

    def customer_history(self, customer_id: str) -> dict:
        """The profile item with its identities and touchpoints, keys included, as stored."""
        history = self.customers.history(customer_id)
        return {**keys.customer(customer_id), **history.customer.to_item(),
                "identities": [{**keys.customer_identity(customer_id, i.platform, i.user_id), **i.to_item()}
                               for i in history.identities],
                "touchpoints": history.touchpoints}

    def customer_events(self, customer_id: str) -> list[dict]:
        return [plain(i) for i in self._query(*keys.customer_events(customer_id))]

    def put_customer_event(self, customer_id: str, event: dict) -> None:
        self.table.put_item(Item=dynamo({**keys.customer_event(customer_id, event["at"], event["id"]), **event}))

    def update_customer(self, customer_id: str, expected_version: int, changes: dict) -> None:
        """Optimistic profile change (a profile never edited is at version 0); None removes."""
        self.customers.update(customer_id, expected_version, changes)

    def move_customer_items(self, from_id: str, to_id: str, moved: dict) -> None:
        """Identities, touchpoints and events from one profile partition to another; identity
        pointers follow. Each item is written to its new home before the old one is deleted."""
        old_keys = ([keys.customer_identity(from_id, p, u) for p, u in moved["identities"]]
                    + [keys.customer_item(from_id, sk) for sk in [*moved["touchpoints"], *moved["events"]]])
        for old in old_keys:
            item = self.table.get_item(Key=old, ConsistentRead=True).get("Item")
            if item is None:
                continue
            if "customer_id" in item:
                item["customer_id"] = to_id
            self.table.put_item(Item={**item, **keys.customer_item(to_id, old["SK"])})
            self.table.delete_item(Key=old)
        for platform, user_id in moved["identities"]:
            self.table.update_item(Key=keys.identity(platform, user_id), UpdateExpression="SET customer_id = :c",
                                   ExpressionAttributeValues={":c": to_id})

    def set_ticket_customers(self, ticket_ids: list[str], customer_id: str) -> None:
        for ticket_id in ticket_ids:
            self.table.update_item(Key=keys.ticket(ticket_id), UpdateExpression="SET customer_id = :c",
                                   ConditionExpression="attribute_exists(PK)",
                                   ExpressionAttributeValues={":c": customer_id})

    def put_merge(self, record: dict) -> None:
        self.table.put_item(Item=dynamo({**keys.customer_merge(record["survivor_id"], record["id"]), **record}))

    def get_merge(self, survivor_id: str, merge_id: str) -> Optional[dict]:
        return plain(self.table.get_item(Key=keys.customer_merge(survivor_id, merge_id),
                                         ConsistentRead=True).get("Item"))

    def mark_merge_undone(self, survivor_id: str, merge_id: str, agent_id: str, at_iso: str) -> None:
        self.table.update_item(Key=keys.customer_merge(survivor_id, merge_id),
                               UpdateExpression="SET undone_at = :t, undone_by = :a",
                               ConditionExpression="attribute_not_exists(undone_at)",
                               ExpressionAttributeValues={":t": at_iso, ":a": agent_id})

    def redact_ticket(self, ticket_id: str, erased: str) -> int:
        """The customer's words and identity out of a ticket; times, channel and verdicts stay."""
        count = 0
        for message in self._query(*keys.ticket_messages(ticket_id)):
            if message.get("direction") != "in":
                continue
            self.table.update_item(
                Key={"PK": message["PK"], "SK": message["SK"]},
                UpdateExpression="SET #t = :e, author = :a REMOVE attachments, headers, subject",
                ExpressionAttributeNames={"#t": "text"}, ExpressionAttributeValues={":e": erased, ":a": {"id": erased}})
            count += 1
        self.table.update_item(Key=keys.ticket(ticket_id),
                               UpdateExpression="SET last_message_preview = :e, search_text = :e REMOVE subject",
                               ConditionExpression="attribute_exists(PK)", ExpressionAttributeValues={":e": erased})
        return count

    def delete_crm(self, platform: str, key: str) -> None:
        self.table.delete_item(Key=keys.crm(platform, key))

    def erase_customer(self, customer_id: str, identities: list[tuple[str, str]], meta: dict) -> None:
        for platform, user_id in identities:
            self.table.delete_item(Key=keys.identity(platform, user_id))
            self.table.delete_item(Key=keys.customer_identity(customer_id, platform, user_id))
        for event in self.customer_events(customer_id):
            self.table.delete_item(Key={"PK": event["PK"], "SK": event["SK"]})
        self.table.update_item(
            Key=keys.customer(customer_id),
            UpdateExpression="SET #n = :e, erased_at = :t, erased_by = :b, identity_count = :zero "
                             "REMOVE tags, note, vip",
            ExpressionAttributeNames={"#n": "name"},
            ExpressionAttributeValues={":e": "[erased]", ":t": meta["erased_at"], ":b": meta["erased_by"], ":zero": 0})

    # -- tickets ---------------------------------------------------------------------------
    def open_ticket_for(self, conversation_key: str, new_ticket: dict) -> tuple[dict, bool]:
        """The open ticket of a conversation, or `new_ticket` stored as it. (ticket, created).

        The conversation pointer is written in the same transaction as the ticket, on the
        condition that it is absent or still points at the closed ticket we saw: two workers
        racing on one conversation make one ticket.
        """
        for _ in range(5):
            pointer = self.table.get_item(Key=keys.conversation(conversation_key), ConsistentRead=True).get("Item")
            if pointer:
                current = self.get_ticket(pointer["ticket_id"])
                if current and current["status"] != "closed":
                    return current, False
                condition = {"ConditionExpression": "ticket_id = :old",
                             "ExpressionAttributeValues": dynamo({":old": pointer["ticket_id"]})}
                if current and current.get("assignee"):  # the customer is back: their agent first
                    new_ticket = {**new_ticket, "previous_assignee": current["assignee"]}
            else:
                condition = {"ConditionExpression": "attribute_not_exists(PK)"}
            try:
                self.client.transact_write_items(TransactItems=[
                    {"Put": {"TableName": self.name, "ConditionExpression": "attribute_not_exists(PK)",
                             "Item": dynamo({**keys.ticket(new_ticket["id"]), **new_ticket})}},
                    {"Put": {"TableName": self.name, **condition, "Item": dynamo({
                        **keys.conversation(conversation_key), "ticket_id": new_ticket["id"]})}},
                ])
                return new_ticket, True
            except ClientError as err:
                if not _conditional_failed(err):
                    raise
        raise ConcurrentUpdate(f"conversation {conversation_key} kept changing")

    def get_ticket(self, ticket_id: str) -> Optional[dict]:
        return plain(self.table.get_item(Key=keys.ticket(ticket_id), ConsistentRead=True).get("Item"))

    def record_inbound(self, ticket: dict, message: dict, dedupe_key: str, customer_id: str,
                       ticket_changes: dict, now: datetime) -> None:
        """Store one inbound message and its effect on the ticket, atomically and once.

        Raises DuplicateEvent when the platform id was already recorded (a retry racing us),
        ConcurrentUpdate when the ticket changed since it was read (caller re-reads, retries).
        """
        created_iso = message["created_at"]
        changes = {**ticket_changes, "updated_at": now.isoformat()}
        names = {f"#{k}": k for k in changes}
        values = {f":{k}": v for k, v in changes.items()}
        expr = ("SET " + ", ".join(f"#{k} = :{k}" for k in changes)
                + ", version = version + :one ADD message_count :one")
        items = [
            {"Put": {"TableName": self.name, "ConditionExpression": "attribute_not_exists(PK)",
                     "Item": dynamo({**keys.dedupe(dedupe_key), "ticket_id": ticket["id"],
                                        "message_id": message["id"], "routed": False,
                                        "expires_at": int((now + DEDUPE_RETENTION).timestamp())})}},
            {"Put": {"TableName": self.name, "Item": dynamo({
                **keys.message(ticket["id"], created_iso, message["id"]), **message})}},
            {"Update": {"TableName": self.name, "Key": dynamo(keys.ticket(ticket["id"])),
                        "UpdateExpression": expr, "ConditionExpression": "version = :v",
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": dynamo({**values, ":one": 1, ":v": ticket["version"]})}},
            {"Put": {"TableName": self.name, "Item": dynamo({
                **keys.touchpoint(customer_id, created_iso, message["id"]), "ticket_id": ticket["id"],
                "message_id": message["id"], "channel": message["platform"], "kind": message["kind"],
                "direction": "in", "at": created_iso})}},
        ]
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as err:
            if not _conditional_failed(err):
                raise
            reasons = _cancel_reasons(err)
            if (reasons and reasons[0] == "ConditionalCheckFailed") or self.get_dedupe(dedupe_key):
                raise DuplicateEvent(dedupe_key) from err
            raise ConcurrentUpdate(ticket["id"]) from err

    def update_ticket(self, ticket_id: str, expected_version: int, changes: dict,
                      load: Optional[dict[str, int]] = None) -> dict:
        """Apply an agent's change if the ticket is still at `expected_version` (else ConcurrentUpdate);
        None values remove the attribute. Returns the ticket as it now is. `load` ({agent id: +1 | -1})
        moves agents' load in the same transaction, when the ticket changes hands."""
        expr, names, values = _changes(changes, "version = version + :one")
        if load:
            return self._update_ticket_and_load(ticket_id, expected_version, expr, names, values, load)
        return self._update_ticket_only(ticket_id, expected_version, expr, names, values)

    def _update_ticket_and_load(self, ticket_id: str, expected_version: int, expr: str, names: dict, values: dict,
                                load: dict[str, int]) -> dict:
        """The ticket update and the load moves in one transaction. Load never goes below zero and
        never lands on an agent record that does not exist (a deleted agent, a caller who is no
        agent): such a move is dropped and the rest written again; a stale ticket is ConcurrentUpdate."""
        moves = dict(load)
        while True:
            items = [{"Update": {"TableName": self.name, "Key": keys.ticket(ticket_id), "UpdateExpression": expr,
                                 "ConditionExpression": "version = :v", "ExpressionAttributeNames": names,
                                 "ExpressionAttributeValues": dynamo({**values, ":one": 1, ":v": expected_version})}}]
            for agent_id, delta in moves.items():
                condition = "#load > :zero" if delta < 0 else "attribute_exists(PK)"
                items.append({"Update": {"TableName": self.name, "Key": keys.agent(agent_id),
                                         "UpdateExpression": "ADD #load :d", "ConditionExpression": condition,
                                         "ExpressionAttributeNames": {"#load": "load"},
                                         "ExpressionAttributeValues": {":d": delta, **({":zero": 0} if delta < 0 else {})}}})
            try:
                self.client.transact_write_items(TransactItems=items)
                return self.get_ticket(ticket_id)
            except ClientError as err:
                if not _conditional_failed(err):
                    raise
                reasons = _cancel_reasons(err)
                if not reasons or reasons[0] == "ConditionalCheckFailed":
                    raise ConcurrentUpdate(ticket_id) from err
                failed = [a for a, r in zip(moves, reasons[1:]) if r == "ConditionalCheckFailed"]
                if not failed:
                    raise ConcurrentUpdate(ticket_id) from err
                moves = {a: d for a, d in moves.items() if a not in failed}
                if not moves:
                    return self._update_ticket_only(ticket_id, expected_version, expr, names, values)

    def _update_ticket_only(self, ticket_id: str, expected_version: int, expr: str, names: dict, values: dict) -> dict:
        try:
            answer = self.table.update_item(
                Key=keys.ticket(ticket_id), UpdateExpression=expr, ConditionExpression="version = :v",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=dynamo({**values, ":one": 1, ":v": expected_version}),
                ReturnValues="ALL_NEW")
        except ClientError as err:
            if _conditional_failed(err):
                raise ConcurrentUpdate(ticket_id) from err
            raise
        return plain(answer["Attributes"])

    def put_ticket_event(self, item: dict) -> None:
        """A note or an agent's action on the ticket's timeline (same partition as its messages)."""
        self.table.put_item(Item=dynamo({**keys.message(item["ticket_id"], item["created_at"], item["id"]), **item}))

    def messages(self, ticket_id: str) -> list[dict]:
        return [plain(i) for i in self._query(*keys.ticket_messages(ticket_id))]

    def all_tickets(self) -> Iterator[dict]:
        kwargs: dict = {"FilterExpression": "SK = :t", "ExpressionAttributeValues": {":t": keys.TICKET_SK}}
        while True:
            page = self.table.scan(**kwargs)
            for item in page.get("Items", []):
                yield plain(item)
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def inbox(self, status: str, limit: int, cursor: Optional[dict],
              filters: Optional[dict] = None) -> tuple[list[dict], Optional[dict]]:
        """One page of the inbox for `status` from GSI1 (priority, then SLA due), filtered.

        A filter is applied by DynamoDB after reading, so a page may read further than `limit`
        items to fill it; it stops after 10 reads and hands back the cursor.
        """
        kwargs: dict = {"IndexName": "GSI1", "KeyConditionExpression": "GSI1PK = :p",
                        "ExpressionAttributeValues": {":p": keys.inbox_partition(status)}}
        expression = _inbox_filter(filters or {}, kwargs)
        if expression:
            kwargs["FilterExpression"] = expression
        if cursor:
            kwargs["ExclusiveStartKey"] = cursor
        found: list[dict] = []
        for _ in range(10):
            kwargs["Limit"] = max(limit - len(found), 1) if not expression else max(limit * 2, 20)
            page = self.table.query(**kwargs)
            items, more = page.get("Items", []), page.get("LastEvaluatedKey")
            for index, item in enumerate(items):
                found.append(plain(item))
                if len(found) == limit:
                    rest = index < len(items) - 1 or more
                    return found, (keys.inbox_position(item) if rest else None)
            if not more:
                return found, None
            kwargs["ExclusiveStartKey"] = more
        return found, kwargs["ExclusiveStartKey"]

    def inbox_count(self, status: str) -> int:
        kwargs: dict = {"IndexName": "GSI1", "KeyConditionExpression": "GSI1PK = :p", "Select": "COUNT",
                        "ExpressionAttributeValues": {":p": keys.inbox_partition(status)}}
        total = 0
        while True:
            page = self.table.query(**kwargs)
            total += page["Count"]
            if "LastEvaluatedKey" not in page:
                return total
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # -- outbound messages (agents' replies) -----------------------------------------------
    def put_outbound(self, message: dict, idempotency_key: Optional[str] = None) -> tuple[dict, bool]:
        """Store a queued reply once. With an idempotency key, a repeat returns the first. (msg, new)"""
        ticket_id = message["ticket_id"]
        items = [{"Put": {"TableName": self.name, "ConditionExpression": "attribute_not_exists(PK)",
                          "Item": dynamo({**keys.message(ticket_id, message["created_at"], message["id"]),
                                          **message})}}]
        if idempotency_key:
            items.append({"Put": {"TableName": self.name, "ConditionExpression": "attribute_not_exists(PK)",
                                  "Item": {**keys.reply_key(ticket_id, idempotency_key), "message_id": message["id"],
                                           "message_sk": keys.message_sk(message["created_at"], message["id"])}}})
        try:
            self.client.transact_write_items(TransactItems=items)
            return message, True
        except ClientError as err:
            if not (_conditional_failed(err) and idempotency_key):
                raise
        first = self.table.get_item(Key=keys.reply_key(ticket_id, idempotency_key), ConsistentRead=True)["Item"]
        return self.get_outbound(ticket_id, first["message_sk"]), False

    def outbound_in_flight(self, created_before_iso: str) -> list[dict]:
        page = self.table.query(IndexName="GSI1", KeyConditionExpression="GSI1PK = :p AND GSI1SK < :b",
                                ExpressionAttributeValues={":p": keys.IN_FLIGHT_PK, ":b": created_before_iso})
        return [plain(i) for i in page.get("Items", [])]

    def get_outbound(self, ticket_id: str, message_sk: str) -> Optional[dict]:
        return plain(self.table.get_item(Key=keys.message_by_sk(ticket_id, message_sk),
                                         ConsistentRead=True).get("Item"))

    def update_outbound(self, message: dict, changes: dict, condition: str, values: dict) -> dict:
        """Conditionally change an outbound message; ConcurrentUpdate when the condition fails."""
        expr, names, setting = _changes(changes)
        names |= {"#status": "status"} if "#status" in condition else {}
        try:
            answer = self.table.update_item(
                Key=keys.message(message["ticket_id"], message["created_at"], message["id"]),
                UpdateExpression=expr, ConditionExpression=condition, ExpressionAttributeNames=names,
                ExpressionAttributeValues=dynamo({**setting, **values}),
                ReturnValues="ALL_NEW")
        except ClientError as err:
            if _conditional_failed(err):
                raise ConcurrentUpdate(message["id"]) from err
            raise
        return plain(answer["Attributes"])

    def record_sent(self, message: dict, customer_id: Optional[str]) -> bool:
        """After a reply was sent: find it by platform id, note the ticket's responses, touch the
        customer's history. Idempotent. True when this was the ticket's first response."""
        platform_id = message["platform_message_id"]
        self.table.put_item(Item=dynamo({**keys.outbound_pointer(message["platform"], platform_id),
                                         "ticket_id": message["ticket_id"], "message_id": message["id"],
                                         "message_sk": keys.message_sk(message["created_at"], message["id"])}))
        first = False if message.get("automatic") else self._set_if(  # an auto-acknowledgement is no response
            message["ticket_id"], "SET first_response_at = :t, first_response_by = :a",
            "attribute_not_exists(first_response_at)", {":t": message["sent_at"], ":a": message.get("agent_id") or ""})
        self._set_if(message["ticket_id"], "SET last_outbound_at = :t",
                     "attribute_not_exists(last_outbound_at) OR last_outbound_at < :t", {":t": message["sent_at"]})
        if customer_id:
            self.table.put_item(Item=dynamo({
                **keys.touchpoint(customer_id, message["sent_at"], message["id"]), "ticket_id": message["ticket_id"],
                "message_id": message["id"], "channel": message["platform"], "kind": message["kind"],
                "direction": "out", "at": message["sent_at"], "agent_id": message.get("agent_id")}))
        return first

    def _set_if(self, ticket_id: str, expression: str, condition: str, values: dict) -> bool:
        try:
            self.table.update_item(Key=keys.ticket(ticket_id), UpdateExpression=expression,
                                   ConditionExpression=f"attribute_exists(PK) AND ({condition})",
                                   ExpressionAttributeValues=values)
            return True
        except ClientError as err:
            if _conditional_failed(err):
                return False
            raise

    def outbound_by_platform_id(self, platform: str, platform_id: str) -> Optional[dict]:
        pointer = self.table.get_item(Key=keys.outbound_pointer(platform, platform_id)).get("Item")
        return self.get_outbound(pointer["ticket_id"], pointer["message_sk"]) if pointer else None

    def ticket_by_conversation(self, conversation_key: str) -> Optional[dict]:
        pointer = self.table.get_item(Key=keys.conversation(conversation_key)).get("Item")
        return self.get_ticket(pointer["ticket_id"]) if pointer else None

    # -- delivery statuses and quarantine --------------------------------------------------
    def record_delivery_status(self, platform: str, external_id: str, status: str, at_iso: str,
                               detail: dict) -> None:
        """Idempotent: the same status at the same time is one item."""
        self.table.put_item(Item=dynamo({**keys.delivery_status(platform, external_id, at_iso, status),
                                         "platform": platform, "external_id": external_id,
                                         "status": status, "at": at_iso, **detail}))

    def delivery_statuses(self, platform: str, external_id: str) -> list[dict]:
        return [plain(i) for i in self._query(*keys.delivery_statuses(platform, external_id))]

    def quarantine(self, item_id: str, received_iso: str, record: dict) -> None:
        self.table.put_item(Item=dynamo({**keys.quarantine(received_iso, item_id), "id": item_id,
                                         "received_at": received_iso, **record}))

    def quarantined(self) -> list[dict]:
        return [plain(i) for i in self._query(keys.QUARANTINE_PK, "")]

    # -- agents: thin dict-shaped delegates to `self.agents` (store/agents.py) for the callers not
    # yet moved to the port (tests, the local stack's seeding); new code uses `store.agents`.
    def put_agent(self, agent: dict) -> None:
        self.agents.put(Agent.from_item(agent))

    def get_agent(self, agent_id: str) -> Optional[dict]:
        found = self.agents.get(agent_id)
        return None if found is None else found.to_item()

    def delete_agent(self, agent_id: str) -> bool:
        return self.agents.delete(agent_id)

    def set_agent_status(self, agent_id: str, status: str, at_iso: str) -> None:
        self.agents.set_status(agent_id, status, at_iso)  # type: ignore[arg-type]

    def record_performance(self, agent_id: str, measure: str, value: float, weight: float = 0.2) -> None:
        self.agents.record_performance(agent_id, measure, value, weight)  # type: ignore[arg-type]

    def inbox_all(self, status: str, filters: Optional[dict] = None) -> Iterator[dict]:
        """Every ticket of one status from the inbox index, page after page."""
        cursor = None
        while True:
            page, cursor = self.inbox(status, 100, cursor, filters)
            yield from page
            if not cursor:
                return

    def assigned_to(self, agent_id: str, status: str = "open") -> list[dict]:
        return list(self.inbox_all(status, {"assignee": agent_id}))

    def waiting(self, limit: int) -> list[dict]:
        """Open tickets nobody has, highest priority first."""
        return self.inbox("open", limit, None, {"assignee": "none"})[0]

    def set_sla_due(self, ticket: dict, due_iso: str) -> None:
        """Move the ticket's next deadline (and its place in the inbox) without touching its version."""
        index = keys.inbox_index(ticket["status"], ticket.get("priority", 0), due_iso, ticket["id"])
        self.table.update_item(Key=keys.ticket(ticket["id"]), UpdateExpression="SET sla_due_at = :d, GSI1SK = :s",
                               ConditionExpression="attribute_exists(PK)",
                               ExpressionAttributeValues={":d": due_iso, ":s": index["GSI1SK"]})

    def set_csat(self, ticket_id: str, score: int, comment: Optional[str], at_iso: str) -> None:
        try:
            self.table.update_item(Key=keys.ticket(ticket_id), UpdateExpression="SET csat = :s, csat_at = :t"
                                   + (", csat_comment = :c" if comment else ""),
                                   ConditionExpression="attribute_exists(PK) AND attribute_not_exists(csat)",
                                   ExpressionAttributeValues={":s": score, ":t": at_iso,
                                                              **({":c": comment} if comment else {})})
        except ClientError as err:
            if _conditional_failed(err):
                raise ValueError("this ticket was rated already") from err
            raise

    def claim_offhours_ack(self, ticket_id: str, at_iso: str) -> None:
        try:
            self.table.update_item(Key=keys.ticket(ticket_id), UpdateExpression="SET offhours_ack_at = :t",
                                   ConditionExpression="attribute_exists(PK) AND attribute_not_exists(offhours_ack_at)",
                                   ExpressionAttributeValues={":t": at_iso})
        except ClientError as err:
            if _conditional_failed(err):
                raise ConcurrentUpdate(ticket_id) from err
            raise

    def mark_waiting(self, ticket_id: str, since_iso: str) -> None:
        self.table.update_item(Key=keys.ticket(ticket_id), UpdateExpression="SET waiting_since = if_not_exists("
                               "waiting_since, :t)", ConditionExpression="attribute_exists(PK)",
                               ExpressionAttributeValues={":t": since_iso})

    def count_touchpoints(self, customer_id: str, since_iso: str) -> int:
        from boto3.dynamodb.conditions import Key

        pk, low, high = keys.touchpoints_between(customer_id, since_iso)
        page = self.table.query(KeyConditionExpression=Key("PK").eq(pk) & Key("SK").between(low, high), Select="COUNT")
        return int(page["Count"])

    def customer_of(self, platform: str, user_id: str) -> Optional[str]:
        return self.customers.customer_of(platform, user_id)

    # -- priority rules --------------------------------------------------------------------
    def get_rules(self, brand: str) -> Optional[dict]:
        return plain(self.table.get_item(Key=keys.rules_current(brand)).get("Item"))

    def put_rules(self, brand: str, rules: dict, expected_version: int, author: str, now: datetime) -> int:
        """Store a new version; ConcurrentUpdate when someone else saved since `expected_version`."""
        version = expected_version + 1
        doc = {**rules, "version": version}
        meta = {"brand": brand, "saved_by": author, "saved_at": now.isoformat()}
        current = ({"ConditionExpression": "attribute_not_exists(PK)"} if expected_version == 0 else
                   {"ConditionExpression": "#r.version = :v", "ExpressionAttributeNames": {"#r": "rules"},
                    "ExpressionAttributeValues": {":v": expected_version}})
        try:
            self.client.transact_write_items(TransactItems=[
                {"Put": {"TableName": self.name, "ConditionExpression": "attribute_not_exists(PK)",
                         "Item": dynamo({**keys.rules_version(brand, version), "rules": doc, **meta})}},
                {"Put": {"TableName": self.name, **current,
                         "Item": dynamo({**keys.rules_current(brand), "rules": doc, **meta})}},
            ])
        except ClientError as err:
            if _conditional_failed(err):
                raise ConcurrentUpdate(f"rules of {brand} changed since version {expected_version}") from err
            raise
        return version

    def rules_history(self, brand: str) -> list[dict]:
        return [plain(i) for i in self._query(*keys.rules_versions(brand))]

    # -- classifier corrections ------------------------------------------------------------
    def put_correction(self, brand: str, at_iso: str, record: dict) -> None:
        self.table.put_item(Item=dynamo({**keys.correction(brand, at_iso, record["message_id"]), **record}))

    def corrections(self, brand: str) -> list[dict]:
        return [plain(i) for i in self._query(*keys.corrections_of(brand))]

    def get_message(self, ticket_id: str, message_id: str) -> Optional[dict]:
        return next((m for m in self.messages(ticket_id) if m["id"] == message_id), None)

    # -- administration --------------------------------------------------------------------
    def get_settings(self, name: str) -> Optional[dict]:
        item = plain(self.table.get_item(Key=keys.settings(name), ConsistentRead=True).get("Item"))
        return item["document"] if item else None

    def put_settings(self, name: str, document: dict, author: str) -> dict:
        """Save over the version the editor started from (`document["version"]`), else ConcurrentUpdate."""
        expected = document.get("version", 0)
        saved = {**document, "version": expected + 1}
        condition = ({"ConditionExpression": "attribute_not_exists(PK)"} if expected == 0 else
                     {"ConditionExpression": "#d.version = :v", "ExpressionAttributeNames": {"#d": "document"},
                      "ExpressionAttributeValues": {":v": expected}})
        try:
            self.table.put_item(Item=dynamo({**keys.settings(name), "document": saved, "saved_by": author}), **condition)
        except ClientError as err:
            if _conditional_failed(err):
                raise ConcurrentUpdate(f"settings {name}") from err
            raise
        return saved

    # -- teams: a thin dict-shaped delegate to `self.teams` (store/teams.py) for the tests that
    # seed a team; new code uses `store.teams`.
    def put_team(self, team: dict) -> None:
        self.teams.put(Team.from_item({k: v for k, v in team.items() if v is not None}))

    # -- reply templates -------------------------------------------------------------------
    def templates(self) -> list[dict]:
        return [plain(i) for i in self._query(*keys.all_templates())]

    def put_template(self, template: dict, expected_version: int) -> dict:
        """Create (expected 0) or replace a template still at `expected_version` (else ConcurrentUpdate)."""
        condition = ("attribute_not_exists(PK)" if expected_version == 0 else "version = :v")
        item = {**template, "version": expected_version + 1}
        try:
            self.table.put_item(Item=dynamo({**keys.template(template["id"]), **item}), ConditionExpression=condition,
                                **({"ExpressionAttributeValues": {":v": expected_version}} if expected_version else {}))
        except ClientError as err:
            if _conditional_failed(err):
                raise ConcurrentUpdate(template["id"]) from err
            raise
        return item

    def delete_template(self, template_id: str) -> bool:
        answer = self.table.delete_item(Key=keys.template(template_id), ReturnValues="ALL_OLD")
        return "Attributes" in answer

    # -- CRM -------------------------------------------------------------------------------
    def put_crm(self, platform: str, key: str, record: dict) -> None:
        ref = record.get("crm_ref")
        self.table.put_item(Item=dynamo({**keys.crm(platform, key), "platform": platform, "key": key,
                                         **(keys.crm_ref_index(ref, platform, key) if ref else {}), **record}))

    def get_crm(self, platform: str, candidates: list[str]) -> Optional[dict]:
        """The first CRM record found for any of an author's keys (user id, @handle)."""
        wanted = [keys.crm(platform, k) for k in dict.fromkeys(candidates) if k]
        if not wanted:
            return None
        found = self.client.batch_get_item(RequestItems={self.name: {"Keys": wanted}})["Responses"][self.name]
        by_pk = {item["PK"]: item for item in found}
        return next((plain(by_pk[k["PK"]]) for k in wanted if k["PK"] in by_pk), None)

    def crm_linked(self, ref: str) -> list[dict]:
        page = self.table.query(IndexName="GSI1", KeyConditionExpression="GSI1PK = :p",
                                ExpressionAttributeValues={":p": keys.crm_ref_partition(ref)})
        return [plain(i) for i in page.get("Items", [])]

    # -- helpers ---------------------------------------------------------------------------
    def _query(self, pk: str, sk_prefix: str) -> Iterator[dict]:
        return partition(self.table, pk, sk_prefix)
