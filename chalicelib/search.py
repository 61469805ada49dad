"""Inbox search: a token index per brand, kept from the table's stream, read a bounded page at a time.

A ticket's tokens are the normalised words (case and accents folded, letters and digits) of what
its `search_text` holds: the first TEXT_WORDS distinct words of the latest inbound message and the
last NAME_WORDS (the author's name and handle, the subject), the latter also as prefixes of three
letters or more ("ain" finds Aino); MAX_TOKENS at most. Each token is an entry
`keys.search_entry(brand, token, created_at, ticket id)`, keys only; a ticket change writes only the
entries its tokens gained and deletes the ones it lost (puts and deletes: a redelivered record
changes nothing).

`GET /api/tickets?q=` reads, for each of the caller's brands in turn, the partition of the query's
longest word, newest first, at most READ_BUDGET entries and their tickets per request; a ticket is
in the answer when every query word is one of its tokens and it passes the inbox's other filters
(status included). A page may come back short with a cursor: the next request reads on.
"""
from __future__ import annotations

import base64
import json
import re
import unicodedata
from typing import Any, Callable, Mapping, Optional

from chalicelib.aggregates.ticket import Ticket
from chalicelib.errors import Invalid
from chalicelib.store import keys
from chalicelib.store.items import plain

TEXT_WORDS = 16
NAME_WORDS = 6
MAX_TOKENS = 40
PREFIX_MIN = 3
READ_BUDGET = 100  # index entries (and tickets) one request reads at most
_WORD = re.compile(r"[^\W_]+")


def normalise(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in folded if not unicodedata.combining(c)).casefold()


def words(text: str) -> list[str]:
    """Distinct normalised words of two characters or more, in order."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(normalise(text)):
        if len(word) >= 2:
            seen.setdefault(word[:40], None)
    return list(seen)


def tokens(ticket: Optional[Mapping[str, Any]]) -> set[str]:
    if not ticket or not ticket.get("created_at"):
        return set()
    every = words(ticket.get("search_text") or "")
    names = every[-NAME_WORDS:]
    found = set(every[:TEXT_WORDS]) | set(names)
    for word in names:
        found.update(word[:n] for n in range(PREFIX_MIN, len(word)))
    return set(sorted(found, key=lambda t: (t not in names, len(t)))[:MAX_TOKENS])


def entries(ticket: Optional[Mapping[str, Any]]) -> set[tuple[str, str]]:
    """The index entries of a ticket image, as (PK, SK)."""
    if not ticket or not ticket.get("created_at"):
        return set()
    brand = ticket.get("brand") or DEFAULT_BRAND
    return {tuple(keys.search_entry(brand, t, ticket["created_at"], ticket["id"]).values())
            for t in tokens(ticket) | {hour_token(ticket["created_at"][:13])}}


def hour_token(hour: str) -> str:
    """The token of the tickets created in one hour (`yyyy-mm-ddThh`): what a report's export reads.
    No word has a `~`, so it is no query's."""
    return "~" + hour


def apply(table: Any, changes: list[tuple[Optional[dict], Optional[dict]]]) -> dict:
    """Bring the index in line with ticket changes ((old, new) images in stream order)."""
    wanted: dict[tuple[str, str], bool] = {}
    for old, new in changes:
        before, after = entries(old), entries(new)
        for entry in before - after:
            wanted[entry] = False
        for entry in after - before:
            wanted[entry] = True
    with table.batch_writer(overwrite_by_pkeys=["PK", "SK"]) as batch:
        for (pk, sk), present in wanted.items():
            if present:
                batch.put_item(Item={"PK": pk, "SK": sk})
            else:
                batch.delete_item(Key={"PK": pk, "SK": sk})
    return {"added": sum(wanted.values()), "removed": len(wanted) - sum(wanted.values())}


# -- reading ----------------------------------------------------------------------------------
DEFAULT_BRAND = "default"  # a ticket with no brand is indexed and counted under it


def brands_of(store: Any, brands: Optional[list[str]]) -> list[str]:
    """The brands a read covers: the caller's, or (None: an admin) every brand with an account."""
    if brands is not None:
        return sorted(brands)
    return sorted({a.brand for a in store.accounts.all() if a.brand} | {DEFAULT_BRAND})


def inbox(store: Any, query: Any, agent_id: str, brands: Optional[list[str]]) -> dict:
    """`GET /api/tickets?q=` (an api.InboxQuery with q): {"items": [Ticket], "next_cursor"}."""
    return page(store.table, query.q, query.status, query.filters(agent_id), brands_of(store, brands), query.limit,
                query.cursor)


def matches(ticket: Mapping[str, Any], status: str, filters: Mapping[str, Any]) -> bool:
    """The inbox's filters (store/tickets.py inbox_filter) on one ticket, q aside."""
    if ticket.get("status") != status:
        return False
    for name in ("channel", "assignee", "team", "topic", "language"):
        if name in filters:
            if name == "assignee" and filters[name] == "none":
                if ticket.get("assignee"):
                    return False
            elif ticket.get(name) != filters[name]:
                return False
    priority = ticket.get("priority") or 0
    if priority < filters.get("priority_min", 0) or priority > filters.get("priority_max", 100):
        return False
    return "sentiment" not in filters or (ticket.get("classification") or {}).get("sentiment") == filters["sentiment"]


