"""Meta webhooks adapter: Facebook Pages, Messenger, Instagram and the WhatsApp Cloud API.

One endpoint receives all four: the body's `object` says which product sent it
(`page`, `instagram`, `whatsapp_business_account`). Meta batches many `entry` items, each with
many `changes` or `messaging` events, into one POST; every one of them is handled.

What becomes a Mention:
    page       feed comment adds (kind "comment"), visitors' posts on the Page ("post"), Page
               mentions in posts and comments ("mention"), Messenger messages and postbacks ("message")
    instagram  comments and live comments ("comment"), @mentions ("mention"), DMs ("message")
    whatsapp   inbound messages ("message")
What becomes a DeliveryStatus (receipts of the brand's outbound messages):
    page       Messenger `delivery` (one per mid, or one by watermark when it names no mid)
               and `read` (by watermark)
    instagram  messaging `read` (by mid, or by watermark)
    whatsapp   `statuses`, with our `biz_opaque_callback_data` as callback_data
Everything else Meta sends for a subscribed field (likes, reactions, echoes of the brand's own
messages, the brand's own comments, receipts the brand itself sends) is counted as ignored. An
event we know but cannot validate (a message without id, a watermark that is not a number, ...)
raises UnknownPayload: the caller quarantines the whole raw body.

Imports pydantic, the standard library, chalicelib.models, chalicelib.errors and the sibling
signing module only.
"""
from __future__ import annotations

import hmac
from datetime import datetime
from typing import Annotated, Any, Callable, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from chalicelib import channels
from chalicelib.channels import signing
from chalicelib.errors import UnknownPayload
from chalicelib.models import (
    Attachment,
    Author,
    DeliveryStatus,
    Mention,
    ParseResult,
    Visibility,
    from_epoch,
    iso_time,
    utcnow,
)

SIGNATURE_HEADER = "X-Hub-Signature-256"

Epoch = Union[int, float, str, None]
EpochMs = Annotated[int, Field(strict=True, gt=0)]  # a JSON number of milliseconds, no string or bool


# --- handshake and signature ---------------------------------------------------------------

def verify_challenge(params: dict, verify_token: str) -> Optional[str]:
    """The subscription handshake: echo `hub.challenge` when our verify token matches.

    https://developers.facebook.com/docs/graph-api/webhooks/getting-started#verification-requests
    """
    mode = params.get("hub.mode")
    given = params.get("hub.verify_token")
    challenge = params.get("hub.challenge")
    if mode != "subscribe" or not verify_token or given is None or challenge is None:
        return None
    if hmac.compare_digest(str(given).encode("utf-8"), verify_token.encode("utf-8")):
        return str(challenge)
    return None


def verify(raw_body: bytes, signature_header: Optional[str], secret: str) -> None:
    """Check `X-Hub-Signature-256` (sha256=<hex>, keyed with the app secret) over the raw bytes.

    https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads
    """
    signing.verify_hex(secret, raw_body, signature_header)


# --- payload shapes (only the fields we read; extra fields are allowed) --------------------

class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True, populate_by_name=True)


class IdRef(_Loose):
    id: str
    name: Optional[str] = None
    username: Optional[str] = None


class Change(_Loose):
    field: str
    value: dict = {}


class FeedPost(_Loose):
    """Page `feed` change value for a visitor's post (item=post, status, photo or video)."""

    post_id: str
    sender: IdRef = Field(alias="from")
    message: str = ""
    created_time: Epoch = None
    photo: Optional[str] = None
    video: Optional[str] = None


class FeedComment(FeedPost):
    """Page `feed` change value for item=comment.

    https://developers.facebook.com/docs/graph-api/webhooks/reference/page/#feed
    """

    comment_id: str
    parent_id: Optional[str] = None


class PageMention(_Loose):
    """Page `mention` change value: a post, or a comment, that mentions the Page (ids only)."""

    post_id: str
    item: str = "post"
    comment_id: Optional[str] = None


