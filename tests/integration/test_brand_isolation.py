"""Brands are tenants, on every /api route (issue 13, point 6; DESIGN.md, Agent API).

Two brands, each with a ticket, a customer, an agent, a team and a template: Aegean (A) and
Nordlight (B). An agent and a supervisor of A alone call every declared route on B's objects and
get a 404 (as for something that does not exist), or an answer in which nothing of B appears; an
admin sees both; a token with no agent record sees neither.

The routes come from the declarations in app.py (`agent_api.declared`): a route added without a
line in ROUTES fails `test_every_declared_route_is_covered`, so no route escapes the check.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from infra.local import demo
from infra.local import payloads as p
from tests import stored
from tests.conftest import TEST_SECRETS
from tests.integration.agent_http import headers

A, B = "aegean", "nordlight"
X_ACCOUNT = {A: demo.BRANDS[A]["x"]["id"], B: demo.BRANDS[B]["x"]["id"]}


@dataclass
class World:
    desk: object
    ticket: dict  # B's
    ticket_a: dict
    customer: str  # B's (the survivor of a merge)
    customer_a: str
    merge_id: str
    message_id: str  # B's ticket's inbound message
    held_id: str = ""  # B's public reply waiting for B's supervisor (issue 16, approvals)


def _tweet(desk, brand: str, tweet_id: str, author: dict, text: str) -> dict:
    body = p.encode(p.x_tweet_event(X_ACCOUNT[brand], tweet_id, author, text))
    answer = desk.client.http.post("/webhooks/x", body=body, headers={
        "Content-Type": "application/json", **p.sign_x(body, TEST_SECRETS["X_CONSUMER_SECRET"])})
    assert answer.status_code == 200
    desk.drain(only=("ingest_worker",))
    return next(t for t in desk.store().all_tickets() if t.get("opened_by", "").endswith(tweet_id)
                or tweet_id in json.dumps(t))


def call(desk, method: str, path: str, body=None, agent: str = "ana_a", role: str = "agent"):
    if body is None and method.upper() in ("POST", "PUT", "PATCH"):
        body = {}
    answer = getattr(desk.client.http, method.lower())(path, headers=headers(agent, role),
                                                       body=json.dumps(body) if body is not None else b"")
    text = answer.body.decode() if isinstance(answer.body, bytes) else str(answer.body or "")
    return answer.status_code, text


@pytest.fixture
def world(desk) -> World:
    store = desk.store()
    for brand in (A, B):
        stored.put_account(store, "x", X_ACCOUNT[brand], status="active", brand=brand)
    for agent in ({"id": "ana_a", "role": "agent", "brands": [A]},
                  {"id": "sam_a", "role": "supervisor", "brands": [A]},
                  {"id": "nora_b", "role": "agent", "brands": [B]},
                  {"id": "both", "role": "agent", "brands": [A, B]}):
        stored.put_agent(store, {"name": agent["id"], "capacity": 5, **agent})
    store.teams.put(__import__("chalicelib.aggregates.team", fromlist=["Team"]).Team(
        id="team-b", name="Nordlight care", brands=[B]))
    store.put_template({"id": "tpl-b", "name": "B only", "brand": B, "default_language": "en",
                        "variants": {"en": "Nordlight says hi"}}, expected_version=0)
    ticket_a = _tweet(desk, A, "1850000000000000701", {"id": "701", "name": "Alex", "handle": "alexa"},
                      "@AegeanSkies where is my bag")
    ticket = _tweet(desk, B, "1850000000000000702", {"id": "702", "name": "Bo", "handle": "bob"},
                    "@NordlightShop my lamp arrived broken")
    other = _tweet(desk, B, "1850000000000000703", {"id": "703", "name": "Bo again", "handle": "bob2"},
                   "@NordlightShop still broken")
    status, merged = call(desk, "post", f"/api/customers/{ticket['customer_id']}/merge",
                          {"other_id": other["customer_id"]}, agent="root", role="admin")
    assert status == 200, merged
    [message] = [m for m in stored.messages(store, ticket["id"]) if m.get("direction") == "in"]
    # issue 16: B holds its public replies on X for approval; nora_b's reply waits
    store.put_settings("approvals", {"version": 0, "brands": {B: {"channels": ["x"]}}}, "root")
    status, held = call(desk, "post", f"/api/tickets/{ticket['id']}/replies",
                        {"text": "Nordlight holds this reply", "visibility": "public"}, agent="nora_b")
    assert status == 202 and json.loads(held)["status"] == "pending_approval", held
    return World(desk=desk, ticket=stored.ticket(store, ticket["id"]), ticket_a=ticket_a,
                 customer=ticket["customer_id"], customer_a=ticket_a["customer_id"],
                 merge_id=json.loads(merged)["merge"]["id"], message_id=message["id"], held_id=json.loads(held)["id"])


EVENT = {"events": [{"kind": "call", "at": "2026-11-20T10:00:00Z", "summary": "called"}]}

# "METHOD path": (what A's caller gets, the path on B's objects, the body). What A gets:
#   404: B's object is not found;  list: 200 and nothing of B in it;  admin: an admin-only route (A's
#   supervisor is refused by role, 403, before anything is read; admins see every brand);
#   own: the caller's own record, no brand's data;  desk: desk-wide (not a brand's), 404 without a
#   brand;  public: no brand data at all.
ROUTES = {
    "GET /api/health": ("public", "/api/health", None),
    "GET /api/openapi.json": ("public", "/api/openapi.json", None),
    "GET /api/channels": ("public", "/api/channels", None),
    "GET /api/tickets": ("list", "/api/tickets", None),
    "GET /api/tickets/{ticket_id}": ("404", "/api/tickets/{t}", None),
    "POST /api/tickets/{ticket_id}/corrections": ("404", "/api/tickets/{t}/corrections",
                                                  lambda w: {"message_id": w.message_id, "sentiment": "negative"}),
    "POST /api/tickets/{ticket_id}/replies": ("404", "/api/tickets/{t}/replies",
                                              {"text": "hello", "visibility": "public"}),
    "PATCH /api/tickets/{ticket_id}": ("404", "/api/tickets/{t}", lambda w: {"version": w.ticket["version"],
                                                                             "status": "pending"}),
    "POST /api/tickets/{ticket_id}/notes": ("404", "/api/tickets/{t}/notes", {"text": "peek"}),
    "POST /api/tickets/{ticket_id}/presence": ("404", "/api/tickets/{t}/presence", {"state": "viewing"}),
    "POST /api/tickets/{ticket_id}/done": ("404", "/api/tickets/{t}/done",
                                           lambda w: {"reason": "spam", "version": w.ticket["version"]}),
    "POST /api/tickets/{ticket_id}/csat": ("404", "/api/tickets/{t}/csat", {"score": 1}),
    "POST /api/tickets/{ticket_id}/claim": ("404", "/api/tickets/{t}/claim",
                                            lambda w: {"version": w.ticket["version"]}),
    "GET /api/agents/me/status": ("own", "/api/agents/me/status", None),
    "PUT /api/agents/me/status": ("own", "/api/agents/me/status", {"status": "online"}),
    "GET /api/tickets/{ticket_id}/templates": ("404", "/api/tickets/{t}/templates", None),
    "GET /api/tickets/{ticket_id}/suggestions": ("404", "/api/tickets/{t}/suggestions", None),
    "GET /api/templates": ("list", "/api/templates", None),
    "PUT /api/templates/{template_id}": ("admin", "/api/templates/tpl-b",
                                         {"name": "mine", "variants": {"en": "x"}, "version": 1}),
    "DELETE /api/templates/{template_id}": ("admin", "/api/templates/tpl-b", None),
    "GET /api/agents": ("list", "/api/agents", None),
    "GET /api/reports/summary": ("list", "/api/reports/summary", None),
    "GET /api/reports/tickets": ("list", "/api/reports/tickets", None),
    "GET /api/reports/staffing": ("list", "/api/reports/staffing", None),
    "GET /api/customers/{customer_id}": ("404", "/api/customers/{c}", None),
    "GET /api/customers/{customer_id}/duplicates": ("404", "/api/customers/{c}/duplicates", None),
    "PATCH /api/customers/{customer_id}": ("404", "/api/customers/{c}", {"version": 0, "name": "Peeked"}),
    "POST /api/customers/{customer_id}/merge": ("404", "/api/customers/{ca}/merge", lambda w: {"other_id": w.customer}),
    "POST /api/customers/{customer_id}/merges/{merge_id}/undo": ("404", "/api/customers/{c}/merges/{m}/undo", None),
    "POST /api/customers/{customer_id}/events": ("404", "/api/customers/{c}/events", EVENT),
    "POST /api/customers/{customer_id}/erase": ("admin", "/api/customers/{c}/erase", None),
    "POST /api/tickets/bulk": ("list", "/api/tickets/bulk", lambda w: {"ticket_ids": [w.ticket["id"]],
                                                                       "action": "close"}),
    "PUT /api/agents/{agent_id}": ("404", "/api/agents/nora_b", {"name": "Nora", "brands": [A]}),
    "DELETE /api/agents/{agent_id}": ("404", "/api/agents/nora_b", None),
    "GET /api/queues": ("list", "/api/queues", None),
    "GET /api/teams": ("list", "/api/teams", None),
    "PUT /api/teams/{team_id}": ("404", "/api/teams/team-b", {"name": "Ours now", "brands": [A]}),
    "DELETE /api/teams/{team_id}": ("404", "/api/teams/team-b", None),
    "GET /api/accounts": ("list", "/api/accounts", None),
    "PATCH /api/accounts/{platform}/{account_id}": ("admin", f"/api/accounts/x/{X_ACCOUNT[B]}", {"brand": A}),
    "GET /api/settings/{name}": ("desk", "/api/settings/sla", None),
    "GET /api/reply-settings": ("list", "/api/reply-settings", None),
    "GET /api/brands/{brand}/replies": ("404", f"/api/brands/{B}/replies", None),
    "PUT /api/brands/{brand}/replies": ("404", f"/api/brands/{B}/replies", {"after_reply": "closed", "version": 0}),
    "PUT /api/settings/{name}": ("admin", "/api/settings/sla", {}),
    "GET /api/rules/{brand}": ("404", f"/api/rules/{B}", None),
    "PUT /api/rules/{brand}": ("admin", f"/api/rules/{B}", {"rules": {}}),
    # issue 16, approval for public replies: B's held reply and B's rules are not A's supervisor's
    "GET /api/approvals": ("list", "/api/approvals", None),
    "POST /api/approvals/{message_id}/approve": ("404", "/api/approvals/{h}/approve", {}),
    "POST /api/approvals/{message_id}/reject": ("404", "/api/approvals/{h}/reject", {"reason": "peek"}),
    "GET /api/approval-rules": ("list", "/api/approval-rules", None),
    "PUT /api/approval-rules/{brand}": ("404", f"/api/approval-rules/{B}", {"version": 1, "rules": {}}),
    # issue 16, point 4: B's CSAT survey settings are not A's supervisor's
    "GET /api/surveys": ("list", "/api/surveys", None),
    "GET /api/brands/{brand}/surveys": ("404", f"/api/brands/{B}/surveys", None),
    "PUT /api/brands/{brand}/surveys": ("404", f"/api/brands/{B}/surveys", {"version": 0, "channels": {"x": True}}),
}
ROLES = {"agent": ("ana_a", "agent"), "supervisor": ("sam_a", "supervisor"), "admin": ("sam_a", "supervisor")}


def _declared() -> list:
    import app

    return [(r.method, r.path, r.role) for r in app.agent_api.declared]


def _request(world: World, path: str, body):
    path = path.format(t=world.ticket["id"], c=world.customer, ca=world.customer_a, m=world.merge_id, h=world.held_id)
    return path, (body(world) if callable(body) else body)


def _traces_of_b(world: World) -> list[str]:
    """What must never appear in an answer to A: B's ticket, customers, agent, team, template, text."""
    return [world.ticket["id"], world.customer, "nora_b", "team-b", "tpl-b", "Nordlight says hi", "lamp arrived",
            X_ACCOUNT[B], "Nordlight holds this"]


