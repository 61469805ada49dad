"""Inbound email: an SES receipt rule publishes each message to SNS; this parses that message.

The SNS message is SES's receipt notification JSON (`notificationType: "Received"`, `receipt`,
`mail` with `commonHeaders`, and `content` = the raw MIME email, present only for the SNS
action, base64-encoded when the action's encoding is Base64).
https://docs.aws.amazon.com/ses/latest/dg/receiving-email-notifications-contents.html

Normalisation:
    author        From: id = lowercased address, name = display name
    brand account the first To address that is not the sender (lowercased), else the
                  envelope recipient from `receipt.recipients` / `mail.destination`
    external_id   Message-ID without angle brackets (SES's own messageId if there is none)
    conversation  first id in References, else In-Reply-To, else the Message-ID: every
                  reply in a thread points back at the first message, so a thread is one ticket
    text          the text/plain part (else the text/html part stripped of tags), with the
                  quoted history removed: everything from the first line that looks like
                  "On <date>, <someone> wrote:" or "-----Original Message-----" is dropped,
                  and lines starting with ">" are dropped. If that leaves nothing, the
                  unstripped text is kept.
    attachments   type = MIME main type (image, application, ...),
                  url = "ses-attachment:<filename>" (None when the part has no filename)
    headers       Message-ID, In-Reply-To, References as received (for threading replies)
Notifications other than "Received" are counted as ignored. A message that is not JSON, has
no `mail` object or no `content` raises UnknownPayload.

Imports the standard library, pydantic, chalicelib.models, chalicelib.errors and chalicelib.channels.
"""
from __future__ import annotations

import base64
import binascii
import email
import email.errors
import email.policy
import email.utils
import json
import re
from datetime import datetime, timezone
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Optional

from pydantic import ValidationError

from chalicelib.channels import describe
from chalicelib.channels.email import ID
from chalicelib.errors import UnknownPayload
from chalicelib.models import Attachment, Author, Mention, ParseResult, Visibility, iso_time, utcnow

THREAD_HEADERS = ("Message-ID", "In-Reply-To", "References")
_MIME_ERRORS = (email.errors.MessageError, IndexError, KeyError, LookupError, ValueError, TypeError, AttributeError)

# "On Tue, 3 Jun 2025 at 10:00, Jane <jane@example.com> wrote:" (Gmail, Apple Mail, Outlook web)
_ATTRIBUTION = re.compile(r"^\s*On\b.*\bwrote:\s*$", re.IGNORECASE)
_OUTLOOK_SEPARATOR = re.compile(r"^\s*-{2,}\s*Original Message\s*-{2,}\s*$", re.IGNORECASE)
_MSG_ID = re.compile(r"<([^<>]+)>")


def parse_sns(sns_message: str) -> ParseResult:
    """Parse one SNS `Message` string published by an SES receipt rule's SNS action."""
    notification = _load(sns_message)
    if notification.get("notificationType") != "Received":
        return ParseResult(ignored=1)
    mail = notification.get("mail")
    if not isinstance(mail, dict):
        raise UnknownPayload("email: notification has no mail object")
    receipt = notification.get("receipt") if isinstance(notification.get("receipt"), dict) else {}
    message = _mime(notification.get("content"), receipt)
    try:
        return ParseResult(mentions=[_mention(message, mail, receipt)])
    except ValidationError as exc:  # an id over 512 characters, an empty address, ...
        raise UnknownPayload("email: invalid fields: " + describe(exc)) from exc
    except _MIME_ERRORS as exc:
        # The standard library's header parser raises more than it documents on hostile input
        # (e.g. IndexError in _header_value_parser for odd folding): the body is quarantined.
        raise UnknownPayload(f"email: MIME the parser could not read ({type(exc).__name__})") from exc


def _load(sns_message: str) -> dict:
    try:
        notification = json.loads(sns_message)
    except (TypeError, ValueError) as exc:
        raise UnknownPayload("email: SNS message is not JSON") from exc
    if not isinstance(notification, dict):
        raise UnknownPayload("email: SNS message is not a JSON object")
    return notification


def _mime(content: object, receipt: dict) -> EmailMessage:
    if not isinstance(content, str) or not content:
        # Only the SNS action includes the email itself; S3/Lambda alerts carry metadata only.
        raise UnknownPayload("email: notification has no content (not from an SNS action?)")
    action = receipt.get("action") if isinstance(receipt.get("action"), dict) else {}
    encoding = str(action.get("encoding") or "").upper().replace("-", "")
    if encoding == "BASE64":
        try:
            raw = base64.b64decode(content, validate=False)
        except (binascii.Error, ValueError) as exc:
            raise UnknownPayload("email: content is not valid base64") from exc
        return email.message_from_bytes(raw, policy=email.policy.default)
    # UTF-8 content holds the raw MIME, 8bit parts included: parse it as the bytes it was.
    # (surrogatepass: a lone "\\ud800" escape in the JSON becomes bytes the parser reads as junk)
    return email.message_from_bytes(content.encode("utf-8", "surrogatepass"), policy=email.policy.default)


