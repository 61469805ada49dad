"""The AccountStore port on DynamoDB, given its table (a boto3 Table resource).

Accounts are items `ACCOUNTS / ACCOUNT#<platform>#<id>` (keys.py), beside the X poller's cursors
(`POLL#...`, still DynamoStore's). First sight is a conditional put, so of the ingest workers that
meet a new account at once exactly one registers it; a patch is an update of the attributes named,
conditional on the account being there, so it never makes an account out of nothing.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping, Optional

from botocore.exceptions import ClientError

from chalicelib.aggregates.account import Account
from chalicelib.errors import NotFound
from chalicelib.store import keys
from chalicelib.store.items import conditional_failed, dynamo, partition, plain, update_expression


class DynamoAccountStore:
    def __init__(self, table: Any):
        self.table = table

    def get(self, platform: str, account_id: str) -> Optional[Account]:
        item = plain(self.table.get_item(Key=keys.account(platform, account_id)).get("Item"))
        return None if item is None else Account.from_item(item)

    def put(self, account: Account) -> None:
        self.table.put_item(Item=dynamo({**keys.account(account.platform, account.account_id), **account.to_item()}))

    def all(self, platform: Optional[str] = None) -> list[Account]:
        return [Account.from_item(plain(i)) for i in partition(self.table, *keys.accounts_of(platform))]

    def discover(self, platform: str, account_id: str, at: datetime) -> bool:
        account = Account.discovered(platform, account_id, at)
        try:
            self.table.put_item(Item={**keys.account(platform, account_id), **account.to_item()},
                                ConditionExpression="attribute_not_exists(PK)")
            return True
        except ClientError as err:
            if conditional_failed(err):
                return False
            raise

    def update(self, platform: str, account_id: str, changes: Mapping[str, Any]) -> Account:
        Account(platform=platform, account_id=account_id).patched(changes)  # refused before anything is written
        expr, names, values = update_expression(dict(changes))
        try:
            found = self.table.update_item(Key=keys.account(platform, account_id), UpdateExpression=expr,
                                           ConditionExpression="attribute_exists(PK)",
                                           ExpressionAttributeNames=names,
                                           ReturnValues="ALL_NEW",
                                           **({"ExpressionAttributeValues": dynamo(values)} if values else {}))
        except ClientError as err:
            if conditional_failed(err):
                raise NotFound(f"account {platform}/{account_id}") from err
            raise
        return Account.from_item(plain(found["Attributes"]))
