"""Platform rules for replies, decided before anything is queued (chalicelib/outbound/policy.py)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.aggregates.account import Account
from chalicelib.aggregates.message import Message
from chalicelib.aggregates.ticket import Ticket
from chalicelib.outbound import policy
from chalicelib.outbound.policy import ReplyRefused
from chalicelib.outbound.text import x_weighted_length

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def _ticket(channel: str, account: str, conversation: str, **extra) -> Ticket:
    return Ticket.from_item({"id": "t1", "channel": channel, "brand_account_id": account,
                             "conversation_key": f"{channel}#{account}#{conversation}", **extra})


def _account(ticket: Ticket, **fields) -> Account:
    return Account(platform=ticket.channel, account_id=ticket.brand_account_id, **fields)


def _inbound(platform: str, kind: str, platform_id: str, author: str = "cust", ago: timedelta = timedelta(minutes=5),
             **extra) -> Message:
    return Message.from_item({"id": f"m-{platform_id}", "direction": "in", "platform": platform, "kind": kind,
                              "platform_message_id": platform_id, "reply_to_id": extra.pop("reply_to_id", platform_id),
                              "author": {"id": author, "name": "Customer"}, "created_at": (NOW - ago).isoformat(),
                              **extra})


def test_x_tweet_public_is_a_reply_to_the_latest_tweet_and_private_a_dm():
    ticket = _ticket("x", "brand", "100")
    messages = [_inbound("x", "tweet", "100"), _inbound("x", "tweet", "105", ago=timedelta(minutes=1))]
    public = policy.plan(ticket, messages, None, "public", "Sorry! We are on it.", NOW)
    assert (public.action, public.target["in_reply_to_tweet_id"]) == ("x_reply", "105")
    private = policy.plan(ticket, messages, None, "private", "Could you DM us your order number?", NOW)
    assert (private.action, private.target["participant_id"]) == ("x_dm", "cust")


def test_a_reply_too_long_for_x_is_refused_with_the_count_and_limit():
    ticket = _ticket("x", "brand", "100")
    with pytest.raises(ReplyRefused) as refused:
        policy.plan(ticket, [_inbound("x", "tweet", "100")], None, "public", "a" * 281, NOW)
    assert refused.value.field == "text"
    assert "281 of at most 280 weighted characters" in refused.value.reason
    # CJK counts double: 141 characters are 282 weighted
    with pytest.raises(ReplyRefused):
        policy.plan(ticket, [_inbound("x", "tweet", "100")], None, "public", "你" * 141, NOW)
    assert policy.plan(ticket, [_inbound("x", "tweet", "100")], None, "public", "你" * 140, NOW).action == "x_reply"
    # The same text is fine as a DM (10,000 characters)
    assert policy.plan(ticket, [_inbound("x", "tweet", "100")], None, "private", "a" * 281, NOW).action == "x_dm"


@pytest.mark.parametrize("text, weight", [
    ("hello", 5), ("Καλημέρα", 8), ("مرحبا", 5), ("你好", 4), ("👍", 2), ("👍🏽", 2), ("👨‍👩‍👧", 2),
    ("see https://example.com/a/very/long/path/that/goes/on", 4 + 23),
])
def test_x_weighted_length_counts_as_twitter_text_does(text, weight):
    assert x_weighted_length(text) == weight


@pytest.mark.parametrize("channel, kind, name", [
    ("x", "dm", "X direct message"), ("facebook", "message", "Messenger"),
    ("instagram", "message", "Instagram direct messages"), ("whatsapp", "message", "WhatsApp"), ("email", "email", "email"),
])
def test_private_conversations_refuse_a_public_reply(channel, kind, name):
    ticket = _ticket(channel, "acct", "cust")
    with pytest.raises(ReplyRefused) as refused:
        policy.plan(ticket, [_inbound(channel, kind, "p1")], None, "public", "hello", NOW)
    assert refused.value.field == "visibility" and name in refused.value.reason


def test_messenger_window_is_24_hours_after_the_last_customer_message():
    ticket = _ticket("facebook", "page", "psid")
    recent = [_inbound("facebook", "message", "m1", author="psid", ago=timedelta(hours=23))]
    plan = policy.plan(ticket, recent, None, "private", "hi", NOW)
    assert plan.action == "messenger" and plan.target == {"recipient_id": "psid", "account_id": "page"}
    assert plan.window_closes_at == NOW + timedelta(hours=1)
    old = [_inbound("facebook", "message", "m1", author="psid", ago=timedelta(hours=25))]
    with pytest.raises(ReplyRefused) as refused:
        policy.plan(ticket, old, None, "private", "hi", NOW)
    assert "24 hours" in refused.value.reason and "closed at" in refused.value.reason


def test_human_agent_tag_extends_messenger_and_instagram_to_seven_days_when_the_account_has_it():
    for channel, action in (("facebook", "messenger"), ("instagram", "ig_dm")):
        ticket = _ticket(channel, "acct", "cust")
        old = [_inbound(channel, "message", "m1", ago=timedelta(days=3))]
        plan = policy.plan(ticket, old, _account(ticket, human_agent_tag=True), "private", "hi", NOW)
        assert (plan.action, plan.target["tag"]) == (action, "HUMAN_AGENT")
        with pytest.raises(ReplyRefused):
            policy.plan(ticket, [_inbound(channel, "message", "m1", ago=timedelta(days=8))],
                        _account(ticket, human_agent_tag=True), "private", "hi", NOW)


def test_whatsapp_outside_24_hours_needs_a_template():
    ticket = _ticket("whatsapp", "phone", "358401")
    with pytest.raises(ReplyRefused) as refused:
        policy.plan(ticket, [_inbound("whatsapp", "message", "wamid.1", author="358401", ago=timedelta(hours=30))],
                    {}, "private", "hi", NOW)
    assert "template" in refused.value.reason
    plan = policy.plan(ticket, [_inbound("whatsapp", "message", "wamid.1", author="358401")], None, "private", "hi", NOW)
    assert plan.target == {"to": "358401", "context_message_id": "wamid.1", "account_id": "phone"}


def test_facebook_comment_public_reply_goes_under_the_top_comment():
    ticket = _ticket("facebook", "page", "page_post")
    top = _inbound("facebook", "comment", "post_c1", in_reply_to_id="page_post")
    assert policy.plan(ticket, [top], None, "public", "hi", NOW).target["comment_id"] == "post_c1"
    nested = _inbound("facebook", "comment", "post_c2", in_reply_to_id="post_c1")
    assert policy.plan(ticket, [top, nested], None, "public", "hi", NOW).target["comment_id"] == "post_c1"


def test_private_reply_to_a_comment_is_once_and_within_seven_days():
    ticket = _ticket("facebook", "page", "page_post")
    comment = _inbound("facebook", "comment", "post_c1", ago=timedelta(days=2))
    plan = policy.plan(ticket, [comment], None, "private", "hi", NOW)
    assert plan.action == "fb_private_reply" and plan.target["comment_id"] == "post_c1"
    sent = Message.from_item({"id": "r1", "ticket_id": "t1", "direction": "out", "kind": "fb_private_reply",
                              "status": "sent", "target": {"comment_id": "post_c1"}, "created_at": NOW.isoformat()})
    with pytest.raises(ReplyRefused, match="one private reply"):
        policy.plan(ticket, [comment, sent], None, "private", "hi", NOW)
    failed = sent.changed({"status": "failed"})
    assert policy.plan(ticket, [comment, failed], None, "private", "hi", NOW).action == "fb_private_reply"
    with pytest.raises(ReplyRefused, match="7 days"):
        policy.plan(ticket, [_inbound("facebook", "comment", "post_c1", ago=timedelta(days=8))], None, "private", "hi", NOW)


def test_instagram_limits_dm_in_bytes_and_mentions_are_public_only():
    ticket = _ticket("instagram", "ig", "igsid")
    dm = [_inbound("instagram", "message", "mid1", author="igsid")]
    assert policy.plan(ticket, dm, None, "private", "ä" * 500, NOW).action == "ig_dm"  # 1,000 bytes
    with pytest.raises(ReplyRefused, match="1001 of at most 1000 bytes"):
        policy.plan(ticket, dm, None, "private", "ä" * 500 + "a", NOW)
    mention_ticket = _ticket("instagram", "ig", "media9")
    mention = _inbound("instagram", "mention", "c77", author="unknown:c77")
    plan = policy.plan(mention_ticket, [mention], None, "public", "Thanks!", NOW)
    assert plan.target == {"account_id": "ig", "media_id": "media9", "comment_id": "c77"}
    with pytest.raises(ReplyRefused):
        policy.plan(mention_ticket, [mention], None, "private", "Thanks!", NOW)


def test_email_threads_with_in_reply_to_and_references():
    ticket = _ticket("email", "care@brand.example", "<a@x>", subject="Broken lamp")
    mail = _inbound("email", "email", "b@x", author="kim@example.com",
                    headers={"References": "<a@x>", "In-Reply-To": "<a@x>"})
    plan = policy.plan(ticket, [mail], None, "private", "We will send a new one.", NOW)
    assert plan.target["subject"] == "Re: Broken lamp"
    assert plan.target["in_reply_to"] == "<b@x>" and plan.target["references"] == "<a@x> <b@x>"


def test_api_channel_needs_a_callback_url_and_undiscovered_accounts_refuse():
    ticket = _ticket("api", "web", "thread-1")
    message = [_inbound("api", "message", "e1")]
    with pytest.raises(ReplyRefused, match="callback_url"):
        policy.plan(ticket, message, None, "private", "hi", NOW)
    hooked = _account(ticket, callback_url="https://hooks.example/desk")
    assert policy.plan(ticket, message, hooked, "private", "hi", NOW).target["thread_id"] == "thread-1"
    x_ticket = _ticket("x", "b", "1")
    with pytest.raises(ReplyRefused, match="not connected"):
        policy.plan(x_ticket, [_inbound("x", "tweet", "1")], _account(x_ticket, status="discovered"), "public", "hi", NOW)


def test_options_tell_the_agent_before_writing():
    ticket = _ticket("whatsapp", "phone", "358401")
    options = policy.options(ticket, [_inbound("whatsapp", "message", "w1", author="358401", ago=timedelta(hours=2))],
                             None, NOW)
    assert options["public"]["allowed"] is False and "privately" in options["public"]["reason"]
    assert options["private"]["allowed"] is True and options["private"]["max_length"] == 4096
    assert options["private"]["window_closes_at"] == (NOW + timedelta(hours=22)).isoformat()
    x = policy.options(_ticket("x", "b", "1"), [_inbound("x", "tweet", "1")], None, NOW)
    assert x["public"]["counting"] == "x" and x["public"]["max_length"] == 280


def test_empty_reply_is_refused():
    with pytest.raises(ReplyRefused, match="empty"):
        policy.plan(_ticket("x", "b", "1"), [_inbound("x", "tweet", "1")], None, "public", "   ", NOW)
