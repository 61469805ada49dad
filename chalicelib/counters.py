"""Reports' and queue counts' aggregates, kept from the table's stream as tickets change.

A ticket *contributes* to two items: the counters of the hour it was created in
(`keys.counter_hour(brand, yyyy-mm-ddThh)`: tickets, per channel, sentiment, topic and team, first
responses in buckets per channel, replied, answerable, done without reply, closed, breached; SLA
attainment per band, `band_counts`; per agent output, `agent_counts`) and its
brand's gauges (`keys.gauge(brand)`: tickets per status, open ones per team and language). A stream
record (old image → new image) changes them by contribution(new) − contribution(old), so a
reclassified, reassigned, reopened or erased ticket moves its counts instead of adding to them.

**Every count of a ticket is in its creation hour (a cohort), whenever it happened.** A ticket
created at 13:50 and first answered at 14:05 the next day counts `replied` and its `frt:` bucket in
the 13:00 hour of its first day, not in 14:00 of the second; the same for `closed` (its status now,
closed), `done` and `breached`. So a report over a period says what became of the tickets *created*
in it, up to now: `replied / answerable` (the reply rate) and the first response times are those of
one set of tickets, the same set the CSV export lists (search.py's creation-hour partitions), and a
past period's figures still move while its tickets are answered, closed or reopened. Counting in the
hour an event happened would need a time on the image for each (there is none for a breach or a
close), would split the rate's numerator and denominator over different tickets, and would not
match the export; it is not done.

Hour items expire: each update also sets `expires_at` (the table's TTL attribute,
infra/resources.py TTL_ATTRIBUTE) to RETENTION_DAYS after the item's hour, in the same UpdateItem
(no extra write). Reports look back at most reports.MAX_DAYS (90 days): 400 leaves ample room, and
a ticket older than that which changes later re-creates a stray item that TTL removes again
(its `expires_at` is already past). Gauges hold no hour and never expire.

A batch of records (one stream shard's, in sequence order) is summed per item and written as
atomic ADDs, one plain UpdateItem per item per batch: at 1,000 mentions/s an hour's item takes a
few updates a second, never one per mention. Exactly once: the update also sets the item's
watermark for that shard (`~<hash of shardId>`: the batch's last SequenceNumber, fixed-width so
that text order is number order, then the hour it was written), on the condition that the watermark
is absent or before the batch's first record touching the item. Lambda retries a failed batch, or
its halves (BisectBatchOnFunctionError), from the same shard in the same order, so a refused
condition means the item already counted part of it: the item's old watermark comes back with the
refusal, and only the records past it are written (conditioned on that watermark). Shards write
the same item side by side, each on its own watermark (ADDs commute); a new shard (a split or a
roll-over) starts with none; a shard's watermark not written for 48 h is removed (the stream keeps
records 24 h). Lambda's stream records do not name their shard: the event does (`shardId`) when
the event source mapping has a tumbling window (infra/package.py).

Reports read N×24 hour items for N days, queue counts one item per brand; never the tickets.
"""
from __future__ import annotations

import base64
import hashlib
import math
import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping, Optional

from botocore.exceptions import ClientError

from chalicelib.store import keys
from chalicelib.store.items import plain

# First response time buckets: each is its upper bound in seconds; a report's median and p90 are
# the bound of the bucket the rank falls in (the last one takes everything longer).
FRT_BOUNDS = (15, 30, 60, 120, 180, 300, 450, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200, 10800, 14400,
              21600, 28800, 43200, 86400, 172800, 259200, 604800)
STALE_SECONDS = 48 * 3600  # a shard's watermark not written for this long is removed
LANE_PREFIX = "~"  # counter names never start with it
SEQ_WIDTH = 23  # 64**23 > 10**40: DynamoDB's sequence numbers have at most 40 digits
_ALPHABET = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"  # in byte order
WRITE_TRIES = 5
PRUNE_AT_ONCE = 20
DEFAULT_BRAND = "default"
TTL_ATTRIBUTE = "expires_at"  # the table's TTL attribute (infra/resources.py TTL_ATTRIBUTE; a test keeps them equal)
RETENTION_DAYS = 400  # an hour item lives this long after its hour; reports read back at most 90 days


