"""The CustomerStore contract, on DynamoDB (moto) and in memory alike: an identity seen first makes
one customer (however many workers link it at once), a known identity is refreshed and keeps its
customer, and a profile edit is optimistic on its version."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.aggregates.customer import Customer, Identity
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


def test_the_same_user_id_on_another_platform_is_another_customer(customers):
    assert customers.link("x", AINO, NOW) != customers.link("facebook", AINO, NOW)


def test_racing_workers_linking_one_identity_make_one_customer(customers):
    with ThreadPoolExecutor(max_workers=8) as pool:
        linked = set(pool.map(lambda _: customers.link("x", AINO, NOW), range(8)))
    assert len(linked) == 1
    [customer_id] = linked
    assert customers.customer_of("x", "u1") == customer_id
    assert [i.user_id for i in customers.history(customer_id).identities] == ["u1"]


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
def test_link_stores_the_shapes_the_desk_always_stored(dynamodb_table):
    from chalicelib.store import keys
    from chalicelib.store.customers import DynamoCustomerStore

    customer_id = DynamoCustomerStore(dynamodb_table).link("x", AINO, NOW)
    identity = {"platform": "x", "user_id": "u1", "customer_id": customer_id, "name": "Aino", "handle": "aino",
                "followers": 10}
    assert dynamodb_table.get_item(Key=keys.identity("x", "u1"))["Item"] == {**keys.identity("x", "u1"), **identity}
    assert dynamodb_table.get_item(Key=keys.customer(customer_id))["Item"] == {
        **keys.customer(customer_id), "customer_id": customer_id, "name": "Aino", "created_at": NOW.isoformat(),
        "identity_count": 1}
    assert dynamodb_table.get_item(Key=keys.customer_identity(customer_id, "x", "u1"))["Item"] == {
        **keys.customer_identity(customer_id, "x", "u1"), **identity, "linked_at": NOW.isoformat()}


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
