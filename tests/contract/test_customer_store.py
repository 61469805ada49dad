"""The CustomerStore contract, on DynamoDB (moto) and in memory alike: an identity seen first makes
one customer (however many workers link it at once, and whichever worker retries it: its id is the
identity's first-sight id), never one that was merged away or erased, a known identity is refreshed
and keeps its customer, and a profile edit is optimistic on its version; touchpoints are counted from a time on,
imported events read back in time order, a merge moves exactly what it names (and a move back
restores it), its record is undone once, and erasure forgets the person but keeps the touchpoints."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from chalicelib.aggregates.customer import Customer, CustomerEvent, Identity, Merge, Moved, first_sight_id
from chalicelib.errors import ConcurrentUpdate, NotFound

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
AINO = {"id": "u1", "name": "Aino", "handle": "aino", "followers": 10, "verified": None}


# -- link ----------------------------------------------------------------------------------------
def test_first_sight_makes_a_customer_with_its_identity(customers):
    assert customers.customer_of("x", "u1") is None
    customer_id = customers.link("x", AINO, NOW)
    assert customers.customer_of("x", "u1") == customer_id
    history = customers.history(customer_id)
    assert history.customer == Customer(customer_id=customer_id, name="Aino", created_at=NOW.isoformat(),
                                        identity_count=1)
    assert history.identities == [Identity(platform="x", user_id="u1", customer_id=customer_id, name="Aino",
                                           handle="aino", followers=10, linked_at=NOW.isoformat())]
    assert history.touchpoints == [] and history.customer.current_version == 0


def test_the_name_is_the_authors_name_else_handle_else_id(customers):
    by_handle = customers.link("x", {"id": "u2", "handle": "nimeton"}, NOW)
    by_id = customers.link("whatsapp", {"id": "306900000001"}, NOW)
    assert customers.get(by_handle).name == "nimeton" and customers.get(by_id).name == "306900000001"


def test_a_known_identity_keeps_its_customer_and_is_refreshed(customers):
    first = customers.link("x", AINO, NOW)
    again = customers.link("x", {"id": "u1", "name": None, "followers": 99}, NOW + timedelta(days=1))
    assert again == first
    [identity] = customers.history(first).identities
    assert (identity.name, identity.followers, identity.linked_at) == ("Aino", 99, NOW.isoformat())
    assert customers.get(first).created_at == NOW.isoformat()


def test_first_sight_names_the_identitys_first_sight_customer(customers):
    assert customers.link("x", AINO, NOW) == first_sight_id("x", "u1")
    assert first_sight_id("x", "u1") not in (first_sight_id("facebook", "u1"), first_sight_id("x", "u1", 1))


def test_the_same_user_id_on_another_platform_is_another_customer(customers):
    assert customers.link("x", AINO, NOW) != customers.link("facebook", AINO, NOW)


def test_racing_workers_linking_one_identity_make_one_customer(customers):
    with ThreadPoolExecutor(max_workers=8) as pool:
        linked = set(pool.map(lambda _: customers.link("x", AINO, NOW), range(8)))
    assert len(linked) == 1
    [customer_id] = linked
    assert customers.customer_of("x", "u1") == customer_id
    assert [i.user_id for i in customers.history(customer_id).identities] == ["u1"]


def test_a_customer_merged_away_is_never_taken_back(customers):
    """Aino's first customer merged into another, which is then erased with her identity: seen
    again, she is a new customer, not the merged-away one."""
    first = customers.link("x", AINO, NOW)
    survivor = customers.link("whatsapp", {"id": "358401", "name": "Aino"}, NOW)
    customers.move(first, survivor, customers.moving(first))
    customers.update(first, 0, {"merged_into": survivor})
    assert customers.link("x", AINO, NOW) == survivor  # the pointer names the survivor
    customers.erase(survivor, [("x", "u1"), ("whatsapp", "358401")], [], NOW.isoformat(), "root")
    again = customers.link("x", {**AINO, "followers": 11}, NOW + timedelta(days=1))
    assert again not in (first, survivor) and customers.customer_of("x", "u1") == again
    assert customers.get(first).merged_into == survivor and customers.history(first).identities == []
    history = customers.history(again)
    assert (history.customer.name, history.customer.created_at) == ("Aino", (NOW + timedelta(days=1)).isoformat())
    assert [(i.user_id, i.customer_id, i.followers) for i in history.identities] == [("u1", again, 11)]


def test_an_erased_customer_is_never_taken_back(customers):
    first = customers.link("x", AINO, NOW)
    customers.erase(first, [("x", "u1")], [], NOW.isoformat(), "root")
    assert customers.history(first).identities == []
    again = customers.link("x", AINO, NOW + timedelta(days=1))
    assert again != first and customers.get(first).name == "[erased]"
    assert customers.get(again).name == "Aino" and [i.user_id for i in customers.history(again).identities] == ["u1"]
    customers.erase(again, [("x", "u1")], [], NOW.isoformat(), "root")
    assert customers.link("x", AINO, NOW) not in (first, again)


def test_a_moved_identity_is_refreshed_where_it_lives_now(customers):
    first = customers.link("x", AINO, NOW)
    survivor = customers.link("whatsapp", {"id": "358401", "name": "Aino"}, NOW)
    customers.move(first, survivor, customers.moving(first))
    assert customers.link("x", {"id": "u1", "name": "Aino K.", "followers": 12}, NOW) == survivor
    identities = customers.history(survivor).identities
    assert [(i.user_id, i.customer_id, i.name, i.followers, i.linked_at) for i in identities] == [
        ("358401", survivor, "Aino", None, NOW.isoformat()), ("u1", survivor, "Aino K.", 12, NOW.isoformat())]


# -- read -----------------------------------------------------------------------------------------
def test_no_profile_is_none_or_not_found(customers):
    assert customers.get("nobody") is None
    with pytest.raises(NotFound):
        customers.history("nobody")


def test_what_is_read_is_a_copy(customers):
    customer_id = customers.link("x", AINO, NOW)
    customers.get(customer_id).name = "changed"
    customers.history(customer_id).identities[0].name = "changed"
    assert customers.get(customer_id).name == "Aino" and customers.history(customer_id).identities[0].name == "Aino"


# -- update ---------------------------------------------------------------------------------------
def test_an_edit_at_the_version_read_changes_only_what_it_names(customers):
    customer_id = customers.link("x", AINO, NOW)
    customers.update(customer_id, 0, {"tags": ["vip-lead"], "vip": True, "note": "prefers DMs", "updated_by": "a1"})
    customers.update(customer_id, 1, {"name": "Aino K.", "note": None})
    profile = customers.get(customer_id)
    assert (profile.name, profile.tags, profile.vip, profile.note, profile.updated_by, profile.version) == (
        "Aino K.", ["vip-lead"], True, None, "a1", 2)
    assert "note" not in profile.to_item()


def test_a_stale_version_is_a_concurrent_update_and_changes_nothing(customers):
    customer_id = customers.link("x", AINO, NOW)
    customers.update(customer_id, 0, {"name": "first"})
    with pytest.raises(ConcurrentUpdate):
        customers.update(customer_id, 0, {"name": "second"})
    assert (customers.get(customer_id).name, customers.get(customer_id).version) == ("first", 1)


def test_two_editors_at_one_version_one_wins(customers):
    customer_id = customers.link("x", AINO, NOW)

    def edit(n: int) -> bool:
        try:
            customers.update(customer_id, 0, {"note": f"editor {n}"})
            return True
        except ConcurrentUpdate:
            return False

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert sorted(pool.map(edit, range(8))) == [False] * 7 + [True]
    assert customers.get(customer_id).version == 1


def test_an_edit_of_no_profile_is_a_concurrent_update_and_makes_none(customers):
    with pytest.raises(ConcurrentUpdate):
        customers.update("nobody", 0, {"name": "ghost"})
    assert customers.get("nobody") is None


@pytest.mark.parametrize("changes", [{"customer_id": "other"}, {"version": 7}, {"colour": "blue"}])
def test_the_identity_version_and_unknown_attributes_are_refused(customers, changes):
    customer_id = customers.link("x", AINO, NOW)
    with pytest.raises(ValueError):
        customers.update(customer_id, 0, changes)
    assert customers.get(customer_id).current_version == 0


def test_a_merged_profile_says_where_it_went(customers):
    customer_id = customers.link("x", AINO, NOW)
    customers.update(customer_id, 0, {"merged_into": "survivor"})
    assert customers.get(customer_id).merged_into == "survivor"
    customers.update(customer_id, 1, {"merged_into": None})
    assert customers.get(customer_id).merged_into is None


# -- the stored shapes (DynamoDB only) ---------------------------------------------------------------
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem")


def _requests(table) -> list[str]:
    """The names of the requests made on `table`'s client from now on (a list that grows)."""
    seen: list[str] = []
    table.meta.client.meta.events.register("before-call.dynamodb", lambda model, **_: seen.append(model.name))
    return seen


