"""The CustomerStore port on DynamoDB, given its table (a boto3 Table resource).

A customer is the partition `CUSTOMER#<id>`: `PROFILE`, `IDENTITY#<platform>#<user id>` for each
identity, `TOUCH#<at>#<message id>` for each touchpoint (written by the MessageStore with the
message), `EVENT#<at>#<id>` for each imported CRM event and `MERGE#<id>` for each merge into it.
Each identity also has a pointer item `IDENTITY#<platform>#<user id>` naming its customer (keys.py)
and holding its names and reach as last seen.

First sight is two plain conditional puts, no transaction (2 WCU, where the transaction of three
items was 6): the profile `CUSTOMER#<id>/PROFILE` with the identity folded in (`first_identity`,
instead of its own `IDENTITY#` item in the partition), put only if there is none, then the pointer,
put only if there is none. The id is `first_sight_id` (uuid5 of platform and user id), so racing
workers and a retried message name the same customer and neither put overwrites anything: the
loser of the pointer race reads the winner's pointer. The profile goes first, so a pointer never
names a missing profile; a crash between the two leaves a profile no one points at (and no ticket
names), which the retry finds and points at. A profile found at that id that is gone (merged into
another, or erased: its identity's pointer was deleted with the survivor's erasure, or its own) is
never taken back: the next generation's id is made instead.

A returning author costs the pointer's read and no write unless a name or the reach changed: then
one update of the pointer, which is where the view reads names and reach from (`history` overlays
them on the partition's copies, read in one BatchGetItem); a new name also becomes the profile's
name when that is still the identity's id (a profile first seen by id alone, as Messenger and
Instagram DMs name their authors, until the ingest worker asks the platform for the name).
`identity` reads a pointer alone (the ingest worker: is this author's name known yet?). A profile edit is an update conditional
on the version read; a merge moves items one by one by sort key (the folded first identity becomes
an `IDENTITY#` item of the survivor and leaves the profile) and keeps what it moved in its record,
so the undo moves exactly those back. The customer view reads the profile with its identities
alone (`profile`: the sort keys from `IDENTITY#` to `PROFILE`) and the touchpoints a page at a
time, newest first (`latest_touchpoints`).
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Iterable, Iterator, Mapping, Optional

from botocore.exceptions import ClientError

from chalicelib.aggregates.customer import (Customer, CustomerEvent, CustomerHistory, Identity, Merge, Moved,
                                              GENERATIONS, changed_fields, check_changes, first_sight_id)
from chalicelib.errors import ConcurrentUpdate, NotFound
from chalicelib.store import keys
from chalicelib.store.items import conditional_failed, dynamo, partition, plain, update_expression


FIRST_IDENTITY = "first_identity"  # the profile's attribute holding the identity it was first seen from


def identities_and_profile(customer_id: str) -> tuple[str, str, str]:
    """Query: a customer's identities, merges and profile, which sort between its events and its
    touchpoints (PK, lowest SK, highest SK). A key function for keys.py, kept here for now."""
    profile = keys.customer(customer_id)
    return profile["PK"], keys.customer_identity(customer_id, "", "")["SK"].rstrip("#") + "#", profile["SK"]


class DynamoCustomerStore:
    def __init__(self, table: Any):
        self.table = table
        self.client = table.meta.client  # transactions: the resource's client serialises plain values itself
        self.name = table.name

    def link(self, platform: str, author: Mapping[str, Any], now: datetime) -> str:
        found = self.table.get_item(Key=keys.identity(platform, author["id"]), ConsistentRead=True).get("Item")
        if found:
            self._refresh(found, platform, author)
            return found["customer_id"]
        customer_id = self._first_profile(platform, author, now)
        try:
            self.table.put_item(Item=dynamo({**keys.identity(platform, author["id"]),
                                             **Identity.of_author(platform, author, customer_id).to_item()}),
                                ConditionExpression="attribute_not_exists(PK)")
            return customer_id
        except ClientError as err:
            if not conditional_failed(err):
                raise
        # Another worker linked the same identity a moment ago: use theirs.
        found = self.table.get_item(Key=keys.identity(platform, author["id"]), ConsistentRead=True)["Item"]
        return found["customer_id"]

    def _first_profile(self, platform: str, author: Mapping[str, Any], now: datetime) -> str:
        """The id of a profile made for this identity, put now or found put by a racing worker or
        an earlier try of the same message; one that is gone is skipped for the next generation's."""
        for generation in range(GENERATIONS):
            customer_id = first_sight_id(platform, author["id"], generation)
            first = Identity.of_author(platform, author, customer_id).model_copy(update={"linked_at": now.isoformat()})
            try:
                self.table.put_item(
                    Item=dynamo({**keys.customer(customer_id), **Customer.first_seen(customer_id, author, now).to_item(),
                                 FIRST_IDENTITY: first.to_item()}),
                    ConditionExpression="attribute_not_exists(PK)", ReturnValuesOnConditionCheckFailure="ALL_OLD")
                return customer_id
            except ClientError as err:
                if not conditional_failed(err):
                    raise
                there = err.response.get("Item") or self.table.get_item(
                    Key=keys.customer(customer_id), ConsistentRead=True).get("Item") or {}
            if not ("merged_into" in there or "erased_at" in there):  # (raw or plain: only presence is asked)
                return customer_id
        customer_id = str(uuid.uuid4())  # gone that many times: a random id, as the desk always made
        self.table.put_item(Item=dynamo({**keys.customer(customer_id), **Customer.first_seen(customer_id, author, now).to_item(),
                                         FIRST_IDENTITY: Identity.of_author(platform, author, customer_id).model_copy(
                                             update={"linked_at": now.isoformat()}).to_item()}))
        return customer_id

    def _refresh(self, pointer: Mapping[str, Any], platform: str, author: Mapping[str, Any]) -> None:
        """Only what changed, on the pointer (where the view reads names and reach), only if it is
        still there (an erasure may have deleted it since it was read)."""
        fields = changed_fields(author, pointer)
        if not fields:
            return
        expr, names, values = update_expression(fields)
        try:
            self.table.update_item(Key=keys.identity(platform, author["id"]), UpdateExpression=expr,
                                   ConditionExpression="attribute_exists(PK)", ExpressionAttributeNames=names,
                                   ExpressionAttributeValues=dynamo(values))
        except ClientError as err:
            if not conditional_failed(err):
                raise
            return
        if fields.get("name"):
            self._name_placeholder(pointer["customer_id"], author["id"], fields["name"])

    def _name_placeholder(self, customer_id: str, user_id: str, name: str) -> None:
        """A profile first seen by its identity's id alone (`Customer.first_seen`) takes the name
        the platform gave since; a name an agent set, or any real one, stays."""
        try:
            self.table.update_item(Key=keys.customer(customer_id), UpdateExpression="SET #n = :name",
                                   ConditionExpression="#n = :id", ExpressionAttributeNames={"#n": "name"},
                                   ExpressionAttributeValues={":name": name, ":id": user_id})
        except ClientError as err:
            if not conditional_failed(err):
                raise

    def name_asked(self, platform: str, user_id: str, now: datetime) -> None:
        """The platform was asked this identity's name and did not give it: noted on the pointer, so
        the ingest worker does not ask again on every message (`outbound/authors.py`, ASK_AGAIN)."""
        try:
            self.table.update_item(Key=keys.identity(platform, user_id), UpdateExpression="SET name_asked_at = :t",
                                   ConditionExpression="attribute_exists(PK)",
                                   ExpressionAttributeValues={":t": now.isoformat()})
        except ClientError as err:
            if not conditional_failed(err):
                raise

    def identity(self, platform: str, user_id: str) -> Optional[Identity]:
        """The identity's pointer: its customer and the names and reach as last seen (None: never seen)."""
        item = plain(self.table.get_item(Key=keys.identity(platform, user_id)).get("Item"))
        return None if item is None else Identity.from_item(item)

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
        identities = self._identities(profile, items)
        pointers = self._pointers((i.platform, i.user_id) for i in identities)
        return CustomerHistory(
            customer=Customer.from_item(profile),
            identities=[i.refreshed_from(pointers.get((i.platform, i.user_id))) for i in identities],
            touchpoints=[i for i in items if keys.customer_item_kind(i["SK"]) == "touchpoint"])

    def profile(self, customer_id: str) -> CustomerHistory:
        pk, low, high = identities_and_profile(customer_id)
        query = {"KeyConditionExpression": "PK = :pk AND SK BETWEEN :low AND :high",
                 "ExpressionAttributeValues": {":pk": pk, ":low": low, ":high": high}}
        page = self.table.query(**query)
        items = [plain(i) for i in page["Items"]]
        while page.get("LastEvaluatedKey"):
            page = self.table.query(**query, ExclusiveStartKey=page["LastEvaluatedKey"])
            items += [plain(i) for i in page["Items"]]
        profile = next((i for i in items if keys.customer_item_kind(i["SK"]) == "profile"), None)
        if profile is None:
            raise NotFound(customer_id)
        identities = self._identities(profile, items)
        pointers = self._pointers((i.platform, i.user_id) for i in identities)
        return CustomerHistory(customer=Customer.from_item(profile),
                               identities=[i.refreshed_from(pointers.get((i.platform, i.user_id))) for i in identities])

    def latest_touchpoints(self, customer_id: str, before: Optional[str], limit: int) -> tuple[list[dict], Optional[str]]:
        pk, low, high = keys.touchpoints_between(customer_id, "")
        query: dict = {"KeyConditionExpression": "PK = :pk AND SK BETWEEN :low AND :high", "ScanIndexForward": False,
                       "Limit": limit, "ExpressionAttributeValues": {":pk": pk, ":low": low, ":high": high}}
        if before:
            query["ExclusiveStartKey"] = {"PK": pk, "SK": before}
        items = [plain(i) for i in self.table.query(**query)["Items"]]
        return items, (items[-1]["SK"] if len(items) == limit else None)

    @staticmethod
    def _identities(profile: Mapping[str, Any], items: list[dict]) -> list[Identity]:
        """The partition's copies: the first identity folded into the profile and the `IDENTITY#`
        items, in the table's order (as if the folded one were an item too)."""
        found = [Identity.from_item(i) for i in items if keys.customer_item_kind(i["SK"]) == "identity"]
        if profile.get(FIRST_IDENTITY):
            found.append(Identity.from_item(profile[FIRST_IDENTITY]))
        return sorted(found, key=lambda i: f"{i.platform}#{i.user_id}")

    def _pointers(self, names: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict]:
        wanted = [keys.identity(p, u) for p, u in dict.fromkeys(names)]
        found: dict[tuple[str, str], dict] = {}
        for start in range(0, len(wanted), 100):
            request = {self.name: {"Keys": wanted[start:start + 100]}}
            while request:
                page = self.client.batch_get_item(RequestItems=request)
                for item in map(plain, page.get("Responses", {}).get(self.name, [])):
                    found[(item["platform"], item["user_id"])] = item
                request = page.get("UnprocessedKeys") or None
        return found

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
        profile = next((i for i in items if kind(i) == "profile"), {})
        return Moved(identities=[(i.platform, i.user_id) for i in self._identities(profile, items)],
                     touchpoints=[t["SK"] for t in touchpoints],
                     events=[i["SK"] for i in items if kind(i) == "event"],
                     tickets=sorted({t["ticket_id"] for t in touchpoints if t.get("ticket_id")}))

    def move(self, from_id: str, to_id: str, moved: Moved) -> None:
        old_keys = ([keys.customer_identity(from_id, p, u) for p, u in moved.identities]
                    + [keys.customer_item(from_id, sk) for sk in [*moved.touchpoints, *moved.events]])
        folded = (self.table.get_item(Key=keys.customer(from_id), ConsistentRead=True).get("Item") or {}).get(
            FIRST_IDENTITY)
        for old in old_keys:
            item = self.table.get_item(Key=old, ConsistentRead=True).get("Item")
            if item is None and folded and old["SK"] == keys.customer_identity(from_id, folded["platform"],
                                                                                folded["user_id"])["SK"]:
                self._unfold(from_id, to_id, folded)
                continue
            if item is None:
                continue
            if "customer_id" in item:
                item["customer_id"] = to_id
            self.table.put_item(Item={**item, **keys.customer_item(to_id, old["SK"])})
            self.table.delete_item(Key=old)
        for platform, user_id in moved.identities:
            self.table.update_item(Key=keys.identity(platform, user_id), UpdateExpression="SET customer_id = :c",
                                   ExpressionAttributeValues={":c": to_id})

    def _unfold(self, from_id: str, to_id: str, folded: Mapping[str, Any]) -> None:
        """The identity folded into `from_id`'s profile becomes an `IDENTITY#` item of `to_id`, then
        leaves the profile (if it is still the one folded there)."""
        self.table.put_item(Item={**folded, "customer_id": to_id,
                                  **keys.customer_identity(to_id, folded["platform"], folded["user_id"])})
        try:
            self.table.update_item(Key=keys.customer(from_id), UpdateExpression="REMOVE #f",
                                   ConditionExpression="#f.platform = :p AND #f.user_id = :u",
                                   ExpressionAttributeNames={"#f": FIRST_IDENTITY},
                                   ExpressionAttributeValues={":p": folded["platform"], ":u": folded["user_id"]})
        except ClientError as err:
            if not conditional_failed(err):
                raise

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
                             "REMOVE tags, note, vip, #f",
            ExpressionAttributeNames={"#n": "name", "#f": FIRST_IDENTITY},
            ExpressionAttributeValues={":e": "[erased]", ":t": erased_at, ":b": erased_by, ":zero": 0})

    def _partition(self, customer_id: str) -> Iterator[dict]:
        return partition(self.table, keys.customer_items(customer_id)[0])
