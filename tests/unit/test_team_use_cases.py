"""The team use cases on the in-memory TeamStore (fast; the same port the DynamoDB store passes in
tests/contract): an admin creates and replaces teams and the list shows them as the API does. The
HTTP round trip (and a ticket sent to a team that exists or not) stays on moto."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib import admin
from chalicelib.auth import Principal
from chalicelib.store.memory import MemoryTeamStore

ROOT = Principal("root", "admin")  # an admin: every brand


@pytest.fixture
def teams() -> MemoryTeamStore:
    return MemoryTeamStore()


def test_a_team_is_stored_and_listed_with_every_field(teams):
    shown = admin.put_team(teams, admin.Team(id="nordic", name="Nordic care", languages=["fi", "sv"]), ROOT)
    assert shown == {"id": "nordic", "name": "Nordic care", "languages": ["fi", "sv"], "skills": [], "brands": []}
    assert admin.list_teams(teams, ROOT) == [shown] and teams.get("nordic").languages == ["fi", "sv"]


def test_a_put_replaces_the_team(teams):
    admin.put_team(teams, admin.Team(id="nordic", name="Nordic", skills=["billing"]), ROOT)
    admin.put_team(teams, admin.Team(id="nordic", name="Nordic care"), ROOT)
    assert teams.get("nordic").skills == [] and [t["name"] for t in admin.list_teams(teams, ROOT)] == ["Nordic care"]


def test_the_team_body_is_checked_before_anything_is_stored(teams):
    with pytest.raises(ValidationError):
        admin.Team.model_validate({"id": "Bad Id", "name": "x"})
    with pytest.raises(ValidationError):
        admin.Team.model_validate({"id": "nordic", "name": "Nordic", "colour": "blue"})
    assert teams.all() == []
