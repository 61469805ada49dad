"""What an outside review sent the webhooks (issue 11): forged, hostile and oversized bodies.

Each test reproduces one finding through the real routes (Chalice's test client, moto): a signed
body is enqueued, quarantined byte for byte with its reason, or refused with a 4xx that says
why; nothing unsigned gets in; a 5xx only when the queue or the store is really down.
"""
from __future__ import annotations

import json

from infra.local import payloads as p
from infra.local import stack
from tests.conftest import TEST_SECRETS
from tests import stored

BRAND_X = "1500000000000000001"
PAGE = "104000000000001"
IG = "17841400000000001"
CUSTOMER = {"id": "2244994945", "name": "Aino Korhonen", "handle": "ainok", "followers": 120, "verified": False}


def post(desk, route: str, body: bytes, headers: dict):
    return desk.client.http.post(route, body=body, headers={"Content-Type": "application/json", **headers})


def post_x(desk, body: bytes):
    return post(desk, "/webhooks/x", body, p.sign_x(body, TEST_SECRETS["X_CONSUMER_SECRET"]))


def post_meta(desk, body: bytes):
    return post(desk, "/webhooks/meta", body, p.sign_meta(body, TEST_SECRETS["META_APP_SECRET"]))


def post_api(desk, body: bytes):
    return post(desk, "/webhooks/api", body, p.sign_api(body, TEST_SECRETS["API_CHANNEL_SECRET"]))


def quarantined(desk) -> list[dict]:
    return desk.store().quarantined()


# -- 1. the CRC answer is not a signing oracle ---------------------------------------------------

def test_a_forged_event_signed_through_the_crc_answer_is_refused(desk):
    # Given an attacker who wants a tweet accepted without the consumer secret
    forged = p.encode(p.x_tweet_event(BRAND_X, "1850000000000000666", CUSTOMER, "forged"))
    # When they ask the CRC endpoint to sign the forged body
    crc = desk.client.http.get("/webhooks/x?crc_token=" + _quote(forged.decode()))
    signature = json.loads(crc.body).get("response_token") or "sha256=" + "A" * 43 + "="
    # And post it with the signature they got
    answer = post(desk, "/webhooks/x", forged, {"x-twitter-webhooks-signature": signature})
    # Then nothing was signed (a 400 before any HMAC) and the forgery is a 401
    assert crc.status_code == 400 and "crc_token" in json.loads(crc.body)["error"]
    assert answer.status_code == 401
    assert desk.queued("INGEST_QUEUE_URL") == []


def test_the_crc_signs_only_token_shaped_values(desk):
    from chalicelib.channels.x import webhook as x

    # X's tokens are a short run of letters, digits and base64 punctuation
    assert desk.client.http.get("/webhooks/x?crc_token=ZmIyMjY0OTAtNjE3Yi00Y2NlLWE0MDM").status_code == 200
    for bad in ("", "a" * 300, "{}", "[1]", "1234567890123", "abc def", "tok%0Aen", "a\"b", "true123"[:4]):
        assert not x.is_crc_token(bad), bad
    assert desk.client.http.get("/webhooks/x?crc_token=" + _quote('{"for_user_id":"1"}')).status_code == 400


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


# -- 2. no signed body is lost to a 5xx ----------------------------------------------------------

def test_a_signed_50000_deep_json_array_is_quarantined_not_a_500(desk):
    body = b"[" * 50_000 + b"]" * 50_000
    answer = post_meta(desk, body)
    assert answer.status_code == 200, answer.body
    [item] = quarantined(desk)
    assert item["raw_body"] == body.decode() and "nest" in item["reason"]


def test_a_meta_body_whose_object_is_an_object_is_quarantined_not_a_type_error(desk):
    # `"object": {}` made the handler lookup raise TypeError: unhashable type: 'dict'
    body = p.encode({"object": {"page": 1}, "entry": [{"id": PAGE, "changes": []}]})
    answer = post_meta(desk, body)
    assert answer.status_code == 200
    [item] = quarantined(desk)
    assert item["raw_body"] == body.decode() and "object" in item["reason"]


