"""Helpers for the parser tests."""
from __future__ import annotations

from chalicelib.errors import UnknownPayload


def refused(parse, payload) -> list[str]:
    """Why a parser would not read a body or some of its events; nothing refused is a mention."""
    try:
        result = parse(payload)
    except UnknownPayload as err:
        return [err.reason]
    assert result.rejected, "nothing was refused"
    return result.rejected


def meta_parse(payload):
    """Meta's envelope parser with every part the registry holds, as ingest hands them in."""
    from chalicelib.channels import registry
    from chalicelib.channels.meta import WEBHOOK, webhook

    return webhook.parse(payload, registry.parts(WEBHOOK))
