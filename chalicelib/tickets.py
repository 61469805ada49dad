"""Agent actions on a ticket: edit (status, priority, tags, assignee, topic), note, done, claim.

Every change names the version the agent saw (`version`); a ticket changed since answers 409
(ConcurrentUpdate) instead of overwriting someone else's work. Changes of status or priority
move the ticket in the inbox index (GSI1) in the same conditional write. Each change is kept on
the ticket's timeline as an event (`MSG#...`, `direction: "event"`), notes as `direction: "note"`.

An agent's `load` counts the tickets they hold that are not closed. Every change of holder here
(claim, assign, unassign, transfer, close, reopen) moves it in the same transaction as the
ticket (see `_load_moves`, written by `AgentStore.move_load`); the router's assign and release do
the same (store/agents.py). Reads and writes go through the ports only (`store.tickets`,
`store.messages`, `store.agents`, `store.teams`), so tests run these on the in-memory store.
Every action is given the caller (auth.Principal) and reads the ticket through
`principal.ticket`: another brand's ticket is NotFound (404), as a missing one; a ticket is given
only to an agent who works for its brand, and transferred only to a team the caller sees.
An agent claims a ticket nobody holds (or one they hold already); taking one from another
agent is a supervisor's reassignment through PATCH (HeldByAnother, 409 on claim). The CSAT
that feeds routing comes from the customer (`rate(..., by=None)`, for a survey) or a
supervisor; agents cannot rate their own work.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chalicelib import collab, queues, routing, views
from chalicelib.aggregates.message import Message
from chalicelib.aggregates.ticket import Ticket
from chalicelib.config import settings
from chalicelib.errors import DeskError, NotFound
from chalicelib.models import sortable, utcnow
from chalicelib.store import keys
from chalicelib.store.ports import TIMELINE_PAGE, AgentStore, Stores

STATUSES = ("open", "pending", "on_hold", "closed")


class HeldByAnother(DeskError):
    """Claiming a ticket another agent holds: the API answers 409 with this message."""
Status = Literal["open", "pending", "on_hold", "closed"]


def clean_tags(tags: list[str]) -> list[str]:
    """Tags as the desk keeps them: trimmed, lower case, each once, in the order given."""
    return list(dict.fromkeys(t.strip().lower() for t in tags if t.strip()))


class TicketPatch(BaseModel):
    """`PATCH /api/tickets/{id}`: what to change, and the version the agent edited."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=0)
    status: Optional[Status] = None
    priority: Optional[int] = Field(default=None, ge=0, le=100)
    tags: Optional[list[str]] = Field(default=None, max_length=20)
    assignee: Optional[str] = Field(default=None, min_length=1, max_length=64)
    unassign: bool = False
    topic: Optional[str] = Field(default=None, min_length=1, max_length=64)
    team: Optional[str] = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")  # transfer to a team's queue

    @field_validator("tags")
    @classmethod
    def _clean_tags(cls, tags: Optional[list[str]]) -> Optional[list[str]]:
        if tags is None:
            return None
        cleaned = clean_tags(tags)
        if any(len(t) > 40 for t in cleaned):
            raise ValueError("a tag is at most 40 characters")
        return cleaned

    @model_validator(mode="after")
    def _something(self) -> "TicketPatch":
        fields = ("status", "priority", "tags", "assignee", "topic", "team")
        if all(getattr(self, f) is None for f in fields) and not self.unassign:
            raise ValueError("give at least one of status, priority, tags, assignee, unassign, topic, team")
        if self.unassign and self.assignee:
            raise ValueError("assignee and unassign together make no sense")
        return self


class NoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=10_000)
    # issue 16: the newest timeline entry the agent's view loaded; newer messages in or out → 409 (collab.py)
    seen: Optional[str] = Field(default=None, min_length=1, max_length=collab.SEEN_MAX)


class ClaimRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=0)


class DoneRequest(BaseModel):
    """Closed without a reply (spam, resolved elsewhere, a thank-you): excluded from reply rate."""

    model_config = ConfigDict(extra="forbid")

    reason: Literal["no_reply_needed", "spam", "duplicate", "resolved_elsewhere", "other"]
    note: Optional[str] = Field(default=None, max_length=2_000)
    version: int = Field(ge=0)


