"""Property-based test of the webhook use case under moto: nothing signed disappears.

For any hostile variation of a real body, signed with the channel's secret, the answer is 200,
400 (not JSON) or never a 5xx; on 200 every accepted event is on the ingest queue, and whatever
was kept back is in quarantine byte for byte. Unsigned, the answer is 401 and nothing is kept.
"""
from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.local import payloads as p
from tests.conftest import TEST_SECRETS
from tests.fuzz.strategies import raw_bodies
from tests.fuzz.test_parsers import API_SEEDS, META_SEEDS, X_SEEDS

ROUTES = {"x": (X_SEEDS, lambda b: p.sign_x(b, TEST_SECRETS["X_CONSUMER_SECRET"])),
          "meta": (META_SEEDS, lambda b: p.sign_meta(b, TEST_SECRETS["META_APP_SECRET"])),
          "api": (API_SEEDS, lambda b: p.sign_api(b, TEST_SECRETS["API_CHANNEL_SECRET"]))}
EXAMPLES = min(settings().max_examples // 3, 2_000)  # each runs the route against moto: slower than a parse


def drained(desk) -> int:
    sqs, url, n = desk.sqs(), desk.queue_urls["INGEST_QUEUE_URL"], 0
    while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        n += len(got)
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                        for i, m in enumerate(got)])
    return n


def kept(desk, item_id: str) -> bytes:
    from chalicelib import aws
    from chalicelib.store import keys

    [item] = [q for q in desk.store().quarantined() if q["id"] == item_id]
    for stale in desk.store().table.query(KeyConditionExpression="PK = :pk",
                                          ExpressionAttributeValues={":pk": keys.QUARANTINE_PK})["Items"]:
        desk.store().table.delete_item(Key={"PK": stale["PK"], "SK": stale["SK"]})  # keep each read small
    if "raw_body_s3_key" in item:
        return aws.client("s3").get_object(Bucket="social-care-models-test",
                                           Key=item["raw_body_s3_key"])["Body"].read()
    if "raw_body_b64" in item:
        return base64.b64decode(item["raw_body_b64"])
    return item["raw_body"].encode("utf-8")


def for_each_channel(test):
    """Run `test(desk, channel, data)` for every webhook route, EXAMPLES bodies each."""
    return pytest.mark.parametrize("channel", sorted(ROUTES))(settings(max_examples=EXAMPLES)(given(data=st.data())(test)))


@for_each_channel
def test_a_signed_body_is_enqueued_or_kept_or_refused_with_a_4xx(desk, channel, data):
    from chalicelib.ingest import handle_webhook

    seeds, sign = ROUTES[channel]
    body = data.draw(raw_bodies(seeds))
    answer = handle_webhook(channel, body, {"Content-Type": "application/json", **sign(body)})
    assert answer.status in (200, 400), answer
    if answer.status == 400:
        with pytest.raises((ValueError, UnicodeDecodeError)):
            json.loads(body)
        assert drained(desk) == 0
        return
    assert drained(desk) == answer.body["accepted"]
    if "quarantined" in answer.body:
        assert kept(desk, answer.body["quarantined"]) == body


@for_each_channel
def test_an_unsigned_body_is_a_401_and_nothing_is_kept(desk, channel, data):
    from chalicelib.ingest import handle_webhook

    seeds, sign = ROUTES[channel]
    body = data.draw(raw_bodies(seeds))
    [(header, _)] = sign(body).items()
    forged = data.draw(st.one_of(st.none(), st.text(max_size=80), st.just(sign(body + b" ")[header])))
    headers = {"Content-Type": "application/json", **({header: forged} if forged is not None else {})}
    before = len(desk.store().quarantined())
    answer = handle_webhook(channel, body, headers)
    assert answer.status == 401
    assert drained(desk) == 0 and len(desk.store().quarantined()) == before
