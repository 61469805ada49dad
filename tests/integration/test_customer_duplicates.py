"""Suspected duplicates of a customer (issue 15, point 6): another profile with the same email,
phone or handle on another channel, found by a bounded lookup (identity pointers for addresses,
the brand's search index for handles), only the caller's to see; merged from there, and undone.

Given Maya on X (@mayatravels), on Instagram (@MayaTravels), on WhatsApp (+30 690 000 0001), on the
API channel (id 306900000001) and by email (maya@example.com) — five profiles — and Mayor Tom on
Facebook with another handle, when an agent asks for the X profile's duplicates, then the Instagram
one is suspected by its handle; the WhatsApp one's duplicates name the API profile by its phone."""
from __future__ import annotations

import json

import pytest

from chalicelib import customers
from chalicelib.auth import mint
from chalicelib.models import utcnow
from chalicelib.store import keys
from infra.local import stack
from tests import stored
from tests.conftest import TEST_SECRETS

NOW = utcnow().replace(microsecond=0)


def _auth(agent="ana", role="agent"):
    return {"Authorization": f"Bearer {mint(agent, role, TEST_SECRETS['LOCAL_JWT_SECRET'])}",
            "Content-Type": "application/json"}


def _call(desk, method, path, body=None, agent="ana", role="agent"):
    answer = getattr(desk.client.http, method)(path, headers=_auth(agent, role), body=json.dumps(body or {}))
    return answer.status_code, json.loads(answer.body or b"null")


def _person(desk, platform: str, author: dict, ticket_id: str, brand="nordlight") -> str:
    """A profile linked as the ingest links it, with one ticket of `brand` and its touchpoint."""
    store = desk.store()
    customer_id = store.customers.link(platform, author, NOW)
    at = NOW.isoformat()
    handle = author.get("handle") or author.get("username") or ""
    store.table.put_item(Item={**keys.ticket(ticket_id), "id": ticket_id, "brand": brand, "channel": platform,
                               "status": "open", "priority": 10, "version": 1, "created_at": at,
                               "first_inbound_at": at, "customer_id": customer_id,
                               "last_message_preview": "where is my refund",
                               "search_text": f"where is my refund {author.get('name', '')} {handle}".lower()})
    store.table.put_item(Item=keys.brand_entry(brand))
    store.table.put_item(Item={**keys.touchpoint(customer_id, at, f"m-{ticket_id}"), "ticket_id": ticket_id,
                               "message_id": f"m-{ticket_id}", "channel": platform, "direction": "in", "at": at})
    return customer_id


@pytest.fixture
def people(desk):
    stored.put_agent(desk.store(), {"id": "ana", "brands": ["nordlight"]})
    stored.put_agent(desk.store(), {"id": "olli", "brands": ["other"]})
    ids = {
        "x": _person(desk, "x", {"id": "77", "name": "Maya", "handle": "mayatravels"}, "t-x"),
        "instagram": _person(desk, "instagram", {"id": "801", "name": "Maya K", "handle": "MayaTravels"}, "t-ig"),
        "whatsapp": _person(desk, "whatsapp", {"id": "306900000001", "name": "Maya K"}, "t-wa"),
        "api": _person(desk, "api", {"id": "+306900000001", "name": "Maya"}, "t-api"),
        "email": _person(desk, "email", {"id": "maya@example.com", "name": "Maya Katsaros"}, "t-mail"),
        "api_mail": _person(desk, "api", {"id": "Maya@Example.com", "name": "Maya"}, "t-api2"),
        "tom": _person(desk, "facebook", {"id": "9001", "name": "Mayor Tom", "handle": "mayortom"}, "t-fb"),
        # the same handle at another brand: never suspected for nordlight's agent
        "elsewhere": _person(desk, "facebook", {"id": "9002", "name": "Maya", "handle": "mayatravels"}, "t-o",
                             brand="other"),
    }
    arn = desk.store().table.meta.client.describe_table(TableName="social-care-desk")["Table"]["LatestStreamArn"]
    desk.handlers.ticket_stream(stack.stream_event(desk.ticket_stream_records(), arn), stack.LambdaContext("ticket_stream"))
    return desk, ids


def test_the_same_handle_on_another_channel_is_suspected_within_the_callers_brands(people):
    desk, ids = people
    status, found = _call(desk, "get", f"/api/customers/{ids['x']}/duplicates")
    assert status == 200
    assert [(s["customer_id"], s["reasons"]) for s in found["items"]] == [(ids["instagram"], ["same handle @mayatravels"])]
    assert found["items"][0]["identities"] == [{"platform": "instagram", "handle": "MayaTravels", "name": "Maya K"}]
    # an admin sees every brand: the other brand's Maya too
    status, every = _call(desk, "get", f"/api/customers/{ids['x']}/duplicates", agent="root", role="admin")
    assert {s["customer_id"] for s in every["items"]} == {ids["instagram"], ids["elsewhere"]}
    # the other brand's agent cannot even ask about nordlight's customer
    assert _call(desk, "get", f"/api/customers/{ids['x']}/duplicates", agent="olli")[0] == 404


def test_the_same_phone_or_email_on_another_channel_is_suspected(people):
    desk, ids = people
    phone = customers.duplicates(desk.store(), ids["whatsapp"], _principal())
    assert [(s["customer_id"], s["reasons"]) for s in phone["items"]] == [(ids["api"], ["same phone 306900000001"])]
    # an address is looked up as written and lower-cased (the email channel's ids are)
    mail = customers.duplicates(desk.store(), ids["api_mail"], _principal())
    assert [(s["customer_id"], s["reasons"]) for s in mail["items"]] == [(ids["email"], ["same email maya@example.com"])]
    assert customers.duplicates(desk.store(), ids["tom"], _principal()) == {"items": []}


def test_merge_from_the_suspects_then_undo_and_the_suspect_returns(people):
    desk, ids = people
    assert _call(desk, "post", f"/api/customers/{ids['x']}/merge", {"other_id": ids["instagram"]})[0] == 403
    stored.put_agent(desk.store(), {"id": "sam", "brands": ["nordlight"], "role": "supervisor"})
    status, merged = _call(desk, "post", f"/api/customers/{ids['x']}/merge", {"other_id": ids["instagram"]},
                           agent="sam", role="supervisor")
    assert status == 200, merged
    assert _call(desk, "get", f"/api/customers/{ids['x']}/duplicates")[1] == {"items": []}  # merged away
    status, _ = _call(desk, "post", f"/api/customers/{ids['x']}/merges/{merged['merge']['id']}/undo",
                      agent="sam", role="supervisor")
    assert status == 200
    assert [s["customer_id"] for s in _call(desk, "get", f"/api/customers/{ids['x']}/duplicates")[1]["items"]] == [
        ids["instagram"]]


def _principal():
    from chalicelib.auth import Principal

    return Principal(agent_id="ana", role="agent", brands=frozenset({"nordlight"}))
