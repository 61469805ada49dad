"""What the desk costs at the AWS wire: every request its boto3 clients send, and DynamoDB's bill.

A `Meter` hooks botocore (`before-call` / `after-call`, added to botocore's built-in handlers so
every session created afterwards carries it, the way moto's own stubber is installed) and tallies
each request by service and operation. For DynamoDB it computes the capacity units the way
DynamoDB bills them, from the request on the wire and the item as it was before and after:

* writes: 1 WCU per started KB of the larger of the item before and after, for the table and again
  for each index entry written (an entry put or deleted, or rewritten because a projected attribute
  changed; a change of the index key is a delete plus a put); transactions count double; a refused
  conditional write still pays the table's units; a `ConditionCheck` in a transaction pays 2 WCU
  per started KB of the item it checks;
* reads: 4 KB units of what was read, 0.5 RCU each eventually consistent and 1 strongly
  consistent, 2 in a transaction; a GetItem of nothing still pays 0.5 (1); a Query or Scan pays
  for everything it evaluated before its filter (summed, then rounded up once), which the meter
  finds by reading the same page again without the filter on an unmetered client.

Item sizes follow DynamoDB's rules: attribute name bytes plus value bytes (strings UTF-8, numbers
about one byte per two significant digits plus one, 1 byte for a boolean or null, 3 bytes plus one
per element for lists and maps). The items before and after a write are read from moto's backend
in the same process (no request, so nothing counted), which is why the meter needs moto
in-process (`mock_aws`) or moto's threaded server in the same process.

Every write unit is also charged to the partition key it lands on (`table` or the index name, and
the key value), so the hottest key and its load at a given rate fall out of the same tally.
"""
from __future__ import annotations

import base64
import json
import math
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Optional

KB = 1024
READ_UNIT = 4 * KB
SQS_CHUNK = 64 * KB


# -- item size, the way DynamoDB counts it ------------------------------------------------------
def number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").split("e")[0].split("E")[0].strip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def value_size(value: dict) -> int:
    (kind, v), = value.items()
    if kind == "S":
        return len(v.encode("utf-8"))
    if kind == "N":
        return number_size(v)
    if kind == "B":
        return len(v) if isinstance(v, (bytes, bytearray)) else len(base64.b64decode(v))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in v)
    if kind == "NS":
        return sum(number_size(n) for n in v)
    if kind == "BS":
        return sum(len(b) if isinstance(b, (bytes, bytearray)) else len(base64.b64decode(b)) for b in v)
    if kind == "L":
        return 3 + sum(value_size(e) + 1 for e in v)
    if kind == "M":
        return 3 + sum(len(k.encode("utf-8")) + value_size(e) + 1 for k, e in v.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: Optional[dict]) -> int:
    """Bytes of an item in DynamoDB's wire form ({"name": {"S": "..."}}); 0 for no item."""
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in (item or {}).items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / KB))


def read_units(size: int, consistent: bool) -> float:
    return max(1, math.ceil(size / READ_UNIT)) * (1.0 if consistent else 0.5)


# -- the table's shape: keys and indexes, read from moto so a new index is metered as it comes ----
@dataclass(frozen=True)
class Index:
    name: str  # "table" for the base table
    hash_key: str
    range_key: Optional[str]
    projection: str  # ALL, KEYS_ONLY, INCLUDE
    include: tuple = ()


@dataclass
class Shape:
    table: Index
    indexes: list[Index]

    def entry(self, index: Index, item: Optional[dict]) -> Optional[dict]:
        """The index entry an item makes (None when the item is not in that index)."""
        if not item or index.hash_key not in item or (index.range_key and index.range_key not in item):
            return None
        if index.projection == "ALL":
            return item
        keep = {self.table.hash_key, self.table.range_key, index.hash_key, index.range_key, *index.include}
        return {k: v for k, v in item.items() if k in keep}


def _index(name: str, key_schema: list[dict], projection: Optional[dict] = None) -> Index:
    hash_key = next(k["AttributeName"] for k in key_schema if k["KeyType"] == "HASH")
    range_key = next((k["AttributeName"] for k in key_schema if k["KeyType"] == "RANGE"), None)
    projection = projection or {"ProjectionType": "ALL"}
    return Index(name, hash_key, range_key, projection.get("ProjectionType", "ALL"),
                 tuple(projection.get("NonKeyAttributes", ())))


def shape_from_description(description: dict) -> Shape:
    """From a DescribeTable answer's `Table` (or a CreateTable request)."""
    table = _index("table", description["KeySchema"])
    indexes = [_index(i["IndexName"], i["KeySchema"], i.get("Projection"))
               for i in description.get("GlobalSecondaryIndexes", []) + description.get("LocalSecondaryIndexes", [])]
    return Shape(table, indexes)


