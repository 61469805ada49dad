"""What the desk knows about a channel without importing its adapters: one frozen `ChannelInfo`.

Each channel package (`chalicelib/channels/<id>/__init__.py`) builds its own `CHANNEL` from these
dataclasses: its id and display name, the kinds of message it produces, the webhook route and
secret it comes in on (none for email, which arrives through SES and SNS), how a reply on it is
counted and how long it may be per visibility (the composer's counter and the outbound limit), and
how the web UI draws it (icon path data on a 24×24 grid, drawn for this desk and not the
platforms' trademarked artwork, and a colour contrast-checked on white). The registry
(`channels/registry.py`) lists the packages.

Standard library only: imported on the webhook path (cold start).
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
    """The route a platform posts to (`/webhooks/<adapter>`), its key (`adapter`: the route's last
    segment and the metric dimension), the module that verifies and parses it (`verify`, `parse`,
    and `handshake` when the route answers a GET), the secret that signs it, the header carrying
    the signature, and the secret the GET handshake uses when it is not the signing one (Meta's
    verify token). Meta's three platforms share one, each reading its own part of it (`Part`)."""

    route: str
    adapter: str
    module: str
    secret: str
    signature_header: str
    handshake_secret: str = ""  # "": the signing secret

    def __post_init__(self) -> None:
        if self.route != f"/webhooks/{self.adapter}":
            raise ValueError(f"a webhook's route is /webhooks/<its key>: {self.route!r}, {self.adapter!r}")


@dataclass(frozen=True)
class Part:
    """A channel's part of a webhook it shares with others: the name the shared envelope gives its
    deliveries (Meta's `object`: page, instagram, whatsapp_business_account) and the module that
    reads them (`parse_entry(entry_id, entry, result)`). The shared webhook module is handed every
    registered part by the caller (ingest), so it names none of them and a new product of the same
    platform needs no edit there."""

    name: str
    module: str


@dataclass(frozen=True)
class ChannelInfo:
    id: str
    name: str
    kinds: tuple[Kind, ...]
    counters: tuple[Counter, ...]  # one per visibility a reply may have
    icon: tuple[str, ...]  # SVG path data, 24×24, even-odd fill
    color: str
    webhook: Optional[Webhook] = None
    part: Optional[Part] = None  # this channel's part of a shared webhook (Meta's products)
    digit_ids: bool = False  # its user ids are digits only (WhatsApp's wa_id): "+358 40 123" names 35840123
    package: str = ""  # where its reply modules live (replies, send, authors); "": chalicelib.channels.<id>

    def module(self, name: str) -> str:
        """The dotted name of one module of the channel's package, e.g. "chalicelib.channels.x.send"."""
        return f"{self.package or 'chalicelib.channels.' + self.id}.{name}"

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
