"""Routing worker: give a ticket to the best available agent, once.

This first version ranks online agents by language match, then by current load relative to
their capacity; a later issue adds skills, teams and performance. Assignment is a conditional
write (no assignee yet, same version), so two routing messages for one ticket assign it once.
"""
from __future__ import annotations

from typing import Optional

from chalicelib.errors import ConcurrentUpdate
from chalicelib.models import RoutingRequest
from chalicelib.observability import logger
from chalicelib.store.dynamodb import DynamoStore


def choose_agent(agents: list[dict], language: Optional[str]) -> Optional[dict]:
    available = [a for a in agents
                 if a.get("status") == "online" and a.get("load", 0) < a.get("capacity", 10)]
    if not available:
        return None

    def rank(agent: dict) -> tuple:
        speaks = language in agent.get("languages", []) if language else True
        return (not speaks, agent.get("load", 0) / max(agent.get("capacity", 10), 1), agent["id"])

    return min(available, key=rank)


def route(request: RoutingRequest, store: DynamoStore) -> Optional[str]:
    ticket = store.get_ticket(request.ticket_id)
    if not ticket or ticket.get("assignee") or ticket.get("status") == "closed":
        return ticket.get("assignee") if ticket else None
    agent = choose_agent(store.agents(), ticket.get("language") or request.language)
    if agent is None:
        logger.info("no agent available; ticket stays in the queue", extra={"ticket_id": ticket["id"]})
        return None
    try:
        store.assign(ticket["id"], agent["id"], ticket["version"])
    except ConcurrentUpdate:
        return route(request, store) if store.get_ticket(request.ticket_id) else None
    store.add_agent_load(agent["id"], 1)
    logger.info("ticket assigned", extra={"ticket_id": ticket["id"], "agent_id": agent["id"]})
    return agent["id"]


def process_sqs_event(event: dict, context) -> dict:
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    from chalicelib import aws

    store = DynamoStore(aws.table())

    def record_handler(record) -> Optional[str]:
        return route(RoutingRequest.model_validate_json(record.body), store)

    return process_partial_response(event=event, record_handler=record_handler,
                                    processor=BatchProcessor(event_type=EventType.SQS), context=context)
