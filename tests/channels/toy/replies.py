"""Toy's replies: a chat is answered privately, in the chat (the interface: chalicelib/channels/reply.py)."""
from __future__ import annotations

from chalicelib.channels.reply import Plan, private_only

ACTIONS = {"toy_chat": "a Toy chat message"}


def _chat(ticket, latest, inbound, messages, account, visibility, now) -> Plan:
    private_only(visibility, "Toy chat")
    return Plan("toy_chat", {"account_id": ticket.brand_account_id, "chat_id": latest.author["id"],
                             "in_reply_to": latest.platform_message_id})


PLANNERS = {"chat": _chat}
