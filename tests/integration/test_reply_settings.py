"""After a reply, where the ticket goes: the `replies` settings document (an admin's, per brand) and
the agents' read of it (`GET /api/reply-settings`), which the composer's send action starts from."""
from __future__ import annotations

from tests import stored
from tests.integration.agent_http import call


def _call(desk, method, path, body=None, role="admin", agent="root"):
    """agent_http.call, as an admin unless told otherwise."""
    return call(desk, method, path, body, agent, role)


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


def test_a_supervisor_sets_her_brands_default_and_only_hers(desk):
    # Given a supervisor of nordlight, an agent of nordlight, and an admin's setting for kaffe
    stored.put_agent(desk.store(), {"id": "sam", "role": "supervisor", "brands": ["nordlight"]})
    stored.put_agent(desk.store(), {"id": "ana", "brands": ["nordlight"]})
    assert _call(desk, "put", "/api/settings/replies", {"brands": {"kaffe": "closed"}})[0] == 200
    status, read = _call(desk, "get", "/api/brands/nordlight/replies", role="supervisor", agent="sam")
    assert status == 200 and read == {"brand": "nordlight", "after_reply": "open", "own": False, "default": "open",
                                      "version": 1}
    # When she makes nordlight's replies close the ticket
    status, saved = _call(desk, "put", "/api/brands/nordlight/replies", {"after_reply": "closed", "version": 1},
                          role="supervisor", agent="sam")
    assert status == 200 and saved["after_reply"] == "closed" and saved["own"] and saved["version"] == 2
    # Then the agents of nordlight start from it, and kaffe's setting is untouched
    assert _call(desk, "get", "/api/reply-settings", role="agent", agent="ana")[1] == {
        "default": "open", "brands": {"nordlight": "closed"}}
    assert _call(desk, "get", "/api/reply-settings")[1]["brands"] == {"kaffe": "closed", "nordlight": "closed"}
    # And an edit over a version that moved meanwhile is a 409; null gives the brand the desk's default back
    assert _call(desk, "put", "/api/brands/nordlight/replies", {"after_reply": "pending", "version": 1},
                 role="supervisor", agent="sam")[0] == 409
    status, reset = _call(desk, "put", "/api/brands/nordlight/replies", {"after_reply": None, "version": 2},
                          role="supervisor", agent="sam")
    assert status == 200 and reset["after_reply"] == "open" and not reset["own"]


def test_an_agent_cannot_set_it_and_another_brand_is_not_found(desk):
    stored.put_agent(desk.store(), {"id": "sam", "role": "supervisor", "brands": ["nordlight"]})
    stored.put_agent(desk.store(), {"id": "ana", "brands": ["nordlight"]})
    assert _call(desk, "put", "/api/brands/nordlight/replies", {"after_reply": "closed", "version": 0},
                 role="agent", agent="ana")[0] == 403
    assert _call(desk, "get", "/api/brands/kaffe/replies", role="supervisor", agent="sam")[0] == 404
    assert _call(desk, "put", "/api/brands/kaffe/replies", {"after_reply": "closed", "version": 0},
                 role="supervisor", agent="sam")[0] == 404
    assert _call(desk, "put", "/api/brands/nordlight/replies", {"after_reply": "on_hold", "version": 0},
                 role="supervisor", agent="sam")[0] == 400
