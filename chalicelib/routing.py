"""Routing worker: give each ticket to the best available agent, once, never past capacity.

Eligible agents work for the ticket's brand (`Agent.works_for`: an admin's record for every brand),
are online, have a free slot, speak the ticket's language, have its topic among
their skills (an agent without skills takes any topic) and belong to its team (when it has one).
Among them the one with most spare capacity wins, then the better performer; a ticket at or
above `strongest_agent_priority`, or strongly negative, goes to the best performer instead. A
customer's follow-up goes back to the agent who already has their conversation when that agent
is online with a free slot (sticky). With nobody eligible the ticket waits in its queue; after
`relax_language_after_minutes` language stops counting, after `relax_skill_after_minutes` skill
(like Amazon Connect's routing steps); the sweeper retries waiting tickets.

The router reads the roster (profile and presence, `AgentStore.roster`; a container keeps it
`ROSTER_SECONDS`, see `Roster`), keeps those who could take the ticket, then reads those agents' own
items (`AgentStore.get_many`) for their current presence and load, and ranks them.

Assignment is one DynamoDB transaction: the agent's load goes up only while it is below their
capacity and they are online (on the agent's own item), and the ticket gets an assignee only if it
has none at the version read. Two routers can therefore never push an agent past capacity or assign
a ticket twice, however old the roster they read.
"""
from __future__ import annotations

import random
import time
from datetime import datetime
from typing import Any, Callable, Optional

from chalicelib import aws
from chalicelib.aggregates.agent import Agent
from chalicelib.aggregates.ticket import Ticket
from chalicelib.desk_settings import cached_settings, get_settings
from chalicelib.errors import AgentUnavailable, TicketChanged
from chalicelib.models import RoutingRequest, utcnow
from chalicelib.observability import M, count, logger, measure
from chalicelib.store.dynamodb import DynamoStore

DEFAULT_SETTINGS = {"strongest_agent_priority": 80, "strongly_negative_score": -0.6, "sticky": True,
                    "relax_language_after_minutes": 10, "relax_skill_after_minutes": 20}
ATTEMPTS = 5
CANDIDATE_SAMPLE = 8  # agents' own items a routing reads at most (0.5 RCU each): ≤ 4 RCU however large the team
ROSTER_SECONDS = 5.0  # how long a container keeps the roster it read
ROSTER_RETRY_SECONDS = 1.0  # a routing that finds nobody reads again a roster older than this


