"""Inbox search: a token index per brand, kept from the table's stream, read a bounded page at a time.

A ticket's tokens are normalised words (case and accents folded, letters and digits) of its
`searchable` text: the latest inbound's preview (`last_message_preview`, 200 characters) and its
`search_text` (its author's name and handle, then the subject for email; chalicelib/pipeline.py;
tickets stored before held the message's text there too, which reads the same), at most
1 + TEXT_TOKENS of them, because every token is a write (1 WCU) when it appears and another when
it goes:

* who wrote it (`who`): the longest word of the last whitespace-separated part before the subject:
  the handle (X, Instagram, the API channel), else the surname (Facebook, email), else none;
* TEXT_TOKENS words of the latest message's preview (`last_message_preview`, its first 200
  characters): the first word with digits (an order number), then the longest other word, then the
  next of either (stopwords, @handles and words under three letters left out).

With the hour entry (below) a new ticket writes at most four entries (it wrote about eight:
name words, four message words). A threaded message changes only the message tokens it does not
share with the previous one (the handle and the hour stay): 0 to 2 deletes and as many puts.
Each is an entry `keys.search_entry(brand, token, created_at, ticket id)`, keys only; a ticket
change writes only the entries its tokens gained and deletes the ones it lost (puts and deletes: a
redelivered record changes nothing). `tokens` is a function of the ticket image alone, so an
erased ticket's entries are deleted from its old image (entries written under the former rule,
name words and four message words, are not: the tickets indexed before it need a re-index). One
more entry, under `hour_token`, lists the tickets created in an hour, for a report's CSV export.

The trade-off: a ticket is found by its handle, an order number or the longest words of the first
200 characters of its latest message; not by a name word other than the last when there is no
handle (a lone first name finds nothing), nor by a word of an earlier message or a short common one.
A query of several words reads the partitions of each (QUERY_WORDS at most, ranked the way tokens
are), so "aino laptop" finds the ticket indexed under "laptop" even though "aino" is not indexed.

Every token is written under one of SHARDS partitions, by ticket (`sharded`): no word, however
common, takes more than a quarter of a brand's mention rate on one key.

`GET /api/tickets?q=` reads, for each of the caller's brands in turn, the SHARDS partitions of each
query word (digits first, then the longest) one after the other, each newest first, at most
READ_BUDGET entries and their tickets and QUERY_BUDGET queries per request; a ticket is in the
answer when every query word is a word of its `searchable` text, it passes the inbox's other filters
(status included), and the partition read is that of its first query word it is indexed under (so
once, whichever partitions hold it). A page may come back short with a cursor: the next request
reads on. An admin's brands are the inbox's: every brand that ever had a ticket
(`store.tickets.brands()`).
"""
from __future__ import annotations

import base64
import json
import re
import unicodedata
import zlib
from typing import Any, Callable, Mapping, Optional

from chalicelib.aggregates.ticket import Ticket
from chalicelib.counters import DEFAULT_BRAND
from chalicelib.errors import Invalid
from chalicelib.store import keys
from chalicelib.store.items import plain

TEXT_TOKENS = 2  # words of the latest message: the first with digits (an order number), the longest other
PREVIEW_CHARS = 200  # what chalicelib/pipeline.py keeps of a message as its `last_message_preview`
QUERY_WORDS = 4  # a query's words whose partitions are read (digits first, then the longest)
READ_BUDGET = 100  # index entries (and tickets) one request reads at most
QUERY_BUDGET = 64  # queries one request makes at most (empty partitions cost a query each)
SHARDS = 4  # partitions per token: 1,000 writes a second on a token are 250 WCU/s on each
STOPWORDS = frozenset("the and for you your are was were has have had not but with this that from can will "
                      "our out get got any all just what when where who why how she her him his its they them "
                      "then than there here about would could should been being into only very also please "
                      "thanks thank hello dear".split())
_WORD = re.compile(r"[^\W_]+")
_MENTION = re.compile(r"@\w+")  # the brand's own handle in nearly every mention: one hot partition, no use
_REPLY_PREFIX = re.compile(r"(\s+\S*:)+\s*$")  # "re:", "fwd:", "aw:" left before a thread's subject


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


def ranked(candidates: list[str]) -> list[str]:
    """Words with digits (order numbers) first, then the longest, then the first written."""
    return sorted(candidates, key=lambda w: (not _has_digit(w), -len(w), candidates.index(w)))


def _has_digit(word: str) -> bool:
    return any(c.isdigit() for c in word)


