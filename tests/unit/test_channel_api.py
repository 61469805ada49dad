"""Generic API channel: X-Signature-256 over raw bytes, one message or a batch, clear errors."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.channels.api import webhook as api
from chalicelib.errors import InvalidSignature, UnknownPayload
from chalicelib.models import Author, Visibility
from infra.local import payloads

SECRET = "test-api-channel-secret"


def body_of(payload) -> bytes:
    return payloads.encode(payload)


# --- signature -----------------------------------------------------------------------------

def test_signature_over_the_raw_body_verifies():
    # Given a body signed by the sending system
    body = body_of(payloads.api_body("e1", "c1", "Chlo\u00e9", "Bonjour"))
    # When verified / Then no error is raised
    api.verify(body, payloads.sign_api(body, SECRET)["X-Signature-256"], SECRET)


def test_bad_signature_is_rejected():
    # Given a body signed with another secret
    body = body_of(payloads.api_body("e1", "c1", "Chlo\u00e9", "Bonjour"))
    # When verified / Then it is refused
    with pytest.raises(InvalidSignature):
        api.verify(body, payloads.sign_api(body, "wrong")["X-Signature-256"], SECRET)


@pytest.mark.parametrize("header", [None, ""])
def test_missing_signature_is_rejected(header):
    # Given no X-Signature-256 / When verified / Then it is refused
    with pytest.raises(InvalidSignature):
        api.verify(b"{}", header, SECRET)


def test_reserialised_body_does_not_verify():
    # Given raw bytes with \u escapes and their signature
    body = body_of(payloads.api_body("e1", "c1", "Chlo\u00e9", "Gr\u00fc\u00dfe"))
    assert b"\\u00e9" in body
    header = payloads.sign_api(body, SECRET)["X-Signature-256"]
    # When re-serialised / Then the signature does not match
    with pytest.raises(InvalidSignature):
        api.verify(json.dumps(json.loads(body), ensure_ascii=False).encode(), header, SECRET)


# --- parsing -------------------------------------------------------------------------------

def test_single_message_is_normalised():
    # Given a message with a handle, a thread, a timezone offset and an extra field
    payload = payloads.api_body("ord-77", "cust-9", "Chlo\u00e9 Martin", "Where is my parcel?",
                                thread_id="case-5", created_at="2024-06-01T12:00:00+02:00",
                                handle="chloe", channel_id="shop")
    payload["extra"] = {"ignored": True}
    # When parsed
    [mention] = api.parse(payload).mentions
    # Then every field is normalised, time in UTC
    assert (mention.platform, mention.kind, mention.brand_account_id) == ("api", "message", "shop")
    assert mention.external_id == "ord-77"
    assert mention.conversation_id == "case-5"
    assert mention.author == Author(id="cust-9", name="Chlo\u00e9 Martin", handle="chloe")
    assert mention.text == "Where is my parcel?"
    assert mention.visibility == Visibility.PRIVATE
    assert mention.created_at == datetime(2024, 6, 1, 10, 0, tzinfo=timezone.utc)
    assert mention.created_at.utcoffset() == timedelta(0)


def test_defaults_channel_conversation_and_time():
    # Given the minimal body
    before = datetime.now(timezone.utc)
    [mention] = api.parse(payloads.api_body("e1", "c1", "Ana", "hi")).mentions
    after = datetime.now(timezone.utc)
    # When parsed / Then the defaults apply
    assert mention.brand_account_id == "default"
    assert mention.conversation_id == "author:c1"
    assert before <= mention.created_at <= after


def test_naive_created_at_is_taken_as_utc():
    # Given a timestamp without offset
    [mention] = api.parse(payloads.api_body("e1", "c1", "Ana", "hi", created_at="2024-06-01T12:00:00")).mentions
    # When parsed / Then it is read as UTC
    assert mention.created_at == datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)


def test_batch_of_messages():
    # Given a JSON list of two messages from different authors
    batch = [payloads.api_body("e1", "c1", "Ana", "one"), payloads.api_body("e2", "c2", "Bo", "two")]
    # When parsed
    result = api.parse(batch)
    # Then both are mentions, each in its author's conversation
    assert [(m.external_id, m.conversation_id) for m in result.mentions] == [("e1", "author:c1"), ("e2", "author:c2")]


def test_numeric_ids_are_accepted_as_strings():
    # Given ids sent as JSON numbers
    [mention] = api.parse({"external_id": 42, "author": {"id": 7, "name": "Ana"}, "text": "hi"}).mentions
    # When parsed / Then they are strings
    assert (mention.external_id, mention.author.id) == ("42", "7")


def test_missing_fields_are_listed_in_the_reason():
    # Given a body without text and without author.name
    payload = {"external_id": "e1", "author": {"id": "c1"}}
    # When parsed / Then UnknownPayload names both fields
    with pytest.raises(UnknownPayload) as caught:
        api.parse(payload)
    assert "author.name" in caught.value.reason and "text" in caught.value.reason


def test_bad_item_in_a_batch_is_located():
    # Given a batch whose second item lacks external_id
    batch = [payloads.api_body("e1", "c1", "Ana", "one"), {"author": {"id": "c2", "name": "Bo"}, "text": "x"}]
    # When parsed
    result = api.parse(batch)
    # Then the first is a mention and the reason for refusing the second points at it
    assert [m.external_id for m in result.mentions] == ["e1"]
    [reason] = result.rejected
    assert "[1].external_id" in reason


def test_non_object_body_is_unknown():
    # Given a JSON string instead of an object / When parsed / Then it is quarantined
    with pytest.raises(UnknownPayload):
        api.parse("hello")
