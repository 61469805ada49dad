"""Calling the agent API as someone: the bearer header and a JSON round trip through the test client."""
from __future__ import annotations

import json

from chalicelib.auth import mint
from tests.conftest import TEST_SECRETS


def headers(agent: str = "ana", role: str = "agent") -> dict:
    return {"Authorization": f"Bearer {mint(agent, role, TEST_SECRETS['LOCAL_JWT_SECRET'])}",
            "Content-Type": "application/json"}


def call(desk, method: str, path: str, body, agent: str = "ana", role: str = "agent"):
    """(status, parsed JSON answer) of `method path` with `body` as JSON."""
    answer = getattr(desk.client.http, method)(path, headers=headers(agent, role), body=json.dumps(body))
    return answer.status_code, json.loads(answer.body or b"null")