class Roster:
    """The roster as this container last read it, for the store it was read from, kept
    `ttl` seconds. The copy only narrows the candidates: their own items are read for each
    routing, so an agent gone away or full since is never picked. An agent who came online since
    is missing from it, so a routing that finds nobody reads it again once it is `retry` old, and
    a request that names no message (an offer when an agent comes online, a sweeper's re-drive:
    something changed, and never one a mention) reads it at once."""

    def __init__(self, ttl: float = ROSTER_SECONDS, retry: float = ROSTER_RETRY_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self.ttl, self.retry, self.clock = ttl, retry, clock
        self._source: Any = None
        self._read_at = 0.0
        self._agents: list[Agent] = []

    def read(self, agents, older_than: Optional[float] = None) -> tuple[list[Agent], bool]:
        """The roster of `agents` (an AgentStore), read again when the copy is `older_than` seconds
        (default `ttl`); and whether it was read now."""
        source = getattr(agents, "table", agents)
        age = self.clock() - self._read_at
        if source is not self._source or age >= (self.ttl if older_than is None else older_than):
            self._agents, self._read_at, self._source = agents.roster(), self.clock(), source
            return self._agents, True
        return self._agents, False


def performance(agent: Agent) -> float:
    """0..1: quick first responses and happy customers (neutral 0.5 until there is a record)."""
    return agent.performance.score() if agent.performance else 0.5


def waited_minutes(ticket: Ticket, now: datetime) -> float:
    since = ticket.waiting_since or ticket.created_at
    return max((now - datetime.fromisoformat(since)).total_seconds() / 60, 0) if since else 0.0


def eligible(agent: Agent, ticket: Ticket, settings: dict, waited: float) -> bool:
    if not agent.takes_work() or not agent.works_for(ticket.brand):
        return False
    language = ticket.language
    relax_language = settings.get("relax_language_after_minutes")
    if language and language not in agent.languages and not (
            relax_language is not None and waited >= relax_language):
        return False
    topic, skills = ticket.topic, agent.skills
    relax_skill = settings.get("relax_skill_after_minutes")
    if skills and topic and topic not in skills and not (relax_skill is not None and waited >= relax_skill):
        return False
    team = ticket.team
    return not team or team in agent.teams


def candidates(ticket: Ticket, agents: list[Agent], settings: dict, now: datetime) -> list[Agent]:
    """Eligible agents, best first."""
    waited = waited_minutes(ticket, now)
    pool = [a for a in agents if eligible(a, ticket, settings, waited)]
    sticky = ticket.previous_assignee if settings.get("sticky", True) else None
    score = (ticket.classification or {}).get("sentiment_score") or 0
    hardest = (ticket.priority >= settings["strongest_agent_priority"]
               or score <= settings["strongly_negative_score"])

    def rank(agent: Agent) -> tuple:
        first = agent.id != sticky
        if hardest:
            return (first, -performance(agent), -agent.spare, agent.id)
        return (first, -agent.spare, -performance(agent), agent.id)

    return sorted(pool, key=rank)


def route(request: RoutingRequest, store: DynamoStore, settings: Optional[dict] = None,
          now: Optional[datetime] = None, roster: Optional[Roster] = None) -> Optional[str]:
    """Assign the ticket (returns the agent id), or leave it waiting (None). The roster is read
    from the store each time unless a container's `roster` is given."""
    settings = {**DEFAULT_SETTINGS, **(settings or _settings(store))}
    for _ in range(ATTEMPTS):
        ticket = store.tickets.get(request.ticket_id)
        if not ticket or ticket.status == "closed":
            return None
        moment = now or utcnow()
        if ticket.assignee:
            holder = store.agents.get(ticket.assignee)
            if (holder is not None and holder.status == "online") or request.reason == "new_ticket":
                return ticket.assignee  # a redelivered request, or another router won
            try:  # the customer wrote again and their agent is away: never leave it with them
                store.agents.release(ticket.id, ticket.version, ticket.assignee, moment.isoformat())
            except TicketChanged:
                pass
            continue
        lost_ticket = False
        for agent in _candidates(ticket, store, settings, moment, roster, fresh=not request.message_id):
            try:
                store.agents.assign_within_capacity(ticket.id, ticket.version, agent.id)
            except TicketChanged:
                lost_ticket = True
                break  # the ticket changed: read it again
            except AgentUnavailable:
                continue  # that agent filled up meanwhile: try the next
            _routed(ticket, agent, moment)
            return agent.id
        if not lost_ticket:
            _waiting(ticket, store, moment)
            return None
    return None


def sample(agent_ids: list[str], ticket: Ticket, size: Optional[int] = None) -> list[str]:
    """At most `size` (CANDIDATE_SAMPLE) of the agents who could take the ticket, whose own items
    the router then reads: the customer's previous agent always, the rest drawn at random (seeded by
    the ticket, so a retry draws the same). A routing reads a bounded number of agents however large
    the team; ranking a random few by spare capacity balances load nearly as well as ranking all
    ("the power of d choices"), and a full agent drawn is passed over for the next."""
    size = size or CANDIDATE_SAMPLE
    if len(agent_ids) <= size:
        return agent_ids
    sticky = [a for a in agent_ids if a == ticket.previous_assignee]
    others = [a for a in agent_ids if a != ticket.previous_assignee]
    return sticky + random.Random(ticket.id).sample(others, size - len(sticky))


def place(ticket: Ticket, store: DynamoStore, now: Optional[datetime] = None, roster: Optional[Roster] = None,
          settings: Optional[dict] = None) -> Optional[Agent]:
    """For a ticket about to be opened (the ingest worker): a slot reserved on the best candidate
    (`AgentStore.reserve`, on their own item, online and below capacity), so the ticket is put
    already assigned: one write instead of a transaction that rewrites the ticket it just put, and
    no trip through the routing queue. None: nobody can take it now; it opens waiting."""
    settings = {**DEFAULT_SETTINGS, **(settings if settings is not None else _settings(store, cached_settings))}
    moment = now or utcnow()
    for agent in _candidates(ticket, store, settings, moment, roster or _ROSTER, fresh=False):
        try:
            store.agents.reserve(agent.id)
        except AgentUnavailable:
            continue  # that agent filled up meanwhile: try the next
        return agent
    return None


def placed(ticket: Ticket, agent: Optional[Agent], moment: datetime) -> None:
    """The metrics and log line of a ticket opened assigned (`agent`) or waiting (None)."""
    if agent is not None:
        _routed(ticket, agent, moment)
    else:
        count(M.UNASSIGNED, ticket.channel or "unknown", ticket_id=ticket.id)
        logger.info("no eligible agent; the ticket waits in its queue", extra={"ticket_id": ticket.id})


def _candidates(ticket: Ticket, store: DynamoStore, settings: dict, moment: datetime,
                roster: Optional[Roster], fresh: bool) -> list[Agent]:
    """Candidates as `candidates` ranks them, from the roster's agents who could take the ticket,
    as their own items now are (presence, load, performance); `fresh`: the kept roster is read again."""
    waited = waited_minutes(ticket, moment)

    def ranked(listed: list[Agent]) -> list[Agent]:
        wanted = sample([a.id for a in listed if eligible(a, ticket, settings, waited)], ticket)  # load 0 on the roster
        return candidates(ticket, store.agents.get_many(wanted), settings, moment) if wanted else []

    if roster is None:
        return ranked(store.agents.roster())
    listed, read_now = roster.read(store.agents, 0 if fresh else None)
    found = ranked(listed)
    if not found and not read_now:  # nobody: someone may have come online since it was read
        listed, read_now = roster.read(store.agents, roster.retry)
        found = ranked(listed) if read_now else []
    return found


def on_presence(store: DynamoStore, agent_id: str, status: str, send, now: Optional[datetime] = None) -> dict:
    """An agent going away or offline gives back what they have not answered (their own tickets,
    read from the assignee index); an agent coming online is offered the waiting tickets of their
    brands, highest priority first (through the routing queue)."""
    moment = now or utcnow()
    released, offered = [], []
    if status in ("away", "offline"):
        for ticket in store.tickets.assigned_to(agent_id):
            if ticket.first_response_at:
                continue  # answered: the conversation stays with them
            try:
                store.agents.release(ticket.id, ticket.version, agent_id, moment.isoformat())
            except TicketChanged:
                continue
            released.append(ticket.id)
    if status == "online":
        agent = store.agents.get(agent_id)
        room = max(agent.spare, 0) if agent else 0
        if room and (agent.role == "admin" or agent.brands):  # an agent of no brand is offered nothing
            brands = None if agent.role == "admin" else agent.brands  # None: every brand's
            offered = [t.id for t in store.tickets.waiting(room * 3, brands=brands)]
    for ticket_id in released + offered:
        send(RoutingRequest(ticket_id=ticket_id, message_id="", reason="new_message", priority=0).model_dump_json())
    return {"released": released, "offered": offered}


_ROSTER = Roster()  # this container's


def _routed(ticket: Ticket, agent: Agent, moment: datetime) -> None:
    channel = ticket.channel or "unknown"
    count(M.TICKETS_ROUTED, channel, ticket_id=ticket.id, agent_id=agent.id)
    since = ticket.waiting_since or ticket.created_at
    if since:
        measure(M.ROUTING_LATENCY, channel, max((moment - datetime.fromisoformat(since)).total_seconds(), 0),
                unit="Seconds", ticket_id=ticket.id)
    logger.info("ticket assigned", extra={"ticket_id": ticket.id, "agent_id": agent.id})


def _waiting(ticket: Ticket, store: DynamoStore, moment: datetime) -> None:
    if not ticket.waiting_since:
        store.tickets.mark_waiting(ticket.id, moment.isoformat())
    count(M.UNASSIGNED, ticket.channel or "unknown", ticket_id=ticket.id)
    logger.info("no eligible agent; the ticket waits in its queue", extra={"ticket_id": ticket.id})


def _settings(store: DynamoStore, read=get_settings) -> dict:
    """The routing settings (`read=cached_settings`: as the container keeps them, read at most once
    a minute), without the document's version."""
    return {k: v for k, v in read(store, "routing").items() if k != "version"}


def process_sqs_event(event: dict, context) -> dict:
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    store = DynamoStore(aws.table())
    settings = _settings(store)

    def record_handler(record) -> Optional[str]:
        return route(RoutingRequest.model_validate_json(record.body), store, settings, roster=_ROSTER)

    return process_partial_response(event=event, record_handler=record_handler,
                                    processor=BatchProcessor(event_type=EventType.SQS), context=context)
