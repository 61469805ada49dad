"""parse_mentions_page: an X API v2 mentions response becomes Mentions (no network)."""
from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from chalicelib.channels.x.v2 import parse_mentions_page
from chalicelib.models import Attachment, Author, Visibility

BRAND = "2244994945"
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "x_v2_mentions.json"


@pytest.fixture
def page() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def by_id(mentions):
    return {m.external_id: m for m in mentions}


def test_customer_tweets_become_mentions_newest_first(page):
    # Given a page with 6 tweets: one by the brand itself and one plain retweet
    # When it is parsed for the brand account
    mentions = parse_mentions_page(page, BRAND)
    # Then the 4 customer tweets remain, in the order X sent them (newest first)
    assert [m.external_id for m in mentions] == [
        "1786488762531467287", "1786485386116747287", "1786465802911371287", "1786426779106955287"]


def test_reply_with_photo_is_fully_normalised(page):
    # Given Ana's reply to the brand, with a photo attached
    # When the page is parsed
    mention = by_id(parse_mentions_page(page, BRAND))["1786488762531467287"]
    # Then every field the pipeline relies on comes from the tweet and its expansions
    assert mention.platform == "x"
    assert mention.kind == "tweet"
    assert mention.source == "poller"
    assert mention.visibility is Visibility.PUBLIC
    assert mention.brand_account_id == BRAND
    assert mention.conversation_id == "1786465802911371287"
    assert mention.reply_to_id == "1786488762531467287"
    assert mention.in_reply_to_id == "1786487101587083287"
    assert mention.text.startswith("@XDevelopers @analima_dev still failing")
    assert mention.author == Author(id="1511027553479147520", name="Ana Lima", handle="analima_dev",
                                    followers=1284, verified=False)
    assert mention.attachments == (
        Attachment(type="image", url="https://pbs.twimg.com/media/GMrYkUbXoAAa1Qf.jpg"),)
    assert mention.created_at == datetime(2024, 5, 3, 20, 11, 27, tzinfo=timezone.utc)
    assert mention.dedupe_key == "x#1786488762531467287"


def test_video_uses_preview_image_and_verified_author(page):
    # Given Ben's tweet with a video, whose media object has only preview_image_url
    # When the page is parsed
    mention = by_id(parse_mentions_page(page, BRAND))["1786485386116747287"]
    # Then the attachment points at the preview image and the author's metrics are kept
    assert mention.attachments == (Attachment(
        type="video",
        url="https://pbs.twimg.com/ext_tw_video_thumb/1786485300112420864/pu/img/Qh3kLrTzV0c8yW1n.jpg"),)
    assert mention.author.verified is True
    assert mention.author.followers == 50231
    assert mention.in_reply_to_id is None
    assert mention.conversation_id == "1786485386116747287"


def test_brand_own_tweet_and_retweet_are_skipped(page):
    # Given the page holds the brand's reply and Carla's retweet
    # When parsed
    ids = by_id(parse_mentions_page(page, BRAND))
    # Then neither becomes a mention
    assert "1786487101587083287" not in ids
    assert "1786446307786379287" not in ids


def test_other_brand_account_keeps_every_non_retweet(page):
    # Given the same page parsed for a different account id
    # When parsed
    ids = by_id(parse_mentions_page(page, "1"))
    # Then the XDevelopers reply is a mention too: "own tweet" means the polled account's
    assert "1786487101587083287" in ids
    assert len(ids) == 5


def test_quote_tweet_is_not_a_reply(page):
    # Given Deniz quote-tweets a post that X could not expand (partial `errors` in the body)
    # When parsed
    mention = by_id(parse_mentions_page(page, BRAND))["1786426779106955287"]
    # Then it is a mention of its own, not a reply to the quoted post
    assert mention.in_reply_to_id is None
    assert mention.author.handle == "denizk"


def test_missing_author_expansion_keeps_the_author_id(page):
    # Given the author of a tweet is absent from includes.users (suspended, or not expanded)
    page["includes"]["users"] = [u for u in page["includes"]["users"] if u["id"] != "9876543210"]
    # When parsed
    mention = by_id(parse_mentions_page(page, BRAND))["1786485386116747287"]
    # Then the mention still carries who wrote it, without invented details
    assert mention.author == Author(id="9876543210")


def test_missing_conversation_and_created_at_fall_back_to_the_id(page):
    # Given a tweet without conversation_id and created_at (fields not requested)
    tweet = page["data"][3]
    del tweet["conversation_id"], tweet["created_at"]
    # When parsed
    mention = by_id(parse_mentions_page(page, BRAND))["1786465802911371287"]
    # Then the conversation is the tweet itself and the time is read from the snowflake id
    assert mention.conversation_id == "1786465802911371287"
    assert mention.created_at == datetime(2024, 5, 3, 18, 40, 13, tzinfo=timezone.utc)


def test_media_missing_from_includes_is_dropped(page):
    # Given the photo's media object was not expanded
    page["includes"]["media"] = page["includes"]["media"][1:]
    # When parsed
    mention = by_id(parse_mentions_page(page, BRAND))["1786488762531467287"]
    # Then the tweet survives without an attachment that points nowhere
    assert mention.attachments == ()


def test_long_post_uses_note_tweet_text(page):
    # Given a long post whose `text` is truncated and whose full text is in note_tweet
    long_text = "@XDevelopers " + "details " * 60
    page["data"][3]["note_tweet"] = {"text": long_text}
    # When parsed
    mention = by_id(parse_mentions_page(page, BRAND))["1786465802911371287"]
    # Then the whole text is kept
    assert mention.text == long_text


@pytest.mark.parametrize("body", [{"meta": {"result_count": 0}}, {}, {"data": None}, []])
def test_pages_without_data_give_nothing(body):
    # Given an empty page as X sends it when nothing is new (or a degenerate body)
    # When parsed
    # Then there are no mentions and no error
    assert parse_mentions_page(copy.deepcopy(body), BRAND) == []
