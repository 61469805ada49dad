"""Who wrote a mention whose webhook names it by id only (Facebook Page mentions, Instagram
mentions): the ingest worker asks the platform once per such mention, with the account's token.

The channel's package does the asking (`chalicelib/channels/<id>/authors.py`: `author(mention,
credential, timeout)`); a channel without that module never needs it. This module fetches the
account's token and keeps the worker's rules: a failed look-up (no token, the object gone or hidden,
a platform error) raises LookupFailed, and the caller keeps the author unknown and stores the
mention all the same, so a look-up never holds a mention back.
"""
from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.channels import registry as channel_registry
from chalicelib.channels.reply import module
from chalicelib.errors import LookupFailed
from chalicelib.models import Mention
from chalicelib.outbound import credentials

__all__ = ["LookupFailed", "UNKNOWN_PREFIX", "look_up", "needs_author"]

UNKNOWN_PREFIX = "unknown:"
TIMEOUT_SECONDS = 3.0  # the worker must not wait long on a look-up it can do without


def needs_author(mention: Mention) -> bool:
    return (mention.kind == "mention" and mention.author.id.startswith(UNKNOWN_PREFIX)
            and _authors(mention.platform) is not None)


def look_up(mention: Mention) -> Mention:
    """The mention with its author (and text and time, when the webhook had none) filled in."""

    try:
        credential = credentials.get(mention.platform, mention.brand_account_id)
    except (credentials.MissingCredential, ClientError, BotoCoreError) as err:
        # no token stored, not allowed to read it, or Secrets Manager unreachable: the mention
        # is stored with its author unknown rather than held back
        raise LookupFailed(f"no token for {mention.platform} account {mention.brand_account_id} "
                           f"({type(err).__name__})") from err
    return _authors(mention.platform).author(mention, credential, TIMEOUT_SECONDS)


def _authors(channel_id: str):
    """The channel package's `authors.py`, or None (chalicelib/channels/reply.py)."""
    return module(channel_registry.find(channel_id), "authors")
