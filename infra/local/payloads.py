"""Builders of realistic platform webhook payloads, for the tests and the local traffic replay.

Each builder returns plain dicts shaped like what the platform really sends (X Account Activity,
Meta Pages/Messenger/Instagram/WhatsApp, the generic API channel, SES-via-SNS). `encode` turns a
payload into bytes the way the platforms do (ASCII-only JSON with `\\u00e4` and `\\/` escapes),
and the `sign_*` helpers return the signature header for exactly those bytes.

Composition:
    X:     x_tweet(...) / x_dm(...) build single events; x_batch(for_user_id, tweets, dms, users)
           wraps them; x_tweet_event / x_dm_event are one-event shortcuts.
    Meta:  fb_comment_change, ig_comment_change, ig_mention_change, wa_message_change,
           wa_status_change build `changes[]` items; messenger_event / ig_dm_event build
           `messaging[]` items; meta_entry(id, changes, messaging) and
           meta_payload(object, entries) wrap them.

Imports the standard library and chalicelib.channels.signing only.
"""
from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Iterable, Optional

from chalicelib.channels import signing


# --- bytes and signatures ------------------------------------------------------------------

def encode(payload) -> bytes:
    """Serialise like X and Meta: ASCII only (`\\uXXXX`), compact, slashes escaped as `\\/`."""
    text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"))
    # "/" can only occur inside JSON strings, where "\\/" is a valid escape of it.
    return text.replace("/", "\\/").encode("ascii")


def sign_x(body: bytes, secret: str) -> dict:
    return {"x-twitter-webhooks-signature": signing.base64_signature(secret, body)}


def sign_meta(body: bytes, secret: str) -> dict:
    return {"X-Hub-Signature-256": signing.hex_signature(secret, body)}


def sign_api(body: bytes, secret: str) -> dict:
    return {"X-Signature-256": signing.hex_signature(secret, body)}


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _twitter_time(moment: datetime) -> str:
    # Tweet created_at format: "Wed Oct 10 20:19:24 +0000 2018"
    return moment.astimezone(timezone.utc).strftime("%a %b %d %H:%M:%S +0000 %Y")


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


# --- X Account Activity --------------------------------------------------------------------

def x_user(id: str, name: str = "", handle: str = "", followers: int = 0, verified: bool = False) -> dict:
    """A v1.1 user object (as in tweets and in a DM payload's `users` map)."""
    return {
        "id": int(id) if str(id).isdigit() else id,
        "id_str": str(id),
        "name": name,
        "screen_name": handle,
        "location": None,
        "url": None,
        "description": "",
        "protected": False,
        "verified": verified,
        "followers_count": followers,
        "friends_count": 120,
        "statuses_count": 1500,
        "created_at": "Tue Mar 02 10:00:00 +0000 2010",
        "profile_image_url_https": f"https://pbs.twimg.com/profile_images/{id}/avatar_normal.jpg",
    }


def _x_media(media_id: str, kind: str = "photo") -> dict:
    url = f"https://pbs.twimg.com/media/{media_id}.jpg"
    return {
        "id": int(media_id) if media_id.isdigit() else media_id,
        "id_str": media_id,
        "media_url": url.replace("https:", "http:"),
        "media_url_https": url,
        "url": "https://t.co/abc123",
        "display_url": "pic.twitter.com/abc123",
        "type": kind,
    }


def x_tweet(tweet_id: str, user: dict, text: str, in_reply_to: Optional[str] = None,
            created_at: Optional[datetime] = None, media: Iterable[str] = (),
            in_reply_to_user_id: Optional[str] = None, retweet_of: Optional[dict] = None) -> dict:
    """A v1.1 tweet object; `user` is dict(id, name, handle, followers, verified).

    Text over 140 characters is delivered truncated with the whole text in
    extended_tweet.full_text, as X does.
    """
    moment = created_at or _now()
    media_objects = [_x_media(m) for m in media]
    entities = {"hashtags": [], "urls": [], "user_mentions": [], "symbols": []}
    tweet = {
        "created_at": _twitter_time(moment),
        "id": int(tweet_id) if str(tweet_id).isdigit() else tweet_id,
        "id_str": str(tweet_id),
        "text": text if len(text) <= 140 else text[:139] + "\u2026",
        "source": '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>',
        "truncated": len(text) > 140,
        "in_reply_to_status_id": int(in_reply_to) if in_reply_to and in_reply_to.isdigit() else None,
        "in_reply_to_status_id_str": in_reply_to,
        "in_reply_to_user_id": int(in_reply_to_user_id) if in_reply_to_user_id and in_reply_to_user_id.isdigit() else None,
        "in_reply_to_user_id_str": in_reply_to_user_id,
        "user": x_user(**user),
        "is_quote_status": False,
        "retweet_count": 0,
        "favorite_count": 0,
        "entities": dict(entities, **({"media": media_objects[:1]} if media_objects else {})),
        "favorited": False,
        "retweeted": False,
        "filter_level": "low",
        "lang": "en",
        "timestamp_ms": str(_ms(moment)),
    }
    if media_objects:
        tweet["extended_entities"] = {"media": media_objects}
    if len(text) > 140:
        tweet["extended_tweet"] = {"full_text": text, "display_text_range": [0, len(text)],
                                   "entities": tweet["entities"]}
    if retweet_of is not None:
        tweet["retweeted_status"] = retweet_of
    return tweet


