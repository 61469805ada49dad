"""Channel health over real HTTP against the platform sandbox, with the table under moto.

Each connected account is checked the way the schedule runs in AWS (`app.channel_health`): an
expired token, a revoked token and a stopped subscription each publish one `ChannelUnhealthy`
(dimension `channel`, the account and the reason in the EMF properties); a healthy account none; a
platform that does not answer is that account's problem, never the run's; a usually busy brand
channel gone silent is flagged from the hour counters.
"""
from __future__ import annotations

import json

import pytest

from infra.local import sandbox as sb
from infra.local import stack
from tests import stored
from tests.conftest import REGION
from tests.integration.conftest import connected_platforms

X_ACCOUNT, PAGE, IG, WA = "1500000000000000001", "104000000000001", "17841400000000001", "109000000000001"
WABA = "102290129340398"
TOKENS = {("x", X_ACCOUNT): "x-user-token-1", ("facebook", PAGE): "page-token-1",
          ("instagram", IG): "ig-token-1", ("whatsapp", WA): "wa-system-token-1"}


@pytest.fixture
def health(desk, aws_env):
    extra = lambda platform: {"waba_id": WABA} if platform == "whatsapp" else {}  # noqa: E731
    with connected_platforms(desk, aws_env, TOKENS, extra) as sandbox:
        store = desk.store()
        stored.put_account(store, "email", "care@nordlight.example", status="active", brand="nordlight")
        stored.put_account(store, "facebook", "104000000000999", status="discovered")  # not connected: not checked
        yield desk, sandbox


def _run(desk, capsys) -> tuple[dict, list[dict]]:
    capsys.readouterr()
    summary = desk.handlers.channel_health(stack.scheduled_event("channel_health"), stack.LambdaContext("channel_health"))
    return summary, _unhealthy(capsys.readouterr().out)


