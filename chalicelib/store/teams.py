"""The TeamStore port on DynamoDB, given its table (a boto3 Table resource).

Teams are items `TEAMS / TEAM#<id>` (keys.py); the whole list is one query of that partition.
"""
from __future__ import annotations

from typing import Any, Optional

from chalicelib.aggregates.team import Team
from chalicelib.store import keys
from chalicelib.store.items import dynamo, partition, plain


class DynamoTeamStore:
    def __init__(self, table: Any):
        self.table = table

    def get(self, team_id: str) -> Optional[Team]:
        item = plain(self.table.get_item(Key=keys.team(team_id)).get("Item"))
        return None if item is None else Team.from_item(item)

    def put(self, team: Team) -> None:
        self.table.put_item(Item=dynamo({**keys.team(team.id), **team.to_item()}))

    def delete(self, team_id: str) -> bool:
        return "Attributes" in self.table.delete_item(Key=keys.team(team_id), ReturnValues="ALL_OLD")

    def all(self) -> list[Team]:
        return [Team.from_item(plain(i)) for i in partition(self.table, *keys.all_teams())]