def x_dm(event_id: str, sender_id: str, recipient_id: str, text: str,
         created_at: Optional[datetime] = None, media: Optional[str] = None) -> dict:
    """A `message_create` direct message event."""
    message_data: dict = {
        "text": text,
        "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []},
    }
    if media:
        message_data["attachment"] = {"type": "media", "media": _x_media(media)}
    return {
        "type": "message_create",
        "id": str(event_id),
        "created_timestamp": str(_ms(created_at or _now())),
        "message_create": {
            "target": {"recipient_id": str(recipient_id)},
            "sender_id": str(sender_id),
            "source_app_id": "268278",
            "message_data": message_data,
        },
    }


def x_batch(for_user_id: str, tweets: Iterable[dict] = (), dms: Iterable[dict] = (),
            users: Iterable[dict] = ()) -> dict:
    """One Account Activity delivery; `users` (dict(id, name, handle, ...)) hydrate DM senders."""
    payload: dict = {"for_user_id": str(for_user_id)}
    tweets, dms = list(tweets), list(dms)
    if tweets:
        payload["tweet_create_events"] = tweets
    if dms:
        payload["direct_message_events"] = dms
        payload["apps"] = {"268278": {"id": "268278", "name": "Twitter Web App",
                                      "url": "https://mobile.twitter.com"}}
        payload["users"] = {}
        for user in users:
            hydrated = x_user(**user)
            hydrated["id"] = hydrated["id_str"]  # DM payloads key and name users by string id
            hydrated.pop("id_str")
            payload["users"][hydrated["id"]] = hydrated
    return payload


def x_tweet_event(for_user_id: str, tweet_id: str, user: dict, text: str,
                  in_reply_to: Optional[str] = None, created_at: Optional[datetime] = None,
                  media: Iterable[str] = ()) -> dict:
    tweet = x_tweet(tweet_id, user, text, in_reply_to=in_reply_to, created_at=created_at, media=media)
    return x_batch(for_user_id, tweets=[tweet])


def x_dm_event(for_user_id: str, event_id: str, sender: dict, text: str,
               created_at: Optional[datetime] = None, media: Optional[str] = None) -> dict:
    """A DM from `sender` (dict(id, name, handle, followers, verified)) to the brand."""
    dm = x_dm(event_id, sender["id"], for_user_id, text, created_at=created_at, media=media)
    return x_batch(for_user_id, dms=[dm], users=[sender])


# --- X Activity API (the successor of Account Activity), same route, same signature --------
# https://docs.x.com/x-api/activity/event-payloads

def _xaa_user(user: dict) -> dict:
    """A v2 user object; `user` is dict(id, name, handle, followers, verified)."""
    return {"id": str(user["id"]), "name": user.get("name", ""), "username": user.get("handle", ""),
            "verified": bool(user.get("verified")), "protected": False, "verified_type": "none",
            "public_metrics": {"followers_count": user.get("followers", 0),
                               "followers_count_str": str(user.get("followers", 0))}}


def _xaa(for_user_id: str, event_type: str, payload: dict, includes: Optional[dict] = None) -> dict:
    return {"data": {"event_uuid": str(uuid.uuid4().int)[:19], "filter": {"user_id": str(for_user_id)},
                     "event_type": event_type, "tag": event_type, "payload": payload, "includes": includes or {}}}


