"""What the agent API may show of each stored aggregate: one public view per aggregate.

Every API answer goes through one of these, never a raw item: table keys (`PK`, `SK`, `GSI*`),
the search index (`search_text`), TTLs and the outbound worker's lease token are the store's
business. Flat aggregates whose fields we know (ticket, agent, team, template, account) are
whitelisted, so a field added to the item later stays private until it is listed here; nested
documents (a customer's identities, touchpoints, CRM records and events; a ticket's messages)
have their internal keys removed at every depth. `tests/integration/test_api_views.py` walks
every route's answer for them. Tickets and messages come as their aggregates. Imports the
aggregates only.
"""
from __future__ import annotations

from typing import Any, Optional

from chalicelib.aggregates.message import Message
from chalicelib.aggregates.ticket import Ticket

INTERNAL_KEYS = frozenset({"PK", "SK", "search_text", "ttl", "TTL", "expires_at", "attempt_token",
                           "callback_secret"})

TICKET_FIELDS = ("id", "brand", "channel", "kind", "status", "priority", "priority_factors", "customer_id",
                 "assignee", "language", "topic", "classification", "created_at", "updated_at",
                 "sla_due_at", "last_inbound_at", "last_message_preview", "message_count", "tags",
                 "team", "done_without_reply", "done_reason", "closed_at", "priority_overridden_by",
                 "brand_account_id", "visibility", "subject", "version", "first_response_at",
                 "first_response_by", "last_outbound_at", "customer_name",
                 "csat", "csat_at", "csat_comment", "csat_source", "survey_sent_at")  # CSAT (chalicelib/csat.py)
AGENT_FIELDS = ("id", "name", "status", "load", "capacity", "languages", "teams", "skills", "brands", "role",
                "status_changed_at", "needs_approval")
TEAM_FIELDS = ("id", "name", "languages", "skills", "brands")
TEMPLATE_FIELDS = ("id", "name", "variants", "default_language", "brand", "version")
ACCOUNT_FIELDS = ("platform", "account_id", "brand", "name", "status", "handle", "human_agent_tag", "callback_url",
                  "team", "discovered_at")


def internal(key: Any) -> bool:
    return isinstance(key, str) and (key in INTERNAL_KEYS or key.upper().startswith("GSI"))


def without_internal(value: Any) -> Any:
    """The value with every internal key removed, at any depth."""
    if isinstance(value, dict):
        return {k: without_internal(v) for k, v in value.items() if not internal(k)}
    if isinstance(value, list):
        return [without_internal(v) for v in value]
    return value


def _pick(item: dict, fields: tuple[str, ...], keep_missing: bool = False) -> dict:
    return {k: item.get(k) for k in fields if keep_missing or k in item}


def ticket(shown: Ticket) -> dict:
    return _pick(shown.to_item(), TICKET_FIELDS, keep_missing=True)


def message(shown: Message) -> dict:
    """A message, note or event on a ticket's timeline (inbound, reply, note, action)."""
    return without_internal(shown.to_item())


def agent(item: dict) -> dict:
    return _pick(item, AGENT_FIELDS, keep_missing=True)


def team(item: dict) -> dict:
    return _pick(item, TEAM_FIELDS)


def template(item: dict) -> dict:
    return _pick(item, TEMPLATE_FIELDS)


def account(item: Optional[dict]) -> Optional[dict]:
    return None if item is None else _pick(item, ACCOUNT_FIELDS, keep_missing=True)


def customer(profile: dict) -> dict:
    """A customer profile with its identities, touchpoints, CRM records and events."""
    return without_internal(profile)


def merge(record: dict) -> dict:
    """A merge record: who, when, and what moved (identities and tickets by id; the rest counted,
    since they are kept by their storage keys for the undo)."""
    moved = record.get("moved") or {}
    return {**{k: record.get(k) for k in ("id", "survivor_id", "other_id", "by", "at", "undone_at", "undone_by")
               if k in record},
            "moved": {"identities": moved.get("identities", []), "tickets": moved.get("tickets", []),
                      "touchpoints": len(moved.get("touchpoints", [])), "events": len(moved.get("events", []))}}
