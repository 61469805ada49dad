"""A brand's reply history, stored: what a customer wrote and what the brand answered, from an import
(`python -m chalicelib.history import FILE`) or from the desk itself, as each reply is sent.

Light on purpose: the outbound worker and the receipts (on the ingest worker) reach `record_sent`
when a reply is sent, so this imports pydantic and the store's keys only, never the ranker
(`history.rank`, which the webhook and ingest paths never import: .importlinter).

Each entry is two items (keys.history_entries): one in its brand's (language, topic) partition and
one in its brand's language partition, both sorted by when it was written, so a suggestion reads
the newest `TOPIC_READ` of the ticket's topic and the newest `LANGUAGE_READ` of its language:
`READ_LIMIT` items at most, one page each (docs/ARCHITECTURE.md's access patterns). An entry's id is
a hash of what it is (an import's brand, channel, texts, language, topic and time; a desk reply's
message id), so importing a file twice, or recording a sent reply twice, writes the same items.
"""
from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timezone
from typing import Any, Iterable, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.store import keys
from chalicelib.store.items import plain

TOPIC_READ = 200  # newest entries read from the ticket's (language, topic) partition
LANGUAGE_READ = 100  # and from its language's partition, any topic
READ_LIMIT = TOPIC_READ + LANGUAGE_READ  # history items one suggestion request reads at most
OUTCOME_READ = 30  # tickets whose outcome (closed, CSAT) one request reads at most, for desk replies
CUSTOMER_CHARS = 1000  # of the customer's text kept (similarity needs no more; items stay small)
EPOCH = "1970-01-01T00:00:00.000000+00:00"  # the time of an imported entry without `at`: the oldest
TIMELINE_READ = 10  # messages read back from a sent reply to find what it answered
_NAME = re.compile(r"^[^\W\d_][^\W\d_'’-]{1,39}$")


class Entry(BaseModel):
    """One line of an import file; also what the desk records for a sent reply."""
    model_config = ConfigDict(extra="forbid")

    brand: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    channel: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    customer_text: str = Field(min_length=1, max_length=20000)
    reply_text: str = Field(min_length=1, max_length=4000)
    language: Optional[str] = Field(default=None, pattern=r"^[a-z]{2}$")
    topic: Optional[str] = Field(default=None, pattern=r"^[a-z][a-z0-9_]{0,39}$")
    resolved: Optional[bool] = None
    csat: Optional[int] = Field(default=None, ge=1, le=5)
    at: Optional[datetime] = None

    @field_validator("customer_text", "reply_text")
    @classmethod
    def _not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("must not be blank")
        return text.strip()

    @field_validator("at")
    @classmethod
    def _aware(cls, at: Optional[datetime]) -> Optional[datetime]:
        if at is not None and at.tzinfo is None:
            raise ValueError("needs a time zone (e.g. 2026-05-01T10:00:00Z)")
        return at

    def at_iso(self) -> str:
        return self.at.astimezone(timezone.utc).isoformat(timespec="microseconds") if self.at else EPOCH

    def entry_id(self) -> str:
        """Deterministic: the same line imported again is the same entry (its outcome may change)."""
        what = [self.brand, self.channel, self.customer_text, self.reply_text, self.language, self.topic, self.at_iso()]
        return "h" + hashlib.sha256(json.dumps(what, ensure_ascii=False).encode()).hexdigest()[:24]


def items(entry: Entry, entry_id: Optional[str] = None, source: str = "import",
          ticket_id: Optional[str] = None) -> list[dict]:
    """The two items of an entry (keys.history_entries)."""
    entry_id = entry_id or entry.entry_id()
    body = {"id": entry_id, "source": source, "brand": entry.brand, "channel": entry.channel,
            "customer_text": entry.customer_text[:CUSTOMER_CHARS], "reply_text": entry.reply_text,
            "language": entry.language, "topic": entry.topic, "resolved": entry.resolved, "csat": entry.csat,
            "at": entry.at_iso(), "ticket_id": ticket_id}
    body = {k: v for k, v in body.items() if v is not None}
    return [{**key, **body} for key in keys.history_entries(entry.brand, entry.language, entry.topic,
                                                             entry.at_iso(), entry_id)]


