"""Customers: one profile across channels, edited, merged (and un-merged), enriched, erased.

* **view**: the profile, every platform identity with its reach, the CRM record of each
  (lifetime value, VIP, purchases), events imported from the CRM (calls, emails, purchases) and
  the latest touchpoints with their tickets, a page at a time (at most `PAGE_TICKETS` tickets and
  `PAGE_TOUCHPOINTS` touchpoints read, newest first; `next` goes on to older ones).
* **edit**: name, tags, VIP flag, a note; optimistic (`version`, 409 when stale).
* **merge**: the same person wrote on X and on WhatsApp: the second profile's identities,
  touchpoints and events move to the first, its tickets point at the first, and a merge record
  keeps exactly what moved, so **undo** puts it all back.
* **erase** (GDPR art. 17): names, handles, texts and CRM data go; what remains is anonymous
  statistics (tickets with channel, times, sentiment, topic; messages as "[erased]").

A person may write to several brands; a profile is the caller's to see when one of its tickets is
of the caller's brands (`visible`, the one check every customer route passes: NotFound, a 404,
otherwise), and the view shows only those tickets and their touchpoints. Admins see every profile.

CRM data is a brand's: a CRM record is the brand's whose export it came from (`crm import
--brand`, chalicelib/crm.py), an imported event the brand it was imported for (`EventImport.brand`,
else the importer's one brand). The view shows, of the records and events, only those of the
caller's brands (`crm_shown`, `events_shown`), and the lifetime value and CRM VIP flag come from
those alone; admins see all. One without a brand (imported before they had one) is shown to admins
only. So an agent of brand A who sees the customer through A's ticket never sees brand B's CRM.
"""
from __future__ import annotations

import re
import uuid
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chalicelib import crm, search, views
from chalicelib.channels import registry
from chalicelib.aggregates.customer import CustomerEvent, CustomerHistory, Merge
from chalicelib.aggregates.ticket import Ticket
from chalicelib.auth import Principal
from chalicelib.errors import ConcurrentUpdate, Invalid, NotFound
from chalicelib.models import utcnow
from chalicelib.store.dynamodb import DynamoStore
from chalicelib.store.ports import CustomerStore, Stores
from chalicelib.tickets import clean_tags

ERASED = "[erased]"


class CustomerPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=0)
    name: Optional[str] = Field(default=None, min_length=1, max_length=120)
    tags: Optional[list[str]] = Field(default=None, max_length=20)
    vip: Optional[bool] = None
    note: Optional[str] = Field(default=None, max_length=2000)

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags):
        return None if tags is None else clean_tags(tags)

    @model_validator(mode="after")
    def _something(self) -> "CustomerPatch":
        if all(getattr(self, f) is None for f in ("name", "tags", "vip", "note")):
            raise ValueError("give at least one of name, tags, vip, note")
        return self


class MergeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    other_id: str = Field(min_length=1, max_length=64)


class CrmEvent(BaseModel):
    """A call, email or purchase from the CRM, on the customer's timeline."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["call", "email", "purchase", "visit", "other"]
    at: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}T")
    summary: str = Field(min_length=1, max_length=500)
    amount: Optional[float] = Field(default=None, ge=0)
    currency: Optional[str] = Field(default=None, pattern=r"^[A-Z]{3}$")
    external_id: Optional[str] = Field(default=None, max_length=100)


class EventImport(BaseModel):
    """`brand`: whose CRM the events come from, one of the caller's brands; it may be left out by a
    caller of one brand (that one)."""

    model_config = ConfigDict(extra="forbid")

    events: list[CrmEvent] = Field(min_length=1, max_length=500)
    brand: Optional[str] = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")


PAGE_TICKETS = 25  # the tickets a view page reads at most (its touchpoints' tickets, newest first)
PAGE_TOUCHPOINTS = 100  # the touchpoints a view page reads at most
SEEN_TICKETS = 50  # the tickets the visibility check reads at most, newest first, before a 404
SEEN_TOUCHPOINTS = 400  # the touchpoints it reads at most
READ = 50  # touchpoints a query reads


class CustomerQuery(BaseModel):
    """`GET /api/customers/{id}`: `cursor` is a page's `next`, to go on to older touchpoints."""

    model_config = ConfigDict(extra="forbid")

    cursor: Optional[str] = Field(default=None, max_length=200, pattern=r"^TOUCH#")


def _touchpoints(stores: Stores, customer_id: str, before: Optional[str], most: int):
    """(touchpoint, the sort key to go on from after it, or None when it is the oldest), newest first, at most `most`."""
    read = 0
    while read < most:
        page, after = stores.customers.latest_touchpoints(customer_id, before, min(READ, most - read))
        for n, touch in enumerate(page):
            yield touch, (touch["SK"] if after is not None or n < len(page) - 1 else None)
        read += len(page)
        if after is None:
            return
        before = after


