"""Customers through the API: the whole history on one screen, edit, merge and undo, CRM events, erasure."""
from __future__ import annotations

import json

import pytest

from chalicelib.auth import mint
from infra.local import payloads as p
from tests.conftest import TEST_SECRETS
from tests import stored

BRAND_X, WA = "1500000000000000001", "109000000000001"


def _auth(agent="ana", role="agent"):
    return {"Authorization": f"Bearer {mint(agent, role, TEST_SECRETS['LOCAL_JWT_SECRET'])}",
            "Content-Type": "application/json"}


def _call(desk, method, path, body=None, role="agent"):
    answer = getattr(desk.client.http, method)(path, headers=_auth(role=role), body=json.dumps(body or {}))
    return answer.status_code, json.loads(answer.body or b"null")


@pytest.fixture
def two_profiles(desk):
    stored.put_agent(desk.store(), {"id": "ana", "brands": ["aegean", "default", "nordlight"]})  # an agent of the tickets' brands
    """Maya wrote on X and on WhatsApp: two profiles until an agent links them."""
    from chalicelib import crm

    tweet = p.encode(p.x_tweet_event(BRAND_X, "1850000000000000201", {"id": "77", "name": "Maya", "handle": "mayatravels",
                                                                       "followers": 52000}, "@AegeanSkies my flight was cancelled!"))
    desk.client.http.post("/webhooks/x", body=tweet, headers={
        "Content-Type": "application/json", **p.sign_x(tweet, TEST_SECRETS["X_CONSUMER_SECRET"])})
    wa = p.encode(p.meta_payload("whatsapp_business_account", [p.meta_entry("waba", changes=[
        p.wa_message_change(WA, "306900000001", "Maya K", "wamid.M1", text="Any news about my refund? Booking AX12")])]))
    desk.client.http.post("/webhooks/meta", body=wa, headers={
        "Content-Type": "application/json", **p.sign_meta(wa, TEST_SECRETS["META_APP_SECRET"])})
    desk.drain(only=("ingest_worker",))
    tickets = {t["channel"]: t for t in desk.store().all_tickets()}
    records, errors = crm.parse_rows([{"platform": "x", "id": "@mayatravels", "lifetime_value": 14200, "vip": True}])
    assert not errors
    crm.import_records(desk.store(), records, tickets["x"]["brand"])  # the CRM of the brand she wrote to
    return desk, tickets["x"], tickets["whatsapp"]


def test_a_customer_shows_identities_crm_value_and_tickets(two_profiles):
    desk, x, _ = two_profiles
    status, customer = _call(desk, "get", f"/api/customers/{x['customer_id']}")
    assert status == 200
    assert [(i["platform"], i["handle"], i["followers"]) for i in customer["identities"]] == [("x", "mayatravels", 52000)]
    assert customer["lifetime_value"] == 14200 and customer["vip"] is True
    assert [t["id"] for t in customer["tickets"]] == [x["id"]]
    # and the ticket view carries the same panel
    shown = json.loads(desk.client.http.get(f"/api/tickets/{x['id']}", headers=_auth()).body)
    assert shown["customer"]["vip"] is True and shown["customer"]["lifetime_value"] == 14200


def test_the_view_is_a_page_of_the_latest_touchpoints_with_a_cursor(two_profiles):
    from urllib.parse import quote

    desk, x, _ = two_profiles
    path = f"/api/customers/{x['customer_id']}"
    status, customer = _call(desk, "get", path)
    assert status == 200 and customer["next"] is None and len(customer["touchpoints"]) == 1
    status, older = _call(desk, "get", f"{path}?cursor={quote('TOUCH#9999-12-31T00:00:00+00:00#m')}")
    assert status == 200 and older["touchpoints"] == customer["touchpoints"] and older["tickets"] == customer["tickets"]
    touch, _ = desk.store().customers.latest_touchpoints(x["customer_id"], None, 5)
    status, oldest = _call(desk, "get", f"{path}?cursor={quote(touch[0]['SK'])}")
    assert status == 200 and (oldest["touchpoints"], oldest["tickets"], oldest["next"]) == ([], [], None)
    assert _call(desk, "get", f"{path}?cursor=PROFILE")[0] == 400


def test_edit_is_optimistic(two_profiles):
    desk, x, _ = two_profiles
    path = f"/api/customers/{x['customer_id']}"
    status, edited = _call(desk, "patch", path, {"version": 0, "name": "Maya Katsaros", "tags": ["Frequent Flyer"]})
    assert status == 200 and edited["name"] == "Maya Katsaros" and edited["tags"] == ["frequent flyer"]
    assert edited["version"] == 1
    assert _call(desk, "patch", path, {"version": 0, "name": "Someone else"})[0] == 409


