"""Agent load is true after every action (issue 15, point 2): a property-based test.

Random sequences of what moves a ticket between agents run through the real use cases on the
in-memory store (the same ports the table passes in tests/contract): a customer's mention through
the ingest worker (a new conversation opens assigned by `routing.place`; a follow-up threads and
asks the router, which may release it from an agent gone away), the routing worker
(`routing.route`), claim, a supervisor's reassignment and unassignment, bulk assign / unassign /
close (`admin.bulk`), close, done, pending / on hold, reopen (a closed ticket set open again, a
pending one the customer wrote to), and presence (`tickets.set_presence`: away or offline releases
what is unanswered, online is offered the waiting tickets). After every step, for every agent:
load == the tickets they hold (assignee set, status not closed: `Ticket.holder`)."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from chalicelib import admin, desk_settings, pipeline, queues, routing, tickets
from chalicelib.aggregates.agent import Agent
from chalicelib.aggregates.ticket import Ticket
from chalicelib.auth import Forbidden, Principal
from chalicelib.errors import DeskError
from chalicelib.models import Author, Mention, MentionEnvelope, RoutingRequest, Visibility, utcnow
from chalicelib.store.memory import MemoryStore

BRAND = pipeline.DEFAULT_BRAND  # an account the worker discovers is of the default brand
BRANDS = frozenset({BRAND})
AGENTS = ("ana", "wei", "lee")
SUPERVISOR = Principal("sam", "supervisor", BRANDS)
ADMIN = Principal("root", "admin", BRANDS)
CUSTOMERS = 4
STATUSES = ("open", "pending", "on_hold", "closed")


class Desk(MemoryStore):
    """The memory twin, with the desk-wide reads the ingest worker makes answered empty (no
    rules, settings, templates or CRM records: the shipped defaults)."""

    def get_rules(self, brand):
        return None

    def get_settings(self, name):
        return None

    def templates(self):
        return []

    def get_crm(self, platform, keys):
        return None

    def crm_linked(self, crm_ref):
        return []


def held(store: MemoryStore) -> Counter:
    return Counter(Ticket.from_item(t).holder for t in store.tickets.tickets.values())


class LoadMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.store = Desk()
        for agent_id in AGENTS:
            self.store.agents.put(Agent(id=agent_id, name=agent_id.title(), status="online", capacity=2,
                                        languages=["en"], brands=[BRAND]))
        self.store.agents.put(Agent(id="sam", name="Sam", role="supervisor", status="offline", capacity=2,
                                    brands=[BRAND]))
        self.queued: list[RoutingRequest] = []
        self.sent = 0
        self._send = queues.send
        queues.send = lambda url, body: self.queued.append(RoutingRequest.model_validate_json(body))
        pipeline._known_accounts.clear()
        desk_settings._cache.clear()

    def teardown(self):
        queues.send = self._send

    # -- helpers -----------------------------------------------------------------------------
    def _ids(self) -> list[str]:
        return sorted(self.store.tickets.tickets)

    def _pick(self, data, predicate=lambda t: True) -> Ticket | None:
        found = [Ticket.from_item(self.store.tickets.tickets[i]) for i in self._ids()]
        found = [t for t in found if predicate(t)]
        return data.draw(st.sampled_from(found)) if found else None

    def _anything(self, data) -> None:
        """One more action of those below, drawn (for what happens between another's read and write)."""
        step = data.draw(st.sampled_from(("writes", "claim", "reassign", "close", "presence")))
        agent = data.draw(st.sampled_from(AGENTS))
        if step == "writes":
            return self.customer_writes(data.draw(st.integers(0, CUSTOMERS - 1)))
        if step == "claim":
            return self.claim(data, agent)
        if step == "reassign":
            return self.reassign(data, agent)
        if step == "close":
            return self.set_status(data, "closed", True)
        return self.presence(agent, data.draw(st.sampled_from(("online", "away", "offline"))))

    @staticmethod
    def _me(agent_id: str) -> Principal:
        return Principal(agent_id, "agent", BRANDS)

    # -- the actions ---------------------------------------------------------------------------
    @rule(customer=st.integers(0, CUSTOMERS - 1))
    def customer_writes(self, customer):
        """A new conversation opens (assigned by the router's pick, or waiting); a follow-up threads
        into the open one (a pending one reopens) and asks the router."""
        self.sent += 1
        now = utcnow()
        mention = Mention(platform="x", kind="tweet", brand_account_id="b1", external_id=f"m{self.sent}",
                          conversation_id=f"conv-{customer}", author=Author(id=f"u{customer}", name="Kim"),
                          text="where is my order?", visibility=Visibility.PUBLIC, created_at=now - timedelta(seconds=1))
        pipeline.ingest_mention(MentionEnvelope(mention=mention, received_at=now), self.store, queues.send)

    @precondition(lambda self: self.queued)
    @rule()
    def router_runs(self):
        routing.route(self.queued.pop(0), self.store, settings={"sticky": True})

    @rule(data=st.data(), agent=st.sampled_from(AGENTS))
    def claim(self, data, agent):
        ticket = self._pick(data)
        if ticket:
            self._try(tickets.claim, ticket.id, tickets.ClaimRequest(version=ticket.version), self._me(agent))

    @rule(data=st.data(), agent=st.sampled_from(AGENTS + ("sam",)))
    def reassign(self, data, agent):
        ticket = self._pick(data)
        if ticket:
            self._try(tickets.edit, ticket.id, tickets.TicketPatch(version=ticket.version, assignee=agent), SUPERVISOR)

    @rule(data=st.data())
    def unassign(self, data):
        ticket = self._pick(data, lambda t: t.assignee is not None)
        if ticket:
            self._try(tickets.edit, ticket.id, tickets.TicketPatch(version=ticket.version, unassign=True), SUPERVISOR)

    @rule(data=st.data(), action=st.sampled_from(("assign", "unassign", "close")), agent=st.sampled_from(AGENTS))
    def bulk(self, data, action, agent):
        ids = self._ids()
        if not ids:
            return
        chosen = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=4))
        request = admin.BulkRequest(ticket_ids=chosen, action=action, assignee=agent if action == "assign" else None)
        admin.bulk(self.store, request, SUPERVISOR)

    @rule(data=st.data(), status=st.sampled_from(STATUSES), by_holder=st.booleans())
    def set_status(self, data, status, by_holder):
        """Pending, on hold, closed, or open again (a closed ticket reopened), by its holder or a
        supervisor."""
        ticket = self._pick(data)
        if ticket:
            who = self._me(ticket.assignee) if by_holder and ticket.assignee in AGENTS else SUPERVISOR
            self._try(tickets.edit, ticket.id, tickets.TicketPatch(version=ticket.version, status=status), who)

    @rule(data=st.data(), reason=st.sampled_from(("spam", "no_reply_needed")))
    def done(self, data, reason):
        ticket = self._pick(data)
        if ticket:
            who = self._me(ticket.assignee) if ticket.assignee in AGENTS else SUPERVISOR
            self._try(tickets.done, ticket.id, tickets.DoneRequest(reason=reason, version=ticket.version), who)

    @rule(agent=st.sampled_from(AGENTS), status=st.sampled_from(("online", "away", "offline")))
    def presence(self, agent, status):
        tickets.set_presence(self.store, agent, tickets.PresenceRequest(status=status))

    @rule(data=st.data(), agent=st.sampled_from(AGENTS), capacity=st.integers(1, 3), racing=st.booleans())
    def admin_edits_agent(self, data, agent, capacity, racing):
        """An admin changes an agent's profile (PUT /api/agents/{id}); `racing`: tickets move
        between the admin's read of the agent and the write."""
        agents = self.store.agents
        if racing:
            put = agents.put

            def late_put(edited):
                agents.put = put
                self._anything(data)
                put(edited)

            agents.put = late_put
        try:
            admin.put_agent(agents, admin.Agent(id=agent, name=agent.title(), languages=["en"], capacity=capacity),
                            ADMIN)
        finally:
            agents.__dict__.pop("put", None)

    def _try(self, action, *args):
        """An action the desk refuses (a ticket another agent holds, a role without the right)
        changes nothing; the invariant is checked all the same."""
        try:
            action(self.store, *args)
        except (DeskError, Forbidden):
            pass

    # -- the invariant -------------------------------------------------------------------------
    @invariant()
    def load_is_what_they_hold(self):
        holding = held(self.store)
        for agent in self.store.agents.all():
            assert agent.load == holding.get(agent.id, 0), (
                f"{agent.id}: load {agent.load}, holds {holding.get(agent.id, 0)}")


LoadMachine.TestCase.settings = settings(max_examples=100, stateful_step_count=30, deadline=None,
                                         suppress_health_check=[HealthCheck.too_slow])
test_load_is_what_agents_hold = LoadMachine.TestCase
