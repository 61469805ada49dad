"""Senders Facebook and Instagram share (Meta's Messenger Platform): a comment reply's look-up, the
one private reply to a comment, and the Send API (Messenger, Instagram DMs) with its look-up.

| request (base GRAPH_API_BASE)                                                           |
| POST /{page-or-ig-user-id}/messages {recipient.comment_id, message.text}  private reply |
| POST /{page-or-ig-user-id}/messages {recipient.id, messaging_type RESPONSE, message}    |
|      (MESSAGE_TAG with tag HUMAN_AGENT past 24 hours)                     Send API      |
| GET /{page-or-ig-user-id}/conversations?platform&user_id&fields=messages  its look-up  |
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from chalicelib.aggregates.message import Message
from chalicelib.channels.meta import graph
from chalicelib.channels.reply import Sender, after, same

ALREADY_PRIVATE_REPLIED = "10/2018278"  # (#10) subcode 2018278: outside the window, or already replied


def comment_reply(edge: str, text_field: str) -> Sender:
    """A public answer under a comment: POST /{comment-id}/<edge> with `message`, found again by
    its text (`text_field` in the edge's answer) after an unknown outcome. Facebook's edge is
    `comments` (text in `message`), Instagram's `replies` (text in `text`)."""
    def send(message: Message, credential, attempt: int = 1) -> str:
        path = f"/{graph.seg(message.target['comment_id'])}/{edge}"
        return str(graph.post(path, {"message": message.text}, credential, attempt)["id"])

    def find(message: Message, credential, since: datetime) -> Optional[str]:
        return find_comment(f"/{graph.seg(message.target['comment_id'])}/{edge}", text_field, message,
                            credential, since)

    return Sender(send, find)


def find_comment(path: str, text_field: str, message: Message, credential, since: datetime) -> Optional[str]:
    """Our comment under `path` with the message's text, posted since our first attempt."""
    page = graph.get(path, credential, fields=f"id,{text_field},from,created_time,timestamp")
    for item in page.get("data") or []:
        if (str((item.get("from") or {}).get("id")) == message.target["account_id"]
                and same(item.get(text_field), message.text)
                and after(item.get("created_time") or item.get("timestamp"), since)):
            return str(item["id"])
    return None


def private_reply(message: Message, credential, attempt: int = 1) -> str:
    body = {"recipient": {"comment_id": message.target["comment_id"]}, "message": {"text": message.text}}
    answer = graph.post(f"/{graph.seg(message.target['account_id'])}/messages", body, credential, attempt)
    return str(answer.get("message_id") or answer.get("id"))


def already_replied(err: Exception) -> bool:
    """A resent private reply refused because the comment has one: our earlier attempt landed."""
    return getattr(err, "code", None) == ALREADY_PRIVATE_REPLIED


def send_api(message: Message, credential, attempt: int = 1) -> str:
    target = message.target
    body: dict = {"recipient": {"id": target["recipient_id"]}, "messaging_type": "RESPONSE",
                  "message": {"text": message.text, "metadata": message.id}}
    if target.get("tag"):
        body.update(messaging_type="MESSAGE_TAG", tag=target["tag"])
    return str(graph.post(f"/{graph.seg(target['account_id'])}/messages", body, credential, attempt)["message_id"])


def send_api_survey(message: Message, credential, attempt: int = 1) -> str:
    """The CSAT survey (chalicelib/surveys.py) by the Send API: the question with one quick reply per
    answer, each payload the choice's signed payload, echoed back in the customer's
    `message.quick_reply.payload` (inbound_messaging.py). Never with the HUMAN_AGENT tag: a survey
    is not a human agent's answer (surveys.py sends none outside the standard window).
    https://developers.facebook.com/docs/messenger-platform/send-messages/quick-replies"""
    target, asked = message.target, message.target["survey"]
    quick = [{"content_type": "text", "title": c["title"][:20], "payload": c["payload"]} for c in asked["choices"][:13]]
    body = {"recipient": {"id": target["recipient_id"]}, "messaging_type": "RESPONSE",
            "message": {"text": asked["question"], "quick_replies": quick, "metadata": message.id}}
    return str(graph.post(f"/{graph.seg(target['account_id'])}/messages", body, credential, attempt)["message_id"])


def send_api_find(product: str):
    """The look-up of a Send API message in the conversation with the customer; `product` is the
    conversations edge's `platform` ("messenger", "instagram")."""
    def find(message: Message, credential, since: datetime) -> Optional[str]:
        target = message.target
        page = graph.get(f"/{graph.seg(target['account_id'])}/conversations", credential, platform=product,
                         user_id=target["recipient_id"], fields="messages{id,message,from,created_time}")
        for conversation in page.get("data") or []:
            for item in (conversation.get("messages") or {}).get("data") or []:
                if (str((item.get("from") or {}).get("id")) == target["account_id"]
                        and same(item.get("message"), message.text) and after(item.get("created_time"), since)):
                    return str(item["id"])
        return None
    return find