def test_every_declared_route_is_covered():
    declared = {f"{method} {path}" for method, path, _ in _declared()}
    assert declared == set(ROUTES), ("add each new /api route to ROUTES, scoped to the caller's brands: "
                                     f"missing {sorted(declared - set(ROUTES))}, gone {sorted(set(ROUTES) - declared)}")


def test_an_agent_or_supervisor_of_one_brand_never_reaches_anothers(world):
    desk = world.desk
    before = stored.ticket(desk.store(), world.ticket["id"])
    for method, path, role in _declared():
        kind, template, body = ROUTES[f"{method} {path}"]
        url, payload = _request(world, template, body)
        agent, as_role = ROLES.get(role or "agent", ("ana_a", "agent"))
        status, text = call(desk, method, url, payload, agent=agent, role=as_role)
        where = f"{method} {path} as {as_role} of {A}: {status} {text[:300]}"
        if kind == "404":
            assert status == 404, where
        elif kind == "admin":
            assert status == 403, where
        elif kind in ("list", "desk", "own"):
            assert status in (200, 202), where
        if kind != "public" and status < 300:  # a refusal names only what the caller asked for
            asked = url + json.dumps(payload)
            leaked = [trace for trace in _traces_of_b(world) if trace in text and trace not in asked]
            assert not leaked, f"{where}: shows {leaked}"
    # and nothing of B's changed: the ticket, its holder, its timeline, the team, the agent
    after = stored.ticket(desk.store(), world.ticket["id"])
    assert (after["version"], after.get("assignee"), after["status"]) == (
        before["version"], before.get("assignee"), before["status"])
    assert [m.get("direction") for m in stored.messages(desk.store(), world.ticket["id"])
            if m.get("direction") in ("note", "out") and m["id"] != world.held_id] == []
    [held] = [m for m in stored.messages(desk.store(), world.ticket["id"]) if m["id"] == world.held_id]
    assert held["status"] == "pending_approval"  # A's supervisor neither approved nor rejected B's reply
    assert desk.store().teams.get("team-b").brands == [B] and desk.store().agents.get("nora_b").brands == [B]


