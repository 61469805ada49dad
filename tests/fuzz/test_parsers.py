"""Property-based tests of every webhook parser (and the X poller's), seeded with real formats.

Invariants, for any mutation of a real body:
- the parser returns a ParseResult or raises UnknownPayload: no other exception escapes;
- nothing disappears: every event of the body's batch lists is a mention, a status, counted
  as ignored or rejected with a reason (the caller quarantines the raw body for rejections);
- every mention it makes has a platform id, a believable time, and survives the queue trip.
"""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, Callable

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.channels.api import webhook as api
from chalicelib.channels.email import inbound as email
from chalicelib.channels.x import v2 as x_api
from chalicelib.channels.x import webhook as x
from chalicelib.errors import UnknownPayload
from chalicelib.models import EARLIEST, FUTURE_SKEW, MentionEnvelope, ParseResult, StatusEnvelope, utcnow
from infra.local import payloads as p
from tests.fuzz.strategies import HOSTILE, ODD_STRINGS, fixture, mutated
from tests.unit.parsing import meta_parse

BRAND = "1500000000000000001"
CUSTOMER = {"id": "2244994945", "name": "Aino", "handle": "ainok", "followers": 12, "verified": False}

X_SEEDS = [fixture("x_tweet_create.json"), fixture("x_direct_messages.json"),
           fixture("xaa_post_mention_create.json"), fixture("xaa_dm_received.json"),
           p.x_batch(BRAND, tweets=[p.x_tweet("1850000000000000001", CUSTOMER, "help " * 40, media=["m1"])],
                     dms=[p.x_dm("dm1", CUSTOMER["id"], BRAND, "hi", media="m2")], users=[CUSTOMER])]
META_SEEDS = [fixture(name) for name in ("meta_instagram.json", "meta_messenger.json", "meta_page_feed.json",
                                         "whatsapp_messages.json", "whatsapp_statuses.json")]
META_SEEDS.append(p.meta_payload("page", [p.meta_entry("104000000000001", changes=[
    p.fb_post_change("104000000000001", "777", {"id": "55", "name": "Maya"}, "Closed early!", photo="https://e.x/p.jpg"),
    p.fb_mention_change("99_123"), p.fb_mention_change("99_124", "99_124_5")])]))
API_SEEDS = [p.api_body("e1", "c1", "Ana", "my card was charged twice", thread_id="t1",
                        created_at="2026-11-01T10:00:00+02:00", handle="ana", channel_id="web"),
             [p.api_body(f"e{i}", f"c{i}", "Ana", "hello") for i in range(3)]]
SES_SEED = fixture("ses_notification.json")
X_V2_SEED = fixture("x_v2_mentions.json")


def check(parse: Callable[[Any], ParseResult], payload: Any, events: int) -> None:
    try:
        result = parse(payload)
    except UnknownPayload as err:
        assert err.reason
        return
    assert isinstance(result, ParseResult)
    accounted = len(result.mentions) + len(result.statuses) + len(result.answers) + result.ignored + len(result.rejected)
    assert accounted >= events, (accounted, events, result)
    now = utcnow()
    for mention in result.mentions:
        _believable(mention)
        trip = MentionEnvelope(mention=mention, received_at=now).model_dump_json()
        assert MentionEnvelope.model_validate_json(trip).mention == mention
    for status in result.statuses:
        trip = StatusEnvelope(status=status, received_at=now).model_dump_json()
        assert StatusEnvelope.model_validate_json(trip).status == status


def _believable(mention) -> None:
    assert mention.external_id.strip() and mention.conversation_id.strip() and mention.author.id.strip()
    assert EARLIEST <= mention.created_at <= utcnow() + FUTURE_SKEW + timedelta(seconds=5)


def _lists(payload: Any, *keys: str) -> int:
    if not isinstance(payload, dict):
        return 0
    return sum(len(payload[k]) for k in keys if isinstance(payload.get(k), list))


def x_events(payload: Any) -> int:
    data = payload.get("data") if isinstance(payload, dict) else None
    if isinstance(data, dict) and "event_type" in data:  # an X Activity API delivery: one event
        dms = data.get("payload", {}).get("direct_message_events") if isinstance(data.get("payload"), dict) else None
        return len(dms) if data.get("event_type") == "dm.received" and isinstance(dms, list) and dms else 1
    return _lists(payload, "tweet_create_events", "direct_message_events")


def meta_events(payload: Any) -> int:
    entries = payload.get("entry") if isinstance(payload, dict) else None
    if not isinstance(entries, list):
        return 0
    return sum(_lists(e, "changes", "messaging") if _readable_entry(e) else 1 for e in entries)


def _readable_entry(entry: Any) -> bool:
    """An entry the parser reads event by event; any other is rejected whole (one reason)."""
    if not isinstance(entry, dict) or isinstance(entry.get("id"), bool):
        return False
    if not str(entry.get("id") or "").strip() or not isinstance(entry.get("id"), (str, int)):
        return False
    return all(isinstance(entry.get(k, []), list) for k in ("changes", "messaging"))


def api_events(payload: Any) -> int:
    return len(payload) if isinstance(payload, list) else 1


@given(st.sampled_from(X_SEEDS).flatmap(mutated))
def test_x_account_activity_parser(payload):
    check(x.parse, payload, x_events(payload))


@given(st.sampled_from(META_SEEDS).flatmap(mutated))
def test_meta_parser(payload):
    check(meta_parse, payload, meta_events(payload))


@given(st.sampled_from(API_SEEDS).flatmap(mutated))
def test_api_channel_parser(payload):
    check(api.parse, payload, api_events(payload))


@st.composite
def ses_messages(draw) -> str:
    """An SES notification whose JSON and whose raw MIME are both mutated."""
    notification = draw(mutated(SES_SEED))
    if isinstance(notification, dict) and isinstance(notification.get("content"), str):
        lines = notification["content"].split("\r\n") if "\r\n" in notification["content"] else \
            notification["content"].split("\n")
        for _ in range(draw(st.integers(min_value=0, max_value=4))):
            at = draw(st.integers(min_value=0, max_value=max(len(lines) - 1, 0)))
            header = draw(st.sampled_from(["Date", "From", "To", "Message-ID", "References", "In-Reply-To",
                                           "Subject", "Content-Type", "Content-Transfer-Encoding"]))
            odd = draw(st.one_of(ODD_STRINGS, st.text(max_size=60)))
            lines[at:at] = [f"{header}: {odd}"] if draw(st.booleans()) else []
            if lines and draw(st.booleans()):
                del lines[at:at + 1]
        notification["content"] = "\r\n".join(lines)
    return json.dumps(notification, ensure_ascii=draw(st.booleans()))


@given(ses_messages())
def test_email_parser(message):
    check(email.parse_sns, message, 1)


@given(mutated(X_V2_SEED), st.one_of(st.just(BRAND), HOSTILE.map(str)))
def test_x_poller_parser(body, brand):
    # The poller reads X's answer to our own request: it never raises, it skips what it can't read
    for mention in x_api.parse_mentions_page(body, brand):
        _believable(mention)
        MentionEnvelope.model_validate_json(MentionEnvelope(mention=mention, received_at=utcnow()).model_dump_json())
