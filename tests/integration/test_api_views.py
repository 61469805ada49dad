"""No API answer carries a raw storage item: every route's JSON is walked, recursively, for keys
that belong to the table (`PK`, `SK`, `GSI*`), to the search index (`search_text`), to TTLs or to
the outbound worker's lease (`attempt_token`).

The route list is read from the app itself: a new /api route without a call here fails the first
test, so it cannot slip through unwalked. The desk is seeded so that every aggregate has the
internal keys it can have (a reply in flight sits in GSI1, a CRM record in its CRMREF index, a
ticket has search_text), and the calls run in an order that leaves every answer non-empty.
"""
from __future__ import annotations

import json

import pytest

from chalicelib.auth import mint
from infra.local import demo
from infra.local import payloads as p
from tests.conftest import TEST_SECRETS
from chalicelib.aggregates.team import Team
from tests import stored

BRAND_X, WA, API_CHANNEL = "1500000000000000001", "109000000000001", "nordlight-web"
INTERNAL = {"PK", "SK", "search_text", "ttl", "TTL", "expires_at", "attempt_token", "callback_secret"}


def internal_keys(value, where="$") -> list[str]:
    """Every path in a JSON document whose key is internal to the store."""
    found = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in INTERNAL or key.upper().startswith("GSI"):
                found.append(f"{where}.{key}")
            found += internal_keys(inner, f"{where}.{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += internal_keys(inner, f"{where}[{index}]")
    return found


def test_the_walker_finds_keys_at_any_depth():
    assert internal_keys({"a": [{"b": {"GSI1PK": 1}}], "PK": 2, "x": {"search_text": ""}}) == [
        "$.a[0].b.GSI1PK", "$.PK", "$.x.search_text"]
    assert internal_keys({"items": [{"id": "t", "tags": ["PK"]}]}) == []  # values are not keys


class Api:
    def __init__(self, desk):
        self.desk = desk
        self.seen: dict[tuple[str, str], list] = {}

    def call(self, method: str, route: str, path: str, body=None, role="admin", agent="sam"):
        headers = {"Authorization": f"Bearer {mint(agent, role, TEST_SECRETS['LOCAL_JWT_SECRET'])}",
                   "Content-Type": "application/json"}
        if body is None and method in ("POST", "PUT", "PATCH"):
            body = {}
        answer = self.desk.client.http.request(method, path, headers=headers,
                                               body=json.dumps(body).encode() if body is not None else b"")
        assert answer.status_code < 400, (method, path, answer.status_code, answer.body)
        data = json.loads(answer.body) if answer.body else None
        self.seen.setdefault((method, route), []).append(data)
        return data


@pytest.fixture
def seeded(desk):
    """Agents, a team, a template, accounts, two profiles of one customer (X and WhatsApp) with a
    CRM record indexed by crm_ref, and an X ticket."""
    from chalicelib import crm

    store = desk.store()
    for agent in demo.AGENTS:
        stored.put_agent(store, {**agent, "status": "offline", "capacity": 10, "load": 0})
    store.teams.put(Team(id="care", name="Care"))
    store.put_template({"id": "greet", "name": "Greeting", "variants": {"en": "Hi {{customer.name}}"},
                        "default_language": "en"}, expected_version=0)
    stored.put_account(store, "x", BRAND_X, status="active", brand="nordlight")
    stored.put_account(store, "whatsapp", WA, status="active", brand="nordlight")
    stored.put_account(store, "api", API_CHANNEL, status="active", brand="nordlight",
                      callback_url="https://hooks.nordlight.example/replies")
    tweet = p.encode(p.x_tweet_event(BRAND_X, "1850000000000000201", {"id": "77", "name": "Maya",
                                                                       "handle": "mayatravels", "followers": 52000},
                                     "@NordlightShop my lamp arrived broken"))
    desk.client.http.post("/webhooks/x", body=tweet, headers={
        "Content-Type": "application/json", **p.sign_x(tweet, TEST_SECRETS["X_CONSUMER_SECRET"])})
    wa = p.encode(p.meta_payload("whatsapp_business_account", [p.meta_entry("waba", changes=[
        p.wa_message_change(WA, "306900000001", "Maya K", "wamid.M1", text="Any news about my refund?")])]))
    desk.client.http.post("/webhooks/meta", body=wa, headers={
        "Content-Type": "application/json", **p.sign_meta(wa, TEST_SECRETS["META_APP_SECRET"])})
    desk.drain(only=("ingest_worker",))
    records, errors = crm.parse_rows([{"platform": "x", "id": "@mayatravels", "crm_ref": "C-77",
                                       "lifetime_value": 14200, "vip": True}])
    assert not errors
    crm.import_records(store, records)
    tickets = {t["channel"]: t for t in store.all_tickets()}
    assert stored.ticket(store, tickets["x"]["id"]).get("search_text")  # the item has what must not leak
    return desk, tickets["x"], tickets["whatsapp"]


def _api_routes() -> set[tuple[str, str]]:
    import app

    return {(m, path) for path, methods in app.app.routes.items() if path.startswith("/api")
            for m in methods} - {("GET", "/api/health")}


def test_every_routes_answer_is_free_of_storage_keys(seeded):
    desk, x, wa = seeded
    api, store = Api(desk), desk.store()
    tid, cid, other = x["id"], x["customer_id"], wa["customer_id"]
    t = f"/api/tickets/{tid}"

    def version():
        return stored.ticket(store, tid)["version"]

    api.call("GET", "/api/openapi.json", "/api/openapi.json")
    api.call("GET", "/api/channels", "/api/channels")
    api.call("GET", "/api/tickets", "/api/tickets")
    [inbound] = [m for m in stored.messages(store, tid) if m["direction"] == "in"]
    api.call("POST", "/api/tickets/{ticket_id}/corrections", f"{t}/corrections",
             {"message_id": inbound["id"], "sentiment": "negative"})
    reply = api.call("POST", "/api/tickets/{ticket_id}/replies", f"{t}/replies",
                     {"text": "Sorry about the lamp!", "visibility": "public"})
    assert reply["status"] == "queued"  # in flight: its item sits in GSI1 until sent
    # issue 16: nordlight's public replies on X wait for approval; one approved, one rejected
    api.call("PUT", "/api/approval-rules/{brand}", "/api/approval-rules/nordlight", {"version": 0, "rules": {
        "channels": ["x"]}}, role="supervisor")
    api.call("GET", "/api/approval-rules", "/api/approval-rules", role="supervisor")
    held = [api.call("POST", "/api/tickets/{ticket_id}/replies", f"{t}/replies",
                     {"text": text, "visibility": "public"}, role="agent", agent="ana") for text in ("One", "Two")]
    assert [h["status"] for h in held] == ["pending_approval", "pending_approval"]
    assert len(api.call("GET", "/api/approvals", "/api/approvals", role="supervisor")["items"]) == 2
    approved = api.call("POST", "/api/approvals/{message_id}/approve", f"/api/approvals/{held[0]['id']}/approve",
                        {}, role="supervisor")
    assert approved["status"] == "queued"  # in flight again (GSI2), which the answer must not show
    api.call("POST", "/api/approvals/{message_id}/reject", f"/api/approvals/{held[1]['id']}/reject",
             {"reason": "Not like this"}, role="supervisor")
    api.call("POST", "/api/tickets/{ticket_id}/notes", f"{t}/notes", {"text": "Customer called too"})
    api.call("POST", "/api/tickets/{ticket_id}/presence", f"{t}/presence", {"state": "typing"})  # issue 16
    api.call("POST", "/api/tickets/{ticket_id}/claim", f"{t}/claim", {"version": version()})
    api.call("PATCH", "/api/tickets/{ticket_id}", t, {"version": version(), "tags": ["lamp"], "priority": 90})
    api.call("GET", "/api/tickets/{ticket_id}", t)
    api.call("GET", "/api/tickets/{ticket_id}/templates", f"{t}/templates")
    api.call("GET", "/api/tickets/{ticket_id}/suggestions", f"{t}/suggestions")
    api.call("POST", "/api/tickets/{ticket_id}/done", f"{t}/done", {"version": version(), "reason": "other"})
    api.call("POST", "/api/tickets/{ticket_id}/csat", f"{t}/csat", {"score": 4})
    api.call("POST", "/api/tickets/bulk", "/api/tickets/bulk",
             {"ticket_ids": [wa["id"]], "action": "assign", "assignee": "ana"})
    api.call("GET", "/api/agents/me/status", "/api/agents/me/status")
    api.call("PUT", "/api/agents/me/status", "/api/agents/me/status", {"status": "away"})
    api.call("GET", "/api/templates", "/api/templates")
    api.call("PUT", "/api/templates/{template_id}", "/api/templates/greet",
             {"name": "Greeting", "variants": {"en": "Hello {{customer.name}}"}, "version": 1})
    api.call("GET", "/api/agents", "/api/agents")
    api.call("PUT", "/api/agents/{agent_id}", "/api/agents/ana", {"name": "Ana P.", "languages": ["en", "el"]})
    api.call("GET", "/api/teams", "/api/teams")
    api.call("PUT", "/api/teams/{team_id}", "/api/teams/care", {"name": "Customer care"})
    api.call("GET", "/api/queues", "/api/queues")
    api.call("GET", "/api/accounts", "/api/accounts")
    api.call("PATCH", "/api/accounts/{platform}/{account_id}", f"/api/accounts/x/{BRAND_X}", {"name": "Nordlight"})
    api.call("GET", "/api/settings/{name}", "/api/settings/sla")
    sla = api.seen[("GET", "/api/settings/{name}")][0]
    api.call("PUT", "/api/settings/{name}", "/api/settings/sla", sla)
    api.call("GET", "/api/reply-settings", "/api/reply-settings")
    api.call("GET", "/api/brands/{brand}/replies", "/api/brands/nordlight/replies", role="supervisor")
    api.call("PUT", "/api/brands/{brand}/replies", "/api/brands/nordlight/replies",
             {"after_reply": "pending", "version": api.seen[("GET", "/api/brands/{brand}/replies")][0]["version"]},
             role="supervisor")
    # issue 16, point 4: the brand's CSAT survey settings
    api.call("PUT", "/api/brands/{brand}/surveys", "/api/brands/nordlight/surveys",
             {"version": 0, "channels": {"whatsapp": True}}, role="supervisor")
    api.call("GET", "/api/brands/{brand}/surveys", "/api/brands/nordlight/surveys", role="supervisor")
    api.call("GET", "/api/surveys", "/api/surveys", role="supervisor")
    api.call("GET", "/api/rules/{brand}", "/api/rules/nordlight")
    rules = api.seen[("GET", "/api/rules/{brand}")][0]["rules"]
    api.call("PUT", "/api/rules/{brand}", "/api/rules/nordlight", {"rules": rules})
    api.call("GET", "/api/reports/summary", "/api/reports/summary")
    api.call("GET", "/api/reports/tickets", "/api/reports/tickets?channel=x")
    api.call("GET", "/api/reports/staffing", "/api/reports/staffing?days=30")
    api.call("GET", "/api/customers/{customer_id}", f"/api/customers/{cid}")
    customer = api.seen[("GET", "/api/customers/{customer_id}")][0]
    api.call("GET", "/api/customers/{customer_id}/duplicates", f"/api/customers/{cid}/duplicates")
    assert customer["crm"] and customer["identities"] and customer["touchpoints"]  # nested items to walk
    api.call("PATCH", "/api/customers/{customer_id}", f"/api/customers/{cid}",
             {"version": customer["version"], "tags": ["vip"]})
    api.call("POST", "/api/customers/{customer_id}/events", f"/api/customers/{cid}/events",
             {"events": [{"kind": "call", "at": "2026-11-02T10:00:00+00:00", "summary": "Called about the lamp"}],
              "brand": "nordlight"})
    merged = api.call("POST", "/api/customers/{customer_id}/merge", f"/api/customers/{cid}/merge", {"other_id": other})
    api.call("POST", "/api/customers/{customer_id}/merges/{merge_id}/undo",
             f"/api/customers/{cid}/merges/{merged['merge']['id']}/undo")
    api.call("DELETE", "/api/templates/{template_id}", "/api/templates/greet")
    api.call("DELETE", "/api/teams/{team_id}", "/api/teams/care")
    api.call("DELETE", "/api/agents/{agent_id}", "/api/agents/layla")
    api.call("POST", "/api/customers/{customer_id}/erase", f"/api/customers/{cid}/erase")

    # Then every /api route was called, and none answered a storage key anywhere in its JSON
    assert set(api.seen) == _api_routes(), sorted(_api_routes() ^ set(api.seen))
    leaks = {f"{m} {route}": internal_keys(answer) for (m, route), answers in api.seen.items()
             for answer in answers if internal_keys(answer)}
    assert leaks == {}
