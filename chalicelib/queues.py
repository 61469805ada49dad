"""Sending to the desk's SQS queues, in batches of ten, failing loudly.

A message SQS did not take is retried once; if it still fails, EnqueueFailed is raised so a
webhook answers 5xx and the platform retries (duplicates are dropped at ingest). The batch goes
through `aws.send_message_batch` (in Lambda the light wire client, not boto3: see aws.py).

Claim check: SQS takes 256 KiB a message and a batch (1 MiB since 2025, but a queue may be set
lower). A body over INLINE_LIMIT is written to the bucket under `claims/` and the queue carries
`{"type": "claim", "s3_key": ...}`; the worker reads it back with `resolve`. Claims are not
deleted on use (a redelivered message must still find its body); the bucket's lifecycle expires
them. Batches are packed so that no SendMessageBatch exceeds MAX_BATCH_BYTES.
"""
from __future__ import annotations

import json
import uuid
from typing import Iterator, Sequence

from chalicelib import aws
from chalicelib.config import settings
from chalicelib.errors import EnqueueFailed

SQS_BATCH = 10
MAX_BATCH_BYTES = 256 * 1024
INLINE_LIMIT = 192 * 1024
CLAIM_PREFIX = "claims/"


def send_all(queue_url: str, bodies: Sequence[str]) -> int:
    if not bodies:
        return 0
    if not queue_url:
        raise EnqueueFailed("queue URL is not configured")
    for chunk in _batches([_checked(queue_url, body) for body in bodies]):
        pending = {str(i): body for i, body in enumerate(chunk)}
        for _attempt in range(2):
            try:
                result = aws.send_message_batch(
                    queue_url, [{"Id": i, "MessageBody": b} for i, b in pending.items()])
            except aws.CallFailed as err:
                raise EnqueueFailed(f"send_message_batch failed: {err.code}") from err
            pending = {f["Id"]: pending[f["Id"]] for f in result.get("Failed", [])}
            if not pending:
                break
        if pending:
            raise EnqueueFailed(f"{len(pending)} messages refused by the queue")
    return len(bodies)


def send(queue_url: str, body: str) -> None:
    send_all(queue_url, [body])


def resolve(body: str) -> str:
    """A queue message's real body: itself, or what its claim check points at in the bucket."""
    if not body.startswith('{"type":"claim"'):
        return body
    claim = json.loads(body)
    found = aws.client("s3").get_object(Bucket=settings().model_bucket, Key=claim["s3_key"])
    return found["Body"].read().decode("utf-8")


def _checked(queue_url: str, body: str) -> str:
    size = len(body.encode("utf-8"))
    if size <= INLINE_LIMIT:
        return body
    key = f"{CLAIM_PREFIX}{queue_url.rstrip('/').rsplit('/', 1)[-1]}/{uuid.uuid4()}"
    # Lazy for the webhook's cold start: the claim check (a body over 192 KiB) is rare enough to pay
    # for boto3's S3 client.
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        aws.client("s3").put_object(Bucket=settings().model_bucket, Key=key, Body=body.encode("utf-8"))
    except (ClientError, BotoCoreError) as err:
        raise EnqueueFailed(f"claim check failed: {type(err).__name__}") from err
    return json.dumps({"type": "claim", "s3_key": key, "bytes": size}, separators=(",", ":"))


def _batches(bodies: list[str]) -> Iterator[list[str]]:
    """At most ten messages and MAX_BATCH_BYTES a batch, in order."""
    chunk: list[str] = []
    size = 0
    for body in bodies:
        length = len(body.encode("utf-8"))
        if chunk and (len(chunk) == SQS_BATCH or size + length > MAX_BATCH_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(body)
        size += length
    if chunk:
        yield chunk

