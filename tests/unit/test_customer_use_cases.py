"""The customer profile use cases on the in-memory CustomerStore (fast; the same port the DynamoDB
store passes in tests/contract): the ingest worker's link, an agent's edit of name, tags and note,
VIP a supervisor's, a stale version refused. The view (CRM records, tickets, events) and the HTTP
round trip stay on moto (tests/integration/test_customers.py)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from chalicelib import customers
from chalicelib.auth import Forbidden, Principal
from chalicelib.errors import ConcurrentUpdate, NotFound
from chalicelib.models import Author
from chalicelib.store.memory import MemoryCustomerStore

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
