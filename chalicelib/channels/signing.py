"""HMAC helpers shared by the adapters (and by the local traffic replay that signs requests).

Signatures are always computed over the raw request bytes: X and Meta sign their own
escaping (`\\u00e4`, `\\/`), which a re-serialised dict never reproduces.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Optional

from chalicelib.errors import InvalidSignature


def hmac_sha256(secret: str, body: bytes) -> bytes:
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()


def hex_signature(secret: str, body: bytes) -> str:
    """`sha256=<hex>`: Meta's X-Hub-Signature-256 and our API channel's X-Signature-256."""
    return "sha256=" + hmac_sha256(secret, body).hex()


def base64_signature(secret: str, body: bytes) -> str:
    """`sha256=<base64>`: X's x-twitter-webhooks-signature and CRC response token."""
    return "sha256=" + base64.b64encode(hmac_sha256(secret, body)).decode("ascii")


def verify_hex(secret: str, body: bytes, given: Optional[str]) -> None:
    _compare(secret, hex_signature, body, given)


def verify_base64(secret: str, body: bytes, given: Optional[str]) -> None:
    _compare(secret, base64_signature, body, given)


def _compare(secret, sign, body: bytes, given: Optional[str]) -> None:
    """Constant-time comparison; a missing header or an unset secret never verifies."""
    if not secret:
        raise InvalidSignature("no secret configured for this channel")
    if not given:
        raise InvalidSignature("missing signature")
    expected = sign(secret, body)
    if not hmac.compare_digest(expected.encode("utf-8"), given.strip().encode("utf-8")):
        raise InvalidSignature("signature mismatch")
