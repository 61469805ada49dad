"""Reports, queue counts and search from the aggregates the table's stream keeps (issue 13, points 4
and 5): the stream handler is driven with the records moto's DynamoDB Streams gives, as Lambda's
event source mapping would (infra/local/stack.py's StreamWorker), never with hand-made events."""
from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest

from chalicelib import counters, reports, search
from chalicelib.auth import mint
from chalicelib.models import utcnow
from chalicelib.store import keys
from infra.local import stack
from tests.conftest import TEST_SECRETS

NOW = utcnow().replace(minute=30, second=0, microsecond=0)


def _iso(hours_ago: float = 0, seconds: float = 0) -> str:
    return (NOW - timedelta(hours=hours_ago) + timedelta(seconds=seconds)).isoformat()


def _ticket(table, ticket_id: str, *, brand="nordlight", channel="x", hours_ago=1.0, sentiment="neutral",
            topic=None, response_after=None, done=False, breached=False, status="open", team=None,
            language="en", text="", name=""):
    created = _iso(hours_ago)
    item = {**keys.ticket(ticket_id), "id": ticket_id, "brand": brand, "channel": channel, "status": status,
            "priority": 10, "version": 1, "created_at": created, "first_inbound_at": created,
            "classification": {"sentiment": sentiment}, "language": language,
            "search_text": " ".join(filter(None, [text, name])).lower(), "last_message_preview": text}
    if topic:
        item["topic"] = topic
    if team:
        item["team"] = team
    if response_after is not None:
        item["first_response_at"] = _iso(hours_ago, seconds=response_after)
    if done:
        item["done_without_reply"] = True
    if breached:
        item["sla_breached_for"] = "first_response"
    table.put_item(Item=item)
    table.put_item(Item=keys.brand_entry(brand))  # the registry of brands, as the store's opening of a ticket
    return item


def _deliver(desk, records) -> dict:
    arn = desk.store().table.meta.client.describe_table(TableName="social-care-desk")["Table"]["LatestStreamArn"]
    return desk.handlers.ticket_stream(stack.stream_event(records, arn), stack.LambdaContext("ticket_stream"))


@pytest.fixture
def known(desk):
    """Five tickets of one brand, one of another, with known arrivals, responses and breaches."""
    table = desk.store().table
    _ticket(table, "t1", channel="x", hours_ago=2, sentiment="negative", topic="billing", response_after=100)
    _ticket(table, "t2", channel="x", hours_ago=3, sentiment="positive", topic="billing", response_after=700,
            breached=True)
    _ticket(table, "t3", channel="facebook", hours_ago=26, sentiment="negative", topic="delivery",
            response_after=40, status="closed")
    _ticket(table, "t4", channel="facebook", hours_ago=30, done=True, status="closed", team="night")
    _ticket(table, "t5", channel="email", hours_ago=9 * 24, response_after=50)  # outside 7 days
    _ticket(table, "o1", brand="other", channel="x", hours_ago=1, response_after=5000)
    return desk


def test_a_report_is_what_the_tickets_add_up_to_by_hand(known):
    _deliver(known, known.ticket_stream_records())
    stats: dict = {}
    report = reports.summary(known.store(), 7, ["nordlight"], stats)
    # the period and its series over time: tests/integration/test_staffing_reports.py
    assert report.pop("period")["hours"] == 7 * 24 + 1 and report.pop("sentiment_over_time")["unit"] == "day"
    # t1..t4 in the window; responses 100 s (x, bucket 120), 700 s (x, 900), 40 s (facebook, 60)
    assert report == {
        "days": 7, "tickets": 4,
        "first_response_seconds": {"median": 120, "p90": 900, "by_channel": {"facebook": 60, "x": 510.0}},
        "volume_by_channel": {"facebook": 2, "x": 2},
        "sentiment_by_day": [
            {"day": d, **c} for d, c in sorted(_by_day({"t1": ("negative", 2), "t2": ("positive", 3),
                                                       "t3": ("negative", 26), "t4": ("neutral", 30)}).items())],
        "top_topics": [{"topic": "billing", "count": 2}, {"topic": "delivery", "count": 1},
                       {"topic": "other", "count": 1}],
        "reply_rate": 1.0,  # t4 was done without reply: of the three answerable, three answered
        "done_without_reply": 1,
        "approvals": {"decided": 0, "rejected": 0, "mean_wait_seconds": None},  # none held (issue 16)
    }
    assert stats["items_read"] <= 7 * 24 + 1 and stats["calls"] == 2  # 169 hour keys, 100 a call
    hour = keys.counter_hour("nordlight", counters.hour_of(_iso(3)))
    assert known.store().table.get_item(Key=hour)["Item"]["breached"] == 1
    assert reports.summary(known.store(), 1, ["other"])["first_response_seconds"]["median"] == 5400