def _written(requests: list[str]) -> list[str]:
    return [op for op in requests if op in WRITES]


def test_link_stores_the_profile_with_its_first_identity_and_the_pointer(dynamodb_table):
    from chalicelib.store import keys
    from chalicelib.store.customers import DynamoCustomerStore

    customer_id = DynamoCustomerStore(dynamodb_table).link("x", AINO, NOW)
    identity = {"platform": "x", "user_id": "u1", "customer_id": customer_id, "name": "Aino", "handle": "aino",
                "followers": 10}
    assert dynamodb_table.get_item(Key=keys.identity("x", "u1"))["Item"] == {**keys.identity("x", "u1"), **identity}
    assert dynamodb_table.get_item(Key=keys.customer(customer_id))["Item"] == {
        **keys.customer(customer_id), "customer_id": customer_id, "name": "Aino", "created_at": NOW.isoformat(),
        "identity_count": 1, "first_identity": {**identity, "linked_at": NOW.isoformat()}}
    assert "Item" not in dynamodb_table.get_item(Key=keys.customer_identity(customer_id, "x", "u1"))


def test_first_sight_is_two_puts_and_a_return_writes_only_what_changed_on_the_pointer(dynamodb_table):
    from chalicelib.store import keys
    from chalicelib.store.customers import DynamoCustomerStore

    customers = DynamoCustomerStore(dynamodb_table)
    writes = _requests(dynamodb_table)
    customer_id = customers.link("x", AINO, NOW)
    assert _written(writes) == ["PutItem", "PutItem"]  # no transaction: 2 WCU, not 6
    customers.link("x", {**AINO, "handle": None}, NOW)  # nothing new (a missing handle keeps the one stored)
    assert _written(writes) == ["PutItem", "PutItem"]
    customers.link("x", {**AINO, "followers": 11}, NOW)
    assert _written(writes) == ["PutItem", "PutItem", "UpdateItem"]
    assert dynamodb_table.get_item(Key=keys.identity("x", "u1"))["Item"]["followers"] == 11
    assert customers.history(customer_id).identities[0].followers == 11


