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


def put_agent(store, agent: dict) -> None:
    """Seed an agent from its item's attributes, through the AgentStore port."""
    from chalicelib.aggregates.agent import Agent

    store.agents.put(Agent.from_item(agent))


def put_account(store, platform: str, account_id: str, **attrs) -> None:
    """Seed a brand account (what is None is left out), through the AccountStore port."""
    from chalicelib.aggregates.account import Account

    store.accounts.put(Account.from_item({k: v for k, v in attrs.items() if v is not None}
                                         | {"platform": platform, "account_id": account_id}))
