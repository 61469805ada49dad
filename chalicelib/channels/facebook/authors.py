"""Who wrote a Page mention (`field: mention`), whose webhook names the post or comment only:
GET /{post-or-comment-id}?fields=from,message,created_time
(https://developers.facebook.com/docs/graph-api/reference/post)."""
from __future__ import annotations

from chalicelib import channels
from chalicelib.channels.meta.authors import author as _author
from chalicelib.channels.meta.authors import moment, read
from chalicelib.models import Mention


def author(mention: Mention, credential, timeout: float) -> Mention:
    """The mention with its author (and text and time, when the webhook had none); LookupFailed."""
    found = read(mention.external_id, "from,message,created_time", credential, timeout)
    sender = channels.obj(found.get("from"))
    who = _author(channels.text(sender.get("id")), channels.text(sender.get("name")), None)
    return mention.model_copy(update={"author": who, "text": mention.text or channels.text(found.get("message")),
                                      "created_at": moment(found.get("created_time")) or mention.created_at})
