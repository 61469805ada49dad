"""Who wrote a mention whose webhook names it by id only (Facebook Page mentions, Instagram
mentions): the ingest worker asks the platform once per such mention, with the account's token.

The channel's package does the asking (`chalicelib/channels/<id>/authors.py`: `author(mention,
credential, timeout)`); a channel without that module never needs it. This module fetches the
account's token and keeps the worker's rules: a failed look-up (no token, the object gone or hidden,
a platform error) raises LookupFailed, and the caller keeps the author unknown and stores the
mention all the same, so a look-up never holds a mention back.

A Messenger or Instagram DM names its author by a page-scoped id alone (PSID, IGSID). Its name is
asked of the Graph API once per identity (`with_profile`): only while the identity's pointer holds
no name (one read of the pointer, which a known author costs anyway), so a second message of the
same person makes no call; the name then travels with the mention, so the profile, the identity and
the message all have it. When the platform does not give one (no permission, an error, no name),
the ingest worker notes that on the pointer (`name_asked_at`), and the platform is not asked again
for that identity before ASK_AGAIN has passed: a customer who writes forty messages in an hour
costs one failed call, not forty.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib import channels
from chalicelib.channels import registry as channel_registry
from chalicelib.channels.meta import authors as graph_authors
from chalicelib.channels.reply import module
from chalicelib.errors import LookupFailed
from chalicelib.models import Author, Mention
from chalicelib.outbound import credentials

__all__ = ["ASK_AGAIN", "LookupFailed", "NotAskedAgain", "UNKNOWN_PREFIX", "look_up", "needs_author", "needs_profile", "with_profile"]

UNKNOWN_PREFIX = "unknown:"
ASK_AGAIN = timedelta(hours=24)  # after a look-up that gave no name
TIMEOUT_SECONDS = 3.0  # the worker must not wait long on a look-up it can do without
PROFILE_FIELDS = {
    # https://developers.facebook.com/docs/messenger-platform/identity/user-profile
    "facebook": "name,first_name,last_name",
    # https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/messaging-api/user-profile
    "instagram": "name,username",
}


def needs_author(mention: Mention) -> bool:
    return (mention.kind == "mention" and mention.author.id.startswith(UNKNOWN_PREFIX)
            and _authors(mention.platform) is not None)


def look_up(mention: Mention) -> Mention:
    """The mention with its author (and text and time, when the webhook had none) filled in."""
    return _authors(mention.platform).author(mention, _credential(mention), TIMEOUT_SECONDS)


def needs_profile(mention: Mention) -> bool:
    """A Messenger or Instagram DM whose author the webhook names by id alone."""
    return (mention.kind == "message" and mention.platform in PROFILE_FIELDS and not mention.author.name
            and not mention.author.id.startswith(UNKNOWN_PREFIX))


def with_profile(mention: Mention, customers, now: Optional[datetime] = None) -> Mention:
    """The DM with its author's name: the one their identity already holds (`customers`, a
    CustomerStore: its pointer, no call), else the platform's profile (one Graph call); LookupFailed
    when the platform does not tell (no token, no permission, an error, an answer with no name).
    An identity the platform failed to name less than ASK_AGAIN before `now` is left unnamed
    without a call (NotAskedAgain, a LookupFailed)."""
    known = customers.identity(mention.platform, mention.author.id)
    if known is not None and known.name:
        return _named(mention, known.name, known.handle)
    if known is not None and known.name_asked_at and now is not None and _since(known.name_asked_at, now) < ASK_AGAIN:
        raise NotAskedAgain(f"the platform gave no name at {known.name_asked_at}; asked again after {ASK_AGAIN}")
    found = graph_authors.read(mention.author.id, PROFILE_FIELDS[mention.platform], _credential(mention),
                               TIMEOUT_SECONDS)
    name = channels.text(found.get("name")) or " ".join(
        filter(None, (channels.text(found.get("first_name")), channels.text(found.get("last_name")))))
    username = channels.text(found.get("username"))
    if not (name.strip() or username):
        raise LookupFailed("the profile names no one")
    return _named(mention, name.strip() or None, username or None)


class NotAskedAgain(LookupFailed):
    """The platform failed to name this identity a short while ago: no call now."""


def _since(iso: str, now: datetime) -> timedelta:
    try:
        then = datetime.fromisoformat(iso)
    except ValueError:
        return ASK_AGAIN  # unreadable: ask
    return now - then if then.tzinfo and now.tzinfo else ASK_AGAIN


def _named(mention: Mention, name: Optional[str], handle: Optional[str]) -> Mention:
    author = Author.model_validate({**mention.author.model_dump(), "name": name or mention.author.name,
                                    "handle": mention.author.handle or handle})
    return mention.model_copy(update={"author": author})


def _credential(mention: Mention):
    try:
        return credentials.get(mention.platform, mention.brand_account_id)
    except (credentials.MissingCredential, ClientError, BotoCoreError) as err:
        # no token stored, not allowed to read it, or Secrets Manager unreachable: the mention
        # is stored with its author unknown (or unnamed) rather than held back
        raise LookupFailed(f"no token for {mention.platform} account {mention.brand_account_id} "
                           f"({type(err).__name__})") from err


def _authors(channel_id: str):
    """The channel package's `authors.py`, or None (chalicelib/channels/reply.py)."""
    return module(channel_registry.find(channel_id), "authors")
