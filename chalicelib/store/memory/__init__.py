"""In-memory twins of the store ports, one module per port as in `store/`, for fast use-case
tests (and nothing Lambda runs).

Each honours its port's semantics as the DynamoDB implementation does, conditions and races
included: a lock stands in for DynamoDB's conditional writes and transactions, so threads racing
here lose the same way they lose against the table. `tests/contract/` runs one suite against both.
Values are copied in and out, as a table would, so a caller never holds the stored object.
"""
from __future__ import annotations

import threading

from chalicelib.store.memory.accounts import MemoryAccountStore
from chalicelib.store.memory.agents import MemoryAgentStore
from chalicelib.store.memory.customers import MemoryCustomerStore
from chalicelib.store.memory.messages import MemoryMessageStore
from chalicelib.store.memory.presence import MemoryViewerStore
from chalicelib.store.memory.teams import MemoryTeamStore
from chalicelib.store.memory.tickets import MemoryTicketStore

__all__ = ["MemoryStore", "MemoryAgentStore", "MemoryAccountStore", "MemoryTeamStore", "MemoryCustomerStore",
           "MemoryTicketStore", "MemoryMessageStore", "MemoryViewerStore"]


class MemoryStore:
    """The in-memory twin of DynamoStore's ports, one desk's state shared between them (a ticket's
    assignment moves an agent's load; an inbound message moves its ticket and touches its
    customer), for use-case tests."""

    def __init__(self):
        lock = threading.RLock()
        self.tickets = MemoryTicketStore(lock=lock)
        self.agents = MemoryAgentStore(self.tickets.tickets, lock=lock)
        self.customers = MemoryCustomerStore()
        self.messages = MemoryMessageStore(self.tickets, self.customers.touchpoints)
        self.accounts = MemoryAccountStore()
        self.teams = MemoryTeamStore()
        self.viewers = MemoryViewerStore()
        self._settings: dict[str, dict] = {}

    # -- settings documents (DynamoStore.get_settings / put_settings) --------------------------
    def get_settings(self, name: str):
        found = self._settings.get(name)
        return dict(found) if found is not None else None

    def put_settings(self, name: str, document: dict, author: str) -> dict:
        from chalicelib.errors import ConcurrentUpdate

        expected = document.get("version", 0)
        current = self._settings.get(name)
        if (current is None and expected != 0) or (current is not None and current["version"] != expected):
            raise ConcurrentUpdate(f"settings {name}")
        saved = {**document, "version": expected + 1}
        self._settings[name] = saved
        return dict(saved)