def test_one_bad_entry_of_a_meta_batch_never_sinks_its_neighbours(desk):
    # Given one good comment, one Messenger event with an out-of-range timestamp and a change
    # whose value is a list
    good = p.meta_entry(PAGE, changes=[p.fb_comment_change(PAGE, "post1", "c1", {"id": "71", "name": "Ola"},
                                                           "Where is my refund?")])
    messaging = p.messenger_event(PAGE, "6000000000000002", "m_9", text="Help please")
    messaging["timestamp"] = 10 ** 30
    odd = p.meta_entry(PAGE, messaging=[messaging], changes=[{"field": "feed", "value": ["not", "a", "dict"]}])
    body = p.encode(p.meta_payload("page", [good, odd]))
    # When it is posted and the worker runs
    answer = post_meta(desk, body)
    desk.drain(only=("ingest_worker",))
    # Then the good comment and the clamped message are tickets, and the raw body is kept
    assert answer.status_code == 200
    result = json.loads(answer.body)
    assert result["accepted"] == 2 and result["quarantined"]
    tickets = stack.ticket_lines(desk.store())
    assert sorted(t["messages"][0]["platform_message_id"] for t in tickets) == ["c1", "m_9"]
    [item] = quarantined(desk)
    assert item["raw_body"] == body.decode() and "changes[0]" in item["reason"]


