"""The table's stream handler counts each stream record exactly once (chalicelib/counters.py), with
one plain UpdateItem per counter item per batch and no marks, however Lambda redelivers: a batch
that partly failed and is retried (whole, bisected, or with more records behind it), two shards
writing the same hour item, a new shard after a split. The records are moto's stream's, delivered
through the handler as Lambda's event source mapping would (infra/local/stack.py's stream_event);
every figure is computed by hand from the tickets below."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from chalicelib import counters, reports
from chalicelib.models import utcnow
from chalicelib.store import keys
from infra.local import stack

NOW = utcnow().replace(minute=30, second=0, microsecond=0)
H1, H2 = (NOW - timedelta(hours=2)).isoformat(), (NOW - timedelta(hours=5)).isoformat()
TICKETS = (("a1", "nordlight", "x", H1, "open"), ("a2", "nordlight", "x", H1, "closed"),
           ("a3", "nordlight", "facebook", H1, "open"), ("a4", "nordlight", "email", H2, "open"),
           ("a5", "nordlight", "email", H2, "open"), ("b1", "other", "x", H1, "open"))
# by hand: what those six tickets, and then a1 closed, add up to
FIGURES = {
    ("nordlight", H1): {"tickets": 3, "ch:x": 2, "ch:facebook": 1, "closed": 1},
    ("nordlight", H2): {"tickets": 2, "ch:email": 2},
    ("other", H1): {"tickets": 1, "ch:x": 1},
    ("nordlight", None): {"status:open": 4, "status:closed": 1},
    ("other", None): {"status:open": 1},
}
CLOSED_A1 = {**FIGURES, ("nordlight", H1): {**FIGURES[("nordlight", H1)], "closed": 2},
             ("nordlight", None): {"status:open": 3, "status:closed": 2}}


class Throttled:
    """The table's client, refusing every UpdateItem after the first `allow` as a throttle would;
    counts the requests it passes on."""

    def __init__(self, client, allow: int = 10 ** 6):
        self.client, self.allow, self.calls = client, allow, {}

    def __getattr__(self, name):
        def call(**kwargs):
            if name == "update_item":
                if self.allow <= 0:
                    raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException",
                                                 "Message": "throttled"}}, "UpdateItem")
                self.allow -= 1
            self.calls[name] = self.calls.get(name, 0) + 1
            return getattr(self.client, name)(**kwargs)
        return call


class Meta:
    def __init__(self, client):
        self.client = client


class Table:
    """The table resource, its low-level client swapped (the stream handler writes counters with it)."""

    def __init__(self, table, client):
        self._table, self.meta = table, Meta(client)

    def __getattr__(self, name):
        return getattr(self._table, name)


@pytest.fixture
def tickets(desk):
    table = desk.store().table
    for ticket_id, brand, channel, created, status in TICKETS:
        table.put_item(Item={**keys.ticket(ticket_id), "id": ticket_id, "brand": brand, "channel": channel,
                             "status": status, "created_at": created, "first_inbound_at": created,
                             "priority": 10, "version": 1, "language": "en", "search_text": "", })
    return desk


def _close_a1(desk) -> None:
    desk.store().table.update_item(Key=keys.ticket("a1"), UpdateExpression="SET #s = :c",
                                   ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":c": "closed"})


def _deliver(desk, records, shard="shardId-00000001-aaaa", allow: int = 10 ** 6) -> dict:
    """The handler on one batch of `shard`; the table's client lets `allow` UpdateItems through."""
    from chalicelib.stream import process_stream_event

    arn = desk.store().table.meta.client.describe_table(TableName="social-care-desk")["Table"]["LatestStreamArn"]
    client = Throttled(desk.store().table.meta.client, allow)
    answer = process_stream_event(stack.stream_event(records, arn, shard), Table(desk.store().table, client))
    return {**answer, "calls": client.calls}


def _fails(desk, records, allow: int, shard="shardId-00000001-aaaa") -> None:
    with pytest.raises(ClientError):
        _deliver(desk, records, shard, allow)


