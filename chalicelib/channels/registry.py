"""The registration of channels: the one list every enum, list, route and policy of the desk reads.

Each channel is a package under `chalicelib/channels/` whose `__init__` holds its `CHANNEL`
descriptor (`channels/descriptor.py`: name, kinds, webhook, counters, icon, colour) and imports
nothing heavy; its adapters (webhook parsing, reply planning, sending) are modules of the package,
loaded only when used. Adding a channel = its package plus one line here (and its emulation in
the platform sandbox): see "How to add a channel" in docs/ARCHITECTURE.md.

Readers: the inbox filter and other request ids (`ChannelId`), `crm`, `desk_settings`, `admin`,
`openapi`, `ingest` (webhook routes), `outbound.policy` (limits), `GET /api/channels` (the web
UI's only source of names, icons, colours, counters), and `infra/package.py` (per-channel
alarms). Read `CHANNELS` when called, never copied at import, so a test can add a channel and see
it everywhere.

Imported on the webhook path (cold start): the packages' descriptors are standard library only.
"""
from __future__ import annotations

from typing import Annotated, Optional

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from chalicelib.channels import api, email, facebook, instagram, whatsapp, x
from chalicelib.channels.descriptor import ChannelInfo, Counter, Kind, Part, Webhook  # noqa: F401  (Kind, Part: for callers)

CHANNELS: tuple[ChannelInfo, ...] = (
    x.CHANNEL,
    facebook.CHANNEL,
    instagram.CHANNEL,
    whatsapp.CHANNEL,
    email.CHANNEL,
    api.CHANNEL,
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
    """Each webhook route once, by its key ("x", "meta", "api")."""
    return {c.webhook.adapter: c.webhook for c in CHANNELS if c.webhook is not None}


def webhook(key: str) -> Optional[Webhook]:
    """The webhook served at `/webhooks/<key>`, or None."""
    return webhooks().get(key)


def parts(hook: Webhook) -> dict[str, str]:
    """The channels sharing this webhook, each as its part: the envelope's name for it (Meta's
    `object`) and the module reading it. Empty for a webhook only one channel comes in on."""
    return {c.part.name: c.part.module for c in CHANNELS if c.webhook == hook and c.part is not None}


def counter_for_action(action: str) -> Counter:
    """The counter an outbound action's replies are measured by (KeyError if none names it)."""
    for channel in CHANNELS:
        for counter in channel.counters:
            if action in counter.actions:
                return counter
    raise KeyError(action)


def _expected_channels() -> str:
    quoted = [repr(i) for i in ids()]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def known_channel(value: str) -> str:
    """A channel id the registry holds, read when called (refused in a Literal's words)."""
    if find(value) is None:
        raise PydanticCustomError("literal_error", "Input should be {expected}", {"expected": _expected_channels()})
    return value


class _ChannelEnum:
    """The JSON schema of a channel id: its enum is the registry's ids when the schema is built."""

    def __get_pydantic_json_schema__(self, core_schema, handler):
        schema = handler(core_schema)
        schema["enum"] = list(ids())
        return schema


# A channel id in a request (inbox filter, ...): validated against the registry, not a Literal copy.
ChannelId = Annotated[str, AfterValidator(known_channel), _ChannelEnum()]