def test_the_inbox_bulk_and_lists_show_only_the_callers_brand(world):
    desk = world.desk
    status, inbox = call(desk, "get", "/api/tickets")
    assert status == 200 and [t["id"] for t in json.loads(inbox)["items"]] == [world.ticket_a["id"]]
    status, bulk = call(desk, "post", "/api/tickets/bulk", {"ticket_ids": [world.ticket["id"]], "action": "close"},
                        agent="sam_a", role="supervisor")
    assert json.loads(bulk)["results"] == {world.ticket["id"]: "not_found"}
    status, agents = call(desk, "get", "/api/agents", agent="sam_a", role="supervisor")
    assert sorted(a["id"] for a in json.loads(agents)["items"]) == ["ana_a", "both", "sam_a"]
    status, templates = call(desk, "get", "/api/templates")
    assert "tpl-b" not in [t["id"] for t in json.loads(templates)["items"]]
    # the agent of both brands sees both tickets, and B's ticket's customer
    status, inbox = call(desk, "get", "/api/tickets", agent="both")
    assert {world.ticket["id"], world.ticket_a["id"]} <= {t["id"] for t in json.loads(inbox)["items"]}
    assert call(desk, "get", f"/api/customers/{world.customer}", agent="both")[0] == 200


def test_an_admin_sees_every_brand(world):
    desk = world.desk
    status, inbox = call(desk, "get", "/api/tickets", agent="root", role="admin")
    assert {world.ticket["id"], world.ticket_a["id"]} <= {t["id"] for t in json.loads(inbox)["items"]}
    for path in (f"/api/tickets/{world.ticket['id']}", f"/api/customers/{world.customer}", f"/api/rules/{B}",
                 f"/api/tickets/{world.ticket['id']}/templates"):
        assert call(desk, "get", path, agent="root", role="admin")[0] == 200, path
    status, agents = call(desk, "get", "/api/agents", agent="root", role="admin")
    assert {"ana_a", "nora_b"} <= {a["id"] for a in json.loads(agents)["items"]}