def test_a_crash_between_the_profile_and_the_pointer_is_finished_by_the_retry(dynamodb_table, monkeypatch):
    """The profile is put first: in between, no pointer names it (the mention's ticket is not made
    yet); the retry, on any worker, finds it by the same id, keeps it as it was and points at it."""
    from chalicelib.store import keys
    from chalicelib.store.customers import DynamoCustomerStore

    customers = DynamoCustomerStore(dynamodb_table)
    put_item = dynamodb_table.put_item

    def crash_at_the_pointer(**kwargs):
        if kwargs["Item"]["PK"].startswith("IDENTITY#"):
            raise RuntimeError("the worker died")
        return put_item(**kwargs)

    with monkeypatch.context() as patched, pytest.raises(RuntimeError):
        patched.setattr(dynamodb_table, "put_item", crash_at_the_pointer)
        customers.link("x", AINO, NOW)
    customer_id = first_sight_id("x", "u1")
    assert customers.customer_of("x", "u1") is None and customers.history(customer_id).customer.name == "Aino"
    retry = DynamoCustomerStore(dynamodb_table)
    assert retry.link("x", {**AINO, "name": "Aino K."}, NOW + timedelta(minutes=5)) == customer_id
    assert customers.customer_of("x", "u1") == customer_id
    history = customers.history(customer_id)
    assert (history.customer.name, history.customer.created_at) == ("Aino", NOW.isoformat())
    assert [(i.user_id, i.name) for i in history.identities] == [("u1", "Aino K.")]
    assert dynamodb_table.get_item(Key=keys.identity("x", "u1"))["Item"]["name"] == "Aino K."


