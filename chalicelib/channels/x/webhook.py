"""X (Twitter) webhooks: CRC handshake, signature check, Account Activity API payload parsing
(X Activity API deliveries to the same route are read by the sibling module activity.py).

Turns one Account Activity webhook delivery into `Mention`s (tweets that mention or answer the
brand, direct messages sent to it). Everything else the API sends for a subscribed account
(likes, follows, deletes, typing indicators, ...) is counted as ignored.

Imports pydantic, the standard library, chalicelib.models, chalicelib.errors and the sibling
signing module only.
"""
from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timezone
from typing import Any, Mapping, Optional

from pydantic import BaseModel, ConfigDict, ValidationError

from chalicelib import channels
from chalicelib.channels import signing, survey
from chalicelib.channels.x import ID, activity
from chalicelib.errors import InvalidSignature, UnknownPayload
from chalicelib.models import (
    Attachment,
    Author,
    Mention,
    ParseResult,
    Visibility,
    from_epoch,
    utcnow,
    SurveyAnswer,
)

SIGNATURE_HEADER = "x-twitter-webhooks-signature"

# Keys of an Account Activity payload that carry events we do not turn into mentions.
# https://developer.x.com/en/docs/twitter-api/enterprise/account-activity-api/guides/account-activity-data-objects
IGNORED_EVENT_KEYS = (
    "favorite_events",
    "follow_events",
    "unfollow_events",
    "block_events",
    "unblock_events",
    "mute_events",
    "unmute_events",
    "user_event",
    "tweet_delete_events",
    "direct_message_indicate_typing_events",
    "direct_message_mark_read_events",
)
MENTION_EVENT_KEYS = ("tweet_create_events", "direct_message_events")

# X calls images "photo" and GIFs "animated_gif" (an mp4); the desk's vocabulary is image/video.
_MEDIA_TYPES = {"photo": "image", "video": "video", "animated_gif": "video"}

# Tweet `created_at`, e.g. "Wed Oct 10 20:19:24 +0000 2018".
# https://developer.x.com/en/docs/twitter-api/v1/data-dictionary/object-model/tweet
_TWITTER_TIME = "%a %b %d %H:%M:%S %z %Y"


# --- handshake and signature ---------------------------------------------------------------

# X's crc_token is a short run of letters, digits and base64 punctuation. Nothing else is signed:
# the answer is the very HMAC a POST body is signed with, so signing an arbitrary value would
# let anyone sign a forged event (the CRC would be a signing oracle).
_CRC_TOKEN = re.compile(r"[A-Za-z0-9+/=_-]{8,128}")


def is_crc_token(value: Any) -> bool:
    """True for a value shaped like X's crc_token and unable to pass as a JSON body."""
    if not isinstance(value, str) or not _CRC_TOKEN.fullmatch(value):
        return False
    try:
        json.loads(value)  # all digits, say: a JSON number, which a POST body could be
    except ValueError:
        return True
    return False


def crc_response(crc_token: str, secret: str) -> dict:
    """Answer X's Challenge-Response Check: base64 HMAC-SHA256 of the token with the consumer secret.

    https://developer.x.com/en/docs/twitter-api/enterprise/account-activity-api/guides/securing-webhooks
    """
    if not is_crc_token(crc_token):
        raise ValueError("crc_token is not shaped like X's")
    if not secret:
        raise InvalidSignature("no consumer secret configured for X")
    digest = signing.hmac_sha256(secret, crc_token.encode("utf-8"))
    return {"response_token": "sha256=" + base64.b64encode(digest).decode("ascii")}


def handshake(query: Mapping[str, Any], secret: str) -> tuple[int, dict]:
    """The route's GET (X's CRC): the token's shape is checked before any HMAC, so the answer
    never signs a body; with no consumer secret configured X must not get a wrong token (503)."""
    token = query.get("crc_token")
    if not token:
        return 400, {"error": "crc_token is required"}
    if not is_crc_token(token):
        return 400, {"error": "crc_token: not a token X sends (8 to 128 letters, digits, + / = _ -)"}
    if not secret:
        return 503, {"error": "the X channel is not configured"}
    return 200, crc_response(token, secret)


def verify(raw_body: bytes, signature_header: Optional[str], secret: str) -> None:
    """Check `x-twitter-webhooks-signature` (sha256=<base64>) over the raw request bytes."""
    signing.verify_base64(secret, raw_body, signature_header)


# --- payload shapes (only the fields we read; extra fields are kept by pydantic) ------------

