"""The TicketStore port on DynamoDB, given its table (a boto3 Table resource).

A ticket is the item `TICKET#<id> / TICKET`, its messages in the same partition (the
MessageStore's); the conversation pointer `CONV#<key>` names the ticket a conversation is on; the
inbox is index GSI1, one partition per status, sorted by priority then SLA due (keys.py). Opening
a ticket writes it and the pointer in one transaction; every change is an update conditional on
the version read (ConcurrentUpdate otherwise). The inbox's filters run as a FilterExpression on the
query of one status, never a scan.
"""
from __future__ import annotations

import time
import weakref
from typing import Any, Iterator, Mapping, Optional, Sequence

from botocore.exceptions import ClientError

from chalicelib.aggregates.ticket import HELD_STATUSES, Ticket
from chalicelib.errors import ConcurrentUpdate
from chalicelib.store import keys
from chalicelib.store.items import conditional_failed, dynamo, matches, partition, plain, update_expression
from chalicelib.store.ports import INBOX_READS

OPEN_ATTEMPTS = 10
OPEN_WAIT = 0.02  # seconds, times the attempt: a racing opener puts its ticket a moment after its pointer
INBOX_PAGE = 100  # what inbox_all reads a page at a time
_REGISTERED: "weakref.WeakKeyDictionary[Any, set]" = weakref.WeakKeyDictionary()  # brands put in the registry, by table


def inbox_filter(filters: Mapping[str, Any], kwargs: dict) -> str:
    """A FilterExpression for the inbox query; values and names added to `kwargs`."""
    names: dict = {}
    values = kwargs["ExpressionAttributeValues"]
    parts = []
    simple = {"channel": "channel", "assignee": "assignee", "team": "team", "topic": "topic", "language": "language"}
    for key, attribute in simple.items():
        if key in filters:
            if key == "assignee" and filters[key] == "none":
                names["#assignee"] = "assignee"
                parts.append("attribute_not_exists(#assignee)")
                continue
            names[f"#{attribute}"] = attribute
            values[f":{key}"] = filters[key]
            parts.append(f"#{attribute} = :{key}")
    if "priority_min" in filters:
        values[":pmin"] = filters["priority_min"]
        parts.append("priority >= :pmin")
    if "priority_max" in filters:
        values[":pmax"] = filters["priority_max"]
        parts.append("priority <= :pmax")
    if "sentiment" in filters:
        names.update({"#c": "classification", "#s": "sentiment"})
        values[":sentiment"] = filters["sentiment"]
        parts.append("#c.#s = :sentiment")
    if "brands" in filters:  # the caller's brands (TicketStore.inbox's `brands`), never from a query
        names["#brand"] = "brand"
        values.update({f":brand{i}": b for i, b in enumerate(filters["brands"])})
        parts.append(f"#brand IN ({', '.join(f':brand{i}' for i in range(len(filters['brands'])))})")
    if names:
        kwargs["ExpressionAttributeNames"] = names
    return " AND ".join(parts)


def claim_conversation(table: Any, conversation_key: str, ticket_id: str, replaces: Optional[str]) -> None:
    """Point the conversation at `ticket_id`: only while it points at nothing, at the closed ticket
    `replaces`, or at `ticket_id` already (a retry). ConcurrentUpdate when another ticket has it."""
    condition = "ticket_id = :mine OR " + ("ticket_id = :old" if replaces else "attribute_not_exists(PK)")
    values = {":mine": ticket_id, **({":old": replaces} if replaces else {})}
    try:
        table.put_item(Item={**keys.conversation(conversation_key), "ticket_id": ticket_id},
                       ConditionExpression=condition, ExpressionAttributeValues=values)
    except ClientError as err:
        if conditional_failed(err):
            raise ConcurrentUpdate(conversation_key) from err
        raise


def put_opened(table: Any, ticket: Ticket) -> bool:
    """A new ticket with its index keys (True); nothing when it is there already (False: a retry
    put it, and it may have moved on since: a put never overwrites it)."""
    item = {**keys.ticket(ticket.id), **ticket.to_item(), **keys.new_ticket_keys(
        ticket.id, ticket.brand, ticket.status, ticket.priority, ticket.sla_due_at,
        None if ticket.assignee else ticket.waiting_since)}
    try:
        table.put_item(Item=dynamo(item), ConditionExpression="attribute_not_exists(PK)")
    except ClientError as err:
        if not conditional_failed(err):
            raise
        return False
    register_brand(table, ticket.brand)
    return True


