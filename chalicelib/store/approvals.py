"""Replies held for a supervisor's approval, on DynamoDB, given its table.

Two small items a held reply, both written (plain puts, keyed by the reply: a retry rewrites them)
before the reply itself, so a reply is never pending without them (a request that dies in between
leaves an entry with no reply: the queue skips it, and its read deletes it once it is ten minutes
old; a repeat whose first request's reply was kept takes its own entry out, `unhold`):
* its brand's queue entry `APPROVALS#<brand> / <submitted iso>#<message id>` (keys.approval_entry):
  the approvals queue is a query of that partition, oldest first, one bounded page, and the entry
  is deleted when the reply is decided, so the partition only ever holds what is pending;
* its record `APPROVAL#<message id> / APPROVAL` (keys.approval): the decision routes name a message
  id only, and this says where the reply is and whose it is; it stays after the decision (expiring
  with the table's TTL) so that a second decision is a 409, not a 404.

A decision is one transaction: the reply's change on the condition that it is still
`pending_approval` (a second or concurrent decision loses: ConcurrentUpdate), the queue entry
deleted, the record marked decided, and the ticket's approval counters (`approvals_n`,
`approval_wait_s`, `approvals_rejected`) added to, which the stream counts into reports.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Mapping, Optional

from botocore.exceptions import ClientError

from chalicelib.aggregates.message import Message
from chalicelib.errors import ConcurrentUpdate
from chalicelib.store import keys
from chalicelib.store.items import conditional_failed, dynamo, plain, update_expression

DECIDED_KEPT = timedelta(days=30)  # a decided reply's record answers "already decided" this long
TTL_ATTRIBUTE = "expires_at"  # the table's TTL attribute (infra/resources.py TTL_ATTRIBUTE)


class DynamoApprovalStore:
    def __init__(self, table: Any):
        self.table = table
        self.client = table.meta.client
        self.name = table.name

    def hold(self, reply: Message) -> None:
        """The queue entry and the record of a reply about to be stored `pending_approval` (or
        stored so, again). A record already decided is left as it is (a repeat of a decided reply's
        request), and so is its queue, which no longer has the reply."""
        entry = keys.approval_entry(reply.brand, reply.created_at, reply.id)
        where = {"ticket_id": reply.ticket_id, "message_id": reply.id, "brand": reply.brand,
                 "message_sk": keys.message_sk(reply.created_at, reply.id), "submitted_at": reply.created_at}
        try:
            self.table.put_item(Item=dynamo({**keys.approval(reply.id), **where, "entry_sk": entry["SK"]}),
                                ConditionExpression="attribute_not_exists(decided_at)")
        except ClientError as err:
            if conditional_failed(err):
                return
            raise
        self.table.put_item(Item=dynamo({**entry, **where, "agent_id": reply.agent_id}))

    def forget(self, entry: Mapping[str, Any]) -> None:
        """Delete a queue entry (one whose reply was never stored), as read."""
        self.table.delete_item(Key=keys.approval_entry(entry.get("brand"), entry["submitted_at"], entry["message_id"]))

    def unhold(self, reply: Message, record: bool = False) -> None:
        """Take out a queue entry written for `reply` before it was stored, when the store kept an
        earlier request's reply instead (same id, another submission time): the queue never lists
        a reply twice, nor one that was never stored. `record`: its undecided record too (the
        kept reply was never held)."""
        self.table.delete_item(Key=keys.approval_entry(reply.brand, reply.created_at, reply.id))
        if record:
            try:
                self.table.delete_item(Key=keys.approval(reply.id), ConditionExpression="attribute_not_exists(decided_at)")
            except ClientError as err:
                if not conditional_failed(err):
                    raise

    def record(self, message_id: str) -> Optional[dict]:
        return plain(self.table.get_item(Key=keys.approval(message_id), ConsistentRead=True).get("Item"))

    def pending(self, brand: Optional[str], after: Optional[str], limit: int) -> tuple[list[dict], bool]:
        """(up to `limit` of the brand's queue entries after the SK `after`, oldest first; whether there are more)."""
        kwargs: dict = {"KeyConditionExpression": "PK = :pk", "Limit": limit + 1,
                        "ExpressionAttributeValues": {":pk": keys.approvals_partition(brand)}}
        if after:
            kwargs["ExclusiveStartKey"] = {"PK": keys.approvals_partition(brand), "SK": after}
        items = [plain(i) for i in self.table.query(**kwargs).get("Items", [])]
        return items[:limit], len(items) > limit

    def replies(self, entries: list[dict]) -> dict[str, Message]:
        """The replies the entries name, by message id (BatchGetItem, consistent)."""
        wanted = [keys.message_by_sk(e["ticket_id"], e["message_sk"]) for e in entries]
        found: dict[str, Message] = {}
        for start in range(0, len(wanted), 100):
            request = {self.name: {"Keys": wanted[start:start + 100], "ConsistentRead": True}}
            while request:
                answer = self.client.batch_get_item(RequestItems=request)
                for item in answer["Responses"].get(self.name, []):
                    message = Message.from_item(plain(item))
                    found[message.id] = message
                request = answer.get("UnprocessedKeys") or None
        return found

    def decide(self, reply: Message, record: Mapping[str, Any], changes: Mapping[str, Any], decided_at: str,
               wait_seconds: float, rejected: bool) -> Message:
        """Apply a decision while the reply is still pending (ConcurrentUpdate otherwise); the reply as it now is."""
        expr, names, values = update_expression(dict(changes))
        kept = int((datetime.fromisoformat(decided_at) + DECIDED_KEPT).timestamp())
        counters = "ADD approvals_n :one, approval_wait_s :wait" + (", approvals_rejected :one" if rejected else "")
        items = [
            {"Update": {"TableName": self.name, "Key": keys.message(reply.ticket_id, reply.created_at, reply.id),
                        "UpdateExpression": expr, "ConditionExpression": "attribute_exists(PK) AND #status = :held",
                        "ExpressionAttributeNames": names | {"#status": "status"},
                        "ExpressionAttributeValues": dynamo({**values, ":held": "pending_approval"})}},
            {"Delete": {"TableName": self.name,
                        "Key": keys.approval_entry(record.get("brand"), record["submitted_at"], reply.id)}},
            {"Update": {"TableName": self.name, "Key": keys.approval(reply.id),
                        "UpdateExpression": "SET decision = :d, decided_at = :at, #ttl = :kept",
                        "ExpressionAttributeNames": {"#ttl": TTL_ATTRIBUTE},
                        "ExpressionAttributeValues": {":d": "rejected" if rejected else "approved", ":at": decided_at,
                                                      ":kept": kept}}},
            {"Update": {"TableName": self.name, "Key": keys.ticket(reply.ticket_id), "UpdateExpression": counters,
                        "ConditionExpression": "attribute_exists(PK)",
                        "ExpressionAttributeValues": {":one": 1, ":wait": max(int(wait_seconds), 0)}}},
        ]
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as err:
            if conditional_failed(err):
                raise ConcurrentUpdate(reply.id) from err
            raise
        return reply.changed(changes)
