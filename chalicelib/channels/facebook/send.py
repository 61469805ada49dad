"""Sending a reply on Facebook (Graph API, the Page's token), and finding it again.

| action           | request (base GRAPH_API_BASE)                                        |
| fb_comment_reply | POST /{comment-id}/comments {message}; find: GET the same edge       |
| fb_private_reply | POST /{page-id}/messages {recipient.comment_id, message.text}        |
| messenger        | POST /{page-id}/messages {recipient.id, messaging_type, message}     |
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from chalicelib.aggregates.message import Message
from chalicelib.channels.meta import graph
from chalicelib.channels.meta.messaging import already_replied, find_comment, private_reply, send_api, send_api_find
from chalicelib.channels.reply import Sender


def comment_reply(message: Message, credential, attempt: int = 1) -> str:
    path = f"/{graph.seg(message.target['comment_id'])}/comments"
    return str(graph.post(path, {"message": message.text}, credential, attempt)["id"])


def comment_reply_find(message: Message, credential, since: datetime) -> Optional[str]:
    return find_comment(f"/{graph.seg(message.target['comment_id'])}/comments", "message", message,
                        credential, since)


SENDERS = {
    "fb_comment_reply": Sender(comment_reply, comment_reply_find),
    "fb_private_reply": Sender(private_reply, landed=already_replied),
    "messenger": Sender(send_api, send_api_find("messenger")),
}