def xaa_mention_event(for_user_id: str, post_id: str, user: dict, text: str,
                      conversation_id: Optional[str] = None, created_at: Optional[datetime] = None) -> dict:
    """`post.mention.create`: a v2 Post mentioning the brand, its author in includes.users."""
    moment = created_at or _now()
    post = {"id": str(post_id), "text": text, "author_id": str(user["id"]), "lang": "en",
            "conversation_id": conversation_id or str(post_id), "edit_history_tweet_ids": [str(post_id)],
            "created_at": moment.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "entities": {"mentions": [{"start": 0, "end": 1, "id": str(for_user_id)}]}}
    return _xaa(for_user_id, "post.mention.create", post, {"users": [_xaa_user(user)]})


def xaa_dm_event(for_user_id: str, event_id: str, sender: dict, text: str,
                 created_at: Optional[datetime] = None) -> dict:
    """`dm.received`: Account Activity's DM event, with a users map of v2 users under `data`."""
    dm = x_dm(event_id, sender["id"], for_user_id, text, created_at=created_at)
    return _xaa(for_user_id, "dm.received", {"direct_message_events": [dm],
                                              "users": {str(sender["id"]): {"data": _xaa_user(sender)}}})


# --- Meta: Pages, Messenger, Instagram, WhatsApp ------------------------------------------

def meta_payload(object: str, entries: Iterable[dict]) -> dict:
    return {"object": object, "entry": list(entries)}


def meta_entry(entry_id: str, changes: Iterable[dict] = (), messaging: Iterable[dict] = (),
               time_ms: Optional[int] = None) -> dict:
    entry: dict = {"id": str(entry_id), "time": time_ms or _ms(_now())}
    changes, messaging = list(changes), list(messaging)
    if changes:
        entry["changes"] = changes
    if messaging:
        entry["messaging"] = messaging
    return entry


def fb_comment_change(page_id: str, post_id: str, comment_id: str, author: dict, message: str,
                      parent_id: Optional[str] = None, created_time: Optional[int] = None,
                      photo: Optional[str] = None, verb: str = "add") -> dict:
    """A Page `feed` change for a comment; `author` is dict(id, name)."""
    full_post_id = post_id if "_" in post_id else f"{page_id}_{post_id}"
    value = {
        "from": {"id": str(author["id"]), "name": author.get("name", "")},
        "post": {"status_type": "added_photos", "is_published": True,
                 "updated_time": "2024-05-01T10:00:00+0000",
                 "permalink_url": f"https://www.facebook.com/{full_post_id}", "promotion_status": "inactive",
                 "id": full_post_id},
        "message": message,
        "post_id": full_post_id,
        "comment_id": comment_id,
        "created_time": created_time or int(time.time()),
        "item": "comment",
        "parent_id": parent_id or full_post_id,
        "verb": verb,
    }
    if photo:
        value["photo"] = photo
    return {"field": "feed", "value": value}


def fb_post_change(page_id: str, post_id: str, author: dict, message: str,
                   created_time: Optional[int] = None, photo: Optional[str] = None) -> dict:
    """A Page `feed` change for a visitor's post on the Page; `author` is dict(id, name)."""
    full_post_id = post_id if "_" in post_id else f"{page_id}_{post_id}"
    value = {"from": {"id": str(author["id"]), "name": author.get("name", "")}, "item": "post",
             "post_id": full_post_id, "verb": "add", "created_time": created_time or int(time.time()),
             "is_hidden": False, "message": message, "published": 1}
    if photo:
        value["photo"] = photo
    return {"field": "feed", "value": value}


def fb_mention_change(post_id: str, comment_id: Optional[str] = None) -> dict:
    """A Page `mention` change: a post (or a comment, with comment_id) that mentions the Page."""
    value = {"post_id": post_id, "item": "comment" if comment_id else "post", "verb": "add"}
    if comment_id:
        value["comment_id"] = comment_id
    return {"field": "mention", "value": value}


def messenger_event(page_id: str, sender_id: str, mid: str, text: Optional[str] = None,
                    attachments: Iterable[dict] = (), timestamp_ms: Optional[int] = None,
                    is_echo: bool = False) -> dict:
    """A Messenger `messaging[]` message; an echo is sent by the page to the user."""
    message: dict = {"mid": mid}
    if text is not None:
        message["text"] = text
    attachments = list(attachments)
    if attachments:
        message["attachments"] = attachments
    if is_echo:
        message.update(is_echo=True, app_id=1517776481860111)
        sender_id, page_id = page_id, sender_id
    return {
        "sender": {"id": str(sender_id)},
        "recipient": {"id": str(page_id)},
        "timestamp": timestamp_ms or _ms(_now()),
        "message": message,
    }