def page(table: Any, q: str, status: str, filters: Mapping[str, Any], brands: list[str], limit: int,
         cursor: Optional[str] = None, stats: Optional[dict] = None) -> dict:
    """{"items": [Ticket], "next_cursor"}: the tickets of `brands` whose tokens hold every word of `q`."""
    wanted = words(q)
    if not wanted or not brands:
        return {"items": [], "next_cursor": None}
    driver = max(wanted, key=len)

    def keep(ticket: dict) -> bool:
        return matches(ticket, status, filters) and set(wanted) <= tokens(ticket)

    found, next_cursor = read(table, [(b, driver) for b in sorted(brands)], keep, limit, cursor, stats)
    return {"items": [Ticket.from_item(t) for t in found], "next_cursor": next_cursor}


def created_in(table: Any, brands: list[str], hours: list[str], keep: Callable[[dict], bool], limit: int,
               cursor: Optional[str] = None, stats: Optional[dict] = None) -> tuple[list[dict], Optional[str]]:
    """The tickets of `brands` created in `hours` (newest hour first) that `keep` keeps: a report's figure."""
    partitions = [(b, hour_token(h)) for h in sorted(hours, reverse=True) for b in sorted(brands)]
    return read(table, partitions, keep, limit, cursor, stats)


def read(table: Any, partitions: list[tuple[str, str]], keep: Callable[[dict], bool], limit: int,
         cursor: Optional[str] = None, stats: Optional[dict] = None) -> tuple[list[dict], Optional[str]]:
    """Tickets from the (brand, token) partitions in turn, newest first, that `keep` keeps: at most
    `limit`, reading at most READ_BUDGET entries and their tickets; a cursor where it stopped."""
    at, start = _decode(cursor, partitions) if cursor else (0, None)
    found: list[dict] = []
    budget = READ_BUDGET
    while at < len(partitions) and budget > 0:
        kwargs: dict = {"KeyConditionExpression": "PK = :p", "ScanIndexForward": False, "Limit": budget,
                        "ExpressionAttributeValues": {":p": keys.search_partition(*partitions[at])}}
        if start:
            kwargs["ExclusiveStartKey"] = start
        answer = table.query(**kwargs)
        hits = answer.get("Items", [])
        budget -= len(hits)
        if stats is not None:
            stats["entries_read"] = stats.get("entries_read", 0) + len(hits)
        tickets = _tickets(table, [keys.search_ticket_id(h) for h in hits], stats)
        for index, hit in enumerate(hits):
            ticket = tickets.get(keys.search_ticket_id(hit))
            if ticket and keep(ticket):
                found.append(ticket)
                if len(found) == limit:
                    more = index < len(hits) - 1 or answer.get("LastEvaluatedKey") or at + 1 < len(partitions)
                    return found, (_encode(partitions[at], hit) if more else None)
        start = answer.get("LastEvaluatedKey")
        if start is None:
            at += 1
        elif budget <= 0:
            return found, _encode(partitions[at], start)
    # out of budget where a partition ended: the next request starts on the next one
    return found, (_encode(partitions[at], None) if at < len(partitions) else None)


def _tickets(table: Any, ids: list[str], stats: Optional[dict]) -> dict[str, dict]:
    found: dict[str, dict] = {}
    unique = list(dict.fromkeys(ids))
    for first in range(0, len(unique), 100):
        request = {table.name: {"Keys": [keys.ticket(i) for i in unique[first:first + 100]]}}
        while request:
            answer = table.meta.client.batch_get_item(RequestItems=request)
            for item in answer.get("Responses", {}).get(table.name, []):
                found[item["id"]] = plain(item)
            if stats is not None:
                stats["tickets_read"] = stats.get("tickets_read", 0) + len(answer.get("Responses", {}).get(
                    table.name, []))
            request = answer.get("UnprocessedKeys") or {}
    return found


def _encode(partition: tuple[str, str], entry: Optional[Mapping[str, str]]) -> str:
    inner = keys.search_cursor(dict(entry)) if entry else None
    return base64.urlsafe_b64encode(json.dumps({"at": list(partition), "key": inner}).encode()).decode()


def _decode(cursor: str, partitions: list[tuple[str, str]]) -> tuple[int, Optional[dict]]:
    try:
        outer = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        partition, inner = tuple(outer["at"]), outer["key"]
    except (ValueError, UnicodeDecodeError, TypeError, KeyError):
        raise Invalid("cursor", "not a cursor this API gave out") from None
    if partition not in partitions:
        raise Invalid("cursor", "not a cursor this API gave out")
    if inner is None:
        return partitions.index(partition), None
    start = keys.search_start(inner, *partition) if isinstance(inner, str) else None
    if start is None:
        raise Invalid("cursor", "not a cursor this API gave out")
    return partitions.index(partition), start
