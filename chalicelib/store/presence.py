"""The ViewerStore port on DynamoDB (issue 16): who is on which ticket of a brand now.

One item an agent a brand, `VIEWERS#<brand> / AGENT#<agent id>` (keys.py), overwritten by each
heartbeat (a plain put, 1 WCU) and carrying `expires_at`, the table's TTL attribute: the partition
never holds more than one item per agent of the brand, whatever TTL's lag, and a reader drops the
items whose expiry has passed itself (TTL deletes lazily, within days). A brand's viewers are one
query of that partition (at most ROSTER_LIMIT items).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from botocore.exceptions import ClientError

from chalicelib.aggregates.viewer import Viewer
from chalicelib.store import keys
from chalicelib.store.items import conditional_failed, plain
from chalicelib.store.ports import ROSTER_LIMIT


class DynamoViewerStore:
    def __init__(self, table: Any):
        self.table = table

    def beat(self, brand: Optional[str], viewer: Viewer) -> None:
        self.table.put_item(Item={**keys.viewer(brand, viewer.agent_id), **viewer.to_item()})

    def leave(self, brand: Optional[str], agent_id: str, ticket_id: str) -> None:
        try:
            self.table.delete_item(Key=keys.viewer(brand, agent_id), ConditionExpression="ticket_id = :t",
                                   ExpressionAttributeValues={":t": ticket_id})
        except ClientError as err:
            if not conditional_failed(err):
                raise

    def on(self, brand: Optional[str], now: datetime) -> list[Viewer]:
        pk, prefix = keys.viewers_of(brand)
        page = self.table.query(KeyConditionExpression="PK = :pk AND begins_with(SK, :sk)", Limit=ROSTER_LIMIT,
                                ExpressionAttributeValues={":pk": pk, ":sk": prefix})
        found = (Viewer.from_item(plain(i)) for i in page.get("Items", []))
        return [v for v in found if v.live(now)]