def test_a_profile_found_at_the_first_sight_id_is_never_overwritten(dynamodb_table):
    from chalicelib.store import keys
    from chalicelib.store.customers import DynamoCustomerStore

    customer_id = first_sight_id("x", "u1")
    edited = {**keys.customer(customer_id), "customer_id": customer_id, "name": "Aino K.", "version": 2,
              "created_at": NOW.isoformat(), "identity_count": 1, "tags": ["refund"]}
    dynamodb_table.put_item(Item=edited)
    assert DynamoCustomerStore(dynamodb_table).link("x", AINO, NOW + timedelta(days=1)) == customer_id
    assert dynamodb_table.get_item(Key=keys.customer(customer_id))["Item"] == edited


def test_an_identity_stored_as_three_items_reads_refreshes_and_moves(dynamodb_table):
    """A customer linked before the first identity was folded into the profile: pointer, profile and
    `IDENTITY#` item, the copy refreshed as the desk used to refresh it."""
    from chalicelib.store import keys
    from chalicelib.store.customers import DynamoCustomerStore

    identity = {"platform": "x", "user_id": "u1", "customer_id": "c1", "name": "Aino", "handle": "aino"}
    dynamodb_table.put_item(Item={**keys.identity("x", "u1"), **identity, "followers": 10})
    dynamodb_table.put_item(Item={**keys.customer("c1"), "customer_id": "c1", "name": "Aino",
                                  "created_at": NOW.isoformat(), "identity_count": 1})
    dynamodb_table.put_item(Item={**keys.customer_identity("c1", "x", "u1"), **identity, "followers": 30,
                                  "linked_at": NOW.isoformat()})
    customers = DynamoCustomerStore(dynamodb_table)
    assert customers.link("x", {**AINO, "followers": 31}, NOW) == "c1"
    assert [(i.user_id, i.followers, i.linked_at) for i in customers.history("c1").identities] == [
        ("u1", 31, NOW.isoformat())]
    other = customers.link("whatsapp", {"id": "358401"}, NOW)
    customers.move("c1", other, customers.moving("c1"))
    assert [i.user_id for i in customers.history(other).identities] == ["358401", "u1"]
    assert customers.history("c1").identities == [] and customers.customer_of("x", "u1") == other


def test_an_edited_profile_stored_before_the_port_reads_whole(dynamodb_table):
    from chalicelib.store import keys
    from chalicelib.store.customers import DynamoCustomerStore

    item = {**keys.customer("c1"), "customer_id": "c1", "name": "Aino K.", "created_at": NOW.isoformat(),
            "identity_count": 2, "version": 3, "tags": ["refund"], "vip": True, "note": "n",
            "updated_by": "a1", "updated_at": NOW.isoformat(), "merged_into": "c2"}
    dynamodb_table.put_item(Item=item)
    touch = {**keys.touchpoint("c1", NOW.isoformat(), "m1"), "ticket_id": "t1"}
    dynamodb_table.put_item(Item=touch)
    history = DynamoCustomerStore(dynamodb_table).history("c1")
    assert {**keys.customer("c1"), **history.customer.to_item()} == item
    assert history.touchpoints == [touch]