def test_an_out_of_range_timestamp_is_clamped_and_earns_no_waiting_points(desk):
    # Given an API-channel message claiming to be from the year 1 and a WhatsApp message from 10^20
    post_api(desk, p.encode(p.api_body("ext-1", "u1", "Ana", "my card was charged twice",
                                       created_at="0001-01-01T00:00:00Z")))
    wa = p.meta_payload("whatsapp_business_account", [p.meta_entry("WABA1", changes=[
        p.wa_message_change("109000000000001", "358401234567", "Mika", "wamid.IN1", "hello?")])])
    wa["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = str(10 ** 20)
    assert post_meta(desk, p.encode(wa)).status_code == 200
    # When the worker runs (no OverflowError poison message)
    desk.drain(only=("ingest_worker",))
    # Then both are tickets created now, with no "waiting" factor
    tickets = stack.ticket_lines(desk.store())
    assert len(tickets) == 2
    for line in tickets:
        ticket = stored.ticket(desk.store(), line["id"])
        assert ticket["created_at"] >= "2026"
        assert "waiting" not in {f["rule"] for f in ticket["priority_factors"]}, ticket["priority_factors"]


def test_an_x_event_with_mistyped_fields_is_read_without_them_or_quarantined(desk):
    # Given a delivery with a good tweet, a tweet whose media holder is a string (AttributeError
    # before), a DM whose attachment is a string, and a tweet whose user is a string
    payload = p.x_batch(BRAND_X, tweets=[
        p.x_tweet("1850000000000000001", CUSTOMER, "@NordlightShop is the store open today?"),
        {**p.x_tweet("1850000000000000002", CUSTOMER, "where is my parcel"), "extended_tweet": {"extended_entities": "x"}},
        {**p.x_tweet("1850000000000000003", CUSTOMER, "no user"), "user": "2244994945"},
    ], dms=[{**p.x_dm("dm1", "2244994945", BRAND_X, "hi"), "message_create": {
        "sender_id": "2244994945", "target": {}, "message_data": {"text": "hi", "attachment": "oops"}}}])
    body = p.encode(payload)
    # When it is posted and the worker runs
    answer = post_x(desk, body)
    desk.drain(only=("ingest_worker",))
    # Then the readable ones are tickets (a mistyped optional field is read as absent), and the
    # body is quarantined whole for the tweet without a user
    assert answer.status_code == 200, answer.body
    assert json.loads(answer.body)["accepted"] == 3
    ids = sorted(m["platform_message_id"] for t in stack.ticket_lines(desk.store()) for m in t["messages"])
    assert ids == ["1850000000000000001", "1850000000000000002", "dm1"]
    [item] = quarantined(desk)
    assert item["raw_body"] == body.decode() and "tweet_create_events[2]" in item["reason"]


def test_an_empty_external_id_is_refused_not_deduplicated(desk):
    first = post_api(desk, p.encode(p.api_body("", "u1", "Ana", "first")))
    second = post_api(desk, p.encode(p.api_body("", "u2", "Ben", "second")))
    desk.drain(only=("ingest_worker",))
    assert first.status_code == second.status_code == 200
    assert stack.ticket_lines(desk.store()) == []
    assert len(quarantined(desk)) == 2
    assert all("external_id" in item["reason"] for item in quarantined(desk))


def test_a_signed_api_body_of_exactly_one_mebibyte_becomes_a_ticket(desk):
    # Given a signed API-channel body of exactly 1 MiB (over one queue message's size limit)
    base = p.api_body("ext-big", "u1", "Ana", "")
    filler = 1024 * 1024 - len(p.encode(base))
    body = p.encode({**base, "text": "x" * filler})
    assert len(body) == 1024 * 1024
    # When it is posted and the worker runs
    answer = post_api(desk, body)
    desk.drain(only=("ingest_worker",))
    # Then it travelled through S3 and became a ticket (the text cut to what a message keeps,
    # the whole body quarantined so nothing is lost)
    assert answer.status_code == 200, answer.body
    assert json.loads(answer.body)["accepted"] == 1
    [ticket] = stack.ticket_lines(desk.store())
    assert ticket["messages"][0]["platform_message_id"] == "ext-big"


def test_many_large_mentions_in_one_delivery_are_all_enqueued(desk):
    # Ten 90 KB messages: more than one SendMessageBatch may carry (256 KiB in all)
    body = p.encode([p.api_body(f"ext-{i}", f"u{i}", "Ana", "y" * 90_000) for i in range(10)])
    answer = post_api(desk, body)
    assert answer.status_code == 200, answer.body
    desk.drain(only=("ingest_worker",))
    assert len(stack.ticket_lines(desk.store())) == 10


def test_a_queue_message_over_the_inline_limit_travels_through_s3(desk):
    from chalicelib import aws, ingest, queues
    from chalicelib.models import Attachment, Author, Mention, ParseResult, Visibility, utcnow

    # Given a mention whose envelope is over 192 KiB once escaped (control characters are six
    # bytes each in JSON), with fifty long attachment links
    mention = Mention(platform="api", kind="message", brand_account_id="default", external_id="big-1",
                      conversation_id="t1", author=Author(id="u1", name="Ana"), text="\u0001" * 20_000,
                      attachments=tuple(Attachment(type="file", url="https://e.example/" + "a" * 2000)
                                        for _ in range(50)),
                      visibility=Visibility.PRIVATE, created_at=utcnow())
    # When it is enqueued and the worker runs
    answer = ingest._enqueue("api", ParseResult(mentions=[mention]))
    [message] = desk.sqs().receive_message(QueueUrl=desk.queue_urls["INGEST_QUEUE_URL"],
                                           VisibilityTimeout=0)["Messages"]
    desk.drain(only=("ingest_worker",))
    # Then the queue carried a claim check, the body sat in the bucket, and it became a ticket
    assert answer.status == 200
    claim = json.loads(message["Body"])
    assert claim["type"] == "claim" and claim["bytes"] > queues.INLINE_LIMIT
    stored = aws.client("s3").get_object(Bucket="social-care-models-test", Key=claim["s3_key"])
    assert json.loads(stored["Body"].read())["mention"]["external_id"] == "big-1"
    [ticket] = stack.ticket_lines(desk.store())
    assert ticket["messages"][0]["platform_message_id"] == "big-1"


def test_batches_hold_at_most_ten_messages_and_256_kib():
    from chalicelib import queues

    bodies = ["a" * 100_000] * 5 + ["b"] * 12
    batches = list(queues._batches(bodies))
    assert [len(b) for b in batches] == [2, 2, 10, 3]
    assert all(sum(len(x) for x in b) <= queues.MAX_BATCH_BYTES for b in batches)
    assert [x for b in batches for x in b] == bodies


# -- siblings the review did not name ------------------------------------------------------------

def test_the_meta_challenge_echo_is_never_sniffed_as_html(desk):
    answer = desk.client.http.get("/webhooks/meta?hub.mode=subscribe&hub.verify_token="
                                  f"{TEST_SECRETS['META_VERIFY_TOKEN']}&hub.challenge=%3Cscript%3E1%3C/script%3E")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_an_id_in_the_path_longer_than_any_the_desk_makes_is_a_404_before_any_key(desk):
    from chalicelib.auth import mint

    headers = {"Authorization": f"Bearer {mint('sam', 'admin', TEST_SECRETS['LOCAL_JWT_SECRET'])}",
               "Content-Type": "application/json"}
    long = "a" * 2000  # DynamoDB refuses a sort key over 1 KB with a ValidationException (a 500)
    for method, path in (("get", f"/api/tickets/{long}"), ("get", f"/api/customers/{long}"),
                         ("post", f"/api/tickets/{long}/notes"), ("get", f"/api/rules/{long}")):
        answer = getattr(desk.client.http, method)(path, headers=headers, body=b'{"text": "x"}')
        assert answer.status_code == 404, (path[:30], answer.body)