def _figures(desk) -> dict:
    table, found = desk.store().table, {}
    for (brand, hour), expected in FIGURES.items():
        key = keys.gauge(brand) if hour is None else keys.counter_hour(brand, counters.hour_of(hour))
        item = table.get_item(Key=key).get("Item", {})
        found[(brand, hour)] = {name: int(item[name]) for name in expected if item.get(name)}
    return found


def _renumbered(records: list[dict], first: int) -> list[dict]:
    """The records as another shard would carry them: the same changes, other sequence numbers."""
    return [{**r, "dynamodb": {**r["dynamodb"], "SequenceNumber": str(first + i)}} for i, r in enumerate(records)]


def test_one_batch_is_one_update_per_item_and_the_hand_computed_figures(tickets):
    answer = _deliver(tickets, tickets.ticket_stream_records())
    assert _figures(tickets) == FIGURES
    assert (answer["counted"], answer["repeats"], answer["writes"]) == (6, 0, 5)
    # one plain UpdateItem per item (3 hours, 2 gauges); no transaction, no mark per record
    assert answer["calls"] == {"update_item": 5}
    report = reports.summary(tickets.store(), 1, ["nordlight"])
    assert report["tickets"] == 5 and report["volume_by_channel"] == {"email": 2, "facebook": 1, "x": 2}
    assert answer["state"] == {}  # a tumbling window's answer
    # the hour items expire 400 days after their hour (the TTL set in those same five updates); gauges never
    table = tickets.store().table
    for brand, hour in ((b, h) for b, h in FIGURES if h is not None):
        item = table.get_item(Key=keys.counter_hour(brand, counters.hour_of(hour)))["Item"]
        hour_start = datetime.fromisoformat(hour).replace(minute=0)
        assert int(item["expires_at"]) == int(hour_start.timestamp()) + 400 * 86400
    assert "expires_at" not in table.get_item(Key=keys.gauge("nordlight"))["Item"]


def test_a_first_response_a_day_later_counts_in_the_hour_the_ticket_was_created(tickets):
    _deliver(tickets, tickets.ticket_stream_records())
    answered = (NOW + timedelta(days=1, hours=3)).isoformat()  # another hour, another day
    tickets.store().table.update_item(Key=keys.ticket("a4"), UpdateExpression="SET first_response_at = :r",
                                      ExpressionAttributeValues={":r": answered})
    assert _deliver(tickets, tickets.ticket_stream_records()[6:])["writes"] == 1  # the creation hour's item only
    table = tickets.store().table
    h2 = table.get_item(Key=keys.counter_hour("nordlight", counters.hour_of(H2)))["Item"]
    assert int(h2["replied"]) == 1 and int(h2[f"frt:email:{counters.frt_bucket(27 * 3600 + 5 * 3600)}"]) == 1
    assert "Item" not in table.get_item(Key=keys.counter_hour("nordlight", counters.hour_of(answered)))


def test_a_batch_that_partly_failed_is_counted_once_when_retried(tickets):
    records = tickets.ticket_stream_records()
    _fails(tickets, records, allow=2)  # two items written, then a throttle: Lambda retries the batch
    again = _deliver(tickets, records)
    assert _figures(tickets) == FIGURES
    assert again["counted"] + again["repeats"] == 6 and again["counted"] < 6
    assert _deliver(tickets, records)["counted"] == 0  # and once more: nothing new
    assert _figures(tickets) == FIGURES


def test_a_bisected_batch_is_counted_once(tickets):
    _deliver(tickets, tickets.ticket_stream_records())
    _close_a1(tickets)
    _ticket_b2 = {**keys.ticket("b2"), "id": "b2", "brand": "other", "channel": "x", "status": "open",
                  "created_at": H1, "first_inbound_at": H1}
    tickets.store().table.put_item(Item=_ticket_b2)
    batch = tickets.ticket_stream_records()[6:]  # a1 closed (nordlight), b2 opened (other)
    assert len(batch) == 2
    _fails(tickets, batch, allow=1)  # one item of the batch written
    _fails(tickets, batch[:1], allow=0)  # Lambda bisects: the first half fails too
    _deliver(tickets, batch[:1])
    _deliver(tickets, batch[1:])
    expected = {**CLOSED_A1, ("other", H1): {"tickets": 2, "ch:x": 2}, ("other", None): {"status:open": 2}}
    assert _figures(tickets) == expected
    _deliver(tickets, batch)  # the whole batch once more (a redelivery after success)
    assert _figures(tickets) == expected