# -- moto, peeked at without a request ---------------------------------------------------------
class MotoPeek:
    """Items and table shapes straight from moto's backend (in this process)."""

    def __init__(self, account: str = "123456789012") -> None:
        self.account = account
        self._shapes: dict = {}

    def _backend(self, region: str):
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends[self.account][region]

    def shape(self, region: str, table: str) -> Shape:
        if (region, table) not in self._shapes:
            described = self._backend(region).describe_table(table)
            self._shapes[(region, table)] = shape_from_description(described.get("Table", described))
        return self._shapes[(region, table)]

    def item(self, region: str, table: str, key: dict) -> Optional[dict]:
        try:
            found = self._backend(region).get_item(table, key)
        except Exception:
            return None
        return found.to_json()["Attributes"] if found else None


# -- the tally ---------------------------------------------------------------------------------
@dataclass
class Tally:
    requests: Counter = field(default_factory=Counter)  # (caller, service, operation) -> requests sent
    billed: Counter = field(default_factory=Counter)  # (service, operation) -> billed requests (SQS chunks)
    wcu: Counter = field(default_factory=Counter)  # operation -> WCU
    rcu: Counter = field(default_factory=Counter)  # operation -> RCU
    key_wcu: Counter = field(default_factory=Counter)  # (table or index, partition key value) -> WCU
    key_writes: Counter = field(default_factory=Counter)  # (table or index, partition key value) -> writes
    key_ops: Counter = field(default_factory=Counter)  # (table or index, key value, operation) -> WCU
    key_rcu: Counter = field(default_factory=Counter)  # partition key read ("<index> <value>" for a query) -> RCU
    errors: Counter = field(default_factory=Counter)  # (service, operation, code) -> count

    def total(self, service: Optional[str] = None, caller: Optional[str] = None) -> int:
        return sum(n for (c, s, _), n in self.requests.items()
                   if (service is None or s == service) and (caller is None or c == caller))


