"""The metrics on-call people alarm on are emitted as EMF, with `channel` as the dimension."""
from __future__ import annotations

import json

from infra.local import payloads as p
from tests.conftest import TEST_SECRETS


def _emf(output: str) -> list[dict]:
    docs = []
    for line in output.splitlines():
        if line.startswith('{"_aws"'):
            doc = json.loads(line)
            for directive in doc["_aws"]["CloudWatchMetrics"]:
                assert directive["Namespace"] == "SocialCare"
                for metric in directive["Metrics"]:
                    docs.append({"name": metric["Name"], "channel": doc.get("channel"),
                                 "dimensions": directive["Dimensions"][0], "value": doc[metric["Name"]]})
    return docs


def test_webhook_and_worker_emit_the_named_metrics(desk, capsys):
    payload = p.x_tweet_event("1500000000000000001", "1880000000000000001",
                              {"id": "5", "name": "E", "handle": "e"}, "my laptop will not boot, help")
    body = p.encode(payload)
    good = {"Content-Type": "application/json", **p.sign_x(body, TEST_SECRETS["X_CONSUMER_SECRET"])}
    desk.client.http.post("/webhooks/x", body=body, headers=good)
    desk.client.http.post("/webhooks/x", body=body, headers=good)  # a retry
    desk.client.http.post("/webhooks/x", body=body, headers={"Content-Type": "application/json",
                                                             "x-twitter-webhooks-signature": "sha256=AAAA"})
    odd = p.encode({"for_user_id": "1500000000000000001", "something_new": [1]})
    desk.client.http.post("/webhooks/x", body=odd, headers={
        "Content-Type": "application/json", **p.sign_x(odd, TEST_SECRETS["X_CONSUMER_SECRET"])})
    desk.drain(only=("ingest_worker",))

    metrics = _emf(capsys.readouterr().out)
    names = [m["name"] for m in metrics]
    assert names.count("MentionsReceived") == 2
    assert names.count("TicketsCreated") == 1
    assert names.count("DuplicateEvents") == 1
    assert names.count("InvalidSignatures") == 1
    assert names.count("UnparsedEvents") == 1
    per_brand = [m for m in metrics if m["name"] == "NegativeMentions"]  # the one per-brand count
    assert per_brand and all("brand" in m["dimensions"] and m["channel"] == "x" for m in per_brand)
    assert all(m["channel"] == "x" and "channel" in m["dimensions"] for m in metrics if m not in per_brand)
    assert not any(d in m["dimensions"] for m in metrics for d in ("ticket_id", "customer_id"))


def test_worker_log_lines_carry_the_mention_correlation_id(desk):
    import io

    from chalicelib.observability import logger

    stream = io.StringIO()
    previous = logger.registered_handler.setStream(stream)
    payload = p.x_tweet_event("1500000000000000001", "1880000000000000002",
                              {"id": "5", "name": "E", "handle": "e"}, "order missing")
    body = p.encode(payload)
    desk.client.http.post("/webhooks/x", body=body, headers={
        "Content-Type": "application/json", **p.sign_x(body, TEST_SECRETS["X_CONSUMER_SECRET"])})
    desk.drain(only=("ingest_worker",))
    logger.registered_handler.setStream(previous)
    logs = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith('{"level"')]
    stored = [entry for entry in logs if entry["message"] == "mention stored"]
    assert stored and stored[0]["correlation_id"] == "x#1880000000000000002"
    assert not any(TEST_SECRETS["X_CONSUMER_SECRET"] in json.dumps(entry) for entry in logs)
