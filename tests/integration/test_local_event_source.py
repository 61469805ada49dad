"""The local stand-in for Lambda's SQS event source mapping (infra/local/stack.py's Worker) deletes
as Lambda does: the records that succeeded in one DeleteMessageBatch per batch, never a
DeleteMessage each; a failed record stays on the queue, comes back, and after the queue's
maxReceiveCount goes to its dead-letter queue."""
from __future__ import annotations

from infra import resources
from infra.local import stack


class Counted:
    """An SQS client that counts the requests made through it."""

    def __init__(self, sqs):
        self.sqs, self.calls = sqs, {}

    def __getattr__(self, name):
        def call(**kwargs):
            self.calls[name] = self.calls.get(name, 0) + 1
            return getattr(self.sqs, name)(**kwargs)
        return call


def _worker(handled: list):
    def handler(event, context):
        handled.extend(r["body"] for r in event["Records"])
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]
                                      if r["body"].startswith("bad")]}
    return stack.Worker(resources.queue("ingest").name, handler, "ingest_worker")


def _send(desk, bodies):
    desk.sqs().send_message_batch(QueueUrl=desk.queue_urls["INGEST_QUEUE_URL"], Entries=[
        {"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies)])


def _left(desk, url) -> int:
    attrs = desk.sqs().get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def test_a_batch_deletes_its_successes_in_one_request_and_its_failure_comes_back(desk, monkeypatch):
    monkeypatch.setattr(stack, "RETRY_VISIBILITY_SECONDS", 0)
    _send(desk, ["good 1", "bad 1", "good 2", "good 3"])
    handled: list = []
    worker, sqs = _worker(handled), Counted(desk.sqs())
    worker.queue(sqs)  # the queue's URL and ARN, looked up once
    sqs.calls.clear()
    assert worker.poll_once(sqs) == 4
    assert sqs.calls == {"receive_message": 1, "change_message_visibility": 1, "delete_message_batch": 1}
    assert _left(desk, desk.queue_urls["INGEST_QUEUE_URL"]) == 1  # only the failed one
    dlq = desk.sqs().get_queue_url(QueueName=resources.queue("ingest").dlq_name)["QueueUrl"]
    for _ in range(resources.queue("ingest").max_receive_count + 2):
        worker.poll_once(sqs)
    assert handled.count("bad 1") == resources.queue("ingest").max_receive_count
    assert sorted(h for h in handled if h.startswith("good")) == ["good 1", "good 2", "good 3"]  # once each
    assert _left(desk, desk.queue_urls["INGEST_QUEUE_URL"]) == 0 and _left(desk, dlq) == 1
    assert "delete_message" not in sqs.calls


def test_a_batch_that_raises_deletes_nothing(desk, monkeypatch):
    monkeypatch.setattr(stack, "RETRY_VISIBILITY_SECONDS", 0)
    _send(desk, ["good 1", "good 2"])

    def broken(event, context):
        raise RuntimeError("down")

    worker, sqs = stack.Worker(resources.queue("ingest").name, broken, "ingest_worker"), Counted(desk.sqs())
    assert worker.poll_once(sqs) == 2
    assert "delete_message_batch" not in sqs.calls and "delete_message" not in sqs.calls
    assert _left(desk, desk.queue_urls["INGEST_QUEUE_URL"]) == 2
