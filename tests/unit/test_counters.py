"""The counters' watermark encoding (chalicelib/counters.py): text order must be number order."""
from __future__ import annotations

import random

import pytest

from chalicelib import counters


def test_sequence_numbers_sort_as_text_in_number_order_whatever_their_length():
    rng = random.Random(13)
    numbers = sorted({rng.randrange(10 ** 20, 10 ** 40) for _ in range(500)} | {10 ** 20, 10 ** 21 - 1, 10 ** 21,
                                                                                 10 ** 40 - 1})
    encoded = [counters.seq_key(str(n)) for n in numbers]
    assert encoded == sorted(encoded) and len(set(encoded)) == len(numbers)
    assert {len(e) for e in encoded} == {counters.SEQ_WIDTH}
    with pytest.raises(ValueError):
        counters.seq_key(str(10 ** 42))


def test_a_watermark_with_its_hour_still_compares_as_its_sequence_number():
    mark = counters._watermark("123456789012345678901", 3600 * 500_000)
    assert mark > counters.seq_key("123456789012345678901")  # the same record: already counted
    assert mark < counters.seq_key("123456789012345678902")  # the next one: not yet
    assert counters._written_hour(mark) == 500_000


def test_a_lane_is_short_and_stable_per_shard():
    one = counters.lane("shardId-00000001414562045508-2bac9cd2")
    assert one == counters.lane("shardId-00000001414562045508-2bac9cd2") != counters.lane(
        "shardId-00000001414576573621-f55eea83")
    assert one.startswith(counters.LANE_PREFIX) and len(one) == 8


def test_hour_items_expire_400_days_after_their_hour_well_beyond_any_report():
    from chalicelib import reports
    from chalicelib.api import SummaryQuery
    from infra import resources

    assert counters.TTL_ATTRIBUTE == resources.TTL_ATTRIBUTE  # the attribute the table's TTL reads
    # 2026-11-27T14:00Z is 1795788000; 400 days later, to the second
    assert counters.expires_at("2026-11-27T14") == 1795788000 + 400 * 86400
    assert counters.expires_at("2026-11-27T15") - counters.expires_at("2026-11-27T14") == 3600
    furthest = max(m.le for m in SummaryQuery.model_fields["days"].metadata if hasattr(m, "le"))
    assert furthest == reports.MAX_DAYS == 90
    assert counters.RETENTION_DAYS >= 4 * reports.MAX_DAYS  # comfortably beyond the look-back


def test_every_count_of_a_ticket_is_in_its_creation_hour_whenever_it_happened():
    created = {"id": "t1", "brand": "b", "channel": "x", "status": "open", "created_at": "2026-11-26T13:50:00+00:00",
               "first_inbound_at": "2026-11-26T13:50:00+00:00"}
    answered = {**created, "status": "closed", "first_response_at": "2026-11-27T14:05:00+00:00",
                "sla_breached_for": "first_response"}
    change = counters.delta(created, answered)
    assert set(change) == {("hour", "b", "2026-11-26T13"), ("gauge", "b")}  # nothing in 2026-11-27T14
    assert change[("hour", "b", "2026-11-26T13")] == {"replied": 1, "closed": 1, "breached": 1,
                                                       f"frt:x:{counters.frt_bucket(86700)}": 1}
    # and back: reopened, the counts leave the same hour exactly
    assert counters.delta(answered, created)[("hour", "b", "2026-11-26T13")] == {
        k: -v for k, v in change[("hour", "b", "2026-11-26T13")].items()}