def visible(stores: Stores, customer_id: str, principal: Principal) -> CustomerHistory:
    """The profile with its identities (no touchpoints); NotFound for no profile, or one with no
    ticket of the caller's brands (admins: every profile); a profile merged into another is the
    caller's when the survivor is. Bounded: the latest touchpoints are read until the first ticket
    of the caller's brands, at most SEEN_TOUCHPOINTS of them and SEEN_TICKETS tickets (a customer
    whose only ticket of the caller's brands is older than that is not theirs to see)."""
    try:
        card = stores.customers.profile(customer_id)
    except NotFound:
        raise NotFound(customer_id) from None
    if card.customer.merged_into:  # its touchpoints moved to the survivor: the caller must see that one
        visible(stores, card.customer.merged_into, principal)
        return card
    if principal.every_brand:
        return card
    read: set[str] = set()
    for touch, _ in _touchpoints(stores, customer_id, None, SEEN_TOUCHPOINTS):
        ticket_id = touch.get("ticket_id")
        if not ticket_id or ticket_id in read:
            continue
        ticket = stores.tickets.get(ticket_id)
        if ticket and principal.sees(ticket.brand):
            return card
        read.add(ticket_id)
        if len(read) == SEEN_TICKETS:
            break
    raise NotFound(customer_id)


def page(stores: Stores, customer_id: str, principal: Principal,
         before: Optional[str] = None) -> tuple[list[dict], list[Ticket], Optional[str]]:
    """The latest touchpoints older than `before` (oldest first, as the timeline shows them) and
    their tickets of the caller's brands (newest first), at most PAGE_TICKETS tickets and
    PAGE_TOUCHPOINTS touchpoints read, and where the next page starts (None: no older one). A
    ticket whose touchpoints span two pages is on both; a caller sees only the touchpoints of
    tickets they see (admins: all)."""
    touchpoints: list[dict] = []
    tickets: dict[str, Optional[Ticket]] = {}
    cursor: Optional[str] = None
    for touch, cursor in _touchpoints(stores, customer_id, before, PAGE_TOUCHPOINTS):
        ticket_id = touch.get("ticket_id")
        if ticket_id and ticket_id not in tickets:
            if len(tickets) == PAGE_TICKETS:  # this one starts the next page
                cursor = touchpoints[-1]["SK"]
                break
            ticket = stores.tickets.get(ticket_id)
            tickets[ticket_id] = ticket if ticket and principal.sees(ticket.brand) else None
        touchpoints.append(touch)
    shown = [t for t in tickets.values() if t is not None]
    ids = {t.id for t in shown}
    return ([t for t in reversed(touchpoints) if principal.every_brand or t.get("ticket_id") in ids],
            shown, cursor)


def view(store: DynamoStore, customer_id: str, principal: Principal, cursor: Optional[str] = None) -> dict:
    card = visible(store, customer_id, principal)
    customer = card.customer
    if customer.merged_into:
        return {**view(store, customer.merged_into, principal, cursor), "redirected_from": customer_id}
    records = crm_shown([store.get_crm(i.platform, crm.author_keys(i.platform, i.user_id, i.handle))
                         for i in card.identities], principal)
    touchpoints, tickets, after = page(store, customer_id, principal, cursor)
    value = max([r.get("lifetime_value", 0) for r in records] + [0])
    from chalicelib.templates import customer_name

    return views.customer({**customer.to_item(), "name": customer_name(card),  # None, never an id, when unknown
                           "identities": [i.to_item() for i in card.identities],
                           "touchpoints": touchpoints, "version": customer.current_version,
                           "crm": records, "lifetime_value": value,
                           "vip": bool(customer.vip) or any(r.get("vip") for r in records),
                           "events": [e.to_item() for e in
                                      events_shown(store.customers.events(customer_id), principal)],
                           "tickets": [views.ticket(t) for t in tickets], "next": after})


def crm_shown(records: list[Optional[dict]], principal: Principal) -> list[dict]:
    """The CRM records (None: an identity with none) of the caller's brands; admins: all of them."""
    return [r for r in records if r and principal.sees(r.get("brand"))]


def events_shown(events: list[CustomerEvent], principal: Principal) -> list[CustomerEvent]:
    """The imported events of the caller's brands; admins: all of them."""
    return [e for e in events if principal.sees(e.brand)]


def event_brand(request: EventImport, principal: Principal) -> str:
    """The brand an import is for: the one it names, which must be the caller's (NotFound, a 404, as
    any other brand's object), or the caller's only brand; Invalid (400) when it must be named."""
    if request.brand is not None:
        principal.within(request.brand, f"brand {request.brand}")
        return request.brand
    if not principal.every_brand and len(principal.brands) == 1:
        return next(iter(principal.brands))
    raise Invalid("brand", "name the brand whose CRM these events come from")


