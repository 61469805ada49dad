"""Fixtures shared by the integration tests of the agent API."""
from __future__ import annotations

import pytest

from infra.local import demo
from tests import stored

BRAND_X = "1500000000000000001"


@pytest.fixture
def ticket(desk):
    """One open ticket nobody holds, from a signed tweet; every demo agent offline with load 0."""
    for agent in demo.AGENTS:
        stored.put_agent(desk.store(), {**agent, "status": "offline", "capacity": 10, "load": 0})
    stored.put_account(desk.store(), "x", BRAND_X, status="active", brand="nordlight")
    desk.post_tweet(BRAND_X, "1850000000000000009", {"id": "42", "name": "Kim", "handle": "kim"},
                    "@NordlightShop my lamp arrived broken")
    desk.drain(only=("ingest_worker",))
    [found] = list(desk.store().all_tickets())
    assert not found.get("assignee")
    return found