# -- touchpoints, events, merges and erasure ---------------------------------------------------------
class People:
    """A CustomerStore with what others write beside it: touchpoints (the MessageStore's, with the
    message) and CRM records (still DynamoStore's)."""

    def __init__(self, customers, put_touchpoint, put_crm, crm):
        self.customers, self.put_touchpoint, self.put_crm, self.crm = customers, put_touchpoint, put_crm, crm


@pytest.fixture(params=["dynamodb", "memory"])
def people(request) -> People:
    from chalicelib.store import keys

    def touch(customer_id, at, message_id, ticket_id):
        return {**keys.touchpoint(customer_id, at, message_id), "ticket_id": ticket_id, "message_id": message_id,
                "channel": "x", "direction": "in", "at": at}

    if request.param == "memory":
        from chalicelib.store.memory import MemoryCustomerStore

        memory = MemoryCustomerStore()
        return People(memory, lambda *a: memory.touchpoints.setdefault(a[0], []).append(touch(*a)),
                      lambda platform, key, record: memory.crm.__setitem__((platform, key), record),
                      lambda platform, key: memory.crm.get((platform, key)))
    from chalicelib.store.customers import DynamoCustomerStore
    from chalicelib.store.items import plain

    table = request.getfixturevalue("dynamodb_table")
    return People(DynamoCustomerStore(table), lambda *a: table.put_item(Item=touch(*a)),
                  lambda platform, key, record: table.put_item(Item={**keys.crm(platform, key), **record}),
                  lambda platform, key: plain(table.get_item(Key=keys.crm(platform, key)).get("Item")))


def _at(minutes: int) -> str:
    return (NOW + timedelta(minutes=minutes)).isoformat()


def test_touchpoints_are_counted_from_a_time_on(people):
    customer_id = people.customers.link("x", AINO, NOW)
    for minutes, message_id in ((0, "m1"), (30, "m2"), (90, "m3")):
        people.put_touchpoint(customer_id, _at(minutes), message_id, "t1")
    assert [people.customers.count_touchpoints(customer_id, _at(m)) for m in (0, 1, 90, 91)] == [3, 2, 1, 0]
    assert people.customers.count_touchpoints("nobody", _at(0)) == 0


def test_the_latest_touchpoints_read_a_page_at_a_time_newest_first(people):
    customer_id = people.customers.link("x", AINO, NOW)
    for minutes in range(5):
        people.put_touchpoint(customer_id, _at(minutes), f"m{minutes}", f"t{minutes % 2}")
    page, cursor = people.customers.latest_touchpoints(customer_id, None, 2)
    assert [t["message_id"] for t in page] == ["m4", "m3"] and page[0]["ticket_id"] == "t0"
    page, cursor = people.customers.latest_touchpoints(customer_id, cursor, 2)
    assert [t["message_id"] for t in page] == ["m2", "m1"]
    page, cursor = people.customers.latest_touchpoints(customer_id, cursor, 2)
    assert ([t["message_id"] for t in page], cursor) == (["m0"], None)
    assert people.customers.latest_touchpoints(customer_id, None, 5)[1] is not None  # full: there may be more
    assert people.customers.latest_touchpoints("nobody", None, 5) == ([], None)


