"""Reports' and queue counts' aggregates, kept from the table's stream as tickets change.

A ticket *contributes* to two items: the counters of the hour it was created in
(`keys.counter_hour(brand, yyyy-mm-ddThh)`: tickets, per channel, sentiment, topic and team, first
responses in buckets per channel, replied, answerable, done without reply, closed, breached) and its
brand's gauges (`keys.gauge(brand)`: tickets per status, open ones per team and language). A stream
record (old image → new image) changes them by contribution(new) − contribution(old), so a
reclassified, reassigned, reopened or erased ticket moves its counts instead of adding to them.

A batch of records is summed per item first and written as atomic ADDs, one update per item per
batch: at 1,000 mentions/s an hour's item takes a few updates a second, never one per mention. Every
record that changes a count is marked (`keys.stream_seen(eventID)`, kept 48 h; the stream keeps
records 24 h) in the same transaction as the ADDs, on the condition that the mark is new: a record
Lambda delivers twice (a retried or bisected batch) is counted once. Records of a transaction
already counted are taken out and the rest written again.

Reports read N×24 hour items for N days, queue counts one item per brand; never the tickets.
"""
from __future__ import annotations

import math
import time
from collections import defaultdict
from datetime import datetime
from typing import Any, Iterable, Mapping, Optional

from botocore.exceptions import ClientError

from chalicelib.store import keys
from chalicelib.store.items import cancel_reasons, plain

# First response time buckets: each is its upper bound in seconds; a report's median and p90 are
# the bound of the bucket the rank falls in (the last one takes everything longer).
FRT_BOUNDS = (15, 30, 60, 120, 180, 300, 450, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200, 10800, 14400,
              21600, 28800, 43200, 86400, 172800, 259200, 604800)
SEEN_SECONDS = 48 * 3600
TRANSACTION_ITEMS = 100  # DynamoDB's limit on one transaction
DEFAULT_BRAND = "default"


def brand_of(ticket: Mapping[str, Any]) -> str:
    return ticket.get("brand") or DEFAULT_BRAND


def hour_of(iso: str) -> str:
    """`yyyy-mm-ddThh` of an ISO time in UTC."""
    return iso[:13]


def frt_bucket(seconds: float) -> int:
    for bound in FRT_BOUNDS:
        if seconds <= bound:
            return bound
    return FRT_BOUNDS[-1]


