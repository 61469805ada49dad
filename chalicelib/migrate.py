"""Upgrade a table written before issue 13: `python -m chalicelib.migrate [--dry-run] [--only PHASE] [--limit N]`.

Tooling an operator runs once, after the deploy (docs/ARCHITECTURE.md, "Upgrading a table from
before issue 13"); never imported by a Lambda handler (the top layer of .importlinter: nothing in
chalicelib imports it). It reads TABLE_NAME and AWS_ENDPOINT_URL as the other commands do
(`aws.table()`), scans the table page by page and brings each item it finds to the new shapes:

* **tickets**: a ticket whose inbox partition is not `keys.inbox_home` (the old `INBOX#<status>`,
  or none) gets every index key as the stores now derive them: GSI1 (its brand's shard, and
  `keys.inbox_index`), GSI2 (`keys.due_index`; none when closed), GSI3 (`keys.redrive_index`, only
  open, nobody holding it and `waiting_since`: the first re-drive as it would have been, but never
  before two minutes from now, so the sweeper, which reads only the minutes since its mark, meets
  it; a re-drive already set by the new code is kept), ByAssignee (its own `assignee` and `status`:
  nothing to write). Its `classification` shrinks to `pipeline.ticket_verdict`, and a `search_text`
  that still starts with the whole message (the preview, when under 200 characters) keeps only who
  wrote it, as new tickets do; each shrink only when it changes neither the ticket's search tokens
  nor anything `counters.contributions` reads (checked on the item). The brands of the tickets go
  into the registry the admin inbox reads (`store.tickets.register_brand`). A reply still in flight
  in the old GSI1 partition moves to its GSI2 minute (`keys.outbound_in_flight`); a finished one just
  leaves GSI1.
  A ticket already keyed by brand whose inbox place (GSI1SK) predates the answered flag
  (`<status>#<100-priority>#<due>#<id>`, before issue 15's "an answered ticket drops below the
  unanswered ones") gets `keys.inbox_index` as it is now (`placed`, summary `tickets_placed`).
* **agents**: `store.agents.move_legacy_agents`.
* **counters**: each ticket created before the table's stream began (its `LatestStreamLabel`, or
  `--stream-since`) adds `counters.contributions(ticket)` to its hour and gauge items **in one
  transaction with the ticket's mark** (`counted_v1`, on the condition that it is absent and the
  version is the one read). All or nothing: a crash, a `--limit` or Ctrl-C leaves a ticket either
  counted and marked or neither, so a later run counts it exactly once (no undercount, no double
  count). The ticket update changes nothing `counters.contributions` reads, so the stream adds
  contribution(new) − contribution(old) = 0 for it: the backfill is the only count. Tickets created
  after the stream began were counted by it and are left alone. The one inexact case: an old ticket
  that changed between the deploy and its migration had that change counted by the stream, and is
  counted as it now is (named on stderr, `counted_but_changed_since_stream` in the summary): run the
  migration right after the deploy.
* **search**: the same tickets (created before the stream) get their index entries written directly
  (`search.apply(table, [(None, ticket)])`, idempotent puts), then the mark `indexed_v1` is set in the
  ticket's write (the entries first: a crash in between writes the same entries again). The stream
  would not write them: the re-key leaves the ticket's tokens as they were, and it writes only the
  tokens a change gains.

Each ticket takes one write (an UpdateItem, or a TransactWriteItems when it is counted), conditional
on the version read; a ticket that changed meanwhile is read again and planned again. The version
is not raised: nothing a reader or a writer relies on changes. Idempotent: a second run finds every
ticket current and says so. Resumable: run it again; what was done is skipped (`--segment`,
`--segments` split the scan between processes).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator, Mapping, Optional

from botocore.exceptions import ClientError

from chalicelib import counters, search
from chalicelib.aggregates.ticket import answered as ticket_answered
from chalicelib.pipeline import ticket_verdict
from chalicelib.store import keys
from chalicelib.store.agents import move_legacy_agents
from chalicelib.store.items import cancel_reasons, dynamo, partition, plain
from chalicelib.store.tickets import DynamoTicketStore, register_brand

PHASES = ("tickets", "agents", "counters", "search")
COUNTED = "counted_v1"  # on a ticket: its contribution was added by this backfill (with the ADDs, one transaction)
INDEXED = "indexed_v1"  # on a ticket: its search entries were written by this backfill
PAGE = 200  # items a Scan call evaluates
TRIES = 8  # a ticket changing under us (or a transaction conflict on a counter item) is tried again this often
IN_FLIGHT = ("queued", "sending", "retrying", "unconfirmed")  # a reply's statuses the outbound re-drive reads
INDEX_KEYS = ("GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK")


def utc(iso: str) -> datetime:
    moment = datetime.fromisoformat(iso)
    return moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def stream_start(table: Any) -> Optional[str]:
    """When the table's stream began (DescribeTable's LatestStreamLabel, an ISO time in UTC), or None."""
    return table.meta.client.describe_table(TableName=table.name)["Table"].get("LatestStreamLabel")


# -- a ticket's plan ----------------------------------------------------------------------------
def is_old(ticket: Mapping[str, Any]) -> bool:
    """Keyed before issue 13: its inbox partition is not its brand's shard (`INBOX#<status>`, or none)."""
    return ticket.get("GSI1PK") != keys.inbox_home(ticket.get("brand"), ticket["id"])["GSI1PK"]


