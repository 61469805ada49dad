"""The table's stream handler: ticket changes into the reports' counters and the search index.

Lambda gives it one shard's records of ticket items only (the event source's filter, see
infra/package.py; other items are skipped here too), each with the ticket before and after
(NEW_AND_OLD_IMAGES), in sequence order, and the shard's id (`shardId`: the event source mapping
has a tumbling window for it; the records do not name their shard). chalicelib/counters.py counts
each record once, with a watermark per counter item and shard; chalicelib/search.py writes the
index entries a change gained or lost. A failure raises, and Lambda retries the batch or bisects
it: both are idempotent under redelivery. The answer carries `state` (a tumbling window's).
"""
from __future__ import annotations

from typing import Any, Optional

from boto3.dynamodb.types import TypeDeserializer

from chalicelib import counters, search
from chalicelib.store import keys
from chalicelib.store.items import plain

_deserializer = TypeDeserializer()


def image(raw: Optional[dict]) -> Optional[dict]:
    if not raw:
        return None
    return plain({k: _deserializer.deserialize(v) for k, v in raw.items()})


def is_ticket(record: dict) -> bool:
    key = record.get("dynamodb", {}).get("Keys", {})
    return key.get("SK", {}).get("S") == keys.TICKET_SK


def process_stream_event(event: dict, table: Any = None) -> dict:
    if table is None:
        from chalicelib import aws

        table = aws.table()
    records = [r for r in event.get("Records", []) if is_ticket(r)]
    changes = [(image(r["dynamodb"].get("OldImage")), image(r["dynamodb"].get("NewImage"))) for r in records]
    deltas = [(r["dynamodb"]["SequenceNumber"], counters.delta(old, new)) for r, (old, new) in zip(records, changes)]
    if any(d for _, d in deltas) and not event.get("shardId"):
        raise ValueError("the stream event names no shardId: its event source mapping needs a tumbling window")
    last = max((r["dynamodb"]["SequenceNumber"] for r in event.get("Records", [])), key=int, default=None)
    counted = counters.apply(table.meta.client, table.name, event.get("shardId", ""), deltas, last)
    indexed = search.apply(table, changes)
    # "state": with a tumbling window Lambda takes an answer without it for a failure
    return {"records": len(event.get("Records", [])), "tickets": len(records), **counted, **indexed, "state": {}}
