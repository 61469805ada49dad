"""`GET /api/tickets/{id}/suggestions`: the use case. Reads, each bounded (docs/ARCHITECTURE.md):
the ticket (404 outside the caller's brands), its newest `QUERY_READ` messages (what the customer
asked since the last reply), at most `entries.READ_LIMIT` history items, the outcome of at most
`entries.OUTCOME_READ` tickets desk replies answered, the customer's profile (the name a suggestion
greets), and the templates (as `GET /api/tickets/{id}/templates` renders them). Ranking: history.rank.
"""
from __future__ import annotations

from typing import Optional

from chalicelib import templates
from chalicelib.aggregates.ticket import Ticket
from chalicelib.errors import NotFound
from chalicelib.history import entries
from chalicelib.history.rank import Past, Query, rank
from chalicelib.history.rank import nearest as rank_nearest
from chalicelib.store.dynamodb import DynamoStore

QUERY_READ = 10  # newest messages read for the customer's words


def for_ticket(store: DynamoStore, ticket_id: str, principal) -> dict:
    ticket = principal.ticket(store.tickets, ticket_id)  # another brand's ticket: 404, as a missing one
    query = Query(text=_asked(store, ticket), language=ticket.language, topic=ticket.topic)
    found = entries.read(store.table, ticket.brand, ticket.language, ticket.topic) if ticket.brand else []
    open_outcomes = [e["ticket_id"] for e in found if e.get("ticket_id") and e.get("resolved") is None
                     and e["ticket_id"] != ticket.id]
    history = [_past(e) for e in found if e.get("ticket_id") != ticket.id]
    if open_outcomes:  # desk replies: closed and rated since? only for the nearest, bounded
        nearest = set(rank_nearest(query, history))
        wanted = [e["ticket_id"] for e in found if e["id"] in nearest and e["ticket_id"] in open_outcomes]
        known = entries.outcomes(store.table, wanted)
        history = [_past(e, known.get(e.get("ticket_id"))) for e in found if e.get("ticket_id") != ticket.id]
    customer = _customer(store, ticket)
    rendered = templates.for_customer(store, ticket, principal.agent_id, customer)  # the profile read once
    name = templates.customer_name(customer)
    items = []
    for suggestion in rank(query, history, rendered):
        if suggestion.source == "history":
            suggestion.text = templates.fill(suggestion.text, {"customer.name": name}, ticket.language)
        items.append(suggestion.as_dict())
    return {"items": items}


def _asked(store: DynamoStore, ticket: Ticket) -> str:
    """What the customer wrote since the desk last answered (else their latest message)."""
    asked: list[str] = []
    for message in reversed(store.messages.timeline(ticket.id, latest=QUERY_READ)):
        if message.direction == "out" and asked:
            break
        if message.direction == "in" and (message.text or "").strip():
            asked.append(message.text.strip())
    return "\n".join(reversed(asked)) or ticket.last_message_preview or ticket.subject or ""


def _past(item: dict, outcome: Optional[dict] = None) -> Past:
    outcome = outcome or {}
    return Past(id=item["id"], customer_text=item["customer_text"], reply_text=item["reply_text"],
                language=item.get("language"), topic=item.get("topic"),
                resolved=item.get("resolved", outcome.get("resolved")), csat=item.get("csat", outcome.get("csat")),
                at=item.get("at", ""))


def _customer(store: DynamoStore, ticket: Ticket):
    if not ticket.customer_id:
        return None
    try:
        return store.customers.profile(ticket.customer_id)
    except NotFound:
        return None

