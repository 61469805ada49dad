"""The router and presence on the in-memory desk: a ticket goes only to an agent of its brand (an
admin's record works for every brand), an agent coming online is offered only their brands' waiting
tickets (an agent of no brand nothing, an admin every brand's), and the roster a container keeps
only narrows the candidates: their own items decide."""
from __future__ import annotations

from datetime import datetime, timezone

from chalicelib import routing
from chalicelib.aggregates.agent import Agent
from chalicelib.aggregates.ticket import Ticket
from chalicelib.models import RoutingRequest
from chalicelib.store import keys
from chalicelib.store.memory import MemoryStore

AT = "2026-11-24T10:00:00+00:00"
DUE = "2026-11-24T11:00:00.000000+00:00"
NOW = datetime(2026, 11, 24, 10, 1, tzinfo=timezone.utc)
SETTINGS = dict(routing.DEFAULT_SETTINGS)


def _desk(*agents: Agent) -> MemoryStore:
    desk = MemoryStore()
    for agent in agents:
        desk.agents.put(agent)
    return desk


def _agent(agent_id: str, brands=("acme",), role="agent", load=0, status="online") -> Agent:
    return Agent(id=agent_id, role=role, brands=list(brands), status=status, capacity=3, load=load, languages=["en"])


def _ticket(desk: MemoryStore, ticket_id: str, brand: str) -> Ticket:
    new = Ticket.opened(ticket_id, channel="x", kind="mention", brand=brand, brand_account_id="b1",
                        conversation_key=f"conv-{ticket_id}", opened_by=f"x#{ticket_id}", customer_id="c1",
                        now_iso=AT, first_inbound_at=AT, clocks={"sla_due_at": DUE}, visibility="public",
                        language="en", topic="delivery", subject=None)
    desk.tickets.open_for(new.conversation_key, new)
    return desk.tickets.update(ticket_id, 0, {"priority": 40, **keys.inbox_index("open", 40, DUE, ticket_id)})


def _route(desk: MemoryStore, ticket_id: str, roster=None):
    request = RoutingRequest(ticket_id=ticket_id, message_id="m1", reason="new_message", priority=40)
    return routing.route(request, desk, SETTINGS, NOW, roster=roster)


def test_a_ticket_goes_only_to_an_agent_of_its_brand_even_with_less_room():
    # Given an acme agent with one slot left, and idle agents of another brand and of no brand
    desk = _desk(_agent("ana", load=2), _agent("nora", brands=["nordlight"]), _agent("nobody", brands=()))
    _ticket(desk, "t1", "acme")
    # When the router places an acme ticket
    # Then the acme agent holds it, and nobody else's load moved
    assert _route(desk, "t1") == "ana" and desk.tickets.get("t1").assignee == "ana"
    assert (desk.agents.get("nora").load, desk.agents.get("nobody").load) == (0, 0)


def test_with_no_agent_of_the_brand_the_ticket_waits_or_goes_to_an_admin():
    desk = _desk(_agent("nora", brands=["nordlight"]))
    _ticket(desk, "t1", "acme")
    assert _route(desk, "t1") is None and desk.tickets.get("t1").waiting_since
    desk.agents.put(_agent("root", brands=(), role="admin"))
    assert _route(desk, "t1") == "root"


def test_an_agent_of_no_brand_coming_online_is_offered_nothing():
    desk = _desk(_agent("nobody", brands=()))
    _ticket(desk, "t1", "acme")
    sent: list[str] = []
    assert routing.on_presence(desk, "nobody", "online", sent.append, NOW) == {"released": [], "offered": []}
    assert sent == []


def test_coming_online_offers_an_agent_their_brands_and_an_admin_every_brand():
    desk = _desk(_agent("ana"), _agent("root", brands=(), role="admin"))
    _ticket(desk, "t1", "acme")
    _ticket(desk, "t2", "nordlight")
    assert routing.on_presence(desk, "ana", "online", lambda body: None, NOW)["offered"] == ["t1"]
    assert sorted(routing.on_presence(desk, "root", "online", lambda body: None, NOW)["offered"]) == ["t1", "t2"]


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Counting:
    """An AgentStore that counts the roster reads."""

    def __init__(self, agents):
        self.agents, self.reads = agents, 0

    def roster(self):
        self.reads += 1
        return self.agents.roster()

    def __getattr__(self, name):
        return getattr(self.agents, name)


def test_a_kept_roster_is_read_once_a_ttl_and_own_items_decide():
    # Given a container's roster kept 5 s, read when ana and wei were online
    desk = _desk(_agent("ana"), _agent("wei", load=1))
    counting = Counting(desk.agents)
    desk.agents = counting
    clock = Clock()
    roster = routing.Roster(ttl=5, retry=1, clock=clock)
    for ticket_id in ("t1", "t2", "t3"):
        _ticket(desk, ticket_id, "acme")
    assert _route(desk, "t1", roster) == "ana"
    # When ana goes away (the kept roster still says online) and wei fills up to ana's load
    desk.agents.set_status("ana", "away", AT)
    # Then the next ticket goes to wei, read from his own item, and the roster was read once
    assert _route(desk, "t2", roster) == "wei" and counting.reads == 1
    # And once wei is full nobody is found: a roster younger than `retry` is not read again
    desk.agents.put(_agent("wei", load=3))
    assert _route(desk, "t3", roster) is None and counting.reads == 1
    # But an agent who came online since is found once the kept roster is `retry` old
    desk.agents.put(_agent("zofia", status="offline"))
    desk.agents.set_status("zofia", "online", AT)
    clock.now += 2
    assert _route(desk, "t3", roster) == "zofia" and counting.reads == 2
    clock.now += 5
    _ticket(desk, "t4", "acme")
    assert _route(desk, "t4", roster) == "zofia" and counting.reads == 3  # the ttl passed: read again


def test_an_offer_naming_no_message_reads_the_kept_roster_again():
    # Given a container's roster read while everyone was offline, a ticket waiting
    desk = _desk(_agent("ana", status="offline"))
    counting = Counting(desk.agents)
    desk.agents = counting
    roster = routing.Roster(ttl=5, retry=1, clock=Clock())
    _ticket(desk, "t1", "acme")
    assert _route(desk, "t1", roster) is None and counting.reads == 1
    # When ana comes online and presence offers her the ticket (a request naming no message), within the ttl
    desk.agents.set_status("ana", "online", AT)
    sent: list[str] = []
    routing.on_presence(desk, "ana", "online", sent.append, NOW)
    [offer] = [RoutingRequest.model_validate_json(body) for body in sent]
    # Then the router reads the roster again and gives it to her
    assert routing.route(offer, desk, SETTINGS, NOW, roster=roster) == "ana" and counting.reads == 2


def test_a_routing_reads_a_bounded_sample_of_the_agents_who_could_take_it_the_previous_agent_always():
    from chalicelib import routing
    from chalicelib.aggregates.ticket import Ticket

    ids = [f"agent{i:03d}" for i in range(200)]
    ticket = Ticket(id="t1", brand="acme", previous_assignee="agent150")
    drawn = routing.sample(ids, ticket)
    assert len(drawn) == routing.CANDIDATE_SAMPLE and drawn[0] == "agent150" and len(set(drawn)) == len(drawn)
    assert set(drawn) <= set(ids) and routing.sample(ids, ticket) == drawn  # a retry draws the same
    assert routing.sample(ids, Ticket(id="t2", brand="acme")) != drawn  # another ticket, another draw
    assert routing.sample(ids[:5], ticket) == ids[:5]  # a small team: everyone