class IgComment(_Loose):
    """Instagram `comments` / `live_comments` change value.

    https://developers.facebook.com/docs/graph-api/webhooks/reference/instagram/#comments
    """

    id: str
    text: str = ""
    sender: IdRef = Field(alias="from")
    media: IdRef
    parent_id: Optional[str] = None


class IgMention(_Loose):
    """Instagram `mentions` change value: ids only (a caption mention has no comment_id).

    https://developers.facebook.com/docs/graph-api/webhooks/reference/instagram/#mentions
    """

    media_id: str
    comment_id: Optional[str] = None


class MessagingMessage(_Loose):
    mid: str
    text: Optional[str] = None
    attachments: list[dict] = []
    is_echo: bool = False
    is_deleted: bool = False
    reply_to: Optional[dict] = None


class Postback(_Loose):
    title: Optional[str] = None
    payload: Optional[str] = None
    mid: Optional[str] = None


class MessagingEvent(_Loose):
    """One `entry[].messaging[]` item (Messenger and Instagram messaging share the shape).

    https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messages
    """

    sender: IdRef
    recipient: IdRef
    timestamp: Epoch = None
    message: Optional[MessagingMessage] = None
    postback: Optional[Postback] = None


class Delivery(_Loose):
    """https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/message-deliveries"""

    mids: Optional[list[str]] = None  # "may not be present"; the watermark always is
    watermark: EpochMs  # everything sent before it was delivered


class Read(_Loose):
    """Messenger names a watermark, Instagram the message read (`mid`).

    https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/message-reads
    https://developers.facebook.com/docs/messenger-platform/instagram/features/webhook (messaging_seen)
    """

    mid: Optional[str] = None
    watermark: Optional[EpochMs] = None  # everything sent up to it was read

    @model_validator(mode="after")
    def _names_what_was_read(self) -> Read:
        if self.mid is None and self.watermark is None:
            raise ValueError("read names neither mid nor watermark")
        return self


class _Receipt(_Loose):
    """A `messaging[]` receipt: the customer (sender) got or read what the brand sent."""

    sender: IdRef
    recipient: IdRef
    timestamp: Optional[EpochMs] = None  # Meta's delivery example omits it


class DeliveryEvent(_Receipt):
    delivery: Delivery


class ReadEvent(_Receipt):
    read: Read


class WaMetadata(_Loose):
    phone_number_id: str
    display_phone_number: Optional[str] = None


class WaValue(_Loose):
    """WhatsApp `messages` change value.

    https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages
    """

    metadata: WaMetadata
    contacts: list = []  # items are read one by one: one odd item never sinks its neighbours
    messages: list = []
    statuses: list = []
    errors: list = []


class WaMessage(_Loose):
    id: str
    sender: str = Field(alias="from")
    timestamp: str
    type: str
    context: Optional[dict] = None


class WaStatus(_Loose):
    """https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/status"""

    id: str
    status: str
    timestamp: str
    recipient_id: Optional[str] = None
    errors: list[dict] = Field(default=[], max_length=20)
    biz_opaque_callback_data: Optional[str] = None  # echoed from our send request


# --- entry point ---------------------------------------------------------------------------

def parse(payload: Any) -> ParseResult:
    """Normalise one Meta delivery (all entries, all changes); raises UnknownPayload when the
    body as a whole is of a shape we don't know. Each entry, change and messaging event is read
    on its own: one that cannot be read is rejected (ParseResult.rejected), its neighbours not."""
    if not isinstance(payload, dict):
        raise UnknownPayload("meta: payload is not a JSON object")
    kind = payload.get("object")
    handler = _OBJECT_HANDLERS.get(kind) if isinstance(kind, str) else None
    if handler is None:
        raise UnknownPayload(f"meta: unknown object {str(kind)[:100]!r}")
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise UnknownPayload("meta: no entry list")
    result = ParseResult()
    channels.each(result, entries, "entry", lambda entry: _entry(entry, handler, result))
    return result