def ig_dm_event(ig_account_id: str, sender_id: str, mid: str, text: Optional[str] = None,
                attachments: Iterable[dict] = (), timestamp_ms: Optional[int] = None,
                is_echo: bool = False) -> dict:
    """An Instagram messaging event: same shape as Messenger's, ids are IG-scoped."""
    return messenger_event(ig_account_id, sender_id, mid, text=text, attachments=attachments,
                           timestamp_ms=timestamp_ms, is_echo=is_echo)


def quick_reply_event(account_id: str, sender_id: str, mid: str, text: str, payload: str,
                      timestamp_ms: Optional[int] = None) -> dict:
    """A Messenger or Instagram customer's tap on a quick reply we sent (a CSAT survey's answer).
    https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messages"""
    event = messenger_event(account_id, sender_id, mid, text=text, timestamp_ms=timestamp_ms)
    event["message"]["quick_reply"] = {"payload": payload}
    return event


def ig_comment_change(comment_id: str, media_id: str, author: dict, text: str,
                      parent_id: Optional[str] = None, media_product_type: str = "FEED") -> dict:
    """An Instagram `comments` change; `author` is dict(id, username)."""
    value: dict = {
        "from": {"id": str(author["id"]), "username": author.get("username", "")},
        "media": {"id": str(media_id), "media_product_type": media_product_type},
        "id": str(comment_id),
        "text": text,
    }
    if parent_id:
        value["parent_id"] = parent_id
    return {"field": "comments", "value": value}


def ig_mention_change(media_id: str, comment_id: Optional[str] = None) -> dict:
    """An Instagram `mentions` change: ids only (a caption mention has no comment_id)."""
    value = {"media_id": str(media_id)}
    if comment_id:
        value["comment_id"] = str(comment_id)
    return {"field": "mentions", "value": value}


def wa_message(message_id: str, wa_id: str, text: Optional[str] = None, type: str = "text",
               timestamp: Optional[int] = None, media_id: Optional[str] = None,
               caption: Optional[str] = None, context_id: Optional[str] = None) -> dict:
    """One WhatsApp `messages[]` item (text, or image/video/audio/document/sticker by media id)."""
    message: dict = {"from": str(wa_id), "id": message_id,
                     "timestamp": str(timestamp or int(time.time())), "type": type}
    if type == "text":
        message["text"] = {"body": text or ""}
    elif type == "reaction":
        message["reaction"] = {"message_id": context_id or "", "emoji": text or "\U0001f44d"}
    else:
        body: dict = {"id": media_id or "1234567890",
                      "mime_type": _WA_MIME.get(type, "application/octet-stream"),
                      "sha256": "ZmFrZXNoYQ=="}
        if caption:
            body["caption"] = caption
        message[type] = body
    if context_id and type != "reaction":
        message["context"] = {"from": "15550783881", "id": context_id}
    return message


_WA_MIME = {"image": "image/jpeg", "video": "video/mp4", "audio": "audio/ogg; codecs=opus",
            "document": "application/pdf", "sticker": "image/webp"}


def _wa_value(phone_number_id: str, display_phone_number: str) -> dict:
    return {"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": display_phone_number,
                         "phone_number_id": str(phone_number_id)}}


def wa_message_change(phone_number_id: str, wa_id: str, name: str, message_id: str,
                      text: Optional[str] = None, type: str = "text", timestamp: Optional[int] = None,
                      media_id: Optional[str] = None, caption: Optional[str] = None,
                      extra_messages: Iterable[dict] = (),
                      display_phone_number: str = "15550783881") -> dict:
    """A WhatsApp `messages` change with one contact and its message(s)."""
    value = _wa_value(phone_number_id, display_phone_number)
    value["contacts"] = [{"profile": {"name": name}, "wa_id": str(wa_id)}]
    value["messages"] = [wa_message(message_id, wa_id, text=text, type=type, timestamp=timestamp,
                                    media_id=media_id, caption=caption), *extra_messages]
    return {"value": value, "field": "messages"}


def wa_status_change(phone_number_id: str, message_id: str, status: str, recipient_id: str,
                     timestamp: Optional[int] = None, errors: Optional[list] = None,
                     display_phone_number: str = "15550783881") -> dict:
    """A WhatsApp `messages` change carrying a status of one of our outbound messages."""
    item: dict = {"id": message_id, "status": status,
                  "timestamp": str(timestamp or int(time.time())), "recipient_id": str(recipient_id)}
    if status in ("sent", "delivered"):
        item["conversation"] = {"id": "a75d17ad06104c51166f948319b03c6a", "origin": {"type": "service"}}
        item["pricing"] = {"billable": True, "pricing_model": "CBP", "category": "service"}
    if errors:
        item["errors"] = errors
    value = _wa_value(phone_number_id, display_phone_number)
    value["statuses"] = [item]
    return {"value": value, "field": "messages"}


