"""The TicketStore port on DynamoDB, given its table (a boto3 Table resource).

A ticket is the item `TICKET#<id> / TICKET`, its messages in the same partition (the
MessageStore's); the conversation pointer `CONV#<key>` names the ticket a conversation is on; the
inbox is index GSI1, one partition per status, sorted by priority then SLA due (keys.py). Opening
a ticket writes it and the pointer in one transaction; every change is an update conditional on
the version read (ConcurrentUpdate otherwise). The inbox's filters run as a FilterExpression on the
query of one status, never a scan.
"""
from __future__ import annotations

from typing import Any, Iterator, Mapping, Optional

from botocore.exceptions import ClientError

from chalicelib.aggregates.ticket import Ticket
from chalicelib.errors import ConcurrentUpdate
from chalicelib.store import keys
from chalicelib.store.items import conditional_failed, dynamo, partition, plain, update_expression
from chalicelib.store.ports import INBOX_READS

INBOX_PAGE = 100  # what inbox_all reads a page at a time


def inbox_filter(filters: Mapping[str, Any], kwargs: dict) -> str:
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


class DynamoTicketStore:
    def __init__(self, table: Any):
        self.table = table
        self.client = table.meta.client  # transactions: the resource's client serialises plain values itself
        self.name = table.name

    def open_for(self, conversation_key: str, new: Ticket) -> tuple[Ticket, bool]:
        # The pointer is written in the same transaction as the ticket, on the condition that it is
        # absent or still points at the closed ticket we saw: two workers racing make one ticket.
        for _ in range(5):
            pointer = self.table.get_item(Key=keys.conversation(conversation_key), ConsistentRead=True).get("Item")
            if pointer:
                current = self.get(pointer["ticket_id"])
                if current and current.status != "closed":
                    return current, False
                condition = {"ConditionExpression": "ticket_id = :old",
                             "ExpressionAttributeValues": dynamo({":old": pointer["ticket_id"]})}
                if current and current.assignee:  # the customer is back: their agent first
                    new = new.model_copy(update={"previous_assignee": current.assignee})
            else:
                condition = {"ConditionExpression": "attribute_not_exists(PK)"}
            try:
                self.client.transact_write_items(TransactItems=[
                    {"Put": {"TableName": self.name, "ConditionExpression": "attribute_not_exists(PK)",
                             "Item": dynamo({**keys.ticket(new.id), **new.to_item()})}},
                    {"Put": {"TableName": self.name, **condition, "Item": dynamo({
                        **keys.conversation(conversation_key), "ticket_id": new.id})}},
                ])
                return new, True
            except ClientError as err:
                if not conditional_failed(err):
                    raise
        raise ConcurrentUpdate(f"conversation {conversation_key} kept changing")

    def get(self, ticket_id: str) -> Optional[Ticket]:
        item = self.table.get_item(Key=keys.ticket(ticket_id), ConsistentRead=True).get("Item")
        return None if item is None else Ticket.from_item(plain(item))

    def by_conversation(self, conversation_key: str) -> Optional[Ticket]:
        pointer = self.table.get_item(Key=keys.conversation(conversation_key)).get("Item")
        return self.get(pointer["ticket_id"]) if pointer else None

    def update(self, ticket_id: str, expected_version: int, changes: Mapping[str, Any]) -> Ticket:
        expr, names, values = update_expression(dict(changes), "version = version + :one")
        try:
            answer = self.table.update_item(
                Key=keys.ticket(ticket_id), UpdateExpression=expr, ConditionExpression="version = :v",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=dynamo({**values, ":one": 1, ":v": expected_version}),
                ReturnValues="ALL_NEW")
        except ClientError as err:
            if conditional_failed(err):
                raise ConcurrentUpdate(ticket_id) from err
            raise
        return Ticket.from_item(plain(answer["Attributes"]))

    def inbox(self, status: str, limit: int, cursor: Optional[dict] = None,
              filters: Optional[Mapping[str, Any]] = None) -> tuple[list[Ticket], Optional[dict]]:
        # A filter is applied by DynamoDB after reading, so a page may read further than `limit`
        # items to fill it; it stops after INBOX_READS reads and hands back the cursor.
        kwargs: dict = {"IndexName": "GSI1", "KeyConditionExpression": "GSI1PK = :p",
                        "ExpressionAttributeValues": {":p": keys.inbox_partition(status)}}
        expression = inbox_filter(filters or {}, kwargs)
        if expression:
            kwargs["FilterExpression"] = expression
        if cursor:
            kwargs["ExclusiveStartKey"] = cursor
        found: list[Ticket] = []
        for _ in range(INBOX_READS):
            kwargs["Limit"] = max(limit - len(found), 1) if not expression else max(limit * 2, 20)
            page = self.table.query(**kwargs)
            items, more = page.get("Items", []), page.get("LastEvaluatedKey")
            for index, item in enumerate(items):
                found.append(Ticket.from_item(plain(item)))
                if len(found) == limit:
                    rest = index < len(items) - 1 or more
                    return found, (keys.inbox_position(item) if rest else None)
            if not more:
                return found, None
            kwargs["ExclusiveStartKey"] = more
        return found, kwargs["ExclusiveStartKey"]

    def inbox_all(self, status: str, filters: Optional[Mapping[str, Any]] = None) -> Iterator[Ticket]:
        cursor = None
        while True:
            page, cursor = self.inbox(status, INBOX_PAGE, cursor, filters)
            yield from page
            if not cursor:
                return

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

    def assigned_to(self, agent_id: str, status: str = "open") -> list[Ticket]:
        return list(self.inbox_all(status, {"assignee": agent_id}))

    def waiting(self, limit: int) -> list[Ticket]:
        return self.inbox("open", limit, None, {"assignee": "none"})[0]

    def set_sla_due(self, ticket: Ticket, due_iso: str) -> None:
        index = keys.inbox_index(ticket.status, ticket.priority, due_iso, ticket.id)
        self.table.update_item(Key=keys.ticket(ticket.id), UpdateExpression="SET sla_due_at = :d, GSI1SK = :s",
                               ConditionExpression="attribute_exists(PK)",
                               ExpressionAttributeValues={":d": due_iso, ":s": index["GSI1SK"]})

    def rate(self, ticket_id: str, score: int, comment: Optional[str], at_iso: str) -> None:
        try:
            self.table.update_item(Key=keys.ticket(ticket_id), UpdateExpression="SET csat = :s, csat_at = :t"
                                   + (", csat_comment = :c" if comment else ""),
                                   ConditionExpression="attribute_exists(PK) AND attribute_not_exists(csat)",
                                   ExpressionAttributeValues={":s": score, ":t": at_iso,
                                                              **({":c": comment} if comment else {})})
        except ClientError as err:
            if conditional_failed(err):
                raise ValueError("this ticket was rated already") from err
            raise

    def claim_offhours_ack(self, ticket_id: str, at_iso: str) -> None:
        try:
            self.table.update_item(Key=keys.ticket(ticket_id), UpdateExpression="SET offhours_ack_at = :t",
                                   ConditionExpression="attribute_exists(PK) AND attribute_not_exists(offhours_ack_at)",
                                   ExpressionAttributeValues={":t": at_iso})
        except ClientError as err:
            if conditional_failed(err):
                raise ConcurrentUpdate(ticket_id) from err
            raise

    def mark_waiting(self, ticket_id: str, since_iso: str) -> None:
        self.table.update_item(Key=keys.ticket(ticket_id), UpdateExpression="SET waiting_since = if_not_exists("
                               "waiting_since, :t)", ConditionExpression="attribute_exists(PK)",
                               ExpressionAttributeValues={":t": since_iso})

    def set_customer(self, ticket_ids: list[str], customer_id: str) -> None:
        for ticket_id in ticket_ids:
            self.table.update_item(Key=keys.ticket(ticket_id), UpdateExpression="SET customer_id = :c",
                                   ConditionExpression="attribute_exists(PK)",
                                   ExpressionAttributeValues={":c": customer_id})

    def redact(self, ticket_id: str, erased: str) -> int:
        count = 0
        for message in partition(self.table, *keys.ticket_messages(ticket_id)):
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
