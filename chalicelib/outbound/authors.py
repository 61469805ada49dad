"""Who wrote a mention whose webhook names it by id only: Facebook Page mentions and Instagram
mentions. The ingest worker asks the Graph API once per such mention, with the account's token:

    facebook mention   GET /{post-or-comment-id}?fields=from,message,created_time
                       https://developers.facebook.com/docs/graph-api/reference/post
    instagram mention  GET /{ig-user-id}?fields=mentioned_comment.comment_id({id}){...}
                       or, for a caption, mentioned_media.media_id({id}){...}
                       https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/mentioned_comment

A failed look-up (no token, the object gone or hidden, a platform error) raises LookupFailed: the
caller keeps the author unknown and stores the mention all the same, so a look-up never holds a
mention back. Tokens travel only in the Authorization header.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional
from urllib.parse import quote, urlencode

from chalicelib import channels
from chalicelib.config import settings
from chalicelib.errors import DeskError
from chalicelib.models import Author, Mention, clamp_time, iso_time
from chalicelib.outbound import clients, credentials
from chalicelib.outbound.errors import SendError

UNKNOWN_PREFIX = "unknown:"
TIMEOUT_SECONDS = 3.0  # the worker must not wait long on a look-up it can do without


class LookupFailed(DeskError):
    """The author could not be found; `reason` says why (never a token)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def needs_author(mention: Mention) -> bool:
    return (mention.platform in ("facebook", "instagram") and mention.kind == "mention"
            and mention.author.id.startswith(UNKNOWN_PREFIX))


def look_up(mention: Mention) -> Mention:
    """The mention with its author (and text and time, when the webhook had none) filled in."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        credential = credentials.get(mention.platform, mention.brand_account_id)
    except (credentials.MissingCredential, ClientError, BotoCoreError) as err:
        # no token stored, not allowed to read it, or Secrets Manager unreachable: the mention
        # is stored with its author unknown rather than held back
        raise LookupFailed(f"no token for {mention.platform} account {mention.brand_account_id} "
                           f"({type(err).__name__})") from err
    if mention.platform == "facebook":
        found = _get(f"/{quote(mention.external_id, safe='')}", "from,message,created_time", credential)
        sender = channels.obj(found.get("from"))
        author = _author(channels.text(sender.get("id")), channels.text(sender.get("name")), None)
        text, moment = channels.text(found.get("message")), found.get("created_time")
    else:
        is_comment = mention.external_id != mention.conversation_id
        edge, key, body = (("mentioned_comment", "comment_id", "text") if is_comment
                           else ("mentioned_media", "media_id", "caption"))
        fields = f"{edge}.{key}({mention.external_id}){{id,{body},username,timestamp,from}}"
        found = channels.obj(_get(f"/{quote(mention.brand_account_id, safe='')}", fields, credential).get(edge))
        sender = channels.obj(found.get("from"))
        username = channels.text(found.get("username")) or channels.text(sender.get("username"))
        author = _author(channels.text(sender.get("id")), None, username)
        text, moment = channels.text(found.get(body)), found.get("timestamp")
    return mention.model_copy(update={"author": author, "text": mention.text or text,
                                      "created_at": _time(moment) or mention.created_at})


def _get(path: str, fields: str, credential) -> dict:
    url = f"{settings().graph_api_base}{path}?{urlencode({'fields': fields})}"
    try:
        reply = clients.http("GET", url, token=credential.token, timeout=TIMEOUT_SECONDS)
        return clients.graph_answer(reply)
    except SendError as err:
        raise LookupFailed(err.reason) from err


def _author(user_id: str, name: Optional[str], username: Optional[str]) -> Author:
    """The platform's user id when the answer names one, else the handle (still one per person)."""
    identity = user_id.strip() or (f"username:{username}" if username else "")
    if not identity:
        raise LookupFailed("the answer names no author")
    return Author(id=identity, name=name or None, handle=username or None)


def _time(value) -> Optional[datetime]:
    parsed = iso_time(value)
    return None if parsed is None else clamp_time(parsed)