class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)


class XUser(_Loose):
    id_str: Optional[str] = None
    id: Optional[str] = None
    name: Optional[str] = None
    screen_name: Optional[str] = None
    followers_count: Optional[int] = None
    verified: Optional[bool] = None

    @property
    def user_id(self) -> Optional[str]:
        return self.id_str or self.id


class Tweet(_Loose):
    id_str: str
    text: Optional[str] = None
    full_text: Optional[str] = None
    truncated: bool = False
    user: XUser
    created_at: Optional[str] = None
    timestamp_ms: Optional[str] = None
    in_reply_to_status_id_str: Optional[str] = None
    conversation_id: Optional[str] = None
    conversation_id_str: Optional[str] = None
    retweeted_status: Optional[dict] = None
    extended_tweet: Optional[dict] = None
    entities: Optional[dict] = None
    extended_entities: Optional[dict] = None


class MessageCreate(_Loose):
    sender_id: str
    target: dict = {}
    message_data: dict = {}


class DirectMessageEvent(_Loose):
    type: str
    id: str
    created_timestamp: Optional[str] = None
    message_create: Optional[MessageCreate] = None


# --- parsing ------------------------------------------------------------------------------

def parse(payload: Any) -> ParseResult:
    """Normalise one Account Activity delivery, or an X Activity API one (activity.py); raises
    UnknownPayload for shapes we don't know.

    Each event is read on its own: one that cannot be read is rejected (ParseResult.rejected)
    and its neighbours are still mentions."""
    if activity.is_delivery(payload):
        return activity.parse(payload, account_activity=parse)
    if not isinstance(payload, dict):
        raise UnknownPayload("x: payload is not a JSON object")
    brand_id = payload.get("for_user_id")
    if isinstance(brand_id, int) and not isinstance(brand_id, bool):
        brand_id = str(brand_id)
    if not isinstance(brand_id, str) or not brand_id.strip():
        raise UnknownPayload("x: no for_user_id")
    known = [k for k in MENTION_EVENT_KEYS + IGNORED_EVENT_KEYS if k in payload]
    if not known:
        raise UnknownPayload("x: none of the known Account Activity event keys")

    result = ParseResult()
    channels.each(result, _event_list(payload, "tweet_create_events"), "tweet_create_events",
                  lambda raw: _collect(result, _tweet_mention(_validate(Tweet, raw, "tweet_create_events"), brand_id)))
    users = channels.obj(payload.get("users"))
    channels.each(result, _event_list(payload, "direct_message_events"), "direct_message_events",
                  lambda raw: _collect(result, _dm_mention(_validate(DirectMessageEvent, raw, "direct_message_events"),
                                                           users, brand_id)))
    for key in IGNORED_EVENT_KEYS:
        value = payload.get(key)
        # `user_event` is a single object; the others are lists.
        result.ignored += len(value) if isinstance(value, list) else (1 if value else 0)
    return result


def _collect(result: ParseResult, mention: "Mention | SurveyAnswer | None") -> None:
    if isinstance(mention, SurveyAnswer):  # a CSAT survey's quick reply: an answer, never a mention
        result.answers.append(mention)
    elif mention is None:
        result.ignored += 1
    else:
        result.mentions.append(mention)


def _event_list(payload: dict, key: str) -> list:
    value = payload.get(key, [])
    if not isinstance(value, list):
        raise UnknownPayload(f"x: {key} is not a list")
    return value


def _validate(model: type[BaseModel], raw: Any, where: str):
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise UnknownPayload(f"x: invalid {where} item ({channels.describe(exc)})") from exc


def _tweet_mention(tweet: Tweet, brand_id: str) -> Optional[Mention]:
    if tweet.user.user_id == brand_id:
        return None  # the brand's own tweet or reply
    if tweet.retweeted_status is not None:
        return None  # a plain retweet says nothing new
    if not tweet.user.user_id:
        raise UnknownPayload("x: tweet without user.id_str")
    conversation = (
        tweet.conversation_id_str
        or tweet.conversation_id
        or tweet.in_reply_to_status_id_str
        or tweet.id_str
    )
    return Mention(
        platform=ID,
        kind="tweet",
        brand_account_id=brand_id,
        external_id=tweet.id_str,
        conversation_id=conversation,
        reply_to_id=tweet.id_str,
        in_reply_to_id=tweet.in_reply_to_status_id_str,
        author=_author(tweet.user),
        text=_tweet_text(tweet),
        attachments=_tweet_media(tweet),
        visibility=Visibility.PUBLIC,
        created_at=_tweet_time(tweet),
    )


