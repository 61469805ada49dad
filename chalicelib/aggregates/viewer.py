"""The Viewer aggregate: an agent on a ticket now (issue 16, collision detection), as their last
heartbeat said: which ticket, whether they are only viewing it or typing in its composer, when,
and until when it holds (`expires_at`, epoch seconds: the table's TTL attribute, and the cut-off a
reader applies itself, since DynamoDB's TTL deletes lazily). Built in one place, `Viewer.beat`,
or read back with `from_item`. Imports pydantic only.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Mapping, Optional

from pydantic import BaseModel, ConfigDict

State = Literal["viewing", "typing"]


class Viewer(BaseModel):
    model_config = ConfigDict(extra="ignore")  # the table's keys (PK, SK) are the store's business

    agent_id: str
    agent_name: Optional[str] = None
    ticket_id: str
    state: State
    at: str  # ISO time of the heartbeat
    expires_at: int  # epoch seconds: gone after this, whether or not TTL has deleted the item yet

    @classmethod
    def beat(cls, agent_id: str, agent_name: Optional[str], ticket_id: str, state: State, now: datetime,
             lasts_seconds: int) -> "Viewer":
        return cls(agent_id=agent_id, agent_name=agent_name, ticket_id=ticket_id, state=state,
                   at=now.isoformat(), expires_at=int(now.timestamp()) + lasts_seconds)

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> "Viewer":
        return cls.model_validate(item)

    def to_item(self) -> dict:
        return self.model_dump(exclude_none=True)

    def live(self, now: datetime) -> bool:
        return self.expires_at > now.timestamp()
