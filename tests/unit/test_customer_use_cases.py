"""The customer use cases on the in-memory store (fast; the same ports the DynamoDB store passes in
tests/contract): the ingest worker's link, an agent's edit of name, tags and note, VIP a
supervisor's, a stale version refused; CRM events imported; a merge (identities, touchpoints, events
and tickets) and its undo; erasure. The view (CRM records, tickets, events) and one HTTP round trip
of each stay on moto (tests/integration/test_customers.py)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given, strategies as st
from pydantic import ValidationError

from chalicelib import customers
from chalicelib.aggregates.customer import CustomerEvent
from chalicelib.aggregates.message import Message
from chalicelib.aggregates.ticket import Ticket
from chalicelib.auth import Forbidden, Principal
from chalicelib.errors import ConcurrentUpdate, Invalid, NotFound
from chalicelib.models import Author
from chalicelib.store.memory import MemoryCustomerStore, MemoryStore

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
AGENT, SUPERVISOR = Principal("ana", "agent"), Principal("sam", "supervisor")


@pytest.fixture
def store() -> MemoryCustomerStore:
    return MemoryCustomerStore()


def _aino(store) -> str:
    """As the ingest worker links a mention's author."""
    return store.link("x", Author(id="u1", name="Aino Korhonen", handle="aino", followers=10).model_dump(), NOW)


def test_an_author_seen_again_is_the_same_customer(store):
    first = _aino(store)
    assert store.link("x", Author(id="u1", followers=12).model_dump(), NOW) == first
    assert store.get(first).name == "Aino Korhonen" and store.history(first).identities[0].followers == 12


def test_an_agent_edits_name_tags_and_note(store):
    customer_id = _aino(store)
    customers.edit_profile(store, customer_id, customers.CustomerPatch(version=0, name="Aino K.",
                                                                       tags=["Refund", "refund"], note="calls back"),
                           AGENT)
    profile = store.get(customer_id)
    assert (profile.name, profile.tags, profile.note, profile.updated_by, profile.version) == (
        "Aino K.", customers.clean_tags(["Refund", "refund"]), "calls back", "ana", 1)


def test_vip_is_a_supervisors_and_an_agent_changes_nothing(store):
    customer_id = _aino(store)
    with pytest.raises(Forbidden):
        customers.edit_profile(store, customer_id, customers.CustomerPatch(version=0, vip=True), AGENT)
    assert store.get(customer_id).vip is None
    customers.edit_profile(store, customer_id, customers.CustomerPatch(version=0, vip=True), SUPERVISOR)
    assert store.get(customer_id).vip is True


def test_an_edit_at_a_stale_version_is_refused(store):
    customer_id = _aino(store)
    customers.edit_profile(store, customer_id, customers.CustomerPatch(version=0, note="first"), AGENT)
    with pytest.raises(ConcurrentUpdate):
        customers.edit_profile(store, customer_id, customers.CustomerPatch(version=0, note="second"), AGENT)
    assert store.get(customer_id).note == "first"


def test_an_unknown_customer_is_not_found_and_makes_none(store):
    with pytest.raises(NotFound):
        customers.edit_profile(store, "nobody", customers.CustomerPatch(version=0, name="x"), AGENT)
    assert store.get("nobody") is None


def test_the_patch_is_checked_before_anything_is_stored(store):
    for body in ({"version": 0}, {"version": -1, "name": "x"}, {"version": 0, "colour": "blue"}):
        with pytest.raises(ValidationError):
            customers.CustomerPatch.model_validate(body)


# -- CRM events, merge and its undo, erasure: on the in-memory desk (tickets, messages, customers) --------
def _desk_with_two_profiles() -> tuple[MemoryStore, str, str]:
    """Aino wrote on X (ticket tx) and on WhatsApp (ticket tw), and the desk made two customers."""
    desk = MemoryStore()
    ids = []
    for platform, author, ticket_id in (("x", {"id": "u1", "name": "Aino", "handle": "aino"}, "tx"),
                                        ("whatsapp", {"id": "358401", "name": "Aino K"}, "tw")):
        customer_id = desk.customers.link(platform, author, NOW)
        at = NOW.isoformat()
        ticket = Ticket.opened(ticket_id, channel=platform, kind="dm", brand="acme", brand_account_id="brand",
                               conversation_key=f"conv-{ticket_id}", opened_by=f"{platform}#{author['id']}",
                               customer_id=customer_id, now_iso=at, first_inbound_at=at, clocks={},
                               visibility="private", language="en", topic=None, subject=None)
        ticket, _ = desk.tickets.open_for(ticket.conversation_key, ticket)
        message = Message.inbound(f"m-{ticket_id}", mention={
            "platform": platform, "kind": "dm", "external_id": f"e-{ticket_id}", "text": "my parcel is lost",
            "visibility": "private", "author": author, "source": "webhook"}, customer_id=customer_id,
            created_at=at, received_at=at, classification={}, priority=40, priority_factors=[],
            priority_rules_version=0, brand="acme")
        desk.messages.record_inbound(ticket, message, f"{platform}#e-{ticket_id}", customer_id, {}, NOW)
        ids.append(customer_id)
    return desk, ids[0], ids[1]


