"""A supervisor marks a new agent's public replies as needing approval from the Supervisor page
(issue 16, point 2: "by agent or role such as new agents"), and unmarks her: the agent's record
changes only in that flag (her name, languages, capacity and brands stay)."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import sign_in

expect.set_options(timeout=15_000)


def _agent(stack, token, agent_id):
    return next(a for a in stack.get("/agents", token)["items"] if a["id"] == agent_id)


def test_a_supervisor_marks_and_unmarks_a_new_agent(stack, page):
    sam = stack.token("sam", "supervisor")
    before = _agent(stack, sam, "wei")
    sign_in(page, stack, sam)
    page.get_by_role("link", name="Supervisor").click()
    row = page.locator("tr[data-agent='wei']")
    box = row.get_by_role("checkbox", name="Wei Zhang: public replies need approval")
    expect(box).not_to_be_checked()
    expect(page.locator("tr[data-agent='sam']").get_by_role("checkbox")).to_have_count(0)  # a supervisor's never wait

    box.check()
    expect(page.locator("#toast")).to_contain_text("now wait for approval")
    after = _agent(stack, sam, "wei")
    assert after["needs_approval"] is True
    keep = ("name", "languages", "capacity", "brands", "teams", "role")
    assert {k: after.get(k) for k in keep} == {k: before.get(k) for k in keep}

    box.uncheck()
    expect(page.locator("#toast")).to_contain_text("no longer need approval")
    assert _agent(stack, sam, "wei")["needs_approval"] is False


def test_a_supervisor_sets_her_brands_approval_rules_from_the_approvals_page(stack, page):
    """Every brand of hers has a rules form (none set yet included); what she saves is the brand's rules."""
    sam = stack.token("sam", "supervisor")
    sign_in(page, stack, sam)
    page.get_by_role("link", name="Approvals").click()
    form = page.locator("form.rules-form[data-brand='nordlight']")
    expect(form).to_be_visible()
    expect(page.locator("form.rules-form[data-brand='aegean']")).to_be_visible()
    form.get_by_label("Replies by new agents").check()
    form.get_by_label("Replies to tickets of at least this priority").fill("90")
    form.get_by_role("button", name="Save rules").click()
    expect(form.get_by_role("status")).to_have_text("Saved.")
    rules = stack.get("/approval-rules", sam)["brands"]["nordlight"]
    assert rules["new_agents"] is True and rules["min_priority"] == 90 and rules["channels"] == []