def _tweet_text(tweet: Tweet) -> str:
    # Tweets over 140 chars arrive truncated; the whole text is in extended_tweet.full_text.
    # https://developer.x.com/en/docs/twitter-api/v1/data-dictionary/object-model/extended-entities
    full = channels.text((tweet.extended_tweet or {}).get("full_text"))
    return full or tweet.full_text or tweet.text or ""


def _tweet_media(tweet: Tweet) -> tuple[Attachment, ...]:
    # extended_entities lists every photo/video; entities.media only the first one.
    holders = [
        tweet.extended_tweet or {},
        {"extended_entities": tweet.extended_entities, "entities": tweet.entities},
    ]
    for holder in holders:
        for key in ("extended_entities", "entities"):
            media = channels.obj(holder.get(key)).get("media")
            if media and isinstance(media, list):
                return tuple(_media_attachment(m) for m in media if isinstance(m, dict))
    return ()


def _media_attachment(media: dict) -> Attachment:
    kind = channels.text(media.get("type")) or "image"
    return Attachment(type=_MEDIA_TYPES.get(kind, kind[:64]), url=channels.url(media.get("media_url_https")))


def _tweet_time(tweet: Tweet) -> datetime:
    if tweet.created_at:
        try:
            return datetime.strptime(tweet.created_at, _TWITTER_TIME).astimezone(timezone.utc)
        except (ValueError, OverflowError):  # OverflowError: year 1 at +14:00
            pass
    if tweet.timestamp_ms and tweet.timestamp_ms.isdigit() and len(tweet.timestamp_ms) <= 16:
        try:
            return from_epoch(int(tweet.timestamp_ms) / 1000)
        except ValueError:
            return utcnow()  # a time out of any believable range: when we got it
    raise UnknownPayload(f"x: tweet {tweet.id_str} has no readable created_at or timestamp_ms")


def _author(user: XUser, user_id: Optional[str] = None) -> Author:
    return Author(
        id=user_id or user.user_id or "",
        name=user.name,
        handle=user.screen_name,
        followers=user.followers_count,
        verified=user.verified,
    )


def _dm_mention(event: DirectMessageEvent, users: dict, brand_id: str) -> "Mention | SurveyAnswer | None":
    # Direct messages are `message_create` events; anything else is not a message.
    # https://developer.x.com/en/docs/x-api/v1/direct-messages/sending-and-receiving/guides/message-create-object
    if event.type != "message_create":
        return None
    if event.message_create is None:
        raise UnknownPayload(f"x: direct message {event.id} without message_create")
    sender_id = event.message_create.sender_id
    if sender_id == brand_id:
        return None  # sent by the brand: an echo of our own reply
    data = event.message_create.message_data or {}
    # The payload's `users` object holds the hydrated sender, keyed by user id.
    hydrated = users.get(sender_id)
    sender = _validate(XUser, hydrated if isinstance(hydrated, dict) else {}, "users")
    author = _author(sender, sender_id)
    if not event.created_timestamp or not event.created_timestamp.isdigit():
        raise UnknownPayload(f"x: direct message {event.id} without created_timestamp")
    try:
        created = from_epoch(int(event.created_timestamp[:16]) / 1000)
    except ValueError:
        created = utcnow()
    # a tap on one of our CSAT survey's quick-reply options: its metadata is our payload
    # https://developer.x.com/en/docs/x-api/v1/direct-messages/quick-replies/overview
    decoded = survey.decode(channels.obj(data.get("quick_reply_response")).get("metadata"))
    if decoded is not None:
        return SurveyAnswer(platform=ID, brand_account_id=brand_id, external_id=event.id, ticket_id=decoded[0],
                            score=decoded[1], sig=decoded[2], author_id=sender_id, timestamp=created)
    return Mention(
        platform=ID,
        kind="dm",
        brand_account_id=brand_id,
        external_id=event.id,
        conversation_id="dm:" + sender_id,
        reply_to_id=sender_id,
        author=author,
        text=channels.text(data.get("text")),
        attachments=_dm_media(data),
        visibility=Visibility.PRIVATE,
        created_at=created,
    )


def _dm_media(message_data: dict) -> tuple[Attachment, ...]:
    attachment = channels.obj(message_data.get("attachment"))
    media = attachment.get("media") if attachment.get("type") == "media" else None
    return (_media_attachment(media),) if isinstance(media, dict) else ()
