"""The in-memory ViewerStore (see the package docstring): one entry per (brand, agent), as the table
keeps one item, and expired entries kept until read past, as TTL keeps them until it gets round to them."""
from __future__ import annotations

import threading
from datetime import datetime
from typing import Optional

from chalicelib.aggregates.viewer import Viewer


class MemoryViewerStore:
    def __init__(self):
        self.viewers: dict[tuple[Optional[str], str], Viewer] = {}
        self._lock = threading.Lock()

    def beat(self, brand: Optional[str], viewer: Viewer) -> None:
        with self._lock:
            self.viewers[(brand, viewer.agent_id)] = viewer.model_copy()

    def leave(self, brand: Optional[str], agent_id: str, ticket_id: str) -> None:
        with self._lock:
            found = self.viewers.get((brand, agent_id))
            if found is not None and found.ticket_id == ticket_id:
                del self.viewers[(brand, agent_id)]

    def on(self, brand: Optional[str], now: datetime) -> list[Viewer]:
        with self._lock:
            return [v.model_copy() for (b, _), v in sorted(self.viewers.items(), key=lambda kv: kv[0][1])
                    if b == brand and v.live(now)]