def brand_of(ticket: Mapping[str, Any]) -> str:
    return ticket.get("brand") or DEFAULT_BRAND


def hour_of(iso: str) -> str:
    """`yyyy-mm-ddThh` of an ISO time in UTC."""
    return iso[:13]


def expires_at(hour: str) -> int:
    """When the counters of `hour` (`yyyy-mm-ddThh`, UTC) expire: epoch seconds RETENTION_DAYS after it."""
    start = datetime.fromisoformat(hour + ":00:00").replace(tzinfo=timezone.utc)
    return int((start + timedelta(days=RETENTION_DAYS)).timestamp())


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
    if breached(ticket):
        counts["breached"] = 1
    counts.update(band_counts(ticket))
    counts.update(agent_counts(ticket))
    counts.update(approval_counts(ticket))
    return counts


def approval_counts(ticket: Mapping[str, Any]) -> dict[str, int]:
    """Issue 16: the ticket's replies held for a supervisor and decided (`approval:n`), the seconds they
    waited for the decision (`approval:wait_s`) and how many were rejected (`approval:rejected`); the
    ticket's own counters (outbound/approvals.py adds to them in the decision's transaction). The wait is
    reported apart from the first response, which counts from the agent's submission."""
    if not ticket.get("approvals_n"):
        return {}
    return {"approval:n": int(ticket["approvals_n"]), "approval:wait_s": int(ticket.get("approval_wait_s") or 0),
            "approval:rejected": int(ticket.get("approvals_rejected") or 0)}


def breached(ticket: Mapping[str, Any]) -> bool:
    """The sweeper breached a clock of the ticket (`sla_breached_for`, the deadline it passed), unless
    (issue 16) it was the first-response deadline of a ticket whose first response, a reply held for
    approval, was submitted by then: for reports the agent's submission is the response, and the
    approval's wait is counted apart (approval_counts)."""
    breach = ticket.get("sla_breached_for")
    if not breach:
        return False
    due, answered = ticket.get("first_response_due_at"), ticket.get("first_response_at")
    if ticket.get("approvals_n") and due and answered and _seconds(breach, due) == 0 and _seconds(due, answered) <= 0:
        return False
    return True


def band_counts(ticket: Mapping[str, Any]) -> dict[str, int]:
    """The ticket's SLA band's attainment: `sla:<band>:met` once its first response went out by its
    due time and no clock breached, `sla:<band>:breached` once a clock breached (the sweeper's
    `sla_breached_for`) or the first response went out late; a ticket still inside its target
    counts neither. Hour items written before these counts simply lack them."""
    band = ticket.get("sla_band")
    if not band:
        return {}
    due, answered = ticket.get("first_response_due_at"), ticket.get("first_response_at")
    late = bool(due and answered and _seconds(due, answered) > 0)
    if breached(ticket) or late:
        return {f"sla:{band}:breached": 1}
    if answered:
        return {f"sla:{band}:met": 1}
    return {}