def _entry(entry: Any, handler: Callable[[str, dict, ParseResult], None], result: ParseResult) -> None:
    if not isinstance(entry, dict):
        raise UnknownPayload("meta: entry is not an object")
    entry_id = entry.get("id")
    if isinstance(entry_id, int) and not isinstance(entry_id, bool):
        entry_id = str(entry_id)
    if not isinstance(entry_id, str) or not entry_id.strip():
        raise UnknownPayload("meta: entry without id")
    if not any(key in entry for key in ("changes", "messaging", "standby")):
        raise UnknownPayload("meta: entry has neither changes nor messaging")
    handler(entry_id, entry, result)
    # `standby` carries events for apps that don't own the thread (handover protocol).
    standby = entry.get("standby")
    result.ignored += len(standby) if isinstance(standby, list) else 0


def _page_entry(page_id: str, entry: dict, result: ParseResult) -> None:
    def change(raw: Any) -> None:
        item = _validate(Change, raw, "change")
        if item.field == "feed":
            _collect(result, _feed_item(page_id, item.value))
        elif item.field == "mention":
            _collect(result, _page_mention(page_id, item.value, entry.get("time")))
        else:
            result.ignored += 1

    channels.each(result, _list(entry, "changes"), "changes", change)
    channels.each(result, _list(entry, "messaging"), "messaging",
                  lambda raw: _messaging_event(result, "facebook", page_id, raw))


def _instagram_entry(account_id: str, entry: dict, result: ParseResult) -> None:
    def change(raw: Any) -> None:
        item = _validate(Change, raw, "change")
        if item.field in ("comments", "live_comments"):
            _collect(result, _ig_comment(account_id, item.value, entry.get("time")))
        elif item.field == "mentions":
            _collect(result, _ig_mention(account_id, item.value, entry.get("time")))
        else:
            result.ignored += 1

    channels.each(result, _list(entry, "changes"), "changes", change)
    channels.each(result, _list(entry, "messaging"), "messaging",
                  lambda raw: _messaging_event(result, "instagram", account_id, raw))


def _whatsapp_entry(_waba_id: str, entry: dict, result: ParseResult) -> None:
    def change(raw: Any) -> None:
        item = _validate(Change, raw, "change")
        if item.field != "messages":
            result.ignored += 1  # account_update, message_template_status_update, ...
            return
        value = _validate(WaValue, item.value, "whatsapp messages value")
        channels.each(result, value.messages, "messages", lambda m: _collect(result, _wa_message(value, m)))
        channels.each(result, value.statuses, "statuses", lambda s: result.statuses.append(_wa_status(value, s)))
        result.ignored += len(value.errors) or (0 if value.messages or value.statuses else 1)

    channels.each(result, _list(entry, "changes"), "changes", change)
    result.ignored += len(_list(entry, "messaging"))  # WhatsApp sends none; counted, never dropped


_OBJECT_HANDLERS: dict[str, Callable[[str, dict, ParseResult], None]] = {
    "page": _page_entry,
    "instagram": _instagram_entry,
    "whatsapp_business_account": _whatsapp_entry,
}


# --- helpers -------------------------------------------------------------------------------

def _collect(result: ParseResult, mention: Optional[Mention]) -> None:
    if mention is None:
        result.ignored += 1
    else:
        result.mentions.append(mention)


def _collect_statuses(result: ParseResult, statuses: list[DeliveryStatus]) -> None:
    if statuses:
        result.statuses.extend(statuses)
    else:
        result.ignored += 1


def _validate(model: type[BaseModel], raw: Any, where: str):
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise UnknownPayload(f"meta: invalid {where} ({channels.describe(exc)})") from exc


def _list(entry: dict, key: str) -> list:
    raw = entry.get(key, [])
    if not isinstance(raw, list):
        raise UnknownPayload(f"meta: {key} is not a list")
    return raw


def _time(value: Any, fallback: Any = None) -> datetime:
    """Meta mixes epoch seconds (feed created_time), milliseconds (messaging) and ISO strings.
    A time that cannot be read, or lies outside any believable range, is when we got it."""
    moment = _read_time(value) or _read_time(fallback)
    return moment or utcnow()