def test_a_token_without_an_agent_record_sees_no_brand(world):
    desk = world.desk
    for role in ("agent", "supervisor"):
        status, inbox = call(desk, "get", "/api/tickets", agent="ghost", role=role)
        assert status == 200 and json.loads(inbox)["items"] == []
        for path in (f"/api/tickets/{world.ticket_a['id']}", f"/api/customers/{world.customer_a}",
                     f"/api/rules/{A}"):
            assert call(desk, "get", path, agent="ghost", role=role)[0] == 404, (role, path)
        for path in ("/api/templates", "/api/teams"):
            assert json.loads(call(desk, "get", path, agent="ghost", role=role)[1])["items"] == [], (role, path)
    assert json.loads(call(desk, "get", "/api/agents", agent="ghost", role="supervisor")[1])["items"] == []
    assert call(desk, "get", "/api/settings/sla", agent="ghost", role="supervisor")[0] == 404


def test_a_supervisor_gives_only_her_brands_and_keeps_the_others(world):
    desk = world.desk
    sup = {"agent": "sam_a", "role": "supervisor"}
    status, made = call(desk, "put", "/api/agents/newbie", {"name": "New"}, **sup)
    assert status == 200 and json.loads(made)["brands"] == [A]  # none given: hers
    assert call(desk, "put", "/api/agents/newbie", {"name": "New", "brands": [B]}, **sup)[0] == 404
    assert call(desk, "put", "/api/agents/boss", {"name": "Boss", "role": "admin"}, **sup)[0] == 403
    status, edited = call(desk, "put", "/api/agents/both", {"name": "Both", "brands": [A]}, **sup)
    assert status == 200 and json.loads(edited)["brands"] == [A, B]  # B is not hers to take away
    assert call(desk, "delete", "/api/agents/both", **sup)[0] == 403  # works for B too: an admin's call
    assert call(desk, "delete", "/api/agents/newbie", **sup)[0] == 204