def _unhealthy(output: str) -> list[dict]:
    found = []
    for line in output.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        doc = json.loads(line)
        for directive in doc["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                if metric["Name"] == "ChannelUnhealthy":
                    assert directive["Namespace"] == "SocialCare" and directive["Dimensions"] == [["channel"]]
                    found.append({"channel": doc["channel"], "account_id": doc["account_id"],
                                  "reason": doc["reason"], "brand": doc["brand"], "value": doc["ChannelUnhealthy"]})
    return found


def test_healthy_accounts_publish_nothing(health, capsys):
    desk, sandbox = health
    summary, unhealthy = _run(desk, capsys)
    assert unhealthy == [] and summary["problems"] == [] and summary["accounts"] == 5
    # one call per check per account: X's token and subscription, one Graph call each for the others
    asked = [(r["method"], r["path"]) for r in sandbox.requests]
    assert sorted(asked) == sorted([
        ("GET", "/2/users/me"), ("GET", "/2/account_activity/webhooks"),
        ("GET", f"/2/account_activity/webhooks/{sb.SANDBOX_X_WEBHOOK_ID}/subscriptions/all"),
        ("GET", f"/v21.0/{PAGE}/subscribed_apps"), ("GET", f"/v21.0/{IG}/subscribed_apps"),
        ("GET", f"/v21.0/{WABA}/subscribed_apps")])
    assert all(r["headers"].get("Authorization", "").startswith("Bearer ") for r in sandbox.requests)


def test_an_expired_token_is_one_problem(health, capsys):
    desk, sandbox = health
    sandbox.expire_token("page-token-1")
    _, unhealthy = _run(desk, capsys)
    assert unhealthy == [{"channel": "facebook", "account_id": PAGE, "reason": "token_expired",
                          "brand": "nordlight", "value": [1.0]}]


def test_a_revoked_token_is_one_problem(health, capsys):
    desk, sandbox = health
    sandbox.revoke_token("wa-system-token-1")
    _, unhealthy = _run(desk, capsys)
    assert [(u["channel"], u["account_id"], u["reason"]) for u in unhealthy] == [("whatsapp", WA, "token_revoked")]


def test_a_stopped_meta_subscription_is_one_problem(health, capsys):
    desk, sandbox = health
    sandbox.set_subscribed("graph", IG, False)
    _, unhealthy = _run(desk, capsys)
    assert [(u["channel"], u["account_id"], u["reason"]) for u in unhealthy] == [
        ("instagram", IG, "subscription_stopped")]


def test_a_stopped_x_subscription_and_an_invalid_x_webhook_are_problems(health, capsys):
    desk, sandbox = health
    sandbox.set_subscribed("x", X_ACCOUNT, False)
    _, unhealthy = _run(desk, capsys)
    assert [(u["channel"], u["account_id"], u["reason"]) for u in unhealthy] == [
        ("x", X_ACCOUNT, "subscription_stopped")]
    sandbox.set_subscribed("x", X_ACCOUNT, True)
    sandbox.set_x_webhook(valid=False)  # it failed X's CRC re-check
    _, unhealthy = _run(desk, capsys)
    assert [(u["channel"], u["reason"]) for u in unhealthy] == [("x", "subscription_stopped")]


def test_a_polled_x_account_has_no_subscription_to_check(health, capsys):
    desk, sandbox = health
    stored.put_account(desk.store(), "x", X_ACCOUNT, status="active", brand="nordlight", poll=True)
    sandbox.set_x_webhook(present=False)
    _, unhealthy = _run(desk, capsys)
    assert unhealthy == [] and not sandbox.requests_to("/2/account_activity/")


def test_an_expired_x_token_is_refreshed_and_a_revoked_one_reported(health, capsys):
    import boto3

    from chalicelib.outbound import credentials

    desk, sandbox = health
    secrets = boto3.client("secretsmanager", region_name=REGION)
    secret = credentials.secret_id("x", X_ACCOUNT)
    sandbox.add_token("x-old", "x", user_id=X_ACCOUNT, refresh_token="r-1", client_id="client-1", expired=True)
    secrets.put_secret_value(SecretId=secret, SecretString=json.dumps(
        {"access_token": "x-old", "refresh_token": "r-1", "client_id": "client-1"}))
    # An access token lives two hours: refused, refreshed, saved for every container, healthy
    _, unhealthy = _run(desk, capsys)
    assert unhealthy == []
    renewed = json.loads(secrets.get_secret_value(SecretId=secret)["SecretString"])
    assert renewed["access_token"] != "x-old" and renewed["refresh_token"] != "r-1"
    # The user takes the app's access back: the refresh is refused too
    sandbox.revoke_token(renewed["access_token"])
    _, unhealthy = _run(desk, capsys)
    assert [(u["channel"], u["reason"]) for u in unhealthy] == [("x", "token_revoked")]


def test_a_platform_that_does_not_answer_is_that_accounts_problem(health, capsys):
    desk, sandbox = health
    sandbox.fail_next(f"/v21.0/{PAGE}/", status=503)
    sandbox.fail_next("/2/users/me", mode="timeout_after_accept", delay=2)
    _, unhealthy = _run(desk, capsys)
    assert sorted((u["channel"], u["reason"]) for u in unhealthy) == [
        ("facebook", "platform_unreachable"), ("x", "platform_unreachable")]


def test_a_missing_secret_is_reported_not_raised(health, capsys):
    import boto3

    from chalicelib.outbound import credentials

    desk, _ = health
    boto3.client("secretsmanager", region_name=REGION).delete_secret(
        SecretId=credentials.secret_id("instagram", IG), ForceDeleteWithoutRecovery=True)
    _, unhealthy = _run(desk, capsys)
    assert [(u["channel"], u["reason"]) for u in unhealthy] == [("instagram", "no_credentials")]


def test_a_busy_channel_gone_silent_is_flagged_per_brand_and_channel(health, capsys):
    from chalicelib import channel_health, models
    from chalicelib.store import keys

    desk, _ = health
    table = desk.store().table
    hours = channel_health.hours_read(models.utcnow())
    baseline = hours[:-channel_health.QUIET_HOURS - 1]
    for hour in baseline:  # a week of 12 X tickets an hour and 1 Facebook ticket an hour, then nothing
        table.put_item(Item={**keys.counter_hour("nordlight", hour), "brand": "nordlight", "tickets": 13,
                             "ch:x": 12, "ch:facebook": 1})
    summary, unhealthy = _run(desk, capsys)
    assert [(u["channel"], u["account_id"], u["reason"], u["brand"]) for u in unhealthy] == [
        ("x", X_ACCOUNT, "silent", "nordlight")]  # Facebook's 3 expected are chance
    assert "36 expected" in summary["problems"][0]["detail"]
    # A ticket in the current hour: not silent
    table.put_item(Item={**keys.counter_hour("nordlight", hours[-1]), "brand": "nordlight", "ch:x": 1})
    assert _run(desk, capsys)[1] == []


def test_the_schedule_runs_every_fifteen_minutes():
    import app

    [schedule] = [s for s in app.app.event_sources if s.name == "channel_health"]
    assert schedule.schedule_expression.to_string() == "rate(15 minutes)"
