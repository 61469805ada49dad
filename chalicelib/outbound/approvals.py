"""Approval for public replies (issue 16, point 2): which replies wait for a supervisor, the
supervisors' queue, and their decisions.

* **Which**: the brand's rules in the `approvals` settings document (desk_settings.BrandApprovals).
  A public reply by an agent is held when any rule holds: its channel is listed, its author is
  listed, its author is a new agent (`needs_approval` on her agent record: the desk's concrete rule
  for "new agents", set and cleared by a supervisor with PUT /api/agents/{id}), the ticket's priority
  is at least `min_priority`, or the customer wrote negatively (`negative_sentiment`). Private
  replies, automatic replies and the replies of supervisors and admins are never held. `held_for` is
  the pure rule; `reasons` reads the brand's rules (one consistent GetItem).
* **Held**: outbound/replies.py stores such a reply `pending_approval` (nothing queued, nothing
  sent) after its queue entry and record (store/approvals.py).
* **Queue**: `pending` reads the caller's brands' queue partitions, a bounded page each, oldest first
  (GET /api/approvals); another brand's replies never appear.
* **Decisions**: `approve` (optionally with edited text, planned again by the reply policy: a 422
  if the platform would refuse it now) and `reject` (with a reason the author sees on her reply)
  are one conditional transaction each on the reply's status: a second or concurrent decision is a
  409 (errors.ConcurrentUpdate) and sends nothing. An approved reply becomes `queued`, enters the
  in-flight index at the approval's minute (so the sweeper's re-drive finds it if the queue message
  is lost) and goes to the outbound queue: from there the normal worker sends it exactly once.
* **Reporting**: the reply's first response counts from the agent's submission (its `created_at`;
  store/messages.py record_sent), and the approval wait is counted separately (ticket counters
  `approvals_n`, `approval_wait_s`, `approvals_rejected` → counters.py → reports.py).

May import: the store, desk_settings, outbound policy and queues, views, models.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.aggregates.agent import Agent
from chalicelib.aggregates.message import Message
from chalicelib.aggregates.ticket import Ticket
from chalicelib.desk_settings import ApprovalSettings, BrandApprovals, get_settings
from chalicelib.errors import ConcurrentUpdate, EnqueueFailed, Invalid, NotFound
from chalicelib.models import sortable, utcnow
from chalicelib.store import keys
from chalicelib.store.approvals import DynamoApprovalStore
from chalicelib.store.dynamodb import DynamoStore

if TYPE_CHECKING:  # auth brings PyJWT: the workers that queue replies never need it
    from chalicelib.auth import Principal

PAGE = 50
NEVER_HELD_ROLES = ("supervisor", "admin")


class AlreadyDecided(ConcurrentUpdate):
    """The reply was approved or rejected already (or is not waiting for anyone): a 409."""


# -- which replies wait -------------------------------------------------------------------------
def held_for(rules: Optional[BrandApprovals], *, ticket: Ticket, agent: Optional[Agent], agent_id: str,
             visibility: str, automatic: bool = False, role: Optional[str] = None) -> list[str]:
    """Why this reply waits for a supervisor (the rules it meets, as the queue shows them); [] when it does not."""
    if rules is None or visibility != "public" or automatic:
        return []
    if role in NEVER_HELD_ROLES or (agent is not None and agent.role in NEVER_HELD_ROLES):
        return []
    found = []
    if ticket.channel in rules.channels:
        found.append(f"channel: {ticket.channel}")
    if agent_id in rules.agents:
        found.append(f"agent: {agent_id}")
    if rules.new_agents and agent is not None and agent.needs_approval:
        found.append("new agent")
    if rules.min_priority is not None and ticket.priority >= rules.min_priority:
        found.append(f"priority {ticket.priority} (at least {rules.min_priority})")
    if rules.negative_sentiment and (ticket.classification or {}).get("sentiment") == "negative":
        found.append("negative sentiment")
    return found


def rules_of(store: DynamoStore, brand: Optional[str]) -> Optional[BrandApprovals]:
    document = ApprovalSettings.model_validate(get_settings(store, "approvals"))
    return document.brands.get(brand) if brand else None


def reasons(store: DynamoStore, ticket: Ticket, agent: Optional[Agent], agent_id: str, visibility: str,
            automatic: bool = False, role: Optional[str] = None) -> list[str]:
    """held_for with the brand's rules as saved now (no settings read for a private or automatic reply)."""
    if visibility != "public" or automatic or role in NEVER_HELD_ROLES:
        return []
    return held_for(rules_of(store, ticket.brand), ticket=ticket, agent=agent, agent_id=agent_id,
                    visibility=visibility, automatic=automatic, role=role)


def hold(store: DynamoStore, reply: Message) -> None:
    """The held reply's queue entry and record, written before the reply itself."""
    DynamoApprovalStore(store.table).hold(reply)


