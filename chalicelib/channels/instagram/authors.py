"""Who wrote an Instagram mention, whose webhook names the media or comment only:
GET /{ig-user-id}?fields=mentioned_comment.comment_id({id}){...}, or for a caption
mentioned_media.media_id({id}){...}
(https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/mentioned_comment)."""
from __future__ import annotations

from chalicelib import channels
from chalicelib.channels.meta.authors import author as _author
from chalicelib.channels.meta.authors import moment, read
from chalicelib.models import Mention


def author(mention: Mention, credential, timeout: float) -> Mention:
    """The mention with its author (and text and time, when the webhook had none); LookupFailed."""
    is_comment = mention.external_id != mention.conversation_id
    edge, key, body = (("mentioned_comment", "comment_id", "text") if is_comment
                       else ("mentioned_media", "media_id", "caption"))
    fields = f"{edge}.{key}({mention.external_id}){{id,{body},username,timestamp,from}}"
    found = channels.obj(read(mention.brand_account_id, fields, credential, timeout).get(edge))
    sender = channels.obj(found.get("from"))
    username = channels.text(found.get("username")) or channels.text(sender.get("username"))
    who = _author(channels.text(sender.get("id")), None, username)
    return mention.model_copy(update={"author": who, "text": mention.text or channels.text(found.get(body)),
                                      "created_at": moment(found.get("timestamp")) or mention.created_at})
