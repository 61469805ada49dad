"""WhatsApp Cloud API entries of Meta's webhook (`object: whatsapp_business_account`). Meta's
envelope, signature and handshake are `meta/webhook.py`, which hands each entry here
(`parse_entry`) because this channel's descriptor names `whatsapp_business_account` as its part.

Inbound `messages` become Mentions (kind "message"; media arrive as ids, locations as geo: URLs);
`statuses` become DeliveryStatus records of the brand's outbound messages, with our
`biz_opaque_callback_data` as callback_data and, when it is our reference (reference.py, which
send.py writes), the reply it names as `ours`. Reactions, system messages, errors and other
fields (account_update, message_template_status_update, ...) are counted as ignored.

Imports pydantic, the standard library, chalicelib.models, chalicelib.errors and meta's shared
entry helpers only.
"""
from __future__ import annotations

from typing import Any, Optional

from pydantic import Field

from chalicelib import channels
from chalicelib.channels import survey
from chalicelib.channels.meta.entries import Change, Loose, collect, items, time, validate
from chalicelib.channels.whatsapp import ID, reference
from chalicelib.models import Attachment, Author, DeliveryStatus, Mention, ParseResult, SurveyAnswer, Visibility


class WaMetadata(Loose):
    phone_number_id: str
    display_phone_number: Optional[str] = None


class WaValue(Loose):
    """WhatsApp `messages` change value.

    https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages
    """

    metadata: WaMetadata
    contacts: list = []  # items are read one by one: one odd item never sinks its neighbours
    messages: list = []
    statuses: list = []
    errors: list = []


class WaMessage(Loose):
    id: str
    sender: str = Field(alias="from")
    timestamp: str
    type: str
    context: Optional[dict] = None


class WaStatus(Loose):
    """https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/status"""

    id: str
    status: str
    timestamp: str
    recipient_id: Optional[str] = None
    errors: list[dict] = Field(default=[], max_length=20)
    biz_opaque_callback_data: Optional[str] = None  # echoed from our send request


def parse_entry(_waba_id: str, entry: dict, result: ParseResult) -> None:
    """One WhatsApp Business Account's entry: its `messages` changes (messages and statuses)."""
    def change(raw: Any) -> None:
        item = validate(Change, raw, "change")
        if item.field != "messages":
            result.ignored += 1  # account_update, message_template_status_update, ...
            return
        value = validate(WaValue, item.value, "whatsapp messages value")
        channels.each(result, value.messages, "messages", lambda m: _take(result, _message(value, m)))
        channels.each(result, value.statuses, "statuses", lambda s: result.statuses.append(_status(value, s)))
        result.ignored += len(value.errors) or (0 if value.messages or value.statuses else 1)

    channels.each(result, items(entry, "changes"), "changes", change)
    result.ignored += len(items(entry, "messaging"))  # WhatsApp sends none; counted, never dropped


_MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
_IGNORED_TYPES = ("reaction", "system", "ephemeral")


def _take(result: ParseResult, item: "Mention | SurveyAnswer | None") -> None:
    if isinstance(item, SurveyAnswer):  # a CSAT survey's button: an answer, never a mention
        result.answers.append(item)
    else:
        collect(result, item)


def _message(value: WaValue, raw: Any) -> "Mention | SurveyAnswer | None":
    message = validate(WaMessage, raw, "whatsapp message")
    if message.type in _IGNORED_TYPES:
        return None
    answer = _survey_answer(value, message, raw)
    if answer is not None:
        return answer
    text, attachments = _content(message.type, raw)
    return Mention(
        platform=ID,
        kind="message",
        brand_account_id=value.metadata.phone_number_id,
        external_id=message.id,
        conversation_id=message.sender,
        reply_to_id=message.id,
        in_reply_to_id=(message.context or {}).get("id"),
        author=Author(id=message.sender, name=_name(value.contacts, message.sender)),
        text=text,
        attachments=attachments,
        visibility=Visibility.PRIVATE,
        created_at=time(message.timestamp),
    )


def _survey_answer(value: WaValue, message: WaMessage, raw: dict) -> Optional[SurveyAnswer]:
    """A tap on one of our survey's reply buttons: `interactive.button_reply.id` is its payload.
    https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples#reply-button"""
    if message.type != "interactive":
        return None
    body = channels.obj(raw.get("interactive"))
    decoded = survey.decode(channels.obj(body.get("button_reply")).get("id")) \
        if channels.text(body.get("type")) == "button_reply" else None
    if decoded is None:
        return None
    ticket_id, score, sig = decoded
    return SurveyAnswer(platform=ID, brand_account_id=value.metadata.phone_number_id, external_id=message.id,
                        ticket_id=ticket_id, score=score, sig=sig, author_id=message.sender,
                        timestamp=time(message.timestamp))


def _content(kind: str, raw: dict) -> tuple[str, tuple[Attachment, ...]]:
    """Text and attachments per message type; unknown types keep their type as an attachment."""
    body = channels.obj(raw.get(kind))
    text = channels.text
    if kind == "text":
        return text(body.get("body")), ()
    if kind in _MEDIA_TYPES:
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


def _name(contacts: list, wa_id: str) -> Optional[str]:
    for contact in contacts:
        if isinstance(contact, dict) and channels.text(contact.get("wa_id")) == wa_id:
            return channels.text(channels.obj(contact.get("profile")).get("name")) or None
    return None


def _status(value: WaValue, raw: Any) -> DeliveryStatus:
    status = validate(WaStatus, raw, "whatsapp status")
    return DeliveryStatus(
        platform=ID,
        brand_account_id=value.metadata.phone_number_id,
        external_id=status.id,
        status=status.status,
        recipient_id=status.recipient_id,
        timestamp=time(status.timestamp),
        callback_data=status.biz_opaque_callback_data,
        ours=reference.decode(status.biz_opaque_callback_data),
        errors=tuple(status.errors),
    )