def edit(store: Stores, ticket_id: str, patch: TicketPatch, principal) -> dict:
    """Agents change status, tags and topic and take tickets; giving a ticket to someone else,
    taking it from someone, or overriding its priority is a supervisor's call (Forbidden)."""
    ticket = principal.ticket(store.tickets, ticket_id)
    agent_id = principal.agent_id
    reassigning = ((patch.assignee is not None and patch.assignee != agent_id)
                   or ((patch.unassign or patch.team) and ticket.assignee not in (None, agent_id))
                   or (patch.assignee is not None and ticket.assignee not in (None, agent_id)))
    if reassigning or patch.priority is not None:
        principal.require("supervisor")
    changes: dict = {}
    if patch.status is not None:
        changes["status"] = patch.status
        if patch.status == "closed":
            changes["closed_at"] = utcnow().isoformat()
        if patch.status == "pending" and ticket.status != "pending":
            changes["paused_at"] = utcnow().isoformat()  # waiting on the customer: the SLA clock stops
    if patch.priority is not None:
        changes.update(priority=patch.priority, priority_overridden_by=agent_id)
    if patch.tags is not None:
        changes["tags"] = patch.tags
    if patch.topic is not None:
        changes["topic"] = patch.topic
    if patch.assignee is not None:
        assignee = store.agents.get(patch.assignee)
        if assignee is None or not assignee.works_for(ticket.brand) or not principal.sees_any(assignee.brands):
            raise NotFound(f"agent {patch.assignee}")
        changes["assignee"] = patch.assignee
    if patch.unassign:
        changes["assignee"] = None
    if patch.team is not None:
        team = store.teams.get(patch.team)
        if team is None or not principal.sees_any(team.brands):
            raise NotFound(f"team {patch.team}")
        changes["team"] = patch.team
        if patch.assignee is None:  # a transfer to a team goes to its queue, for its router
            changes["assignee"] = None
    updated = _apply(store, ticket, patch.version, changes, agent_id, "edited")
    if patch.status == "closed" and ticket.status != "closed":
        _resolved(store, updated)
        _survey(store, updated)
    return views.ticket(updated)


def _survey(store: Stores, ticket: Ticket) -> None:
    """The customer's one CSAT survey, where the brand turned it on (chalicelib/surveys.py). It never
    undoes the close: a survey that cannot be queued now is logged, and the close stands."""
    from chalicelib import surveys

    try:
        surveys.on_resolved(store, ticket)
    except Exception:  # noqa: BLE001 - the agent's close has happened; the survey is a courtesy
        from chalicelib.observability import logger

        logger.exception("CSAT survey not queued", extra={"ticket_id": ticket.id})


def claim(store: Stores, ticket_id: str, request: ClaimRequest, principal) -> dict:
    """Take a ticket nobody holds (or one already yours). Whoever's role: taking another agent's
    ticket is a reassignment, which a supervisor makes through PATCH. The write is conditional on
    the version read, so a ticket someone claims or the router assigns meanwhile is a 409 too."""
    agent_id = principal.agent_id
    ticket = principal.ticket(store.tickets, ticket_id)
    holder = ticket.assignee
    if holder not in (None, agent_id):
        raise HeldByAnother(f"{holder} holds this ticket; a supervisor can reassign it")
    if store.agents.get(agent_id) is None:
        raise NotFound(f"agent {agent_id}: ask an admin to add you before you take tickets")
    return views.ticket(_apply(store, ticket, request.version, {"assignee": agent_id, "waiting_since": None}, agent_id,
                               "claimed"))


class CsatRequest(BaseModel):
    """The customer's rating of how the ticket went (from a survey link or a platform's rating)."""

    model_config = ConfigDict(extra="forbid")

    score: int = Field(ge=1, le=5)
    comment: Optional[str] = Field(default=None, max_length=2000)


def rate(store: Stores, ticket_id: str, request: CsatRequest, by=None) -> dict:
    """Record the ticket's CSAT once and fold it into the rolling performance of who answered.

    `by` is the supervisor who entered it (a Principal: the API allows supervisors only, of the
    ticket's brand, and the timeline says who); None is the customer's own answer, for a survey
    handler to call."""
    ticket = _ticket(store, ticket_id) if by is None else by.ticket(store.tickets, ticket_id)
    if ticket.csat is not None:
        raise ValueError("this ticket was rated already")
    store.tickets.rate(ticket_id, request.score, request.comment, utcnow().isoformat(),
                       source="supervisor" if by else "customer")
    holder = ticket.first_response_by or ticket.assignee
    if holder:
        store.agents.record_performance(holder, "csat", request.score)
    if by:
        _event(store, ticket_id, "event", by.agent_id, {"action": "csat_recorded", "changes": {"csat": request.score}})
    return {"ticket_id": ticket_id, "csat": request.score, "agent_id": holder, "source": "supervisor" if by else "customer"}