def _by_day(tickets: dict) -> dict:
    days: dict = {}
    for sentiment, hours_ago in tickets.values():
        day = days.setdefault(_iso(hours_ago)[:10], {"negative": 0, "neutral": 0, "positive": 0})
        day[sentiment] += 1
    return days


def test_a_redelivered_stream_record_is_counted_once(known):
    records = known.ticket_stream_records()
    first = _deliver(known, records)
    again = _deliver(known, records[:3])  # Lambda retried part of the batch
    assert (first["counted"], again["counted"], again["repeats"]) == (6, 0, 3)
    mixed = _deliver(known, records[2:])  # a bisected retry: all of it counted already
    assert mixed["counted"] == 0
    report = reports.summary(known.store(), 7, ["nordlight"])
    assert report["tickets"] == 4 and report["volume_by_channel"] == {"facebook": 2, "x": 2}


def test_changes_move_counts_and_gauges(known):
    store = known.store()
    _deliver(known, known.ticket_stream_records())
    seen = len(known.ticket_stream_records())
    store.table.update_item(Key=keys.ticket("t1"), UpdateExpression="SET #s = :c, topic = :t, classification = :k",
                            ExpressionAttributeNames={"#s": "status"},
                            ExpressionAttributeValues={":c": "closed", ":t": "delivery",
                                                       ":k": {"sentiment": "positive"}})
    store.table.delete_item(Key=keys.ticket("t5"))
    _deliver(known, known.ticket_stream_records()[seen:])
    report = reports.summary(store, 7, ["nordlight"])
    assert report["top_topics"] == [{"topic": "delivery", "count": 2}, {"topic": "billing", "count": 1},
                                    {"topic": "other", "count": 1}]
    assert sum(d["positive"] for d in report["sentiment_by_day"]) == 2
    stats: dict = {}
    queues = reports.queue_counts(store, ["nordlight"], stats)
    assert queues["statuses"] == {"open": 1, "pending": 0, "on_hold": 0, "closed": 3}  # t5 deleted
    assert queues["open_by_team"] == {"none": 1} and queues["open_by_language"] == {"en": 1}
    assert stats["items_read"] == 1
    from tests import stored

    stored.put_account(store, "x", "1", status="active", brand="acme")  # an account, never a ticket
    # an admin: the inbox's brands, every one that ever had a ticket ("other" has no account)
    assert reports.brands_of(store, None) == search.brands_of(store, None) == ["nordlight", "other"]
    assert reports.queue_counts(store, None)["statuses"]["open"] == 2  # t2 and o1


def test_search_finds_a_customer_by_handle_order_number_and_words_reading_a_bounded_page(known):
    store = known.store()
    _ticket(store.table, "s1", text="my laptop will not boot", name="Aino Korhonen ainok", hours_ago=1)
    _ticket(store.table, "s2", text="the laptop charger is broken", name="Lee", hours_ago=2)
    _ticket(store.table, "s3", brand="other", text="laptop fine", name="Aino", hours_ago=1)
    _ticket(store.table, "s4", text="@NordlightShop where is order #4711? Still waiting", name="Mia Berg mia_b",
            hours_ago=1)
    for n in range(150):
        _ticket(store.table, f"n{n:03d}", text=f"noise laptop {n}", name="Bot", hours_ago=5, status="closed")
    _deliver(known, known.ticket_stream_records())

    def ids(q, brands=("nordlight",), limit=50, cursor=None, status="open"):
        stats: dict = {}
        answer = search.page(store.table, q, status, {}, list(brands), limit, cursor, stats)
        return [t.id for t in answer["items"]], answer["next_cursor"], stats

    assert ids("AINOK")[0] == ["s1"]  # the handle
    assert ids("mia_b")[0] == ids("4711")[0] == ids("#4711 waiting")[0] == ["s4"]  # an order number
    assert ids("ain")[0] == []  # whole words only
    assert ids("Körhonen")[0] == []  # a name word beside a handle is not indexed: not found alone...
    assert ids("Körhonen laptop")[0] == ["s1"]  # ...but with an indexed word (accents and case folded)
    assert ids("laptop boot")[0] == ["s1"]  # every word
    assert ids("still")[0] == []  # a word of the message beyond its two indexed ones
    assert sorted(ids("laptop")[0]) == ["s1", "s2"]  # the other brand's never
    assert sorted(ids("aino", brands=("nordlight", "other"))[0]) == ["s3"]  # a name without a handle
    found, cursor, stats = ids("laptop", status="closed", limit=100)
    assert len(found) == 98 and cursor  # 100 entries read (two open ones among them), then a cursor
    assert stats["entries_read"] <= search.READ_BUDGET and stats["tickets_read"] <= search.READ_BUDGET
    rest, end, _ = ids("laptop", status="closed", limit=100, cursor=cursor)
    assert len(rest) == 52 and end is None and not set(found) & set(rest)
    # a ticket under two query words' partitions is listed once, under the first it holds
    both, end, _ = ids("noise laptop", status="closed", limit=200)
    while end:
        more, end, _ = ids("noise laptop", status="closed", limit=200, cursor=end)
        both += more
    assert sorted(both) == [f"n{n:03d}" for n in range(150)]


