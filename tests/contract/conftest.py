"""The two implementations of each store port, side by side: DynamoDB under moto's `mock_aws`,
its table built from infra/resources.py as the deployed one is, and the in-memory twin.

Each fixture also says how to put a ticket in place and read it back, because assignment and
release change the ticket in the same write as the agent."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable, Optional

import pytest


@dataclass
class Harness:
    agents: Any  # the AgentStore under test
    put_ticket: Callable[[dict], None]
    ticket: Callable[[str], Optional[dict]]


@pytest.fixture
def dynamodb_table(aws_env):
    import boto3
    from moto import mock_aws
    from moto.dynamodb.responses import DynamoHandler

    from infra import resources

    lock = threading.Lock()  # moto's table is not thread-safe; DynamoDB serialises each request
    original = DynamoHandler.call_action

    def call_action(self):
        with lock:
            return original(self)

    aws_env.setattr(DynamoHandler, "call_action", call_action)
    from chalicelib.store import tickets as ticket_store

    # brands registered "once per container", by table: a new moto table equals (by name) one an
    # earlier test's app still holds, which would skip the registry write the admin inbox reads
    ticket_store._REGISTERED.clear()
    with mock_aws():
        yield boto3.resource("dynamodb").create_table(TableName=resources.TABLE_NAME, **resources.TABLE_DEFINITION)


@pytest.fixture(params=["dynamodb", "memory"])
def store(request) -> Harness:
    if request.param == "memory":
        from chalicelib.store.memory import MemoryAgentStore

        agents = MemoryAgentStore()
        return Harness(agents, lambda t: agents.tickets.__setitem__(t["id"], dict(t)),
                       lambda ticket_id: agents.tickets.get(ticket_id))
    from chalicelib.store import keys
    from chalicelib.store.agents import DynamoAgentStore
    from chalicelib.store.items import plain

    table = request.getfixturevalue("dynamodb_table")

    def ticket(ticket_id: str) -> Optional[dict]:
        item = plain(table.get_item(Key=keys.ticket(ticket_id), ConsistentRead=True).get("Item"))
        return None if item is None else {k: v for k, v in item.items() if k not in ("PK", "SK")}

    return Harness(DynamoAgentStore(table), lambda t: table.put_item(Item={**keys.ticket(t["id"]), **t}), ticket)


@pytest.fixture(params=["dynamodb", "memory"])
def accounts(request):
    """The AccountStore under test."""
    if request.param == "memory":
        from chalicelib.store.memory import MemoryAccountStore

        return MemoryAccountStore()
    from chalicelib.store.accounts import DynamoAccountStore

    return DynamoAccountStore(request.getfixturevalue("dynamodb_table"))


@pytest.fixture(params=["dynamodb", "memory"])
def teams(request):
    """The TeamStore under test."""
    if request.param == "memory":
        from chalicelib.store.memory import MemoryTeamStore

        return MemoryTeamStore()
    from chalicelib.store.teams import DynamoTeamStore

    return DynamoTeamStore(request.getfixturevalue("dynamodb_table"))


@pytest.fixture(params=["dynamodb", "memory"])
def customers(request):
    """The CustomerStore under test."""
    if request.param == "memory":
        from chalicelib.store.memory import MemoryCustomerStore

        return MemoryCustomerStore()
    from chalicelib.store.customers import DynamoCustomerStore

    return DynamoCustomerStore(request.getfixturevalue("dynamodb_table"))


@dataclass
class Desk:
    """A TicketStore, a MessageStore and an AgentStore over one state (one table, or one
    MemoryStore), because an inbound message changes its ticket and a change of holder an agent."""

    tickets: Any
    messages: Any
    agents: Any
    touchpoints: Callable[[str], list[dict]]  # a customer's touchpoints, oldest first


@pytest.fixture(params=["dynamodb", "memory"])
def desk(request) -> Desk:
    if request.param == "memory":
        from chalicelib.store.memory import MemoryStore

        memory = MemoryStore()
        return Desk(memory.tickets, memory.messages, memory.agents,
                    lambda customer_id: sorted(memory.customers.touchpoints.get(customer_id, []),
                                               key=lambda t: t["SK"]))
    from chalicelib.store import keys
    from chalicelib.store.agents import DynamoAgentStore
    from chalicelib.store.items import partition, plain
    from chalicelib.store.messages import DynamoMessageStore
    from chalicelib.store.tickets import DynamoTicketStore

    table = request.getfixturevalue("dynamodb_table")

    def touchpoints(customer_id: str) -> list[dict]:
        pk, low, _ = keys.touchpoints_between(customer_id, "")
        return [plain(i) for i in partition(table, pk, low)]

    return Desk(DynamoTicketStore(table), DynamoMessageStore(table), DynamoAgentStore(table), touchpoints)
