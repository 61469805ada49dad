"""The Team aggregate: a group of agents that tickets can be sent to, with the languages, skills and
brands it covers (its business hours live in the `hours` settings document, by team id).

A team is built in one place: `Team.from_item`, from an admin's body or read back from the store.
The stored item is `to_item()` plus the keys of store/keys.py, the same shape the desk has always
stored: what was given is stored, what was never given stays absent. Imports pydantic only.
"""
from __future__ import annotations

from typing import Any, Mapping

from pydantic import BaseModel, ConfigDict, Field


class Team(BaseModel):
    model_config = ConfigDict(extra="ignore")  # the table's keys (PK, SK) are the store's business

    id: str
    name: str
    languages: list[str] = Field(default_factory=list)
    skills: list[str] = Field(default_factory=list)
    brands: list[str] = Field(default_factory=list)

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> "Team":
        return cls.model_validate(item)

    def to_item(self) -> dict:
        """The stored attributes (no keys): those given, as the desk always stored them."""
        return self.model_dump(exclude_unset=True, exclude_none=True)