def index_keys(ticket: Mapping[str, Any], now_iso: str) -> dict:
    """Every index key the ticket should hold (None: none), as the stores now derive them."""
    ticket_id, status = ticket["id"], ticket.get("status") or "open"
    due = ticket.get("sla_due_at")
    wanted = {**keys.inbox_home(ticket.get("brand"), ticket_id),
              **keys.inbox_index(status, int(ticket.get("priority") or 0), due or "", ticket_id, answered(ticket)),
              **keys.due_index(None if status == "closed" else due, ticket_id)}
    since = ticket.get("waiting_since")
    if status == "open" and not ticket.get("assignee") and since:
        if ticket.get("GSI3PK") and ticket.get("GSI3SK"):  # set by the new code since the deploy: its backoff
            wanted.update(GSI3PK=ticket["GSI3PK"], GSI3SK=ticket["GSI3SK"])
        else:
            first, soonest = keys.later(since, keys.REDRIVE_AFTER), keys.later(now_iso, keys.REDRIVE_AFTER)
            wanted.update(keys.redrive_index(max(first, soonest, key=utc), ticket_id))
    else:
        wanted.update(keys.redrive_index(None, ticket_id))
    return wanted


def answered(ticket: Mapping[str, Any]) -> bool:
    """`Ticket.answered` of a plain item."""
    return ticket_answered(ticket.get("first_response_at"), ticket.get("last_outbound_at"), ticket.get("last_inbound_at"))


def placed(ticket: Mapping[str, Any]) -> Optional[str]:
    """The inbox place (GSI1SK) a current ticket should hold, when it holds another (the form
    before the answered flag, `<status>#<100-priority>#<due>#<id>`); None: it is in place."""
    if "GSI1SK" not in ticket:
        return None
    wanted = keys.inbox_index(ticket.get("status") or "open", int(ticket.get("priority") or 0),
                              ticket.get("sla_due_at") or "", ticket["id"], answered(ticket))["GSI1SK"]
    return None if ticket["GSI1SK"] == wanted else wanted


def shrunk(ticket: Mapping[str, Any]) -> dict:
    """The classification and search_text as new tickets hold them, where they differ (may be {})."""
    changes: dict = {}
    verdict = ticket.get("classification")
    if isinstance(verdict, dict) and ticket_verdict(verdict) != verdict:
        changes["classification"] = ticket_verdict(verdict)
    text, preview = ticket.get("search_text"), ticket.get("last_message_preview")
    if text and preview and len(preview) < search.PREVIEW_CHARS and text.startswith(preview.lower()):
        who = text[len(preview.lower()):].strip()  # what followed the whole message: name, handle, subject
        if who:
            changes["search_text"] = who
    if not changes:
        return {}
    after = {**ticket, **changes}
    if (search.tokens(after) != search.tokens(ticket)
            or set(search.words(search.searchable(after))) != set(search.words(search.searchable(ticket)))):
        changes.pop("search_text", None)  # would move its index entries or what a query finds: left as it is
    if counters.delta(ticket, {**ticket, **changes}):
        return {}  # never: what contributions read is not touched; but the stream must add nothing
    return changes


