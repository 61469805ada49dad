"""Messenger and Instagram DM customers by name, never by id (issue 15, point 1): the ingest worker
asks the Graph API (the platform sandbox, over HTTP) for a DM author's profile once per identity,
with the account's token from Secrets Manager (moto); a second message of the same person makes no
second call, and a look-up that fails leaves the customer nameless (never held back)."""
from __future__ import annotations

from infra.local import payloads as p
from tests.conftest import TEST_SECRETS
from tests.integration.conftest import GRAPH_IG as IG, GRAPH_PAGE as PAGE  # the `graph` fixture's accounts

PSID, IGSID = "24680000000000011", "17841490000000009"


def _deliver(desk, obj: str, account: str, events: list[dict]) -> None:
    body = p.encode(p.meta_payload(obj, [p.meta_entry(account, messaging=events)]))
    answer = desk.client.http.post("/webhooks/meta", body=body, headers={
        "Content-Type": "application/json", **p.sign_meta(body, TEST_SECRETS["META_APP_SECRET"])})
    assert answer.status_code == 200
    desk.drain(only=("ingest_worker",))


def _ticket_of(desk, mid: str) -> dict:
    from infra.local import stack

    [ticket] = [t for t in stack.ticket_lines(desk.store())
                if any(m.get("platform_message_id") == mid for m in t["messages"])]
    return ticket


def test_a_messenger_customer_gets_the_graph_name_once(graph, desk):
    # Given a Messenger user the Graph API knows by name
    graph.seed_profiles([{"id": PSID, "first_name": "Lina", "last_name": "Haddad"}])
    # When they write twice, in two deliveries
    _deliver(desk, "page", PAGE, [p.messenger_event(PAGE, PSID, "m_1", "Hello, my order is late")])
    _deliver(desk, "page", PAGE, [p.messenger_event(PAGE, PSID, "m_2", "Any news?")])
    # Then the customer, their identity and both messages have the name, never the id
    ticket = _ticket_of(desk, "m_1")
    customers = desk.store().customers
    history = customers.history(ticket["customer_id"])
    assert history.customer.name == "Lina Haddad"
    assert [(i.user_id, i.name) for i in history.identities] == [(PSID, "Lina Haddad")]
    inbound = [m.to_item() for m in desk.store().messages.timeline(ticket["id"]) if m.direction == "in"]
    assert [m["text"] for m in inbound] == ["Hello, my order is late", "Any news?"]
    assert {m["author"]["name"] for m in inbound} == {"Lina Haddad"}
    # And the Graph API was asked once, for the name, with the page's token in the header only
    [request] = graph.requests_to(f"/v21.0/{PSID}")
    assert request["query"]["fields"] == "name,first_name,last_name" and "access_token" not in request["query"]
    assert request["headers"]["Authorization"] == "Bearer page-token-1"


def test_an_instagram_customer_gets_name_and_username(graph, desk):
    graph.seed_profiles([{"id": IGSID, "name": "Lina H", "username": "lina.h"}])
    _deliver(desk, "instagram", IG, [p.ig_dm_event(IG, IGSID, "ig_1", "Do you ship to Oman?")])
    history = desk.store().customers.history(_ticket_of(desk, "ig_1")["customer_id"])
    assert history.customer.name == "Lina H"
    assert [(i.name, i.handle) for i in history.identities] == [("Lina H", "lina.h")]
    [request] = graph.requests_to(f"/v21.0/{IGSID}")
    assert request["query"]["fields"] == "name,username"


def test_a_failed_look_up_keeps_the_customer_nameless_asks_no_more_that_day_then_names_them(graph, desk):
    from datetime import timedelta

    from chalicelib import templates
    from chalicelib.models import utcnow
    from chalicelib.outbound.authors import ASK_AGAIN

    # Given a Messenger user the Graph API does not know yet (no permission, say)
    _deliver(desk, "page", PAGE, [p.messenger_event(PAGE, PSID, "m_1", "Hello?")])
    customer_id = _ticket_of(desk, "m_1")["customer_id"]
    # Then the message is stored, and no template or greeting will ever call them by their id
    assert templates.customer_name(desk.store().customers.history(customer_id)) is None
    # And the failure is noted on the identity: the next messages that day make no call
    customers = desk.store().customers
    assert customers.identity("facebook", PSID).name_asked_at
    graph.seed_profiles([{"id": PSID, "name": "Lina Haddad"}])  # (readable now, but not asked yet)
    _deliver(desk, "page", PAGE, [p.messenger_event(PAGE, PSID, "m_2", "Hello again")])
    _deliver(desk, "page", PAGE, [p.messenger_event(PAGE, PSID, "m_3", "Anyone?")])
    assert len(graph.requests_to(f"/v21.0/{PSID}")) == 1
    assert customers.history(customer_id).customer.name == PSID  # the placeholder, never shown as a name
    # When a day has passed since the failed look-up and they write again
    customers.name_asked("facebook", PSID, utcnow() - ASK_AGAIN - timedelta(minutes=1))
    _deliver(desk, "page", PAGE, [p.messenger_event(PAGE, PSID, "m_4", "Still there?")])
    # Then the platform is asked again, and the customer first seen by id takes the name
    history = customers.history(customer_id)
    assert history.customer.name == "Lina Haddad" and templates.customer_name(history) == "Lina Haddad"
    assert len(graph.requests_to(f"/v21.0/{PSID}")) == 2


def test_the_api_never_gives_a_nameless_customer_their_id_as_a_name(graph, desk):
    import json

    from chalicelib.auth import mint

    # Given a Messenger customer the Graph API could not name
    _deliver(desk, "page", PAGE, [p.messenger_event(PAGE, PSID, "m_1", "Hello?")])
    customer_id = _ticket_of(desk, "m_1")["customer_id"]
    assert desk.store().customers.get(customer_id).name == PSID  # the profile's placeholder
    # When an admin opens the customer
    token = mint("root", "admin", TEST_SECRETS["LOCAL_JWT_SECRET"])
    answer = desk.client.http.get(f"/api/customers/{customer_id}", headers={"Authorization": f"Bearer {token}"})
    # Then the name is unknown (the UI says "Customer"), not the page-scoped id
    assert answer.status_code == 200
    shown = json.loads(answer.body)
    assert shown["name"] is None and [i["user_id"] for i in shown["identities"]] == [PSID]
