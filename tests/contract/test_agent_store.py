"""The AgentStore contract, on DynamoDB (moto) and in memory alike: what is put is what is read,
presence and performance change in place, and assignment and release keep their promises under
races (never past capacity, never a ticket twice, the loser told which side moved)."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.aggregates.agent import Agent, Performance
from chalicelib.errors import AgentUnavailable, ConcurrentUpdate, NotFound, TicketChanged

AT = "2026-11-24T10:00:00+00:00"


def _agent(agent_id="ana", **fields) -> Agent:
    return Agent.from_item({"id": agent_id, "name": agent_id.title(), "role": "agent", "languages": ["el", "en"],
                            "status": "online", "capacity": 2, "load": 0, **fields})


def _ticket(ticket_id="t1", **fields) -> dict:
    return {"id": ticket_id, "status": "open", "version": 3, "waiting_since": AT, **fields}


# -- get, put, delete, all ---------------------------------------------------------------------
def test_an_agent_put_is_the_agent_read_back(store):
    assert store.agents.get("ana") is None
    ana = _agent(skills=["billing"], teams=["nordic"], status_changed_at=AT,
                 performance=Performance(first_response_seconds=90.5, csat=4, counts={"csat": 1}))
    store.agents.put(ana)
    assert store.agents.get("ana") == ana


def test_put_replaces_the_whole_agent(store):
    store.agents.put(_agent(skills=["billing"], status_changed_at=AT))
    store.agents.put(_agent(languages=["fi"]))
    again = store.agents.get("ana")
    assert again.languages == ["fi"] and again.skills == [] and again.status_changed_at is None


def test_what_is_read_is_a_copy(store):
    store.agents.put(_agent())
    store.agents.get("ana").load = 99
    store.agents.all()[0].languages.append("zz")
    assert store.agents.get("ana") == _agent()


def test_delete_says_whether_there_was_an_agent(store):
    store.agents.put(_agent())
    assert store.agents.delete("ana") is True
    assert store.agents.delete("ana") is False and store.agents.get("ana") is None


def test_all_lists_agents_in_id_order_up_to_the_limit(store):
    for agent_id in ("mikko", "ana", "wei", "layla", "zofia"):
        store.agents.put(_agent(agent_id))
    assert [a.id for a in store.agents.all()] == ["ana", "layla", "mikko", "wei", "zofia"]
    assert [a.id for a in store.agents.all(limit=3)] == ["ana", "layla", "mikko"]


# -- presence and performance ------------------------------------------------------------------
def test_set_status_changes_presence_and_when(store):
    store.agents.put(_agent(status="offline", load=1))
    store.agents.set_status("ana", "away", AT)
    ana = store.agents.get("ana")
    assert (ana.status, ana.status_changed_at, ana.load) == ("away", AT, 1)


def test_set_status_of_nobody_is_not_found_and_makes_no_agent(store):
    with pytest.raises(NotFound):
        store.agents.set_status("ghost", "online", AT)
    assert store.agents.get("ghost") is None


def test_performance_is_a_rolling_average_with_counts(store):
    store.agents.put(_agent())
    store.agents.record_performance("ana", "first_response_seconds", 600)
    store.agents.record_performance("ana", "first_response_seconds", 100)  # 600 + 0.2 * (100 - 600)
    store.agents.record_performance("ana", "csat", 5)
    perf = store.agents.get("ana").performance
    assert (perf.first_response_seconds, perf.csat, perf.resolution_seconds) == (500, 5, None)
    assert perf.counts == {"first_response_seconds": 2, "csat": 1}


def test_performance_of_nobody_is_dropped(store):
    store.agents.record_performance("ghost", "csat", 5)
    assert store.agents.get("ghost") is None


def test_concurrent_performance_updates_are_all_counted(store):
    store.agents.put(_agent())
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: store.agents.record_performance("ana", "csat", 4), range(8)))
    assert store.agents.get("ana").performance.counts == {"csat": 8}


def test_the_roster_lists_profile_and_presence_and_all_adds_load_and_performance(store):
    store.agents.put(_agent("wei", load=1, brands=["acme"], teams=["nordic"], capacity=4,
                            performance=Performance(csat=4, counts={"csat": 1})))
    store.agents.put(_agent("ana", load=2, skills=["billing"]))
    store.agents.set_status("ana", "away", AT)
    listed = store.agents.roster()
    assert [a.id for a in listed] == ["ana", "wei"] and [a.id for a in store.agents.roster(limit=1)] == ["ana"]
    assert listed[0] == _agent(load=0, skills=["billing"], status="away", status_changed_at=AT)
    assert listed[1] == _agent("wei", brands=["acme"], teams=["nordic"], capacity=4)  # no load, no performance
    assert store.agents.all() == [store.agents.get("ana"), store.agents.get("wei")]
    assert [a.load for a in store.agents.all()] == [2, 1]
    store.agents.delete("wei")
    assert [a.id for a in store.agents.roster()] == [a.id for a in store.agents.all()] == ["ana"]


def test_get_many_reads_agents_as_they_are_in_the_order_asked(store):
    for agent_id in ("ana", "wei", "zofia"):
        store.agents.put(_agent(agent_id, load=1))
    store.put_ticket(_ticket())
    store.agents.assign_within_capacity("t1", 3, "wei")
    many = store.agents.get_many(["zofia", "ghost", "wei", "zofia"])
    assert many == [store.agents.get("zofia"), store.agents.get("wei")] and many[1].load == 2
    assert store.agents.get_many([]) == []


def test_load_and_performance_never_change_the_roster(store):
    store.agents.put(_agent(load=0, capacity=3))
    store.put_ticket(_ticket())
    listed = store.agents.roster()
    store.agents.assign_within_capacity("t1", 3, "ana")
    store.agents.record_performance("ana", "csat", 5)
    store.agents.move_load("t1", 4, {"team": "nordic"}, {"ana": 1})
    store.agents.release("t1", 5, "ana", AT)
    assert store.agents.roster() == listed and store.agents.get("ana").load == 1


# -- assignment --------------------------------------------------------------------------------
def test_assignment_takes_a_slot_and_the_ticket(store):
    store.agents.put(_agent())
    store.put_ticket(_ticket())
    store.agents.assign_within_capacity("t1", 3, "ana")
    ticket = store.ticket("t1")
    assert (ticket["assignee"], ticket["version"], "waiting_since" in ticket) == ("ana", 4, False)
    assert store.agents.get("ana").load == 1


@pytest.mark.parametrize("agent", [{"load": 2}, {"status": "away"}, {"status": "offline", "load": 0}, None],
                         ids=["full", "away", "offline", "unknown"])
def test_an_agent_full_away_or_unknown_is_unavailable_and_nothing_moves(store, agent):
    if agent is not None:
        store.agents.put(_agent(**agent))
    store.put_ticket(_ticket())
    with pytest.raises(AgentUnavailable):
        store.agents.assign_within_capacity("t1", 3, "ana")
    assert "assignee" not in store.ticket("t1") and store.ticket("t1")["version"] == 3
    assert store.agents.get("ana") == (None if agent is None else _agent(**agent))


@pytest.mark.parametrize("ticket", [{"version": 4}, {"assignee": "wei"}], ids=["stale", "held"])
def test_a_stale_or_held_ticket_is_changed_and_no_slot_is_taken(store, ticket):
    store.agents.put(_agent())
    store.put_ticket(_ticket(**ticket))
    with pytest.raises(TicketChanged):
        store.agents.assign_within_capacity("t1", 3, "ana")
    assert store.agents.get("ana").load == 0


def test_when_both_moved_the_ticket_is_named(store):
    store.agents.put(_agent(load=2))
    store.put_ticket(_ticket(version=9))
    with pytest.raises(TicketChanged) as raised:
        store.agents.assign_within_capacity("t1", 3, "ana")
    assert isinstance(raised.value, ConcurrentUpdate)  # a 409 where it reaches the API


def test_racing_routers_never_overfill_an_agent_or_assign_a_ticket_twice(store):
    store.agents.put(_agent("ana", capacity=3))
    store.agents.put(_agent("wei", capacity=2))
    for i in range(8):
        store.put_ticket(_ticket(f"t{i}", version=0))
    attempts = [(f"t{i}", who) for i in range(8) for who in ("ana", "wei")]

    def attempt(pair):
        try:
            store.agents.assign_within_capacity(pair[0], 0, pair[1])
            return "ok"
        except AgentUnavailable:
            return "agent"
        except TicketChanged:
            return "ticket"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, attempts))
    holders = [store.ticket(f"t{i}").get("assignee") for i in range(8)]
    assert outcomes.count("ok") == 5 == sum(1 for h in holders if h)
    assert store.agents.get("ana").load == holders.count("ana") == 3
    assert store.agents.get("wei").load == holders.count("wei") == 2


def test_racing_reservations_never_overfill_an_agent_and_a_given_back_slot_is_free_again(store):
    store.agents.put(_agent("ana", capacity=3))

    def attempt(_):
        try:
            store.agents.reserve("ana")
            return True
        except AgentUnavailable:
            return False

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert sum(pool.map(attempt, range(8))) == 3
    assert store.agents.get("ana").load == 3
    store.agents.unreserve("ana")
    store.agents.reserve("ana")
    for _ in range(5):
        store.agents.unreserve("ana")  # never below zero
    assert store.agents.get("ana").load == 0


@pytest.mark.parametrize("agent", [_agent(status="away"), _agent(load=2), None])
def test_a_reservation_on_an_agent_away_full_or_unknown_is_unavailable(store, agent):
    if agent:
        store.agents.put(agent)
    with pytest.raises(AgentUnavailable):
        store.agents.reserve("ana")
    assert store.agents.get("ana") == agent


# -- release -----------------------------------------------------------------------------------
def test_release_gives_the_ticket_back_and_frees_the_slot(store):
    store.agents.put(_agent(load=1))
    store.put_ticket(_ticket(assignee="ana", waiting_since=None))
    store.agents.release("t1", 3, "ana", AT)
    ticket = store.ticket("t1")
    assert "assignee" not in ticket
    assert (ticket["previous_assignee"], ticket["waiting_since"], ticket["version"]) == ("ana", AT, 4)
    assert store.agents.get("ana").load == 0


@pytest.mark.parametrize("case", ["stale", "someone-else", "no-load", "unknown-agent"])
def test_a_release_that_does_not_hold_changes_nothing(store, case):
    if case != "unknown-agent":
        store.agents.put(_agent(load=0 if case == "no-load" else 1))
    store.put_ticket(_ticket(assignee="wei" if case == "someone-else" else "ana",
                             version=4 if case == "stale" else 3))
    before = store.ticket("t1")
    with pytest.raises(TicketChanged):
        store.agents.release("t1", 3, "ana", AT)
    assert store.ticket("t1") == before


def test_two_releases_of_one_ticket_free_one_slot(store):
    store.agents.put(_agent(load=2))
    store.put_ticket(_ticket(assignee="ana"))

    def attempt(_):
        try:
            store.agents.release("t1", 3, "ana", AT)
            return True
        except TicketChanged:
            return False

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert sum(pool.map(attempt, range(4))) == 1
    assert store.agents.get("ana").load == 1


def test_an_item_stored_before_the_port_reads_and_writes_back_unchanged(dynamodb_table):
    # Given an agent item as the desk has always stored it (admin's fields, presence, load, performance)
    from decimal import Decimal

    from chalicelib.store import keys
    from chalicelib.store.agents import DynamoAgentStore

    item = {**keys.agent("ana"), "id": "ana", "name": "Ana", "role": "agent", "languages": ["el", "en"],
            "skills": [], "teams": ["nordic"], "capacity": Decimal(10), "status": "online", "load": Decimal(1),
            "status_changed_at": AT, "performance": {"csat": Decimal("4.5"), "counts": {"csat": Decimal(2)}}}
    dynamodb_table.put_item(Item=item)
    agents = DynamoAgentStore(dynamodb_table)
    # When it is read as an Agent and put back
    agents.put(agents.get("ana"))
    # Then the item is the same, attribute for attribute
    assert dynamodb_table.get_item(Key=keys.agent("ana"))["Item"] == item


def test_assignment_writes_the_agents_own_item_and_the_ticket_only(dynamodb_table):
    # Given an agent and a ticket
    from chalicelib.store import keys
    from chalicelib.store.agents import DynamoAgentStore

    agents = DynamoAgentStore(dynamodb_table)
    agents.put(_agent())
    dynamodb_table.put_item(Item={**keys.ticket("t1"), **_ticket()})
    before = {(i["PK"], i["SK"]): i for i in dynamodb_table.scan()["Items"]}
    # When the agent is given the ticket
    agents.assign_within_capacity("t1", 3, "ana")
    # Then only the agent's own item and the ticket changed: their own keys, no shared partition
    after = {(i["PK"], i["SK"]): i for i in dynamodb_table.scan()["Items"]}
    changed = {k for k in after if after[k] != before.get(k)}
    assert changed == {tuple(keys.agent("ana").values()), tuple(keys.ticket("t1").values())}
    assert keys.agent("ana")["PK"] != keys.agent("wei")["PK"]


def test_the_old_agents_partition_moves_once_and_a_newer_record_wins(dynamodb_table):
    # Given agents stored as the desk stored them before (one partition), one of them saved since
    from decimal import Decimal

    from chalicelib.store import keys
    from chalicelib.store.agents import DynamoAgentStore, move_legacy_agents

    pk, prefix = keys.legacy_agents()
    for agent_id, load in (("ana", 2), ("wei", 1)):
        dynamodb_table.put_item(Item={"PK": pk, "SK": prefix + agent_id, "id": agent_id, "role": "agent",
                                      "brands": ["acme"], "status": "online", "capacity": Decimal(5),
                                      "load": Decimal(load)})
    agents = DynamoAgentStore(dynamodb_table)
    agents.put(_agent("wei", load=0, capacity=9))
    # When the migration runs, twice
    moved, again = move_legacy_agents(dynamodb_table), move_legacy_agents(dynamodb_table)
    # Then the old agent is in its own partition with its load and on the roster, the newer record kept,
    # the old partition empty, and the second run moved nothing
    assert (moved, again) == (1, 0)
    assert agents.get("ana") == Agent(id="ana", role="agent", brands=["acme"], status="online", capacity=5, load=2)
    assert [a.id for a in agents.roster()] == ["ana", "wei"] and agents.get("wei").capacity == 9
    assert dynamodb_table.query(KeyConditionExpression="PK = :p", ExpressionAttributeValues={":p": pk})["Items"] == []


# -- the sweeper's load audit --------------------------------------------------------------------
def test_a_load_drift_is_noted_settled_and_cleared_only_while_the_load_is_as_seen(store):
    store.agents.put(_agent("ana", load=2))
    store.agents.note_drift("ana", 1, 1, AT)  # seen at 1: it is 2 now, nothing noted
    assert store.agents.get("ana").load_drift is None
    store.agents.note_drift("ana", 2, 1, AT)
    assert store.agents.get("ana").load_drift == {"load": 2, "held": 1, "at": AT}
    assert store.agents.settle_load("ana", 2, 0) is False  # not what was noted
    assert store.agents.settle_load("ana", 1, 1) is False  # not the load now
    assert store.agents.settle_load("ana", 2, 1) is True
    agent = store.agents.get("ana")
    assert (agent.load, agent.load_drift) == (1, None)
    store.agents.note_drift("ana", 1, 0, AT)
    store.agents.clear_drift("ana")
    store.agents.clear_drift("ana")  # twice: nothing to clear
    assert (store.agents.get("ana").load, store.agents.get("ana").load_drift) == (1, None)
