"""X API v2 client for the scheduled mentions poller (no Account Activity tier needed).

`fetch_mentions` reads `GET /2/users/{id}/mentions` for a brand account, page by page, and
`parse_mentions_page` turns one v2 response (data + expansions in `includes`) into
`Mention`s with source "poller". The same tweet seen by the webhook and the poller has the
same `dedupe_key`, so the pipeline stores it once.

Cursor rule (since_id): X returns newest first, so the newest id of a poll is the FIRST
page's `meta.newest_id`. It is handed back as `PollOutcome.newest_id` only when the poll
walked every page (`complete`). When pagination is cut short (a 429, the rate-limit
window exhausted with pages left, or `max_pages` reached) `newest_id` is None: the caller
keeps its old cursor and the next poll fetches the gap again; the tweets already fetched
are returned and any duplicates are deduplicated downstream by the pipeline. Advancing the
cursor there would silently skip the older, unfetched tweets of the gap.

Imports the standard library (urllib: `requests` is not in the Lambda runtime), pydantic,
chalicelib.models and chalicelib.errors only. The bearer token is sent in the
Authorization header and never appears in an exception, a log line or a URL.
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from typing import Any, Callable, Optional
from urllib.parse import quote, urlencode

from pydantic import BaseModel, Field, ValidationError

from chalicelib import channels
from chalicelib.channels.x import ID
from chalicelib.errors import PlatformError
from chalicelib.models import Attachment, Author, Mention, Visibility, from_epoch, iso_time

MAX_RESULTS = 100  # per page; the endpoint accepts 5..100 (https://docs.x.com/x-api/posts/timelines/introduction)
RATE_LIMIT_WINDOW = 15 * 60  # fallback when x-rate-limit-reset is missing (https://docs.x.com/fundamentals/rate-limits)
X_EPOCH_MS = 1288834974657  # snowflake ids carry their creation time (https://docs.x.com/resources/fundamentals/x-ids)
ERROR_BODY_LIMIT = 2000

# Fields are opt-in in v2: without these the API returns only id and text
# (https://docs.x.com/x-api/fundamentals/fields and .../expansions).
QUERY_FIELDS = {
    "expansions": "author_id,attachments.media_keys,referenced_tweets.id",
    "tweet.fields": "created_at,conversation_id,in_reply_to_user_id,referenced_tweets,"
                    "attachments,lang,author_id",
    "user.fields": "name,username,verified,public_metrics",
    "media.fields": "type,url,preview_image_url",
}

# X calls images "photo" and GIFs "animated_gif" (served as mp4); the desk's vocabulary is
# image/video, as in the webhook adapter (chalicelib/channels/x.py).
_MEDIA_TYPES = {"photo": "image", "video": "video", "animated_gif": "video"}


class PollOutcome(BaseModel):
    """What one poll of the mentions timeline produced.

    newest_id: the cursor to store for the next poll (see the module's cursor rule), None
        when the caller must keep its old one.
    rate_limited_until: epoch seconds before which the caller must not call again (a 429, or
        the window's remaining calls reached 0), else None.
    complete: every page since the cursor was read.
    """

    mentions: list[Mention] = Field(default_factory=list)
    newest_id: Optional[str] = None
    requests_made: int = 0
    rate_limited_until: Optional[float] = None
    rate_limit_remaining: Optional[int] = None
    complete: bool = False


# --- parsing --------------------------------------------------------------------------------

def parse_mentions_page(body: dict, brand_account_id: str) -> list[Mention]:
    """Turn one `GET /2/users/:id/mentions` response into Mentions.

    Skips the brand's own tweets and plain retweets. Missing expansions (a suspended author,
    deleted media) degrade to what the tweet itself says; v2 reports those as partial
    `errors` next to `data`, which are not failures of the request.
    """
    if not isinstance(body, dict):
        return []
    data = body.get("data")
    if not isinstance(data, list):
        return []
    users, media = expansions(body.get("includes"))
    brand = str(brand_account_id)
    mentions = []
    for tweet in data:
        if not isinstance(tweet, dict) or not channels.text(tweet.get("id")).strip():
            continue
        try:
            mention = post_mention(tweet, users, media, brand)
        except ValidationError:
            continue  # a post we cannot read (an id over 512 characters, ...): as if not found
        if mention is not None:
            mentions.append(mention)
    return mentions


def expansions(includes: Any) -> tuple[dict, dict]:
    """A v2 answer's `includes` as users by id and media by media key; a user wrapped in `data`
    (as the X Activity API sends some) is unwrapped."""
    includes = channels.obj(includes)
    users = [channels.obj(u) for u in channels.array(includes.get("users"))]
    users = [channels.obj(u.get("data")) if "data" in u else u for u in users]
    return ({channels.text(u.get("id")): u for u in users if u},
            {channels.text(m.get("media_key")): m for m in channels.array(includes.get("media")) if isinstance(m, dict)})


def post_mention(tweet: dict, users: dict, media: dict, brand: str, source: str = "poller") -> Optional[Mention]:
    """A v2 Post (the poller's search results, the X Activity API's post.mention.create) as a
    Mention; None for the brand's own post or a plain retweet. `users` and `media` are the
    expansions by id and media key."""
    tweet_id = channels.text(tweet["id"])
    author_id = channels.text(tweet.get("author_id"))
    if not author_id or author_id == brand:
        return None  # the brand's own post (or one we cannot attribute)
    references = {channels.text(r.get("type")): channels.text(r.get("id"))
                  for r in channels.array(tweet.get("referenced_tweets"))
                  if isinstance(r, dict) and channels.text(r.get("id")).strip()}
    if "retweeted" in references:
        return None  # a plain retweet says nothing new
    return Mention(
        platform=ID,
        kind="tweet",
        brand_account_id=brand,
        external_id=tweet_id,
        conversation_id=channels.text(tweet.get("conversation_id")).strip() or tweet_id,
        reply_to_id=tweet_id,
        in_reply_to_id=references.get("replied_to"),
        author=_author(author_id, users.get(author_id)),
        text=_text(tweet),
        attachments=_attachments(tweet, media),
        visibility=Visibility.PUBLIC,
        created_at=_created_at(tweet),
        source=source,
    )


def _text(tweet: dict) -> str:
    # Posts over 280 characters carry the whole text in note_tweet.text, when it is requested
    # (https://docs.x.com/x-api/fundamentals/data-dictionary#tweet).
    note = tweet.get("note_tweet")
    if isinstance(note, dict) and channels.text(note.get("text")):
        return channels.text(note["text"])
    return channels.text(tweet.get("text"))


def _author(author_id: str, user: Optional[dict]) -> Author:
    if not isinstance(user, dict):
        return Author(id=author_id)
    metrics = user.get("public_metrics") if isinstance(user.get("public_metrics"), dict) else {}
    try:
        followers = int(metrics["followers_count"]) if "followers_count" in metrics else None
    except (TypeError, ValueError, OverflowError):  # OverflowError: a count of Infinity
        followers = None
    return Author(
        id=author_id,
        name=channels.text(user.get("name")) or None,
        handle=channels.text(user.get("username")) or None,
        followers=followers,
        verified=user.get("verified") if isinstance(user.get("verified"), bool) else None,
    )


def _attachments(tweet: dict, media: dict) -> tuple[Attachment, ...]:
    keys = channels.obj(tweet.get("attachments")).get("media_keys")
    keys = keys if isinstance(keys, list) else []
    out = []
    for key in keys:
        item = media.get(str(key))
        if not isinstance(item, dict):
            continue  # media not expanded (deleted, or withheld): nothing to show
        kind = channels.text(item.get("type"))[:64] or "image"
        # Photos have `url`; videos and GIFs only `preview_image_url` (media object docs).
        url = channels.url(item.get("url")) or channels.url(item.get("preview_image_url"))
        out.append(Attachment(type=_MEDIA_TYPES.get(kind, kind), url=url))
    return tuple(out)


def _created_at(tweet: dict) -> datetime:
    parsed = iso_time(tweet.get("created_at"))
    if parsed is not None:
        return parsed
    # Without created_at, the snowflake id still tells when the post was made.
    tweet_id = str(tweet.get("id") or "")
    if tweet_id.isdigit() and len(tweet_id) <= 20:
        try:
            return from_epoch(((int(tweet_id) >> 22) + X_EPOCH_MS) / 1000)
        except ValueError:
            pass
    return datetime.now(timezone.utc)


# --- fetching -------------------------------------------------------------------------------

class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """urllib would replay the Authorization header to wherever a redirect points."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D401
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _get(url: str, bearer_token: str, timeout: float) -> tuple[int, Any, bytes]:
    request = urllib.request.Request(url, method="GET", headers={
        "Authorization": f"Bearer {bearer_token}",
        "Accept": "application/json",
        "User-Agent": "social-care-desk/1.0",
    })
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        try:
            body = exc.read()
        finally:
            exc.close()
        return exc.code, exc.headers, body
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise PlatformError(0, f"x api unreachable: {type(exc).__name__}: {reason}") from None


def _header_number(headers: Any, name: str) -> Optional[float]:
    value = headers.get(name) if headers is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def fetch_mentions(base_url: str, bearer_token: str, user_id: str, since_id: Optional[str], *,
                   max_pages: int = 5, timeout: float = 10,
                   now: Callable[[], float] = time.time) -> PollOutcome:
    """Poll the brand account's mentions newer than `since_id` (all available when None).

    Follows `meta.next_token` for up to `max_pages` pages. Stops, without another call, on a
    429 or once `x-rate-limit-remaining` reaches 0, and reports `rate_limited_until` from
    `x-rate-limit-reset` (now + 15 min when absent). Any other non-200 answer raises
    `PlatformError(status, body)`. See the module docstring for the cursor rule.
    """
    url = f"{base_url.rstrip('/')}/2/users/{quote(str(user_id), safe='')}/mentions"
    params: dict[str, str] = {"max_results": str(MAX_RESULTS), **QUERY_FIELDS}
    if since_id:
        params["since_id"] = str(since_id)

    outcome = PollOutcome()
    seen: set[str] = set()
    first_newest: Optional[str] = None
    token: Optional[str] = None
    for page in range(max(1, max_pages)):
        query = dict(params, pagination_token=token) if token else params
        status, headers, raw = _get(f"{url}?{urlencode(query, safe=',')}", bearer_token, timeout)
        outcome.requests_made += 1
        remaining = _header_number(headers, "x-rate-limit-remaining")
        reset = _header_number(headers, "x-rate-limit-reset")
        if remaining is not None:
            outcome.rate_limit_remaining = int(remaining)
        if status == 429:
            # Too Many Requests: wait for the window to reset (https://docs.x.com/fundamentals/rate-limits)
            outcome.rate_limit_remaining = 0
            outcome.rate_limited_until = reset if reset is not None else now() + RATE_LIMIT_WINDOW
            break
        if status != 200:
            raise PlatformError(status, raw[:ERROR_BODY_LIMIT].decode("utf-8", errors="replace"))
        try:
            body = json.loads(raw)
        except ValueError:
            raise PlatformError(status, "x api answered with a body that is not JSON: "
                                + raw[:200].decode("utf-8", errors="replace")) from None
        meta = body.get("meta") if isinstance(body, dict) and isinstance(body.get("meta"), dict) else {}
        if page == 0 and meta.get("newest_id"):
            first_newest = str(meta["newest_id"])
        for mention in parse_mentions_page(body, str(user_id)):
            if mention.external_id not in seen:
                seen.add(mention.external_id)
                outcome.mentions.append(mention)
        token = meta.get("next_token")
        if not token:
            outcome.complete = True
            break
        if remaining is not None and remaining <= 0:
            outcome.rate_limited_until = reset if reset is not None else now() + RATE_LIMIT_WINDOW
            break
    if outcome.complete:
        outcome.newest_id = first_newest
        if outcome.rate_limit_remaining == 0 and outcome.rate_limited_until is None:
            reset = _header_number(headers, "x-rate-limit-reset")
            outcome.rate_limited_until = reset if reset is not None else now() + RATE_LIMIT_WINDOW
    return outcome
