"""Collision detection (issue 16, point 1): who else is on a ticket, and replies on a stale view.

**Presence.** While an agent has a ticket open the web UI sends a heartbeat
(`POST /api/tickets/{id}/presence`, `viewing` or `typing`; `left` when she closes it) about every
10 s. Each beat replaces the agent's one entry in the ticket's brand (store ViewerStore: TTL items,
`expires_at` PRESENCE_SECONDS on), so an agent who stops beating is gone within PRESENCE_SECONDS
and the table never grows. The heartbeat's answer, the ticket view and each inbox row name the
others there (never the caller): one read of the brand's entries per heartbeat, per ticket view,
and per brand on an inbox page.

**Stale view.** A reply or a note may say what its author had seen: `seen`, the id of the newest
timeline entry her view loaded. When a message in or out (not hers) came after it, the write is
refused with StaleView, a 409 naming those messages (`unseen`); she sends again with a newer
`seen` ("send anyway", the same Idempotency-Key for a reply, so a double send is still one reply)
or edits. The check reads nothing of its own for a reply: it looks at the newest timeline page the
reply reads anyway. A `seen` older than that page counts everything in the page as unseen.

Domain layer: given the caller (auth.Principal, duck-typed) and the store's ports; imports the
aggregates, errors and models only.
"""
from __future__ import annotations

import time

from datetime import datetime
from typing import Iterable, Literal, Optional

from pydantic import BaseModel, ConfigDict

from chalicelib.aggregates.message import Message
from chalicelib.aggregates.viewer import Viewer
from chalicelib.errors import DeskError, Invalid
from chalicelib.models import utcnow

PRESENCE_SECONDS = 25  # an entry outlives its heartbeat (every ~10 s) by this: gone ~30 s after the last one
PREVIEW_CHARACTERS = 200  # of an unseen message's text, in the 409
SEEN_MAX = 64  # characters of a `seen` id (message ids are uuids)


class HeartbeatRequest(BaseModel):
    """`POST /api/tickets/{id}/presence`: what the agent is doing on the ticket."""

    model_config = ConfigDict(extra="forbid")

    state: Literal["viewing", "typing", "left"]


class StaleView(DeskError):
    """A reply or note composed before messages the author has not seen: the API answers 409 with them."""

    def __init__(self, unseen: list[dict]):
        super().__init__(f"{len(unseen)} new message(s) since you loaded the ticket")
        self.unseen = unseen

    def body(self) -> dict:
        return {"error": "new messages arrived since you loaded this ticket; read them, then send anyway or edit",
                "unseen": self.unseen}


# -- presence ----------------------------------------------------------------------------------
def heartbeat(store, ticket_id: str, request: HeartbeatRequest, principal, now: Optional[datetime] = None) -> dict:
    """Record the caller on the ticket (or off it), and answer who else is there."""
    now = now or utcnow()
    ticket = principal.ticket(store.tickets, ticket_id)  # another brand's ticket: NotFound, a 404
    if request.state == "left":
        store.viewers.leave(ticket.brand, principal.agent_id, ticket_id)
    else:
        store.viewers.beat(ticket.brand, Viewer.beat(principal.agent_id, _name(store, principal.agent_id), ticket_id,
                                                     request.state, now, PRESENCE_SECONDS))
    return {"state": request.state, "viewers": others_on(store, ticket, principal.agent_id, now)}


NAME_KEPT_SECONDS = 300  # an agent's name, read once per container this long (a heartbeat every 10 s)
_names: dict[str, tuple[float, Optional[str]]] = {}


def _name(store, agent_id: str) -> Optional[str]:
    """The agent's name for the others' "Ana is typing…", from her record at most every NAME_KEPT_SECONDS."""
    kept = _names.get(agent_id)
    if kept is None or time.monotonic() - kept[0] > NAME_KEPT_SECONDS:
        agent = store.agents.get(agent_id)
        kept = (time.monotonic(), agent.name if agent else None)
        _names[agent_id] = kept
    return kept[1]


def others_on(store, ticket, agent_id: str, now: Optional[datetime] = None) -> list[dict]:
    """The other agents on the ticket now, as the API shows them."""
    return [shown(v) for v in store.viewers.on(ticket.brand, now or utcnow())
            if v.ticket_id == ticket.id and v.agent_id != agent_id]


def on_page(store, tickets: Iterable[dict], agent_id: str, now: Optional[datetime] = None) -> None:
    """Each shown ticket of an inbox page gets `viewers`, the other agents on it: one read per brand
    on the page (its ViewerStore entries), whatever the page's length."""
    now = now or utcnow()
    tickets = list(tickets)
    by_brand: dict = {}
    for brand in dict.fromkeys(t.get("brand") for t in tickets):
        for viewer in store.viewers.on(brand, now):
            if viewer.agent_id != agent_id:
                by_brand.setdefault((brand, viewer.ticket_id), []).append(shown(viewer))
    for shown_ticket in tickets:
        shown_ticket["viewers"] = by_brand.get((shown_ticket.get("brand"), shown_ticket["id"]), [])


def shown(viewer: Viewer) -> dict:
    return {"agent_id": viewer.agent_id, "name": viewer.agent_name or viewer.agent_id, "state": viewer.state,
            "at": viewer.at}


# -- stale view --------------------------------------------------------------------------------
def refuse_if_stale(messages: list[Message], seen: str, agent_id: str, page: int,
                    repeat_of: Optional[str] = None) -> None:
    """StaleView when a message in or out that `agent_id` did not write came after the entry `seen`
    on the timeline (`messages`, the newest `page` entries, oldest first). `repeat_of`: the id a
    repeat of an earlier request would store (a reply's Idempotency-Key); when it is on the timeline
    already the request is a repeat, answered as before, never refused. Invalid when `seen` is not an
    entry of a timeline that the page holds whole."""
    ids = [m.id for m in messages]
    if repeat_of is not None and repeat_of in ids:
        return
    if seen in ids:
        after = messages[ids.index(seen) + 1:]
    elif len(messages) < page:
        raise Invalid("seen", "not a message of this ticket")
    else:  # older than the newest page: everything in it came after
        after = messages
    unseen = [m for m in after if m.direction in ("in", "out") and m.agent_id != agent_id]
    if unseen:
        raise StaleView([preview(m) for m in unseen])


def preview(message: Message) -> dict:
    author = message.author or {}
    name = author.get("name") or author.get("handle") or author.get("id") or message.agent_id
    text = message.text or ""
    return {"id": message.id, "direction": message.direction, "author": name,
            "text": text if len(text) <= PREVIEW_CHARACTERS else text[:PREVIEW_CHARACTERS - 1] + "…",
            "created_at": message.created_at}