def _seconds(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def hour_counts(ticket: Mapping[str, Any]) -> dict[str, int]:
    """What one ticket adds to the counters of its creation hour."""
    channel = ticket.get("channel") or "unknown"
    sentiment = (ticket.get("classification") or {}).get("sentiment") or "neutral"
    counts = {"tickets": 1, f"ch:{channel}": 1, f"sentiment:{sentiment}": 1,
              f"topic:{ticket.get('topic') or 'other'}": 1}
    if ticket.get("team"):
        counts[f"team:{ticket['team']}"] = 1
    if ticket.get("done_without_reply"):
        counts["done"] = 1
    else:
        counts["answerable"] = 1
        if ticket.get("first_response_at"):
            counts["replied"] = 1
    if ticket.get("first_response_at") and ticket.get("first_inbound_at"):
        counts[f"frt:{channel}:{frt_bucket(_seconds(ticket['first_inbound_at'], ticket['first_response_at']))}"] = 1
    if ticket.get("status") == "closed":
        counts["closed"] = 1
    if ticket.get("sla_breached_for"):
        counts["breached"] = 1
    return counts


def gauge_counts(ticket: Mapping[str, Any]) -> dict[str, int]:
    """What one ticket adds to its brand's queue gauges."""
    status = ticket.get("status") or "open"
    counts = {f"status:{status}": 1}
    if status != "closed":
        counts[f"team:{ticket.get('team') or 'none'}"] = 1
        counts[f"language:{ticket.get('language') or 'none'}"] = 1
    return counts


def contributions(ticket: Optional[Mapping[str, Any]]) -> dict[tuple, dict[str, int]]:
    """{("hour", brand, hour) | ("gauge", brand): counts} of one ticket image (none for no image)."""
    if not ticket or not ticket.get("created_at"):
        return {}
    brand = brand_of(ticket)
    return {("hour", brand, hour_of(ticket["created_at"])): hour_counts(ticket),
            ("gauge", brand): gauge_counts(ticket)}


def delta(old: Optional[Mapping[str, Any]], new: Optional[Mapping[str, Any]]) -> dict[tuple, dict[str, int]]:
    """contribution(new) − contribution(old), zeros left out."""
    out: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for sign, image in ((-1, old), (1, new)):
        for item, counts in contributions(image).items():
            for name, n in counts.items():
                out[item][name] += sign * n
    return {item: {k: v for k, v in counts.items() if v} for item, counts in out.items()
            if any(counts.values())}


def item_key(item: tuple) -> dict:
    return keys.counter_hour(item[1], item[2]) if item[0] == "hour" else keys.gauge(item[1])


# -- writing: one transaction per chunk of records, marks and summed ADDs ----------------------
def apply(client: Any, table_name: str, changes: Iterable[tuple[str, dict]]) -> dict:
    """Count `changes` ((eventID, delta) in stream order) once each. Returns {"counted", "repeats"}."""
    pending = [(event_id, d) for event_id, d in changes if d]
    counted = repeats = 0
    chunk: list[tuple[str, dict]] = []
    for change in pending:
        if _size(chunk + [change]) > TRANSACTION_ITEMS:
            c, r = _write(client, table_name, chunk)
            counted, repeats, chunk = counted + c, repeats + r, []
        chunk.append(change)
    if chunk:
        c, r = _write(client, table_name, chunk)
        counted, repeats = counted + c, repeats + r
    return {"counted": counted, "repeats": repeats}


def _size(chunk: list[tuple[str, dict]]) -> int:
    return len(chunk) + len({item for _, d in chunk for item in d})


def _write(client: Any, table_name: str, chunk: list[tuple[str, dict]]) -> tuple[int, int]:
    repeats = 0
    while chunk:
        marks = [{"Put": {"TableName": table_name, "ConditionExpression": "attribute_not_exists(PK)",
                          "Item": {**keys.stream_seen(event_id),
                                   "expires_at": int(time.time()) + SEEN_SECONDS}}} for event_id, _ in chunk]
        try:
            client.transact_write_items(TransactItems=marks + _updates(table_name, chunk))
            return len(chunk), repeats
        except ClientError as err:
            if err.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = cancel_reasons(err)[:len(chunk)]
            seen = {i for i, code in enumerate(reasons) if code == "ConditionalCheckFailed"}
            if not seen:
                raise  # a conflict with another writer: Lambda retries the batch
            repeats += len(seen)
            chunk = [c for i, c in enumerate(chunk) if i not in seen]
    return 0, repeats


def _updates(table_name: str, chunk: list[tuple[str, dict]]) -> list[dict]:
    summed: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for _, d in chunk:
        for item, counts in d.items():
            for name, n in counts.items():
                summed[item][name] += n
    updates = []
    for item, counts in summed.items():
        counts = {k: v for k, v in counts.items() if v}
        names = {f"#a{i}": name for i, name in enumerate(counts)}
        values: dict = {f":v{i}": n for i, n in enumerate(counts.values())}
        adds = [f"#a{i} :v{i}" for i in range(len(counts))]
        expression = ("ADD " + ", ".join(adds)) if adds else ""
        names["#b"], values[":b"] = "brand", item[1]
        expression += " SET #b = :b"
        updates.append({"Update": {"TableName": table_name, "Key": item_key(item), "UpdateExpression": expression,
                                   "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}})
    return updates


# -- reading ----------------------------------------------------------------------------------
def read_hours(table: Any, brands: list[str], hours: list[str], stats: Optional[dict] = None) -> list[dict]:
    """The hour items of `brands` × `hours` that exist (BatchGetItem, 100 keys a call)."""
    wanted = [keys.counter_hour(b, h) for b in brands for h in hours]
    return _batch_get(table, wanted, stats)


def read_gauges(table: Any, brands: list[str], stats: Optional[dict] = None) -> list[dict]:
    return _batch_get(table, [keys.gauge(b) for b in brands], stats)


def _batch_get(table: Any, wanted: list[dict], stats: Optional[dict]) -> list[dict]:
    resource = table.meta.client
    found: list[dict] = []
    for start in range(0, len(wanted), 100):
        request = {table.name: {"Keys": wanted[start:start + 100]}}
        while request:
            answer = resource.batch_get_item(RequestItems=request)
            items = answer.get("Responses", {}).get(table.name, [])
            found += [plain(i) for i in items]
            if stats is not None:
                stats["items_read"] = stats.get("items_read", 0) + len(items)
                stats["calls"] = stats.get("calls", 0) + 1
            request = answer.get("UnprocessedKeys") or {}
    return found


def quantile(buckets: Mapping[int, int], rank: int) -> Optional[int]:
    """The bucket bound holding the `rank`-th (0-based) of the counted values in order."""
    seen = 0
    for bound in sorted(buckets):
        seen += buckets[bound]
        if rank < seen:
            return bound
    return None


def median(buckets: Mapping[int, int]) -> Optional[float]:
    """As statistics.median over the values, each taken as its bucket's bound."""
    n = sum(buckets.values())
    if not n:
        return None
    if n % 2:
        return quantile(buckets, n // 2)
    return (quantile(buckets, n // 2 - 1) + quantile(buckets, n // 2)) / 2


def p90(buckets: Mapping[int, int]) -> Optional[int]:
    """As reports always read it: the value at index min(int(n × 0.9), n − 1)."""
    n = sum(buckets.values())
    return quantile(buckets, min(int(n * 0.9), n - 1)) if n else None


def ceil_hours(days: int) -> int:
    return int(math.ceil(days * 24))