def test_a_retry_carrying_more_records_than_the_failed_attempt_counts_the_new_ones(tickets):
    records = tickets.ticket_stream_records()
    _fails(tickets, records[:4], allow=2)  # a1 to a4: the first hour and the gauge written, then a throttle
    # the retry read further: the gauge refuses it, a5 past its watermark is written; a4 to the second hour
    assert _deliver(tickets, records)["counted"] == 3
    assert _figures(tickets) == FIGURES


def test_two_shards_write_the_same_hour_item_each_counted_once(tickets):
    records = tickets.ticket_stream_records()
    # shard A's sequence numbers far past shard B's: one watermark for both would drop B's records
    a, b = _renumbered(records[0::2], 10 ** 39), _renumbered(records[1::2], 10 ** 20)
    assert _deliver(tickets, a, "shardId-A")["counted"] == 3
    assert _deliver(tickets, b, "shardId-B")["counted"] == 3
    assert _figures(tickets) == FIGURES
    assert _deliver(tickets, a, "shardId-A")["repeats"] == _deliver(tickets, b, "shardId-B")["repeats"] == 3
    assert _figures(tickets) == FIGURES


def test_a_new_shard_after_a_split_starts_its_own_watermark(tickets):
    records = tickets.ticket_stream_records()
    _deliver(tickets, _renumbered(records[:3], 5 * 10 ** 20), "shardId-parent")
    # the children start numbering afresh (any number): their records count, the parent's again do not
    _deliver(tickets, _renumbered(records[3:5], 10 ** 20), "shardId-child-1")
    _deliver(tickets, _renumbered(records[5:], 10 ** 20), "shardId-child-2")
    assert _deliver(tickets, _renumbered(records[:3], 5 * 10 ** 20), "shardId-parent")["counted"] == 0
    assert _figures(tickets) == FIGURES


def test_sequence_numbers_of_more_digits_come_after_fewer(tickets):
    records = tickets.ticket_stream_records()
    _deliver(tickets, _renumbered(records[:3], 10 ** 21 - 3), "shardId-A")  # 21 digits, up to 999…9
    _deliver(tickets, _renumbered(records[3:], 10 ** 21), "shardId-A")  # 22 digits: "1000…" < "999…" as text
    assert _figures(tickets) == FIGURES


def test_a_watermark_idle_for_48_hours_is_removed_and_a_recent_one_kept(tickets, monkeypatch):
    table = tickets.store().table
    stale_hour, fresh_hour = int(NOW.timestamp() // 3600) - 49, int(NOW.timestamp() // 3600) - 1
    table.update_item(Key=keys.gauge("nordlight"), UpdateExpression="SET #o = :o, #r = :r", ExpressionAttributeNames={
        "#o": "~oldshrd", "#r": "~recentt"}, ExpressionAttributeValues={
        ":o": counters.seq_key("1" * 30) + f"{stale_hour:x}", ":r": counters.seq_key("1" * 30) + f"{fresh_hour:x}"})
    monkeypatch.setattr(counters.time, "time", lambda: NOW.timestamp())
    answer = _deliver(tickets, tickets.ticket_stream_records())
    gauge = table.get_item(Key=keys.gauge("nordlight"))["Item"]
    assert "~oldshrd" not in gauge and "~recentt" in gauge and counters.lane("shardId-00000001-aaaa") in gauge
    assert answer["calls"] == {"update_item": 6}  # the five, and one removal
    assert _figures(tickets) == FIGURES


def test_an_event_without_its_shard_is_refused(tickets):
    from chalicelib.stream import process_stream_event

    event = stack.stream_event(tickets.ticket_stream_records(), "arn:aws:dynamodb:eu-west-1:1:table/t/stream/x")
    del event["shardId"]
    with pytest.raises(ValueError, match="shardId"):
        process_stream_event(event, tickets.store().table)
