"""The CustomerStore port on DynamoDB, given its table (a boto3 Table resource).

A customer is the partition `CUSTOMER#<id>`: `PROFILE`, `IDENTITY#<platform>#<user id>` for each
identity, then touchpoints, events and merges (still DynamoStore's). Each identity also has a
pointer item `IDENTITY#<platform>#<user id>` naming its customer (keys.py). First sight is one
transaction whose pointer put is conditional on there being none, so two workers linking the same
identity make one customer; a profile edit is an update conditional on the version read.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Iterator, Mapping, Optional

from botocore.exceptions import ClientError

from chalicelib.aggregates.customer import Customer, CustomerHistory, Identity, check_changes, refreshed_fields
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

    def _partition(self, customer_id: str) -> Iterator[dict]:
        return partition(self.table, keys.customer_items(customer_id)[0])