def edit_profile(customers: CustomerStore, customer_id: str, patch: CustomerPatch, principal: Principal) -> None:
    """Agents edit name, tags and note; VIP feeds every ticket's priority, so it is a supervisor's
    (Forbidden, a 403, for an agent), as CSAT is. NotFound for no profile, ConcurrentUpdate (a
    409) when `patch.version` is not the profile's."""
    if patch.vip is not None:
        principal.require("supervisor")
    if customers.get(customer_id) is None:
        raise NotFound(customer_id)
    changes = patch.model_dump(exclude={"version"}, exclude_none=True)
    customers.update(customer_id, patch.version, {**changes, "updated_by": principal.agent_id,
                                                  "updated_at": utcnow().isoformat()})


def edit(store: DynamoStore, customer_id: str, patch: CustomerPatch, principal: Principal) -> dict:
    """The profile edited (`edit_profile`), then viewed."""
    visible(store, customer_id, principal)
    edit_profile(store.customers, customer_id, patch, principal)
    return view(store, customer_id, principal)


def import_events(customers: CustomerStore, customer_id: str, request: EventImport,
                  principal: Optional[Principal] = None) -> dict:
    """The events onto the customer's timeline as the brand's (`event_brand`; without a principal,
    the request's brand or none). An event's id is its external id within the brand
    (`<brand>:<external id>`), so the same import again replaces it and another brand's event of the
    same external id never does."""
    brand = event_brand(request, principal) if principal is not None else request.brand
    if customers.get(customer_id) is None:
        raise NotFound(customer_id)
    for event in request.events:
        own = f"{brand}:{event.external_id}" if brand and event.external_id else event.external_id
        customers.put_event(customer_id, CustomerEvent.model_validate(
            {**event.model_dump(exclude_none=True), "id": own or str(uuid.uuid4()),
             **({"brand": brand} if brand else {})}))
    return {"imported": len(request.events)}


def merge_profiles(stores: Stores, survivor_id: str, other_id: str, agent_id: str) -> Merge:
    """The other profile's identities, touchpoints and events move to the survivor, its tickets
    point at the survivor, it says where it went, and the record keeps what moved. ValueError for a
    profile merged into itself, ConcurrentUpdate when either was merged already, NotFound for no
    profile."""
    if survivor_id == other_id:
        raise ValueError("a customer cannot be merged into themself")
    survivor, other = stores.customers.get(survivor_id), stores.customers.get(other_id)
    if survivor is None or other is None:
        raise NotFound(survivor_id if survivor is None else other_id)
    if survivor.merged_into or other.merged_into:
        raise ConcurrentUpdate("one of the two was merged already")
    moved = stores.customers.moving(other_id)
    merge_id = str(uuid.uuid4())
    stores.customers.move(other_id, survivor_id, moved)
    stores.tickets.set_customer(moved.tickets, survivor_id)
    stores.customers.update(other_id, other.current_version, {"merged_into": survivor_id})
    record = Merge(id=merge_id, survivor_id=survivor_id, other_id=other_id, moved=moved, by=agent_id,
                   at=utcnow().isoformat())
    stores.customers.put_merge(record)
    return record


def merge(store: DynamoStore, survivor_id: str, other_id: str, principal: Principal) -> dict:
    """The profiles merged (`merge_profiles`), then the record and the survivor viewed; both must
    be the caller's to see."""
    visible(store, survivor_id, principal)
    visible(store, other_id, principal)
    record = merge_profiles(store, survivor_id, other_id, principal.agent_id)
    return {"merge": views.merge(record.to_item()), "customer": view(store, survivor_id, principal)}


def undo(stores: Stores, survivor_id: str, merge_id: str, agent_id: str) -> Merge:
    """What the merge moved goes back, the tickets with it, and the other profile is itself again.
    NotFound for no such merge (or one undone already); the merge record as it was."""
    record = stores.customers.get_merge(survivor_id, merge_id)
    if record is None or record.undone_at:
        raise NotFound(f"merge {merge_id}")
    moved, other_id = record.moved, record.other_id
    stores.customers.move(survivor_id, other_id, moved)
    stores.tickets.set_customer(moved.tickets, other_id)
    other = stores.customers.get(other_id)
    if other is None:
        raise NotFound(other_id)
    stores.customers.update(other_id, other.current_version, {"merged_into": None})
    stores.customers.mark_merge_undone(survivor_id, merge_id, agent_id, utcnow().isoformat())
    return record


