"""Agent API use cases (read side for now): the inbox and one ticket with its context.

Each is given the caller (auth.Principal) and answers within their brands: the inbox reads only
their brands' tickets, and another brand's ticket or rules are NotFound (a 404), as a missing one."""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chalicelib import collab, search, views
from chalicelib.auth import Principal
from chalicelib.channels.registry import ChannelId
from chalicelib.customers import view
from chalicelib.errors import Invalid, NotFound
from chalicelib.models import utcnow
from chalicelib.outbound.replies import reply_options
from chalicelib.store import keys
from chalicelib.store.dynamodb import DynamoStore
from chalicelib.store.ports import TIMELINE_PAGE, Stores


class CorrectionRequest(BaseModel):
    """An agent's correction of what the classifier said about one inbound message."""

    model_config = ConfigDict(extra="forbid")

    message_id: str = Field(min_length=1)
    sentiment: Optional[Literal["negative", "neutral", "positive"]] = None
    topic: Optional[str] = Field(default=None, min_length=1, max_length=64)
    actionable: Optional[bool] = None

    @model_validator(mode="after")
    def _something(self) -> "CorrectionRequest":
        if self.sentiment is None and self.topic is None and self.actionable is None:
            raise ValueError("give at least one of sentiment, topic, actionable")
        return self

PUBLIC_TICKET_FIELDS = views.TICKET_FIELDS
public_ticket = views.ticket  # every answer shows a ticket through chalicelib/views.py


class InboxQuery(BaseModel):
    """`GET /api/tickets` filters. The status picks the index partition (ordered by priority,
    then SLA due); the rest filter that query, never a table scan."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["open", "pending", "on_hold", "closed"] = "open"
    channel: Optional[ChannelId] = None  # a channel of chalicelib/channels/registry.py
    assignee: Optional[str] = Field(default=None, min_length=1, max_length=64)  # "me", "none" or an id
    team: Optional[str] = Field(default=None, min_length=1, max_length=64)
    priority_min: Optional[int] = Field(default=None, ge=0, le=100)
    priority_max: Optional[int] = Field(default=None, ge=0, le=100)
    sentiment: Optional[Literal["negative", "neutral", "positive"]] = None
    topic: Optional[str] = Field(default=None, min_length=1, max_length=64)
    language: Optional[str] = Field(default=None, pattern=r"^[a-z]{2}$")
    q: Optional[str] = Field(default=None, min_length=1, max_length=100)
    limit: int = Field(default=50, ge=1, le=100)
    cursor: Optional[str] = Field(default=None, max_length=2000)
    # true: the first page also says how many tickets the status holds in the caller's brands
    # ("total", one COUNT query on the index); only without other filters, which that count ignores
    count: bool = False

    def filters(self, agent_id: str) -> dict:
        assignee = agent_id if self.assignee == "me" else self.assignee
        return {k: v for k, v in {
            "channel": self.channel, "assignee": assignee, "team": self.team, "priority_min": self.priority_min,
            "priority_max": self.priority_max, "sentiment": self.sentiment, "topic": self.topic,
            "language": self.language, "q": self.q}.items() if v is not None}


class SummaryQuery(BaseModel):
    """`GET /api/reports/summary`: how many days back the report reads."""

    days: int = Field(default=7, ge=1, le=90)


def list_tickets(store: Stores, query: Optional[InboxQuery], principal: Principal) -> dict:
    query = query or InboxQuery()
    if query.q and hasattr(store, "table"):  # the brand's token index (the in-memory store filters instead)
        found = search.inbox(store, query, principal.agent_id, principal.scope)
        shown = [public_ticket(i) for i in found["items"]]
        collab.on_page(store, shown, principal.agent_id)  # issue 16: who else is on each row's ticket
        return {"items": shown, "next_cursor": found["next_cursor"]}
    start = _decode_cursor(query.cursor, query.status) if query.cursor else None
    items, last = store.tickets.inbox(query.status, brands=principal.scope, filters=query.filters(principal.agent_id),
                                      limit=query.limit, cursor=start)
    next_cursor = keys.inbox_cursor(last) if last else None
    page = {"items": [public_ticket(i) for i in items], "next_cursor": next_cursor}
    collab.on_page(store, page["items"], principal.agent_id)  # issue 16: who else is on each row's ticket
    if query.count and not query.cursor and not query.filters(principal.agent_id):
        page["total"] = len(items) if next_cursor is None else store.tickets.inbox_count(query.status, brands=principal.scope)
    return page


def _decode_cursor(cursor: str, status: str) -> dict:
    """Only a key this API handed out for this status is accepted (errors.Invalid otherwise)."""
    start = keys.inbox_start(cursor, status)
    if start is None:
        raise Invalid("cursor", "not a cursor this API gave out")
    return start


def get_ticket(store: DynamoStore, ticket_id: str, principal: Principal) -> dict:
    ticket = principal.ticket(store.tickets, ticket_id)
    customer = view(store, ticket.customer_id, principal)  # the customer's tickets of the caller's brands
    others = [t for t in customer["tickets"] if t["id"] != ticket_id]
    messages = store.messages.timeline(ticket_id, latest=TIMELINE_PAGE)  # the newest page, one bounded read
    return {**views.ticket(ticket), "messages": [views.message(m) for m in messages], "customer": customer,
            "other_tickets": others, "reply_options": reply_options(store, ticket, messages),
            "viewers": collab.others_on(store, ticket, principal.agent_id)}  # issue 16: who else is on it


def correct(store: DynamoStore, ticket_id: str, request: CorrectionRequest, principal: Principal) -> dict:
    """Store a correction for the brand's next adapted model (`python -m chalicelib.classify adapt`)."""
    agent_id = principal.agent_id
    ticket = principal.ticket(store.tickets, ticket_id)
    message = store.messages.get(ticket_id, request.message_id)
    if message is None or message.direction != "in":
        raise NotFound(f"{ticket_id}/{request.message_id}")
    now = utcnow().isoformat()
    brand = ticket.brand or "default"
    verdict = message.classification or {}
    record = {"message_id": message.id, "ticket_id": ticket_id, "brand": brand, "text": message.text or "",
              "language": verdict.get("language"),
              "original": {k: verdict.get(k) for k in ("sentiment", "topic", "actionable")},
              **request.model_dump(exclude={"message_id"}, exclude_none=True), "agent_id": agent_id, "at": now}
    store.put_correction(brand, now, record)
    return record


def get_rules(store: DynamoStore, brand: str, principal: Principal) -> dict:
    """The brand's rule dictionary in force (the shipped defaults, version 0, if never saved);
    NotFound for a brand not the caller's."""
    principal.within(brand, f"rules of {brand}")
    # Lazy for the API function's cold start: the rule model (~5 ms) serves only the rules routes.
    from chalicelib.classify.priority import DEFAULT_RULES

    stored = store.get_rules(brand)
    return {"brand": brand, "rules": stored["rules"] if stored else DEFAULT_RULES.model_dump(),
            "saved_by": (stored or {}).get("saved_by"), "saved_at": (stored or {}).get("saved_at")}


def put_rules(store: DynamoStore, brand: str, body: dict, principal: Principal) -> dict:
    """Save a new version; `body.rules.version` is the version the editor started from (409 if stale)."""
    from chalicelib.classify.priority import PriorityRules  # lazy: see get_rules

    principal.within(brand, f"rules of {brand}")
    rules = PriorityRules.model_validate(body.get("rules", body))
    version = store.put_rules(brand, rules.model_dump(), rules.version, principal.agent_id, utcnow())
    return get_rules(store, brand, principal) | {"version": version}