def plan(ticket: Mapping[str, Any], phases: Iterable[str], stream_since: Optional[datetime], now_iso: str) -> dict:
    """What to write on one ticket item (plain): {"set", "remove", "work": {rekey, shrink, count, index}}."""
    phases = set(phases)
    sets: dict = {}
    removes: list[str] = []
    work: set[str] = set()
    if "tickets" in phases:
        if is_old(ticket):
            for name, value in index_keys(ticket, now_iso).items():
                if value is None:
                    if name in ticket:
                        removes.append(name)
                elif ticket.get(name) != value:
                    sets[name] = value
            work.add("rekey")
        elif place := placed(ticket):
            sets["GSI1SK"] = place
            work.add("place")
        changes = shrunk(ticket)
        if changes:
            sets.update(changes)
            work.add("shrink")
    before_stream = bool(stream_since and ticket.get("created_at") and utc(ticket["created_at"]) < stream_since)
    if "counters" in phases and before_stream and COUNTED not in ticket:
        sets[COUNTED] = now_iso
        work.add("count")
    if "search" in phases and before_stream and INDEXED not in ticket:
        sets[INDEXED] = now_iso
        work.add("index")
    return {"set": sets, "remove": removes, "work": work}


def applied(ticket: Mapping[str, Any], step: Mapping[str, Any]) -> dict:
    """The ticket as the plan leaves it."""
    return {**{k: v for k, v in ticket.items() if k not in step["remove"]}, **step["set"]}