def _read_time(candidate: Any) -> Optional[datetime]:
    if isinstance(candidate, bool) or not isinstance(candidate, (int, float, str)) or candidate == "":
        return None
    text = str(candidate)[:64]
    try:
        number = float(text)
    except ValueError:
        return iso_time(text)
    try:
        return from_epoch(number / 1000 if number > 1e11 else number)
    except ValueError:
        return None


def _watermark(value: Optional[int]) -> Optional[datetime]:
    """A receipt's watermark marks everything before it: one we cannot believe marks nothing."""
    if value is None:
        return None
    moment = _read_time(value)
    if moment is None:
        raise UnknownPayload(f"meta: watermark {str(value)[:30]} is out of range")
    return moment


# --- Facebook Page feed and Messenger / Instagram messaging --------------------------------

def _messaging_event(result: ParseResult, platform: str, account_id: str, raw: Any) -> None:
    """One `messaging[]` item: a receipt of ours, a customer's message, or ignored."""
    if not isinstance(raw, dict):
        raise UnknownPayload("meta: messaging event is not an object")
    if "delivery" in raw or "read" in raw:
        _collect_statuses(result, _receipts(platform, account_id, raw))
    else:
        _collect(result, _message(platform, account_id, raw))


def _feed_item(page_id: str, value: dict) -> Optional[Mention]:
    """Feed changes cover posts, comments, reactions, likes, shares...: a new comment, and a
    visitor's new post on the Page, are mentions."""
    if value.get("verb") != "add":
        return None
    if value.get("item") == "comment":
        return _feed_comment(page_id, value)
    if value.get("item") in ("post", "status", "photo", "video"):
        return _visitor_post(page_id, value)
    return None


def _visitor_post(page_id: str, value: dict) -> Optional[Mention]:
    # https://developers.facebook.com/docs/graph-api/webhooks/reference/page/#feed (item: post)
    post = _validate(FeedPost, value, "feed post")
    if post.sender.id == page_id:
        return None  # the Page's own post: not a customer writing
    return Mention(
        platform="facebook",
        kind="post",
        brand_account_id=page_id,
        external_id=post.post_id,
        conversation_id=post.post_id,
        reply_to_id=post.post_id,  # an answer is a comment on the post
        author=Author(id=post.sender.id, name=post.sender.name),
        text=post.message,
        attachments=tuple(Attachment(type=kind, url=url) for kind, url in
                          (("image", post.photo), ("video", post.video)) if url),
        visibility=Visibility.PUBLIC,
        created_at=_time(post.created_time),
    )


def _page_mention(page_id: str, value: dict, entry_time: Any) -> Optional[Mention]:
    """A post or comment elsewhere that mentions the Page. The webhook names it and no author:
    until the author is looked up (GET /{id}?fields=from,message,created_time) the author is a
    placeholder unique to this mention, so unrelated mentions never merge into one customer.
    https://developers.facebook.com/docs/graph-api/webhooks/reference/page/#mention"""
    if value.get("verb", "add") != "add":
        return None  # edited, removed
    mention = _validate(PageMention, value, "page mention")
    external_id = mention.comment_id if mention.item == "comment" and mention.comment_id else mention.post_id
    return Mention(
        platform="facebook",
        kind="mention",
        brand_account_id=page_id,
        external_id=external_id,
        conversation_id=mention.post_id,
        reply_to_id=external_id,
        author=Author(id=f"unknown:{external_id}"),
        text=channels.text(value.get("message")),
        visibility=Visibility.PUBLIC,
        created_at=_time(value.get("created_time"), entry_time),
    )


def _feed_comment(page_id: str, value: dict) -> Optional[Mention]:
    comment = _validate(FeedComment, value, "feed comment")
    if comment.sender.id == page_id:
        return None  # the page's own comment (typically our reply)
    attachments = tuple(
        Attachment(type=kind, url=url)
        for kind, url in (("image", comment.photo), ("video", comment.video))
        if url
    )
    return Mention(
        platform="facebook",
        kind="comment",
        brand_account_id=page_id,
        external_id=comment.comment_id,
        conversation_id=comment.post_id,
        reply_to_id=comment.comment_id,
        in_reply_to_id=comment.parent_id,
        author=Author(id=comment.sender.id, name=comment.sender.name),
        text=comment.message,
        attachments=attachments,
        visibility=Visibility.PUBLIC,
        created_at=_time(comment.created_time),
    )