def agent_counts(ticket: Mapping[str, Any]) -> dict[str, int]:
    """Per agent (bounded: the brand's agents who answered or hold tickets of the hour):
    `agent:<id>:frt_n`/`frt_s` the first responses they sent and their seconds (from the first
    inbound), `handled` the closed tickets they held, `res_n`/`res_s` those of them with a close time and
    their seconds from first inbound to close, `csat_n`/`csat_sum` the ratings of the tickets they answered first (else
    held: as tickets.rate credits them). Means are sums over counts, so every figure moves
    exactly with a ticket's image."""
    counts: dict[str, int] = {}
    inbound = ticket.get("first_inbound_at") or ticket.get("created_at")
    responder, holder = ticket.get("first_response_by"), ticket.get("assignee")
    if responder and ticket.get("first_response_at") and inbound:
        counts[f"agent:{responder}:frt_n"] = 1
        counts[f"agent:{responder}:frt_s"] = max(int(_seconds(inbound, ticket["first_response_at"])), 0)
    if holder and ticket.get("status") == "closed":
        counts[f"agent:{holder}:handled"] = 1
        if ticket.get("closed_at") and inbound:
            counts[f"agent:{holder}:res_n"] = 1
            counts[f"agent:{holder}:res_s"] = max(int(_seconds(inbound, ticket["closed_at"])), 0)
    rated = responder or holder
    if rated and ticket.get("csat"):
        counts[f"agent:{rated}:csat_n"] = 1
        counts[f"agent:{rated}:csat_sum"] = int(ticket["csat"])
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


# -- writing: one UpdateItem per item per batch, exactly once per stream shard ------------------
def lane(shard_id: str) -> str:
    """The attribute holding a shard's watermark on a counter item: `~` and 7 characters of a hash of
    the shard's id (ids are ~37 characters; every update writes the item's bytes)."""
    digest = hashlib.blake2b(shard_id.encode(), digest_size=5).digest()
    return LANE_PREFIX + base64.urlsafe_b64encode(digest).decode()[:7]


def seq_key(sequence_number: str) -> str:
    """A stream sequence number (decimal, 21 to 40 digits) as SEQ_WIDTH characters of an
    order-preserving base 64: the table compares strings byte by byte, so a longer number of
    digits must not sort before a shorter one ("100" < "99" as text)."""
    n, out = int(sequence_number), []
    for _ in range(SEQ_WIDTH):
        n, digit = divmod(n, 64)
        out.append(_ALPHABET[digit])
    if n:
        raise ValueError(f"sequence number too long: {sequence_number}")
    return "".join(reversed(out))


def _watermark(sequence_number: str, now: float) -> str:
    """seq_key, then the hour it was written (for pruning): compared with a bare seq_key of the same
    number it sorts after, so `#w < :first` still means "first is past the watermark"."""
    return seq_key(sequence_number) + f"{int(now // 3600):x}"


def _written_hour(watermark: str) -> Optional[int]:
    try:
        return int(watermark[SEQ_WIDTH:], 16)
    except ValueError:
        return None


def apply(client: Any, table_name: str, shard_id: str, changes: Iterable[tuple[str, dict]],
          last: Optional[str] = None) -> dict:
    """Count `changes` ((SequenceNumber, delta) of one shard's batch, in stream order) once each.

    Each item the batch touches takes one UpdateItem: the summed ADDs, and its watermark for the
    shard set to `last` (the batch's last sequence number, default the last change's), on the
    condition that the watermark is absent or before the first change. A refusal means the item
    already counted part of the batch (a retried or bisected one): only the changes past its
    watermark are written, conditioned on the watermark read. Returns {"counted", "repeats",
    "writes"}: records written to at least one item, records every item had counted, UpdateItems."""
    pending = [(seq, d) for seq, d in changes if d]
    if not pending:
        return {"counted": 0, "repeats": 0, "writes": 0}
    last = last or max((seq for seq, _ in pending), key=int)
    per_item: dict[tuple, list[tuple[str, str, dict]]] = defaultdict(list)
    for seq, d in pending:
        for item, counts in d.items():
            per_item[item].append((seq_key(seq), seq, counts))
    now, name = time.time(), lane(shard_id)
    written: set[str] = set()
    writes = 0
    for item, entries in per_item.items():
        applied, n = _write_item(client, table_name, item, name, sorted(entries), _watermark(last, now), now)
        written |= applied
        writes += n
    counted = sum(1 for seq, _ in pending if seq in written)
    return {"counted": counted, "repeats": len(pending) - counted, "writes": writes}


