"""Sending a reply on Instagram (Graph API, the account's token), and finding it again.

| action           | request (base GRAPH_API_BASE)                                          |
| ig_comment_reply | POST /{ig-comment-id}/replies {message}; find: GET the same edge       |
| ig_private_reply | POST /{ig-user-id}/messages {recipient.comment_id, message.text}       |
| ig_mention_reply | POST /{ig-user-id}/mentions {media_id, comment_id?, message}           |
| ig_dm            | POST /{ig-user-id}/messages {recipient.id, messaging_type, message}    |
"""
from __future__ import annotations

from chalicelib.aggregates.message import Message
from chalicelib.channels.meta import graph
from chalicelib.channels.meta.messaging import (already_replied, comment_reply, private_reply, send_api, send_api_find,
                                                send_api_survey)
from chalicelib.channels.reply import Sender


def mention_reply(message: Message, credential, attempt: int = 1) -> str:
    target = message.target
    body = {"media_id": target["media_id"], "message": message.text}
    if target.get("comment_id"):
        body["comment_id"] = target["comment_id"]
    return str(graph.post(f"/{graph.seg(target['account_id'])}/mentions", body, credential, attempt)["id"])


SENDERS = {
    "ig_comment_reply": comment_reply("replies", "text"),
    "ig_private_reply": Sender(private_reply, landed=already_replied),
    "ig_mention_reply": Sender(mention_reply),
    "ig_dm": Sender(send_api, send_api_find("instagram")),
    "ig_dm_survey": Sender(send_api_survey, send_api_find("instagram")),  # CSAT: quick replies
}