def test_the_profile_alone_has_the_identities_and_no_touchpoint(people):
    survivor, other = _two(people)
    people.customers.move(other, survivor, people.customers.moving(other))
    people.customers.link("whatsapp", {"id": "358401", "name": "Aino K."}, NOW)
    card = people.customers.profile(survivor)
    assert card.customer == people.customers.get(survivor) and card.touchpoints == []
    assert [(i.user_id, i.name) for i in card.identities] == [("358401", "Aino K."), ("u1", "Aino")]
    assert card.identities == people.customers.history(survivor).identities
    with pytest.raises(NotFound):
        people.customers.profile("nobody")


def test_imported_events_read_back_in_time_order_and_an_import_repeats(people):
    customer_id = people.customers.link("x", AINO, NOW)
    call = CustomerEvent(id="crm-2", kind="call", at=_at(60), summary="asked about a refund")
    purchase = CustomerEvent(id="crm-1", kind="purchase", at=_at(0), summary="boots", amount=120, currency="EUR",
                             external_id="crm-1")
    people.customers.put_event(customer_id, call)
    people.customers.put_event(customer_id, purchase)
    people.customers.put_event(customer_id, purchase.model_copy(update={"amount": 99.5}))
    assert people.customers.events(customer_id) == [purchase.model_copy(update={"amount": 99.5}), call]
    assert type(people.customers.events(customer_id)[1].to_item().get("amount", 0)) is int
    assert people.customers.events("nobody") == []


def _two(people) -> tuple[str, str]:
    """Aino on X (ticket t1) and on WhatsApp (tickets t2, t3, a CRM event), not yet known as one."""
    survivor = people.customers.link("x", AINO, NOW)
    other = people.customers.link("whatsapp", {"id": "358401", "name": "Aino"}, NOW)
    people.put_touchpoint(survivor, _at(0), "m1", "t1")
    people.put_touchpoint(other, _at(5), "m2", "t3")
    people.put_touchpoint(other, _at(6), "m3", "t2")
    people.put_touchpoint(other, _at(7), "m4", "t2")
    people.customers.put_event(other, CustomerEvent(id="e1", kind="call", at=_at(1), summary="called"))
    return survivor, other


def test_what_a_merge_would_move(people):
    from chalicelib.store import keys

    _, other = _two(people)
    assert people.customers.moving(other) == Moved(
        identities=[("whatsapp", "358401")],
        touchpoints=[keys.touchpoint(other, _at(m), i)["SK"] for m, i in ((5, "m2"), (6, "m3"), (7, "m4"))],
        events=[keys.customer_event(other, _at(1), "e1")["SK"]], tickets=["t2", "t3"])


def test_a_move_takes_identities_touchpoints_and_events_and_a_move_back_restores_them(people):
    survivor, other = _two(people)
    moved = people.customers.moving(other)
    people.customers.move(other, survivor, moved)
    merged = people.customers.history(survivor)
    assert [(i.platform, i.user_id, i.customer_id) for i in merged.identities] == [
        ("whatsapp", "358401", survivor), ("x", "u1", survivor)]
    assert people.customers.customer_of("whatsapp", "358401") == survivor
    assert [t["message_id"] for t in merged.touchpoints] == ["m1", "m2", "m3", "m4"]
    assert [e.id for e in people.customers.events(survivor)] == ["e1"]
    assert people.customers.count_touchpoints(survivor, _at(0)) == 4
    left = people.customers.history(other)
    assert (left.identities, left.touchpoints, people.customers.events(other)) == ([], [], [])
    assert people.customers.moving(other) == Moved()

    people.customers.move(survivor, other, moved)
    assert people.customers.moving(other) == moved
    assert people.customers.customer_of("whatsapp", "358401") == other
    assert [t["message_id"] for t in people.customers.history(survivor).touchpoints] == ["m1"]
    people.customers.move(survivor, other, moved)  # what is no longer there is skipped
    assert people.customers.moving(other) == moved


