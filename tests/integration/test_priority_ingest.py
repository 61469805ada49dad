"""Priority at ingest: the brand's stored rules, CRM customer value, repeated contact across channels."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import crm
from chalicelib.auth import mint
from chalicelib.classify.priority import DEFAULT_RULES
from chalicelib.errors import ConcurrentUpdate
from infra.local import payloads as p
from tests.conftest import TEST_SECRETS
from tests import stored

BRAND_X = "1500000000000000001"
NOW = datetime.now(timezone.utc)


def _tweet(desk, tweet_id, user, text):
    body = p.encode(p.x_tweet_event(BRAND_X, tweet_id, user, text))
    desk.client.http.post("/webhooks/x", body=body, headers={
        "Content-Type": "application/json", **p.sign_x(body, TEST_SECRETS["X_CONSUMER_SECRET"])})
    desk.drain(only=("ingest_worker",))


def _ticket_of(desk, platform_message_id):
    for ticket in desk.store().all_tickets():
        if any(m["platform_message_id"] == platform_message_id for m in stored.messages(desk.store(), ticket["id"])):
            return ticket
    raise AssertionError(platform_message_id)


def _factors(ticket):
    return {f["rule"]: f["points"] for f in ticket["priority_factors"]}


def test_the_influencer_who_just_bought_ten_laptops_tops_the_inbox(desk, tmp_path):
    stored.put_agent(desk.store(), {"id": "ana", "brands": ["aegean", "default", "nordlight"]})  # an agent of the tickets' brands
    # Given a CRM export saying @mayatravels spent 14,000 and bought ten laptops this week
    export = tmp_path / "crm.csv"
    export.write_text("platform,id,lifetime_value,purchases,last_purchase_at,vip\n"
                      f"x,@MayaTravels,14000,10,{(NOW - timedelta(days=3)).isoformat()},no\n")
    records, errors = crm.parse_rows(crm.read_file(export))
    assert errors == [] and crm.import_records(desk.store(), records) == 1
    # When she asks for help publicly, after an anonymous angry complaint
    _tweet(desk, "1890000000000000001", {"id": "61", "name": "anon", "handle": "anon61", "followers": 12},
           "@NordlightShop terrible service, my parcel is late again")
    _tweet(desk, "1890000000000000002", {"id": "62", "name": "Maya", "handle": "mayatravels",
                                         "followers": 250_000, "verified": True},
           "@NordlightShop how do I set up the docking station for the new laptops?")
    # Then her ticket is first in the inbox, and the explanation says why
    token = mint("ana", "agent", TEST_SECRETS["LOCAL_JWT_SECRET"])
    inbox = json.loads(desk.client.http.get("/api/tickets", headers={"Authorization": f"Bearer {token}"}).body)["items"]
    maya = _ticket_of(desk, "1890000000000000002")
    assert inbox[0]["id"] == maya["id"]
    assert _factors(maya)["customer_value"] == 15 and _factors(maya)["recent_purchases"] == 16
    assert {"reach", "verified"} <= set(_factors(maya))


def test_a_brands_stored_rules_are_used_and_their_version_recorded(desk):
    store = desk.store()
    stored.put_account(store, "x", BRAND_X, brand="nordlight", status="active")
    rules = {**DEFAULT_RULES.model_dump(), "topic": {**DEFAULT_RULES.topic, "delivery": 30}}
    assert store.put_rules("nordlight", rules, expected_version=0, author="sam", now=NOW) == 1
    _tweet(desk, "1890000000000000003", {"id": "63", "name": "Li"}, "@NordlightShop where is my parcel? delivery late")
    ticket = _ticket_of(desk, "1890000000000000003")
    assert _factors(ticket)["topic:delivery"] == 30
    [message] = stored.messages(store, ticket["id"])
    assert message["priority_rules_version"] == 1


def test_saving_rules_over_a_newer_version_is_refused(desk):
    store = desk.store()
    rules = DEFAULT_RULES.model_dump()
    store.put_rules("aegean", rules, expected_version=0, author="sam", now=NOW)
    store.put_rules("aegean", rules, expected_version=1, author="ana", now=NOW)
    with pytest.raises(ConcurrentUpdate):
        store.put_rules("aegean", rules, expected_version=1, author="sam", now=NOW)  # stale
    assert [h["rules"]["version"] for h in store.rules_history("aegean")] == [1, 2]
    assert store.get_rules("aegean")["rules"]["version"] == 2


def test_contacts_on_other_channels_linked_by_the_crm_count_as_repeated_contact(desk):
    # Given the CRM knows one customer as a WhatsApp number and an X handle
    records, _ = crm.parse_rows([{"platform": "whatsapp", "id": "+358 40 555 0101", "crm_ref": "C-77"},
                                 {"platform": "x", "id": "@kaisa_k", "crm_ref": "C-77"}])
    crm.import_records(desk.store(), records)
    # And she wrote on WhatsApp first
    body = p.encode(p.meta_payload("whatsapp_business_account", [p.meta_entry("WABA", changes=[
        p.wa_message_change("109000000000001", "358405550101", "Kaisa", "wamid.K1", text="Tilaus on myöhässä")])]))
    desk.client.http.post("/webhooks/meta", body=body, headers={
        "Content-Type": "application/json", **p.sign_meta(body, TEST_SECRETS["META_APP_SECRET"])})
    desk.drain(only=("ingest_worker",))
    # When she then complains on X
    _tweet(desk, "1890000000000000004", {"id": "64", "name": "Kaisa", "handle": "kaisa_k"},
           "@NordlightShop still no answer about my order")
    # Then the X ticket counts the WhatsApp contact
    assert _factors(_ticket_of(desk, "1890000000000000004"))["repeat_contacts"] == 4


def test_a_bad_crm_row_is_named_and_nothing_is_imported(tmp_path):
    rows = [{"platform": "x", "id": "@ok"}, {"platform": "myspace", "id": "1"}, {"platform": "x", "id": ""}]
    records, errors = crm.parse_rows(rows)
    assert [e.split(":")[0] for e in errors] == ["row 2", "row 3"]


def test_the_crm_import_records_the_brand_whose_export_it_is(desk, tmp_path, capsys):
    export = tmp_path / "crm.csv"
    export.write_text("platform,id,lifetime_value,vip\nx,@brandsown,700,yes\n", encoding="utf-8")
    with pytest.raises(SystemExit):  # the command line names the brand, always
        crm.main(["import", str(export)])
    assert "--brand" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        crm.main(["import", str(export), "--brand", "Not A Brand"])
    assert desk.store().get_crm("x", ["@brandsown"]) is None
    assert crm.main(["import", str(export), "--brand", "nordlight"]) == 0
    record = desk.store().get_crm("x", ["@brandsown"])
    assert record["brand"] == "nordlight" and record["lifetime_value"] == 700


def test_the_demo_seed_ships_default_rules_per_brand_and_crm_records(desk):
    from infra.local import demo

    result = demo.seed(desk.store())
    assert result["rules"] == 2 and result["crm_records"] == len(demo.CRM)
    assert desk.store().get_rules("nordlight")["rules"]["version"] == 1
    demo.seed(desk.store())  # seeding again keeps the brand's edited rules
    assert [h["rules"]["version"] for h in desk.store().rules_history("nordlight")] == [1]
    assert desk.store().get_crm("x", ["@mayatravels"])["vip"] is True


def test_the_demo_seed_turns_the_brands_surveys_on_and_keeps_a_brands_own_choice(desk):
    from chalicelib import surveys
    from chalicelib.channels import registry
    from infra.local import demo

    store = desk.store()
    assert demo.seed(store)["surveys"] == 2
    assert all(surveys.enabled(store, brand, c) for brand in demo.BRANDS for c in registry.ids())
    current = store.get_settings(surveys.survey_document("aegean"))
    store.put_settings(surveys.survey_document("aegean"), {**current, "channels": {"x": False}}, "sam")
    assert demo.seed(store)["surveys"] == 0  # seeding again: a brand's saved settings stand
    assert not surveys.enabled(store, "aegean", "x") and surveys.enabled(store, "nordlight", "x")


def test_admins_edit_rules_through_the_api_with_optimistic_concurrency(desk):
    stored.put_agent(desk.store(), {"id": "ana", "brands": ["aegean", "default", "nordlight"]})  # an agent of the tickets' brands
    admin = {"Authorization": "Bearer " + mint("sam", "admin", TEST_SECRETS["LOCAL_JWT_SECRET"]),
             "Content-Type": "application/json"}
    agent = {"Authorization": "Bearer " + mint("ana", "agent", TEST_SECRETS["LOCAL_JWT_SECRET"]),
             "Content-Type": "application/json"}
    current = json.loads(desk.client.http.get("/api/rules/nordlight", headers=agent).body)["rules"]
    assert current["version"] == 0  # shipped defaults
    edited = {**current, "vip": 30}
    assert desk.client.http.put("/api/rules/nordlight", headers=agent, body=json.dumps(edited)).status_code == 403
    saved = desk.client.http.put("/api/rules/nordlight", headers=admin, body=json.dumps({"rules": edited}))
    assert saved.status_code == 200 and json.loads(saved.body)["rules"]["vip"] == 30
    stale = desk.client.http.put("/api/rules/nordlight", headers=admin, body=json.dumps({"rules": edited}))
    assert stale.status_code == 409
    bad = desk.client.http.put("/api/rules/nordlight", headers=admin,
                               body=json.dumps({"rules": {**edited, "version": 1, "vip": 500}}))
    assert bad.status_code == 400 and "vip" in json.loads(bad.body)["error"]
