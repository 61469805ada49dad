"""After a reply, where the ticket goes: the `replies` settings document (an admin's, per brand) and
the agents' read of it (`GET /api/reply-settings`), which the composer's send action starts from."""
from __future__ import annotations

import json

from chalicelib.auth import mint
from tests import stored
from tests.conftest import TEST_SECRETS


def _call(desk, method, path, body=None, role="admin", agent="root"):
    headers = {"Authorization": f"Bearer {mint(agent, role, TEST_SECRETS['LOCAL_JWT_SECRET'])}",
               "Content-Type": "application/json"}
    answer = getattr(desk.client.http, method)(path, headers=headers, body=json.dumps(body) if body is not None else b"")
    return answer.status_code, json.loads(answer.body or b"null")


def test_an_agent_reads_the_desk_default_and_her_brands_own_never_another_brands(desk):
    # Given an agent of nordlight, and the shipped settings: a reply leaves the ticket open
    stored.put_agent(desk.store(), {"id": "ana", "brands": ["nordlight"]})
    assert _call(desk, "get", "/api/reply-settings", role="agent", agent="ana") == (
        200, {"default": "open", "brands": {}})
    # When an admin sets nordlight's replies to wait on the customer, and another brand's to close
    status, saved = _call(desk, "put", "/api/settings/replies",
                          {"after_reply": "open", "brands": {"nordlight": "pending", "kaffe": "closed"}})
    assert status == 200 and saved["version"] == 1
    # Then the agent reads nordlight's, and nothing of kaffe's; an admin reads every brand's
    assert _call(desk, "get", "/api/reply-settings", role="agent", agent="ana") == (
        200, {"default": "open", "brands": {"nordlight": "pending"}})
    assert _call(desk, "get", "/api/reply-settings")[1]["brands"] == {"kaffe": "closed", "nordlight": "pending"}


def test_a_follow_up_status_other_than_open_pending_or_closed_is_refused(desk):
    status, body = _call(desk, "put", "/api/settings/replies", {"brands": {"nordlight": "on_hold"}})
    assert status == 400 and "brands.nordlight" in body["error"]
    assert _call(desk, "get", "/api/reply-settings")[1] == {"default": "open", "brands": {}}
