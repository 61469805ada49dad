"""Meta's webhook, shared by its products: the verify-token handshake, the signature, the
envelope, and the dispatch of each entry to the product it belongs to.

One endpoint receives every product: the body's `object` says which one sent it. Each product is
a channel of its own (`facebook`, `instagram`, `whatsapp`, ...) whose descriptor names its
`object` and the module that reads its entries (`descriptor.Part`); the caller hands those parts
in (`ingest` reads them from the registry), so this module names no product and a new one
(Threads, say) needs no edit here. Meta batches many `entry` items, each with many `changes` or
`messaging` events, into one POST; every one of them is handled, each on its own: one that
cannot be read is rejected (ParseResult.rejected), its neighbours not. A body whose `object` no
registered part reads raises UnknownPayload: the caller quarantines it.

Imports the standard library, chalicelib.models, chalicelib.errors and the sibling signing
module only; a product's module is imported by the name its descriptor gives, when an entry of
that product arrives.
"""
from __future__ import annotations

import hmac
import importlib
from typing import Any, Mapping, Optional, Union

from chalicelib import channels
from chalicelib.channels import signing
from chalicelib.errors import UnknownPayload
from chalicelib.models import ParseResult

SIGNATURE_HEADER = "X-Hub-Signature-256"


# --- handshake and signature ---------------------------------------------------------------

def verify_challenge(params: Mapping[str, Any], verify_token: str) -> Optional[str]:
    """The subscription handshake: echo `hub.challenge` when our verify token matches.

    https://developers.facebook.com/docs/graph-api/webhooks/getting-started#verification-requests
    """
    mode = params.get("hub.mode")
    given = params.get("hub.verify_token")
    challenge = params.get("hub.challenge")
    if mode != "subscribe" or not verify_token or given is None or challenge is None:
        return None
    if hmac.compare_digest(str(given).encode("utf-8"), verify_token.encode("utf-8")):
        return str(challenge)
    return None


def handshake(query: Mapping[str, Any], verify_token: str) -> tuple[int, Union[dict, str]]:
    """The route's GET: the challenge echoed as text when the verify token matches, else 403."""
    challenge = verify_challenge(query, verify_token)
    return (403, "forbidden") if challenge is None else (200, challenge)


def verify(raw_body: bytes, signature_header: Optional[str], secret: str) -> None:
    """Check `X-Hub-Signature-256` (sha256=<hex>, keyed with the app secret) over the raw bytes.

    https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads
    """
    signing.verify_hex(secret, raw_body, signature_header)


# --- the envelope ----------------------------------------------------------------------------

def parse(payload: Any, parts: Mapping[str, str]) -> ParseResult:
    """Normalise one Meta delivery (all entries, all changes). `parts`: each registered product's
    `object` and the module reading its entries. Raises UnknownPayload when the body as a whole
    is of a shape we don't know."""
    if not isinstance(payload, dict):
        raise UnknownPayload("meta: payload is not a JSON object")
    kind = payload.get("object")
    module = parts.get(kind) if isinstance(kind, str) else None
    if module is None:
        raise UnknownPayload(f"meta: unknown object {str(kind)[:100]!r}")
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise UnknownPayload("meta: no entry list")
    parse_entry = importlib.import_module(module).parse_entry
    result = ParseResult()
    channels.each(result, entries, "entry", lambda entry: _entry(entry, parse_entry, result))
    return result


def _entry(entry: Any, parse_entry, result: ParseResult) -> None:
    if not isinstance(entry, dict):
        raise UnknownPayload("meta: entry is not an object")
    entry_id = entry.get("id")
    if isinstance(entry_id, int) and not isinstance(entry_id, bool):
        entry_id = str(entry_id)
    if not isinstance(entry_id, str) or not entry_id.strip():
        raise UnknownPayload("meta: entry without id")
    if not any(key in entry for key in ("changes", "messaging", "standby")):
        raise UnknownPayload("meta: entry has neither changes nor messaging")
    parse_entry(entry_id, entry, result)
    # `standby` carries events for apps that don't own the thread (handover protocol).
    standby = entry.get("standby")
    result.ignored += len(standby) if isinstance(standby, list) else 0
