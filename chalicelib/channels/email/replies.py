"""Email's replies: private only, threaded with In-Reply-To and References, "Re:" once."""
from __future__ import annotations

from chalicelib.channels.reply import Plan, private_only

ACTIONS = {"email": "an email"}


def _email(ticket, latest, inbound, messages, account, visibility, now) -> Plan:
    private_only(visibility, "email")
    headers = latest.headers or {}
    references = " ".join(filter(None, [headers.get("References"), _bracket(latest.platform_message_id)]))
    subject = ticket.subject or latest.subject or ""
    return Plan("email", {"account_id": ticket.brand_account_id, "to": latest.author["id"],
                          "to_name": latest.author.get("name"),
                          "subject": subject if subject.lower().startswith("re:") else f"Re: {subject}".strip(),
                          "in_reply_to": _bracket(latest.platform_message_id), "references": references})


def _bracket(message_id: str) -> str:
    return message_id if message_id.startswith("<") else f"<{message_id}>"


PLANNERS = {"email": _email}
