"""The API channel's replies: either visibility goes to the account's callback URL."""
from __future__ import annotations

from chalicelib.channels.reply import Plan, ReplyRefused

ACTIONS = {"api_callback": "the API channel's callback"}


def _message(ticket, latest, inbound, messages, account, visibility, now) -> Plan:
    if not account.callback_url:
        raise ReplyRefused("ticket", "this API channel has no callback_url; set one on the account "
                                     "so replies can be delivered")
    return Plan("api_callback", {"account_id": ticket.brand_account_id, "url": account.callback_url,
                                 "to": latest.author["id"], "in_reply_to": latest.platform_message_id,
                                 "thread_id": ticket.conversation_key.split("#", 2)[2]})


PLANNERS = {"message": _message}
