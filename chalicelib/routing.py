"""Routing worker: give each ticket to the best available agent, once, never past capacity.

Eligible agents are online, have a free slot, speak the ticket's language, have its topic among
their skills (an agent without skills takes any topic) and belong to its team (when it has one).
Among them the one with most spare capacity wins, then the better performer; a ticket at or
above `strongest_agent_priority`, or strongly negative, goes to the best performer instead. A
customer's follow-up goes back to the agent who already has their conversation when that agent
is online with a free slot (sticky). With nobody eligible the ticket waits in its queue; after
`relax_language_after_minutes` language stops counting, after `relax_skill_after_minutes` skill
(like Amazon Connect's routing steps); the sweeper retries waiting tickets.

Assignment is one DynamoDB transaction: the agent's load goes up only while it is below their
capacity and they are online, and the ticket gets an assignee only if it has none at the version
read. Two routers can therefore never push an agent past capacity or assign a ticket twice.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from chalicelib import aws, offhours
from chalicelib.desk_settings import get_settings
from chalicelib.errors import ConcurrentUpdate
from chalicelib.models import RoutingRequest, utcnow
from chalicelib.observability import M, count, logger, measure
from chalicelib.store.dynamodb import DynamoStore

DEFAULT_SETTINGS = {"strongest_agent_priority": 80, "strongly_negative_score": -0.6, "sticky": True,
                    "relax_language_after_minutes": 10, "relax_skill_after_minutes": 20}
ATTEMPTS = 5


def performance(agent: dict) -> float:
    """0..1: quick first responses and happy customers (neutral 0.5 until there is a record)."""
    perf = agent.get("performance") or {}
    frt = perf.get("first_response_seconds")
    csat = perf.get("csat")
    speed = 0.5 if frt is None else 1 / (1 + frt / 600)
    satisfaction = 0.5 if csat is None else max(min((csat - 1) / 4, 1), 0)
    return round((speed + satisfaction) / 2, 4)


def waited_minutes(ticket: dict, now: datetime) -> float:
    since = ticket.get("waiting_since") or ticket.get("created_at")
    return max((now - datetime.fromisoformat(since)).total_seconds() / 60, 0) if since else 0.0


def eligible(agent: dict, ticket: dict, settings: dict, waited: float) -> bool:
    if agent.get("status") != "online" or agent.get("load", 0) >= agent.get("capacity", 0):
        return False
    language = ticket.get("language")
    relax_language = settings.get("relax_language_after_minutes")
    if language and language not in (agent.get("languages") or []) and not (
            relax_language is not None and waited >= relax_language):
        return False
    topic, skills = ticket.get("topic"), agent.get("skills") or []
    relax_skill = settings.get("relax_skill_after_minutes")
    if skills and topic and topic not in skills and not (relax_skill is not None and waited >= relax_skill):
        return False
    team = ticket.get("team")
    return not team or team in (agent.get("teams") or [])


def candidates(ticket: dict, agents: list[dict], settings: dict, now: datetime) -> list[dict]:
    """Eligible agents, best first."""
    waited = waited_minutes(ticket, now)
    pool = [a for a in agents if eligible(a, ticket, settings, waited)]
    sticky = ticket.get("previous_assignee") if settings.get("sticky", True) else None
    score = (ticket.get("classification") or {}).get("sentiment_score") or 0
    hardest = (ticket.get("priority", 0) >= settings["strongest_agent_priority"]
               or score <= settings["strongly_negative_score"])

    def rank(agent: dict) -> tuple:
        spare = agent.get("capacity", 0) - agent.get("load", 0)
        first = agent["id"] != sticky
        if hardest:
            return (first, -performance(agent), -spare, agent["id"])
        return (first, -spare, -performance(agent), agent["id"])

    return sorted(pool, key=rank)


def route(request: RoutingRequest, store: DynamoStore, settings: Optional[dict] = None,
          now: Optional[datetime] = None) -> Optional[str]:
    """Assign the ticket (returns the agent id), or leave it waiting (None)."""
    settings = {**DEFAULT_SETTINGS, **(settings or _settings(store))}
    acknowledge = request.reason == "new_ticket"  # a new conversation may need the off-hours reply
    for _ in range(ATTEMPTS):
        ticket = store.get_ticket(request.ticket_id)
        if not ticket or ticket.get("status") == "closed":
            return None
        moment = now or utcnow()
        if acknowledge:
            offhours.acknowledge_if_closed(store, ticket, moment)
            acknowledge = False
        if ticket.get("assignee"):
            holder = store.get_agent(ticket["assignee"]) or {}
            if holder.get("status") == "online" or request.reason == "new_ticket":
                return ticket["assignee"]  # a redelivered request, or another router won
            try:  # the customer wrote again and their agent is away: never leave it with them
                store.release(ticket["id"], ticket["version"], ticket["assignee"], moment.isoformat())
            except ConcurrentUpdate:
                pass
            continue
        lost_ticket = False
        for agent in candidates(ticket, store.agents(), settings, moment):
            try:
                store.assign_within_capacity(ticket["id"], ticket["version"], agent["id"])
            except ConcurrentUpdate as err:
                if "ticket" in str(err):
                    lost_ticket = True
                    break  # the ticket changed: read it again
                continue  # that agent filled up meanwhile: try the next
            _routed(ticket, agent, moment)
            return agent["id"]
        if not lost_ticket:
            _waiting(ticket, store, moment)
            return None
    return None


def on_presence(store: DynamoStore, agent_id: str, status: str, send, now: Optional[datetime] = None) -> dict:
    """An agent going away or offline gives back what they have not answered; an agent coming
    online is offered the waiting tickets, highest priority first (through the routing queue)."""
    moment = now or utcnow()
    released, offered = [], []
    if status in ("away", "offline"):
        for ticket in store.assigned_to(agent_id):
            if ticket.get("first_response_at"):
                continue  # answered: the conversation stays with them
            try:
                store.release(ticket["id"], ticket["version"], agent_id, moment.isoformat())
            except ConcurrentUpdate:
                continue
            released.append(ticket["id"])
    if status == "online":
        agent = store.get_agent(agent_id) or {}
        room = max(agent.get("capacity", 0) - agent.get("load", 0), 0)
        offered = [t["id"] for t in store.waiting(room * 3)] if room else []
    for ticket_id in released + offered:
        send(RoutingRequest(ticket_id=ticket_id, message_id="", reason="new_message", priority=0).model_dump_json())
    return {"released": released, "offered": offered}


def _routed(ticket: dict, agent: dict, moment: datetime) -> None:
    channel = ticket.get("channel", "unknown")
    count(M.TICKETS_ROUTED, channel, ticket_id=ticket["id"], agent_id=agent["id"])
    since = ticket.get("waiting_since") or ticket.get("created_at")
    if since:
        measure(M.ROUTING_LATENCY, channel, max((moment - datetime.fromisoformat(since)).total_seconds(), 0),
                unit="Seconds", ticket_id=ticket["id"])
    logger.info("ticket assigned", extra={"ticket_id": ticket["id"], "agent_id": agent["id"]})


def _waiting(ticket: dict, store: DynamoStore, moment: datetime) -> None:
    if not ticket.get("waiting_since"):
        store.mark_waiting(ticket["id"], moment.isoformat())
    count(M.UNASSIGNED, ticket.get("channel", "unknown"), ticket_id=ticket["id"])
    logger.info("no eligible agent; the ticket waits in its queue", extra={"ticket_id": ticket["id"]})


def _settings(store: DynamoStore) -> dict:
    return {k: v for k, v in get_settings(store, "routing").items() if k != "version"}


def process_sqs_event(event: dict, context) -> dict:
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    store = DynamoStore(aws.table())
    settings = _settings(store)

    def record_handler(record) -> Optional[str]:
        return route(RoutingRequest.model_validate_json(record.body), store, settings)

    return process_partial_response(event=event, record_handler=record_handler,
                                    processor=BatchProcessor(event_type=EventType.SQS), context=context)
