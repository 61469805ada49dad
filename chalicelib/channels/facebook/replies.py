"""Facebook's replies: a comment is answered by a comment reply (public) or its one private reply
(Messenger, 7 days); a visitor's post and a Page mention by a comment under it; a Messenger
conversation by the Send API within its window (channels/meta/replies.py)."""
from __future__ import annotations

from chalicelib.channels.meta.replies import dm_window, private_reply
from chalicelib.channels.reply import Plan, ReplyRefused

ACTIONS = {"fb_comment_reply": "a Facebook comment reply", "fb_private_reply": "a Facebook private reply",
           "messenger": "a Messenger message"}


def _comment(ticket, latest, inbound, messages, account, visibility, now) -> Plan:
    comment_id = latest.reply_to_id or latest.platform_message_id
    page_id = ticket.brand_account_id
    if visibility == "public":
        # Facebook threads one level deep: an answer to a reply goes under its top comment.
        post_id = ticket.conversation_key.split("#", 2)[2]
        parent = latest.in_reply_to_id
        top = comment_id if parent in (None, "", post_id) else parent
        return Plan("fb_comment_reply", {"comment_id": top, "account_id": page_id})
    return private_reply("fb_private_reply", latest, messages, page_id, now)


def _post(ticket, latest, inbound, messages, account, visibility, now) -> Plan:
    """A visitor's post on the Page, or a post or comment that mentions the Page: answered by a
    comment under it (POST /{object-id}/comments)."""
    if visibility != "public":
        raise ReplyRefused("visibility", f"a Facebook {latest.kind} is answered publicly, with a comment "
                                         "under it; a private answer goes through Messenger once they write there")
    return Plan("fb_comment_reply", {"comment_id": latest.reply_to_id or latest.platform_message_id,
                                     "account_id": ticket.brand_account_id})


PLANNERS = {"comment": _comment, "message": dm_window("messenger", "Messenger"), "post": _post, "mention": _post}
