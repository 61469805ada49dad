"""X Account Activity adapter: CRC handshake, signature over raw bytes, tweet and DM parsing."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from chalicelib.channels.x import webhook as x
from chalicelib.errors import InvalidSignature, UnknownPayload
from chalicelib.models import Attachment, Author, Visibility
from infra.local import payloads
from tests.unit.parsing import refused

SECRET = "test-x-consumer-secret"
BRAND = "2244994945"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CUSTOMER = dict(id="6253282", name="J\u00fcrgen M\u00fcller", handle="jmueller", followers=15834, verified=True)


def raw_fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture(name: str) -> dict:
    return json.loads(raw_fixture(name))


# --- CRC handshake -------------------------------------------------------------------------

def test_crc_response_is_base64_hmac_of_the_token():
    # Given the crc_token X sends with GET /webhooks/x
    token = "9b4507b3-9040-4669-9ee2-4a8b1e2ae0bd"
    # When the desk answers the challenge
    answer = x.crc_response(token, SECRET)
    # Then it is sha256=base64(HMAC-SHA256(consumer secret, token))
    expected = base64.b64encode(hmac.new(SECRET.encode(), token.encode(), hashlib.sha256).digest())
    assert answer == {"response_token": "sha256=" + expected.decode()}


def test_crc_response_with_another_secret_does_not_match():
    # Given the same token answered with a wrong consumer secret
    token = "9b4507b3-9040-4669-9ee2-4a8b1e2ae0bd"
    # When both answers are computed
    right, wrong = x.crc_response(token, SECRET), x.crc_response(token, "not-the-secret")
    # Then X would reject the wrong one
    assert right["response_token"] != wrong["response_token"]


# --- signature -----------------------------------------------------------------------------

def test_signature_over_the_raw_body_verifies():
    # Given the raw bytes X posted and their signature
    body = raw_fixture("x_tweet_create.json")
    headers = payloads.sign_x(body, SECRET)
    # When verified / Then no error is raised
    x.verify(body, headers["x-twitter-webhooks-signature"], SECRET)


def test_bad_signature_is_rejected():
    # Given a body signed with another secret
    body = raw_fixture("x_tweet_create.json")
    header = payloads.sign_x(body, "someone-else")["x-twitter-webhooks-signature"]
    # When verified / Then it is refused
    with pytest.raises(InvalidSignature):
        x.verify(body, header, SECRET)


@pytest.mark.parametrize("header", [None, ""])
def test_missing_signature_is_rejected(header):
    # Given a request without x-twitter-webhooks-signature
    body = raw_fixture("x_tweet_create.json")
    # When verified / Then it is refused
    with pytest.raises(InvalidSignature):
        x.verify(body, header, SECRET)


def test_reserialised_body_does_not_verify():
    # Given X's raw bytes, which escape non-ASCII (\u00fc) and slashes (\/)
    body = raw_fixture("x_tweet_create.json")
    assert b"\\u00fc" in body and b"\\/" in body
    header = payloads.sign_x(body, SECRET)["x-twitter-webhooks-signature"]
    # When the body is parsed and serialised again, as a framework would
    reserialised = json.dumps(json.loads(body), ensure_ascii=False).encode("utf-8")
    # Then the original signature does not match the new bytes
    with pytest.raises(InvalidSignature):
        x.verify(reserialised, header, SECRET)


def test_builder_bytes_escape_like_x_and_verify():
    # Given a payload built and encoded by the local traffic replay
    body = payloads.encode(payloads.x_tweet_event(BRAND, "1001", CUSTOMER, "Gr\u00fc\u00dfe https://acme.example"))
    # When it is signed and verified
    x.verify(body, payloads.sign_x(body, SECRET)["x-twitter-webhooks-signature"], SECRET)
    # Then the bytes carry X-style escapes
    assert b"\\u00fc" in body and b"https:\\/\\/acme.example" in body


# --- tweets --------------------------------------------------------------------------------

def test_truncated_tweet_is_normalised_with_full_text_author_and_media():
    # Given the tweet_create_events fixture (a long tweet with a photo and a video)
    result = x.parse(fixture("x_tweet_create.json"))
    # When the first customer tweet is looked at
    mention = result.mentions[0]
    # Then every field is normalised
    assert mention.platform == "x" and mention.kind == "tweet"
    assert mention.brand_account_id == BRAND
    assert mention.external_id == "1050118621198921728"
    assert mention.reply_to_id == "1050118621198921728"
    assert mention.conversation_id == "1050118621198921728"  # not a reply: its own root
    assert mention.text.endswith("Gr\u00fc\u00dfe aus M\u00fcnchen https://t.co/x7lX3k2Rg0")
    assert "\u2026" not in mention.text
    assert mention.author == Author(id="6253282", name="J\u00fcrgen M\u00fcller", handle="jmueller",
                                    followers=15834, verified=True)
    assert mention.attachments == (
        Attachment(type="image", url="https://pbs.twimg.com/media/DpM5dD0VsAAQ8fW.jpg"),
        Attachment(type="video",
                   url="https://pbs.twimg.com/ext_tw_video_thumb/1050118613212553217/pu/img/Zx1.jpg"),
    )
    assert mention.visibility == Visibility.PUBLIC
    assert mention.created_at == datetime(2018, 10, 10, 20, 19, 24, tzinfo=timezone.utc)
    assert mention.created_at.utcoffset().total_seconds() == 0


def test_brand_own_tweets_and_retweets_are_ignored():
    # Given the fixture: 2 customer tweets, 1 brand reply, 1 plain retweet
    result = x.parse(fixture("x_tweet_create.json"))
    # When parsed / Then only the customer tweets are mentions, the other two are ignored
    assert [m.external_id for m in result.mentions] == ["1050118621198921728", "1050124127288365057"]
    assert all(m.author.id != BRAND for m in result.mentions)
    assert result.ignored == 2


def test_reply_tweet_groups_under_the_tweet_it_answers():
    # Given a customer reply to the brand's tweet
    result = x.parse(fixture("x_tweet_create.json"))
    # When the reply is looked at
    reply = result.mentions[1]
    # Then its conversation is the tweet replied to, and it is what we answer
    assert reply.conversation_id == "1050120042162733056"
    assert reply.in_reply_to_id == "1050120042162733056"
    assert reply.reply_to_id == "1050124127288365057"


def test_conversation_id_in_the_payload_wins():
    # Given a tweet that carries the thread root as conversation_id_str
    payload = payloads.x_tweet_event(BRAND, "3003", CUSTOMER, "still broken", in_reply_to="2002")
    payload["tweet_create_events"][0]["conversation_id_str"] = "1001"
    # When parsed
    mention = x.parse(payload).mentions[0]
    # Then the root is the conversation, the direct parent stays in in_reply_to_id
    assert (mention.conversation_id, mention.in_reply_to_id) == ("1001", "2002")


def test_created_at_falls_back_to_timestamp_ms():
    # Given a tweet without created_at but with timestamp_ms
    payload = payloads.x_tweet_event(BRAND, "4004", CUSTOMER, "hello")
    tweet = payload["tweet_create_events"][0]
    del tweet["created_at"]
    tweet["timestamp_ms"] = "1539202764123"
    # When parsed
    mention = x.parse(payload).mentions[0]
    # Then created_at comes from the epoch milliseconds, in UTC
    assert mention.created_at == datetime(2018, 10, 10, 20, 19, 24, 123000, tzinfo=timezone.utc)


# --- direct messages -----------------------------------------------------------------------

def test_direct_message_is_normalised_with_hydrated_sender():
    # Given the direct_message_events fixture (customer DM with a photo, brand's answer)
    result = x.parse(fixture("x_direct_messages.json"))
    # When parsed
    [dm] = result.mentions
    # Then the customer's DM is a private mention answered to the sender
    assert dm.kind == "dm" and dm.visibility == Visibility.PRIVATE
    assert dm.external_id == "1050132948837904388"
    assert dm.conversation_id == "dm:6253282"
    assert dm.reply_to_id == "6253282"
    assert dm.author == Author(id="6253282", name="J\u00fcrgen M\u00fcller", handle="jmueller",
                               followers=15834, verified=True)
    assert dm.text.startswith("Order #4411")
    assert dm.attachments[0].type == "image"
    assert dm.attachments[0].url.startswith("https://ton.twitter.com/1.1/ton/data/dm/")
    assert dm.created_at == datetime(2018, 10, 10, 21, 16, 20, 915000, tzinfo=timezone.utc)


def test_direct_message_sent_by_the_brand_is_ignored():
    # Given the fixture, whose second DM was sent by the brand account
    result = x.parse(fixture("x_direct_messages.json"))
    # When parsed / Then it is counted as ignored, never a mention
    assert result.ignored == 1
    assert all(m.author.id != BRAND for m in result.mentions)


def test_batched_tweets_and_dms_all_become_mentions():
    # Given one delivery with two tweets and two DMs from two customers
    other = dict(id="777", name="Ana", handle="ana", followers=10, verified=False)
    payload = payloads.x_batch(
        BRAND,
        tweets=[payloads.x_tweet("11", CUSTOMER, "one"), payloads.x_tweet("12", other, "two")],
        dms=[payloads.x_dm("21", CUSTOMER["id"], BRAND, "three"), payloads.x_dm("22", "777", BRAND, "four")],
        users=[CUSTOMER, other],
    )
    # When parsed
    result = x.parse(payload)
    # Then all four are mentions with the right kinds and authors
    assert [(m.kind, m.external_id, m.author.handle) for m in result.mentions] == [
        ("tweet", "11", "jmueller"), ("tweet", "12", "ana"), ("dm", "21", "jmueller"), ("dm", "22", "ana"),
    ]
    assert result.ignored == 0


def test_dm_without_hydrated_user_keeps_the_sender_id():
    # Given a DM whose sender is missing from `users`
    payload = payloads.x_batch(BRAND, dms=[payloads.x_dm("31", "888", BRAND, "hi")])
    # When parsed
    [dm] = x.parse(payload).mentions
    # Then the author is known by id only
    assert dm.author == Author(id="888")


# --- other events and unknown shapes -------------------------------------------------------

def test_other_account_activity_events_are_ignored():
    # Given likes, a follow and a typing indicator
    payload = {
        "for_user_id": BRAND,
        "favorite_events": [{"id": "a1", "favorited_status": {}, "user": {}}, {"id": "a2"}],
        "follow_events": [{"type": "follow", "source": {}, "target": {}}],
        "direct_message_indicate_typing_events": [{"created_timestamp": "1", "sender_id": "6253282"}],
    }
    # When parsed
    result = x.parse(payload)
    # Then nothing is a mention and each event is counted as ignored
    assert result.mentions == [] and result.ignored == 4


def test_non_message_dm_event_types_are_ignored():
    # Given a direct_message_events item that is not a message_create
    payload = {"for_user_id": BRAND, "direct_message_events": [{"type": "participants_join", "id": "9"}]}
    # When parsed / Then it is ignored
    assert x.parse(payload).ignored == 1


@pytest.mark.parametrize("payload", [
    {"tweet_create_events": []},                      # no for_user_id
    {"for_user_id": BRAND, "something_new": [{}]},    # none of the known keys
    [{"for_user_id": BRAND}],                          # not an object
])
def test_unknown_shapes_raise_unknown_payload(payload):
    # Given a signed body we cannot read / When parsed / Then it must be quarantined
    with pytest.raises(UnknownPayload) as caught:
        x.parse(payload)
    assert caught.value.reason.startswith("x:")


def test_tweet_without_id_raises_unknown_payload():
    # Given a tweet event that lost its id_str
    payload = payloads.x_tweet_event(BRAND, "5005", CUSTOMER, "hello")
    del payload["tweet_create_events"][0]["id_str"]
    # When parsed / Then the event is refused, naming the field (the caller quarantines the body)
    assert "id_str" in " ".join(refused(x.parse, payload))


def test_crc_without_a_configured_secret_is_refused():
    # Given no consumer secret in the environment / When a CRC arrives / Then it is refused
    with pytest.raises(InvalidSignature):
        x.crc_response("token-1234", "")