def _mention(message: EmailMessage, mail: dict, receipt: dict) -> Mention:
    common = mail.get("commonHeaders") if isinstance(mail.get("commonHeaders"), dict) else {}
    sender_name, sender = _sender(message, common)
    message_id = _first_id(message.get("Message-ID")) or _first_id(common.get("messageId"))
    message_id = message_id or str(mail.get("messageId") or "")
    if not message_id:
        raise UnknownPayload("email: no Message-ID and no SES messageId")
    references = _ids(message.get("References"))
    in_reply_to = _first_id(message.get("In-Reply-To"))
    return Mention(
        platform=ID,
        kind="email",
        brand_account_id=_recipient(message, sender, receipt, mail),
        external_id=message_id,
        conversation_id=(references[0] if references else None) or in_reply_to or message_id,
        reply_to_id=message_id,
        in_reply_to_id=in_reply_to,
        author=Author(id=sender, name=sender_name or None),
        text=strip_quoted(_body_text(message)),
        attachments=_attachments(message),
        visibility=Visibility.PRIVATE,
        created_at=_date(message.get("Date"), mail.get("timestamp")),
        source="email",
        subject=str(message.get("Subject") or common.get("subject") or "") or None,
        headers={name: str(message[name]) for name in THREAD_HEADERS if message.get(name)},
    )


def _sender(message: EmailMessage, common: dict) -> tuple[str, str]:
    raw = message.get("From")
    if raw is None and isinstance(common.get("from"), list) and common["from"]:
        raw = common["from"][0]
    name, address = email.utils.parseaddr(str(raw or ""))
    if not address:
        raise UnknownPayload("email: no From address")
    return name, address.lower()


def _recipient(message: EmailMessage, sender: str, receipt: dict, mail: dict) -> str:
    header_to = [addr for _, addr in email.utils.getaddresses([str(v) for v in message.get_all("To", [])])]
    envelope = [a for key, holder in (("recipients", receipt), ("destination", mail))
                if isinstance(holder.get(key), list) for a in holder[key] if isinstance(a, str)]
    for address in header_to + envelope:
        if address and address.lower() != sender:
            return address.lower()
    raise UnknownPayload("email: no recipient other than the sender")


def _first_id(value: object) -> Optional[str]:
    ids = _ids(value)
    return ids[0] if ids else None


def _ids(value: object) -> list[str]:
    """Message ids from a Message-ID / In-Reply-To / References header, without brackets."""
    if not value:
        return []
    text = str(value)
    found = _MSG_ID.findall(text)
    return [i.strip() for i in found] if found else [p for p in text.split() if p]


def _date(header: object, ses_timestamp: object) -> datetime:
    """The Date header, else the time SES received the mail, else now; always UTC."""
    value = _header_date(header) or _iso_date(ses_timestamp)
    return value.astimezone(timezone.utc) if value else utcnow()


def _header_date(value: object) -> Optional[datetime]:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _iso_date(value: object) -> Optional[datetime]:
    return iso_time(str(value)) if value else None


# --- body and attachments ------------------------------------------------------------------

def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    if part is not None:
        return _content(part)
    part = message.get_body(preferencelist=("html",))
    return html_to_text(_content(part)) if part is not None else ""


def _content(part: EmailMessage) -> str:
    try:
        return str(part.get_content())
    except (LookupError, ValueError):  # unknown charset or broken transfer encoding
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace")


def _attachments(message: EmailMessage) -> tuple[Attachment, ...]:
    if not message.is_multipart():
        return ()
    out = []
    for part in message.iter_attachments():
        filename = part.get_filename()
        out.append(Attachment(
            type=part.get_content_maintype(),
            url=f"ses-attachment:{filename}" if filename else None,
        ))
    return tuple(out)


def strip_quoted(text: str) -> str:
    """Drop the quoted history of a reply (see the module docstring for the exact rules)."""
    kept = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if _ATTRIBUTION.match(line) or _OUTLOOK_SEPARATOR.match(line):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    stripped = "\n".join(kept).strip()
    return stripped or text.strip()


class _TextExtractor(HTMLParser):
    _BREAKS = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}
    _SKIP = {"script", "style", "head", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Plain text of an HTML body: tags dropped, block elements become line breaks."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    lines = [re.sub(r"[ \t\xa0]+", " ", line).strip() for line in "".join(extractor.parts).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
