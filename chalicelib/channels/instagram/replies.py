"""Instagram's replies: a comment is answered by a comment reply (public) or its one private reply
(7 days); a mention only publicly, on the media or comment that mentioned the brand; a DM by the
Send API within its window (channels/meta/replies.py)."""
from __future__ import annotations

from chalicelib.channels.meta.replies import dm_window, private_reply
from chalicelib.channels.reply import Plan, ReplyRefused

ACTIONS = {"ig_comment_reply": "an Instagram comment reply", "ig_mention_reply": "an Instagram reply to the mention",
           "ig_private_reply": "an Instagram private reply", "ig_dm": "an Instagram direct message"}


def _comment(ticket, latest, inbound, messages, account, visibility, now) -> Plan:
    comment_id = latest.reply_to_id or latest.platform_message_id
    if visibility == "public":
        return Plan("ig_comment_reply", {"comment_id": latest.in_reply_to_id or comment_id,
                                         "account_id": ticket.brand_account_id})
    return private_reply("ig_private_reply", latest, messages, ticket.brand_account_id, now)


def _mention(ticket, latest, inbound, messages, account, visibility, now) -> Plan:
    if visibility != "public":
        raise ReplyRefused("visibility", "an Instagram mention can only be answered publicly, on the "
                                         "post or comment that mentioned the brand")
    media_id = ticket.conversation_key.split("#", 2)[2]
    target = {"account_id": ticket.brand_account_id, "media_id": media_id}
    if latest.platform_message_id != media_id:
        target["comment_id"] = latest.platform_message_id
    return Plan("ig_mention_reply", target)


PLANNERS = {"comment": _comment, "mention": _mention,
            "message": dm_window("ig_dm", "Instagram direct messages")}
