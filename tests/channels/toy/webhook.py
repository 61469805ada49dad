"""Toy's webhook: `X-Toy-Signature: sha256=<hex HMAC-SHA256 of the raw body>`, a GET handshake that
echoes `challenge` when `token` is the secret, and a body of chats:
    {"account": "...", "chats": [{"id": "...", "from": {"id": "...", "name": "..."}, "text": "..."}]}
"""
from __future__ import annotations

import hmac
from typing import Any, Mapping, Optional

from chalicelib import channels
from chalicelib.channels import signing
from chalicelib.errors import UnknownPayload
from chalicelib.models import Author, Mention, ParseResult, Visibility, utcnow
from tests.channels.toy import ID


def handshake(query: Mapping[str, Any], secret: str) -> tuple[int, Any]:
    token, challenge = query.get("token"), query.get("challenge")
    if secret and token and challenge and hmac.compare_digest(str(token).encode(), secret.encode()):
        return 200, str(challenge)
    return 403, {"error": "forbidden"}


def verify(raw_body: bytes, signature_header: Optional[str], secret: str) -> None:
    signing.verify_hex(secret, raw_body, signature_header)


def parse(payload: Any) -> ParseResult:
    if not isinstance(payload, dict) or not isinstance(payload.get("chats"), list):
        raise UnknownPayload("toy: no chats")
    account = channels.text(payload.get("account"))
    result = ParseResult()

    def chat(raw: Any) -> None:
        raw = channels.obj(raw)
        author = channels.obj(raw.get("from"))
        result.mentions.append(Mention(
            platform=ID, kind="chat", brand_account_id=account, external_id=channels.text(raw.get("id")),
            conversation_id=channels.text(author.get("id")), reply_to_id=channels.text(raw.get("id")),
            author=Author(id=channels.text(author.get("id")), name=channels.text(author.get("name")) or None),
            text=channels.text(raw.get("text")), visibility=Visibility.PRIVATE, created_at=utcnow()))

    channels.each(result, payload["chats"], "chats", chat)
    return result
