"""The AgentStore port on DynamoDB, given its table (a boto3 Table resource).

Each agent is an item in its own partition, `AGENT#<id> / AGENT` (keys.py): the whole record,
presence, load and performance. Assignment and release are one transaction with the ticket item,
conditional on that agent item, so the router can never push an agent past capacity or assign a
ticket twice; so is an agent's change of who holds a ticket (`move_load`), so load always counts
what they hold. The load lands on the agent's own key, never on a key every assignment shares.

The roster (`ROSTER / AGENT#<id>`) lists the agents without a scan: one entry per agent with their
profile and presence only (`Agent.roster_item`), written with the agent item when an admin edits
them (`put`), when their presence changes (`set_status`) and when they are deleted, never when
their load or performance moves. `roster` reads it; `all` reads it and then the agents' own items
(BatchGetItem); the router reads it (cached per container) and then its candidates' own items.

`move_legacy_agents` is the migration of the items of the single `AGENTS` partition the desk used
before (docs/ARCHITECTURE.md).
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional

from botocore.exceptions import ClientError

from chalicelib.aggregates.agent import PERFORMANCE_WEIGHT, Agent, Measure, Performance, Status
from chalicelib.aggregates.ticket import Ticket
from chalicelib.errors import AgentUnavailable, ConcurrentUpdate, NotFound, TicketChanged
from chalicelib.store import keys
from chalicelib.store.items import cancel_reasons, conditional_failed, dynamo, partition, plain, update_expression
from chalicelib.store.ports import PROFILE_FIELDS, ROSTER_LIMIT
from chalicelib.store.tickets import DynamoTicketStore

BATCH = 100  # keys of one BatchGetItem


def _redrive(ticket_id: str, since_iso: str) -> dict:
    """The values of a released ticket's first re-drive (GSI3), as `:rp` and `:rs`."""
    index = keys.redrive_index(keys.later(since_iso, keys.REDRIVE_AFTER), ticket_id)
    return {":rp": index["GSI3PK"], ":rs": index["GSI3SK"]}


def move_legacy_agents(table: Any) -> int:
    """Move every agent item of the old single partition (`keys.legacy_agents`) to its own partition,
    with its roster entry, and delete the old item, one transaction an agent; how many were moved.
    Idempotent: a second run finds nothing to move; an agent that already has its own item (an
    admin saved them since the deploy) keeps it, and only the old item goes. Tooling, run once
    right after the deploy that reads agents from their own partitions (docs/ARCHITECTURE.md)."""
    client, name, moved = table.meta.client, table.name, 0
    pk, prefix = keys.legacy_agents()
    for item in list(partition(table, pk, prefix)):
        agent = Agent.from_item(plain(item))
        old = {"Delete": {"TableName": name, "Key": {"PK": item["PK"], "SK": item["SK"]}}}
        try:
            client.transact_write_items(TransactItems=[
                {"Put": {"TableName": name, "Item": dynamo({**keys.agent(agent.id), **agent.to_item()}),
                         "ConditionExpression": "attribute_not_exists(PK)"}},
                {"Put": {"TableName": name, "Item": dynamo({**keys.roster_entry(agent.id), **agent.roster_item()})}},
                old])
            moved += 1
        except ClientError as err:
            if not conditional_failed(err):
                raise
            client.transact_write_items(TransactItems=[old])  # already in its own partition: that one wins
    return moved


