"""Meta adapter: hub challenge, X-Hub-Signature-256, Page feed, Messenger, Instagram, WhatsApp."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from chalicelib.channels.meta import webhook as meta
from chalicelib.errors import InvalidSignature
from chalicelib.models import Attachment, Author, Visibility
from infra.local import payloads
from tests.unit.parsing import meta_parse, refused

SECRET = "test-meta-app-secret"
VERIFY_TOKEN = "test-meta-verify-token"
PAGE = "106540352242922"
IG = "17841405822304914"
WA_PHONE = "106540352242922"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def raw_fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture(name: str) -> dict:
    return json.loads(raw_fixture(name))


def assert_utc(moment: datetime) -> None:
    assert moment.tzinfo is not None and moment.utcoffset().total_seconds() == 0


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def receipt_event(account_id: str, customer_id: str, timestamp_ms=None, **receipt) -> dict:
    """A `messaging[]` delivery or read receipt, as Meta sends it (payloads.py has no builder)."""
    event = {"sender": {"id": customer_id}, "recipient": {"id": account_id}, **receipt}
    if timestamp_ms is not None:
        event["timestamp"] = timestamp_ms
    return event


def parse_messaging(object: str, account_id: str, *events: dict):
    return meta_parse(payloads.meta_payload(object, [payloads.meta_entry(account_id, messaging=events)]))


# --- hub challenge -------------------------------------------------------------------------

def test_challenge_is_echoed_when_the_verify_token_matches():
    # Given Meta's subscription handshake with our verify token
    params = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    # When checked / Then the challenge is returned to be echoed as text/plain
    assert meta.verify_challenge(params, VERIFY_TOKEN) == "1158201444"


@pytest.mark.parametrize("params", [
    {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1158201444"},
    {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
    {"hub.mode": "subscribe", "hub.challenge": "1158201444"},
    {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN},
    {},
])
def test_challenge_is_refused_otherwise(params):
    # Given a wrong token, wrong mode or missing parameter / When checked / Then no challenge (403)
    assert meta.verify_challenge(params, VERIFY_TOKEN) is None


def test_challenge_is_refused_when_no_verify_token_is_configured():
    # Given an empty configured token and a request that sends an empty token too
    params = {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}
    # When checked / Then it is refused
    assert meta.verify_challenge(params, "") is None


# --- signature -----------------------------------------------------------------------------

def test_signature_over_the_raw_body_verifies():
    # Given Meta's raw bytes and X-Hub-Signature-256
    body = raw_fixture("meta_page_feed.json")
    header = payloads.sign_meta(body, SECRET)["X-Hub-Signature-256"]
    # When verified / Then no error is raised
    meta.verify(body, header, SECRET)


def test_bad_signature_is_rejected():
    # Given a signature made with another app secret
    body = raw_fixture("meta_page_feed.json")
    header = payloads.sign_meta(body, "other-app")["X-Hub-Signature-256"]
    # When verified / Then it is refused
    with pytest.raises(InvalidSignature):
        meta.verify(body, header, SECRET)


@pytest.mark.parametrize("header", [None, ""])
def test_missing_signature_is_rejected(header):
    # Given no X-Hub-Signature-256 header / When verified / Then it is refused
    with pytest.raises(InvalidSignature):
        meta.verify(raw_fixture("meta_page_feed.json"), header, SECRET)


def test_reserialised_body_does_not_verify():
    # Given Meta's raw bytes with \u escapes (an emoji, accents) and \/ escapes
    body = raw_fixture("meta_page_feed.json")
    assert b"\\ud83d\\ude20" in body and b"\\/" in body
    header = payloads.sign_meta(body, SECRET)["X-Hub-Signature-256"]
    # When the JSON is re-serialised
    reserialised = json.dumps(json.loads(body), ensure_ascii=False).encode("utf-8")
    # Then the signature no longer matches
    with pytest.raises(InvalidSignature):
        meta.verify(reserialised, header, SECRET)


# --- Facebook Page feed --------------------------------------------------------------------

def test_feed_comments_become_public_mentions():
    # Given two entries: a customer comment with a photo, a reaction, the page's own reply,
    # a second customer's reply and an edit
    result = meta_parse(fixture("meta_page_feed.json"))
    # When parsed
    first, second = result.mentions
    # Then the two new customer comments are mentions, the rest ignored
    assert result.ignored == 3
    assert first.platform == "facebook" and first.kind == "comment"
    assert first.brand_account_id == PAGE
    assert first.external_id == "824951223025827_1441937766445932"
    assert first.conversation_id == "106540352242922_824951223025827"
    assert first.reply_to_id == first.external_id
    assert first.in_reply_to_id == "106540352242922_824951223025827"
    assert first.author == Author(id="7185471304829421", name="Sof\u00eda Fern\u00e1ndez")
    assert first.text == "Mi pedido lleg\u00f3 sin el cargador \U0001f620 \u00bfa qui\u00e9n le escribo?"
    assert first.attachments == (
        Attachment(type="image", url="https://scontent.xx.fbcdn.net/v/t39.30808-6/448812345_n.jpg"),
    )
    assert first.visibility == Visibility.PUBLIC
    assert first.created_at == datetime(2024, 6, 1, 13, 20, 30, tzinfo=timezone.utc)
    # And a reply to a comment stays in the post's conversation, pointing at its parent
    assert second.conversation_id == first.conversation_id
    assert second.in_reply_to_id == first.external_id


def test_page_own_comment_is_ignored():
    # Given only a comment written by the page itself
    change = payloads.fb_comment_change(PAGE, "555", "555_1", {"id": PAGE, "name": "Acme"}, "Thanks!")
    payload = payloads.meta_payload("page", [payloads.meta_entry(PAGE, changes=[change])])
    # When parsed / Then it is ignored
    result = meta_parse(payload)
    assert result.mentions == [] and result.ignored == 1


# --- Messenger -----------------------------------------------------------------------------

def test_messenger_messages_and_postbacks_become_private_mentions():
    # Given messages, an image, an echo, a delivery, a read and a postback over two entries
    result = meta_parse(fixture("meta_messenger.json"))
    # When parsed
    text, image, postback = result.mentions
    # Then the customer's messages are mentions; the echo is ignored; delivery and read are statuses
    assert result.ignored == 1
    assert [(s.status, s.external_id) for s in result.statuses] == [
        ("delivered", "m_CI7Jb4Ws9vwyPGjZhAAMl0oLGO_SRrb7lfEM60RpMClUflhkrszsOxM0oc8CE0hrnynsNR_7eiZKdw9K5tDP2R"),
        ("read", None),
    ]
    assert text.kind == "message" and text.visibility == Visibility.PRIVATE
    assert text.brand_account_id == PAGE
    assert text.conversation_id == text.reply_to_id == text.author.id == "6912345678901234"
    assert text.text == "Hi, where is my refund? Order #4411"
    assert text.created_at == datetime(2024, 6, 1, 13, 53, 19, 876000, tzinfo=timezone.utc)
    assert image.text == ""
    assert image.attachments[0].type == "image"
    assert image.attachments[0].url.startswith("https://scontent.xx.fbcdn.net/")
    assert postback.text == "Talk to a human" and postback.external_id.startswith("m_DJ8Kc5")


def test_messenger_echo_of_the_brand_is_ignored():
    # Given only the echo of a message the page sent
    event = payloads.messenger_event(PAGE, "6912345678901234", "m_echo", text="We're on it", is_echo=True)
    payload = payloads.meta_payload("page", [payloads.meta_entry(PAGE, messaging=[event])])
    # When parsed / Then it is not a mention
    result = meta_parse(payload)
    assert result.mentions == [] and result.ignored == 1


def test_messenger_delivery_becomes_one_status_per_mid():
    # Given a delivery receipt naming two of the page's messages
    event = receipt_event(PAGE, "6912345678901234", 1717250080000,
                          delivery={"mids": ["m_out1", "m_out2"], "watermark": 1717250060000})
    # When parsed
    result = parse_messaging("page", PAGE, event)
    # Then each message delivered is a status, none a mention, nothing ignored
    assert (result.mentions, result.ignored) == ([], 0)
    first, second = result.statuses
    assert (first.platform, first.brand_account_id, first.status) == ("facebook", PAGE, "delivered")
    assert (first.external_id, second.external_id) == ("m_out1", "m_out2")
    assert first.recipient_id == "6912345678901234"
    assert first.timestamp == utc(2024, 6, 1, 13, 54, 40)
    assert first.watermark == second.watermark == utc(2024, 6, 1, 13, 54, 20)
    assert first.callback_data is None


@pytest.mark.parametrize("delivery", [{"watermark": 1717250060000}, {"mids": [], "watermark": 1717250060000}])
def test_messenger_delivery_without_mids_is_one_status_by_watermark(delivery):
    # Given a delivery from an older client that names no message
    event = receipt_event(PAGE, "6912345678901234", 1717250080000, delivery=delivery)
    # When parsed
    [status] = parse_messaging("page", PAGE, event).statuses
    # Then one status says everything up to the watermark was delivered
    assert (status.status, status.external_id) == ("delivered", None)
    assert status.watermark == utc(2024, 6, 1, 13, 54, 20)
    assert status.recipient_id == "6912345678901234"


def test_messenger_read_becomes_a_status_by_watermark():
    # Given a read receipt
    event = receipt_event(PAGE, "6912345678901234", 1717250080123, read={"watermark": 1717250060000})
    # When parsed
    result = parse_messaging("page", PAGE, event)
    # Then it is a read status naming no message, up to the watermark
    [status] = result.statuses
    assert (result.mentions, result.ignored) == ([], 0)
    assert (status.platform, status.brand_account_id, status.status) == ("facebook", PAGE, "read")
    assert (status.external_id, status.recipient_id) == (None, "6912345678901234")
    assert status.timestamp == utc(2024, 6, 1, 13, 54, 40, 123000)
    assert status.watermark == utc(2024, 6, 1, 13, 54, 20)


def test_a_receipt_without_its_own_timestamp_is_timed_by_its_watermark():
    # Given a delivery shaped like Meta's documented example (no event timestamp)
    event = receipt_event(PAGE, "6912345678901234", delivery={"mids": ["m_out1"], "watermark": 1717250060000})
    # When parsed
    [status] = parse_messaging("page", PAGE, event).statuses
    # Then its time is the watermark, so a retry makes the same status
    assert status.timestamp == status.watermark == utc(2024, 6, 1, 13, 54, 20)


def test_messenger_echo_reaction_and_brand_receipt_stay_ignored_next_to_receipts():
    # Given an echo, a reaction, a read sent by the page itself, and the customer's delivery
    echo = payloads.messenger_event(PAGE, "6912345678901234", "m_echo", text="We're on it", is_echo=True)
    reaction = receipt_event(PAGE, "6912345678901234", 1717250070000,
                             reaction={"mid": "m_echo", "action": "react", "reaction": "love"})
    brand_read = receipt_event("6912345678901234", PAGE, 1717250070000, read={"watermark": 1717250060000})
    delivery = receipt_event(PAGE, "6912345678901234", 1717250080000,
                             delivery={"mids": ["m_echo"], "watermark": 1717250060000})
    # When parsed
    result = parse_messaging("page", PAGE, echo, reaction, brand_read, delivery)
    # Then only the customer's delivery is a status; nothing is a mention
    assert result.mentions == [] and result.ignored == 3
    assert [(s.external_id, s.recipient_id) for s in result.statuses] == [("m_echo", "6912345678901234")]


def test_batched_entries_with_comments_and_messages_all_become_mentions():
    # Given one POST with two entries: two comments in one, two messages in the other
    comments = [
        payloads.fb_comment_change(PAGE, "900", f"900_{n}", {"id": f"u{n}", "name": f"User {n}"}, f"c{n}")
        for n in (1, 2)
    ]
    messages = [payloads.messenger_event(PAGE, f"psid{n}", f"m_{n}", text=f"m{n}") for n in (1, 2)]
    payload = payloads.meta_payload("page", [
        payloads.meta_entry(PAGE, changes=comments), payloads.meta_entry(PAGE, messaging=messages),
    ])
    # When the encoded body is verified and parsed
    body = payloads.encode(payload)
    meta.verify(body, payloads.sign_meta(body, SECRET)["X-Hub-Signature-256"], SECRET)
    result = meta_parse(json.loads(body))
    # Then four mentions come out in order
    assert [(m.kind, m.text) for m in result.mentions] == [
        ("comment", "c1"), ("comment", "c2"), ("message", "m1"), ("message", "m2"),
    ]
    assert all(m.created_at.tzinfo is not None for m in result.mentions)


# --- Instagram -----------------------------------------------------------------------------

def test_instagram_comments_mentions_and_dms():
    # Given a comment, the brand's own reply, a mention, a DM with an image and an echo
    result = meta_parse(fixture("meta_instagram.json"))
    # When parsed
    comment, mention, dm = result.mentions
    # Then the brand's own comment and the echo are ignored
    assert result.ignored == 2
    assert (comment.platform, comment.kind, comment.brand_account_id) == ("instagram", "comment", IG)
    assert comment.external_id == comment.reply_to_id == "17865799348089039"
    assert comment.conversation_id == "18023345989012587"
    assert comment.author == Author(id="1789473212453210", handle="lena.k")
    assert comment.text == "@acme.support the zipper broke after one week \U0001f61e"
    assert comment.visibility == Visibility.PUBLIC
    assert_utc(comment.created_at)
    # And the mention carries ids only: text may be empty
    assert mention.kind == "mention"
    assert mention.external_id == "17858893269000001"
    assert mention.conversation_id == "17920238422030506"
    assert mention.text == ""
    # And the DM is private, grouped by the sender
    assert (dm.kind, dm.visibility, dm.conversation_id) == ("message", Visibility.PRIVATE, "1789473212453210")
    assert dm.attachments[0].url.startswith("https://lookaside.fbsbx.com/ig_messaging_cdn/")
    assert dm.created_at == datetime(2024, 6, 1, 14, 11, 59, tzinfo=timezone.utc)


def test_instagram_read_names_the_message_read():
    # Given an Instagram read receipt naming one of the brand's messages
    event = receipt_event(IG, "1789473212453210", 1717251200000, read={"mid": "aWdfZAG1faXRlbTox"})
    # When parsed
    result = parse_messaging("instagram", IG, event)
    # Then it is a read status of that message, with no watermark
    [status] = result.statuses
    assert (result.mentions, result.ignored) == ([], 0)
    assert (status.platform, status.brand_account_id) == ("instagram", IG)
    assert (status.status, status.external_id, status.watermark) == ("read", "aWdfZAG1faXRlbTox", None)
    assert status.recipient_id == "1789473212453210"
    assert status.timestamp == utc(2024, 6, 1, 14, 13, 20)


def test_instagram_read_by_watermark_is_like_messengers():
    # Given an Instagram read receipt carrying a watermark instead of a mid
    event = receipt_event(IG, "1789473212453210", 1717251200000, read={"watermark": 1717251190000})
    # When parsed
    [status] = parse_messaging("instagram", IG, event).statuses
    # Then it names no message and reads up to the watermark
    assert (status.platform, status.status, status.external_id) == ("instagram", "read", None)
    assert status.watermark == utc(2024, 6, 1, 14, 13, 10)


def test_instagram_caption_mention_uses_the_media_id():
    # Given a mention in a caption (no comment_id)
    payload = payloads.meta_payload("instagram", [
        payloads.meta_entry(IG, changes=[payloads.ig_mention_change("1790000000000001")]),
    ])
    # When parsed
    [mention] = meta_parse(payload).mentions
    # Then the media id identifies it
    assert mention.external_id == mention.conversation_id == "1790000000000001"


def test_instagram_builders_round_trip():
    # Given builder-made IG comment (a reply), DM and echo in one entry
    entry = payloads.meta_entry(
        IG,
        changes=[payloads.ig_comment_change("c1", "m1", {"id": "u1", "username": "ana"}, "hi", parent_id="c0")],
        messaging=[payloads.ig_dm_event(IG, "u1", "mid1", text="dm"),
                   payloads.ig_dm_event(IG, "u1", "mid2", text="echo", is_echo=True)],
    )
    # When parsed
    result = meta_parse(payloads.meta_payload("instagram", [entry]))
    # Then the comment and the DM come out, the echo is ignored
    assert [(m.kind, m.in_reply_to_id) for m in result.mentions] == [("comment", "c0"), ("message", None)]
    assert result.ignored == 1


# --- WhatsApp ------------------------------------------------------------------------------

def test_whatsapp_messages_become_mentions():
    # Given two entries: text, captioned image (a reply), reaction, location, button reply,
    # plus a phone_number_quality_update change
    result = meta_parse(fixture("whatsapp_messages.json"))
    # When parsed
    text, image, location, button = result.mentions
    # Then the reaction and the quality update are ignored
    assert result.ignored == 2
    assert (text.platform, text.kind, text.brand_account_id) == ("whatsapp", "message", WA_PHONE)
    assert text.author == Author(id="16505551234", name="Sheena Nelson")
    assert text.conversation_id == "16505551234"
    assert text.reply_to_id == text.external_id == "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
    assert text.text == "Does it come in another color?"
    assert text.visibility == Visibility.PRIVATE
    assert text.created_at == datetime(2025, 6, 8, 20, 59, 43, tzinfo=timezone.utc)
    assert image.author == Author(id="919876543210", name="Anil Kumar")
    assert image.text == "This is what arrived \u2013 wrong size"
    assert image.attachments == (Attachment(type="image", url="whatsapp-media:1003383421387256"),)
    assert image.in_reply_to_id == "wamid.HBgLMTU1NTA3ODM4ODEVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"
    assert location.attachments == (Attachment(type="location", url="geo:37.483872,-122.148358"),)
    assert location.text.startswith("Philz Coffee")
    assert button.text == "Talk to an agent"


def test_whatsapp_statuses_become_delivery_statuses():
    # Given sent, delivered and failed statuses in two changes
    result = meta_parse(fixture("whatsapp_statuses.json"))
    # When parsed
    sent, delivered, failed = result.statuses
    # Then each is a DeliveryStatus of our outbound message, and none is a mention
    assert result.mentions == []
    assert (sent.status, delivered.status, failed.status) == ("sent", "delivered", "failed")
    assert sent.platform == "whatsapp" and sent.brand_account_id == WA_PHONE
    assert sent.external_id == "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"
    assert sent.recipient_id == "16505551234"
    assert sent.timestamp == datetime(2025, 6, 18, 16, 22, 53, tzinfo=timezone.utc)
    assert failed.errors[0]["code"] == 131047


def test_whatsapp_status_carries_our_callback_data():
    # Given a delivered status of a message we sent with biz_opaque_callback_data, and one without
    tagged = payloads.wa_status_change(WA_PHONE, "wamid.OUT1", "delivered", "4915112345678")
    tagged["value"]["statuses"][0]["biz_opaque_callback_data"] = "outbound:01J2ZQ4"
    plain = payloads.wa_status_change(WA_PHONE, "wamid.OUT2", "read", "4915112345678")
    payload = payloads.meta_payload("whatsapp_business_account",
                                    [payloads.meta_entry("waba", changes=[tagged, plain])])
    # When parsed
    first, second = meta_parse(payload).statuses
    # Then the callback data comes back on the status that had it
    assert (first.external_id, first.callback_data) == ("wamid.OUT1", "outbound:01J2ZQ4")
    assert (second.external_id, second.callback_data) == ("wamid.OUT2", None)
    # and neither names a reply of ours (not our reference)
    assert first.ours is None and second.ours is None


def test_whatsapp_status_names_our_reply_from_the_reference_send_wrote():
    # Given statuses echoing what our sender wrote, and look-alikes that are not ours
    from chalicelib.aggregates.message import Message
    from chalicelib.channels.whatsapp import reference, send

    reply = Message.from_item({"id": "m-9", "ticket_id": "t-7", "direction": "out", "created_at": "2026-01-01"})
    echoed = [send.callback_data(reply), "desk:t-7", "desk:t-7:m-9:x", "desk::m-9", "other:t-7:m-9"]
    changes = []
    for i, data in enumerate(echoed):
        change = payloads.wa_status_change(WA_PHONE, f"wamid.OUT{i}", "delivered", "4915112345678")
        change["value"]["statuses"][0]["biz_opaque_callback_data"] = data
        changes.append(change)
    payload = payloads.meta_payload("whatsapp_business_account", [payloads.meta_entry("waba", changes=changes)])
    # When parsed
    statuses = meta_parse(payload).statuses
    # Then only ours names the reply, as (ticket id, message id), in the generic field receipts read
    assert [s.ours for s in statuses] == [("t-7", "m-9"), None, None, None, None]
    assert reference.decode(reference.encode("t-7", "m-9")) == ("t-7", "m-9")


def test_whatsapp_builder_media_without_caption():
    # Given a document message and a status in one POST built by the traffic replay
    payload = payloads.meta_payload("whatsapp_business_account", [payloads.meta_entry("waba", changes=[
        payloads.wa_message_change(WA_PHONE, "4915112345678", "Lena", "wamid.A", type="document", media_id="777"),
        payloads.wa_status_change(WA_PHONE, "wamid.OUT", "read", "4915112345678"),
    ])])
    # When parsed
    result = meta_parse(payload)
    # Then the document is an attachment with empty text, and the status is reported
    [doc] = result.mentions
    assert (doc.text, doc.attachments) == ("", (Attachment(type="document", url="whatsapp-media:777"),))
    assert [(s.external_id, s.status) for s in result.statuses] == [("wamid.OUT", "read")]


# --- unknown shapes ------------------------------------------------------------------------

@pytest.mark.parametrize("payload, reason", [
    ({"object": "user", "entry": []}, "unknown object"),
    ({"object": "page"}, "no entry list"),
    ({"object": "page", "entry": {"id": "1"}}, "no entry list"),
    ({"object": "page", "entry": [{"id": PAGE, "time": 1}]}, "neither changes nor messaging"),
    (["not", "an", "object"], "not a JSON object"),
])
def test_unknown_shapes_raise_unknown_payload(payload, reason):
    # Given a signed body of a shape we do not know / When parsed / Then it is quarantined
    assert reason in " ".join(refused(meta_parse, payload))


def test_whatsapp_message_without_id_raises_unknown_payload():
    # Given a WhatsApp message that lost its id, next to a valid one
    change = payloads.wa_message_change(WA_PHONE, "16505551234", "Sheena", "wamid.OK", text="hi",
                                        extra_messages=[{"from": "1", "timestamp": "1", "type": "text"}])
    payload = payloads.meta_payload("whatsapp_business_account", [payloads.meta_entry("waba", changes=[change])])
    # When parsed / Then the event is refused, naming the field (the caller quarantines the body)
    assert "id" in " ".join(refused(meta_parse, payload))


def test_feed_comment_without_comment_id_raises_unknown_payload():
    # Given a comment add whose comment_id is missing
    change = payloads.fb_comment_change(PAGE, "900", "900_1", {"id": "u1", "name": "U"}, "hi")
    del change["value"]["comment_id"]
    payload = payloads.meta_payload("page", [payloads.meta_entry(PAGE, changes=[change])])
    # When parsed / Then it is quarantined
    assert "comment_id" in " ".join(refused(meta_parse, payload))


def test_messenger_message_without_mid_raises_unknown_payload():
    # Given a message event without mid
    event = payloads.messenger_event(PAGE, "psid", "m_1", text="hi")
    del event["message"]["mid"]
    payload = payloads.meta_payload("page", [payloads.meta_entry(PAGE, messaging=[event])])
    # When parsed / Then it is quarantined
    assert "mid" in " ".join(refused(meta_parse, payload))


@pytest.mark.parametrize("receipt", [
    {"delivery": {"mids": ["m_1"], "watermark": "soon"}},
    {"delivery": {"mids": ["m_1"], "watermark": True}},
    {"delivery": {"mids": ["m_1"]}},
    {"delivery": {"mids": "m_1", "watermark": 1717250060000}},
    {"delivery": None},
    {"read": {"watermark": "1717250060000"}},
    {"read": {}},
    {"read": "yes"},
    {"read": {"watermark": 1717250060000}, "timestamp": "yesterday"},
])
def test_malformed_receipt_raises_unknown_payload(receipt):
    # Given a delivery or read receipt we know but cannot validate
    event = {**receipt_event(PAGE, "6912345678901234", 1717250080000), **receipt}
    # When parsed / Then it is refused, not dropped (the caller quarantines the body)
    assert "messaging receipt" in " ".join(refused(lambda e: parse_messaging("page", PAGE, e), event))


# --- visitors' posts and Page mentions (issue 12, point 6) ----------------------------------

def test_a_visitors_post_on_the_page_is_a_public_post_mention_and_the_pages_own_is_not():
    # Given a feed item=post change from a visitor, and one from the Page itself
    visitor = payloads.fb_post_change(PAGE, "777", {"id": "55", "name": "Maya"}, "Your store closed early!",
                                      photo="https://scontent.example/p.jpg")
    own = payloads.fb_post_change(PAGE, "778", {"id": PAGE, "name": "Nordlight"}, "New opening hours")
    # When parsed
    result = meta_parse(payloads.meta_payload("page", [payloads.meta_entry(PAGE, changes=[visitor, own])]))
    # Then the visitor's post is a mention answered under the post; the Page's own is ignored
    [post] = result.mentions
    assert (post.kind, post.visibility, post.external_id, post.conversation_id, post.reply_to_id) == (
        "post", Visibility.PUBLIC, f"{PAGE}_777", f"{PAGE}_777", f"{PAGE}_777")
    assert (post.author.id, post.author.name, post.text) == ("55", "Maya", "Your store closed early!")
    assert post.attachments == (Attachment(type="image", url="https://scontent.example/p.jpg"),)
    assert result.ignored == 1


def test_a_page_mention_in_a_post_or_a_comment_is_a_mention_with_an_author_to_look_up():
    changes = [payloads.fb_mention_change("99_123"), payloads.fb_mention_change("99_124", "99_124_5"),
               {"field": "mention", "value": {"post_id": "99_125", "item": "post", "verb": "remove"}}]
    result = meta_parse(payloads.meta_payload("page", [payloads.meta_entry(PAGE, changes=changes)]))
    in_post, in_comment = result.mentions
    assert (in_post.kind, in_post.external_id, in_post.conversation_id) == ("mention", "99_123", "99_123")
    assert (in_comment.external_id, in_comment.conversation_id) == ("99_124_5", "99_124")
    # the webhook names no author: a placeholder unique to the mention until it is looked up
    assert in_post.author.id == "unknown:99_123" and in_comment.author.id == "unknown:99_124_5"
    assert result.ignored == 1  # the removal


def test_a_page_mention_without_a_post_id_is_refused_for_quarantine():
    change = {"field": "mention", "value": {"item": "post", "verb": "add"}}
    assert "post_id" in " ".join(refused(meta_parse, payloads.meta_payload("page", [payloads.meta_entry(
        PAGE, changes=[change])])))


def test_the_envelope_reads_the_products_it_is_handed_and_names_none_itself():
    # Given a Page delivery, and the parts ingest hands in (each product's `object` and module)
    payload = payloads.meta_payload("page", [payloads.meta_entry(PAGE, messaging=[
        payloads.messenger_event(PAGE, "6912345678901234", "m_1", text="Hi")])])
    # When the same body is read with the parts the registry holds, with none, and as another product
    registered = meta_parse(payload)
    threads = dict(payload, object="threads")
    # Then only a product it was handed is read: a new Meta product is its descriptor's Part
    assert [m.external_id for m in registered.mentions] == ["m_1"]
    assert refused(lambda p: meta.parse(p, {}), payload) == ["meta: unknown object 'page'"]
    assert [m.platform for m in meta.parse(threads, {"threads": "chalicelib.channels.facebook.webhook"}).mentions] == [
        "facebook"]
