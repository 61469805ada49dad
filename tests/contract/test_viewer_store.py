"""The ViewerStore contract (issue 16), on DynamoDB (moto) and in memory alike: a heartbeat replaces
the agent's one entry in the brand; what has expired is never read back (TTL deletes lazily, so the
reader drops it); a brand reads only its own; leaving removes the entry only while it still names
that ticket."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.aggregates.viewer import Viewer

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["dynamodb", "memory"])
def viewers(request):
    if request.param == "memory":
        from chalicelib.store.memory import MemoryViewerStore

        return MemoryViewerStore()
    from chalicelib.store.presence import DynamoViewerStore

    return DynamoViewerStore(request.getfixturevalue("dynamodb_table"))


def _on(agent_id, ticket_id, state="viewing", at=NOW, lasts=25):
    return Viewer.beat(agent_id, agent_id.title(), ticket_id, state, at, lasts)


def test_a_heartbeat_is_read_back_and_the_next_one_replaces_it(viewers):
    viewers.beat("acme", _on("ana", "t1"))
    assert viewers.on("acme", NOW) == [_on("ana", "t1")]
    viewers.beat("acme", _on("ana", "t2", "typing", at=NOW + timedelta(seconds=10)))
    assert viewers.on("acme", NOW + timedelta(seconds=10)) == [_on("ana", "t2", "typing", at=NOW + timedelta(seconds=10))]


def test_expired_entries_are_never_read_back(viewers):
    viewers.beat("acme", _on("ana", "t1"))
    viewers.beat("acme", _on("wei", "t1", at=NOW + timedelta(seconds=20)))
    assert [v.agent_id for v in viewers.on("acme", NOW + timedelta(seconds=24))] == ["ana", "wei"]
    assert [v.agent_id for v in viewers.on("acme", NOW + timedelta(seconds=25))] == ["wei"]
    assert viewers.on("acme", NOW + timedelta(seconds=45)) == []


def test_each_brand_reads_only_its_own(viewers):
    viewers.beat("acme", _on("ana", "t1"))
    viewers.beat("globex", _on("ana", "g1"))
    viewers.beat(None, _on("wei", "n1"))
    assert [v.ticket_id for v in viewers.on("acme", NOW)] == ["t1"]
    assert [v.ticket_id for v in viewers.on("globex", NOW)] == ["g1"]
    assert [v.ticket_id for v in viewers.on(None, NOW)] == ["n1"]


def test_leaving_removes_the_entry_only_while_it_names_that_ticket(viewers):
    viewers.beat("acme", _on("ana", "t2"))
    viewers.leave("acme", "ana", "t1")  # a late leave of the ticket before
    assert [v.ticket_id for v in viewers.on("acme", NOW)] == ["t2"]
    viewers.leave("acme", "ana", "t2")
    viewers.leave("acme", "nobody", "t2")
    assert viewers.on("acme", NOW) == []


def test_the_entry_carries_the_tables_ttl_attribute(dynamodb_table):
    from chalicelib.store import keys
    from chalicelib.store.presence import DynamoViewerStore
    from infra import resources

    DynamoViewerStore(dynamodb_table).beat("acme", _on("ana", "t1"))
    item = dynamodb_table.get_item(Key=keys.viewer("acme", "ana"))["Item"]
    assert int(item[resources.TTL_ATTRIBUTE]) == int(NOW.timestamp()) + 25
