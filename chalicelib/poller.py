"""Scheduled X mentions poller: X without the enterprise Account Activity tier.

For every X brand account marked `poll`, read `GET /2/users/{id}/mentions` from the saved
`since_id`, feed what it finds into the same ingest queue as the webhook, and only then move
the cursor (a crash in between refetches; the pipeline drops the duplicates). A rate-limited
account is skipped until X's reset time.
"""
from __future__ import annotations

import time
from typing import Callable

from chalicelib import queues
from chalicelib.channels.x import ID as X
from chalicelib.channels.x import v2 as x_api
from chalicelib.config import secrets, settings
from chalicelib.errors import PlatformError
from chalicelib.models import MentionEnvelope, utcnow
from chalicelib.observability import M, count, logger
from chalicelib.store.dynamodb import DynamoStore


def poll_x(store: DynamoStore, now: Callable[[], float] = time.time) -> dict:

    summary = {"accounts": 0, "mentions": 0, "skipped": 0, "errors": 0}
    token = secrets().get("X_BEARER_TOKEN")
    if not token:
        logger.info("X poller idle: no X_BEARER_TOKEN configured")
        return summary
    for account in store.accounts.all(X):
        if not account.poll:
            continue
        account_id = account.account_id
        cursor = store.get_cursor(X, account_id)
        if cursor.get("next_poll_after", 0) > now():
            summary["skipped"] += 1
            continue
        try:
            outcome = x_api.fetch_mentions(settings().x_api_base, token, account_id, cursor.get("since_id"))
        except PlatformError as err:
            summary["errors"] += 1
            logger.error("X mentions poll failed", extra={"account_id": account_id, "status": err.status})
            continue
        received = utcnow()
        queues.send_all(settings().ingest_queue_url,
                        [MentionEnvelope(mention=m, received_at=received).model_dump_json()
                         for m in outcome.mentions])
        if outcome.rate_limited_until:
            count(M.POLLER_RATE_LIMITED, X, account_id=account_id)
        store.save_cursor(X, account_id,
                          since_id=outcome.newest_id or cursor.get("since_id"),
                          next_poll_after=int(outcome.rate_limited_until or 0),
                          rate_limit_remaining=outcome.rate_limit_remaining,
                          polled_at=received.isoformat())
        summary["accounts"] += 1
        summary["mentions"] += len(outcome.mentions)
    logger.info("X mentions polled", extra=summary)
    return summary