def test_a_new_ticket_writes_four_index_entries_and_a_threaded_message_only_what_changed(known):
    """1 WCU an entry (issue 13): the handle, an order number, the longest word, the hour; a later
    message of the thread puts and deletes only the tokens it does not share, none when the same."""
    store = known.store()
    _deliver(known, known.ticket_stream_records())
    seen = len(known.ticket_stream_records())
    _ticket(store.table, "w1", text="@NordlightShop order #4000 never arrived, can you help?",
            name="Customer 17 cust17", hours_ago=0)
    written = _deliver(known, known.ticket_stream_records()[seen:])
    assert (written["added"], written["removed"]) == (4, 0)
    for token in ("cust17", "4000", "arrived", search.hour_token(_iso(0)[:13])):  # which four
        entry = keys.search_entry("nordlight", search.sharded(token, search.shard_of("w1")), _iso(0), "w1")
        assert "Item" in store.table.get_item(Key=entry), token

    def follow_up(text: str) -> dict:
        before = len(known.ticket_stream_records())
        store.table.update_item(Key=keys.ticket("w1"),
                                UpdateExpression="SET search_text = :s, last_message_preview = :p",
                                ExpressionAttributeValues={":s": f"{text} customer 17 cust17".lower(), ":p": text})
        return _deliver(known, known.ticket_stream_records()[before:])

    same = follow_up("Order 4000: it never arrived!!")  # the same order number and longest word
    assert (same["added"], same["removed"]) == (0, 0)
    new_word = follow_up("any update on 4000 please")  # "update" in, "arrived" out
    assert (new_word["added"], new_word["removed"]) == (1, 1)


def test_the_inbox_searches_through_the_index(desk):
    """`GET /api/tickets?q=`: a webhook's mention, through ingest and the stream, found by words and name."""
    from infra.local import payloads as p
    from tests import stored

    store = desk.store()
    stored.put_account(store, "x", "1500000000000000001", status="active", brand="nordlight")
    stored.put_agent(store, {"id": "ana", "name": "Ana", "status": "online", "capacity": 5, "load": 0,
                             "languages": ["en"], "brands": ["nordlight"], "teams": ["default"]})
    body = p.encode(p.x_tweet_event("1500000000000000001", "1850000000000000301",
                                    {"id": "7", "name": "Aino Korhonen", "handle": "ainok"},
                                    "my laptop will not boot after the update"))
    desk.client.http.post("/webhooks/x", body=body, headers={
        "Content-Type": "application/json", **p.sign_x(body, TEST_SECRETS["X_CONSUMER_SECRET"])})
    desk.drain()
    auth = {"Authorization": f"Bearer {mint('ana', 'agent', TEST_SECRETS['LOCAL_JWT_SECRET'])}"}
    for q in ("laptop", "LAPTOP", "ainok", "korhonen laptop"):
        answer = desk.client.http.get(f"/api/tickets?q={q.replace(' ', '%20')}", headers=auth)
        assert answer.status_code == 200, answer.body
        assert [t["last_message_preview"] for t in json.loads(answer.body)["items"]] == [
            "my laptop will not boot after the update"], q
    lone = desk.client.http.get("/api/tickets?q=aino", headers=auth)  # a name word beside a handle: not indexed
    assert json.loads(lone.body)["items"] == []
    report = json.loads(desk.client.http.get("/api/reports/summary?days=1", headers=auth).body)
    assert report["tickets"] == 1 and report["volume_by_channel"] == {"x": 1}


def test_csv_of_the_tickets_behind_a_figure_pages_with_a_cursor(known):
    store = known.store()
    for n in range(7):
        _ticket(store.table, f"c{n}", channel="instagram", hours_ago=4 + n)
    _deliver(known, known.ticket_stream_records())
    rows, cursor, pages = [], None, 0
    while True:
        stats: dict = {}
        page = reports.export_csv(store, 7, ["nordlight"], {"channel": "instagram"}, limit=3, cursor=cursor,
                                  stats=stats)
        parsed = list(csv.DictReader(io.StringIO(page["csv"])))
        assert len(parsed) == page["rows"] <= 3
        assert stats["queries"] <= search.QUERY_BUDGET and stats["entries_read"] <= search.READ_BUDGET
        rows += parsed
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    # newest hour first; 169 hours × 4 shards walked 64 partitions a request
    assert [r["id"] for r in rows] == [f"c{n}" for n in range(7)] and 3 <= pages <= 169 * 4 // 64 + 3
    breached = reports.export_csv(store, 7, ["nordlight"], {"breached": True})
    assert [r["id"] for r in csv.DictReader(io.StringIO(breached["csv"]))] == ["t2"]
    with pytest.raises(Exception):
        reports.export_csv(store, 7, ["nordlight"], {"channel": "x"}, cursor="bm90IGEgY3Vyc29y")
