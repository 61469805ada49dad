"""X Activity API (XAA) webhook deliveries: the successor of the Account Activity API.

XAA posts to the same webhook URL, answers the same CRC and signs with the same
`x-twitter-webhooks-signature`; only the body differs. Each delivery is an envelope
    {"data": {"event_uuid", "filter": {"user_id"}, "event_type", "tag"?, "payload", "includes"?}}
https://docs.x.com/x-api/activity/event-payloads (the examples tests/fixtures/xaa_*.json are cut from)

What becomes a Mention (the brand is `filter.user_id`):
    post.mention.create  the Post in `payload` (v2 fields), its author in `includes.users`
    dm.received          `payload.direct_message_events` (Account Activity's DM events) with a
                         `users` map whose entries wrap a v2 user in `data`
Every other event type (post.create, likes, follows, dm.sent: the brand's own, ...) is counted
as ignored. A mention delivered by XAA, by Account Activity and found by the poller carries the
same post or message id, so it is one message (dedupe at ingest).

Imports the standard library, pydantic, chalicelib.models, chalicelib.errors and sibling channel
modules only.
"""
from __future__ import annotations

from typing import Any, Callable

from chalicelib import channels
from chalicelib.errors import UnknownPayload
from chalicelib.models import ParseResult

MENTION = "post.mention.create"
DM_RECEIVED = "dm.received"


def is_delivery(payload: Any) -> bool:
    """An XAA envelope rather than an Account Activity body."""
    data = payload.get("data") if isinstance(payload, dict) else None
    return isinstance(data, dict) and "event_type" in data


def parse(payload: dict, account_activity: Callable[[dict], ParseResult]) -> ParseResult:
    """`account_activity` reads an Account Activity body (x.parse), for the DMs XAA wraps."""
    data = payload["data"]
    brand = channels.text(channels.obj(data.get("filter")).get("user_id")).strip()
    if not brand:
        raise UnknownPayload("x activity: no filter.user_id")
    event_type = channels.text(data.get("event_type"))
    result = ParseResult()
    if event_type == MENTION:
        channels.each(result, [data.get("payload")], MENTION, lambda post: _mention(result, post, data, brand))
    elif event_type == DM_RECEIVED:
        _direct_messages(result, channels.obj(data.get("payload")), brand, account_activity)
    else:
        result.ignored += 1
    return result


def _mention(result: ParseResult, post: Any, data: dict, brand: str) -> None:
    # Lazy for cold start: v2 brings urllib.request and ssl (~10 ms), which the Account
    # Activity webhook path does not need.
    from chalicelib.channels.x import v2

    if not isinstance(post, dict) or not channels.text(post.get("id")).strip():
        raise UnknownPayload("x activity: post.mention.create without a post id")
    users, media = v2.expansions(data.get("includes"))
    mention = v2.post_mention(post, users, media, brand, source="webhook")
    if mention is None:
        result.ignored += 1
    else:
        result.mentions.append(mention)


def _direct_messages(result: ParseResult, payload: dict, brand: str,
                     account_activity: Callable[[dict], ParseResult]) -> None:
    """dm.received wraps Account Activity's DM events; its users map holds v2 users under `data`."""
    events = payload.get("direct_message_events")
    if not isinstance(events, list) or not events:
        result.ignored += 1  # a delivery with no message in it: nothing to read, nothing lost
        return
    users = {key: _v1_user(_user(value)) for key, value in channels.obj(payload.get("users")).items()}
    legacy = {"for_user_id": brand, "direct_message_events": events, "users": users}
    found = account_activity(legacy)
    result.mentions += found.mentions
    result.statuses += found.statuses
    result.ignored += found.ignored
    result.rejected += found.rejected


def _user(value: Any) -> dict:
    """A v2 user, whether given plainly or wrapped in `data` (XAA does both)."""
    value = channels.obj(value)
    return channels.obj(value.get("data")) if "data" in value else value


def _v1_user(user: dict) -> dict:
    """A v2 user in the Account Activity shape the DM reader knows."""
    metrics = channels.obj(user.get("public_metrics"))
    followers = metrics.get("followers_count")
    return {"id": channels.text(user.get("id")), "name": channels.text(user.get("name")) or None,
            "screen_name": channels.text(user.get("username")) or None,
            "followers_count": followers if isinstance(followers, int) and not isinstance(followers, bool) else None,
            "verified": user.get("verified") if isinstance(user.get("verified"), bool) else None}
