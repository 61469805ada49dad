"""What the table holds for a ticket, read as stored (keys included), for integration tests that
check the items the desk wrote; use cases read the same through the TicketStore and MessageStore
ports as Tickets and Messages."""
from __future__ import annotations

from typing import Optional

from chalicelib.store import keys
from chalicelib.store.items import partition, plain


def ticket(store, ticket_id: str) -> Optional[dict]:
    """The ticket item (with its inbox index keys), or None."""
    return plain(store.table.get_item(Key=keys.ticket(ticket_id), ConsistentRead=True).get("Item"))


def messages(store, ticket_id: str) -> list[dict]:
    """The ticket's messages, notes and events as stored, oldest first."""
    return [plain(i) for i in partition(store.table, *keys.ticket_messages(ticket_id))]
