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

Each channel's rules are its package's `replies.py` (the planner per kind of message, the action
names, the windows; the interface: chalicelib/channels/reply.py), found through the registry; this
module holds what every channel shares. The limits and how each is counted are stated once, in the
channels' descriptors (the UI's counter reads the same through GET /api/channels).

A reply too long for X is refused, not split into a numbered thread: a thread posts several
times for one reply (one can fail halfway) and reads as a bot. The UI counts as X does.
Messenger and Instagram DMs past 24 hours go out with the HUMAN_AGENT tag (7 days) when the
brand account has `human_agent_tag` (Meta grants it per app); WhatsApp past 24 hours needs an
approved template, which a free-form reply is not.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Optional

from chalicelib.aggregates.account import Account
from chalicelib.aggregates.message import Message
from chalicelib.aggregates.ticket import Ticket
from chalicelib.channels import registry as channel_registry
from chalicelib.channels.reply import Plan, ReplyRefused, module
from chalicelib.outbound.text import char_length, utf8_length, x_weighted_length

__all__ = ["LIMITS", "Limit", "Plan", "ReplyRefused", "options", "plan"]


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


def __getattr__(name: str):
    """`LIMITS` (every reply action a channel of the registry names, e.g. "x_reply": 280 weighted
    characters) and `_NAMES` (each as the agent reads it, e.g. "a reply on X"), read from the registry
    when asked, never copied at import, so a channel added to the registry is planned like the others."""
    if name == "LIMITS":
        return {action: _limit(action) for channel in channel_registry.CHANNELS for counter in channel.counters
                for action in counter.actions}
    if name == "_NAMES":
        return {action: named for channel in channel_registry.CHANNELS
                for action, named in getattr(module(channel, "replies"), "ACTIONS", {}).items()}
    raise AttributeError(name)


def plan(ticket: Ticket, messages: list[Message], account: Optional[Account], visibility: str, text: str,
         now: datetime) -> Plan:
    """The action that delivers `text`, or ReplyRefused with a reason an agent can act on."""
    if not text.strip():
        raise ReplyRefused("text", "the reply is empty")
    chosen, names = _plan(ticket, messages, account or _unknown(ticket), visibility, now)
    limit = _limit(chosen.action)
    length = limit.measure(text)
    if length > limit.maximum:
        raise ReplyRefused("text", f"too long for {names[chosen.action]}: {length} of at most "
                                   f"{limit.maximum} {limit.unit}; shorten it")
    return chosen


def options(ticket: Ticket, messages: list[Message], account: Optional[Account], now: datetime) -> dict:
    """Per visibility: can the agent reply, how, how long may it be, and until when."""
    answer = {}
    for visibility in ("public", "private"):
        try:
            chosen, names = _plan(ticket, messages, account or _unknown(ticket), visibility, now)
        except ReplyRefused as refused:
            answer[visibility] = {"allowed": False, "reason": refused.reason}
            continue
        limit = _limit(chosen.action)
        answer[visibility] = {
            "allowed": True, "action": chosen.action, "via": names[chosen.action],
            "max_length": limit.maximum, "unit": limit.unit,
            "counting": channel_registry.counter_for_action(chosen.action).counting,
            "window_closes_at": chosen.window_closes_at.isoformat() if chosen.window_closes_at else None,
            "notes": list(chosen.notes)}
    return answer


def _unknown(ticket: Ticket) -> Account:
    """An account the desk has no record of: nothing set, so no tag and no callback, and not refused
    as discovered."""
    return Account(platform=ticket.channel, account_id=ticket.brand_account_id)


def _plan(ticket: Ticket, messages: list[Message], account: Account, visibility: str,
          now: datetime) -> tuple[Plan, dict[str, str]]:
    """The plan, by the planner of the channel's package (its replies.py), and that package's
    names of its actions."""
    inbound = [m for m in messages if m.direction == "in"]
    if not inbound:
        raise ReplyRefused("ticket", "the ticket has no customer message to answer")
    if account.status == "discovered":
        raise ReplyRefused("ticket", "the brand account is not connected yet (discovered from a "
                                     "webhook); an admin must connect it before replies can be sent")
    latest = inbound[-1]
    platform, kind = latest.platform, latest.kind
    replies = module(channel_registry.find(platform), "replies")
    handler = getattr(replies, "PLANNERS", {}).get(kind)
    if handler is None:
        raise ReplyRefused("ticket", f"replies to {platform} {kind}s are not supported")
    return handler(ticket, latest, inbound, messages, account, visibility, now), replies.ACTIONS
