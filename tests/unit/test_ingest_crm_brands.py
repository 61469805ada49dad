"""A CRM record moves a mention's priority only for the brand that imported it (pipeline.priority_context):
another brand's lifetime value, VIP flag or linked identities never reach this brand's ticket or its
priority explanation. Records imported before records named a brand count for every brand."""
from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from chalicelib import pipeline
from chalicelib.classify.priority import DEFAULT_RULES
from chalicelib.models import Mention

AT = datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)


def _store(record: dict, linked: list[dict]):
    customers = SimpleNamespace(customer_of=lambda platform, key: f"cust-{platform}",
                                count_touchpoints=lambda customer_id, since: 1)
    return SimpleNamespace(get_crm=lambda platform, keys: record, crm_linked=lambda ref: linked, customers=customers)


def _mention() -> Mention:
    return Mention.model_validate({"platform": "x", "kind": "tweet", "brand_account_id": "1", "external_id": "9",
                                   "conversation_id": "9", "author": {"id": "42", "handle": "maya"},
                                   "text": "hello?", "visibility": "public", "created_at": AT.isoformat()})


@pytest.mark.parametrize("owner, counted", [("aegean", True), ("nordlight", False), (None, True)])
def test_a_crm_record_counts_only_for_its_brand(owner, counted):
    record = {"lifetime_value": 14200, "vip": True, "crm_ref": "AS-1", **({"brand": owner} if owner else {})}
    linked = [{"platform": "instagram", "key": "@maya", **({"brand": owner} if owner else {})}]
    context = pipeline.priority_context(_mention(), "cust-x", DEFAULT_RULES, _store(record, linked), AT, "aegean")
    assert (context.lifetime_value, context.vip) == ((14200, True) if counted else (0, False))
    assert context.repeat_contacts == (2 if counted else 1)  # the linked identity's contacts, only if counted
