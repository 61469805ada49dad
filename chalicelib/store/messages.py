"""The MessageStore port on DynamoDB, given its table (a boto3 Table resource).

A message is the item `TICKET#<ticket id> / MSG#<created>#<id>` in its ticket's partition, so
a ticket's timeline is one query. An inbound message and the customer's touchpoint are put first
(keyed by the message: a retry rewrites them), then its dedupe claim `EXT#<platform>#<external id>`
(conditional on there being none: a retry, or the same post seen by webhook and poller, is a
DuplicateEvent) and the ticket's update (conditional on the version read) in one transaction of
those two. A queued reply sits in the in-flight index
(GSI1 `OUTBOUND#inflight`) until it is sent or fails; an idempotency key is the item
`REPLYKEY#<key>` beside it, written in the same transaction; a sent reply gets the pointer
`OUTMSG#<platform>#<platform id>` for delivery receipts, which are kept as they came beside it
(`STATUS#<at>#<status>`, keys.py).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Mapping, Optional

from botocore.exceptions import ClientError

from chalicelib.aggregates.message import Message, Receipt, ReplyCondition
from chalicelib.aggregates.ticket import Ticket, answered as ticket_answered
from chalicelib.errors import ConcurrentUpdate, DuplicateEvent
from chalicelib.store import keys
from chalicelib.store.items import cancel_reasons, conditional_failed, dynamo, partition, plain, update_expression
from chalicelib.store.ports import IN_FLIGHT_WINDOW
from chalicelib.store.tickets import claim_conversation, put_opened

DEDUPE_RETENTION = timedelta(days=30)  # platforms retry for up to 7 days (WhatsApp); keep 30


def reply_condition(when: ReplyCondition) -> tuple[str, dict, dict]:
    """The ConditionExpression of a ReplyCondition, with its names and values."""
    if when.rank_below is not None:
        return ("attribute_exists(PK) AND (attribute_not_exists(delivery_rank) OR delivery_rank < :rank)", {},
                {":rank": when.rank_below})
    statuses = {f":st{i}": s for i, s in enumerate(when.statuses)}
    clause = f"#status IN ({', '.join(statuses)})" if statuses else ""
    values: dict = dict(statuses)
    if when.token is not None:
        clause = f"{clause} AND attempt_token = :token"
        values[":token"] = when.token
    if when.lease_expired_at is not None:
        clause = f"{clause} OR (#status = :sending AND lease_until < :now)"
        values |= {":sending": "sending", ":now": when.lease_expired_at}
    return f"attribute_exists(PK) AND ({clause})", {"#status": "status"}, values


class DynamoMessageStore:
    def __init__(self, table: Any):
        self.table = table
        self.client = table.meta.client  # transactions: the resource's client serialises plain values itself
        self.name = table.name

    # -- inbound ---------------------------------------------------------------------------
    def seen(self, dedupe_key: str) -> Optional[dict]:
        return plain(self.table.get_item(Key=keys.dedupe(dedupe_key), ConsistentRead=True).get("Item"))

    def record_opening(self, conversation_key: str, ticket: Ticket, message: Message, customer_id: str,
                       replaces: Optional[str]) -> bool:
        # Plain writes, no transaction (a new conversation is the common case: ~6 WCU instead of
        # ~30): the conversation's pointer (conditional), the ticket as its first message leaves it
        # (conditional on being new), the message and the touchpoint (keyed by the message); the
        # claim of the platform id comes last (`claim`). Every id derives from the platform id, so
        # a retry after a crash at any step writes the same items and finishes the job.
        claim_conversation(self.table, conversation_key, ticket.id, replaces)
        created = put_opened(self.table, ticket)
        self._put_inbound(ticket.id, message, customer_id)
        return created

    def claim(self, dedupe_key: str, ticket_id: str, message_id: str, now: datetime) -> None:
        try:
            self.table.put_item(Item=dynamo(self._claim(dedupe_key, ticket_id, message_id, now)),
                                ConditionExpression="attribute_not_exists(PK)")
        except ClientError as err:
            if conditional_failed(err):
                raise DuplicateEvent(dedupe_key) from err
            raise

    def _put_inbound(self, ticket_id: str, message: Message, customer_id: str) -> None:
        """The message and the customer's touchpoint, plain puts keyed by the message."""
        created_iso = message.created_at
        self.table.put_item(Item=dynamo({**keys.message(ticket_id, created_iso, message.id), **message.to_item()}))
        self.table.put_item(Item=dynamo({
            **keys.touchpoint(customer_id, created_iso, message.id), "ticket_id": ticket_id,
            "message_id": message.id, "channel": message.platform, "kind": message.kind,
            "direction": "in", "at": created_iso}))

    @staticmethod
    def _claim(dedupe_key: str, ticket_id: str, message_id: str, now: datetime) -> dict:
        return {**keys.dedupe(dedupe_key), "ticket_id": ticket_id, "message_id": message_id,
                "expires_at": int((now + DEDUPE_RETENTION).timestamp())}

    def record_inbound(self, ticket: Ticket, message: Message, dedupe_key: str, customer_id: str,
                       ticket_changes: Mapping[str, Any], now: datetime) -> None:
        changes = {**ticket_changes, "updated_at": now.isoformat()}
        changes.update(keys.ticket_index_changes(ticket.id, changes))
        expr, names, values = update_expression(changes, "version = version + :one")
        expr = expr.replace(" REMOVE ", " ADD message_count :one REMOVE ") if " REMOVE " in expr \
            else expr + " ADD message_count :one"
        # The message and the touchpoint are plain puts first: both are keyed by the message, so a
        # retry or a duplicate rewrites the same item. Only the claim of the platform id and the
        # ticket's count must hold together (exactly once), so only they are one transaction.
        self._put_inbound(ticket.id, message, customer_id)
        items = [
            {"Put": {"TableName": self.name, "ConditionExpression": "attribute_not_exists(PK)",
                     "Item": dynamo(self._claim(dedupe_key, ticket.id, message.id, now))}},
            {"Update": {"TableName": self.name, "Key": dynamo(keys.ticket(ticket.id)),
                        "UpdateExpression": expr, "ConditionExpression": "version = :v",
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": dynamo({**values, ":one": 1, ":v": ticket.version})}},
        ]
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as err:
            if not conditional_failed(err):
                raise
            reasons = cancel_reasons(err)
            if (reasons and reasons[0] == "ConditionalCheckFailed") or self.seen(dedupe_key):
                raise DuplicateEvent(dedupe_key) from err
            raise ConcurrentUpdate(ticket.id) from err

    # -- the timeline ----------------------------------------------------------------------
    def timeline(self, ticket_id: str, latest: Optional[int] = None) -> list[Message]:
        if latest is None:
            return [Message.from_item(plain(i)) for i in partition(self.table, *keys.ticket_messages(ticket_id))]
        pk, prefix = keys.ticket_messages(ticket_id)  # newest first, one page of `latest`
        page = self.table.query(KeyConditionExpression="PK = :pk AND begins_with(SK, :sk)", ScanIndexForward=False,
                                ExpressionAttributeValues={":pk": pk, ":sk": prefix}, Limit=latest)
        return [Message.from_item(plain(i)) for i in reversed(page.get("Items", []))]

    def get(self, ticket_id: str, message_id: str) -> Optional[Message]:
        return next((m for m in self.timeline(ticket_id) if m.id == message_id), None)

    def put(self, message: Message) -> None:
        self.table.put_item(Item=dynamo({**keys.message(message.ticket_id, message.created_at, message.id),
                                         **message.to_item()}))

    # -- replies ---------------------------------------------------------------------------
    def put_reply(self, reply: Message, idempotency_key: Optional[str] = None) -> tuple[Message, bool]:
        # No transaction: the idempotency key is claimed first (conditional), naming the reply's id
        # and time; then the reply is put (conditional on being new). A second request under the key
        # finds the reply it names, or, when the first stopped between the two writes, stores it as
        # the first would have (same id and time) and still answers "not new": the first claimed it.
        ticket_id = reply.ticket_id
        if idempotency_key:
            try:
                self.table.put_item(Item={**keys.reply_key(ticket_id, idempotency_key), "message_id": reply.id,
                                          "message_sk": keys.message_sk(reply.created_at, reply.id),
                                          "created_at": reply.created_at},
                                    ConditionExpression="attribute_not_exists(PK)")
            except ClientError as err:
                if not conditional_failed(err):
                    raise
                first = self.table.get_item(Key=keys.reply_key(ticket_id, idempotency_key), ConsistentRead=True)["Item"]
                found = self.reply(ticket_id, first["message_sk"])
                if found is None and "created_at" in first:
                    self._put_new_reply(reply.model_copy(update={"id": first["message_id"],
                                                                 "created_at": first["created_at"]}))
                    found = self.reply(ticket_id, first["message_sk"])
                return found, False
        self._put_new_reply(reply)
        return reply, True

    def _put_new_reply(self, reply: Message) -> None:
        try:
            self.table.put_item(Item=dynamo({**keys.message(reply.ticket_id, reply.created_at, reply.id),
                                             **reply.to_item(), **(keys.outbound_in_flight(reply.created_at, reply.id)
                                                                   if reply.status == "queued" else {})}),
                                ConditionExpression="attribute_not_exists(PK)")
        except ClientError as err:
            if not conditional_failed(err):
                raise  # (refused: the same reply is there already)

    def reply(self, ticket_id: str, message_sk: str) -> Optional[Message]:
        item = self.table.get_item(Key=keys.message_by_sk(ticket_id, message_sk), ConsistentRead=True).get("Item")
        return None if item is None else Message.from_item(plain(item))

    def update_reply(self, reply: Message, changes: Mapping[str, Any], when: ReplyCondition) -> Message:
        expr, names, setting = update_expression(dict(changes))
        condition, condition_names, values = reply_condition(when)
        try:
            answer = self.table.update_item(
                Key=keys.message(reply.ticket_id, reply.created_at, reply.id),
                UpdateExpression=expr, ConditionExpression=condition,
                ExpressionAttributeNames=names | condition_names,
                ExpressionAttributeValues=dynamo({**setting, **values}),
                ReturnValues="ALL_NEW")
        except ClientError as err:
            if conditional_failed(err):
                raise ConcurrentUpdate(reply.id) from err
            raise
        return Message.from_item(plain(answer["Attributes"]))

    def in_flight(self, created_before_iso: str, since_iso: Optional[str] = None) -> list[Message]:
        # The minute buckets from `since_iso` (IN_FLIGHT_WINDOW before, by default) to the minute
        # before `created_before_iso`, every shard paged to its end; the replies read in batches.
        before = datetime.fromisoformat(created_before_iso)
        since = since_iso or (before - IN_FLIGHT_WINDOW).isoformat()
        entries: list[str] = []
        for bucket in keys.minutes_between(keys.minute(since), keys.minute(created_before_iso)):
            for part in keys.in_flight_partitions(bucket):
                kwargs: dict = {"IndexName": "GSI2", "KeyConditionExpression": "GSI2PK = :p AND GSI2SK < :b",
                                "ExpressionAttributeValues": {":p": part, ":b": created_before_iso}}
                while True:
                    page = self.table.query(**kwargs)
                    entries += [(i["GSI2SK"], i["PK"], i["SK"]) for i in page.get("Items", [])]
                    if "LastEvaluatedKey" not in page:
                        break
                    kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        found = {(i["PK"], i["SK"]): i for i in self._get_many([{"PK": pk, "SK": sk} for _, pk, sk in entries])}
        return [Message.from_item(plain(found[(pk, sk)])) for _, pk, sk in sorted(entries) if (pk, sk) in found]

    def _get_many(self, wanted: list[dict]) -> list[dict]:
        found: list[dict] = []
        for start in range(0, len(wanted), 100):
            request = {self.name: {"Keys": wanted[start:start + 100], "ConsistentRead": True}}
            while request:
                answer = self.client.batch_get_item(RequestItems=request)
                found += answer["Responses"].get(self.name, [])
                request = answer.get("UnprocessedKeys") or None
        return found

    def by_platform_id(self, platform: str, platform_id: str) -> Optional[Message]:
        pointer = self.table.get_item(Key=keys.outbound_pointer(platform, platform_id)).get("Item")
        return self.reply(pointer["ticket_id"], pointer["message_sk"]) if pointer else None

    def record_sent(self, reply: Message, customer_id: Optional[str], ticket: Optional[Ticket] = None) -> bool:
        self.table.put_item(Item=dynamo({**keys.outbound_pointer(reply.platform, reply.platform_message_id),
                                         "ticket_id": reply.ticket_id, "message_id": reply.id,
                                         "message_sk": keys.message_sk(reply.created_at, reply.id)}))
        first = False
        responded = reply.created_at if reply.approval else reply.sent_at  # an approved reply: its submission
        if ticket is not None and not reply.automatic and not ticket.first_response_at:
            first = self._first_response(reply, ticket)
        if not first:
            first = False if reply.automatic else self._set_if(  # an auto-acknowledgement is no response
                reply.ticket_id, "SET first_response_at = :t, first_response_by = :a",
                "attribute_not_exists(first_response_at)", {":t": responded, ":a": reply.agent_id or ""})
            self._set_if(reply.ticket_id, "SET last_outbound_at = :t",
                         "attribute_not_exists(last_outbound_at) OR last_outbound_at < :t", {":t": reply.sent_at})
            if first and ticket is not None:
                self._resolution_next(ticket)
            if not reply.automatic:
                self._place(reply.ticket_id)  # answered (again): below the unanswered of its priority
        if customer_id:
            self.table.put_item(Item=dynamo({
                **keys.touchpoint(customer_id, reply.sent_at, reply.id), "ticket_id": reply.ticket_id,
                "message_id": reply.id, "channel": reply.platform, "kind": reply.kind,
                "direction": "out", "at": reply.sent_at, "agent_id": reply.agent_id}))
        return first

    def _first_response(self, reply: Message, ticket: Ticket) -> bool:
        """The ticket's first response, its last outbound and its SLA moved on to the resolution
        deadline in one write, while it is as read (status and priority place it in the inbox);
        False when it was not (the caller takes the long way)."""
        changes: dict = {"first_response_at": reply.created_at if reply.approval else reply.sent_at,
                         "first_response_by": reply.agent_id or ""}  # an approved reply: its submission
        if not ticket.last_outbound_at or ticket.last_outbound_at < (reply.sent_at or ""):
            changes["last_outbound_at"] = reply.sent_at
        answered = ticket_answered(changes["first_response_at"], changes.get("last_outbound_at") or ticket.last_outbound_at,
                                   ticket.last_inbound_at)
        if ticket.resolution_due_at and ticket.status != "closed":
            changes.update(keys.sla_due(ticket.status, ticket.priority, ticket.resolution_due_at, ticket.id, answered))
        elif ticket.status != "closed":
            changes.update(keys.inbox_index(ticket.status, ticket.priority, ticket.sla_due_at or "", ticket.id, answered))
        expr, names, values = update_expression(changes)
        try:
            self.table.update_item(
                Key=keys.ticket(ticket.id), UpdateExpression=expr, ExpressionAttributeNames=names | {"#st": "status"},
                ConditionExpression="attribute_exists(PK) AND attribute_not_exists(first_response_at) "
                                    "AND #st = :was AND priority = :prio",
                ExpressionAttributeValues=dynamo({**values, ":was": ticket.status, ":prio": ticket.priority}))
            return True
        except ClientError as err:
            if conditional_failed(err):
                return False
            raise

    def _resolution_next(self, read: Ticket) -> None:
        ticket = Ticket.from_item(plain(self.table.get_item(Key=keys.ticket(read.id), ConsistentRead=True)["Item"]))
        if ticket.resolution_due_at and ticket.status != "closed":  # placed by its status and priority now
            expr, names, values = update_expression(
                keys.sla_due(ticket.status, ticket.priority, ticket.resolution_due_at, ticket.id, ticket.answered))
            self.table.update_item(Key=keys.ticket(ticket.id), UpdateExpression=expr,
                                   ConditionExpression="attribute_exists(PK)", ExpressionAttributeNames=names,
                                   ExpressionAttributeValues=values)

    def _place(self, ticket_id: str, attempts: int = 3) -> None:
        """The ticket's inbox place (GSI1SK) as it now is, answered or not, if that moved: a later
        reply puts it back below the unanswered of its priority. Conditional on the place read."""
        for _ in range(attempts):
            item = self.table.get_item(Key=keys.ticket(ticket_id), ConsistentRead=True).get("Item")
            if not item or "GSI1SK" not in item:
                return
            ticket = Ticket.from_item(plain(item))
            wanted = keys.inbox_index(ticket.status, ticket.priority, ticket.sla_due_at or "", ticket.id,
                                      ticket.answered)["GSI1SK"]
            if item["GSI1SK"] == wanted:
                return
            try:
                self.table.update_item(Key=keys.ticket(ticket_id), UpdateExpression="SET GSI1SK = :w",
                                       ConditionExpression="GSI1SK = :was",
                                       ExpressionAttributeValues={":w": wanted, ":was": item["GSI1SK"]})
                return
            except ClientError as err:
                if not conditional_failed(err):
                    raise

    # -- delivery receipts -------------------------------------------------------------------
    def record_delivery_status(self, receipt: Receipt) -> None:
        self.table.put_item(Item=dynamo({**keys.delivery_status(receipt.platform, receipt.external_id, receipt.at,
                                                                receipt.status), **receipt.to_item()}))

    def delivery_statuses(self, platform: str, external_id: str) -> list[Receipt]:
        return [Receipt.from_item(plain(i)) for i in partition(self.table, *keys.delivery_statuses(platform, external_id))]

    def _set_if(self, ticket_id: str, expression: str, condition: str, values: dict) -> bool:
        try:
            self.table.update_item(Key=keys.ticket(ticket_id), UpdateExpression=expression,
                                   ConditionExpression=f"attribute_exists(PK) AND ({condition})",
                                   ExpressionAttributeValues=values)
            return True
        except ClientError as err:
            if conditional_failed(err):
                return False
            raise
