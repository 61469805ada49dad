"""The TeamStore contract, on DynamoDB (moto) and in memory alike: what is put is what is read (and
what was never given stays absent), a put replaces, a delete says whether there was a team, and
the list is every team in id order."""
from __future__ import annotations

from chalicelib.aggregates.team import Team


def _team(team_id="nordic", **fields) -> Team:
    return Team.from_item({"id": team_id, "name": team_id.title(), **fields})


def test_a_team_put_is_the_team_read_back(teams):
    assert teams.get("nordic") is None
    nordic = _team(languages=["fi", "sv"], skills=["billing"], brands=["nordlight"])
    teams.put(nordic)
    assert teams.get("nordic") == nordic


def test_what_was_never_given_stays_absent(teams):
    teams.put(_team())
    again = teams.get("nordic")
    assert again.to_item() == {"id": "nordic", "name": "Nordic"} and again.languages == []


def test_put_replaces_the_whole_team(teams):
    teams.put(_team(skills=["billing"]))
    teams.put(_team(name="Nordic care", languages=["fi"]))
    assert teams.get("nordic").to_item() == {"id": "nordic", "name": "Nordic care", "languages": ["fi"]}


def test_what_is_read_is_a_copy(teams):
    teams.put(_team(languages=["fi"]))
    teams.get("nordic").languages.append("zz")
    teams.all()[0].name = "changed"
    assert teams.get("nordic") == _team(languages=["fi"])


def test_delete_says_whether_there_was_a_team(teams):
    teams.put(_team())
    assert teams.delete("nordic") is True
    assert teams.delete("nordic") is False and teams.get("nordic") is None


def test_all_lists_every_team_in_id_order(teams):
    assert teams.all() == []
    for team_id in ("night", "care", "nordic"):
        teams.put(_team(team_id))
    assert [t.id for t in teams.all()] == ["care", "night", "nordic"]


def test_an_item_stored_before_the_port_reads_and_writes_back_unchanged(dynamodb_table):
    from chalicelib.store import keys
    from chalicelib.store.teams import DynamoTeamStore

    for item in ({**keys.team("care"), "id": "care", "name": "Care"},
                 {**keys.team("nordic"), "id": "nordic", "name": "Nordic care", "languages": ["fi", "sv"],
                  "skills": [], "brands": ["nordlight"]}):
        dynamodb_table.put_item(Item=item)
        store = DynamoTeamStore(dynamodb_table)
        store.put(store.get(item["id"]))
        assert dynamodb_table.get_item(Key=keys.team(item["id"]))["Item"] == item