def _message(platform: str, account_id: str, raw: dict) -> Optional[Mention]:
    """A Messenger or Instagram DM; reactions and echoes are not mentions."""
    if "message" not in raw and "postback" not in raw:
        return None  # reaction, optin, referral, message_edit, ...
    event = _validate(MessagingEvent, raw, "messaging event")
    if event.sender.id == account_id:
        return None  # sent by the brand itself
    if event.message is not None:
        # Messages the page sends come back with is_echo=true.
        # https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/message-echoes
        if event.message.is_echo or event.message.is_deleted:
            return None
        return _dm(platform, account_id, event, event.message.mid, event.message.text or "",
                   _messaging_attachments(event.message.attachments),
                   channels.text((event.message.reply_to or {}).get("mid")) or None)
    postback = event.postback
    if postback is None:
        return None
    # A button tap: the button's title is what the customer "said".
    # https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messaging_postbacks
    mid = postback.mid or f"postback:{event.sender.id}:{event.timestamp}"
    return _dm(platform, account_id, event, mid, postback.title or postback.payload or "", (), None)


def _dm(platform: str, account_id: str, event: MessagingEvent, mid: str, text: str,
        attachments: tuple[Attachment, ...], in_reply_to: Optional[str]) -> Mention:
    return Mention(
        platform=platform,
        kind="message",
        brand_account_id=event.recipient.id or account_id,
        external_id=mid,
        conversation_id=event.sender.id,
        reply_to_id=event.sender.id,
        in_reply_to_id=in_reply_to,
        author=Author(id=event.sender.id),
        text=text,
        attachments=attachments,
        visibility=Visibility.PRIVATE,
        created_at=_time(event.timestamp),
    )


def _receipts(platform: str, account_id: str, raw: dict) -> list[DeliveryStatus]:
    """A `delivery` (one status per mid, or one by watermark alone) or a `read`."""
    event = _validate(DeliveryEvent if "delivery" in raw else ReadEvent, raw, "messaging receipt")
    if event.sender.id == account_id:
        return []  # the brand's own receipt, not the customer's of ours
    if isinstance(event, DeliveryEvent):
        return [_receipt(platform, account_id, event, "delivered", mid, event.delivery.watermark)
                for mid in event.delivery.mids or [None]]
    return [_receipt(platform, account_id, event, "read", event.read.mid, event.read.watermark)]


def _receipt(platform: str, account_id: str, event: _Receipt, status: str,
             mid: Optional[str], watermark: Optional[int]) -> DeliveryStatus:
    return DeliveryStatus(
        platform=platform,
        brand_account_id=event.recipient.id or account_id,
        external_id=mid,
        status=status,
        recipient_id=event.sender.id,
        timestamp=_time(event.timestamp, watermark),
        watermark=_watermark(watermark),
    )


def _messaging_attachments(items: list[dict]) -> tuple[Attachment, ...]:
    # Each attachment is {type: image|video|audio|file|location|fallback|..., payload: {url}}.
    out = []
    for item in items:
        if isinstance(item, dict):
            payload = channels.obj(item.get("payload"))
            kind = channels.text(item.get("type"))[:64] or "file"
            out.append(Attachment(type=kind, url=channels.url(payload.get("url"))))
    return tuple(out)


# --- Instagram comments and mentions -------------------------------------------------------

def _ig_comment(account_id: str, value: dict, entry_time: Epoch) -> Optional[Mention]:
    comment = _validate(IgComment, value, "instagram comment")
    if comment.sender.id == account_id:
        return None  # the brand's own comment or reply
    return Mention(
        platform="instagram",
        kind="comment",
        brand_account_id=account_id,
        external_id=comment.id,
        conversation_id=comment.media.id,
        reply_to_id=comment.id,
        in_reply_to_id=comment.parent_id,
        author=Author(id=comment.sender.id, handle=comment.sender.username),
        text=comment.text,
        visibility=Visibility.PUBLIC,
        created_at=_time(value.get("timestamp"), entry_time),
    )