class Meter:
    """Counts what boto3 sends while `recording`; `exempt(client)` leaves a client out."""

    def __init__(self, peek: Optional[MotoPeek] = None) -> None:
        self.tally = Tally()
        self.recording = False
        self.peek = peek or MotoPeek()
        self._exempt: set = set()
        self._event_source: set = set()
        self._lock = threading.Lock()
        self._raw = None

    # clients: the meter's own (never counted) and the event-source poller's (counted apart)
    def exempt(self, client) -> None:
        self._exempt.add(id(client._request_signer))

    def event_source(self, client) -> None:
        self._event_source.add(id(client._request_signer))

    def reset(self) -> None:
        self.tally = Tally()

    def install(self) -> "Meter":
        """Hook every botocore session created from now on (and the boto3 default one)."""
        from botocore import handlers

        for pair in (("before-call", self._before), ("after-call", self._after)):
            if pair not in handlers.BUILTIN_HANDLERS:
                handlers.BUILTIN_HANDLERS.append(pair)
        try:
            import boto3

            boto3.DEFAULT_SESSION = None  # the next one is built with the hooks
        except ImportError:
            pass
        return self

    def uninstall(self) -> None:
        from botocore import handlers

        for pair in (("before-call", self._before), ("after-call", self._after)):
            while pair in handlers.BUILTIN_HANDLERS:
                handlers.BUILTIN_HANDLERS.remove(pair)

    # -- hooks
    def _caller(self, request_signer) -> Optional[str]:
        if id(request_signer) in self._exempt:
            return None
        return "event source" if id(request_signer) in self._event_source else "app"

    def _before(self, model, params, request_signer, context, **_) -> None:
        try:
            self._note(model, params, request_signer, context)
        except Exception as err:  # the meter never breaks the desk; a miss is shown in the report
            self.tally.errors[("meter", model.name, type(err).__name__)] += 1

    def _after(self, http_response, parsed, model, context, **_) -> None:
        try:
            self._count(http_response, parsed, model, context)
        except Exception as err:
            self.tally.errors[("meter", model.name, type(err).__name__)] += 1

    def _note(self, model, params, request_signer, context) -> None:
        if not self.recording:
            return
        caller = self._caller(request_signer)
        if caller is None:
            return
        service = model.service_model.service_name
        if service == "dynamodbstreams" or (service, model.name) in EVENT_SOURCE_CALLS:
            caller = "event source"  # Lambda's stream poller (the local StreamWorker): not billed
        note = {"caller": caller, "service": service, "op": model.name,
                "region": request_signer._region_name, "body": params.get("body") or b""}
        if service == "dynamodb" and model.name in WRITES:
            note["request"] = _json(note["body"])
            note["before"] = self._images(note["region"], note["request"], model.name)
        context["_bench_meter"] = note

    def _count(self, http_response, parsed, model, context) -> None:
        note = context.pop("_bench_meter", None)
        if note is None:
            return
        service, op = note["service"], note["op"]
        status = getattr(http_response, "status_code", 200)
        with self._lock:
            self.tally.requests[(note["caller"], service, op)] += 1
            body = note["body"]
            size = len(body) if isinstance(body, (bytes, bytearray, str)) else 0
            self.tally.billed[(service, op)] += max(1, math.ceil(size / SQS_CHUNK)) if service == "sqs" else 1
            if status >= 300:
                code = (parsed or {}).get("Error", {}).get("Code", str(status))
                self.tally.errors[(service, op, code)] += 1
        if service != "dynamodb":
            return
        request = note.get("request") or _json(note["body"])
        ok = status < 300
        if op in WRITES:
            after = self._images(note["region"], request, op) if ok else {}
            self._charge_writes(note["region"], request, op, note["before"], after, ok, parsed or {})
        elif op in READS:
            self._charge_reads(note["region"], request, op, _json(http_response.content) if ok else {})

    # -- writes
    def _images(self, region: str, request: dict, op: str) -> dict:
        """{(table, key as json): item} for every item the write touches."""
        images = {}
        for table, key, _ in _write_targets(request, op, self.peek, region):
            images[(table, _key_id(key))] = self.peek.item(region, table, key)
        return images

    def _charge_writes(self, region, request, op, before, after, ok, parsed) -> None:
        factor = 2 if op == "TransactWriteItems" else 1
        cancelled = _cancellation(op, parsed) if not ok else None
        for position, (table, key, kind) in enumerate(_write_targets(request, op, self.peek, region)):
            shape = self.peek.shape(region, table)
            ident = (table, _key_id(key))
            old = before.get(ident)
            if kind == "ConditionCheck":
                self._charge_key(op, shape.table, key, write_units(item_size(old)) * 2)
                continue
            if not ok:  # refused: the table's units of what would have been written, no index
                proposed = (request.get("Item") if op == "PutItem" else None)
                if cancelled is not None and position < len(cancelled):
                    proposed = _transact_item(request["TransactItems"][position])
                units = write_units(max(item_size(old), item_size(proposed)))
                self._charge_key(op, shape.table, key, units * factor)
                continue
            new = after.get(ident)
            self._charge_key(op, shape.table, key, write_units(max(item_size(old), item_size(new))) * factor)
            for index in shape.indexes:
                was, now = shape.entry(index, old), shape.entry(index, new)
                for entry in _index_writes(index, was, now):
                    self._charge_key(op, index, entry, write_units(item_size(entry)) * factor)

    def _charge_key(self, op: str, index: Index, item: dict, units: float) -> None:
        value = item.get(index.hash_key, {})
        shown = next(iter(value.values()), "?") if value else "?"
        with self._lock:
            self.tally.wcu[op] += units
            self.tally.key_wcu[(index.name, str(shown))] += units
            self.tally.key_writes[(index.name, str(shown))] += 1
            self.tally.key_ops[(index.name, str(shown), op)] += units

    # -- reads
    def _charge_reads(self, region, request, op, answer) -> None:
        read: list[tuple[str, float]] = []  # (partition key read, units)
        if op == "GetItem":
            read.append((_pk(request.get("Key")), read_units(item_size(answer.get("Item")),
                                                             bool(request.get("ConsistentRead")))))
        elif op == "BatchGetItem":
            for table, spec in request.get("RequestItems", {}).items():
                for key in spec.get("Keys", []):
                    read.append((_pk(key), read_units(item_size(self.peek.item(region, table, key)),
                                                      bool(spec.get("ConsistentRead")))))
        elif op == "TransactGetItems":
            for entry in request.get("TransactItems", []):
                get = entry["Get"]
                read.append((_pk(get["Key"]), 2 * read_units(item_size(self.peek.item(
                    region, get["TableName"], get["Key"])), True)))
        elif op in ("Query", "Scan"):
            values = request.get("ExpressionAttributeValues", {})
            first = next((v for k, v in values.items() if k in _tokens(request.get("KeyConditionExpression", ""))), {})
            shown = next(iter(first.values()), "?") if isinstance(first, dict) and first else "?"
            read.append((f"{request.get('IndexName') or 'table'} {shown}", read_units(
                self._evaluated_bytes(region, request, op), bool(request.get("ConsistentRead")))))
        with self._lock:
            for key, units in read:
                self.tally.rcu[op] += units
                self.tally.key_rcu[key] += units

    def _evaluated_bytes(self, region: str, request: dict, op: str) -> int:
        """What a Query or Scan page read before its filter: the same page without it."""
        plain = {k: v for k, v in request.items() if k not in (
            "FilterExpression", "ProjectionExpression", "AttributesToGet", "Select", "ScanFilter",
            "QueryFilter", "ReturnConsumedCapacity", "ExpressionAttributeNames", "ExpressionAttributeValues")}
        used = request.get("KeyConditionExpression", "") if op == "Query" else ""
        names = {k: v for k, v in request.get("ExpressionAttributeNames", {}).items() if k in _tokens(used)}
        values = {k: v for k, v in request.get("ExpressionAttributeValues", {}).items() if k in _tokens(used)}
        if names:
            plain["ExpressionAttributeNames"] = names
        if values:
            plain["ExpressionAttributeValues"] = values
        plain["Select"] = "ALL_PROJECTED_ATTRIBUTES" if request.get("IndexName") else "ALL_ATTRIBUTES"
        client = self.raw_client(region)
        answer = client.query(**plain) if op == "Query" else client.scan(**plain)
        return sum(item_size(i) for i in answer.get("Items", []))

    def raw_client(self, region: str):
        """A low-level DynamoDB client the meter itself uses; its requests are never counted."""
        if self._raw is None:
            import boto3

            self._raw = boto3.session.Session().client("dynamodb", region_name=region)
            self.exempt(self._raw)
        return self._raw


