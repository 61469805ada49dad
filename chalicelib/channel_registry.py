"""The one list of channels: every enum, list, route and policy of the desk reads it.

One frozen `ChannelInfo` per platform says what the rest of the desk needs to know about it
without importing its adapter: its id and display name, the kinds of message it produces, the
webhook route and secret it comes in on (none for email, which arrives through SES and SNS),
how a reply on it is counted and how long it may be per visibility (the composer's counter;
`outbound/policy.py` takes its limits from here), and how the web UI draws it (icon path data
on a 24×24 grid, drawn for this desk and not the platforms' trademarked artwork, and a colour
contrast-checked on white).

Readers: `models.Platform`, the inbox filter and other ids checked in `models.channel_id`,
`crm`, `desk_settings`, `admin`, `openapi`, `ingest` (webhook routes), `outbound.policy`
(limits), `GET /api/channels` (the web UI's only source of names, icons, colours, counters),
and `infra/package.py` (per-channel alarms). Read `CHANNELS` when called, never copied at import,
so a test can add a channel and see it everywhere.

Foundation layer: standard library only, imported on the webhook path (cold start).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

VISIBILITIES = ("public", "private")
COUNTINGS = ("x", "characters", "bytes")  # X weighted characters, code points, UTF-8 bytes


@dataclass(frozen=True)
class Kind:
    """A kind of message a channel produces (`Mention.kind`) and how the UI names it."""

    id: str
    name: str


@dataclass(frozen=True)
class Counter:
    """How a reply of one visibility is counted and its limit; `actions` are the outbound
    actions (outbound/policy.py) that deliver it, all sharing this limit."""

    visibility: str
    counting: str  # one of COUNTINGS
    limit: int
    actions: tuple[str, ...]


@dataclass(frozen=True)
class Webhook:
    """The route a platform posts to, the adapter module under chalicelib.channels that reads
    it, the secret that signs it and the header carrying the signature. Meta's three platforms
    share one."""

    route: str
    adapter: str
    secret: str
    signature_header: str


@dataclass(frozen=True)
class ChannelInfo:
    id: str
    name: str
    kinds: tuple[Kind, ...]
    counters: tuple[Counter, ...]  # one per visibility a reply may have
    icon: tuple[str, ...]  # SVG path data, 24×24, even-odd fill
    color: str
    webhook: Optional[Webhook] = None

    @property
    def visibilities(self) -> tuple[str, ...]:
        return tuple(c.visibility for c in self.counters)

    def counter(self, visibility: str) -> Optional[Counter]:
        return next((c for c in self.counters if c.visibility == visibility), None)

    def ui(self) -> dict:
        """What the web UI reads from GET /api/channels."""
        return {"id": self.id, "name": self.name, "icon": list(self.icon), "color": self.color,
                "kinds": [{"id": k.id, "name": k.name} for k in self.kinds],
                "counter": {c.visibility: {"counting": c.counting, "limit": c.limit} for c in self.counters},
                "visibilities": list(self.visibilities)}


X_WEBHOOK = Webhook("/webhooks/x", "x", "X_CONSUMER_SECRET", "x-twitter-webhooks-signature")
META_WEBHOOK = Webhook("/webhooks/meta", "meta", "META_APP_SECRET", "x-hub-signature-256")
API_WEBHOOK = Webhook("/webhooks/api", "api", "API_CHANNEL_SECRET", "x-signature-256")

COMMENT, MENTION, MESSAGE = Kind("comment", "comment"), Kind("mention", "mention"), Kind("message", "message")

CHANNELS: tuple[ChannelInfo, ...] = (
    ChannelInfo(
        "x", "X", (Kind("tweet", "tweet"), Kind("dm", "direct message")),
        (Counter("public", "x", 280, ("x_reply",)), Counter("private", "characters", 10_000, ("x_dm",))),
        ("M4 3h4.6l4.1 5.7L17.6 3H20l-6.1 7.1L21 21h-4.6l-4.5-6.2L6.6 21H4l6.8-7.9L4 3Zm3.3 1.6 9.9 14.8h1.5L8.8 "
         "4.6H7.3Z",),
        "#111827", X_WEBHOOK),
    ChannelInfo(
        "facebook", "Facebook", (Kind("post", "post"), MENTION, COMMENT, MESSAGE),
        (Counter("public", "characters", 8_000, ("fb_comment_reply",)),
         Counter("private", "characters", 2_000, ("fb_private_reply", "messenger"))),
        ("M13.5 21v-7.5h2.6l.4-3h-3V8.6c0-.9.3-1.5 1.5-1.5h1.6V4.4c-.3 0-1.2-.1-2.3-.1-2.3 0-3.9 1.4-3.9 "
         "4v2.2H8v3h2.4V21h3.1Z",),
        "#1d4ed8", META_WEBHOOK),
    ChannelInfo(
        "instagram", "Instagram", (COMMENT, MENTION, MESSAGE),
        (Counter("public", "characters", 2_200, ("ig_comment_reply", "ig_mention_reply")),
         Counter("private", "bytes", 1_000, ("ig_private_reply", "ig_dm"))),
        ("M8 3h8a5 5 0 0 1 5 5v8a5 5 0 0 1-5 5H8a5 5 0 0 1-5-5V8a5 5 0 0 1 5-5Zm0 2a3 3 0 0 0-3 3v8a3 3 0 0 0 3 "
         "3h8a3 3 0 0 0 3-3V8a3 3 0 0 0-3-3H8Zm4 3.5a3.5 3.5 0 1 1 0 7 3.5 3.5 0 0 1 0-7Zm0 2a1.5 1.5 0 1 0 0 3 "
         "1.5 1.5 0 0 0 0-3ZM16.8 6a1 1 0 1 1 0 2 1 1 0 0 1 0-2Z",),
        "#be185d", META_WEBHOOK),
    ChannelInfo(
        "whatsapp", "WhatsApp", (MESSAGE,),
        (Counter("private", "characters", 4_096, ("whatsapp",)),),
        ("M12 3a9 9 0 0 0-7.8 13.5L3 21l4.6-1.2A9 9 0 1 0 12 3Zm0 2a7 7 0 1 1-3.6 13l-.3-.2-2.3.6.6-2.2-.2-.4A7 7 "
         "0 0 1 12 5Zm-2.6 3.3c-.2 0-.5 0-.7.3-.3.3-.9.9-.9 2.1s.9 2.4 1 2.6c.1.2 1.8 2.8 4.4 3.8 2.2.8 2.6.7 "
         "3.1.6.5-.1 1.5-.6 1.7-1.2.2-.6.2-1.1.1-1.2l-.5-.3-1.6-.8c-.2-.1-.4-.1-.6.1l-.7.9c-.1.2-.3.2-.5.1-.3-.1-1-.4"
         "-1.9-1.2-.7-.6-1.2-1.4-1.3-1.6-.1-.3 0-.4.1-.5l.4-.5.3-.4v-.5l-.7-1.8c-.2-.4-.4-.4-.6-.4h-.5Z",),
        "#047857", META_WEBHOOK),
    ChannelInfo(
        "email", "Email", (Kind("email", "email"),),
        (Counter("private", "characters", 100_000, ("email",)),),
        ("M4 5h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V7a2 2 0 0 1 2-2Zm0 2v.4l8 5 8-5V7H4Zm16 "
         "2.7-7.5 4.7a1 1 0 0 1-1 0L4 9.7V17h16V9.7Z",),
        "#4b5563"),  # SES ▸ SNS ▸ email_inbound, no webhook
    ChannelInfo(
        "api", "API", (MESSAGE,),
        (Counter("public", "characters", 10_000, ("api_callback",)),
         Counter("private", "characters", 10_000, ("api_callback",))),
        ("M8.5 4H10v2H8.6c-.5 0-.6.2-.6.6v3.3c0 .9-.4 1.6-1.2 2.1.8.5 1.2 1.2 1.2 2.1v3.3c0 .4.1.6.6.6H10v2H8.5C6.9 "
         "20 6 19.2 6 17.6v-3.1c0-.7-.4-1.1-1.5-1.1H4v-2.8h.5c1.1 0 1.5-.4 1.5-1.1V6.4C6 4.8 6.9 4 8.5 4Zm7 0C17.1 4 "
         "18 4.8 18 6.4v3.1c0 .7.4 1.1 1.5 1.1h.5v2.8h-.5c-1.1 0-1.5.4-1.5 1.1v3.1c0 1.6-.9 2.4-2.5 2.4H14v-2h1.4c"
         ".5 0 .6-.2.6-.6v-3.3c0-.9.4-1.6 1.2-2.1-.8-.5-1.2-1.2-1.2-2.1V6.6c0-.4-.1-.6-.6-.6H14V4h1.5Z",),
        "#6d28d9", API_WEBHOOK),
)


def ids() -> tuple[str, ...]:
    """Every channel id, in the registry's order."""
    return tuple(c.id for c in CHANNELS)


def find(channel_id: object) -> Optional[ChannelInfo]:
    return next((c for c in CHANNELS if c.id == channel_id), None)


def get(channel_id: str) -> ChannelInfo:
    """The channel, or KeyError for an id the registry does not hold."""
    found = find(channel_id)
    if found is None:
        raise KeyError(channel_id)
    return found


def ui() -> dict:
    """`GET /api/channels`: every channel as the web UI draws and counts it."""
    return {"items": [c.ui() for c in CHANNELS]}


def webhooks() -> dict[str, Webhook]:
    """Each webhook route once, by its adapter ("x", "meta", "api")."""
    return {c.webhook.adapter: c.webhook for c in CHANNELS if c.webhook is not None}


def counter_for_action(action: str) -> Counter:
    """The counter an outbound action's replies are measured by (KeyError if none names it)."""
    for channel in CHANNELS:
        for counter in channel.counters:
            if action in counter.actions:
                return counter
    raise KeyError(action)
