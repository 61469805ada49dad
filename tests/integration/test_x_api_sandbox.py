"""fetch_mentions against the local platform sandbox, over real HTTP on loopback."""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from chalicelib.channels.x.v2 import QUERY_FIELDS, fetch_mentions
from chalicelib.errors import PlatformError
from infra.local import sandbox as sb

BRAND = "2244994945"
TOKEN = "sandbox-bearer-7f3a9c"
BASE_ID = 1786400000000000000


@pytest.fixture
def sandbox():
    box = sb.start(port=0)
    yield box
    box.stop()


def seed(box, count: int, *, first: int = 1, brand_every: int = 0) -> list[str]:
    """Seed `count` mentions with ids BASE_ID+first.. ; every `brand_every`-th is the brand's own."""
    tweets, ids = [], []
    for n in range(first, first + count):
        tweet_id = str(BASE_ID + n)
        author = BRAND if brand_every and n % brand_every == 0 else "900" + str(n % 7)
        tweets.append(sb.x_tweet(tweet_id, f"@XDevelopers help #{n}", author,
                                 created_at="2024-05-03T10:00:00.000Z"))
        ids.append(tweet_id)
    users = [sb.x_user("900" + str(k), f"customer{k}", followers=10 * k) for k in range(7)]
    users.append(sb.x_user(BRAND, "XDevelopers", "Developers", followers=703841, verified=True))
    box.seed_x_mentions(BRAND, tweets, users)
    return ids


def test_fetch_parses_tweets_users_and_media_over_http(sandbox):
    # Given a customer reply with a photo, and the brand's own reply, in the sandbox
    sandbox.seed_x_mentions(
        BRAND,
        [sb.x_tweet("1786488762531467287", "@XDevelopers still failing", "1511027553479147520",
                    created_at="2024-05-03T20:11:27.000Z", conversation_id="1786465802911371287",
                    in_reply_to_user_id=BRAND, replied_to="1786487101587083287",
                    media_keys=["3_1"]),
         sb.x_tweet("1786487101587083287", "@analima_dev sorry!", BRAND,
                    conversation_id="1786465802911371287")],
        [sb.x_user("1511027553479147520", "analima_dev", "Ana Lima", followers=1284),
         sb.x_user(BRAND, "XDevelopers")],
        [{"media_key": "3_1", "type": "photo", "url": "https://pbs.twimg.com/media/a.jpg"}],
    )
    # When the poller fetches without a cursor
    outcome = fetch_mentions(sandbox.url, TOKEN, BRAND, None)
    # Then the customer's reply arrives with the fields the sandbox only returns when asked for
    assert [m.external_id for m in outcome.mentions] == ["1786488762531467287"]
    mention = outcome.mentions[0]
    assert mention.author.handle == "analima_dev"
    assert mention.author.followers == 1284
    assert mention.conversation_id == "1786465802911371287"
    assert mention.in_reply_to_id == "1786487101587083287"
    assert [a.url for a in mention.attachments] == ["https://pbs.twimg.com/media/a.jpg"]
    # And the cursor covers the brand's own tweet too (it was seen, just not a mention)
    assert outcome.newest_id == "1786488762531467287"
    assert outcome.complete is True
    assert outcome.requests_made == 1


def test_request_carries_token_and_documented_query(sandbox):
    # Given a few mentions
    seed(sandbox, 3)
    # When the poller fetches since a cursor
    fetch_mentions(sandbox.url, TOKEN, BRAND, str(BASE_ID))
    # Then the recorded request is the documented mentions call with every field we parse
    (request,) = sandbox.requests
    assert request["method"] == "GET"
    assert request["path"] == f"/2/users/{BRAND}/mentions"
    assert request["query"] == {"max_results": "100", "since_id": str(BASE_ID), **QUERY_FIELDS}
    assert request["query"]["expansions"] == "author_id,attachments.media_keys,referenced_tweets.id"
    assert request["headers"]["Authorization"] == f"Bearer {TOKEN}"


def test_since_id_returns_only_newer_tweets(sandbox):
    # Given mentions 1..10, of which the poller has already seen up to 6
    ids = seed(sandbox, 10)
    # When it fetches since id 6
    outcome = fetch_mentions(sandbox.url, TOKEN, BRAND, ids[5])
    # Then only 7..10 arrive, newest first, and the cursor moves to 10
    assert [m.external_id for m in outcome.mentions] == ids[6:][::-1]
    assert outcome.newest_id == ids[-1]


def test_nothing_new_keeps_the_cursor(sandbox):
    # Given the poller has seen everything
    ids = seed(sandbox, 5)
    # When it fetches since the newest id
    outcome = fetch_mentions(sandbox.url, TOKEN, BRAND, ids[-1])
    # Then nothing arrives and no new cursor is proposed
    assert outcome.mentions == []
    assert outcome.newest_id is None
    assert outcome.complete is True


def test_pagination_reads_every_page(sandbox):
    # Given 250 new mentions (3 pages of 100), every 50th one by the brand itself
    ids = seed(sandbox, 250, brand_every=50)
    # When the poller fetches
    outcome = fetch_mentions(sandbox.url, TOKEN, BRAND, None)
    # Then it made 3 calls, got the 245 customer tweets once each, and the cursor is the newest
    assert outcome.requests_made == 3
    assert len(outcome.mentions) == 245
    assert len({m.external_id for m in outcome.mentions}) == 245
    assert outcome.newest_id == ids[-1]
    assert outcome.complete is True
    # And pages 2 and 3 followed next_token while keeping the other parameters
    calls = sandbox.requests
    assert "pagination_token" not in calls[0]["query"]
    assert all(c["query"].get("pagination_token") for c in calls[1:])
    assert len({c["query"]["pagination_token"] for c in calls[1:]}) == 2
    assert all(c["query"]["max_results"] == "100" for c in calls)


