"""The one definition of the desk's table and queues.

The deployed stack (the merge template given to `chalice package`), the local stack's
`bootstrap` and the tests all build their table and queues from this module, so they cannot
drift. Standard library only.
"""
from __future__ import annotations

from dataclasses import dataclass

TABLE_NAME = "social-care-desk"

TABLE_DEFINITION = {
    "AttributeDefinitions": [
        {"AttributeName": "PK", "AttributeType": "S"},
        {"AttributeName": "SK", "AttributeType": "S"},
        {"AttributeName": "GSI1PK", "AttributeType": "S"},
        {"AttributeName": "GSI1SK", "AttributeType": "S"},
    ],
    "KeySchema": [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "GSI1",
            "KeySchema": [
                {"AttributeName": "GSI1PK", "KeyType": "HASH"},
                {"AttributeName": "GSI1SK", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
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
