"""Instagram entries of Meta's webhook (`object: instagram`): comments, @mentions and DMs. Meta's
envelope, signature and handshake are `meta/webhook.py`, which hands each entry here
(`parse_entry`) because this channel's descriptor names `instagram` as its part.

What becomes a Mention: comments and live comments ("comment"), @mentions ("mention", author
unknown until the ingest worker looks it up), DMs ("message"). What becomes a DeliveryStatus:
messaging `read` (by mid, or by watermark). The brand's own comments, echoes and reactions are
counted as ignored.

Imports pydantic, the standard library, chalicelib.models, chalicelib.errors and meta's shared
entry helpers only.
"""
from __future__ import annotations

from typing import Any, Optional

from pydantic import Field

from chalicelib import channels
from chalicelib.channels.instagram import ID
from chalicelib.channels.meta import inbound_messaging as messaging
from chalicelib.channels.meta.entries import Change, Epoch, IdRef, Loose, collect, items, time, validate
from chalicelib.models import Author, Mention, ParseResult, Visibility


class IgComment(Loose):
    """Instagram `comments` / `live_comments` change value.

    https://developers.facebook.com/docs/graph-api/webhooks/reference/instagram/#comments
    """

    id: str
    text: str = ""
    sender: IdRef = Field(alias="from")
    media: IdRef
    parent_id: Optional[str] = None


class IgMention(Loose):
    """Instagram `mentions` change value: ids only (a caption mention has no comment_id).

    https://developers.facebook.com/docs/graph-api/webhooks/reference/instagram/#mentions
    """

    media_id: str
    comment_id: Optional[str] = None


def parse_entry(account_id: str, entry: dict, result: ParseResult) -> None:
    """One Instagram account's entry: its comment and mention changes, its messaging events."""
    def change(raw: Any) -> None:
        item = validate(Change, raw, "change")
        if item.field in ("comments", "live_comments"):
            collect(result, _comment(account_id, item.value, entry.get("time")))
        elif item.field == "mentions":
            collect(result, _mention(account_id, item.value, entry.get("time")))
        else:
            result.ignored += 1

    channels.each(result, items(entry, "changes"), "changes", change)
    channels.each(result, items(entry, "messaging"), "messaging",
                  lambda raw: messaging.event(result, ID, account_id, raw))


def _comment(account_id: str, value: dict, entry_time: Epoch) -> Optional[Mention]:
    comment = validate(IgComment, value, "instagram comment")
    if comment.sender.id == account_id:
        return None  # the brand's own comment or reply
    return Mention(
        platform=ID,
        kind="comment",
        brand_account_id=account_id,
        external_id=comment.id,
        conversation_id=comment.media.id,
        reply_to_id=comment.id,
        in_reply_to_id=comment.parent_id,
        author=Author(id=comment.sender.id, handle=comment.sender.username),
        text=comment.text,
        visibility=Visibility.PUBLIC,
        created_at=time(value.get("timestamp"), entry_time),
    )


def _mention(account_id: str, value: dict, entry_time: Epoch) -> Mention:
    mention = validate(IgMention, value, "instagram mention")
    external_id = mention.comment_id or mention.media_id
    # The mentions webhook carries ids only; author and text must be fetched from the Graph API
    # (GET /{ig-user-id}?fields=mentioned_comment.comment_id(...)). Until then the author is a
    # placeholder unique to this mention, so unrelated mentions never merge into one customer.
    return Mention(
        platform=ID,
        kind="mention",
        brand_account_id=account_id,
        external_id=external_id,
        conversation_id=mention.media_id,
        reply_to_id=external_id,
        author=Author(id=f"unknown:{external_id}"),
        text=channels.text(value.get("text")),
        visibility=Visibility.PUBLIC,
        created_at=time(entry_time),
    )
