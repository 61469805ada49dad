"""Inbox search: a token index per brand, kept from the table's stream, read a bounded page at a time.

A ticket's tokens are normalised words (case and accents folded, letters and digits) of its
`search_text`: its last NAME_WORDS words (the author's name and handle; the subject for email) and
TEXT_TOKENS words of the latest inbound message, those with digits (order numbers) first, then the
longest (stopwords, @handles and words under three letters left out). Every token is a write when
it appears (about 8 WCU for a new ticket, the hour entry included), so no prefixes.
Each is an entry `keys.search_entry(brand, token, created_at, ticket id)`, keys only; a ticket
change writes only the entries its tokens gained and deletes the ones it lost (puts and deletes: a
redelivered record changes nothing). One more entry, under `hour_token`, lists the tickets created
in an hour, for a report's CSV export.

Every token is written under one of SHARDS partitions, by ticket (`sharded`): no word, however
common, takes more than a quarter of a brand's mention rate on one key.

`GET /api/tickets?q=` reads, for each of the caller's brands in turn, the SHARDS partitions of the
query's longest word one after the other, each newest first, at most READ_BUDGET entries and their tickets per request; a ticket is
in the answer when every query word is a word of its `search_text` and it passes the inbox's other
filters (status included). A page may come back short with a cursor: the next request reads on.
"""
from __future__ import annotations

import base64
import json
import re
import unicodedata
import zlib
from typing import Any, Callable, Mapping, Optional

from chalicelib.aggregates.ticket import Ticket
from chalicelib.errors import Invalid
from chalicelib.store import keys
from chalicelib.store.items import plain

TEXT_TOKENS = 4  # words of the latest message: those with digits (order numbers) first, then the longest
NAME_WORDS = 3  # the last words of search_text: the author's name and handle (the subject, for email)
READ_BUDGET = 100  # index entries (and tickets) one request reads at most
QUERY_BUDGET = 64  # queries one request makes at most (empty partitions cost a query each)
SHARDS = 4  # partitions per token: 1,000 writes a second on a token are 250 WCU/s on each
STOPWORDS = frozenset("the and for you your are was were has have had not but with this that from can will "
                      "our out get got any all just what when where who why how she her him his its they them "
                      "then than there here about would could should been being into only very also please "
                      "thanks thank hello dear".split())
_WORD = re.compile(r"[^\W_]+")
_MENTION = re.compile(r"@\w+")  # the brand's own handle in nearly every mention: one hot partition, no use


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
    """The words a ticket is indexed under (at most NAME_WORDS + TEXT_TOKENS): every one costs a
    write when it appears, so only the name and handle and the message's longest words."""
    if not ticket or not ticket.get("created_at"):
        return set()
    every = words(_MENTION.sub(" ", ticket.get("search_text") or ""))
    names, text = every[-NAME_WORDS:], every[:-NAME_WORDS]
    telling = [w for w in text if len(w) >= 3 and w not in STOPWORDS]
    ranked = sorted(telling, key=lambda w: (not any(c.isdigit() for c in w), -len(w), text.index(w)))
    return set(names) | set(ranked[:TEXT_TOKENS])


def entries(ticket: Optional[Mapping[str, Any]]) -> set[tuple[str, str]]:
    """The index entries of a ticket image, as (PK, SK)."""
    if not ticket or not ticket.get("created_at"):
        return set()
    brand = ticket.get("brand") or DEFAULT_BRAND
    return {tuple(keys.search_entry(brand, t, ticket["created_at"], ticket["id"]).values())
            for t in tokens(ticket) | {hour_token(ticket["created_at"][:13])}
            for t in [sharded(t, shard_of(ticket["id"]))]}


def shard_of(ticket_id: str) -> int:
    return zlib.crc32(ticket_id.encode()) % SHARDS


def sharded(token: str, shard: int) -> str:
    """A token's partition is one of SHARDS, by ticket: a word in most of a brand's mentions (its
    name, an outage's "down") or an hour's new tickets would fill one partition at 1,000 a second."""
    return f"{token}.{shard}"


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
        return matches(ticket, status, filters) and set(wanted) <= set(words(ticket.get("search_text") or ""))

    partitions = [(b, sharded(driver, shard)) for b in sorted(brands) for shard in range(SHARDS)]
    found, next_cursor = read(table, partitions, keep, limit, cursor, stats)
    return {"items": [Ticket.from_item(t) for t in found], "next_cursor": next_cursor}


def created_in(table: Any, brands: list[str], hours: list[str], keep: Callable[[dict], bool], limit: int,
               cursor: Optional[str] = None, stats: Optional[dict] = None) -> tuple[list[dict], Optional[str]]:
    """The tickets of `brands` created in `hours` (newest hour first) that `keep` keeps: a report's figure."""
    partitions = [(b, sharded(hour_token(h), shard)) for h in sorted(hours, reverse=True) for b in sorted(brands)
                  for shard in range(SHARDS)]
    return read(table, partitions, keep, limit, cursor, stats)


def read(table: Any, partitions: list[tuple[str, str]], keep: Callable[[dict], bool], limit: int,
         cursor: Optional[str] = None, stats: Optional[dict] = None) -> tuple[list[dict], Optional[str]]:
    """Tickets from the (brand, token) partitions in turn, newest first, that `keep` keeps: at most
    `limit`, reading at most READ_BUDGET entries and their tickets; a cursor where it stopped."""
    at, start = _decode(cursor, partitions) if cursor else (0, None)
    found: list[dict] = []
    budget, queries = READ_BUDGET, 0
    while at < len(partitions) and budget > 0 and queries < QUERY_BUDGET:
        queries += 1
        kwargs: dict = {"KeyConditionExpression": "PK = :p", "ScanIndexForward": False, "Limit": budget,
                        "ExpressionAttributeValues": {":p": keys.search_partition(*partitions[at])}}
        if start:
            kwargs["ExclusiveStartKey"] = start
        answer = table.query(**kwargs)
        hits = answer.get("Items", [])
        budget -= len(hits)
        if stats is not None:
            stats["entries_read"] = stats.get("entries_read", 0) + len(hits)
            stats["queries"] = stats.get("queries", 0) + 1
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
    # out of budget (entries or queries) where a partition ended: the next request starts on the next one
    return found, (_encode(partitions[at], start) if at < len(partitions) else None)


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