def wa_button_reply_change(phone_number_id: str, wa_id: str, name: str, message_id: str, button_id: str,
                           title: str, context_id: Optional[str] = None, timestamp: Optional[int] = None,
                           display_phone_number: str = "15550783881") -> dict:
    """A customer's tap on a reply button of our interactive message (a CSAT survey's answer).
    https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples#reply-button"""
    value = _wa_value(phone_number_id, display_phone_number)
    value["contacts"] = [{"profile": {"name": name}, "wa_id": str(wa_id)}]
    message: dict = {"from": str(wa_id), "id": message_id, "timestamp": str(timestamp or int(time.time())),
                     "type": "interactive",
                     "interactive": {"type": "button_reply", "button_reply": {"id": button_id, "title": title}}}
    if context_id:
        message["context"] = {"from": display_phone_number, "id": context_id}
    value["messages"] = [message]
    return {"value": value, "field": "messages"}


# --- generic API channel -------------------------------------------------------------------

def api_body(external_id: str, author_id: str, author_name: str, text: str,
             thread_id: Optional[str] = None, created_at: Optional[str] = None,
             handle: Optional[str] = None, channel_id: Optional[str] = None) -> dict:
    author = {"id": author_id, "name": author_name}
    if handle:
        author["handle"] = handle
    body: dict = {"external_id": external_id, "author": author, "text": text}
    for key, value in (("thread_id", thread_id), ("created_at", created_at), ("channel_id", channel_id)):
        if value is not None:
            body[key] = value
    return body


# --- email: SES receipt notification, as published by the SNS action ---------------------

def ses_sns_message(from_addr: str, to_addr: str, subject: str, body_text: str, message_id: str,
                    in_reply_to: Optional[str] = None, references: Optional[str] = None,
                    from_name: Optional[str] = None, date: Optional[datetime] = None,
                    html: Optional[str] = None, attachments: Iterable[tuple[str, str, bytes]] = (),
                    encoding: str = "UTF8") -> str:
    """The SNS `Message` string of an SES "Received" notification with the MIME in `content`.

    `message_id`, `in_reply_to` and `references` take ids with or without angle brackets;
    `attachments` are (filename, mime type, bytes); encoding "BASE64" base64-encodes content.
    """
    moment = date or _now()
    mime = EmailMessage()
    mime["From"] = f"{from_name} <{from_addr}>" if from_name else from_addr
    mime["To"] = to_addr
    mime["Subject"] = subject
    mime["Date"] = format_datetime(moment)
    mime["Message-ID"] = _bracket(message_id)
    if in_reply_to:
        mime["In-Reply-To"] = _bracket(in_reply_to)
    if references:
        mime["References"] = " ".join(_bracket(r) for r in references.split())
    mime.set_content(body_text)
    if html:
        mime.add_alternative(html, subtype="html")
    for filename, mime_type, data in attachments:
        maintype, subtype = mime_type.split("/", 1)
        mime.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    raw = mime.as_bytes()
    content = base64.b64encode(raw).decode("ascii") if encoding == "BASE64" else raw.decode("utf-8")
    iso = moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    ses_id = make_msgid().strip("<>").split("@")[0]
    notification = {
        "notificationType": "Received",
        "mail": {
            "timestamp": iso,
            "source": from_addr,
            "messageId": ses_id,
            "destination": [to_addr],
            "headersTruncated": False,
            "headers": [{"name": name, "value": str(value)} for name, value in mime.items()],
            "commonHeaders": {
                "returnPath": from_addr,
                "from": [str(mime["From"])],
                "date": str(mime["Date"]),
                "to": [to_addr],
                "messageId": _bracket(message_id),
                "subject": subject,
            },
        },
        "receipt": {
            "timestamp": iso,
            "processingTimeMillis": 412,
            "recipients": [to_addr],
            "spamVerdict": {"status": "PASS"},
            "virusVerdict": {"status": "PASS"},
            "spfVerdict": {"status": "PASS"},
            "dkimVerdict": {"status": "PASS"},
            "dmarcVerdict": {"status": "PASS"},
            "action": {"type": "SNS", "topicArn": "arn:aws:sns:us-east-1:000000000000:desk-inbound-email",
                       "encoding": encoding},
        },
        "content": content,
    }
    return json.dumps(notification)


def _bracket(message_id: str) -> str:
    return message_id if message_id.startswith("<") else f"<{message_id}>"
