"""Toy's sender. Toy is made up, so its "platform" is this module's list of what it was sent: the
first send of a message times out after Toy accepted it (`LOSE_ANSWER`), to prove the worker asks
Toy (`find`) before it sends again."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from chalicelib.aggregates.message import Message
from chalicelib.channels.reply import Sender
from chalicelib.errors import Ambiguous

POSTED: list[dict] = []
LOSE_ANSWER: set[str] = set()  # message ids whose first answer is lost


def chat(message: Message, credential, attempt: int = 1) -> str:
    POSTED.append({"chat_id": message.target["chat_id"], "text": message.text, "credential": credential})
    if message.id in LOSE_ANSWER:
        LOSE_ANSWER.discard(message.id)
        raise Ambiguous("no answer after sending (TimeoutError); the platform may have accepted it")
    return f"toy-{len(POSTED)}"


def chat_find(message: Message, credential, since: datetime) -> Optional[str]:
    found = [i for i, p in enumerate(POSTED, 1) if p["chat_id"] == message.target["chat_id"]
             and p["text"] == message.text]
    return f"toy-{found[0]}" if found else None


SENDERS = {"toy_chat": Sender(chat, chat_find, credential=None)}
