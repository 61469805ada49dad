"""Partial batch failures and dead-letter queues: one bad record never re-delivers its neighbours."""
from __future__ import annotations

import json

from infra.local import payloads as p
from infra.local import stack
from tests.conftest import TEST_SECRETS


def _send(desk, bodies):
    sqs = desk.sqs()
    sqs.send_message_batch(QueueUrl=desk.queue_urls["INGEST_QUEUE_URL"], Entries=[
        {"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies)])


def _good_envelope():
    from chalicelib.channels.x import webhook as x

    payload = p.x_tweet_event("1500000000000000001", "1850000000000000042",
                              {"id": "99", "name": "Li Wei", "handle": "liwei"}, "订单还没到，请帮忙")
    [mention] = x.parse(payload).mentions
    from chalicelib.models import MentionEnvelope, utcnow

    return MentionEnvelope(mention=mention, received_at=utcnow()).model_dump_json()


def test_a_poison_record_fails_alone_and_its_neighbour_is_processed(desk):
    # Given a batch with one valid mention and one body that is not an ingest message
    _send(desk, [_good_envelope(), json.dumps({"type": "mystery"})])
    sqs = desk.sqs()
    got = sqs.receive_message(QueueUrl=desk.queue_urls["INGEST_QUEUE_URL"], MaxNumberOfMessages=10,
                              AttributeNames=["All"])["Messages"]
    arn = "arn:aws:sqs:eu-west-1:123456789012:social-care-ingest"
    # When the handler gets them as one SQS event
    result = desk.handlers.ingest_worker(stack.sqs_event(got, arn), stack.LambdaContext("ingest_worker"))
    # Then only the poison record is reported as failed, and the good one made a ticket
    poison = next(m["MessageId"] for m in got if "mystery" in m["Body"])
    assert result == {"batchItemFailures": [{"itemIdentifier": poison}]}
    assert len(stack.ticket_lines(desk.store())) == 1


def test_a_poison_message_ends_in_the_dead_letter_queue(desk, monkeypatch):
    monkeypatch.setattr(stack, "RETRY_VISIBILITY_SECONDS", 0)
    _send(desk, ["this is not json at all"])
    for _ in range(8):  # maxReceiveCount is 5
        desk.drain(only=("ingest_worker",), max_rounds=1)
    sqs = desk.sqs()
    dlq = sqs.get_queue_url(QueueName="social-care-ingest-dlq")["QueueUrl"]
    moved = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])
    assert [m["Body"] for m in moved] == ["this is not json at all"]
    assert desk.queued("INGEST_QUEUE_URL") == []


def test_the_same_tweet_from_webhook_and_poller_is_one_message(desk):
    # Given the same tweet delivered by the webhook and found by the poller
    from chalicelib.channels.x import webhook as x
    from chalicelib.models import MentionEnvelope, utcnow

    payload = p.x_tweet_event("1500000000000000001", "1850000000000000050",
                              {"id": "99", "name": "Li Wei", "handle": "liwei"}, "我的账户无法登录")
    body = p.encode(payload)
    desk.client.http.post("/webhooks/x", body=body, headers={
        "Content-Type": "application/json", **p.sign_x(body, TEST_SECRETS["X_CONSUMER_SECRET"])})
    [mention] = x.parse(payload).mentions
    polled = mention.model_copy(update={"source": "poller"})
    _send(desk, [MentionEnvelope(mention=polled, received_at=utcnow()).model_dump_json()])
    # When both are processed
    desk.drain(only=("ingest_worker",))
    # Then one ticket, one message
    [ticket] = stack.ticket_lines(desk.store())
    assert len(ticket["messages"]) == 1


def test_one_mention_delivered_by_both_x_apis_and_the_poller_is_one_message(desk):
    # Given one post delivered by the Account Activity API, by the X Activity API (its successor,
    # on the same route) and found by the poller in a v2 search page
    from chalicelib.channels.x import v2 as x_api
    from chalicelib.models import MentionEnvelope, utcnow

    brand, post_id = "1500000000000000001", "1850000000000000060"
    user = {"id": "99", "name": "Li Wei", "handle": "liwei", "followers": 10}
    for payload in (p.x_tweet_event(brand, post_id, user, "@NordlightShop still no refund"),
                    p.xaa_mention_event(brand, post_id, user, "@NordlightShop still no refund")):
        body = p.encode(payload)
        answer = desk.client.http.post("/webhooks/x", body=body, headers={
            "Content-Type": "application/json", **p.sign_x(body, TEST_SECRETS["X_CONSUMER_SECRET"])})
        assert json.loads(answer.body)["accepted"] == 1
    [polled] = x_api.parse_mentions_page({"data": [{"id": post_id, "text": "@NordlightShop still no refund",
                                                    "author_id": "99", "conversation_id": post_id}]}, brand)
    _send(desk, [MentionEnvelope(mention=polled, received_at=utcnow()).model_dump_json()])
    # When all three are processed
    desk.drain(only=("ingest_worker",))
    # Then one ticket holds one message
    [ticket] = stack.ticket_lines(desk.store())
    assert [m["platform_message_id"] for m in ticket["messages"]] == [post_id]
