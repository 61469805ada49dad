"""WhatsApp's replies: private only, free-form for 24 hours after the customer's last message
(afterwards only an approved template reaches them, which a free-form reply is not).
https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-messages#customer-service-windows
"""
from __future__ import annotations

from chalicelib.channels.meta.replies import STANDARD_WINDOW
from chalicelib.channels.reply import Plan, ReplyRefused, private_only, time

ACTIONS = {"whatsapp": "a WhatsApp message"}


def _message(ticket, latest, inbound, messages, account, visibility, now) -> Plan:
    private_only(visibility, "WhatsApp")
    last = max(time(m.created_at) for m in inbound)
    closes = last + STANDARD_WINDOW
    if now >= closes:
        raise ReplyRefused("visibility", "WhatsApp allows free-form replies for 24 hours after the customer's "
                                         f"last message; that window closed at {closes.isoformat()}. Only an "
                                         "approved template message can reach them now")
    return Plan("whatsapp", {"to": latest.author["id"], "context_message_id": latest.platform_message_id,
                             "account_id": ticket.brand_account_id}, window_closes_at=closes)


PLANNERS = {"message": _message}