# -- helpers -----------------------------------------------------------------------------------
# Calls only the stand-ins for Lambda's event source mappings make, whichever client they use
EVENT_SOURCE_CALLS = {("dynamodb", "DescribeTable")}
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
READS = ("GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems")


def _json(body) -> dict:
    if not body:
        return {}
    try:
        return json.loads(body)
    except (ValueError, TypeError):
        return {}


def _tokens(expression: str) -> set:
    import re

    return set(re.findall(r"[#:][A-Za-z0-9_]+", expression or ""))


def _pk(key: Optional[dict]) -> str:
    """The partition key value of a key in wire form ({"PK": {"S": "..."}, ...}): the PK attribute's."""
    value = (key or {}).get("PK") or next(iter((key or {}).values()), {})
    return str(next(iter(value.values()), "?")) if isinstance(value, dict) and value else "?"


def _key_id(key: dict) -> str:
    return json.dumps(key, sort_keys=True)


def _key_of(item: dict, shape: Shape) -> dict:
    names = [shape.table.hash_key] + ([shape.table.range_key] if shape.table.range_key else [])
    return {n: item[n] for n in names if n in item}


def _write_targets(request: dict, op: str, peek: MotoPeek, region: str):
    """(table, key, kind) of each item a write request touches, in request order."""
    if op == "PutItem":
        table = request["TableName"]
        yield table, _key_of(request["Item"], peek.shape(region, table)), "Put"
    elif op in ("UpdateItem", "DeleteItem"):
        yield request["TableName"], request["Key"], op[:-4]
    elif op == "BatchWriteItem":
        for table, writes in request.get("RequestItems", {}).items():
            for w in writes:
                if "PutRequest" in w:
                    yield table, _key_of(w["PutRequest"]["Item"], peek.shape(region, table)), "Put"
                else:
                    yield table, w["DeleteRequest"]["Key"], "Delete"
    elif op == "TransactWriteItems":
        for entry in request.get("TransactItems", []):
            (kind, spec), = entry.items()
            table = spec["TableName"]
            key = _key_of(spec["Item"], peek.shape(region, table)) if kind == "Put" else spec["Key"]
            yield table, key, kind


def _transact_item(entry: dict) -> Optional[dict]:
    return entry.get("Put", {}).get("Item")


def _cancellation(op: str, parsed: dict) -> Optional[list]:
    if op != "TransactWriteItems":
        return None
    return parsed.get("CancellationReasons") or []


def _index_writes(index: Index, was: Optional[dict], now: Optional[dict]) -> list[dict]:
    """The index entries a write puts or deletes (each billed at its own size)."""
    if was is None and now is None:
        return []
    if was is None:
        return [now]
    if now is None:
        return [was]
    keys = [index.hash_key] + ([index.range_key] if index.range_key else [])
    if any(was.get(k) != now.get(k) for k in keys):
        return [was, now]  # the old entry deleted, the new one put
    if was != now:
        return [now if item_size(now) >= item_size(was) else was]
    return []


def as_float(value) -> float:
    return float(value) if isinstance(value, Decimal) else value


# -- moto, made fast enough for 200 mentions: shared with the local stack ----------------------
from infra.local.fastmoto import fast_moto_transactions  # noqa: E402,F401  (bench/cost.py calls it from here)