def test_crm_events_are_imported_onto_a_known_customer_only():
    desk, survivor, _ = _desk_with_two_profiles()
    request = customers.EventImport(events=[
        customers.CrmEvent(kind="purchase", at="2026-11-01T09:00:00+00:00", summary="boots", amount=120,
                           currency="EUR", external_id="ord-1"),
        customers.CrmEvent(kind="call", at="2026-10-01T09:00:00+00:00", summary="asked about sizes")])
    assert customers.import_events(desk.customers, survivor, request) == {"imported": 2}
    customers.import_events(desk.customers, survivor, request)  # the order is the same event again
    events = desk.customers.events(survivor)
    assert [(e.kind, e.id == "ord-1") for e in events] == [("call", False), ("call", False), ("purchase", True)]
    with pytest.raises(NotFound):
        customers.import_events(desk.customers, "nobody", request)
    assert desk.customers.events("nobody") == []


def test_a_merge_brings_identities_tickets_and_events_together_and_undo_restores_both():
    desk, survivor, other = _desk_with_two_profiles()
    desk.customers.put_event(other, CustomerEvent(id="e1", kind="call", at=NOW.isoformat(), summary="called"))
    record = customers.merge_profiles(desk, survivor, other, "sam")
    assert (record.survivor_id, record.other_id, record.by, record.moved.tickets) == (survivor, other, "sam", ["tw"])
    merged = desk.customers.history(survivor)
    assert sorted(i.platform for i in merged.identities) == ["whatsapp", "x"]
    assert sorted(t["ticket_id"] for t in merged.touchpoints) == ["tw", "tx"]
    assert [e.id for e in desk.customers.events(survivor)] == ["e1"]
    assert desk.tickets.get("tw").customer_id == survivor
    assert desk.customers.get(other).merged_into == survivor
    assert desk.customers.link("whatsapp", {"id": "358401"}, NOW) == survivor  # the next message too
    assert desk.customers.get_merge(survivor, record.id) == record
    with pytest.raises(ConcurrentUpdate):  # merged already
        customers.merge_profiles(desk, survivor, other, "sam")

    customers.undo(desk, survivor, record.id, "ana")
    restored = desk.customers.history(other)
    assert [i.platform for i in restored.identities] == ["whatsapp"] and restored.customer.merged_into is None
    assert [t["ticket_id"] for t in restored.touchpoints] == ["tw"]
    assert [e.id for e in desk.customers.events(other)] == ["e1"] and desk.customers.events(survivor) == []
    assert desk.tickets.get("tw").customer_id == other
    assert desk.customers.customer_of("whatsapp", "358401") == other
    assert desk.customers.get_merge(survivor, record.id).undone_by == "ana"
    with pytest.raises(NotFound):  # undone already
        customers.undo(desk, survivor, record.id, "ana")


def test_a_customer_is_not_merged_into_themself_nor_an_unknown_one():
    desk, survivor, _ = _desk_with_two_profiles()
    with pytest.raises(ValueError):
        customers.merge_profiles(desk, survivor, survivor, "sam")
    with pytest.raises(NotFound):
        customers.merge_profiles(desk, survivor, "nobody", "sam")
    with pytest.raises(NotFound):
        customers.undo(desk, survivor, "no-such-merge", "sam")
    assert desk.customers.get(survivor).current_version == 0


def test_erasure_removes_the_person_and_keeps_anonymous_statistics():
    desk, customer_id, other = _desk_with_two_profiles()
    desk.customers.put_event(customer_id, CustomerEvent(id="e1", kind="call", at=NOW.isoformat(), summary="x"))
    desk.customers.crm.update({("x", "u1"): {"vip": True}, ("x", "@aino"): {"vip": True},
                               ("whatsapp", "358401"): {"vip": True}})
    answer = customers.erase(desk, customer_id, "root")
    assert answer == {"customer_id": customer_id, "tickets_kept_anonymised": 1, "messages_redacted": 1,
                      "identities_removed": 1}
    profile = desk.customers.history(customer_id)
    assert (profile.customer.name, profile.customer.erased_by, profile.identities) == ("[erased]", "root", [])
    assert [t["ticket_id"] for t in profile.touchpoints] == ["tx"]  # the statistics stay
    assert desk.customers.customer_of("x", "u1") is None and desk.customers.events(customer_id) == []
    assert set(desk.customers.crm) == {("whatsapp", "358401")}  # the other profile's CRM record stays
    ticket, [message] = desk.tickets.get("tx"), desk.messages.timeline("tx")
    assert (ticket.channel, ticket.last_message_preview, message.text, message.author) == (
        "x", customers.ERASED, customers.ERASED, {"id": customers.ERASED})
    assert desk.messages.timeline("tw")[0].text == "my parcel is lost"
    assert customers.erase(desk, customer_id, "root")["identities_removed"] == 0  # idempotent


