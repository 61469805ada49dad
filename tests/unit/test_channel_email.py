"""Inbound email: SES receipt notification (via SNS) → Mention, threading and quote stripping."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path

import pytest

from chalicelib.channels.email import inbound as email_channel
from chalicelib.errors import UnknownPayload
from chalicelib.models import Attachment, Author, Visibility
from infra.local import payloads

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "ses_notification.json"
SUPPORT = "support@acme.example"


def parse_one(message: str):
    result = email_channel.parse_sns(message)
    assert len(result.mentions) == 1
    return result.mentions[0]


def test_ses_notification_is_normalised():
    # Given SES's notification for a multipart reply with a quoted history and a photo
    mention = parse_one(FIXTURE.read_text(encoding="utf-8"))
    # When parsed / Then the email is a private mention in the thread of its first message
    assert (mention.platform, mention.kind, mention.source) == ("email", "email", "email")
    assert mention.brand_account_id == SUPPORT
    assert mention.author == Author(id="jane.doe@example.com", name="Jane D\u00f6e")
    assert mention.external_id == "CAOa7w2Ls9pF3@mail.gmail.com"
    assert mention.conversation_id == "CAOa7w2Kq1xY0@mail.gmail.com"
    assert mention.in_reply_to_id == "0100018fe1a2b3c4-acme-reply-1@email.amazonses.com"
    assert mention.subject == "Re: [Ticket] My order #4411 arrived damaged"
    assert mention.text == (
        "Hi, I still have not received the replacement. The tracking number you sent does not "
        "work \u2013 can you check?\n\nThanks,\nJane"
    )
    assert mention.attachments == (Attachment(type="image", url="ses-attachment:box.jpg"),)
    assert mention.visibility == Visibility.PRIVATE
    assert mention.created_at == datetime(2024, 6, 4, 9, 15, 30, tzinfo=timezone.utc)
    assert mention.headers == {
        "Message-ID": "<CAOa7w2Ls9pF3@mail.gmail.com>",
        "In-Reply-To": "<0100018fe1a2b3c4-acme-reply-1@email.amazonses.com>",
        "References": "<CAOa7w2Kq1xY0@mail.gmail.com> <0100018fe1a2b3c4-acme-reply-1@email.amazonses.com>",
    }


def test_first_email_of_a_thread_is_its_own_conversation():
    # Given a new email with no threading headers
    message = payloads.ses_sns_message("ana@example.org", SUPPORT, "Hello", "Hi there", "first-1@example.org")
    # When parsed
    mention = parse_one(message)
    # Then its Message-ID is the conversation
    assert mention.external_id == mention.conversation_id == "first-1@example.org"
    assert mention.headers == {"Message-ID": "<first-1@example.org>"}


def test_reply_with_only_in_reply_to_joins_that_conversation():
    # Given a reply carrying In-Reply-To but no References
    message = payloads.ses_sns_message("ana@example.org", SUPPORT, "Re: Hello", "More info",
                                       "second-2@example.org", in_reply_to="first-1@example.org")
    # When parsed / Then it belongs to the message it answers
    assert parse_one(message).conversation_id == "first-1@example.org"


def test_quoted_lines_and_attribution_are_stripped():
    # Given a reply with ">" quotes inline and an Outlook "Original Message" block
    body = "Yes, that works.\n> Can we call you tomorrow?\nThanks\n\n-----Original Message-----\nFrom: Support"
    message = payloads.ses_sns_message("ana@example.org", SUPPORT, "Re: call", body, "m3@example.org")
    # When parsed / Then only the new text remains
    assert parse_one(message).text == "Yes, that works.\nThanks"


def test_fully_quoted_message_keeps_its_text():
    # Given a forward that is nothing but quoted lines
    message = payloads.ses_sns_message("ana@example.org", SUPPORT, "Fwd", "> original line", "m4@example.org")
    # When parsed / Then the text is not emptied
    assert parse_one(message).text == "> original line"


def test_html_only_email_is_stripped_to_text():
    # Given an email with only an HTML body
    notification = json.loads(payloads.ses_sns_message("ana@example.org", SUPPORT, "Hi", "x", "m5@example.org"))
    mime = EmailMessage()
    mime["From"], mime["To"], mime["Message-ID"] = "Ana <ana@example.org>", SUPPORT, "<m5@example.org>"
    mime.set_content("<html><head><style>p{}</style></head><body><p>My <b>order</b> is late.</p>"
                     "<p>Ana &amp; Bo</p></body></html>", subtype="html")
    notification["content"] = mime.as_string()
    # When parsed
    mention = parse_one(json.dumps(notification))
    # Then the text is the visible text, one block per line
    assert mention.text == "My order is late.\n\nAna & Bo"


def test_base64_encoded_content_is_decoded():
    # Given an SNS action configured with Base64 encoding
    message = payloads.ses_sns_message("ana@example.org", SUPPORT, "Hej", "Tack s\u00e5 mycket",
                                       "m6@example.org", encoding="BASE64",
                                       attachments=[("invoice.pdf", "application/pdf", b"%PDF-1.4")])
    assert "Tack" not in json.loads(message)["content"]
    # When parsed
    mention = parse_one(message)
    # Then the MIME is decoded, attachment included
    assert mention.text == "Tack s\u00e5 mycket"
    assert mention.attachments == (Attachment(type="application", url="ses-attachment:invoice.pdf"),)


def test_recipient_is_the_first_to_address_that_is_not_the_sender():
    # Given an email whose To lists the sender before the support address
    message = payloads.ses_sns_message("ana@example.org", f"ana@example.org, Acme <{SUPPORT.upper()}>",
                                       "Hi", "text", "m7@example.org")
    # When parsed / Then the brand account is the support address, lowercased
    assert parse_one(message).brand_account_id == SUPPORT


def test_other_notification_types_are_ignored():
    # Given an SES notification that is not a received email
    message = json.dumps({"notificationType": "Bounce", "mail": {}, "bounce": {}})
    # When parsed / Then it is ignored
    result = email_channel.parse_sns(message)
    assert result.mentions == [] and result.ignored == 1


@pytest.mark.parametrize("message, reason", [
    ("not json at all", "not JSON"),
    (json.dumps(["Received"]), "not a JSON object"),
    (json.dumps({"notificationType": "Received"}), "no mail"),
    (json.dumps({"notificationType": "Received", "mail": {"messageId": "x"}}), "no content"),
])
def test_unreadable_notifications_raise_unknown_payload(message, reason):
    # Given an SNS message we cannot read / When parsed / Then it is quarantined
    with pytest.raises(UnknownPayload, match=reason):
        email_channel.parse_sns(message)