def held_as(store: DynamoStore, meant: Message, stored: Message) -> None:
    """After the reply is put: when the store kept an earlier request's reply (a repeat of its
    Idempotency-Key), the entry written for this request goes and the kept reply's is written
    again, while it is still waiting."""
    if stored.created_at == meant.created_at:
        return
    approvals = DynamoApprovalStore(store.table)
    approvals.unhold(meant, record=stored.status != "pending_approval" and not stored.approval)
    if stored.status == "pending_approval":
        approvals.hold(stored)


# -- the brand's rules, as its supervisors see and save them ------------------------------------
def rules_for(store: DynamoStore, principal: Principal) -> dict:
    """The approval rules of the caller's brands (admins: every brand's), and the document's version."""
    document = ApprovalSettings.model_validate(get_settings(store, "approvals"))
    return {"version": document.version, "brands": {b: r.model_dump(mode="json") for b, r in
                                                    sorted(document.brands.items()) if principal.sees(b)}}


def save_rules(store: DynamoStore, brand: str, body: dict, principal: Principal) -> dict:
    """A brand's rules saved by its supervisor (or an admin) over the document's version she read
    (`version` in the body; 409 otherwise); `null` rules remove the brand's (nothing held)."""
    principal.within(brand, f"brand {brand}")
    version = body.get("version")
    if not isinstance(version, int) or version < 0:
        raise Invalid("version", "give the version of the approval rules you edited (GET /api/approval-rules)")
    rules = body.get("rules")
    current = ApprovalSettings.model_validate(get_settings(store, "approvals"))
    if current.version != version:
        raise ConcurrentUpdate("settings approvals")
    brands = dict(current.brands)
    if rules is None:
        brands.pop(brand, None)
    else:
        brands[brand] = BrandApprovals.model_validate(rules)
    document = ApprovalSettings(version=version, brands=brands).model_dump(mode="json")
    saved = store.put_settings("approvals", document, principal.agent_id)
    return rules_for_document(saved, principal)


def rules_for_document(document: dict, principal: Principal) -> dict:
    return {"version": document["version"], "brands": {b: r for b, r in sorted(document["brands"].items())
                                                        if principal.sees(b)}}


# -- the queue ----------------------------------------------------------------------------------
class ApprovalsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cursor: Optional[str] = Field(default=None, min_length=1, max_length=4000)
    limit: int = Field(default=PAGE, ge=1, le=100)


def pending(store: DynamoStore, principal: Principal, query: ApprovalsQuery) -> dict:
    """The replies waiting in the caller's brands, oldest first, a page at a time:
    `{"items": [...], "next_cursor": str|null}`. Each brand's queue is read up to one page."""
    approvals = DynamoApprovalStore(store.table)
    brands = sorted((b for b in store.tickets.brands() if b), key=str) if principal.every_brand \
        else sorted(principal.brands)
    if query.cursor is not None:
        start = keys.approvals_start(query.cursor)
        if start is None:
            raise Invalid("cursor", "not a cursor this list gave out")
        brands = [b for b in brands if b in start]  # the brands left to read, of the caller's only
    else:
        start = {}
    read: list[tuple[str, str, dict]] = []
    more: dict[str, bool] = {}
    for brand in brands:
        entries, has_more = approvals.pending(brand, start.get(brand) or None, query.limit)
        more[brand] = has_more
        read += [(e["SK"], brand, e) for e in entries]
    read.sort(key=lambda r: r[0])
    taken = read[:query.limit]
    position: dict[str, str] = {}
    for brand in brands:
        mine = [sk for sk, b, _ in taken if b == brand]
        left = more[brand] or any(b == brand for _, b, _ in read[query.limit:])
        if left:
            position[brand] = mine[-1] if mine else (start.get(brand) or "")
    entries = [e for _, _, e in taken]
    replies = approvals.replies(entries)
    tickets = {t.id: t for t in (store.tickets.get(tid) for tid in dict.fromkeys(e["ticket_id"] for e in entries))
               if t is not None}
    now = utcnow()
    items = [_item(replies[e["message_id"]], tickets.get(e["ticket_id"]), now) for e in entries
             if e["message_id"] in replies and (replies[e["message_id"]].status == "pending_approval")]
    for e in entries:  # an entry whose reply was never put (its request died in between), long enough ago
        if e["message_id"] not in replies and now - datetime.fromisoformat(e["submitted_at"]) > STRAY_AFTER:
            approvals.forget(e)
    return {"items": items, "next_cursor": keys.approvals_cursor(position) if position else None}


STRAY_AFTER = timedelta(minutes=10)  # a request takes seconds: an entry this old without its reply is a stray