def undo_merge(store: DynamoStore, survivor_id: str, merge_id: str, principal: Principal) -> dict:
    """The merge undone (`undo`), then both profiles viewed; the survivor must be the caller's to see."""
    visible(store, survivor_id, principal)
    record = undo(store, survivor_id, merge_id, principal.agent_id)
    return {"survivor": view(store, survivor_id, principal), "restored": view(store, record.other_id, principal)}


# -- suspected duplicates: the same email, phone or handle on another channel ------------------
DUPLICATE_IDENTITIES = 5  # a profile's identities looked at, at most
DUPLICATE_LIMIT = 10  # suspects at most
_PHONE = re.compile(r"^\+?\d{7,15}$")


def _address(user_id: str) -> Optional[tuple[str, list[str]]]:
    """("email" | "phone", the user ids the same address has on another platform), or None."""
    text = user_id.strip()
    if "@" in text and "." in text.split("@")[-1]:
        return "email", [text.lower()] + ([text] if text != text.lower() else [])
    compact = re.sub(r"[\s().-]", "", text)
    if _PHONE.match(compact):
        digits = compact.lstrip("+")
        return "phone", [digits, "+" + digits]
    return None


def duplicates(store: DynamoStore, customer_id: str, principal: Principal) -> dict:
    """{"items": [{"customer_id", "name", "identities", "reasons"}]}: other profiles the desk
    suspects are the same person, each the caller's to see and not merged away: an identity on
    another platform whose user id is the same email or phone (a GetItem per identity, other
    platform of the registry and spelling: as written and lower-cased, or a phone with and without
    its +), or whose handle is the same (the brand's search index under the
    handle's token, search.READ_BUDGET entries at most, then the suspect's identities checked).
    Bounded: DUPLICATE_IDENTITIES identities, DUPLICATE_LIMIT suspects."""
    card = visible(store, customer_id, principal)
    if card.customer.merged_into:
        return duplicates(store, card.customer.merged_into, principal)
    reasons: dict[str, list[str]] = {}

    def suspect(other_id: Optional[str], reason: str) -> None:
        if not other_id or other_id == customer_id or (other_id not in reasons and len(reasons) >= DUPLICATE_LIMIT):
            return
        why = reasons.setdefault(other_id, [])
        if reason not in why:
            why.append(reason)

    identities = card.identities[:DUPLICATE_IDENTITIES]
    for identity in identities:
        found = _address(identity.user_id)
        if found:
            kind, variants = found
            for platform in registry.ids():
                if platform == identity.platform:
                    continue
                for user_id in variants:
                    suspect(store.customers.customer_of(platform, user_id), f"same {kind} {variants[0]}")
    handles = {i.handle.lower().lstrip("@"): i.platform for i in identities if i.handle}
    if handles and hasattr(store, "table"):
        for handle, platform in handles.items():
            tokens = search.ranked(search.words(handle))
            if not tokens:
                continue
            token = tokens[0]
            partitions = [(b, search.sharded(token, shard)) for b in search.brands_of(store, principal.scope)
                          for shard in range(search.SHARDS)]
            tickets, _ = search.read(store.table, partitions, lambda t, _p: search.who(t) == token
                                     and t.get("customer_id") not in (None, customer_id), DUPLICATE_LIMIT)
            for other_id in dict.fromkeys(t["customer_id"] for t in tickets):
                try:
                    other = store.customers.profile(other_id)
                except NotFound:
                    continue
                if any((i.handle or "").lower().lstrip("@") == handle and i.platform != platform
                       for i in other.identities):
                    suspect(other_id, f"same handle @{handle}")
    from chalicelib.templates import customer_name

    items = []
    for other_id, why in reasons.items():
        try:
            other = visible(store, other_id, principal)
        except NotFound:
            continue
        if other.customer.merged_into or other.customer.erased_at:
            continue
        items.append({"customer_id": other_id, "name": customer_name(other), "reasons": why,
                      "identities": [{k: v for k, v in i.to_item().items() if k in ("platform", "handle", "name")}
                                     for i in other.identities]})
    return {"items": items}


def erase(stores: Stores, customer_id: str, agent_id: str) -> dict:
    """Remove the person, keep the statistics. Idempotent."""
    customer = stores.customers.history(customer_id)
    tickets = sorted({t["ticket_id"] for t in customer.touchpoints if t.get("ticket_id")})
    redacted = 0
    for ticket_id in tickets:
        redacted += stores.tickets.redact(ticket_id, ERASED)
    crm_records = [(i.platform, key) for i in customer.identities
                   for key in crm.author_keys(i.platform, i.user_id, i.handle)]
    stores.customers.erase(customer_id, [(i.platform, i.user_id) for i in customer.identities], crm_records,
                           erased_at=utcnow().isoformat(), erased_by=agent_id)
    return {"customer_id": customer_id, "tickets_kept_anonymised": len(tickets), "messages_redacted": redacted,
            "identities_removed": len(customer.identities)}