def test_max_pages_cut_keeps_old_cursor(sandbox):
    # Given 250 new mentions
    seed(sandbox, 250)
    # When the poller may read only 2 pages
    outcome = fetch_mentions(sandbox.url, TOKEN, BRAND, str(BASE_ID), max_pages=2)
    # Then it keeps the 200 newest, but does not move the cursor past the 50 it did not read
    assert outcome.requests_made == 2
    assert len(outcome.mentions) == 200
    assert outcome.newest_id is None
    assert outcome.complete is False


def test_remaining_zero_stops_without_another_call(sandbox):
    # Given 250 new mentions and a window with only 2 calls left
    seed(sandbox, 250)
    reset = int(time.time()) + 600
    sandbox.set_x_rate_limit(limit=450, remaining=2, reset=reset)
    # When the poller fetches
    outcome = fetch_mentions(sandbox.url, TOKEN, BRAND, None)
    # Then it stops after the call that left 0, reporting when it may call again
    assert outcome.requests_made == 2
    assert len(sandbox.requests) == 2
    assert len(outcome.mentions) == 200
    assert outcome.rate_limited_until == reset
    assert outcome.rate_limit_remaining == 0
    # And the cursor stays where it was, since the oldest 50 were not fetched
    assert outcome.newest_id is None


def test_429_on_first_call(sandbox):
    # Given the window is already exhausted
    seed(sandbox, 5)
    reset = int(time.time()) + 300
    sandbox.set_x_rate_limit(remaining=0, reset=reset)
    # When the poller fetches
    outcome = fetch_mentions(sandbox.url, TOKEN, BRAND, None)
    # Then it made one call, got nothing, and knows when to come back
    assert outcome.requests_made == 1
    assert outcome.mentions == []
    assert outcome.rate_limited_until == reset
    assert outcome.newest_id is None


def test_429_mid_pagination_keeps_what_was_fetched(sandbox):
    # Given 250 mentions, and X answering 429 on the second page
    ids = seed(sandbox, 250)
    sandbox.fail_next(f"/2/users/{BRAND}/mentions", status=429, times=1, after=1)
    # When the poller fetches
    outcome = fetch_mentions(sandbox.url, TOKEN, BRAND, None, now=lambda: 1_000_000.0)
    # Then the first page is kept, nothing more is asked, the cursor is not advanced
    assert outcome.requests_made == 2
    assert [m.external_id for m in outcome.mentions] == ids[::-1][:100]
    assert outcome.newest_id is None
    assert outcome.complete is False
    # And the reset comes from the x-rate-limit-reset header, not the fallback clock
    assert outcome.rate_limited_until is not None and outcome.rate_limited_until > time.time()


def test_rate_limit_remaining_is_reported(sandbox):
    # Given a fresh window of 450 calls
    seed(sandbox, 3)
    sandbox.set_x_rate_limit(limit=450, remaining=450, reset=int(time.time()) + 900)
    # When the poller fetches one page
    outcome = fetch_mentions(sandbox.url, TOKEN, BRAND, None)
    # Then it reports the calls left and no wait
    assert outcome.rate_limit_remaining == 449
    assert outcome.rate_limited_until is None


def test_missing_token_is_a_401_platform_error(sandbox):
    # Given a mentions timeline that needs app-only auth
    seed(sandbox, 3)
    # When called with no bearer token
    with pytest.raises(PlatformError) as caught:
        fetch_mentions(sandbox.url, "", BRAND, None)
    # Then the client raises with X's status and body
    assert caught.value.status == 401
    assert json.loads(caught.value.body)["title"] == "Unauthorized"
    # And a raw request without Authorization gets the same 401 from the sandbox
    with pytest.raises(urllib.error.HTTPError) as raw:
        urllib.request.urlopen(f"{sandbox.url}/2/users/{BRAND}/mentions", timeout=5)
    assert raw.value.code == 401


def test_server_error_raises_without_leaking_the_token(sandbox):
    # Given X fails with a 503 on the mentions timeline
    sandbox.fail_next("/2/users/", status=503)
    # When the poller fetches
    with pytest.raises(PlatformError) as caught:
        fetch_mentions(sandbox.url, TOKEN, BRAND, None)
    # Then the error carries the status and body, and the token appears nowhere in it
    assert caught.value.status == 503
    assert "503" in caught.value.body
    assert TOKEN not in str(caught.value) + repr(caught.value) + caught.value.body


def test_unreachable_api_is_a_platform_error(sandbox):
    # Given a sandbox that has been stopped
    url = sandbox.url
    sandbox.stop()
    sandbox.stop = lambda: None  # the fixture's teardown has nothing left to stop
    # When the poller calls it
    with pytest.raises(PlatformError) as caught:
        fetch_mentions(url, TOKEN, BRAND, None, timeout=2)
    # Then it is a PlatformError (status 0), still without the token
    assert caught.value.status == 0
    assert TOKEN not in str(caught.value) + caught.value.body
