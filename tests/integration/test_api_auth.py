"""Every /api route but health is authorised: 401 without a token or with a bad one, 403 for a role
without the right. The route list is read from the app itself, so a new route cannot slip through."""
from __future__ import annotations

import json
import time

import jwt
import pytest

from chalicelib.auth import mint
from tests.conftest import TEST_SECRETS

PUBLIC = {("GET", "/api/health")}
# routes that need more than the agent role, and the role they need
NEEDS = {("PUT", "/api/brands/{brand}/replies"): "supervisor", ("GET", "/api/brands/{brand}/surveys"): "supervisor",
         ("PUT", "/api/brands/{brand}/surveys"): "supervisor", ("GET", "/api/surveys"): "supervisor",
         ("POST", "/api/tickets/{ticket_id}/csat"): "supervisor", ("PUT", "/api/rules/{brand}"): "admin", ("PUT", "/api/templates/{template_id}"): "admin",
         ("DELETE", "/api/templates/{template_id}"): "admin", ("GET", "/api/agents"): "supervisor",
         ("POST", "/api/customers/{customer_id}/merge"): "supervisor",
         ("POST", "/api/customers/{customer_id}/merges/{merge_id}/undo"): "supervisor",
         ("POST", "/api/customers/{customer_id}/events"): "supervisor",
         ("POST", "/api/customers/{customer_id}/erase"): "admin", ("POST", "/api/tickets/bulk"): "supervisor",
         ("PUT", "/api/agents/{agent_id}"): "supervisor", ("DELETE", "/api/agents/{agent_id}"): "supervisor",
         ("PUT", "/api/teams/{team_id}"): "supervisor", ("DELETE", "/api/teams/{team_id}"): "supervisor",
         ("GET", "/api/accounts"): "supervisor", ("GET", "/api/queues"): "supervisor", ("GET", "/api/reports/staffing"): "supervisor",
         ("PATCH", "/api/accounts/{platform}/{account_id}"): "admin",
         ("GET", "/api/settings/{name}"): "supervisor", ("PUT", "/api/settings/{name}"): "admin",
         # issue 16, approval for public replies
         ("GET", "/api/approvals"): "supervisor", ("POST", "/api/approvals/{message_id}/approve"): "supervisor",
         ("POST", "/api/approvals/{message_id}/reject"): "supervisor", ("GET", "/api/approval-rules"): "supervisor",
         ("PUT", "/api/approval-rules/{brand}"): "supervisor"}
ROLES = ("agent", "supervisor", "admin")
RANK = {r: i for i, r in enumerate(ROLES)}


def _api_routes():
    import app

    for path, methods in app.app.routes.items():
        if path.startswith("/api"):
            for method in methods:
                if (method, path) not in PUBLIC:
                    yield method, path


ROUTES = sorted(_api_routes())


def _call(desk, method, path, token=None):
    concrete = path.replace("{ticket_id}", "t-1").replace("{brand}", "nordlight").replace("{template_id}", "greet").replace(
        "{customer_id}", "c-1").replace("{merge_id}", "m-1").replace(
        "{agent_id}", "ana").replace("{team_id}", "care").replace("{platform}", "x").replace(
        "{account_id}", "1").replace("{name}", "sla").replace("{message_id}", "r-1")
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    answer = desk.client.http.request(method, concrete, headers=headers, body=json.dumps({}).encode())
    return answer.status_code


def _forged():
    return jwt.encode({"sub": "ana", "cognito:groups": ["admins"], "exp": int(time.time()) + 60}, "not-our-secret",
                      algorithm="HS256")


def _expired():
    return jwt.encode({"sub": "ana", "cognito:groups": ["admins"], "exp": int(time.time()) - 60},
                      TEST_SECRETS["LOCAL_JWT_SECRET"], algorithm="HS256")


def test_the_route_table_is_not_empty_and_covers_the_agent_api():
    assert ("POST", "/api/tickets/{ticket_id}/replies") in ROUTES and ("PATCH", "/api/tickets/{ticket_id}") in ROUTES
    assert len(ROUTES) >= 10


@pytest.mark.parametrize("method, path", ROUTES)
def test_no_token_a_forged_one_or_an_expired_one_is_401(desk, method, path):
    assert _call(desk, method, path) == 401
    assert _call(desk, method, path, "not-a-jwt") == 401
    assert _call(desk, method, path, _forged()) == 401
    assert _call(desk, method, path, _expired()) == 401


@pytest.mark.parametrize("method, path", ROUTES)
def test_a_role_below_the_routes_need_is_403_and_the_right_role_gets_past_auth(desk, method, path):
    needed = NEEDS.get((method, path), "agent")
    for role in ROLES:
        status = _call(desk, method, path, mint("ana", role, TEST_SECRETS["LOCAL_JWT_SECRET"]))
        if RANK[role] < RANK[needed]:
            assert status == 403, (role, status)
        else:
            assert status not in (401, 403), (role, status)


def test_a_token_without_a_desk_group_is_403(desk):
    from chalicelib.auth import LOCAL_AUDIENCE, LOCAL_ISSUER

    now = int(time.time())
    token = jwt.encode({"sub": "ana", "cognito:groups": ["marketing"], "iat": now, "exp": now + 60,
                        "iss": LOCAL_ISSUER, "aud": LOCAL_AUDIENCE}, TEST_SECRETS["LOCAL_JWT_SECRET"], algorithm="HS256")
    assert _call(desk, "GET", "/api/tickets", token) == 403


def test_auth_config_tells_the_ui_how_to_sign_in(desk, aws_env):
    assert json.loads(desk.client.http.get("/auth/config").body) == {"mode": "token"}
    aws_env.setenv("COGNITO_USER_POOL_ID", "eu-west-1_Pool1")
    aws_env.setenv("COGNITO_APP_CLIENT_ID", "client-1")
    aws_env.setenv("COGNITO_HOSTED_UI_URL", "https://desk.auth.eu-west-1.amazoncognito.com/")
    config = json.loads(desk.client.http.get("/auth/config").body)
    assert config == {"mode": "cognito", "client_id": "client-1", "scope": "openid email profile",
                      "authorize_url": "https://desk.auth.eu-west-1.amazoncognito.com/oauth2/authorize",
                      "logout_url": "https://desk.auth.eu-west-1.amazoncognito.com/logout"}
