"""Facebook Page entries of Meta's webhook (`object: page`): the Page feed, Page mentions and
Messenger. Meta's envelope, signature and handshake are `meta/webhook.py`, which hands each
entry here (`parse_entry`) because this channel's descriptor names `page` as its part.

What becomes a Mention:
    feed       comment adds ("comment"), visitors' posts on the Page ("post")
    mention    posts and comments elsewhere that mention the Page ("mention", author unknown
               until the ingest worker looks it up)
    messaging  Messenger messages and postbacks ("message")
What becomes a DeliveryStatus: Messenger `delivery` (one per mid, or one by watermark when it
names no mid) and `read` (by watermark). Everything else (likes, reactions, echoes, the Page's
own posts and comments) is counted as ignored.

Imports pydantic, the standard library, chalicelib.models, chalicelib.errors and meta's shared
entry helpers only.
"""
from __future__ import annotations

from typing import Any, Optional

from pydantic import Field

from chalicelib import channels
from chalicelib.channels.facebook import ID
from chalicelib.channels.meta import inbound_messaging as messaging
from chalicelib.channels.meta.entries import Change, Epoch, IdRef, Loose, collect, items, time, validate
from chalicelib.models import Attachment, Author, Mention, ParseResult, Visibility


class FeedPost(Loose):
    """Page `feed` change value for a visitor's post (item=post, status, photo or video)."""

    post_id: str
    sender: IdRef = Field(alias="from")
    message: str = ""
    created_time: Epoch = None
    photo: Optional[str] = None
    video: Optional[str] = None


class FeedComment(FeedPost):
    """Page `feed` change value for item=comment.

    https://developers.facebook.com/docs/graph-api/webhooks/reference/page/#feed
    """

    comment_id: str
    parent_id: Optional[str] = None


class PageMention(Loose):
    """Page `mention` change value: a post, or a comment, that mentions the Page (ids only)."""

    post_id: str
    item: str = "post"
    comment_id: Optional[str] = None


def parse_entry(page_id: str, entry: dict, result: ParseResult) -> None:
    """One Page's entry: its feed and mention changes, its Messenger events."""
    def change(raw: Any) -> None:
        item = validate(Change, raw, "change")
        if item.field == "feed":
            collect(result, _feed_item(page_id, item.value))
        elif item.field == "mention":
            collect(result, _page_mention(page_id, item.value, entry.get("time")))
        else:
            result.ignored += 1

    channels.each(result, items(entry, "changes"), "changes", change)
    channels.each(result, items(entry, "messaging"), "messaging",
                  lambda raw: messaging.event(result, ID, page_id, raw))


def _feed_item(page_id: str, value: dict) -> Optional[Mention]:
    """Feed changes cover posts, comments, reactions, likes, shares...: a new comment, and a
    visitor's new post on the Page, are mentions."""
    if value.get("verb") != "add":
        return None
    if value.get("item") == "comment":
        return _feed_comment(page_id, value)
    if value.get("item") in ("post", "status", "photo", "video"):
        return _visitor_post(page_id, value)
    return None


def _visitor_post(page_id: str, value: dict) -> Optional[Mention]:
    # https://developers.facebook.com/docs/graph-api/webhooks/reference/page/#feed (item: post)
    post = validate(FeedPost, value, "feed post")
    if post.sender.id == page_id:
        return None  # the Page's own post: not a customer writing
    return Mention(
        platform=ID,
        kind="post",
        brand_account_id=page_id,
        external_id=post.post_id,
        conversation_id=post.post_id,
        reply_to_id=post.post_id,  # an answer is a comment on the post
        author=Author(id=post.sender.id, name=post.sender.name),
        text=post.message,
        attachments=_attachments(post),
        visibility=Visibility.PUBLIC,
        created_at=time(post.created_time),
    )


def _page_mention(page_id: str, value: dict, entry_time: Any) -> Optional[Mention]:
    """A post or comment elsewhere that mentions the Page. The webhook names it and no author:
    until the author is looked up (GET /{id}?fields=from,message,created_time) the author is a
    placeholder unique to this mention, so unrelated mentions never merge into one customer.
    https://developers.facebook.com/docs/graph-api/webhooks/reference/page/#mention"""
    if value.get("verb", "add") != "add":
        return None  # edited, removed
    mention = validate(PageMention, value, "page mention")
    external_id = mention.comment_id if mention.item == "comment" and mention.comment_id else mention.post_id
    return Mention(
        platform=ID,
        kind="mention",
        brand_account_id=page_id,
        external_id=external_id,
        conversation_id=mention.post_id,
        reply_to_id=external_id,
        author=Author(id=f"unknown:{external_id}"),
        text=channels.text(value.get("message")),
        visibility=Visibility.PUBLIC,
        created_at=time(value.get("created_time"), entry_time),
    )


def _feed_comment(page_id: str, value: dict) -> Optional[Mention]:
    comment = validate(FeedComment, value, "feed comment")
    if comment.sender.id == page_id:
        return None  # the page's own comment (typically our reply)
    return Mention(
        platform=ID,
        kind="comment",
        brand_account_id=page_id,
        external_id=comment.comment_id,
        conversation_id=comment.post_id,
        reply_to_id=comment.comment_id,
        in_reply_to_id=comment.parent_id,
        author=Author(id=comment.sender.id, name=comment.sender.name),
        text=comment.message,
        attachments=_attachments(comment),
        visibility=Visibility.PUBLIC,
        created_at=time(comment.created_time),
    )


def _attachments(post: FeedPost) -> tuple[Attachment, ...]:
    return tuple(Attachment(type=kind, url=url) for kind, url in (("image", post.photo), ("video", post.video)) if url)