# -- writing ------------------------------------------------------------------------------------
def _ticket_update(table: Any, raw: Mapping[str, Any], step: Mapping[str, Any]) -> dict:
    names = {"#v": "version"}
    values: dict = {}
    clauses = []
    for i, (name, value) in enumerate(step["set"].items()):
        names[f"#s{i}"], values[f":s{i}"] = name, dynamo(value)
        clauses.append(f"#s{i} = :s{i}")
    expression = "SET " + ", ".join(clauses) if clauses else ""
    if step["remove"]:
        names.update({f"#r{i}": name for i, name in enumerate(step["remove"])})
        expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(step["remove"])))
    if "version" in raw:
        condition, values[":v"] = "#v = :v", raw["version"]
    else:
        condition = "attribute_exists(PK) AND attribute_not_exists(#v)"
    if "count" in step["work"]:
        names["#c"] = COUNTED
        condition += " AND attribute_not_exists(#c)"
    return {"TableName": table.name, "Key": keys.ticket(raw["id"]), "UpdateExpression": expression.strip(),
            "ConditionExpression": condition, "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}


def _counter_update(table: Any, item: tuple, counts: Mapping[str, int]) -> dict:
    """ADD one ticket's counts to a counter item (its brand, and an hour item's expiry, set as the stream does)."""
    names = {f"#a{i}": name for i, name in enumerate(counts)}
    values: dict = {f":a{i}": n for i, n in enumerate(counts.values())}
    expression = "ADD " + ", ".join(f"#a{i} :a{i}" for i in range(len(counts))) + " SET #b = :b"
    names["#b"], values[":b"] = "brand", item[1]
    if item[0] == "hour":
        names["#x"], values[":x"] = counters.TTL_ATTRIBUTE, counters.expires_at(item[2])
        expression += ", #x = :x"
    return {"TableName": table.name, "Key": counters.item_key(item), "UpdateExpression": expression,
            "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}


class Changed(Exception):
    """The ticket is not as read (or a transaction met another write): read it again."""


def write(table: Any, raw: Mapping[str, Any], step: Mapping[str, Any]) -> int:
    """One ticket's write: a transaction with its counter ADDs when it is counted, else an update.
    Returns the counter items added to. Changed when the ticket moved (or a conflict) meanwhile."""
    update = _ticket_update(table, raw, step)
    client = table.meta.client
    try:
        if "count" in step["work"]:
            additions = counters.contributions(plain(dict(raw)))
            client.transact_write_items(TransactItems=[{"Update": update}] + [
                {"Update": _counter_update(table, item, counts)} for item, counts in additions.items()])
            return len(additions)
        client.update_item(**update)
        return 0
    except ClientError as err:
        code = err.response["Error"]["Code"]
        if code == "ConditionalCheckFailedException" or (
                code == "TransactionCanceledException"
                and set(cancel_reasons(err)) <= {"None", "ConditionalCheckFailed", "TransactionConflict"}):
            raise Changed(raw["id"]) from err
        raise


# -- the run ------------------------------------------------------------------------------------
class Migration:
    def __init__(self, table: Any, phases: Iterable[str] = PHASES, dry_run: bool = False, limit: Optional[int] = None,
                 stream_since: Optional[str] = None, segment: int = 0, segments: int = 1, page: int = PAGE,
                 out=sys.stderr):
        self.table, self.phases, self.dry_run, self.limit = table, tuple(phases), dry_run, limit
        self.segment, self.segments, self.page, self.out = segment, segments, page, out
        since = stream_since or (stream_start(table) if {"counters", "search"} & set(self.phases) else None)
        if since is None and {"counters", "search"} & set(self.phases):
            raise SystemExit("the table has no stream: deploy this version's table first (docs/ARCHITECTURE.md), "
                             "or name when it began with --stream-since")
        self.stream_since = utc(since) if since else None
        self.now = datetime.now(timezone.utc).isoformat()
        self.summary = {"dry_run": dry_run, "phases": list(self.phases), "stream_since": since, "items_read": 0,
                        "tickets_read": 0, "tickets_rekeyed": 0, "tickets_placed": 0, "tickets_shrunk": 0,
                        "already_current": 0,
                        "tickets_counted": 0, "counter_updates": 0, "tickets_indexed": 0, "search_entries_written": 0,
                        "agents_moved": 0, "replies_moved": 0, "brands_registered": 0, "retries": 0,
                        "counted_but_changed_since_stream": 0, "stopped_at_limit": False}
        self.brands: set = set()

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def run(self) -> dict:
        if "agents" in self.phases and self.segment == 0:
            self.agents()
        if {"tickets", "counters", "search"} & set(self.phases):
            for item in self.scan():
                if keys.TICKET_SK == item["SK"]:
                    if self.limit is not None and self.summary["tickets_read"] >= self.limit:
                        self.summary["stopped_at_limit"] = True
                        break
                    self.ticket(item)
                elif "tickets" in self.phases:
                    self.reply(item)
        if "tickets" in self.phases:
            self.register_brands()
        changed = [k for k in ("tickets_rekeyed", "tickets_placed", "tickets_shrunk", "tickets_counted", "tickets_indexed", "agents_moved",
                               "replies_moved", "brands_registered") if self.summary[k]]
        self.summary["nothing_to_do"] = not changed
        if not changed:
            self.say("Nothing to do: every item read is already in the new shapes" + (
                " (stopped at --limit)" if self.summary["stopped_at_limit"] else "") + ".")
        elif self.dry_run:
            self.say("Dry run: nothing was written; the figures are what a run would do.")
        return self.summary

    def agents(self) -> None:
        if self.dry_run:
            self.summary["agents_moved"] = sum(1 for _ in partition(self.table, *keys.legacy_agents()))
        else:
            self.summary["agents_moved"] = move_legacy_agents(self.table)
        self.say(f"agents: {self.summary['agents_moved']} moved to their own partition and the roster")

    def scan(self) -> Iterator[dict]:
        """Ticket items, and reply items still in the old GSI1 (old in-flight index), page by page."""
        kwargs: dict = {"Limit": self.page,
                        "FilterExpression": "SK = :t OR (begins_with(SK, :m) AND attribute_exists(GSI1PK))",
                        "ExpressionAttributeValues": {":t": keys.TICKET_SK, ":m": keys.MESSAGE_PREFIX}}
        if self.segments > 1:
            kwargs.update(Segment=self.segment, TotalSegments=self.segments)
        pages = 0
        while True:
            answer = self.table.scan(**kwargs)
            pages += 1
            self.summary["items_read"] += answer.get("ScannedCount", 0)
            yield from answer.get("Items", [])
            s = self.summary
            self.say(f"page {pages}: {s['items_read']} items read, {s['tickets_read']} tickets "
                     f"({s['tickets_rekeyed']} re-keyed, {s['tickets_counted']} counted, {s['tickets_indexed']} indexed, "
                     f"{s['already_current']} already current)")
            if "LastEvaluatedKey" not in answer:
                return
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def ticket(self, raw: dict) -> None:
        self.summary["tickets_read"] += 1
        for attempt in range(TRIES):
            ticket = plain(raw)
            self.brands.add(ticket.get("brand"))
            step = plan(ticket, self.phases, self.stream_since, self.now)
            if not step["work"]:
                self.summary["already_current"] += 1
                return
            after = applied(ticket, step)
            entries = 0
            if "index" in step["work"]:
                entries = (len(search.entries(after)) if self.dry_run
                           else search.apply(self.table, [(None, after)])["added"])
            try:
                added = 0 if self.dry_run else write(self.table, raw, step)
            except Changed:
                self.summary["retries"] += 1
                time.sleep(min(0.05 * 2 ** attempt, 2))
                raw = self.table.get_item(Key=keys.ticket(ticket["id"]), ConsistentRead=True).get("Item")
                if raw is None:
                    return  # erased meanwhile
                continue
            self._tally(ticket, step, entries, added)
            return
        raise RuntimeError(f"ticket {raw['id']} kept changing; run the migration again")

    def _tally(self, ticket: dict, step: dict, entries: int, added: int) -> None:
        s, work = self.summary, step["work"]
        s["tickets_rekeyed"] += "rekey" in work
        s["tickets_placed"] += "place" in work
        s["tickets_shrunk"] += "shrink" in work
        s["tickets_indexed"] += "index" in work
        s["search_entries_written"] += entries
        if "count" in work:
            s["tickets_counted"] += 1
            s["counter_updates"] += added if not self.dry_run else len(counters.contributions(ticket))
            if ticket.get("updated_at") and self.stream_since and utc(ticket["updated_at"]) >= self.stream_since:
                # the stream counted its changes since it began; the backfill adds what it is now
                s["counted_but_changed_since_stream"] += 1
                self.say(f"ticket {ticket['id']}: changed since the stream began ({ticket['updated_at']}); "
                         "its counts may hold that change twice")

    def reply(self, raw: dict) -> None:
        """A reply item still in the old in-flight index (GSI1): into its GSI2 minute while in flight, else out."""
        message = plain(raw)
        sets = (keys.outbound_in_flight(message["created_at"], message["id"])
                if message.get("status") in IN_FLIGHT and message.get("created_at") and message.get("id") else {})
        if not self.dry_run:
            names = {"#p": "GSI1PK", "#s": "GSI1SK", **{f"#n{i}": k for i, k in enumerate(sets)}}
            values = {":old": raw["GSI1PK"], **{f":n{i}": v for i, v in enumerate(sets.values())}}
            expression = ("SET " + ", ".join(f"#n{i} = :n{i}" for i in range(len(sets))) + " " if sets else "")
            try:
                self.table.update_item(Key={"PK": raw["PK"], "SK": raw["SK"]}, UpdateExpression=expression + "REMOVE #p, #s",
                                       ConditionExpression="#p = :old", ExpressionAttributeNames=names,
                                       ExpressionAttributeValues=values)
            except ClientError as err:
                if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
                return  # done by the new code meanwhile
        self.summary["replies_moved"] += 1

    def register_brands(self) -> None:
        """The tickets' brands in the registry the admin inbox reads, those not there yet."""
        missing = self.brands - set(DynamoTicketStore(self.table).brands())
        for brand in sorted(missing, key=lambda b: b or ""):
            if not self.dry_run:
                register_brand(self.table, brand)
        self.summary["brands_registered"] = len(missing)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.migrate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dry-run", action="store_true", help="read and report, write nothing")
    parser.add_argument("--only", choices=PHASES, help="one phase (default: all)")
    parser.add_argument("--limit", type=int, help="stop after this many tickets read (a trial; run again to go on)")
    parser.add_argument("--stream-since", help="ISO time the table's stream began (default: its LatestStreamLabel); "
                                               "tickets created before it are counted and indexed")
    parser.add_argument("--segment", type=int, default=0, help="this process's part of a parallel scan")
    parser.add_argument("--segments", type=int, default=1, help="how many processes share the scan")
    args = parser.parse_args(argv)
    if not 0 <= args.segment < args.segments:
        parser.error("--segment must be in 0 .. --segments - 1")
    from chalicelib import aws

    summary = Migration(aws.table(), (args.only,) if args.only else PHASES, dry_run=args.dry_run, limit=args.limit,
                        stream_since=args.stream_since, segment=args.segment, segments=args.segments).run()
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