def _ig_mention(account_id: str, value: dict, entry_time: Epoch) -> Mention:
    mention = _validate(IgMention, value, "instagram mention")
    external_id = mention.comment_id or mention.media_id
    # The mentions webhook carries ids only; author and text must be fetched from the Graph API
    # (GET /{ig-user-id}?fields=mentioned_comment.comment_id(...)). Until then the author is a
    # placeholder unique to this mention, so unrelated mentions never merge into one customer.
    return Mention(
        platform="instagram",
        kind="mention",
        brand_account_id=account_id,
        external_id=external_id,
        conversation_id=mention.media_id,
        reply_to_id=external_id,
        author=Author(id=f"unknown:{external_id}"),
        text=channels.text(value.get("text")),
        visibility=Visibility.PUBLIC,
        created_at=_time(entry_time),
    )


# --- WhatsApp ------------------------------------------------------------------------------

_WA_MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
_WA_IGNORED_TYPES = ("reaction", "system", "ephemeral")


def _wa_message(value: WaValue, raw: Any) -> Optional[Mention]:
    message = _validate(WaMessage, raw, "whatsapp message")
    if message.type in _WA_IGNORED_TYPES:
        return None
    text, attachments = _wa_content(message.type, raw)
    return Mention(
        platform="whatsapp",
        kind="message",
        brand_account_id=value.metadata.phone_number_id,
        external_id=message.id,
        conversation_id=message.sender,
        reply_to_id=message.id,
        in_reply_to_id=(message.context or {}).get("id"),
        author=Author(id=message.sender, name=_wa_name(value.contacts, message.sender)),
        text=text,
        attachments=attachments,
        visibility=Visibility.PRIVATE,
        created_at=_time(message.timestamp),
    )


def _wa_content(kind: str, raw: dict) -> tuple[str, tuple[Attachment, ...]]:
    """Text and attachments per message type; unknown types keep their type as an attachment."""
    body = channels.obj(raw.get(kind))
    text = channels.text
    if kind == "text":
        return text(body.get("body")), ()
    if kind in _WA_MEDIA_TYPES:
        # Media arrive as ids to download with GET /{media-id}; captions ride along.
        media_id = text(body.get("id"))
        url = f"whatsapp-media:{media_id}" if media_id else None
        return text(body.get("caption")), (Attachment(type=kind, url=url),)
    if kind == "location":
        url = f"geo:{text(body.get('latitude'))},{text(body.get('longitude'))}"
        label = " - ".join(text(body.get(k)) for k in ("name", "address") if text(body.get(k)))
        return label, (Attachment(type="location", url=url),)
    if kind == "interactive":
        reply = channels.obj(body.get(text(body.get("type"))))
        return text(reply.get("title")), ()
    if kind == "button":
        return text(body.get("text")) or text(body.get("payload")), ()
    if kind == "contacts":
        names = [text(channels.obj(channels.obj(c).get("name")).get("formatted_name"))
                 for c in channels.array(raw.get("contacts"))]
        return ", ".join(n for n in names if n), (Attachment(type="contacts"),)
    # unsupported, order, ...: keep the message so an agent sees something arrived.
    return text(body.get("text")), (Attachment(type=kind[:64]),)


def _wa_name(contacts: list, wa_id: str) -> Optional[str]:
    for contact in contacts:
        if isinstance(contact, dict) and channels.text(contact.get("wa_id")) == wa_id:
            return channels.text(channels.obj(contact.get("profile")).get("name")) or None
    return None


def _wa_status(value: WaValue, raw: Any) -> DeliveryStatus:
    status = _validate(WaStatus, raw, "whatsapp status")
    return DeliveryStatus(
        platform="whatsapp",
        brand_account_id=value.metadata.phone_number_id,
        external_id=status.id,
        status=status.status,
        recipient_id=status.recipient_id,
        timestamp=_time(status.timestamp),
        callback_data=status.biz_opaque_callback_data,
        errors=tuple(status.errors),
    )