def _write_item(client: Any, table_name: str, item: tuple, name: str, entries: list[tuple[str, str, dict]],
                mark: str, now: float) -> tuple[set[str], int]:
    """Write one item's share of a batch. Returns (sequence numbers written, requests made)."""
    expected: Optional[str] = None  # None: the first try, the watermark's value unknown
    writes = 0
    for _ in range(WRITE_TRIES):
        summed: dict[str, int] = defaultdict(int)
        for _, _, counts in entries:
            for counter, n in counts.items():
                summed[counter] += n
        counts = {k: v for k, v in summed.items() if v}
        names = {f"#a{i}": counter for i, counter in enumerate(counts)}
        values: dict = {f":v{i}": n for i, n in enumerate(counts.values())}
        expression = ("ADD " + ", ".join(f"#a{i} :v{i}" for i in range(len(counts))) + " ") if counts else ""
        names.update({"#b": "brand", "#w": name})
        values.update({":b": item[1], ":w": max(mark, expected or "")})
        expression += "SET #b = :b, #w = :w"
        if item[0] == "hour":  # its expiry, a function of the hour alone: the same value every write
            names["#x"], values[":x"] = TTL_ATTRIBUTE, expires_at(item[2])
            expression += ", #x = :x"
        if expected is None:
            condition = "attribute_not_exists(#w) OR #w < :first"
            values[":first"] = entries[0][0]
        else:
            condition, values[":old"] = "#w = :old", expected
        writes += 1
        try:
            answer = client.update_item(TableName=table_name, Key=item_key(item), UpdateExpression=expression,
                                        ConditionExpression=condition, ExpressionAttributeNames=names,
                                        ExpressionAttributeValues=values, ReturnValues="ALL_NEW",
                                        ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except ClientError as err:
            if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            old = err.response.get("Item") or {}
            expected = _plain_string(old.get(name)) or None  # None: gone (pruned), all of it is new
            entries = [e for e in entries if not expected or e[0] > expected[:SEQ_WIDTH]]
            if not entries:
                return set(), writes
            continue
        writes += _prune(client, table_name, item, name, answer.get("Attributes") or {}, now)
        return {seq for _, seq, _ in entries}, writes
    raise RuntimeError(f"counter item {item} kept changing under shard watermark {name}")


def _plain_string(value: Any) -> Optional[str]:
    if isinstance(value, dict):  # the wire form: an error's item is not deserialised
        return value.get("S")
    return value


def _prune(client: Any, table_name: str, item: tuple, own: str, attributes: Mapping[str, Any], now: float) -> int:
    """Remove the watermarks of shards that wrote nothing to the item for STALE_SECONDS (the stream
    keeps records 24 h: none of theirs can come back), each on the condition that it is unchanged.
    Shards roll over every few hours; without this a brand's gauges would grow without end."""
    cutoff = int((now - STALE_SECONDS) // 3600)
    stale = {}
    for attribute, value in attributes.items():
        if attribute.startswith(LANE_PREFIX) and attribute != own and isinstance(value, str):
            hour = _written_hour(value)
            if hour is not None and hour < cutoff:
                stale[attribute] = value
    if not stale:
        return 0
    stale = dict(sorted(stale.items())[:PRUNE_AT_ONCE])
    names = {f"#s{i}": attribute for i, attribute in enumerate(stale)}
    values = {f":s{i}": value for i, value in enumerate(stale.values())}
    try:
        client.update_item(TableName=table_name, Key=item_key(item),
                           UpdateExpression="REMOVE " + ", ".join(names),
                           ConditionExpression=" AND ".join(f"#s{i} = :s{i}" for i in range(len(stale))),
                           ExpressionAttributeNames=names, ExpressionAttributeValues=values)
    except ClientError as err:
        if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise  # a refusal: that shard wrote again meanwhile; its watermark stays
    return 1


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