def test_vip_feeds_priority_so_only_a_supervisor_sets_it(two_profiles):
    desk, _, wa = two_profiles
    path = f"/api/customers/{wa['customer_id']}"
    # An agent may not make a customer VIP (it raises every ticket of theirs), and nothing changes
    assert _call(desk, "patch", path, {"version": 0, "vip": True})[0] == 403
    assert _call(desk, "get", path)[1]["vip"] in (None, False)
    # A supervisor may
    status, edited = _call(desk, "patch", path, {"version": 0, "vip": True}, role="supervisor")
    assert status == 200 and edited["vip"] is True


def test_merge_brings_every_channel_together_and_undo_restores_both(two_profiles):
    desk, x, wa = two_profiles
    survivor, other = x["customer_id"], wa["customer_id"]
    assert _call(desk, "post", f"/api/customers/{survivor}/merge", {"other_id": other})[0] == 403  # agents may not
    status, merged = _call(desk, "post", f"/api/customers/{survivor}/merge", {"other_id": other}, role="supervisor")
    assert status == 200
    customer = merged["customer"]
    assert sorted(i["platform"] for i in customer["identities"]) == ["whatsapp", "x"]
    assert sorted(t["id"] for t in customer["tickets"]) == sorted([x["id"], wa["id"]])
    assert stored.ticket(desk.store(), wa["id"])["customer_id"] == survivor
    assert desk.store().customers.customer_of("whatsapp", "306900000001") == survivor
    # the next WhatsApp message links to the merged profile
    assert _call(desk, "get", f"/api/customers/{other}")[1]["customer_id"] == survivor
    # undo puts everything back where it was
    status, undone = _call(desk, "post", f"/api/customers/{survivor}/merges/{merged['merge']['id']}/undo",
                           role="supervisor")
    assert status == 200
    assert [i["platform"] for i in undone["survivor"]["identities"]] == ["x"]
    assert [i["platform"] for i in undone["restored"]["identities"]] == ["whatsapp"]
    assert stored.ticket(desk.store(), wa["id"])["customer_id"] == other
    assert desk.store().customers.customer_of("whatsapp", "306900000001") == other
    again = _call(desk, "post", f"/api/customers/{survivor}/merges/{merged['merge']['id']}/undo", role="supervisor")
    assert again[0] == 404
    assert _call(desk, "post", f"/api/customers/{survivor}/merge", {"other_id": survivor}, role="supervisor")[0] == 400


def test_crm_events_join_the_timeline(two_profiles):
    desk, x, _ = two_profiles
    events = {"events": [{"kind": "purchase", "at": "2026-11-01T10:00:00+00:00", "summary": "Flight ATH-HEL",
                          "amount": 420.0, "currency": "EUR", "external_id": "order-9"},
                         {"kind": "call", "at": "2026-11-20T08:30:00+00:00", "summary": "Called about refund"}],
              "brand": x["brand"]}  # the supervisor works for three brands: she names the one
    assert _call(desk, "post", f"/api/customers/{x['customer_id']}/events", events)[0] == 403
    status, answer = _call(desk, "post", f"/api/customers/{x['customer_id']}/events", events, role="supervisor")
    assert status == 201 and answer == {"imported": 2}
    customer = _call(desk, "get", f"/api/customers/{x['customer_id']}")[1]
    assert [e["kind"] for e in customer["events"]] == ["purchase", "call"]
    bad = _call(desk, "post", f"/api/customers/{x['customer_id']}/events",
                {"events": [{"kind": "purchase", "at": "yesterday", "summary": "x"}]}, role="supervisor")
    assert bad[0] == 400 and "at" in bad[1]["error"]


def test_erasure_removes_the_person_and_keeps_anonymous_statistics(two_profiles):
    desk, x, _ = two_profiles
    path = f"/api/customers/{x['customer_id']}/erase"
    assert _call(desk, "post", path, role="supervisor")[0] == 403
    status, report = _call(desk, "post", path, role="admin")
    assert status == 200 and report["messages_redacted"] == 1 and report["identities_removed"] == 1
    store = desk.store()
    ticket = stored.ticket(store, x["id"])
    assert ticket["last_message_preview"] == "[erased]" and ticket["channel"] == "x"
    assert ticket["classification"]["sentiment"]  # the statistics stay
    [message] = stored.messages(store, x["id"])
    assert message["text"] == "[erased]" and message["author"] == {"id": "[erased]"}
    assert store.customers.customer_of("x", "77") is None
    assert store.get_crm("x", ["@mayatravels"]) is None
    customer = _call(desk, "get", f"/api/customers/{x['customer_id']}")[1]
    assert customer["name"] == "[erased]" and customer["identities"] == [] and customer["erased_at"]
    everything = json.dumps(store.table.scan()["Items"], default=str)
    assert "mayatravels" not in everything and "flight was cancelled" not in everything
    assert _call(desk, "post", path, role="admin")[0] == 200  # idempotent