# -- the view's page and the visibility check: bounded reads, newest first ---------------------------
def _customer_with_tickets(brands: list[str]) -> tuple[MemoryStore, str, list[str]]:
    """A customer with one ticket a brand of `brands`, oldest first, each with two touchpoints
    (in, then a reply) a minute apart; the ticket reads counted (`desk.reads`)."""
    from chalicelib.store import keys

    desk = MemoryStore()
    customer_id = desk.customers.link("x", {"id": "u1", "name": "Aino"}, NOW)
    ticket_ids = []
    for n, brand in enumerate(brands):
        ticket_id, at = f"t{n:03}", f"2026-11-{1 + n // 100:02}T{n // 60 % 24:02}:{n % 60:02}:00+00:00"
        ticket = Ticket.opened(ticket_id, channel="x", kind="dm", brand=brand, brand_account_id="brand",
                               conversation_key=f"conv-{ticket_id}", opened_by="x#u1", customer_id=customer_id,
                               now_iso=at, first_inbound_at=at, clocks={}, visibility="private", language="en",
                               topic=None, subject=None)
        desk.tickets.open_for(ticket.conversation_key, ticket)
        for direction, message_id in (("in", f"m{n:03}a"), ("out", f"m{n:03}b")):
            desk.customers.touchpoints.setdefault(customer_id, []).append(
                {**keys.touchpoint(customer_id, at.replace(":00+", ":0" + str(len(direction)) + "+"), message_id),
                 "ticket_id": ticket_id, "message_id": message_id, "direction": direction})
        ticket_ids.append(ticket_id)
    desk.reads = []
    get = desk.tickets.get
    desk.tickets.get = lambda ticket_id: desk.reads.append(ticket_id) or get(ticket_id)
    return desk, customer_id, ticket_ids


def test_visibility_stops_at_the_first_ticket_of_the_callers_brands():
    desk, customer_id, ids = _customer_with_tickets(["acme"] * 40 + ["zeta"] * 3 + ["acme"])
    assert customers.visible(desk, customer_id, Principal("ana", "agent", frozenset({"acme"}))).identities
    assert desk.reads == [ids[-1]]
    desk.reads.clear()
    customers.visible(desk, customer_id, Principal("zoe", "agent", frozenset({"zeta"})))
    assert desk.reads == [ids[-1], ids[-2]]
    desk.reads.clear()
    customers.visible(desk, customer_id, Principal("root", "admin"))
    assert desk.reads == []


def test_a_caller_of_no_brand_of_the_customer_is_refused_after_a_bounded_read():
    desk, customer_id, ids = _customer_with_tickets(["zeta"] + ["acme"] * (customers.SEEN_TICKETS + 10))
    with pytest.raises(NotFound):
        customers.visible(desk, customer_id, Principal("ana", "agent", frozenset({"other"})))
    assert desk.reads == ids[::-1][:customers.SEEN_TICKETS]
    with pytest.raises(NotFound):  # older than the bound: not theirs to see
        customers.visible(desk, customer_id, Principal("zoe", "agent", frozenset({"zeta"})))


def test_the_view_reads_the_latest_tickets_a_page_at_a_time():
    brands = ["acme", "zeta"] * 15  # 30 tickets, the caller sees 15
    desk, customer_id, ids = _customer_with_tickets(brands)
    ana = Principal("ana", "agent", frozenset({"acme"}))
    touchpoints, tickets, cursor = customers.page(desk, customer_id, ana)
    newest = ids[::-1][:customers.PAGE_TICKETS]
    assert desk.reads == newest  # each ticket once, the caller's or not
    assert [t.id for t in tickets] == [i for i in newest if brands[ids.index(i)] == "acme"]
    assert [t["message_id"] for t in touchpoints] == [m for i in reversed(newest) if brands[ids.index(i)] == "acme"
                                                      for m in (f"m{i[1:]}a", f"m{i[1:]}b")]
    desk.reads.clear()
    touchpoints, tickets, cursor = customers.page(desk, customer_id, ana, cursor)
    assert desk.reads == ids[::-1][customers.PAGE_TICKETS:] and cursor is None
    assert [t.id for t in tickets] == ["t004", "t002", "t000"] and len(touchpoints) == 6
    root_page = customers.page(desk, customer_id, Principal("root", "admin"))
    assert len(root_page[1]) == customers.PAGE_TICKETS and len(root_page[0]) == 2 * customers.PAGE_TICKETS


