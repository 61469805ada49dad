"""Agent API use cases (read side for now): the inbox and one ticket with its context."""
from __future__ import annotations

import base64
import json
from typing import Optional

from chalicelib.errors import NotFound
from chalicelib.store.dynamodb import DynamoStore

PUBLIC_TICKET_FIELDS = ("id", "channel", "kind", "status", "priority", "priority_factors", "customer_id",
                        "assignee", "language", "topic", "classification", "created_at", "updated_at",
                        "sla_due_at", "last_inbound_at", "last_message_preview", "message_count",
                        "brand_account_id", "visibility", "subject", "version")


def public_ticket(item: dict) -> dict:
    return {k: item.get(k) for k in PUBLIC_TICKET_FIELDS}


def list_tickets(store: DynamoStore, status: str = "open", limit: int = 50,
                 cursor: Optional[str] = None) -> dict:
    start = json.loads(base64.urlsafe_b64decode(cursor)) if cursor else None
    items, last = store.inbox(status, max(1, min(limit, 100)), start)
    next_cursor = base64.urlsafe_b64encode(json.dumps(last).encode()).decode() if last else None
    return {"items": [public_ticket(i) for i in items], "next_cursor": next_cursor}


def get_ticket(store: DynamoStore, ticket_id: str) -> dict:
    ticket = store.get_ticket(ticket_id)
    if ticket is None:
        raise NotFound(ticket_id)
    customer = store.customer_history(ticket["customer_id"])
    other_ids = sorted({t["ticket_id"] for t in customer["touchpoints"]} - {ticket_id})
    others = [public_ticket(t) for t in map(store.get_ticket, other_ids) if t]
    return {**public_ticket(ticket), "messages": store.messages(ticket_id), "customer": customer,
            "other_tickets": others}
