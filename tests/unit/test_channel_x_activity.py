"""X Activity API deliveries on the X webhook route (issue 12, point 6).

Fixtures are the documented examples of https://docs.x.com/x-api/activity/event-payloads
(`post.mention.create` and `dm.received`), cut to the fields that matter and kept as they are.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

from chalicelib.channels.x import webhook as x
from chalicelib.models import Visibility
from infra.local import payloads as p

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BRAND = "1111111111111111111"  # the documented examples' filtered user


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def test_a_documented_post_mention_becomes_a_public_tweet_mention_with_its_author():
    # Given the documented post.mention.create delivery / When parsed
    [mention] = x.parse(fixture("xaa_post_mention_create.json")).mentions
    # Then the post is a mention of the filtered brand, with the author from includes.users
    assert (mention.platform, mention.kind, mention.visibility) == ("x", "tweet", Visibility.PUBLIC)
    assert (mention.brand_account_id, mention.external_id, mention.conversation_id) == (
        BRAND, "2080765813578191303", "2080765813578191303")
    assert mention.text == "hey @ExampleUser" and mention.reply_to_id == "2080765813578191303"
    assert (mention.author.id, mention.author.handle, mention.author.name, mention.author.followers) == (
        "2222222222222222222", "OtherUser", "OtherUser", 97)
    assert mention.source == "webhook" and mention.created_at.isoformat().startswith("2026-07-24T21:23:23")


def test_a_documented_dm_received_becomes_a_private_dm_with_the_sender_from_the_users_map():
    [mention] = x.parse(fixture("xaa_dm_received.json")).mentions
    assert (mention.kind, mention.visibility, mention.external_id) == ("dm", Visibility.PRIVATE, "2080765901528535096")
    assert (mention.conversation_id, mention.reply_to_id) == ("dm:2222222222222222222", "2222222222222222222")
    assert mention.text == "hello!"
    assert (mention.author.handle, mention.author.name, mention.author.followers) == ("OtherUser", "OtherUser", 97)


def test_the_brands_own_posts_and_dms_and_other_events_are_ignored():
    # The brand's own DM (dm.sent is the same shape with the brand as sender)
    sent = fixture("xaa_dm_received.json")
    sent["data"]["event_type"] = "dm.sent"
    dm = sent["data"]["payload"]["direct_message_events"][0]["message_create"]
    dm["sender_id"], dm["target"]["recipient_id"] = BRAND, "2222222222222222222"
    own_post = fixture("xaa_post_mention_create.json")
    own_post["data"]["payload"]["author_id"] = BRAND
    likes = {"data": {"event_uuid": "1", "filter": {"user_id": BRAND}, "event_type": "like.create", "payload": {}}}
    for delivery in (sent, own_post, likes):
        result = x.parse(delivery)
        assert (result.mentions, result.ignored, result.rejected) == ([], 1, []), delivery["data"]["event_type"]


def test_a_mention_without_a_post_id_is_refused_for_quarantine():
    broken = fixture("xaa_post_mention_create.json")
    del broken["data"]["payload"]["id"]
    result = x.parse(broken)
    assert result.mentions == [] and "post id" in result.rejected[0]


def test_one_post_by_account_activity_and_by_the_activity_api_is_one_dedupe_key():
    user = {"id": "2222222222222222222", "name": "OtherUser", "handle": "OtherUser", "followers": 97}
    [legacy] = x.parse(p.x_tweet_event(BRAND, "2080765813578191303", user, "hey @ExampleUser")).mentions
    [activity] = x.parse(p.xaa_mention_event(BRAND, "2080765813578191303", user, "hey @ExampleUser")).mentions
    assert legacy.dedupe_key == activity.dedupe_key and legacy.conversation_key == activity.conversation_key
    [legacy_dm] = x.parse(p.x_dm_event(BRAND, "2080765901528535096", user, "hello!")).mentions
    [activity_dm] = x.parse(p.xaa_dm_event(BRAND, "2080765901528535096", user, "hello!")).mentions
    assert legacy_dm.dedupe_key == activity_dm.dedupe_key and legacy_dm.author == activity_dm.author


def test_the_builders_match_the_documented_shape():
    built = p.xaa_mention_event(BRAND, "5", {"id": "7", "name": "N", "handle": "n"}, "hi")
    documented = fixture("xaa_post_mention_create.json")
    assert set(built["data"]) == set(documented["data"])
    assert set(built["data"]["payload"]) <= set(documented["data"]["payload"]) | {"entities"}
    dm = p.xaa_dm_event(BRAND, "9", {"id": "7", "name": "N", "handle": "n"}, "hi")
    assert set(dm["data"]["payload"]) == set(copy.deepcopy(fixture("xaa_dm_received.json"))["data"]["payload"])
