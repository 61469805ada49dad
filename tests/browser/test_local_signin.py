"""Local sign-in without pasting a token (issue 16, point 5): the desk that `python -m infra.local up`
runs lists its demo agents on the sign-in page, and one click signs in as that agent, with that
agent's own role and brands. (That the routes do not exist in a deployed app: test_local_signin_absent.)"""
from __future__ import annotations

import requests
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS

expect.set_options(timeout=15_000)


def test_the_sign_in_page_lists_the_demo_agents_and_one_click_signs_in(stack, page):
    page.goto(stack.ui)
    agents = page.locator("#signin-local-list button")
    expect(agents.first).to_be_visible()
    names = agents.all_inner_texts()
    assert any("Layla Haddad" in n for n in names) and any("Sam Okafor" in n for n in names), names
    assert "supervisor" in names[0], "supervisors come first"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "local-sign-in.png"))

    page.get_by_role("button", name="Layla Haddad").click()

    expect(page.locator("#whoami")).to_have_text("layla · agent")
    expect(page.get_by_role("link", name="Supervisor")).to_be_hidden()  # an agent's token, not a supervisor's
    token = page.evaluate("sessionStorage.getItem('care-desk-token')")
    me = requests.get(f"{stack.api}/api/agents/me/status", timeout=5, headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text  # a token the API's own authorizer accepts


def test_a_supervisor_signs_in_as_a_supervisor(stack, page):
    page.goto(stack.ui)
    page.get_by_role("button", name="Sam Okafor").click()
    expect(page.locator("#whoami")).to_have_text("sam · supervisor")
    expect(page.get_by_role("link", name="Supervisor")).to_be_visible()


def test_the_local_routes_refuse_an_unknown_agent_and_a_missing_one(stack):
    unknown = requests.post(f"{stack.api}/_local/sign-in", json={"agent_id": "mallory"}, timeout=5)
    assert unknown.status_code == 404 and "mallory" in unknown.json()["error"]
    missing = requests.post(f"{stack.api}/_local/sign-in", json={}, timeout=5)
    assert missing.status_code == 400
