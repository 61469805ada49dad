"""What a reply on a ticket may be, decided before anything is queued.

Each platform has its own rules, and an agent must learn of them while writing, not after
sending. `plan` turns (ticket, its messages, the brand account, visibility, text) into a
`Plan`: the platform action and its target ids, or refuses with `ReplyRefused` naming the
field at fault. `options` tells the UI, per visibility, whether a reply is possible, how long
it may be, and until when.

| ticket (latest inbound)  | public                        | private                                  |
| X tweet                  | reply tweet (280 weighted)    | DM to the author (10,000)                |
| X DM                     | refused: it was private       | DM (10,000)                              |
| Facebook comment         | comment reply (8,000)         | private reply: once, 7 days (2,000)      |
| Messenger                | refused                       | Send API, 24 h window (2,000)            |
| Instagram comment        | comment reply (2,200)         | private reply: once, 7 days (1,000 B)    |
| Instagram mention        | reply on the media (2,200)    | refused: a mention has no conversation   |
| Instagram DM             | refused                       | Send API, 24 h window (1,000 bytes)      |
| WhatsApp                 | refused                       | text, 24 h window (4,096)                |
| email                    | refused                       | SES, In-Reply-To/References (100,000)    |
| API channel              | callback (10,000)             | callback (10,000)                        |

The limits and how each is counted are stated once, in chalicelib/channel_registry.py (the UI's
counter reads the same through GET /api/channels).

A reply too long for X is refused, not split into a numbered thread: a thread posts several
times for one reply (one can fail halfway) and reads as a bot. The UI counts as X does.
Messenger and Instagram DMs past 24 hours go out with the HUMAN_AGENT tag (7 days) when the
brand account has `human_agent_tag` (Meta grants it per app); WhatsApp past 24 hours needs an
approved template, which a free-form reply is not.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Optional

from chalicelib.channels import registry as channel_registry
from chalicelib.aggregates.account import Account
from chalicelib.outbound.text import char_length, utf8_length, x_weighted_length

STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
PRIVATE_REPLY_WINDOW = timedelta(days=7)


class ReplyRefused(Exception):
    """The platform would refuse this reply; `field` is the request field at fault."""

    def __init__(self, field: str, reason: str):
        super().__init__(reason)
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Limit:
    maximum: int
    unit: str  # "weighted characters", "characters", "bytes"
    measure: Callable[[str], int]


# How each counting of the channel registry is measured and named in a refusal.
MEASURES = {
    "x": ("weighted characters (X counts CJK and emoji as 2, links as 23)", x_weighted_length),
    "characters": ("characters", char_length),
    "bytes": ("bytes", utf8_length),
}


def _limit(action: str) -> Limit:
    """The action's limit as the channel registry states it (the UI's counter reads the same)."""
    counter = channel_registry.counter_for_action(action)
    unit, measure = MEASURES[counter.counting]
    return Limit(counter.limit, unit, measure)


# every reply action a channel of the registry names, e.g. "x_reply": 280 weighted characters
LIMITS = {action: _limit(action) for channel in channel_registry.CHANNELS for counter in channel.counters
          for action in counter.actions}


@dataclass(frozen=True)
class Plan:
    action: str
    target: dict
    window_closes_at: Optional[datetime] = None
    notes: tuple[str, ...] = field(default=())

    @property
    def limit(self) -> Limit:
        return LIMITS[self.action]


def plan(ticket: dict, messages: list[dict], account: Optional[Account], visibility: str, text: str,
         now: datetime) -> Plan:
    """The action that delivers `text`, or ReplyRefused with a reason an agent can act on."""
    if not text.strip():
        raise ReplyRefused("text", "the reply is empty")
    chosen = _plan(ticket, messages, account or _unknown(ticket), visibility, now)
    limit = chosen.limit
    length = limit.measure(text)
    if length > limit.maximum:
        raise ReplyRefused("text", f"too long for {_NAMES[chosen.action]}: {length} of at most "
                                   f"{limit.maximum} {limit.unit}; shorten it")
    return chosen


def options(ticket: dict, messages: list[dict], account: Optional[Account], now: datetime) -> dict:
    """Per visibility: can the agent reply, how, how long may it be, and until when."""
    answer = {}
    for visibility in ("public", "private"):
        try:
            chosen = _plan(ticket, messages, account or _unknown(ticket), visibility, now)
        except ReplyRefused as refused:
            answer[visibility] = {"allowed": False, "reason": refused.reason}
            continue
        answer[visibility] = {
            "allowed": True, "action": chosen.action, "via": _NAMES[chosen.action],
            "max_length": chosen.limit.maximum, "unit": chosen.limit.unit,
            "counting": channel_registry.counter_for_action(chosen.action).counting,
            "window_closes_at": chosen.window_closes_at.isoformat() if chosen.window_closes_at else None,
            "notes": list(chosen.notes)}
    return answer


_NAMES = {
    "x_reply": "a reply on X", "x_dm": "an X direct message",
    "fb_comment_reply": "a Facebook comment reply", "fb_private_reply": "a Facebook private reply",
    "messenger": "a Messenger message", "ig_comment_reply": "an Instagram comment reply",
    "ig_mention_reply": "an Instagram reply to the mention", "ig_private_reply": "an Instagram private reply",
    "ig_dm": "an Instagram direct message", "whatsapp": "a WhatsApp message", "email": "an email",
    "api_callback": "the API channel's callback",
}


def _unknown(ticket: dict) -> Account:
    """An account the desk has no record of: nothing set, so no tag and no callback, and not refused
    as discovered."""
    return Account(platform=ticket["channel"], account_id=ticket["brand_account_id"])


def _plan(ticket: dict, messages: list[dict], account: Account, visibility: str, now: datetime) -> Plan:
    inbound = [m for m in messages if m.get("direction") == "in"]
    if not inbound:
        raise ReplyRefused("ticket", "the ticket has no customer message to answer")
    if account.status == "discovered":
        raise ReplyRefused("ticket", "the brand account is not connected yet (discovered from a "
                                     "webhook); an admin must connect it before replies can be sent")
    latest = inbound[-1]
    platform, kind = latest["platform"], latest["kind"]
    handler = _PLANNERS.get((platform, kind))
    if handler is None:
        raise ReplyRefused("ticket", f"replies to {platform} {kind}s are not supported")
    return handler(ticket, latest, inbound, messages, account, visibility, now)


def _x_tweet(ticket, latest, inbound, messages, account, visibility, now) -> Plan:
    if visibility == "public":
        return Plan("x_reply", {"in_reply_to_tweet_id": latest["reply_to_id"] or latest["platform_message_id"],
                                "account_id": ticket["brand_account_id"]})
    return Plan("x_dm", {"participant_id": latest["author"]["id"], "account_id": ticket["brand_account_id"]},
                notes=("X delivers the DM only if the customer accepts messages from the brand",))


def _x_dm(ticket, latest, inbound, messages, account, visibility, now) -> Plan:
    _private_only(visibility, "X direct message")
    return Plan("x_dm", {"participant_id": latest["author"]["id"], "account_id": ticket["brand_account_id"]})


def _fb_comment(ticket, latest, inbound, messages, account, visibility, now) -> Plan:
    comment_id = latest["reply_to_id"] or latest["platform_message_id"]
    page_id = ticket["brand_account_id"]
    if visibility == "public":
        # Facebook threads one level deep: an answer to a reply goes under its top comment.
        post_id = ticket["conversation_key"].split("#", 2)[2]
        parent = latest.get("in_reply_to_id")
        top = comment_id if parent in (None, "", post_id) else parent
        return Plan("fb_comment_reply", {"comment_id": top, "account_id": page_id})
    return _private_reply("fb_private_reply", latest, messages, page_id, now)


def _fb_post(ticket, latest, inbound, messages, account, visibility, now) -> Plan:
    """A visitor's post on the Page, or a post or comment that mentions the Page: answered by a
    comment under it (POST /{object-id}/comments)."""
    if visibility != "public":
        raise ReplyRefused("visibility", f"a Facebook {latest['kind']} is answered publicly, with a comment "
                                         "under it; a private answer goes through Messenger once they write there")
    return Plan("fb_comment_reply", {"comment_id": latest["reply_to_id"] or latest["platform_message_id"],
                                     "account_id": ticket["brand_account_id"]})


def _ig_comment(ticket, latest, inbound, messages, account, visibility, now) -> Plan:
    comment_id = latest["reply_to_id"] or latest["platform_message_id"]
    if visibility == "public":
        return Plan("ig_comment_reply", {"comment_id": latest.get("in_reply_to_id") or comment_id,
                                         "account_id": ticket["brand_account_id"]})
    return _private_reply("ig_private_reply", latest, messages, ticket["brand_account_id"], now)


def _ig_mention(ticket, latest, inbound, messages, account, visibility, now) -> Plan:
    if visibility != "public":
        raise ReplyRefused("visibility", "an Instagram mention can only be answered publicly, on the "
                                         "post or comment that mentioned the brand")
    media_id = ticket["conversation_key"].split("#", 2)[2]
    target = {"account_id": ticket["brand_account_id"], "media_id": media_id}
    if latest["platform_message_id"] != media_id:
        target["comment_id"] = latest["platform_message_id"]
    return Plan("ig_mention_reply", target)


def _private_reply(action: str, latest: dict, messages: list[dict], account_id: str, now: datetime) -> Plan:
    comment_id = latest["reply_to_id"] or latest["platform_message_id"]
    closes = _time(latest["created_at"]) + PRIVATE_REPLY_WINDOW
    if now >= closes:
        raise ReplyRefused("visibility", f"a private reply to a comment is possible for 7 days; "
                                         f"this one closed at {closes.isoformat()}; answer publicly")
    for m in messages:
        if (m.get("direction") == "out" and m.get("kind") == action and m.get("status") != "failed"
                and (m.get("target") or {}).get("comment_id") == comment_id):
            raise ReplyRefused("visibility", "this comment already has its one private reply; "
                                             "answer publicly, or in the conversation it started")
    return Plan(action, {"comment_id": comment_id, "account_id": account_id}, window_closes_at=closes)


def _dm_window(action: str, name: str):
    def planner(ticket, latest, inbound, messages, account, visibility, now) -> Plan:
        _private_only(visibility, name)
        target = {"recipient_id": latest["author"]["id"], "account_id": ticket["brand_account_id"]}
        last = max(_time(m["created_at"]) for m in inbound if m["kind"] == "message")
        closes = last + STANDARD_WINDOW
        if now < closes:
            return Plan(action, target, window_closes_at=closes)
        if account.human_agent_tag and now < last + HUMAN_AGENT_WINDOW:
            return Plan(action, {**target, "tag": "HUMAN_AGENT"}, window_closes_at=last + HUMAN_AGENT_WINDOW,
                        notes=("sent with the HUMAN_AGENT tag: more than 24 hours since the customer wrote",))
        raise ReplyRefused("visibility", f"{name} allows a reply for 24 hours after the customer's last "
                                         f"message; that window closed at {closes.isoformat()}. Wait for the "
                                         "customer to write again, or reach them on another channel")
    return planner


def _whatsapp(ticket, latest, inbound, messages, account, visibility, now) -> Plan:
    _private_only(visibility, "WhatsApp")
    last = max(_time(m["created_at"]) for m in inbound)
    closes = last + STANDARD_WINDOW
    if now >= closes:
        raise ReplyRefused("visibility", "WhatsApp allows free-form replies for 24 hours after the customer's "
                                         f"last message; that window closed at {closes.isoformat()}. Only an "
                                         "approved template message can reach them now")
    return Plan("whatsapp", {"to": latest["author"]["id"], "context_message_id": latest["platform_message_id"],
                             "account_id": ticket["brand_account_id"]}, window_closes_at=closes)


def _email(ticket, latest, inbound, messages, account, visibility, now) -> Plan:
    _private_only(visibility, "email")
    headers = latest.get("headers") or {}
    references = " ".join(filter(None, [headers.get("References"), _bracket(latest["platform_message_id"])]))
    subject = ticket.get("subject") or latest.get("subject") or ""
    return Plan("email", {"account_id": ticket["brand_account_id"], "to": latest["author"]["id"],
                          "to_name": latest["author"].get("name"),
                          "subject": subject if subject.lower().startswith("re:") else f"Re: {subject}".strip(),
                          "in_reply_to": _bracket(latest["platform_message_id"]), "references": references})


def _api(ticket, latest, inbound, messages, account, visibility, now) -> Plan:
    if not account.callback_url:
        raise ReplyRefused("ticket", "this API channel has no callback_url; set one on the account "
                                     "so replies can be delivered")
    return Plan("api_callback", {"account_id": ticket["brand_account_id"], "url": account.callback_url,
                                 "to": latest["author"]["id"], "in_reply_to": latest["platform_message_id"],
                                 "thread_id": ticket["conversation_key"].split("#", 2)[2]})


def _private_only(visibility: str, name: str) -> None:
    if visibility != "private":
        raise ReplyRefused("visibility", f"the customer wrote privately ({name}); a public reply would "
                                         "expose the conversation. Reply privately")


def _bracket(message_id: str) -> str:
    return message_id if message_id.startswith("<") else f"<{message_id}>"


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


_PLANNERS = {
    ("x", "tweet"): _x_tweet, ("x", "dm"): _x_dm,
    ("facebook", "comment"): _fb_comment, ("facebook", "message"): _dm_window("messenger", "Messenger"),
    ("facebook", "post"): _fb_post, ("facebook", "mention"): _fb_post,
    ("instagram", "comment"): _ig_comment, ("instagram", "mention"): _ig_mention,
    ("instagram", "message"): _dm_window("ig_dm", "Instagram direct messages"),
    ("whatsapp", "message"): _whatsapp, ("email", "email"): _email, ("api", "message"): _api,
}
