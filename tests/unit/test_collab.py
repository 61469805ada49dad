"""Collision detection's rules (issue 16, point 1) on the in-memory store: a heartbeat puts the
agent on the ticket for PRESENCE_SECONDS and the others see her (never themselves), on the ticket
and on its inbox row; leaving or going quiet takes her off; another brand's ticket is not found. A
reply or note composed before messages in or out that its author has not seen is refused, naming
them; her own messages and a repeat of the same request are not. The HTTP round trips on moto are
in tests/integration/test_collision.py."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import api, collab, tickets
from chalicelib.aggregates.agent import Agent
from chalicelib.aggregates.message import Message
from chalicelib.aggregates.ticket import Ticket
from chalicelib.auth import Principal
from chalicelib.errors import Invalid, NotFound
from chalicelib.models import sortable
from chalicelib.store import keys
from chalicelib.store.memory import MemoryStore

AT = "2026-11-24T10:00:00+00:00"
NOW = datetime(2026, 11, 24, 10, 5, tzinfo=timezone.utc)
ACME = frozenset({"acme"})
ANA, WEI = Principal("ana", "agent", ACME), Principal("wei", "agent", ACME)
OTHER_BRAND = Principal("nora", "agent", frozenset({"globex"}))


@pytest.fixture
def desk() -> MemoryStore:
    collab._names.clear()  # kept per container
    desk = MemoryStore()
    for agent_id, name in (("ana", "Ana Berg"), ("wei", "Wei Zhang")):
        desk.agents.put(Agent(id=agent_id, name=name, status="online", capacity=3, brands=["acme"]))
    for ticket_id in ("t1", "t2"):
        new = Ticket.opened(ticket_id, channel="x", kind="mention", brand="acme", brand_account_id="b1",
                            conversation_key=f"conv-{ticket_id}", opened_by=f"x#{ticket_id}", customer_id="c1",
                            now_iso=AT, first_inbound_at=AT, clocks={"sla_due_at": AT}, visibility="public",
                            language="en", topic="delivery", subject=None)
        desk.tickets.open_for(new.conversation_key, new)
        desk.tickets.update(ticket_id, 0, {"priority": 40, **keys.inbox_index("open", 40, AT, ticket_id)})
    return desk


def _beat(desk, who, state="viewing", ticket_id="t1", at=NOW):
    return collab.heartbeat(desk, ticket_id, collab.HeartbeatRequest(state=state), who, now=at)


# -- presence ----------------------------------------------------------------------------------
def test_a_heartbeat_shows_the_agent_to_the_others_never_to_herself(desk):
    assert _beat(desk, ANA)["viewers"] == []
    seen_by_wei = _beat(desk, WEI, "typing")["viewers"]
    assert [(v["agent_id"], v["name"], v["state"]) for v in seen_by_wei] == [("ana", "Ana Berg", "viewing")]
    assert [(v["name"], v["state"]) for v in collab.others_on(desk, desk.tickets.get("t1"), "ana", NOW)] == [
        ("Wei Zhang", "typing")]


def test_the_agent_is_gone_once_her_heartbeat_is_older_than_presence_seconds(desk):
    _beat(desk, ANA)
    ticket = desk.tickets.get("t1")
    almost = NOW + timedelta(seconds=collab.PRESENCE_SECONDS - 1)
    assert [v["agent_id"] for v in collab.others_on(desk, ticket, "wei", almost)] == ["ana"]
    assert collab.others_on(desk, ticket, "wei", NOW + timedelta(seconds=collab.PRESENCE_SECONDS)) == []


def test_leaving_takes_her_off_and_one_agent_is_on_one_ticket_at_a_time(desk):
    _beat(desk, ANA, ticket_id="t1")
    _beat(desk, ANA, ticket_id="t2")  # she moved on: not on t1 any more
    assert collab.others_on(desk, desk.tickets.get("t1"), "wei", NOW) == []
    _beat(desk, ANA, "left", ticket_id="t1")  # a late "left" for t1 leaves her on t2
    assert [v["agent_id"] for v in collab.others_on(desk, desk.tickets.get("t2"), "wei", NOW)] == ["ana"]
    _beat(desk, ANA, "left", ticket_id="t2")
    assert collab.others_on(desk, desk.tickets.get("t2"), "wei", NOW) == []


def test_another_brands_ticket_is_not_found_and_nothing_is_recorded(desk):
    with pytest.raises(NotFound):
        _beat(desk, OTHER_BRAND)
    assert desk.viewers.on("acme", NOW) == [] and desk.viewers.on("globex", NOW) == []


def test_the_inbox_rows_and_the_ticket_view_name_who_else_is_there(desk):
    _beat(desk, ANA, "typing", ticket_id="t2", at=datetime.now(timezone.utc))
    rows = {t["id"]: t["viewers"] for t in api.list_tickets(desk, None, WEI)["items"]}
    assert rows["t1"] == [] and [(v["name"], v["state"]) for v in rows["t2"]] == [("Ana Berg", "typing")]
    assert all(t["viewers"] == [] for t in api.list_tickets(desk, None, ANA)["items"])  # never herself


# -- stale view --------------------------------------------------------------------------------
def _message(message_id, direction, minute, agent_id=None, text="hello"):
    at = f"2026-11-24T10:{minute:02d}:00.000000+00:00"
    if direction == "in":
        return Message.model_validate({"id": message_id, "direction": "in", "created_at": at, "text": text,
                                       "author": {"id": "42", "name": "Kim", "handle": "kim"}})
    return Message.model_validate({"id": message_id, "direction": direction, "created_at": at, "text": text,
                                   "ticket_id": "t1", "agent_id": agent_id,
                                   "author": {"id": agent_id, "name": agent_id.title()}})


TIMELINE = [_message("m1", "in", 1), _message("n1", "note", 2, "wei"), _message("m2", "in", 3, text="x" * 500),
            _message("r1", "out", 4, "wei"), _message("e1", "event", 5, "wei"), _message("r2", "out", 6, "ana")]


def test_messages_in_or_out_after_what_she_saw_are_named_oldest_first():
    with pytest.raises(collab.StaleView) as refused:
        collab.refuse_if_stale(TIMELINE, "m1", "ana", page=50)
    unseen = refused.value.unseen
    assert [(u["id"], u["direction"], u["author"]) for u in unseen] == [("m2", "in", "Kim"), ("r1", "out", "Wei")]
    assert len(unseen[0]["text"]) == collab.PREVIEW_CHARACTERS and unseen[0]["text"].endswith("…")
    assert unseen[0]["created_at"] == TIMELINE[2].created_at
    assert "unseen" in refused.value.body() and refused.value.body()["error"]


def test_her_own_replies_notes_and_events_are_not_unseen():
    collab.refuse_if_stale(TIMELINE, "r1", "ana", page=50)  # then an event and her own reply: nothing new
    collab.refuse_if_stale(TIMELINE, "r2", "ana", page=50)


def test_a_repeat_of_a_request_already_stored_is_never_refused():
    collab.refuse_if_stale(TIMELINE, "m1", "ana", page=50, repeat_of="r2")
    with pytest.raises(collab.StaleView):
        collab.refuse_if_stale(TIMELINE, "m1", "ana", page=50, repeat_of="not-there")


def test_an_unknown_seen_is_invalid_unless_it_may_be_older_than_the_page():
    with pytest.raises(Invalid):
        collab.refuse_if_stale(TIMELINE, "nope", "ana", page=50)
    with pytest.raises(collab.StaleView) as refused:  # the page is full: what she saw is older than all of it
        collab.refuse_if_stale(TIMELINE, "older", "ana", page=len(TIMELINE))
    assert [u["id"] for u in refused.value.unseen] == ["m1", "m2", "r1"]


def test_a_note_on_a_stale_view_is_refused_and_nothing_is_written(desk):
    first = tickets.add_note(desk, "t1", tickets.NoteRequest(text="looking"), ANA)
    later = _message("r9", "out", 30, "wei", text="Sent you a new lamp")
    desk.messages.put(later.changed({"created_at": sortable(datetime.now(timezone.utc) + timedelta(seconds=1))}))
    with pytest.raises(collab.StaleView) as refused:
        tickets.add_note(desk, "t1", tickets.NoteRequest(text="I'll answer", seen=first["id"]), ANA)
    assert [u["text"] for u in refused.value.unseen] == ["Sent you a new lamp"]
    assert [m.direction for m in desk.messages.timeline("t1")] == ["note", "out"]
    tickets.add_note(desk, "t1", tickets.NoteRequest(text="ok, Wei has it", seen="r9"), ANA)
    assert sorted(m.direction for m in desk.messages.timeline("t1")) == ["note", "note", "out"]


def test_a_heartbeat_reads_the_agents_name_once_per_container_while_it_is_kept(desk, monkeypatch):
    reads = []
    real = desk.agents.get
    monkeypatch.setattr(desk.agents, "get", lambda agent_id: reads.append(agent_id) or real(agent_id))
    for _ in range(5):
        _beat(desk, ANA)
    assert reads == ["ana"]
    kept_at, name = collab._names["ana"]
    collab._names["ana"] = (kept_at - collab.NAME_KEPT_SECONDS - 1, name)  # time passes
    _beat(desk, ANA)
    assert reads == ["ana", "ana"]
    assert [v["name"] for v in collab.others_on(desk, desk.tickets.get("t1"), "wei", NOW)] == ["Ana Berg"]