def register_brand(table: Any, brand: Optional[str]) -> None:
    """The brand in the registry an admin's inbox reads (once per brand and container)."""
    seen = _REGISTERED.setdefault(table, set())
    if brand in seen:
        return
    table.put_item(Item=keys.brand_entry(brand))
    seen.add(brand)


class DynamoTicketStore:
    def __init__(self, table: Any):
        self.table = table
        self.client = table.meta.client  # transactions: the resource's client serialises plain values itself
        self.name = table.name

    def open_for(self, conversation_key: str, new: Ticket) -> tuple[Ticket, bool]:
        # No transaction: the pointer is claimed first (conditional on being absent, on still
        # naming the closed ticket we saw, or on naming `new` already: a retry), then the ticket is
        # put (conditional on being new). Racing workers make one ticket; one that finds the
        # pointer naming a ticket not there yet waits for its opener to put it.
        for attempt in range(OPEN_ATTEMPTS):
            pointer = self.table.get_item(Key=keys.conversation(conversation_key), ConsistentRead=True).get("Item")
            replaces = None
            if pointer and pointer["ticket_id"] != new.id:
                current = self.get(pointer["ticket_id"])
                if current is None:  # another worker is opening it this moment
                    time.sleep(OPEN_WAIT * (attempt + 1))
                    continue
                if current.status != "closed":
                    return current, False
                replaces = current.id
                if current.assignee:  # the customer is back: their agent first
                    new = new.model_copy(update={"previous_assignee": current.assignee})
            try:
                claim_conversation(self.table, conversation_key, new.id, replaces)
            except ConcurrentUpdate:
                continue
            put_opened(self.table, new)
            return new, True
        raise ConcurrentUpdate(f"conversation {conversation_key} kept changing")

    def brands(self) -> list[Optional[str]]:
        """Every brand that ever had a ticket (None: tickets stored without one)."""
        return [keys.brand_of_entry(i["SK"]) for i in partition(self.table, *keys.all_brands())]

    def get(self, ticket_id: str) -> Optional[Ticket]:
        item = self.table.get_item(Key=keys.ticket(ticket_id), ConsistentRead=True).get("Item")
        return None if item is None else Ticket.from_item(plain(item))

    def by_conversation(self, conversation_key: str) -> Optional[Ticket]:
        pointer = self.table.get_item(Key=keys.conversation(conversation_key), ConsistentRead=True).get("Item")
        return self.get(pointer["ticket_id"]) if pointer else None

    def update(self, ticket_id: str, expected_version: int, changes: Mapping[str, Any]) -> Ticket:
        changes = {**changes, **keys.ticket_index_changes(ticket_id, changes)}
        expr, names, values = update_expression(dict(changes), "version = version + :one")
        try:
            answer = self.table.update_item(
                Key=keys.ticket(ticket_id), UpdateExpression=expr, ConditionExpression="version = :v",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=dynamo({**values, ":one": 1, ":v": expected_version}),
                ReturnValues="ALL_NEW")
        except ClientError as err:
            if conditional_failed(err):
                raise ConcurrentUpdate(ticket_id) from err
            raise
        return Ticket.from_item(plain(answer["Attributes"]))

    def _partitions(self, brands: Optional[Sequence[str]]) -> list[str]:
        wanted = self.brands() if brands is None else list(dict.fromkeys(brands))
        return [p for brand in wanted for p in keys.inbox_partitions(brand)]

    def inbox(self, status: str, *, brands: Optional[Sequence[str]] = None,
              filters: Optional[Mapping[str, Any]] = None, limit: int = 25,
              cursor: Optional[dict] = None) -> tuple[list[Ticket], Optional[dict]]:
        # Every write shard of every brand asked for is read from where the cursor left it, at most
        # `limit` matches each (the page's tickets are among them), and the shards merged in GSI1SK
        # order. The index holds the filters' attributes (infra/resources.py INBOX_PROJECTION), so
        # DynamoDB filters it; sentiment and text are on the ticket only, so they are checked on the
        # tickets read (fetched for those filters only). A shard that stopped after INBOX_READS reads
        # bounds the page: nothing past where it stopped is handed out, so order holds.
        if brands is not None and not brands:
            return [], None
        filters = dict(filters or {})
        residual = {k: filters.pop(k) for k in ("sentiment", "q") if k in filters}
        after = dict((cursor or {}).get("after") or {})
        candidates: list[tuple[str, str, Optional[dict]]] = []  # (GSI1SK, partition, ticket item if read)
        horizons: dict[str, Optional[str]] = {}
        for part in self._partitions(brands):
            if part in after and after[part] is None:
                continue  # that shard is done
            found, horizons[part] = self._read_shard(part, status, after.get(part), limit, filters, residual)
            candidates += [(sk, part, item) for sk, item in found]
        bound = min((h for h in horizons.values() if h is not None), default=None)
        ordered = sorted(c for c in candidates if bound is None or c[0] <= bound)
        page = ordered[:limit]
        tickets = self._tickets([(sk, item) for sk, _, item in page])
        if len(page) == limit:  # every shard goes on after the page's last entry, unless it has nothing past it
            last = page[-1][0]
            position = {part: (last if h is not None or any(c[1] == part and c[0] > last for c in ordered) else None)
                        for part, h in horizons.items()}
        else:  # every match up to the bound is on this page
            position = {part: (min(h, bound) if h is not None else
                               (bound if any(c[1] == part and c[0] > (bound or "") for c in candidates) else None))
                        for part, h in horizons.items()}
        more = any(v is not None for v in position.values())
        if not more:
            return tickets, None
        return tickets, {"status": status, "after": {**after, **position}}

    def _read_shard(self, part: str, status: str, after: Optional[str], limit: int, filters: Mapping[str, Any],
                    residual: Mapping[str, Any]) -> tuple[list[tuple[str, Optional[dict]]], Optional[str]]:
        """Up to `limit` matches of one shard after `after`, and where the read stopped (None: the
        shard's end)."""
        low, high = keys.inbox_range(status, after)
        kwargs: dict = {"IndexName": "GSI1", "KeyConditionExpression": "GSI1PK = :p AND GSI1SK BETWEEN :lo AND :hi",
                        "ExpressionAttributeValues": {":p": part, ":lo": low, ":hi": high}}
        expression = inbox_filter(filters, kwargs)
        if expression:
            kwargs["FilterExpression"] = expression
        found: list[tuple[str, Optional[dict]]] = []
        for _ in range(INBOX_READS):
            kwargs["Limit"] = limit - len(found) if not (expression or residual) else max(limit * 2, 20)
            answer = self.table.query(**kwargs)
            items, more = answer.get("Items", []), answer.get("LastEvaluatedKey")
            if residual:
                full = {i["id"]: i for i in self._get_many([keys.inbox_ticket_id(i["GSI1SK"]) for i in items])}
                items = [{**i, "item": full[keys.inbox_ticket_id(i["GSI1SK"])]} for i in items
                         if keys.inbox_ticket_id(i["GSI1SK"]) in full
                         and matches(full[keys.inbox_ticket_id(i["GSI1SK"])], residual)]
            for item in items:
                found.append((item["GSI1SK"], item.get("item")))
                if len(found) == limit:
                    return found, item["GSI1SK"]
            if not more:
                return found, None
            kwargs["ExclusiveStartKey"] = more
        return found, kwargs["ExclusiveStartKey"]["GSI1SK"]

    def _tickets(self, entries: list[tuple[str, Optional[dict]]]) -> list[Ticket]:
        """The page's tickets in its order (read in one batch unless read already)."""
        wanted = [keys.inbox_ticket_id(sk) for sk, item in entries if item is None]
        read = {i["id"]: i for i in self._get_many(wanted)}
        items = [item if item is not None else read.get(keys.inbox_ticket_id(sk)) for sk, item in entries]
        return [Ticket.from_item(i) for i in items if i is not None]

    def _get_many(self, ticket_ids: list[str]) -> list[dict]:
        """Tickets by id, as stored (plain), in batches of 100, strongly consistent."""
        found: list[dict] = []
        ids = list(dict.fromkeys(ticket_ids))
        for start in range(0, len(ids), 100):
            request = {self.name: {"Keys": [keys.ticket(i) for i in ids[start:start + 100]], "ConsistentRead": True}}
            while request:
                answer = self.client.batch_get_item(RequestItems=request)
                found += [plain(i) for i in answer["Responses"].get(self.name, [])]
                request = answer.get("UnprocessedKeys") or None
        return found

    def inbox_all(self, status: str, filters: Optional[Mapping[str, Any]] = None, *,
                  brands: Optional[Sequence[str]] = None) -> Iterator[Ticket]:
        cursor = None
        while True:
            page, cursor = self.inbox(status, brands=brands, filters=filters, limit=INBOX_PAGE, cursor=cursor)
            yield from page
            if not cursor:
                return

    def inbox_count(self, status: str, *, brands: Optional[Sequence[str]] = None) -> int:
        total = 0
        for part in self._partitions(brands):
            low, high = keys.inbox_range(status)
            total += self._count({"IndexName": "GSI1", "KeyConditionExpression": "GSI1PK = :p AND GSI1SK BETWEEN :lo AND :hi",
                                  "ExpressionAttributeValues": {":p": part, ":lo": low, ":hi": high}})
        return total

    def _count(self, query: dict) -> int:
        """How many items a query matches, paged to its end (Select COUNT: nothing returned)."""
        kwargs, total = {**query, "Select": "COUNT"}, 0
        while True:
            page = self.table.query(**kwargs)
            total += page["Count"]
            if "LastEvaluatedKey" not in page:
                return total
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def assigned_to(self, agent_id: str, status: str = "open") -> list[Ticket]:
        # The agent's own entries of that status in ByAssignee (keys only: it moves only when the
        # holder or the status does), their tickets read in one batch, put in inbox order.
        kwargs: dict = {"IndexName": "ByAssignee", "KeyConditionExpression": "assignee = :a AND #st = :s",
                        "ExpressionAttributeNames": {"#st": "status"},
                        "ExpressionAttributeValues": {":a": agent_id, ":s": status}}
        ids: list[str] = []
        while True:
            page = self.table.query(**kwargs)
            ids += [keys.ticket_id_of(i) for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        mine = [i for i in self._get_many(ids) if i.get("assignee") == agent_id and i.get("status") == status]
        return [Ticket.from_item(i) for i in sorted(mine, key=lambda i: (i.get("GSI1SK") or "", i["id"]))]

    def held_count(self, agent_id: str) -> int:
        return sum(self._count({"IndexName": "ByAssignee", "KeyConditionExpression": "assignee = :a AND #st = :s",
                                "ExpressionAttributeNames": {"#st": "status"},
                                "ExpressionAttributeValues": {":a": agent_id, ":s": status}})
                   for status in HELD_STATUSES)

    def waiting(self, limit: int, *, brands: Optional[Sequence[str]] = None) -> list[Ticket]:
        return self.inbox("open", brands=brands, filters={"assignee": "none"}, limit=limit)[0]

    def due_between(self, first_minute: str, last_minute: str) -> list[Ticket]:
        """The tickets whose SLA deadline falls in the minutes from `first_minute` to `last_minute`
        (`yyyy-mm-ddThh:mm`, both included): their buckets' keys, then the tickets in one batch."""
        return self._bucketed("GSI2", keys.due_partitions, first_minute, last_minute)

    def redrives_between(self, first_minute: str, last_minute: str) -> list[Ticket]:
        """The unassigned tickets whose next re-drive falls in those minutes."""
        return self._bucketed("GSI3", keys.redrive_partitions, first_minute, last_minute)

    def _bucketed(self, index: str, partitions, first_minute: str, last_minute: str) -> list[Ticket]:
        entries: list[str] = []
        for bucket in keys.minutes_between(first_minute, last_minute):
            for part in partitions(bucket):
                kwargs: dict = {"IndexName": index, "KeyConditionExpression": f"{index}PK = :p",
                                "ExpressionAttributeValues": {":p": part}}
                while True:
                    page = self.table.query(**kwargs)
                    entries += [i[f"{index}SK"] for i in page.get("Items", [])]
                    if "LastEvaluatedKey" not in page:
                        break
                    kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        ordered = sorted(entries)
        return [Ticket.from_item(i) for i in self._ordered_get([keys.index_ticket_id(sk) for sk in ordered])]

    def _ordered_get(self, ticket_ids: list[str]) -> list[dict]:
        read = {i["id"]: i for i in self._get_many(ticket_ids)}
        return [read[i] for i in dict.fromkeys(ticket_ids) if i in read]

    def redrive_later(self, ticket: Ticket, at_iso: str) -> None:
        """Put an unassigned ticket's next re-drive at `at_iso` (nothing if someone holds it now)."""
        try:
            self.table.update_item(Key=keys.ticket(ticket.id), UpdateExpression="SET GSI3PK = :p, GSI3SK = :s",
                                   ConditionExpression="attribute_exists(PK) AND attribute_not_exists(assignee)",
                                   ExpressionAttributeValues={":p": keys.redrive_index(at_iso, ticket.id)["GSI3PK"],
                                                              ":s": keys.redrive_index(at_iso, ticket.id)["GSI3SK"]})
        except ClientError as err:
            if not conditional_failed(err):
                raise

    def set_sla_due(self, ticket: Ticket, due_iso: str) -> None:
        expr, names, values = update_expression(keys.sla_due(ticket.status, ticket.priority, due_iso, ticket.id,
                                                             ticket.answered))
        self.table.update_item(Key=keys.ticket(ticket.id), UpdateExpression=expr, ConditionExpression="attribute_exists(PK)",
                               ExpressionAttributeNames=names, ExpressionAttributeValues=values)

    def rate(self, ticket_id: str, score: int, comment: Optional[str], at_iso: str,
             source: Optional[str] = None) -> None:
        try:
            self.table.update_item(Key=keys.ticket(ticket_id), UpdateExpression="SET csat = :s, csat_at = :t"
                                   + (", csat_comment = :c" if comment else "") + (", csat_source = :o" if source else ""),
                                   ConditionExpression="attribute_exists(PK) AND attribute_not_exists(csat)",
                                   ExpressionAttributeValues={":s": score, ":t": at_iso,
                                                              **({":c": comment} if comment else {}),
                                                              **({":o": source} if source else {})})
        except ClientError as err:
            if conditional_failed(err):
                raise ValueError("this ticket was rated already") from err
            raise

    def mark_survey(self, ticket_id: str, at_iso: str) -> None:
        try:
            self.table.update_item(Key=keys.ticket(ticket_id), UpdateExpression="SET survey_sent_at = :t",
                                   ConditionExpression="attribute_exists(PK) AND attribute_not_exists(survey_sent_at)",
                                   ExpressionAttributeValues={":t": at_iso})
        except ClientError as err:
            if conditional_failed(err):
                raise ConcurrentUpdate(ticket_id) from err
            raise

    def claim_offhours_ack(self, ticket_id: str, at_iso: str) -> None:
        try:
            self.table.update_item(Key=keys.ticket(ticket_id), UpdateExpression="SET offhours_ack_at = :t",
                                   ConditionExpression="attribute_exists(PK) AND attribute_not_exists(offhours_ack_at)",
                                   ExpressionAttributeValues={":t": at_iso})
        except ClientError as err:
            if conditional_failed(err):
                raise ConcurrentUpdate(ticket_id) from err
            raise

    def mark_waiting(self, ticket_id: str, since_iso: str) -> None:
        first = keys.redrive_index(keys.later(since_iso, keys.REDRIVE_AFTER), ticket_id)
        try:
            self.table.update_item(
                Key=keys.ticket(ticket_id), UpdateExpression="SET waiting_since = if_not_exists(waiting_since, :t), "
                "GSI3PK = if_not_exists(GSI3PK, :p), GSI3SK = if_not_exists(GSI3SK, :s)",
                ConditionExpression="attribute_exists(PK) AND attribute_not_exists(assignee)",
                ExpressionAttributeValues={":t": since_iso, ":p": first["GSI3PK"], ":s": first["GSI3SK"]})
        except ClientError as err:
            if not conditional_failed(err):
                raise  # someone took it meanwhile: it waits for nobody

    def set_customer(self, ticket_ids: list[str], customer_id: str) -> None:
        for ticket_id in ticket_ids:
            self.table.update_item(Key=keys.ticket(ticket_id), UpdateExpression="SET customer_id = :c",
                                   ConditionExpression="attribute_exists(PK)",
                                   ExpressionAttributeValues={":c": customer_id})

    def redact(self, ticket_id: str, erased: str) -> int:
        count = 0
        for message in partition(self.table, *keys.ticket_messages(ticket_id)):
            if message.get("direction") != "in":
                continue
            self.table.update_item(
                Key={"PK": message["PK"], "SK": message["SK"]},
                UpdateExpression="SET #t = :e, author = :a REMOVE attachments, headers, subject",
                ExpressionAttributeNames={"#t": "text"}, ExpressionAttributeValues={":e": erased, ":a": {"id": erased}})
            count += 1
        self.table.update_item(Key=keys.ticket(ticket_id),
                               UpdateExpression="SET last_message_preview = :e, search_text = :e REMOVE subject",
                               ConditionExpression="attribute_exists(PK)", ExpressionAttributeValues={":e": erased})
        return count
