"""The upgrade of a table written before issue 13 (chalicelib/migrate.py) on moto: old-shaped items
written raw (the inbox under INBOX#<status>, agents in the single AGENTS partition, a reply in the old
in-flight index, tickets the stream never saw) are found by the new code once the migration ran,
counted once in the reports' counters and found by search; a second run changes nothing; a run cut
short and run again counts each ticket once. The stream is driven as Lambda would (StreamWorker,
through desk.drain()), so a migration that made the stream count or index a ticket would show."""
from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import counters, migrate, search
from chalicelib.pipeline import TICKET_VERDICT
from chalicelib.store import keys
from chalicelib.store.items import dynamo, partition, plain
from infra.local import stack
from tests import stored

BRAND_X = "1500000000000000001"
HOUR = "2026-03-02T09"  # nordlight's old tickets' creation hour
AEGEAN_HOUR = "2026-03-03T14"
T1, T2, T3, T4 = "old-t1-assigned", "old-t2-waiting", "old-t3-closed", "old-t4-aegean"


# -- the old shapes, as the desk wrote them before issue 13 (the test's own literals: keys.py no longer has them)
def old_inbox(status: str, priority: int, due: str, ticket_id: str) -> dict:
    return {"GSI1PK": f"INBOX#{status}", "GSI1SK": f"{100 - priority:03d}#{due}#{ticket_id}"}


def old_ticket(ticket_id: str, **attrs) -> dict:
    item = {"id": ticket_id, "status": "open", "priority": 10, "version": 3, **attrs}
    return dynamo({**keys.ticket(ticket_id), **item, **old_inbox(item["status"], item["priority"],
                                                                item.get("sla_due_at", ""), ticket_id)})


def seed_old(table) -> None:
    table.put_item(Item=old_ticket(
        T1, brand="nordlight", channel="x", priority=70, assignee="a1", team="care", language="en", topic="delivery",
        created_at=f"{HOUR}:15:00+00:00", updated_at=f"{HOUR}:16:30+00:00", first_inbound_at=f"{HOUR}:15:00+00:00",
        first_response_at=f"{HOUR}:16:30+00:00", sla_due_at="2026-03-02T11:15:00+00:00",
        last_message_preview="my order 12345 never arrived",
        search_text="my order 12345 never arrived kim lund kimlund",  # the message, then who wrote it
        classification={"actionable": True, "sentiment": "negative", "sentiment_score": -0.8, "language": "en",
                        "topic": "delivery", "urgency": "high", "evidence": ["never arrived"], "model": "v3"}))
    table.put_item(Item=old_ticket(
        T2, brand="nordlight", channel="x", priority=40, language="fi", waiting_since=f"{HOUR}:20:00+00:00",
        created_at=f"{HOUR}:20:00+00:00", updated_at=f"{HOUR}:20:00+00:00", first_inbound_at=f"{HOUR}:20:00+00:00",
        sla_due_at="2026-03-02T09:50:00+00:00", sla_breached_for="first_response",
        last_message_preview="where is the parcel", search_text="where is the parcel aino virtanen ainov",
        classification={"sentiment": "neutral", "reasons": ["none"]}))
    table.put_item(Item=old_ticket(
        T3, brand="nordlight", channel="facebook", status="closed", team="care", language="en", topic="billing",
        created_at=f"{HOUR}:40:00+00:00", updated_at=f"{HOUR}:50:00+00:00", first_inbound_at=f"{HOUR}:40:00+00:00",
        closed_at=f"{HOUR}:50:00+00:00", done_without_reply=True, sla_due_at="2026-03-02T10:40:00+00:00",
        last_message_preview="thanks all sorted", search_text="thanks all sorted pekka ek",
        classification={"sentiment": "positive"}))
    table.put_item(Item=old_ticket(
        T4, brand="aegean", channel="instagram", status="pending", created_at=f"{AEGEAN_HOUR}:05:00+00:00",
        updated_at=f"{AEGEAN_HOUR}:05:00+00:00", first_inbound_at=f"{AEGEAN_HOUR}:05:00+00:00",
        last_message_preview="is the blue jacket back in stock", search_text="is the blue jacket back in stock maria"))
    # a reply still in the old in-flight index, and one that finished
    for message_id, status in (("m-queued", "queued"), ("m-sent", "sent")):
        created = f"{HOUR}:17:00+00:00"
        table.put_item(Item={**keys.message(T1, created, message_id), "id": message_id, "ticket_id": T1,
                             "direction": "outbound", "status": status, "created_at": created,
                             "GSI1PK": "OUTBOUND#inflight", "GSI1SK": f"{created}#{message_id}"})
    # agents in the single partition
    for agent_id, load in (("a1", 1), ("a2", 0)):
        table.put_item(Item={"PK": "AGENTS", "SK": f"AGENT#{agent_id}", "id": agent_id, "name": agent_id.upper(),
                             "status": "online", "capacity": 5, "load": load, "brands": ["nordlight"]})


