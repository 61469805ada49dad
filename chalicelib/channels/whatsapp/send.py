"""Sending a reply on WhatsApp (Cloud API, the number's token).

POST /{phone-number-id}/messages {messaging_product, to, type text, context, biz_opaque_callback_data}
(https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages). WhatsApp has no read of
our own messages to find a send whose answer was lost; its status webhooks carry our
`biz_opaque_callback_data` (our reference, reference.py), which webhook.py reads back into
`DeliveryStatus.ours`, and the ingest worker confirms the reply from them (outbound/receipts.py):
an unconfirmed reply waits `RECEIPT_GRACE` for that before the worker sends again.
"""
from __future__ import annotations

from datetime import timedelta

from chalicelib.aggregates.message import Message
from chalicelib.channels.meta import graph
from chalicelib.channels.reply import Sender
from chalicelib.channels.whatsapp import reference

RECEIPT_GRACE = timedelta(seconds=30)


def text(message: Message, credential, attempt: int = 1) -> str:
    target = message.target
    body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": target["to"], "type": "text",
            "text": {"preview_url": False, "body": message.text},
            "biz_opaque_callback_data": callback_data(message)}
    if target.get("context_message_id"):
        body["context"] = {"message_id": target["context_message_id"]}
    answer = graph.post(f"/{graph.seg(target['account_id'])}/messages", body, credential, attempt)
    return str(answer["messages"][0]["id"])


def callback_data(message: Message) -> str:
    """What WhatsApp echoes in every status of the message: enough to find it again."""
    return reference.encode(message.ticket_id, message.id)


def survey(message: Message, credential, attempt: int = 1) -> str:
    """The CSAT survey (chalicelib/surveys.py): an interactive message with up to three reply
    buttons, each button's id the choice's signed payload, echoed back in the customer's
    `interactive.button_reply` (webhook.py).
    https://developers.facebook.com/docs/whatsapp/cloud-api/messages/interactive-reply-buttons-messages
    """
    target, asked = message.target, message.target["survey"]
    buttons = [{"type": "reply", "reply": {"id": c["payload"], "title": c["title"][:20]}}
               for c in asked["choices"][:3]]  # WhatsApp: at most 3 buttons, titles up to 20 characters
    body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": target["to"],
            "type": "interactive", "interactive": {"type": "button", "body": {"text": asked["question"][:1024]},
                                                   "action": {"buttons": buttons}},
            "biz_opaque_callback_data": callback_data(message)}
    answer = graph.post(f"/{graph.seg(target['account_id'])}/messages", body, credential, attempt)
    return str(answer["messages"][0]["id"])


SENDERS = {"whatsapp": Sender(text, awaits_receipt=RECEIPT_GRACE),
           "whatsapp_survey": Sender(survey, awaits_receipt=RECEIPT_GRACE)}
