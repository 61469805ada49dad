"""Sending a reply on X, and finding it again after an attempt whose outcome is unknown.

| action  | request (base X_API_BASE)                                                          |
| x_reply | POST /2/tweets {text, reply.in_reply_to_tweet_id}                                  |
|         | find: GET /2/users/{account}/tweets, a reply to that tweet with our text           |
| x_dm    | POST /2/dm_conversations/with/{participant}/messages {text}                        |
|         | find: GET /2/dm_conversations/with/{participant}/dm_events, ours with our text     |
| x_dm_survey | POST /1.1/direct_messages/events/new.json (message_create with quick_reply     |
|         | options: the CSAT survey); find: as x_dm                                           |

Errors (https://docs.x.com/x-api/fundamentals/rate-limits, .../response-codes-and-errors): 429
waits until `x-rate-limit-reset`; 5xx backs off; 401 is an auth failure (the refresh grant,
x/credentials.py, then one more try); a 403 "duplicate content" means our first attempt landed.
"""
from __future__ import annotations

import time
import urllib.parse
from datetime import datetime
from typing import Optional

from chalicelib.aggregates.message import Message
from chalicelib.channels import http
from chalicelib.channels.reply import Sender, after, same
from chalicelib.channels.x.credentials import refresh_grant  # noqa: F401  (the worker reads it here)
from chalicelib.env import settings
from chalicelib.errors import Ambiguous, AuthFailed, Permanent, Retry


def _x(path: str) -> str:
    return settings().x_api_base + path


def check(reply: http.Reply, attempt: int) -> dict:
    """X's answer, or the typed error it calls for."""
    if reply.status in (200, 201):
        return reply.body or {}
    body = reply.body if isinstance(reply.body, dict) else {}
    detail = str(body.get("detail") or body.get("title") or
                 "; ".join(e.get("message", "") for e in body.get("errors") or []) or reply.status)
    if reply.status == 401:
        raise AuthFailed(f"X refused the account's token: {detail}"[:http.ERROR_TEXT_LIMIT], code="401")
    if reply.status == 429:
        reset = http.number(reply.headers, "x-rate-limit-reset")
        raise Retry("X rate limit reached", after=max((reset or time.time() + 60) - time.time(), 1), code="429")
    if reply.status >= 500:
        raise Retry(f"X answered {reply.status}", after=http.backoff(attempt), code=str(reply.status))
    if reply.status == 403 and "duplicate content" in detail.lower():
        raise Ambiguous("X refused the text as a duplicate: an earlier attempt was posted", code="403")
    raise Permanent(f"X refused the reply ({reply.status}): {detail}"[:http.ERROR_TEXT_LIMIT],
                    code=str(reply.status))


def reply(message: Message, credential, attempt: int = 1) -> str:
    body = {"text": message.text, "reply": {"in_reply_to_tweet_id": message.target["in_reply_to_tweet_id"]}}
    return str(check(http.http("POST", _x("/2/tweets"), token=credential.token, body=body), attempt)["data"]["id"])


def reply_find(message: Message, credential, since: datetime) -> Optional[str]:
    query = urllib.parse.urlencode({"max_results": 20, "tweet.fields": "created_at,referenced_tweets"})
    page = check(http.http("GET", _x(f"/2/users/{message.target['account_id']}/tweets?{query}"),
                           token=credential.token), 1)
    wanted = message.target["in_reply_to_tweet_id"]
    for tweet in page.get("data") or []:
        replied = {r.get("id") for r in tweet.get("referenced_tweets") or [] if r.get("type") == "replied_to"}
        if wanted in replied and same(tweet.get("text"), message.text) and after(tweet.get("created_at"), since):
            return str(tweet["id"])
    return None


def dm(message: Message, credential, attempt: int = 1) -> str:
    participant = urllib.parse.quote(message.target["participant_id"], safe="")
    answer = http.http("POST", _x(f"/2/dm_conversations/with/{participant}/messages"), token=credential.token,
                       body={"text": message.text})
    return str(check(answer, attempt)["data"]["dm_event_id"])


def dm_find(message: Message, credential, since: datetime) -> Optional[str]:
    participant = urllib.parse.quote(message.target["participant_id"], safe="")
    query = urllib.parse.urlencode({"dm_event.fields": "id,text,sender_id,created_at,event_type"})
    page = check(http.http("GET", _x(f"/2/dm_conversations/with/{participant}/dm_events?{query}"),
                           token=credential.token), 1)
    for event in page.get("data") or []:
        if (str(event.get("sender_id")) == message.target["account_id"]
                and same(event.get("text"), message.text) and after(event.get("created_at"), since)):
            return str(event["id"])
    return None


def dm_survey(message: Message, credential, attempt: int = 1) -> str:
    """The CSAT survey (chalicelib/surveys.py): a DM with quick-reply options, each option's
    `metadata` the choice's signed payload, echoed back in the customer's
    `message_data.quick_reply_response.metadata` (webhook.py). X API v2's DM endpoint takes no quick
    replies; the options are the v1.1 message_create's (at most 20, labels up to 36 characters):
    https://developer.x.com/en/docs/x-api/v1/direct-messages/quick-replies/api-reference/options
    It is found again as any DM of ours (dm_find: v2 dm_events, our text)."""
    asked = message.target["survey"]
    options = [{"label": c["title"][:36], "metadata": c["payload"]} for c in asked["choices"][:20]]
    body = {"event": {"type": "message_create", "message_create": {
        "target": {"recipient_id": message.target["participant_id"]},
        "message_data": {"text": asked["question"], "quick_reply": {"type": "options", "options": options}}}}}
    answer = http.http("POST", _x("/1.1/direct_messages/events/new.json"), token=credential.token, body=body)
    return str(check(answer, attempt)["event"]["id"])


SENDERS = {"x_reply": Sender(reply, reply_find), "x_dm": Sender(dm, dm_find),
           "x_dm_survey": Sender(dm_survey, dm_find)}