def _resolved(store: Stores, ticket: Ticket) -> None:
    """Resolution time into the rolling performance of whoever held the ticket."""
    if ticket.assignee and ticket.created_at:
        spent = (utcnow() - datetime.fromisoformat(ticket.created_at)).total_seconds()
        store.agents.record_performance(ticket.assignee, "resolution_seconds", max(spent, 0))


def done(store: Stores, ticket_id: str, request: DoneRequest, principal) -> dict:
    agent_id = principal.agent_id
    ticket = principal.ticket(store.tickets, ticket_id)
    changes = {"status": "closed", "closed_at": utcnow().isoformat(), "done_without_reply": True,
               "done_reason": request.reason}
    updated = _apply(store, ticket, request.version, changes, agent_id, "done")
    _resolved(store, ticket)
    if request.note:
        add_note(store, ticket_id, NoteRequest(text=request.note), principal)
    return views.ticket(updated)


def add_note(store: Stores, ticket_id: str, request: NoteRequest, principal) -> dict:
    principal.ticket(store.tickets, ticket_id)
    if request.seen is not None:  # written on a stale view: 409 naming what she has not seen
        collab.refuse_if_stale(store.messages.timeline(ticket_id, latest=TIMELINE_PAGE), request.seen,
                               principal.agent_id, TIMELINE_PAGE)
    return views.message(_event(store, ticket_id, "note", principal.agent_id, {"text": request.text}))


def _apply(store: Stores, ticket: Ticket, version: int, changes: dict, agent_id: str, what: str) -> Ticket:
    """One conditional write (version must match), the inbox index moved along, an event kept;
    when the ticket changes hands, the agents' load moves in the same write."""
    status = changes.get("status", ticket.status)
    priority = changes.get("priority", ticket.priority)
    if "status" in changes or "priority" in changes:
        changes.update(keys.inbox_index(status, priority, ticket.sla_due_at or "", ticket.id, ticket.answered))
    changes["updated_at"] = utcnow().isoformat()
    moves = _load_moves(ticket, changes)
    updated = (store.agents.move_load(ticket.id, version, changes, moves) if moves
               else store.tickets.update(ticket.id, version, changes))
    shown = {k: v for k, v in changes.items() if not k.startswith("GSI1") and k not in ("updated_at", "waiting_since")}
    _event(store, ticket.id, "event", agent_id, {"action": what, "changes": shown})
    return updated


def _load_moves(ticket: Ticket, changes: dict) -> dict[str, int]:
    """Who holds the ticket (not closed) before and after the change: one off the first, one on
    the second, when they differ."""
    def holder(status: str, assignee: Optional[str]) -> Optional[str]:
        return assignee if assignee and status != "closed" else None

    before = ticket.holder
    after = holder(changes.get("status", ticket.status), changes.get("assignee", ticket.assignee))
    if before == after:
        return {}
    return {**({before: -1} if before else {}), **({after: 1} if after else {})}


def _event(store: Stores, ticket_id: str, direction: str, agent_id: str, fields: dict) -> Message:
    agent = store.agents.get(agent_id)
    name = agent.name if agent else None
    stamp = {"ticket_id": ticket_id, "created_at": sortable(utcnow()), "agent_id": agent_id, "agent_name": name}
    entry = (Message.note(str(uuid.uuid4()), **stamp, text=fields["text"]) if direction == "note"
             else Message.event(str(uuid.uuid4()), **stamp, action=fields["action"], changes=fields["changes"]))
    store.messages.put(entry)
    return entry


def _ticket(store: Stores, ticket_id: str) -> Ticket:
    ticket = store.tickets.get(ticket_id)
    if ticket is None:
        raise NotFound(ticket_id)
    return ticket


# -- presence ---------------------------------------------------------------------------------
class PresenceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["online", "away", "offline"]


def get_presence(agents: AgentStore, agent_id: str) -> dict:
    agent = agents.get(agent_id)
    if agent is None:
        raise NotFound(f"agent {agent_id}")
    return {"agent_id": agent_id, "status": agent.status, "load": agent.load, "capacity": agent.capacity,
            "status_changed_at": agent.status_changed_at}


def set_presence(store: Stores, agent_id: str, request: PresenceRequest) -> dict:
    store.agents.set_status(agent_id, request.status, utcnow().isoformat())  # NotFound for no agent
    moved = routing.on_presence(store, agent_id, request.status,
                                lambda body: queues.send(settings().routing_queue_url, body))
    return {**get_presence(store.agents, agent_id), **moved}
