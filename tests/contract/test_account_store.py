"""The AccountStore contract, on DynamoDB (moto) and in memory alike: what is put is what is read,
first sight registers an account once however many workers meet it, and a patch changes only what
it names, on an account that exists."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest

from chalicelib.aggregates.account import Account
from chalicelib.errors import NotFound

AT = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


def _account(platform="x", account_id="1500", **fields) -> Account:
    return Account.from_item({"platform": platform, "account_id": account_id, "status": "active",
                              "brand": "nordlight", **fields})


# -- get, put, all -----------------------------------------------------------------------------
def test_an_account_put_is_the_account_read_back(accounts):
    assert accounts.get("x", "1500") is None
    full = _account(name="Nordlight (x)", handle="NordlightShop", display_phone_number="+358 40 000 0001", team="nordic", poll=True, human_agent_tag=False,
                    discovered_at=AT.isoformat())
    accounts.put(full)
    assert accounts.get("x", "1500") == full
    assert accounts.get("facebook", "1500") is None  # the platform is part of its name


def test_put_replaces_the_whole_account(accounts):
    accounts.put(_account(team="nordic", poll=True))
    accounts.put(_account(name="Nordlight"))
    again = accounts.get("x", "1500")
    assert (again.name, again.team, again.poll) == ("Nordlight", None, None)


def test_what_is_read_is_a_copy(accounts):
    accounts.put(_account())
    accounts.get("x", "1500").brand = "changed"
    accounts.all()[0].status = "paused"
    assert accounts.get("x", "1500") == _account()


def test_all_lists_one_platform_or_every_platform_in_key_order(accounts):
    for platform, account_id in [("x", "2"), ("facebook", "9"), ("x", "1"), ("api", "default"), ("xx", "5")]:
        accounts.put(_account(platform, account_id))
    assert [(a.platform, a.account_id) for a in accounts.all()] == [
        ("api", "default"), ("facebook", "9"), ("x", "1"), ("x", "2"), ("xx", "5")]
    assert [a.account_id for a in accounts.all("x")] == ["1", "2"]
    assert accounts.all("whatsapp") == []


# -- discovery on first sight ------------------------------------------------------------------
def test_first_sight_registers_a_discovered_account(accounts):
    assert accounts.discover("x", "1599", AT) is True
    assert accounts.get("x", "1599") == Account(platform="x", account_id="1599", status="discovered",
                                                 discovered_at=AT.isoformat())


def test_second_sight_changes_nothing(accounts):
    accounts.discover("x", "1599", AT)
    assert accounts.discover("x", "1599", datetime(2026, 11, 25, tzinfo=timezone.utc)) is False
    assert accounts.get("x", "1599").discovered_at == AT.isoformat()


def test_a_connected_account_is_never_discovered_again(accounts):
    accounts.put(_account(poll=True))
    assert accounts.discover("x", "1500", AT) is False
    assert accounts.get("x", "1500") == _account(poll=True)


def test_racing_workers_register_an_account_once(accounts):
    with ThreadPoolExecutor(max_workers=8) as pool:
        told = list(pool.map(lambda i: accounts.discover("x", "1599", AT), range(8)))
    assert told.count(True) == 1 and len(accounts.all("x")) == 1


# -- patch -------------------------------------------------------------------------------------
def test_an_admin_connects_a_discovered_account(accounts):
    accounts.discover("x", "1599", AT)
    shown = accounts.update("x", "1599", {"status": "active", "brand": "nordlight", "team": "nordic"})
    assert shown == accounts.get("x", "1599") == Account(
        platform="x", account_id="1599", status="active", brand="nordlight", team="nordic",
        discovered_at=AT.isoformat())


def test_a_patch_changes_only_what_it_names_and_a_none_removes(accounts):
    accounts.put(_account(callback_url="https://hooks.example/desk", human_agent_tag=True))
    shown = accounts.update("x", "1500", {"callback_url": None, "name": "Nordlight"})
    assert (shown.callback_url, shown.name, shown.human_agent_tag, shown.brand) == (None, "Nordlight", True,
                                                                                    "nordlight")
    assert accounts.get("x", "1500") == shown


def test_a_patch_of_no_account_is_not_found_and_makes_none(accounts):
    with pytest.raises(NotFound):
        accounts.update("x", "404", {"status": "active"})
    assert accounts.get("x", "404") is None and accounts.all() == []


@pytest.mark.parametrize("changes", [{"account_id": "other"}, {"platform": "facebook"}, {"colour": "red"},
                                     {"status": "deleted"}], ids=["id", "platform", "unknown", "bad-status"])
def test_a_patch_cannot_rename_an_account_or_give_it_what_it_cannot_have(accounts, changes):
    accounts.put(_account())
    with pytest.raises(ValueError):
        accounts.update("x", "1500", changes)
    assert accounts.get("x", "1500") == _account()


# -- DynamoDB only: the stored shape -----------------------------------------------------------
def test_an_item_stored_before_the_port_reads_and_writes_back_unchanged(dynamodb_table):
    # Given an account item as the desk has always stored it (the local stack's seeding)
    from chalicelib.store import keys
    from chalicelib.store.accounts import DynamoAccountStore

    item = {**keys.account("x", "1500"), "platform": "x", "account_id": "1500", "brand": "nordlight",
            "name": "Nordlight Electronics (x)", "status": "active", "handle": "NordlightShop", "poll": True}
    dynamodb_table.put_item(Item=item)
    store = DynamoAccountStore(dynamodb_table)
    # When it is read as an Account and put back
    store.put(store.get("x", "1500"))
    # Then the item is the same, attribute for attribute
    assert dynamodb_table.get_item(Key=keys.account("x", "1500"))["Item"] == item


def test_a_discovered_item_has_the_shape_it_always_had(dynamodb_table):
    from chalicelib.store import keys
    from chalicelib.store.accounts import DynamoAccountStore

    DynamoAccountStore(dynamodb_table).discover("x", "1599", AT)
    assert dynamodb_table.get_item(Key=keys.account("x", "1599"))["Item"] == {
        **keys.account("x", "1599"), "platform": "x", "account_id": "1599", "status": "discovered",
        "discovered_at": AT.isoformat()}


def test_the_poller_cursors_beside_the_accounts_are_not_accounts(dynamodb_table):
    from chalicelib.store import keys
    from chalicelib.store.accounts import DynamoAccountStore

    dynamodb_table.put_item(Item={**keys.poll_cursor("x", "1500"), "since_id": "42"})
    store = DynamoAccountStore(dynamodb_table)
    store.put(_account())
    assert [a.account_id for a in store.all()] == ["1500"] == [a.account_id for a in store.all("x")]