def test_brands_set_by_put_apply_at_once(world):
    desk = world.desk
    assert call(desk, "get", f"/api/tickets/{world.ticket['id']}", agent="ana_a")[0] == 404
    status, _ = call(desk, "put", "/api/agents/ana_a", {"name": "Ana", "brands": [A, B]}, agent="root", role="admin")
    assert status == 200
    assert call(desk, "get", f"/api/tickets/{world.ticket['id']}", agent="ana_a")[0] == 200


# -- the API channel: one secret per account (channel_id), the shared one during the transition ---
SECRET_A, SECRET_B = "secret-of-aegean-web", "secret-of-nordlight-web"


def _api_post(desk, message: dict, secret: str, account=None):
    body = json.dumps(message).encode()
    extra = {"X-Channel-Id": account} if account else {}
    answer = desk.client.http.post("/webhooks/api", body=body, headers={
        "Content-Type": "application/json", **p.sign_api(body, secret), **extra})
    return answer.status_code, json.loads(answer.body)


@pytest.fixture
def api_accounts(desk, monkeypatch):
    from chalicelib import config

    monkeypatch.setenv("API_CHANNEL_SECRET:aegean-web", SECRET_A)
    monkeypatch.setenv("API_CHANNEL_SECRET:nordlight-web", SECRET_B)
    config.reset()
    yield desk
    config.reset()


def _message(n: int, channel_id=None) -> dict:
    return {"external_id": f"web-{n}", "author": {"id": f"u{n}", "name": "Web visitor"}, "text": f"hello {n}",
            **({"channel_id": channel_id} if channel_id else {})}


def test_each_api_account_signs_with_its_own_secret(api_accounts):
    desk = api_accounts
    # its own secret, naming itself: accepted, the ticket is the account's
    assert _api_post(desk, _message(1), SECRET_A, "aegean-web") == (200, {"accepted": 1, "duplicates": 0,
                                                                          "ignored": 0})
    desk.drain(only=("ingest_worker",))
    assert [t["brand_account_id"] for t in desk.store().all_tickets()] == ["aegean-web"]
    # A's secret cannot sign for B: not as B, and not by naming B in the body
    assert _api_post(desk, _message(2), SECRET_A, "nordlight-web")[0] == 401
    status, answer = _api_post(desk, _message(3, "nordlight-web"), SECRET_A, "aegean-web")
    assert status == 200 and answer["accepted"] == 0 and "quarantined" in answer
    # an account with no secret of its own, or a forged header, is refused
    assert _api_post(desk, _message(4), SECRET_A, "unknown-web")[0] == 401
    assert _api_post(desk, _message(5), SECRET_A, "bad id with spaces")[0] == 401
    desk.drain(only=("ingest_worker",))
    assert sorted(t["brand_account_id"] for t in desk.store().all_tickets()) == ["aegean-web"]