class DynamoAgentStore:
    def __init__(self, table: Any):
        self.table = table
        self.client = table.meta.client
        self.name = table.name

    def get(self, agent_id: str) -> Optional[Agent]:
        item = self._item(agent_id)
        return None if item is None else Agent.from_item(item)

    def put(self, agent: Agent) -> None:
        self.client.transact_write_items(TransactItems=[
            {"Put": {"TableName": self.name, "Item": dynamo({**keys.agent(agent.id), **agent.to_item()})}},
            {"Put": {"TableName": self.name, "Item": dynamo({**keys.roster_entry(agent.id), **agent.roster_item()})}}])

    def save_profile(self, agent: Agent) -> Agent:
        """The profile's attributes only, on the agent item and its roster entry in one transaction
        (as `set_status` moves presence), so the load, performance and presence the desk moved since
        the admin read the agent stay; a new agent is put whole, only if there is none."""
        given = agent.to_item()
        expr, names, values = update_expression({k: given.get(k) for k in PROFILE_FIELDS})
        change = {"UpdateExpression": expr, "ConditionExpression": "attribute_exists(PK)",
                  "ExpressionAttributeNames": names, "ExpressionAttributeValues": dynamo(values)}
        for _ in range(3):
            try:
                self.client.transact_write_items(TransactItems=[
                    {"Update": {"TableName": self.name, "Key": keys.agent(agent.id), **change}},
                    {"Update": {"TableName": self.name, "Key": keys.roster_entry(agent.id), **change}}])
                return Agent.from_item(plain(self.table.get_item(Key=keys.agent(agent.id), ConsistentRead=True)["Item"]))
            except ClientError as err:
                if not conditional_failed(err):
                    raise
                reasons = cancel_reasons(err)
            if reasons and reasons[0] != "ConditionalCheckFailed":  # no roster entry: written whole
                item = self.table.update_item(Key=keys.agent(agent.id), ReturnValues="ALL_NEW", **change)["Attributes"]
                stored = Agent.from_item(plain(item))
                self.table.put_item(Item=dynamo({**keys.roster_entry(agent.id), **stored.roster_item()}))
                return stored
            try:  # a new agent
                self.client.transact_write_items(TransactItems=[
                    {"Put": {"TableName": self.name, "Item": dynamo({**keys.agent(agent.id), **given}),
                             "ConditionExpression": "attribute_not_exists(PK)"}},
                    {"Put": {"TableName": self.name, "Item": dynamo({**keys.roster_entry(agent.id), **agent.roster_item()})}}])
                return agent
            except ClientError as err:
                if not conditional_failed(err):
                    raise  # else created meanwhile by another edit: change its profile
        raise ConcurrentUpdate(f"agent {agent.id}")

    def delete(self, agent_id: str) -> bool:
        existed = "Attributes" in self.table.delete_item(Key=keys.agent(agent_id), ReturnValues="ALL_OLD")
        self.table.delete_item(Key=keys.roster_entry(agent_id))  # a leftover entry would list no agent
        return existed

    def roster(self, limit: int = ROSTER_LIMIT) -> list[Agent]:
        pk, prefix = keys.roster()
        kwargs: dict = {"KeyConditionExpression": "PK = :pk AND begins_with(SK, :sk)",
                        "ExpressionAttributeValues": {":pk": pk, ":sk": prefix}}
        found: list[Agent] = []
        while len(found) < limit:
            page = self.table.query(Limit=limit - len(found), **kwargs)
            found += [Agent.from_item(plain(i)) for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return found

    def get_many(self, agent_ids: Iterable[str]) -> list[Agent]:
        ids = list(dict.fromkeys(agent_ids))
        read: dict[str, Agent] = {}
        for start in range(0, len(ids), BATCH):
            request = {self.name: {"Keys": [keys.agent(i) for i in ids[start:start + BATCH]]}}
            while request:
                answer = self.client.batch_get_item(RequestItems=request)
                for item in answer["Responses"].get(self.name, []):
                    agent = Agent.from_item(plain(item))
                    read[agent.id] = agent
                request = answer.get("UnprocessedKeys") or None
        return [read[i] for i in ids if i in read]

    def all(self, limit: int = ROSTER_LIMIT) -> list[Agent]:
        return self.get_many(a.id for a in self.roster(limit))

    def set_status(self, agent_id: str, status: Status, at_iso: str) -> None:
        change = {"UpdateExpression": "SET #s = :s, status_changed_at = :t",
                  "ConditionExpression": "attribute_exists(PK)", "ExpressionAttributeNames": {"#s": "status"},
                  "ExpressionAttributeValues": {":s": status, ":t": at_iso}}
        try:
            self.client.transact_write_items(TransactItems=[
                {"Update": {"TableName": self.name, "Key": keys.agent(agent_id), **change}},
                {"Update": {"TableName": self.name, "Key": keys.roster_entry(agent_id), **change}}])
            return
        except ClientError as err:
            if not conditional_failed(err):
                raise
            reasons = cancel_reasons(err)
            if not reasons or reasons[0] == "ConditionalCheckFailed":
                raise NotFound(f"agent {agent_id}") from err
        try:  # the agent has no roster entry (lost, or not yet moved): the entry is written whole
            item = self.table.update_item(Key=keys.agent(agent_id), ReturnValues="ALL_NEW", **change)["Attributes"]
        except ClientError as err:
            if conditional_failed(err):
                raise NotFound(f"agent {agent_id}") from err
            raise
        agent = Agent.from_item(plain(item))
        self.table.put_item(Item=dynamo({**keys.roster_entry(agent_id), **agent.roster_item()}))

    def record_performance(self, agent_id: str, measure: Measure, value: float,
                           weight: float = PERFORMANCE_WEIGHT) -> None:
        for _ in range(5):
            item = self._item(agent_id)
            if item is None:
                return
            read = item.get("performance") or {}
            folded = Performance.model_validate(read).folded(measure, value, weight)
            try:
                self.table.update_item(
                    Key=keys.agent(agent_id), UpdateExpression="SET performance = :p",
                    ConditionExpression="attribute_not_exists(performance) OR performance = :old",
                    ExpressionAttributeValues=dynamo({":p": {**read, **folded.model_dump(exclude_none=True)},
                                                      ":old": read}))
                return
            except ClientError as err:
                if not conditional_failed(err):
                    raise

    def assign_within_capacity(self, ticket_id: str, expected_version: int, agent_id: str) -> None:
        try:
            self.client.transact_write_items(TransactItems=[
                {"Update": {"TableName": self.name, "Key": keys.agent(agent_id),
                            "UpdateExpression": "ADD #load :one",
                            "ConditionExpression": "#status = :online AND (attribute_not_exists(#load) "
                                                   "OR #load < #capacity)",
                            "ExpressionAttributeNames": {"#load": "load", "#status": "status",
                                                         "#capacity": "capacity"},
                            "ExpressionAttributeValues": {":one": 1, ":online": "online"}}},
                {"Update": {"TableName": self.name, "Key": keys.ticket(ticket_id),
                            "UpdateExpression": "SET assignee = :a, version = version + :one "
                                                "REMOVE waiting_since, GSI3PK, GSI3SK",  # out of the re-drives
                            "ConditionExpression": "attribute_not_exists(assignee) AND version = :v",
                            "ExpressionAttributeValues": {":a": agent_id, ":one": 1, ":v": expected_version}}},
            ])
        except ClientError as err:
            if not conditional_failed(err):
                raise
            reasons = cancel_reasons(err)
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                raise TicketChanged(f"ticket {ticket_id} changed") from err
            raise AgentUnavailable(f"agent {agent_id} is full or away") from err

    def note_drift(self, agent_id: str, seen_load: int, held: int, at_iso: str) -> None:
        self._if_load(agent_id, seen_load, "SET load_drift = :d", {":d": {"load": seen_load, "held": held, "at": at_iso}})

    def settle_load(self, agent_id: str, seen_load: int, held: int) -> bool:
        return self._if_load(agent_id, seen_load, "SET #load = :held REMOVE load_drift", {":held": held},
                             "AND load_drift.#held = :held AND load_drift.#load = :seen")

    def clear_drift(self, agent_id: str) -> None:
        try:
            self.table.update_item(Key=keys.agent(agent_id), UpdateExpression="REMOVE load_drift",
                                   ConditionExpression="attribute_exists(load_drift)")
        except ClientError as err:
            if not conditional_failed(err):
                raise

    def _if_load(self, agent_id: str, seen_load: int, expression: str, values: dict, also: str = "") -> bool:
        names = {"#load": "load", **({"#held": "held"} if "#held" in also else {})}
        try:
            self.table.update_item(Key=keys.agent(agent_id), UpdateExpression=expression,
                                   ConditionExpression=f"#load = :seen {also}".strip(),
                                   ExpressionAttributeNames=names, ExpressionAttributeValues={**values, ":seen": seen_load})
            return True
        except ClientError as err:
            if conditional_failed(err):
                return False  # the load moved since it was read: the next audit looks again
            raise

    def reserve(self, agent_id: str) -> None:
        try:
            self.table.update_item(Key=keys.agent(agent_id), UpdateExpression="ADD #load :one",
                                   ConditionExpression="#status = :online AND (attribute_not_exists(#load) "
                                                       "OR #load < #capacity)",
                                   ExpressionAttributeNames={"#load": "load", "#status": "status",
                                                             "#capacity": "capacity"},
                                   ExpressionAttributeValues={":one": 1, ":online": "online"})
        except ClientError as err:
            if conditional_failed(err):
                raise AgentUnavailable(f"agent {agent_id} is full or away") from err
            raise

    def unreserve(self, agent_id: str) -> None:
        try:
            self.table.update_item(Key=keys.agent(agent_id), UpdateExpression="ADD #load :minus",
                                   ConditionExpression="#load > :zero", ExpressionAttributeNames={"#load": "load"},
                                   ExpressionAttributeValues={":minus": -1, ":zero": 0})
        except ClientError as err:
            if not conditional_failed(err):
                raise

    def release(self, ticket_id: str, expected_version: int, agent_id: str, since_iso: str) -> None:
        try:
            self.client.transact_write_items(TransactItems=[
                {"Update": {"TableName": self.name, "Key": keys.ticket(ticket_id),
                            "UpdateExpression": "SET previous_assignee = :a, waiting_since = :t, "
                                                "version = version + :one, GSI3PK = :rp, GSI3SK = :rs REMOVE assignee",
                            "ConditionExpression": "assignee = :a AND version = :v",
                            "ExpressionAttributeValues": {":a": agent_id, ":v": expected_version, ":one": 1,
                                                          ":t": since_iso, **_redrive(ticket_id, since_iso)}}},
                {"Update": {"TableName": self.name, "Key": keys.agent(agent_id),
                            "UpdateExpression": "ADD #load :minus", "ConditionExpression": "#load > :zero",
                            "ExpressionAttributeNames": {"#load": "load"},
                            "ExpressionAttributeValues": {":minus": -1, ":zero": 0}}},
            ])
        except ClientError as err:
            if conditional_failed(err):
                raise TicketChanged(f"ticket {ticket_id} changed") from err
            raise

    def move_load(self, ticket_id: str, expected_version: int, changes: Mapping[str, Any],
                  load: Mapping[str, int]) -> Ticket:
        tickets = DynamoTicketStore(self.table)
        if not load:
            return tickets.update(ticket_id, expected_version, changes)
        changes = {**changes, **keys.ticket_index_changes(ticket_id, changes)}
        expr, names, values = update_expression(dict(changes), "version = version + :one")
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
                return tickets.get(ticket_id)
            except ClientError as err:
                if not conditional_failed(err):
                    raise
                reasons = cancel_reasons(err)
                if not reasons or reasons[0] == "ConditionalCheckFailed":
                    raise ConcurrentUpdate(ticket_id) from err
                failed = [a for a, r in zip(moves, reasons[1:]) if r == "ConditionalCheckFailed"]
                if not failed:
                    raise ConcurrentUpdate(ticket_id) from err
                moves = {a: d for a, d in moves.items() if a not in failed}  # dropped: no agent, or no load
                if not moves:
                    return tickets.update(ticket_id, expected_version, changes)

    def _item(self, agent_id: str) -> Optional[dict]:
        return plain(self.table.get_item(Key=keys.agent(agent_id)).get("Item"))
