"""Sending to the desk's SQS queues, in batches of ten, failing loudly.

A message SQS did not take is retried once; if it still fails, EnqueueFailed is raised so a
webhook answers 5xx and the platform retries (duplicates are dropped at ingest).
"""
from __future__ import annotations

from typing import Sequence

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib import aws
from chalicelib.errors import EnqueueFailed

SQS_BATCH = 10


def send_all(queue_url: str, bodies: Sequence[str]) -> int:
    if not bodies:
        return 0
    if not queue_url:
        raise EnqueueFailed("queue URL is not configured")
    sqs = aws.client("sqs")
    for start in range(0, len(bodies), SQS_BATCH):
        chunk = bodies[start:start + SQS_BATCH]
        pending = {str(i): body for i, body in enumerate(chunk)}
        for _attempt in range(2):
            try:
                result = sqs.send_message_batch(
                    QueueUrl=queue_url,
                    Entries=[{"Id": i, "MessageBody": b} for i, b in pending.items()])
            except (ClientError, BotoCoreError) as err:
                raise EnqueueFailed(f"send_message_batch failed: {type(err).__name__}") from err
            pending = {f["Id"]: pending[f["Id"]] for f in result.get("Failed", [])}
            if not pending:
                break
        if pending:
            raise EnqueueFailed(f"{len(pending)} messages refused by the queue")
    return len(bodies)


def send(queue_url: str, body: str) -> None:
    send_all(queue_url, [body])