def test_the_shared_api_secret_is_still_accepted_during_the_transition(api_accounts):
    desk = api_accounts
    status, answer = _api_post(desk, _message(6, "nordlight-web"), TEST_SECRETS["API_CHANNEL_SECRET"])
    assert status == 200 and answer["accepted"] == 1
    assert _api_post(desk, _message(7, "nordlight-web"), SECRET_A)[0] == 401  # an account's secret needs its name
    desk.drain(only=("ingest_worker",))
    assert [t["brand_account_id"] for t in desk.store().all_tickets()] == ["nordlight-web"]


def test_a_customer_of_two_brands_shows_each_brand_only_its_own_crm(world):
    """Carla wrote to both brands: one customer. Nordlight's CRM record (value, VIP) and its imported
    events never reach Aegean's agent, who still sees the customer through Aegean's ticket."""
    from chalicelib import crm

    desk, store = world.desk, world.desk.store()
    stored.put_agent(store, {"id": "sue_b", "name": "sue_b", "role": "supervisor", "brands": [B], "capacity": 5})
    stored.put_agent(store, {"id": "sid", "name": "sid", "role": "supervisor", "brands": [A, B], "capacity": 5})
    carla = {"id": "801", "name": "Carla", "handle": "carla_c"}
    to_a = _tweet(desk, A, "1850000000000000801", carla, "@AegeanSkies lost my suitcase")
    to_b = _tweet(desk, B, "1850000000000000802", carla, "@NordlightShop where is my lamp")
    customer = to_a["customer_id"]
    assert to_b["customer_id"] == customer
    records, errors = crm.parse_rows([{"platform": "x", "id": "@carla_c", "lifetime_value": 9100, "vip": True,
                                       "crm_ref": "NL-55"}])
    assert not errors and crm.import_records(store, records, B) == 1
    secret_b = {"events": [{"kind": "purchase", "at": "2026-11-02T10:00:00Z", "summary": "Nordlight lamp order",
                            "external_id": "ord-1"}]}
    assert call(desk, "post", f"/api/customers/{customer}/events", secret_b, agent="sue_b", role="supervisor")[0] == 201
    mine_a = {"events": [{"kind": "call", "at": "2026-11-03T10:00:00Z", "summary": "Aegean called about the bag",
                          "external_id": "ord-1"}]}  # the same external id: A's own event, not B's replaced
    assert call(desk, "post", f"/api/customers/{customer}/events", mine_a, agent="sam_a", role="supervisor")[0] == 201
    # a supervisor of A cannot file events as B's; one of both brands must say which
    assert call(desk, "post", f"/api/customers/{customer}/events", {**mine_a, "brand": B}, agent="sam_a",
                role="supervisor")[0] == 404
    status, text = call(desk, "post", f"/api/customers/{customer}/events", mine_a, agent="sid", role="supervisor")
    assert status == 400 and "brand" in text

    for agent, role in (("ana_a", "agent"), ("sam_a", "supervisor")):
        status, text = call(desk, "get", f"/api/customers/{customer}", agent=agent, role=role)
        assert status == 200
        shown = json.loads(text)
        assert [e["summary"] for e in shown["events"]] == ["Aegean called about the bag"]
        assert shown["crm"] == [] and shown["lifetime_value"] == 0 and shown["vip"] is False
        for trace in ("Nordlight lamp order", "9100", "NL-55", B):
            assert trace not in text, trace
        # the ticket view's customer panel is the same view
        ticket = json.loads(call(desk, "get", f"/api/tickets/{to_a['id']}", agent=agent, role=role)[1])
        assert ticket["customer"]["crm"] == [] and ticket["customer"]["lifetime_value"] == 0
        assert [e["summary"] for e in ticket["customer"]["events"]] == ["Aegean called about the bag"]

    shown_b = json.loads(call(desk, "get", f"/api/customers/{customer}", agent="nora_b")[1])
    assert [e["summary"] for e in shown_b["events"]] == ["Nordlight lamp order"]
    assert shown_b["lifetime_value"] == 9100 and shown_b["vip"] is True and shown_b["crm"][0]["brand"] == B
    admin = json.loads(call(desk, "get", f"/api/customers/{customer}", agent="root", role="admin")[1])
    assert sorted(e["summary"] for e in admin["events"]) == ["Aegean called about the bag", "Nordlight lamp order"]
    assert admin["lifetime_value"] == 9100
    # the customer itself: the 404 rules as before (B's agent on A's other customer)
    assert call(desk, "get", f"/api/customers/{world.customer_a}", agent="nora_b")[0] == 404
