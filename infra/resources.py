"""The one definition of the desk's table and queues.

The deployed stack (the merge template given to `chalice package`), the local stack's
`bootstrap` and the tests all build their table and queues from this module, so they cannot
drift. Standard library only.
"""
from __future__ import annotations

from dataclasses import dataclass

TABLE_NAME = "social-care-desk"

# What the inbox list filters on, projected into GSI1 beside the keys (an entry is about 250 bytes,
# so moving one costs 1 WCU, and a ticket write that moves none of these writes no index at all);
# `platform` and `key` serve the CRM references that share the index.
INBOX_PROJECTION = ("brand", "status", "priority", "channel", "assignee", "team", "topic", "language",
                    "platform", "key")


def _index(name: str, hash_key: str, range_key: str, projection: dict) -> dict:
    return {"IndexName": name,
            "KeySchema": [{"AttributeName": hash_key, "KeyType": "HASH"},
                          {"AttributeName": range_key, "KeyType": "RANGE"}],
            "Projection": projection}


TABLE_DEFINITION = {
    "AttributeDefinitions": [
        {"AttributeName": name, "AttributeType": "S"}
        for name in ("PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK", "assignee", "status")
    ],
    "KeySchema": [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ],
    "GlobalSecondaryIndexes": [
        # the inbox, by brand and write shard, ordered by status, priority, SLA due; CRM references
        _index("GSI1", "GSI1PK", "GSI1SK", {"ProjectionType": "INCLUDE",
                                            "NonKeyAttributes": list(INBOX_PROJECTION)}),
        # minute buckets: tickets' SLA deadlines (the sweeper), replies in flight (their re-drive)
        _index("GSI2", "GSI2PK", "GSI2SK", {"ProjectionType": "KEYS_ONLY"}),
        # minute buckets: when an unassigned ticket goes back to the router
        _index("GSI3", "GSI3PK", "GSI3SK", {"ProjectionType": "KEYS_ONLY"}),
        # an agent's tickets of a status: a presence change reads only theirs; keyed by the ticket's
        # own assignee and status, so a change of priority or SLA (a new inbox place) never moves it
        _index("ByAssignee", "assignee", "status", {"ProjectionType": "KEYS_ONLY"}),
    ],
    "BillingMode": "PAY_PER_REQUEST",
}
TTL_ATTRIBUTE = "expires_at"
# The table's stream: ticket changes, before and after, for the reports' counters and the search
# index (chalicelib/stream.py). create_table takes StreamEnabled too; CloudFormation only the view.
STREAM_VIEW_TYPE = "NEW_AND_OLD_IMAGES"
STREAM_FUNCTION = "ticket_stream"  # the Chalice handler that reads it


@dataclass(frozen=True)
class QueueSpec:
    key: str  # ingest, routing, outbound
    name: str  # literal: Chalice's @app.on_sqs_message needs it as a string
    env_var: str
    visibility_timeout: int
    max_receive_count: int = 5

    @property
    def dlq_name(self) -> str:
        return f"{self.name}-dlq"

    @property
    def logical_id(self) -> str:
        return self.key.capitalize() + "Queue"


QUEUES = (
    QueueSpec("ingest", "social-care-ingest", "INGEST_QUEUE_URL", visibility_timeout=180),
    QueueSpec("routing", "social-care-routing", "ROUTING_QUEUE_URL", visibility_timeout=180),
    # more receives: a reply waits out platform rate limits (X's window is 15 minutes)
    QueueSpec("outbound", "social-care-outbound", "OUTBOUND_QUEUE_URL", visibility_timeout=180,
              max_receive_count=8),
)
DLQ_RETENTION_SECONDS = 14 * 24 * 3600
EMAIL_TOPIC_NAME = "social-care-inbound-email"
MODEL_BUCKET_LOGICAL_ID = "ModelBucket"


def queue(key: str) -> QueueSpec:
    return next(q for q in QUEUES if q.key == key)