def searchable(ticket: Mapping[str, Any]) -> str:
    """What a query's words are looked for in: the latest message's preview and who wrote it."""
    return f"{ticket.get('last_message_preview') or ''} {ticket.get('search_text') or ''}"


def who(ticket: Mapping[str, Any]) -> Optional[str]:
    """The author's token: the first word, ranked as a query's (digits, then the longest), of the
    last part of `search_text` before the subject (the handle; the surname when there is none);
    None when the text has no author after it."""
    text = ticket.get("search_text") or ""
    subject = (ticket.get("subject") or "").lower().strip()
    if subject and text.rstrip().endswith(subject):  # the subject, and a reply's "re:" before it
        text = _REPLY_PREFIX.sub("", " " + text.rstrip()[:-len(subject)])
    preview = (ticket.get("last_message_preview") or "").lower()
    if len(preview) < PREVIEW_CHARS and text.startswith(preview):
        text = text[len(preview):]  # the whole message: what follows is the author (when any)
    parts = text.split()
    found = words(parts[-1]) if parts else []
    return ranked(found)[0] if found else None


def message_tokens(ticket: Mapping[str, Any]) -> list[str]:
    """TEXT_TOKENS words of the latest message's preview: the first with digits, then the longest."""
    preview = ticket.get("last_message_preview")
    if preview is None:  # written before previews: the words before the author's
        preview = " ".join((ticket.get("search_text") or "").split()[:-1])
    text = words(_MENTION.sub(" ", preview))
    if len(preview) >= PREVIEW_CHARS and text:
        text = text[:-1]  # the preview may have cut its last word
    telling = ranked([w for w in text if len(w) >= 3 and w not in STOPWORDS])
    digits = [w for w in telling if _has_digit(w)][:1]
    others = [w for w in telling if not _has_digit(w)][:1]
    chosen = digits + others
    return chosen + [w for w in telling if w not in chosen][:TEXT_TOKENS - len(chosen)]


def tokens(ticket: Optional[Mapping[str, Any]]) -> set[str]:
    """The words a ticket is indexed under (at most 1 + TEXT_TOKENS): every one costs a write when
    it appears, so only its author's handle and two words of its latest message."""
    if not ticket or not ticket.get("created_at"):
        return set()
    author = who(ticket)
    return set(message_tokens(ticket)) | ({author} if author else set())


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
def brands_of(store: Any, brands: Optional[list[str]]) -> list[str]:
    """The brands a read covers: the caller's, or (None: an admin) the inbox's, every brand that
    ever had a ticket (`store.tickets.brands()`; a ticket with no brand is under DEFAULT_BRAND)."""
    if brands is not None:
        return sorted(brands)
    return sorted({b or DEFAULT_BRAND for b in store.tickets.brands()})


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
    drivers = ranked(wanted)[:QUERY_WORDS]

    def keep(ticket: dict, partition: tuple[str, str]) -> bool:
        if not (matches(ticket, status, filters) and set(wanted) <= set(words(searchable(ticket)))):
            return False
        held = tokens(ticket)  # found once: under the first query word it is indexed under
        return next((w for w in drivers if w in held), None) == partition[1].rsplit(".", 1)[0]

    partitions = [(b, sharded(w, shard)) for b in sorted(brands) for w in drivers for shard in range(SHARDS)]
    found, next_cursor = read(table, partitions, keep, limit, cursor, stats)
    return {"items": [Ticket.from_item(t) for t in found], "next_cursor": next_cursor}


def created_in(table: Any, brands: list[str], hours: list[str], keep: Callable[[dict], bool], limit: int,
               cursor: Optional[str] = None, stats: Optional[dict] = None) -> tuple[list[dict], Optional[str]]:
    """The tickets of `brands` created in `hours` (newest hour first) that `keep` keeps: a report's figure."""
    partitions = [(b, sharded(hour_token(h), shard)) for h in sorted(hours, reverse=True) for b in sorted(brands)
                  for shard in range(SHARDS)]
    return read(table, partitions, lambda ticket, _partition: keep(ticket), limit, cursor, stats)


def read(table: Any, partitions: list[tuple[str, str]], keep: Callable[[dict, tuple[str, str]], bool], limit: int,
         cursor: Optional[str] = None, stats: Optional[dict] = None) -> tuple[list[dict], Optional[str]]:
    """Tickets from the (brand, token) partitions in turn, newest first, that `keep` keeps (given the
    ticket and the partition it was found in): at most
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
            if ticket and keep(ticket, partitions[at]):
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