def test_a_merge_record_is_kept_and_undone_once(people):
    record = Merge(id="mg1", survivor_id="c1", other_id="c2", by="sam", at=_at(0),
                   moved=Moved(identities=[("whatsapp", "358401")], touchpoints=["TOUCH#x#m2"], tickets=["t2"]))
    people.customers.put_merge(record)
    assert people.customers.get_merge("c1", "mg1") == record
    assert people.customers.get_merge("c2", "mg1") is None and people.customers.get_merge("c1", "mg2") is None
    people.customers.mark_merge_undone("c1", "mg1", "ana", _at(5))
    assert people.customers.get_merge("c1", "mg1") == record.model_copy(update={"undone_at": _at(5),
                                                                                 "undone_by": "ana"})
    with pytest.raises(ConcurrentUpdate):
        people.customers.mark_merge_undone("c1", "mg1", "bo", _at(6))
    assert people.customers.get_merge("c1", "mg1").undone_by == "ana"


def test_erasure_forgets_the_person_and_keeps_the_touchpoints(people):
    survivor, _ = _two(people)
    people.customers.update(survivor, 0, {"tags": ["refund"], "note": "calls back", "vip": True})
    people.customers.put_event(survivor, CustomerEvent(id="e9", kind="email", at=_at(2), summary="wrote"))
    people.put_crm("x", "u1", {"lifetime_value": 900})
    people.put_crm("x", "@aino", {"lifetime_value": 900})
    people.put_crm("whatsapp", "358401", {"lifetime_value": 5})
    for _ in range(2):  # idempotent
        people.customers.erase(survivor, [("x", "u1")], [("x", "u1"), ("x", "@aino")], _at(10), "root")
    profile = people.customers.get(survivor)
    assert (profile.name, profile.erased_at, profile.erased_by, profile.identity_count) == (
        "[erased]", _at(10), "root", 0)
    assert (profile.tags, profile.note, profile.vip, profile.version) == (None, None, None, 1)
    history = people.customers.history(survivor)
    assert history.identities == [] and [t["message_id"] for t in history.touchpoints] == ["m1"]
    assert people.customers.customer_of("x", "u1") is None and people.customers.events(survivor) == []
    assert people.crm("x", "u1") is None and people.crm("x", "@aino") is None
    assert people.crm("whatsapp", "358401")["lifetime_value"] == 5  # not named, so kept


def test_events_and_merges_are_stored_as_the_desk_always_stored_them(dynamodb_table):
    from chalicelib.store import keys
    from chalicelib.store.customers import DynamoCustomerStore

    customers = DynamoCustomerStore(dynamodb_table)
    customers.put_event("c1", CustomerEvent(id="x9", kind="purchase", at=_at(0), summary="boots", amount=12.5,
                                            currency="EUR", external_id="x9"))
    assert dynamodb_table.get_item(Key=keys.customer_event("c1", _at(0), "x9"))["Item"] == {
        **keys.customer_event("c1", _at(0), "x9"), "id": "x9", "kind": "purchase", "at": _at(0),
        "summary": "boots", "amount": Decimal("12.5"), "currency": "EUR", "external_id": "x9"}
    # a merge record stored before the port: identities as lists, undone already
    item = {**keys.customer_merge("c1", "mg1"), "id": "mg1", "survivor_id": "c1", "other_id": "c2",
            "moved": {"identities": [["whatsapp", "358401"]], "touchpoints": ["TOUCH#a#m2"], "events": [],
                      "tickets": ["t2"]}, "by": "sam", "at": _at(0), "undone_at": _at(3), "undone_by": "ana"}
    dynamodb_table.put_item(Item=item)
    record = customers.get_merge("c1", "mg1")
    assert record.moved.identities == [("whatsapp", "358401")] and record.undone_by == "ana"
    dynamodb_table.delete_item(Key=keys.customer_merge("c1", "mg1"))
    customers.put_merge(record)
    assert dynamodb_table.get_item(Key=keys.customer_merge("c1", "mg1"))["Item"] == item
