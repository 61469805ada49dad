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