def test_a_page_reads_at_most_its_touchpoints():
    desk, customer_id, ids = _customer_with_tickets(["acme"])
    for n in range(customers.PAGE_TOUCHPOINTS + 30):  # a chatty customer on one ticket
        desk.customers.touchpoints[customer_id].append(
            {"PK": f"CUSTOMER#{customer_id}", "SK": f"TOUCH#2026-11-20T10:00:00.{n:06}+00:00#c{n:03}",
             "ticket_id": "t000", "message_id": f"c{n:03}"})
    ana = Principal("ana", "agent", frozenset({"acme"}))
    touchpoints, tickets, cursor = customers.page(desk, customer_id, ana)
    assert len(touchpoints) == customers.PAGE_TOUCHPOINTS and [t.id for t in tickets] == ["t000"]
    assert touchpoints[-1]["message_id"] == f"c{customers.PAGE_TOUCHPOINTS + 29:03}"
    touchpoints, _, cursor = customers.page(desk, customer_id, ana, cursor)
    assert [t["message_id"] for t in touchpoints] == ["m000a", "m000b"] + [f"c{n:03}" for n in range(30)]
    assert cursor is None


# -- CRM data is a brand's: what the view shows, and what an import records -------------------------
BRANDS = st.sampled_from(["acme", "globex", "initech", None])


@given(st.lists(st.one_of(st.none(), st.fixed_dictionaries({"brand": BRANDS, "lifetime_value": st.integers(0, 10 ** 6),
                                                             "vip": st.booleans()})), max_size=8),
       st.frozensets(st.sampled_from(["acme", "globex", "initech"])), st.sampled_from(["agent", "supervisor", "admin"]))
def test_the_view_shows_only_the_crm_records_of_the_callers_brands(records, brands, role):
    caller = Principal("p", role, brands)
    shown = customers.crm_shown(records, caller)
    if role == "admin":  # every record, a brand-less one too
        assert shown == [r for r in records if r]
    else:  # exactly the caller's brands' records, none without a brand, in order
        assert shown == [r for r in records if r and r["brand"] in brands]


@given(st.lists(BRANDS, max_size=8), st.frozensets(st.sampled_from(["acme", "globex", "initech"])),
       st.sampled_from(["agent", "admin"]))
def test_the_view_shows_only_the_events_of_the_callers_brands(event_brands, brands, role):
    events = [CustomerEvent(id=str(n), kind="call", at=NOW.isoformat(), summary="s", brand=b)
              for n, b in enumerate(event_brands)]
    shown = customers.events_shown(events, Principal("p", role, brands))
    assert shown == [e for e in events if role == "admin" or e.brand in brands]


def test_imported_events_are_the_brand_they_are_imported_for_and_never_replace_anothers():
    desk, customer_id, _ = _desk_with_two_profiles()
    order = customers.CrmEvent(kind="purchase", at="2026-11-01T09:00:00+00:00", summary="boots", external_id="ord-1")
    acme, globex = Principal("sam", "supervisor", frozenset({"acme"})), Principal("gus", "supervisor",
                                                                                   frozenset({"globex"}))
    # a supervisor of one brand: that brand, without naming it
    customers.import_events(desk.customers, customer_id, customers.EventImport(events=[order]), acme)
    customers.import_events(desk.customers, customer_id, customers.EventImport(events=[order]), acme)  # again
    # the other brand's order of the same external id is its own event
    customers.import_events(desk.customers, customer_id, customers.EventImport(events=[order]), globex)
    events = desk.customers.events(customer_id)
    assert sorted((e.brand, e.id, e.external_id) for e in events) == [("acme", "acme:ord-1", "ord-1"),
                                                                      ("globex", "globex:ord-1", "ord-1")]
    assert [e.brand for e in customers.events_shown(events, acme)] == ["acme"]
    # another brand named: a 404, as any other brand's object; nothing stored
    with pytest.raises(NotFound):
        customers.import_events(desk.customers, customer_id,
                                customers.EventImport(events=[order], brand="globex"), acme)
    # a caller of several brands, or an admin, names the brand
    for caller in (Principal("sid", "supervisor", frozenset({"acme", "globex"})), Principal("root", "admin")):
        with pytest.raises(Invalid):
            customers.import_events(desk.customers, customer_id, customers.EventImport(events=[order]), caller)
    customers.import_events(desk.customers, customer_id, customers.EventImport(events=[order], brand="initech"),
                            Principal("root", "admin"))
    assert len(desk.customers.events(customer_id)) == 3
    with pytest.raises(ValidationError):  # a brand is a brand id
        customers.EventImport(events=[order], brand="Acme Corp")