def _item(reply: Message, ticket: Optional[Ticket], now: datetime) -> dict:
    approval = reply.approval or {}
    submitted = approval.get("submitted_at") or reply.created_at
    return {"id": reply.id, "ticket_id": reply.ticket_id, "brand": reply.brand, "platform": reply.platform,
            "kind": reply.kind, "visibility": reply.visibility, "text": reply.text, "author": reply.author,
            "agent_id": reply.agent_id, "submitted_at": submitted, "reasons": approval.get("reasons") or [],
            "waiting_seconds": max(int((now - datetime.fromisoformat(submitted)).total_seconds()), 0),
            "ticket": None if ticket is None else {
                "subject": ticket.subject, "customer_name": getattr(ticket, "customer_name", None),
                "last_message_preview": ticket.last_message_preview, "priority": ticket.priority,
                "status": ticket.status}}


# -- decisions ----------------------------------------------------------------------------------
class ApproveRequest(BaseModel):
    """Approve as written, or with `text`: the supervisor's edit, which is what goes out."""

    model_config = ConfigDict(extra="forbid")

    text: Optional[str] = Field(default=None, min_length=1, max_length=100_000)


class RejectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=1000)

    @field_validator("reason")
    @classmethod
    def _said(cls, reason: str) -> str:
        if not reason.strip():
            raise ValueError("say why, for the author")
        return reason.strip()


def _held(store: DynamoStore, message_id: str, principal: Principal) -> tuple[dict, Message, Ticket]:
    """The held reply's record, the reply and its ticket; NotFound unless of the caller's brands,
    AlreadyDecided unless it still waits."""
    approvals = DynamoApprovalStore(store.table)
    record = approvals.record(message_id)
    if record is None or not principal.sees(record.get("brand")):
        raise NotFound(f"approval {message_id}")
    reply = store.messages.reply(record["ticket_id"], record["message_sk"])
    ticket = store.tickets.get(record["ticket_id"])
    if reply is None or ticket is None or not principal.sees(ticket.brand):
        raise NotFound(f"approval {message_id}")
    if reply.status != "pending_approval":
        raise AlreadyDecided(message_id)
    return record, reply, ticket


def approve(store: DynamoStore, message_id: str, body: ApproveRequest, principal: Principal) -> dict:
    """Approve (as written or edited): the reply is queued and sent by the outbound worker, once."""
    from chalicelib import queues, views
    from chalicelib.config import settings
    from chalicelib.models import OutboundRequest
    from chalicelib.outbound import policy
    from chalicelib.observability import logger
    from chalicelib.store.ports import TIMELINE_PAGE

    record, reply, ticket = _held(store, message_id, principal)
    moment = utcnow()
    text = body.text if body.text is not None else reply.text
    messages = [m for m in store.messages.timeline(ticket.id, latest=TIMELINE_PAGE) if m.id != reply.id]
    account = store.accounts.get(ticket.channel, ticket.brand_account_id)
    plan = policy.plan(ticket, messages, account, reply.visibility, text, moment)  # ReplyRefused: 422
    decided_at = sortable(moment)
    approval = {**(reply.approval or {}), "status": "approved", "decided_by": principal.agent_id,
                "decided_at": decided_at}
    if text != reply.text:
        approval["original_text"] = reply.text
    changes = {"status": "queued", "text": text, "kind": plan.action, "target": plan.target,
               "notes": list(plan.notes) or None, "approval": approval,
               **keys.outbound_in_flight(decided_at, reply.id)}
    approved = DynamoApprovalStore(store.table).decide(reply, record, changes, decided_at,
                                                       _waited(reply, moment), rejected=False)
    request = OutboundRequest(ticket_id=reply.ticket_id, message_id=reply.id, message_sk=record["message_sk"])
    try:
        queues.send(settings().outbound_queue_url, request.model_dump_json())
    except EnqueueFailed:  # it is queued and in flight: the sweeper's re-drive sends it
        logger.warning("approved reply not enqueued; the re-drive will send it", extra={"message_id": reply.id})
    return views.message(approved)


def reject(store: DynamoStore, message_id: str, body: RejectRequest, principal: Principal) -> dict:
    """Reject with a reason: nothing is sent; the author sees the reason on her reply and edits it."""
    from chalicelib import views

    record, reply, _ = _held(store, message_id, principal)
    moment = utcnow()
    decided_at = sortable(moment)
    approval = {**(reply.approval or {}), "status": "rejected", "decided_by": principal.agent_id,
                "decided_at": decided_at, "reason": body.reason}
    rejected = DynamoApprovalStore(store.table).decide(reply, record, {"status": "rejected", "approval": approval},
                                                       decided_at, _waited(reply, moment), rejected=True)
    return views.message(rejected)


def _waited(reply: Message, moment: datetime) -> float:
    submitted = (reply.approval or {}).get("submitted_at") or reply.created_at
    return (moment - datetime.fromisoformat(submitted)).total_seconds()
