"""The account use cases on the in-memory AccountStore (fast; the same port the DynamoDB store passes
in tests/contract): an account is discovered once on first sight and connected by an admin's patch,
which names a known platform and account, changes something, and never saves a callback URL into
the desk's own network. The HTTP round trip on moto stays in tests/integration/test_admin_api.py,
the webhook-to-discovery path in tests/integration/test_webhook_to_ticket.py."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from chalicelib.auth import Principal
from chalicelib import admin, pipeline
from chalicelib.aggregates.account import Account
from chalicelib.errors import NotFound
from chalicelib.models import Mention
from chalicelib.store.memory import MemoryAccountStore

AT = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)

ROOT = Principal("root", "admin")  # an admin: every brand


@pytest.fixture
def accounts() -> MemoryAccountStore:
    return MemoryAccountStore()


@pytest.fixture
def discoveries(monkeypatch) -> list:
    pipeline._known_accounts.clear()
    found: list = []
    monkeypatch.setattr(pipeline, "count", lambda name, channel, **props: found.append((name, channel, props)))
    yield found
    pipeline._known_accounts.clear()


def _mention(account_id="1599") -> Mention:
    return Mention.model_validate({"platform": "x", "kind": "tweet", "brand_account_id": account_id,
                                   "external_id": "1850000000000000777", "conversation_id": "1850000000000000777",
                                   "author": {"id": "42", "handle": "someone"}, "text": "hello?", "visibility": "public",
                                   "created_at": AT.isoformat()})


def _patch(**fields) -> admin.AccountPatch:
    return admin.AccountPatch.model_validate(fields)


# -- discovery on first sight ------------------------------------------------------------------
def test_an_unseen_account_is_discovered_once_and_counted_once(accounts, discoveries):
    # When two mentions reach an account the desk never saw
    first = pipeline._account(_mention(), accounts, AT)
    again = pipeline._account(_mention(), accounts, AT)
    # Then it is registered as discovered, with one AccountsDiscovered
    assert first == again == Account(platform="x", account_id="1599", status="discovered",
                                     discovered_at=AT.isoformat())
    assert accounts.all() == [first] and [(n, c) for n, c, _ in discoveries] == [("AccountsDiscovered", "x")]


def test_a_connected_account_gives_its_brand_and_team_and_is_read_once_per_container(accounts, discoveries):
    accounts.put(Account(platform="x", account_id="1599", status="active", brand="nordlight", team="nordic"))
    account = pipeline._account(_mention(), accounts, AT)
    assert (account.brand, account.team) == ("nordlight", "nordic") and discoveries == []
    accounts.update("x", "1599", {"team": "night"})  # read again only by a new container
    assert pipeline._account(_mention(), accounts, AT).team == "nordic"


# -- an admin connects and configures ----------------------------------------------------------
def test_an_admin_connects_a_discovered_account(accounts):
    accounts.discover("x", "1599", AT)
    shown = admin.patch_account(accounts, "x", "1599", _patch(status="active", brand="nordlight", team="nordic"))
    assert shown == {"platform": "x", "account_id": "1599", "brand": "nordlight", "name": None, "status": "active",
                     "handle": None, "human_agent_tag": None, "callback_url": None, "team": "nordic",
                     "discovered_at": AT.isoformat()}
    assert admin.list_accounts(accounts, ROOT) == [shown]


@pytest.mark.parametrize("platform, account_id", [("myspace", "1599"), ("x", "404")], ids=["platform", "account"])
def test_a_patch_of_an_unknown_platform_or_account_is_not_found_and_makes_none(accounts, platform, account_id):
    accounts.discover("x", "1599", AT)
    with pytest.raises(NotFound):
        admin.patch_account(accounts, platform, account_id, _patch(status="active"))
    assert [a.account_id for a in accounts.all()] == ["1599"]


def test_an_empty_patch_is_refused(accounts):
    accounts.discover("x", "1599", AT)
    with pytest.raises(ValueError, match="at least one field"):
        admin.patch_account(accounts, "x", "1599", _patch())


@pytest.mark.parametrize("url", ["https://169.254.169.254/latest/meta-data/", "https://10.0.0.8/hook",
                                 "https://2852039166/hook"])
def test_a_callback_url_into_the_desks_own_network_is_refused_and_not_saved(accounts, url):
    accounts.put(Account(platform="api", account_id="default", status="active"))
    with pytest.raises(ValueError, match="callback_url"):
        admin.patch_account(accounts, "api", "default", _patch(callback_url=url))
    assert accounts.get("api", "default").callback_url is None


def test_the_patch_body_is_checked_before_anything_is_stored(accounts):
    with pytest.raises(ValidationError):
        _patch(callback_url="ftp://nope")
    with pytest.raises(ValidationError):
        _patch(status="deleted")
    with pytest.raises(ValidationError):
        _patch(account_id="other")