def write(table: Any, entries: Iterable[tuple[Entry, Optional[str], str, Optional[str]]]) -> int:
    """Batch writes (25 items a request, unprocessed items retried by boto3's batch writer); idempotent.
    Each of `entries` is (entry, id or None, source, ticket id or None). Returns the entries written."""
    n = 0
    with table.batch_writer(overwrite_by_pkeys=["PK", "SK"]) as batch:
        for entry, entry_id, source, ticket_id in entries:
            for item in items(entry, entry_id, source, ticket_id):
                batch.put_item(Item=item)
            n += 1
    return n


def read(table: Any, brand: str, language: Optional[str], topic: Optional[str]) -> list[dict]:
    """The brand's newest entries of the ticket's language and topic, then of its language: at most
    READ_LIMIT items, one page a partition, each entry once."""
    found: dict[str, dict] = {}
    for pk, limit in ((keys.history_partition(brand, language, topic), TOPIC_READ),
                      (keys.history_language_partition(brand, language), LANGUAGE_READ)):
        page = table.query(KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": pk},
                           ScanIndexForward=False, Limit=limit)
        for item in page.get("Items", []):
            found.setdefault(item["id"], plain(item))
    return list(found.values())


def outcomes(table: Any, ticket_ids: list[str]) -> dict[str, dict]:
    """Whether the tickets that desk replies answered were closed, and their CSAT: `{id: {"resolved", "csat"}}`,
    for at most OUTCOME_READ tickets (one BatchGetItem, only the attributes needed)."""
    ids = list(dict.fromkeys(ticket_ids))[:OUTCOME_READ]
    if not ids:
        return {}
    client, name = table.meta.client, table.name
    request = {name: {"Keys": [keys.ticket(i) for i in ids], "ProjectionExpression": "id, #s, csat",
                      "ExpressionAttributeNames": {"#s": "status"}}}
    found: dict[str, dict] = {}
    while request:
        answer = client.batch_get_item(RequestItems=request)
        for item in answer["Responses"].get(name, []):
            item = plain(item)
            found[item["id"]] = {"resolved": item.get("status") == "closed", "csat": item.get("csat")}
        request = answer.get("UnprocessedKeys") or None
    return found


def record_sent(store: Any, message: Any, ticket: Any) -> Optional[str]:
    """A reply the desk sent joins its brand's history: the customer's messages it answered (those
    since the reply before it), its text with the customer's first name made `{{customer.name}}`,
    the ticket's language and topic. Automatic replies (acknowledgements) do not join. Idempotent
    (the entry's id is the message's). Returns the entry's id, or None when nothing joined."""
    if ticket is None or not ticket.brand or message.automatic or not (message.text or "").strip():
        return None
    asked: list[str] = []
    for earlier in reversed(store.messages.timeline(message.ticket_id, latest=TIMELINE_READ)):
        if earlier.created_at >= message.created_at or earlier.id == message.id:
            continue
        if earlier.direction == "out":
            if asked:
                break
            continue
        if earlier.direction == "in" and (earlier.text or "").strip():
            asked.append(earlier.text.strip())
    if not asked:
        return None
    entry = Entry.model_construct(
        brand=ticket.brand, channel=message.platform or ticket.channel or "api",
        customer_text="\n".join(reversed(asked)), reply_text=_named(message.text.strip(), ticket.customer_name),
        language=ticket.language, topic=ticket.topic, resolved=None, csat=None,
        at=datetime.fromisoformat(message.created_at))
    entry_id = "d" + hashlib.sha256(f"desk:{message.id}".encode()).hexdigest()[:24]
    for item in items(entry, entry_id, "desk", message.ticket_id):  # two PutItems: no batch right for two items
        store.table.put_item(Item=item)
    return entry_id


def _named(text: str, customer_name: Optional[str]) -> str:
    """The reply with the customer's first name as `{{customer.name}}`, so it can greet the next one."""
    first = (customer_name or "").strip().split(" ")[0]
    if not _NAME.match(first):
        return text
    return re.sub(rf"(?<!\w){re.escape(first)}(?!\w)", "{{customer.name}}", text)
