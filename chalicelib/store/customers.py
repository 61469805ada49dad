"""The CustomerStore port on DynamoDB, given its table (a boto3 Table resource).

A customer is the partition `CUSTOMER#<id>`: `PROFILE`, `IDENTITY#<platform>#<user id>` for each
identity, `TOUCH#<at>#<message id>` for each touchpoint (written by the MessageStore with the
message), `EVENT#<at>#<id>` for each imported CRM event and `MERGE#<id>` for each merge into it.
Each identity also has a pointer item `IDENTITY#<platform>#<user id>` naming its customer (keys.py).
First sight is one transaction whose pointer put is conditional on there being none, so two workers
linking the same identity make one customer; a profile edit is an update conditional on the version
read; a merge moves items one by one by sort key and keeps what it moved in its record, so the undo
moves exactly those back.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Iterator, Mapping, Optional

from botocore.exceptions import ClientError

from chalicelib.aggregates.customer import (Customer, CustomerEvent, CustomerHistory, Identity, Merge, Moved,
                                              check_changes, refreshed_fields)
from chalicelib.errors import ConcurrentUpdate, NotFound
from chalicelib.store import keys
from chalicelib.store.items import conditional_failed, dynamo, partition, plain, update_expression


class DynamoCustomerStore:
    def __init__(self, table: Any):
        self.table = table
        self.client = table.meta.client  # transactions: the resource's client serialises plain values itself
        self.name = table.name

    def link(self, platform: str, author: Mapping[str, Any], now: datetime) -> str:
        found = self.table.get_item(Key=keys.identity(platform, author["id"]), ConsistentRead=True).get("Item")
        if found:
            self._refresh(found["customer_id"], platform, author)
            return found["customer_id"]
        customer_id = str(uuid.uuid4())
        identity = Identity.of_author(platform, author, customer_id)
        try:
            self.client.transact_write_items(TransactItems=[
                {"Put": {"TableName": self.name, "ConditionExpression": "attribute_not_exists(PK)",
                         "Item": dynamo({**keys.identity(platform, author["id"]), **identity.to_item()})}},
                {"Put": {"TableName": self.name, "Item": dynamo({
                    **keys.customer(customer_id), **Customer.first_seen(customer_id, author, now).to_item()})}},
                {"Put": {"TableName": self.name, "Item": dynamo({
                    **keys.customer_identity(customer_id, platform, author["id"]), **identity.to_item(),
                    "linked_at": now.isoformat()})}},
            ])
            return customer_id
        except ClientError as err:
            if not conditional_failed(err):
                raise
        # Another worker linked the same identity a moment ago: use theirs.
        found = self.table.get_item(Key=keys.identity(platform, author["id"]), ConsistentRead=True)["Item"]
        return found["customer_id"]

    def _refresh(self, customer_id: str, platform: str, author: Mapping[str, Any]) -> None:
        fields = refreshed_fields(author)
        if not fields:
            return
        expr, names, values = update_expression(fields)
        self.table.update_item(Key=keys.customer_identity(customer_id, platform, author["id"]),
                               UpdateExpression=expr, ExpressionAttributeNames=names,
                               ExpressionAttributeValues=dynamo(values))

    def customer_of(self, platform: str, user_id: str) -> Optional[str]:
        item = self.table.get_item(Key=keys.identity(platform, user_id)).get("Item")
        return item["customer_id"] if item else None

    def get(self, customer_id: str) -> Optional[Customer]:
        item = plain(self.table.get_item(Key=keys.customer(customer_id)).get("Item"))
        return None if item is None else Customer.from_item(item)

    def history(self, customer_id: str) -> CustomerHistory:
        items = [plain(i) for i in self._partition(customer_id)]
        profile = next((i for i in items if keys.customer_item_kind(i["SK"]) == "profile"), None)
        if profile is None:
            raise NotFound(customer_id)
        return CustomerHistory(
            customer=Customer.from_item(profile),
            identities=[Identity.from_item(i) for i in items if keys.customer_item_kind(i["SK"]) == "identity"],
            touchpoints=[i for i in items if keys.customer_item_kind(i["SK"]) == "touchpoint"])

    def update(self, customer_id: str, expected_version: int, changes: Mapping[str, Any]) -> None:
        check_changes(changes)  # refused before anything is written
        expr, names, values = update_expression(dict(changes), "version = if_not_exists(version, :zero) + :one")
        try:
            self.table.update_item(
                Key=keys.customer(customer_id), UpdateExpression=expr,
                ConditionExpression="attribute_exists(PK) AND ((attribute_not_exists(version) AND :v = :zero) "
                                    "OR version = :v)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=dynamo({**values, ":one": 1, ":zero": 0, ":v": expected_version}))
        except ClientError as err:
            if conditional_failed(err):
                raise ConcurrentUpdate(customer_id) from err
            raise

    # -- touchpoints and events --------------------------------------------------------------
    def count_touchpoints(self, customer_id: str, since_iso: str) -> int:
        pk, low, high = keys.touchpoints_between(customer_id, since_iso)
        page = self.table.query(KeyConditionExpression="PK = :pk AND SK BETWEEN :low AND :high", Select="COUNT",
                                ExpressionAttributeValues={":pk": pk, ":low": low, ":high": high})
        return int(page["Count"])

    def events(self, customer_id: str) -> list[CustomerEvent]:
        return [CustomerEvent.from_item(plain(i)) for i in partition(self.table, *keys.customer_events(customer_id))]

    def put_event(self, customer_id: str, event: CustomerEvent) -> None:
        self.table.put_item(Item=dynamo({**keys.customer_event(customer_id, event.at, event.id), **event.to_item()}))

    # -- merges ----------------------------------------------------------------------------
    def moving(self, customer_id: str) -> Moved:
        items = [plain(i) for i in self._partition(customer_id)]
        kind = lambda i: keys.customer_item_kind(i["SK"])  # noqa: E731
        touchpoints = [i for i in items if kind(i) == "touchpoint"]
        return Moved(identities=[(i["platform"], i["user_id"]) for i in items if kind(i) == "identity"],
                     touchpoints=[t["SK"] for t in touchpoints],
                     events=[i["SK"] for i in items if kind(i) == "event"],
                     tickets=sorted({t["ticket_id"] for t in touchpoints if t.get("ticket_id")}))

    def move(self, from_id: str, to_id: str, moved: Moved) -> None:
        old_keys = ([keys.customer_identity(from_id, p, u) for p, u in moved.identities]
                    + [keys.customer_item(from_id, sk) for sk in [*moved.touchpoints, *moved.events]])
        for old in old_keys:
            item = self.table.get_item(Key=old, ConsistentRead=True).get("Item")
            if item is None:
                continue
            if "customer_id" in item:
                item["customer_id"] = to_id
            self.table.put_item(Item={**item, **keys.customer_item(to_id, old["SK"])})
            self.table.delete_item(Key=old)
        for platform, user_id in moved.identities:
            self.table.update_item(Key=keys.identity(platform, user_id), UpdateExpression="SET customer_id = :c",
                                   ExpressionAttributeValues={":c": to_id})

    def put_merge(self, merge: Merge) -> None:
        self.table.put_item(Item=dynamo({**keys.customer_merge(merge.survivor_id, merge.id), **merge.to_item()}))

    def get_merge(self, survivor_id: str, merge_id: str) -> Optional[Merge]:
        item = plain(self.table.get_item(Key=keys.customer_merge(survivor_id, merge_id), ConsistentRead=True).get("Item"))
        return None if item is None else Merge.from_item(item)

    def mark_merge_undone(self, survivor_id: str, merge_id: str, agent_id: str, at_iso: str) -> None:
        try:
            self.table.update_item(Key=keys.customer_merge(survivor_id, merge_id),
                                   UpdateExpression="SET undone_at = :t, undone_by = :a",
                                   ConditionExpression="attribute_not_exists(undone_at)",
                                   ExpressionAttributeValues={":t": at_iso, ":a": agent_id})
        except ClientError as err:
            if conditional_failed(err):
                raise ConcurrentUpdate(f"merge {merge_id} was undone already") from err
            raise

    # -- erasure ---------------------------------------------------------------------------
    def erase(self, customer_id: str, identities: list[tuple[str, str]], crm_records: list[tuple[str, str]],
              erased_at: str, erased_by: str) -> None:
        for platform, key in crm_records:
            self.table.delete_item(Key=keys.crm(platform, key))
        for platform, user_id in identities:
            self.table.delete_item(Key=keys.identity(platform, user_id))
            self.table.delete_item(Key=keys.customer_identity(customer_id, platform, user_id))
        for event in partition(self.table, *keys.customer_events(customer_id)):
            self.table.delete_item(Key={"PK": event["PK"], "SK": event["SK"]})
        self.table.update_item(
            Key=keys.customer(customer_id),
            UpdateExpression="SET #n = :e, erased_at = :t, erased_by = :b, identity_count = :zero "
                             "REMOVE tags, note, vip",
            ExpressionAttributeNames={"#n": "name"},
            ExpressionAttributeValues={":e": "[erased]", ":t": erased_at, ":b": erased_by, ":zero": 0})

    def _partition(self, customer_id: str) -> Iterator[dict]:
        return partition(self.table, keys.customer_items(customer_id)[0])