def stream_starts_now() -> None:
    """What was seeded was written before the stream existed: the stream handler never sees it (the
    local event source mapping moves past it, delivering nothing)."""
    stack.StreamWorker(lambda event, context: {"state": {}}, "before-the-stream").poll_once()


def new_ticket(desk) -> dict:
    """A ticket the new code opens (a signed tweet) after the stream began: the stream counts it."""
    stored.put_account(desk.store(), "x", BRAND_X, status="active", brand="nordlight")
    desk.post_tweet(BRAND_X, "1850000000000000009", {"id": "42", "name": "Kim", "handle": "kim"},
                    "@NordlightShop my lamp arrived broken")
    desk.drain(only=("ingest_worker",))
    [found] = [t for t in desk.store().all_tickets() if not t["id"].startswith("old-")]
    return found


def run(table, **kwargs) -> dict:
    return migrate.Migration(table, out=io.StringIO(), **kwargs).run()


def figures(table, key: dict) -> dict:
    item = plain(table.get_item(Key=key, ConsistentRead=True).get("Item")) or {}
    return {k: v for k, v in item.items()
            if k not in ("PK", "SK", "brand", counters.TTL_ATTRIBUTE) and not k.startswith(counters.LANE_PREFIX)}


def snapshot(table) -> list[str]:
    """Every item of the table, as text (a whole scan: the test's table is small)."""
    items, kwargs = [], {}
    while True:
        page = table.scan(**kwargs)
        items += [json.dumps(plain(i), sort_keys=True, default=str) for i in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return sorted(items)
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def plus(*counts: dict) -> dict:
    total: dict = {}
    for c in counts:
        for k, v in c.items():
            total[k] = total.get(k, 0) + v
    return {k: v for k, v in total.items() if v}


OLD_HOUR = {"tickets": 3, "ch:x": 2, "ch:facebook": 1, "sentiment:negative": 1, "sentiment:neutral": 1,
            "sentiment:positive": 1, "topic:delivery": 1, "topic:other": 1, "topic:billing": 1, "team:care": 2,
            "answerable": 2, "replied": 1, "frt:x:120": 1, "done": 1, "closed": 1, "breached": 1}
OLD_GAUGE = {"status:open": 2, "status:closed": 1, "team:care": 1, "team:none": 1, "language:en": 1, "language:fi": 1}
AEGEAN = {"tickets": 1, "ch:instagram": 1, "sentiment:neutral": 1, "topic:other": 1, "answerable": 1}
AEGEAN_GAUGE = {"status:pending": 1, "team:none": 1, "language:none": 1}


@pytest.fixture
def upgraded_desk(desk):
    """The desk deployed over a table of old items, one ticket opened by the new code since."""
    table = desk.store().table
    seed_old(table)
    stream_starts_now()
    desk.new = new_ticket(desk)
    return desk


def check_counters(desk) -> None:
    table = desk.store().table
    assert figures(table, keys.counter_hour("nordlight", HOUR)) == OLD_HOUR
    assert figures(table, keys.counter_hour("aegean", AEGEAN_HOUR)) == AEGEAN
    assert figures(table, keys.gauge("nordlight")) == plus(OLD_GAUGE, counters.gauge_counts(desk.new))
    assert figures(table, keys.gauge("aegean")) == AEGEAN_GAUGE
    new_hour = keys.counter_hour("nordlight", counters.hour_of(desk.new["created_at"]))
    assert figures(table, new_hour) == counters.hour_counts(desk.new)  # the stream's count, once


def test_before_the_migration_the_new_code_finds_none_of_the_old_items(upgraded_desk):
    tickets = upgraded_desk.store().tickets
    assert [t.id for t in tickets.inbox("open", brands=["nordlight"])[0]] == [upgraded_desk.new["id"]]
    assert tickets.due_between("2026-03-02T11:15", "2026-03-02T11:15") == []
    assert upgraded_desk.store().agents.roster() == []


def test_the_migration_brings_every_old_item_to_the_new_shapes(upgraded_desk):
    desk = upgraded_desk
    store = desk.store()
    table = store.table

    summary = run(table)
    desk.drain()  # the stream sees every re-key: it must add and index nothing

    assert summary["tickets_rekeyed"] == 4 and summary["tickets_counted"] == 4 and summary["tickets_indexed"] == 4
    assert summary["already_current"] == 1  # the ticket the new code opened
    assert summary["agents_moved"] == 2 and summary["replies_moved"] == 2
    assert summary["items_read"] >= 8 and not summary["nothing_to_do"]
    # the inbox (GSI1: the brand's shard, status first), every status, and an admin's (the brand registry)
    assert {t.id for t in store.tickets.inbox("open", brands=["nordlight"])[0]} == {T1, T2, desk.new["id"]}
    assert [t.id for t in store.tickets.inbox("closed", brands=["nordlight"])[0]] == [T3]
    assert [t.id for t in store.tickets.inbox("pending")[0]] == [T4]
    assert {T1, T2} <= {t.id for t in store.tickets.inbox("open")[0]}
    order = [t.id for t in store.tickets.inbox("open", brands=["nordlight"])[0]]
    assert order.index(T1) < order.index(T2)  # by priority (70, then 40)
    # the SLA deadlines (GSI2), none for the closed ticket
    assert [t.id for t in store.tickets.due_between("2026-03-02T11:15", "2026-03-02T11:15")] == [T1]
    assert [t.id for t in store.tickets.due_between("2026-03-02T09:50", "2026-03-02T09:50")] == [T2]
    assert store.tickets.due_between("2026-03-02T10:40", "2026-03-02T10:40") == []
    assert "GSI2PK" not in stored.ticket(store, T3)
    # the waiting ticket's re-drive (GSI3), soon enough for the sweeper to meet it; none for the others
    now = datetime.now(timezone.utc)
    soon = [t.id for t in store.tickets.redrives_between(keys.minute(now.isoformat()),
                                                         keys.minute((now + timedelta(minutes=3)).isoformat()))]
    assert T2 in soon and T1 not in soon
    assert all("GSI3PK" not in stored.ticket(store, t) for t in (T1, T3, T4))
    # ByAssignee: the ticket's own assignee and status
    assert [t.id for t in store.tickets.assigned_to("a1")] == [T1]
    # agents: their own items and the roster; the old partition empty
    assert {a.id for a in store.agents.roster()} == {"a1", "a2"}
    assert store.agents.get("a1").load == 1
    assert list(partition(table, *keys.legacy_agents())) == []
    # replies: the one in flight in its GSI2 minute, the sent one out of every index
    queued, sent = (m for m in stored.messages(store, T1) if m["id"] in ("m-queued", "m-sent"))
    assert "GSI1PK" not in queued and queued["GSI2PK"] == keys.outbound_in_flight(queued["created_at"], "m-queued")["GSI2PK"]
    assert not {"GSI1PK", "GSI2PK"} & set(sent)
    # the ticket shrunk as new tickets are: the verdict's fields, who wrote it
    t1 = stored.ticket(store, T1)
    assert set(t1["classification"]) == set(TICKET_VERDICT) and t1["classification"]["sentiment"] == "negative"
    assert t1["search_text"] == "kim lund kimlund" and t1["version"] == 3
    # the reports' counters: the hand-computed figures, each old ticket once, the new one once (by the stream)
    check_counters(desk)
    # search: an order number, a handle, a word of the message; the CSV export's hour
    for query, brand, status, wanted in (("12345", "nordlight", "open", T1), ("kimlund", "nordlight", "open", T1),
                                         ("parcel", "nordlight", "open", T2), ("jacket", "aegean", "pending", T4),
                                         ("sorted", "nordlight", "closed", T3)):
        assert [t.id for t in search.page(table, query, status, {}, [brand], 10)["items"]] == [wanted], query
    found, _ = search.created_in(table, ["nordlight"], [HOUR], lambda t: True, 10)
    assert {t["id"] for t in found} == {T1, T2, T3}


def test_a_second_run_changes_nothing_and_says_so(upgraded_desk):
    table = upgraded_desk.store().table
    run(table)
    upgraded_desk.drain()
    before = snapshot(table)

    out = io.StringIO()
    again = migrate.Migration(table, out=out).run()
    upgraded_desk.drain()

    assert again["nothing_to_do"] and again["already_current"] == 5
    assert all(again[k] == 0 for k in ("tickets_rekeyed", "tickets_shrunk", "tickets_counted", "tickets_indexed",
                                       "search_entries_written", "agents_moved", "replies_moved", "brands_registered"))
    assert "Nothing to do" in out.getvalue()
    assert snapshot(table) == before
    check_counters(upgraded_desk)


def test_a_run_cut_short_then_run_again_counts_each_ticket_once(upgraded_desk):
    table = upgraded_desk.store().table

    first = run(table, limit=2)
    upgraded_desk.drain()
    assert first["stopped_at_limit"] and first["tickets_read"] == 2

    run(table)
    upgraded_desk.drain()
    check_counters(upgraded_desk)


def test_a_crash_between_the_index_entries_and_the_ticket_write_counts_it_once(upgraded_desk, monkeypatch):
    table = upgraded_desk.store().table
    real, calls = migrate.write, []

    def crashing(*args):
        calls.append(1)
        if len(calls) == 3:  # the third ticket: its search entries written, the count and marks not
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(migrate, "write", crashing)
    with pytest.raises(KeyboardInterrupt):
        run(table)
    monkeypatch.setattr(migrate, "write", real)
    second = run(table)
    upgraded_desk.drain()

    assert second["tickets_counted"] == 2  # the two the crash left (the third and fourth)
    check_counters(upgraded_desk)


def test_each_phase_alone_and_in_any_order_counts_once(upgraded_desk):
    table = upgraded_desk.store().table
    for phase in ("search", "counters", "agents", "tickets", "counters"):
        run(table, phases=(phase,))
        upgraded_desk.drain()
    check_counters(upgraded_desk)
    assert run(table)["nothing_to_do"]


def test_a_dry_run_writes_nothing(upgraded_desk, capsys):
    table = upgraded_desk.store().table
    before = snapshot(table)

    assert migrate.main(["--dry-run"]) == 0
    summary = json.loads(capsys.readouterr().out)

    assert summary["dry_run"] and summary["tickets_rekeyed"] == 4 and summary["tickets_counted"] == 4
    assert summary["agents_moved"] == 2 and summary["search_entries_written"] > 0
    assert snapshot(table) == before


def test_the_command_line_reads_the_table_from_the_environment(upgraded_desk, capsys):
    assert migrate.main(["--only", "agents"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["agents_moved"] == 2 and summary["tickets_read"] == 0
    assert {a.id for a in upgraded_desk.store().agents.roster()} == {"a1", "a2"}


def test_the_updates_change_nothing_the_stream_counts_or_indexes():
    """Unit: the planned change leaves contributions and tokens as they were (the stream adds nothing)."""
    ticket = plain(old_ticket(T1, brand="nordlight", created_at=f"{HOUR}:15:00+00:00", channel="x",
                              last_message_preview="my order 12345 never arrived",
                              search_text="my order 12345 never arrived kim lund kimlund",
                              classification={"sentiment": "negative", "evidence": ["x"]}))
    step = migrate.plan(ticket, migrate.PHASES, datetime(2026, 11, 1, tzinfo=timezone.utc), "2026-11-27T10:00:00+00:00")
    after = migrate.applied(ticket, step)
    assert step["work"] == {"rekey", "shrink", "count", "index"}
    assert counters.delta(ticket, after) == {}
    assert search.entries(ticket) == search.entries(after)
    # created after the stream began: the stream counted and indexed it
    late = migrate.plan(ticket, migrate.PHASES, datetime(2026, 1, 1, tzinfo=timezone.utc), "2026-11-27T10:00:00+00:00")
    assert late["work"] == {"rekey", "shrink"}


def test_a_long_message_keeps_its_search_text_and_an_erased_ticket_too():
    long_text = "a" * 199 + " more"
    ticket = {"id": "t", "last_message_preview": long_text[:200], "search_text": long_text.lower() + " kim kimlund"}
    assert "search_text" not in migrate.shrunk(ticket)
    erased = {"id": "t", "last_message_preview": "[erased]", "search_text": "[erased]"}
    assert migrate.shrunk(erased) == {}


def test_an_old_ticket_changed_since_the_stream_began_is_named(upgraded_desk):
    table = upgraded_desk.store().table
    table.update_item(Key=keys.ticket(T2), UpdateExpression="SET updated_at = :u",
                      ExpressionAttributeValues={":u": datetime.now(timezone.utc).isoformat()})
    stream_starts_now()  # (the change itself is not what this test counts)
    out = io.StringIO()
    summary = migrate.Migration(table, out=out).run()
    assert summary["counted_but_changed_since_stream"] == 1 and f"ticket {T2}: changed since" in out.getvalue()


def test_a_ticket_placed_before_the_answered_flag_is_placed_again(desk):
    """A ticket keyed by brand (issue 13) whose inbox place predates issue 15's answered flag
    (`<status>#<100-priority>#<due>#<id>`): the migration gives it `keys.inbox_index` as it is now,
    answered below unanswered, and a second run finds it current."""
    table = desk.store().table
    due = "2026-11-25T10:00:00+00:00"
    answered = {"first_response_at": "2026-11-24T10:05:00+00:00", "last_inbound_at": "2026-11-24T10:00:00.000000+00:00",
                "last_outbound_at": "2026-11-24T10:05:00.000000+00:00"}
    for ticket_id, extra in (("t-answered", answered), ("t-waiting", {})):
        table.put_item(Item=dynamo({**keys.ticket(ticket_id), "id": ticket_id, "status": "open", "priority": 40,
                                    "version": 2, "brand": "acme", "sla_due_at": due, **extra,
                                    **keys.inbox_home("acme", ticket_id),
                                    "GSI1SK": f"open#060#{due}#{ticket_id}"}))  # the form before the flag

    summary = run(table, phases=("tickets",))

    assert summary["tickets_placed"] == 2 and summary["tickets_rekeyed"] == 0
    placed = {i: table.get_item(Key=keys.ticket(i))["Item"]["GSI1SK"] for i in ("t-answered", "t-waiting")}
    assert placed == {"t-answered": f"open#060#1#{due}#t-answered", "t-waiting": f"open#060#0#{due}#t-waiting"}
    assert [t.id for t in desk.store().tickets.inbox("open", brands=["acme"])[0]] == ["t-waiting", "t-answered"]
    assert run(table, phases=("tickets",))["tickets_placed"] == 0
