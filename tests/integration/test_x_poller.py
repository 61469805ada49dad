"""The scheduled X poller, over real HTTP against the platform sandbox, into the same ingest path."""
from __future__ import annotations

import time

import pytest

from infra.local import sandbox as sb
from infra.local import stack
from tests import stored

BRAND = "1500000000000000001"


@pytest.fixture
def polled(desk, aws_env):
    from chalicelib import config

    with sb.start() as sandbox:
        aws_env.setenv("X_API_BASE", sandbox.url)
        config.reset()
        stored.put_account(desk.store(), "x", BRAND, status="active", poll=True, handle="NordlightShop")
        yield desk, sandbox


def _seed(sandbox, *ids):
    sandbox.seed_x_mentions(BRAND, [sb.x_tweet(i, f"@NordlightShop order {i} is late, help?", "77") for i in ids],
                            [sb.x_user("77", "pirkko", "Pirkko", followers=5400, verified=False)])


def _run_poller(desk):
    return desk.handlers.x_mentions_poller(stack.scheduled_event("x_mentions_poller"),
                                           stack.LambdaContext("x_mentions_poller"))


def test_polled_mentions_become_tickets_and_the_cursor_moves(polled):
    desk, sandbox = polled
    _seed(sandbox, "1860000000000000001", "1860000000000000002")
    # When the schedule fires and the ingest worker runs
    summary = _run_poller(desk)
    desk.drain(only=("ingest_worker",))
    # Then both tweets are tickets, with the author's reach, and the cursor holds the newest id
    assert summary["mentions"] == 2
    tickets = stack.ticket_lines(desk.store())
    assert sorted(t["messages"][0]["platform_message_id"] for t in tickets) == [
        "1860000000000000001", "1860000000000000002"]
    assert desk.store().get_cursor("x", BRAND)["since_id"] == "1860000000000000002"
    # And the next poll resumes from it
    _seed(sandbox, "1860000000000000003")
    assert _run_poller(desk)["mentions"] == 1
    [last] = sandbox.requests_to(f"/2/users/{BRAND}/mentions")[-1:]
    assert last["query"]["since_id"] == "1860000000000000002"
    assert "public_metrics" in last["query"]["user.fields"]


def test_a_rate_limited_account_is_skipped_until_the_reset(polled):
    desk, sandbox = polled
    _seed(sandbox, "1860000000000000001")
    reset = int(time.time()) + 600
    sandbox.set_x_rate_limit(limit=75, remaining=0, reset=reset)
    _run_poller(desk)
    assert desk.store().get_cursor("x", BRAND)["next_poll_after"] == reset
    calls = len(sandbox.requests_to("/2/users/"))
    # When the schedule fires again before the reset, X is not called
    assert _run_poller(desk)["skipped"] == 1
    assert len(sandbox.requests_to("/2/users/")) == calls


def test_a_tweet_seen_by_poller_and_webhook_is_one_message(polled):
    from infra.local import payloads as p
    from tests.conftest import TEST_SECRETS

    desk, sandbox = polled
    _seed(sandbox, "1860000000000000009")
    _run_poller(desk)
    body = p.encode(p.x_tweet_event(BRAND, "1860000000000000009", {"id": "77", "name": "Pirkko",
                                                                  "handle": "pirkko"}, "order late, help?"))
    desk.client.http.post("/webhooks/x", body=body, headers={
        "Content-Type": "application/json", **p.sign_x(body, TEST_SECRETS["X_CONSUMER_SECRET"])})
    desk.drain(only=("ingest_worker",))
    [ticket] = stack.ticket_lines(desk.store())
    assert len(ticket["messages"]) == 1
