"""DynamoDB persistence of what is not behind a port yet, and the ports themselves.

Given its table (a boto3 Table resource), so tests hand it a moto table. Every write that can
race is conditional; `ClientError` codes become the typed errors of chalicelib.errors.
Keys come from keys.py only. Agents, accounts, teams, customer profiles, tickets and messages live
behind their ports (`self.agents`, store/agents.py; `self.accounts`, store/accounts.py;
`self.teams`, store/teams.py; `self.customers`, store/customers.py; `self.tickets`,
store/tickets.py; `self.messages`, store/messages.py; see docs/ARCHITECTURE.md, "Store ports").
Still here, as plain dicts: quarantine, poller cursors, rules, corrections, settings, templates,
CRM records (the customer port deletes a person's on erasure), and the local stack's scan of every
ticket.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterator, Optional

from botocore.exceptions import ClientError

from chalicelib.errors import ConcurrentUpdate
from chalicelib.store import keys
from chalicelib.store.accounts import DynamoAccountStore
from chalicelib.store.agents import DynamoAgentStore
from chalicelib.store.customers import DynamoCustomerStore
from chalicelib.store.messages import DynamoMessageStore
from chalicelib.store.presence import DynamoViewerStore
from chalicelib.store.tickets import DynamoTicketStore
from chalicelib.store.teams import DynamoTeamStore
from chalicelib.store.items import conditional_failed as _conditional_failed
from chalicelib.store.items import dynamo, partition, plain


class DynamoStore:
    def __init__(self, table: Any):
        self.table = table
        # The resource's client serialises plain Python values itself, transactions included.
        self.client = table.meta.client
        self.name = table.name
        self.agents = DynamoAgentStore(table)  # the AgentStore port
        self.accounts = DynamoAccountStore(table)  # the AccountStore port
        self.teams = DynamoTeamStore(table)  # the TeamStore port
        self.customers = DynamoCustomerStore(table)  # the CustomerStore port (profiles, events, merges, erasure)
        self.tickets = DynamoTicketStore(table)  # the TicketStore port
        self.messages = DynamoMessageStore(table)  # the MessageStore port (inbound, replies, receipts, notes, events)
        self.viewers = DynamoViewerStore(table)  # the ViewerStore port (who is on a ticket now, issue 16)

    # -- the X poller's cursors (in the brand accounts' partition) ------------------------------
    def get_cursor(self, platform: str, account_id: str) -> dict:
        return plain(self.table.get_item(Key=keys.poll_cursor(platform, account_id),
                                         ConsistentRead=True).get("Item")) or {}

    def save_cursor(self, platform: str, account_id: str, **attrs) -> None:
        self.table.put_item(Item=dynamo({**keys.poll_cursor(platform, account_id), **attrs}))

    # -- the SLA sweeper's mark: the minute its buckets were read to -------------------------------
    def sweep_mark(self) -> Optional[str]:
        item = self.table.get_item(Key=keys.sweep_mark(), ConsistentRead=True).get("Item")
        return item["through"] if item else None

    def set_sweep_mark(self, through_iso: str) -> None:
        self.table.put_item(Item={**keys.sweep_mark(), "through": through_iso})

    # -- every ticket, for the local stack's `tickets` command only (a scan: never in Lambda) ----
    def all_tickets(self) -> Iterator[dict]:
        kwargs: dict = {"FilterExpression": "SK = :t", "ExpressionAttributeValues": {":t": keys.TICKET_SK}}
        while True:
            page = self.table.scan(**kwargs)
            for item in page.get("Items", []):
                yield plain(item)
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # -- quarantine ------------------------------------------------------------------------
    def quarantine(self, item_id: str, received_iso: str, record: dict) -> None:
        self.table.put_item(Item=dynamo({**keys.quarantine(received_iso, item_id), "id": item_id,
                                         "received_at": received_iso, **record}))

    def quarantined(self) -> list[dict]:
        return [plain(i) for i in self._query(keys.QUARANTINE_PK, "")]

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
