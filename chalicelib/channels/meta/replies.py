"""Reply rules Facebook and Instagram share (Meta's Messenger Platform): the one private reply to a
comment within 7 days, and the 24-hour messaging window (7 days with the HUMAN_AGENT tag).

https://developers.facebook.com/docs/messenger-platform/discovery/private-replies
https://developers.facebook.com/docs/messenger-platform/policy/policy-overview#24hours_window
"""
from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.aggregates.message import Message
from chalicelib.channels.reply import Plan, ReplyRefused, private_only, time

STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
PRIVATE_REPLY_WINDOW = timedelta(days=7)


def private_reply(action: str, latest: Message, messages: list[Message], account_id: str, now: datetime) -> Plan:
    comment_id = latest.reply_to_id or latest.platform_message_id
    closes = time(latest.created_at) + PRIVATE_REPLY_WINDOW
    if now >= closes:
        raise ReplyRefused("visibility", f"a private reply to a comment is possible for 7 days; "
                                         f"this one closed at {closes.isoformat()}; answer publicly")
    for m in messages:
        if (m.direction == "out" and m.kind == action and m.status != "failed"
                and (m.target or {}).get("comment_id") == comment_id):
            raise ReplyRefused("visibility", "this comment already has its one private reply; "
                                             "answer publicly, or in the conversation it started")
    return Plan(action, {"comment_id": comment_id, "account_id": account_id}, window_closes_at=closes)


def dm_window(action: str, name: str):
    """The planner of a direct message: 24 hours after the customer's last message, or 7 days with
    the HUMAN_AGENT tag when the brand account has it (Meta grants it per app)."""
    def planner(ticket, latest, inbound, messages, account, visibility, now) -> Plan:
        private_only(visibility, name)
        target = {"recipient_id": latest.author["id"], "account_id": ticket.brand_account_id}
        last = max(time(m.created_at) for m in inbound if m.kind == "message")
        closes = last + STANDARD_WINDOW
        if now < closes:
            return Plan(action, target, window_closes_at=closes)
        if account.human_agent_tag and now < last + HUMAN_AGENT_WINDOW:
            return Plan(action, {**target, "tag": "HUMAN_AGENT"}, window_closes_at=last + HUMAN_AGENT_WINDOW,
                        notes=("sent with the HUMAN_AGENT tag: more than 24 hours since the customer wrote",))
        raise ReplyRefused("visibility", f"{name} allows a reply for 24 hours after the customer's last "
                                         f"message; that window closed at {closes.isoformat()}. Wait for the "
                                         "customer to write again, or reach them on another channel")
    return planner
