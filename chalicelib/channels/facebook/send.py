"""Sending a reply on Facebook (Graph API, the Page's token), and finding it again.

| action           | request (base GRAPH_API_BASE)                                        |
| fb_comment_reply | POST /{comment-id}/comments {message}; find: GET the same edge       |
| fb_private_reply | POST /{page-id}/messages {recipient.comment_id, message.text}        |
| messenger        | POST /{page-id}/messages {recipient.id, messaging_type, message}     |
"""
from __future__ import annotations

from chalicelib.channels.meta.messaging import (already_replied, comment_reply, private_reply, send_api, send_api_find,
                                                send_api_survey)
from chalicelib.channels.reply import Sender

SENDERS = {
    "fb_comment_reply": comment_reply("comments", "message"),
    "fb_private_reply": Sender(private_reply, landed=already_replied),
    "messenger": Sender(send_api, send_api_find("messenger")),
    "messenger_survey": Sender(send_api_survey, send_api_find("messenger")),  # CSAT: quick replies
}
