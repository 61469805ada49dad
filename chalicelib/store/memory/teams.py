"""The in-memory TeamStore (see the package docstring)."""
from __future__ import annotations

import threading
from typing import Optional

from chalicelib.aggregates.team import Team


class MemoryTeamStore:
    """Teams in a dict keyed by id."""

    def __init__(self):
        self.teams: dict[str, Team] = {}
        self._lock = threading.Lock()

    def get(self, team_id: str) -> Optional[Team]:
        with self._lock:
            team = self.teams.get(team_id)
            return None if team is None else team.model_copy(deep=True)

    def put(self, team: Team) -> None:
        with self._lock:
            self.teams[team.id] = Team.from_item(team.to_item())

    def delete(self, team_id: str) -> bool:
        with self._lock:
            return self.teams.pop(team_id, None) is not None

    def all(self) -> list[Team]:
        with self._lock:
            return [self.teams[k].model_copy(deep=True) for k in sorted(self.teams)]
