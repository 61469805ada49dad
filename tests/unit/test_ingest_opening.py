"""The ingest worker opens a new conversation's ticket already assigned (pipeline._open), on the
in-memory store (the same ports the table passes in tests/contract): the router's pick reserves a
slot on the agent's own item, and a slot whose ticket this call did not open is always given back.
The webhook-to-ticket path on moto is tests/integration/test_webhook_to_ticket.py."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from chalicelib import pipeline, routing
from chalicelib.aggregates.agent import Agent
from chalicelib.aggregates.message import Message
from chalicelib.aggregates.ticket import Ticket
from chalicelib.errors import AgentUnavailable, ConcurrentUpdate
from chalicelib.store.memory import MemoryStore

AT = datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def store(monkeypatch) -> MemoryStore:
    desk = MemoryStore()
    desk.agents.put(Agent(id="ana", name="Ana", status="online", capacity=2, brands=["acme"]))

    def place(ticket, store, now=None, roster=None, settings=None):  # the router's pick: ana, if she has room
        try:
            store.agents.reserve("ana")
            return store.agents.get("ana")
        except AgentUnavailable:
            return None

    monkeypatch.setattr(routing, "place", place)
    monkeypatch.setattr(routing, "placed", lambda ticket, agent, moment: None)
    return desk


def _ticket(dedupe: str = "x#1") -> Ticket:
    new = Ticket.opened(pipeline.ticket_id_of(dedupe), channel="x", kind="tweet", brand="acme",
                        brand_account_id="b", conversation_key="conv", opened_by=dedupe, customer_id="c1",
                        now_iso=AT.isoformat(), first_inbound_at=AT.isoformat(), clocks={}, visibility="public",
                        language="en", topic=None, subject=None)
    return new.changed({"message_count": 1, "priority": 40})


def _message(message_id: str = "m1") -> Message:
    return Message.inbound(message_id, mention={"platform": "x", "kind": "tweet", "external_id": message_id,
                                                "text": "where is my order?", "visibility": "public",
                                                "author": {"id": "u1"}},
                           customer_id="c1", created_at=AT.isoformat(), received_at=AT.isoformat(),
                           classification={}, priority=40, priority_rules_version=0, brand="acme")


def test_a_new_ticket_opens_with_the_routers_pick_and_her_slot_taken(store):
    opened = pipeline._open("conv", _ticket(), None, _message(), "c1", store, AT)
    assert opened.assignee == "ana" and store.tickets.get(opened.id).assignee == "ana"
    assert store.agents.get("ana").load == 1


def test_nobody_to_take_it_opens_it_waiting_with_its_first_redrive(store):
    store.agents.reserve("ana"), store.agents.reserve("ana")  # full
    opened = pipeline._open("conv", _ticket(), None, _message(), "c1", store, AT)
    assert opened.assignee is None and opened.waiting_since == AT.isoformat()
    assert [t.id for t in store.tickets.redrives_between("2026-11-27T10:02", "2026-11-27T10:02")] == [opened.id]


def test_a_conversation_another_ticket_took_gives_the_slot_back(store):
    pipeline._open("conv", _ticket("x#1"), None, _message("m1"), "c1", store, AT)
    with pytest.raises(ConcurrentUpdate):  # a second mention raced for the same conversation and lost
        pipeline._open("conv", _ticket("x#2"), None, _message("m2"), "c1", store, AT)
    assert store.agents.get("ana").load == 1  # only the winner's slot


def test_the_same_mention_opened_at_once_in_another_worker_gives_the_slot_back(store):
    first = pipeline._open("conv", _ticket(), None, _message(), "c1", store, AT)
    # a second delivery of the same mention read the conversation before the first pointed it
    again = pipeline._open("conv", _ticket(), None, _message(), "c1", store, AT)
    assert again.id == first.id and store.agents.get("ana").load == 1
    assert store.tickets.get(first.id).assignee == "ana"


def test_a_retry_of_our_own_opening_only_finishes_the_writes(store):
    first = pipeline._open("conv", _ticket(), None, _message(), "c1", store, AT)
    again = pipeline._open("conv", _ticket(), store.tickets.get(first.id), _message(), "c1", store, AT)
    assert again.id == first.id and store.agents.get("ana").load == 1
