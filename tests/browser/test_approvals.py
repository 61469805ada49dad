"""Issue 16, point 2, in a real browser against the local stack: an agent's public reply that the
brand's approval rules hold shows "Waiting for approval" and reaches nobody; the supervisor, in her
own browser context, edits and approves it on the Approvals page, and the edited reply reaches X in
the platform sandbox exactly once; a rejected reply shows its reason to the author, whose "Edit and
send again" puts it back in her composer. Screenshots: build/screenshots/approval-held.png,
approvals-queue.png, approval-rejected.png.
"""
from __future__ import annotations

import json
import time
import uuid

import requests
from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM, CSP_WATCH, SCREENSHOTS, VIEWPORT, sign_in, wait_for
from tests.browser.test_desk_ui import post_tweet, ticket_with

expect.set_options(timeout=15_000)
assert CHROMIUM  # the conftest skips this module without Debian's chromium


def _hold_anas_replies(stack) -> None:
    """aegean's supervisor: Ana's public replies wait for approval."""
    sam = stack.token("sam", "supervisor")
    current = stack.get("/approval-rules", sam)
    answer = requests.put(f"{stack.api}/api/approval-rules/aegean", timeout=10, headers={
        "Authorization": f"Bearer {sam}"}, json={"version": current["version"], "rules": {"agents": ["ana"]}})
    assert answer.status_code == 200, answer.text


def _tweets_with(stack, text: str) -> list[dict]:
    return [r for r in stack.sandbox_requests() if r["method"] == "POST" and r["path"] == "/2/tweets"
            and json.loads(r["body"] or "{}").get("text") == text]


def _reply(page, stack, ticket_id: str, text: str) -> None:
    page.goto(f"{stack.ui}#/ticket/{ticket_id}")
    box = page.locator("#reply-text")
    expect(box).to_be_visible()
    page.locator("#vis-public").check()
    box.fill(text)
    with page.expect_response(lambda r: r.url.endswith(f"/api/tickets/{ticket_id}/replies")) as sent:
        box.press("Control+Enter")
    assert sent.value.status == 202 and sent.value.json()["status"] == "pending_approval"


def _supervisor_page(browser, stack, errors: list):
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB", timezone_id="Europe/Helsinki")
    context.set_default_timeout(15_000)
    context.add_init_script(CSP_WATCH)
    page = context.new_page()
    page.on("pageerror", lambda err: errors.append(str(err)))
    sign_in(page, stack, stack.token("sam", "supervisor"))
    return context, page


def test_a_supervisor_edits_and_approves_a_held_reply_that_then_reaches_x_once(stack, page, browser):
    _hold_anas_replies(stack)
    marker = uuid.uuid4().hex[:6]
    post_tweet(stack, f"@AegeanSkies my bag never arrived in Rhodes (ref {marker})", "Nora Lind", "noralind")
    ana = stack.token("ana")
    ticket = ticket_with(stack, ana, marker)
    written = f"Sorry Nora, we will find it. ({marker})"
    edited = f"Sorry Nora! Your bag is on the 14:05 flight to Rhodes. ({marker})"

    # Given Ana answers publicly: held, nothing sent
    sign_in(page, stack, ana)
    _reply(page, stack, ticket["id"], written)
    mine = page.locator(".msg.out").filter(has_text=written)
    expect(mine.get_by_test_id("reply-status")).to_have_text("Waiting for approval")
    expect(mine.get_by_test_id("approval-note")).to_contain_text("agent: ana")
    page.screenshot(path=str(SCREENSHOTS / "approval-held.png"))
    time.sleep(1.5)  # the outbound worker polls every few hundred ms: it had its chance to send
    assert _tweets_with(stack, written) == []

    # When the supervisor, in her own browser, edits and approves it on the Approvals page
    errors: list[str] = []
    context, sam_page = _supervisor_page(browser, stack, errors)
    try:
        sam_page.get_by_role("link", name="Approvals").click()
        expect(sam_page.get_by_role("heading", name="Approvals", level=1)).to_be_visible()
        held = sam_page.locator(".approval").filter(has_text=marker)
        expect(held).to_have_count(1)
        expect(held).to_contain_text("Held for: agent: ana")
        expect(held).to_contain_text("my bag never arrived")
        expect(held.locator("textarea")).to_have_value(written)
        sam_page.screenshot(path=str(SCREENSHOTS / "approvals-queue.png"), full_page=True)
        held.get_by_role("button", name="Edit and approve").click()
        held.locator("textarea").fill(edited)
        with sam_page.expect_response(lambda r: "/approve" in r.url) as approved:
            held.get_by_role("button", name="Approve edited reply").click()
        assert approved.value.status == 200
        expect(sam_page.locator(".approval").filter(has_text=marker)).to_have_count(0)
        # Then the edited reply reaches X, once, and nothing of the original
        wait_for(lambda: _tweets_with(stack, edited), 30, "the approved reply reached X in the sandbox")
        time.sleep(2)  # a second delivery would have landed by now
        assert len(_tweets_with(stack, edited)) == 1 and _tweets_with(stack, written) == []
        # And a second approval (a retry, or another supervisor) is refused and sends nothing
        again = requests.post(f"{stack.api}/api/approvals/{approved.value.json()['id']}/approve", json={}, timeout=10,
                              headers={"Authorization": f"Bearer {stack.token('sam', 'supervisor')}"})
        assert again.status_code == 409
        time.sleep(1)
        assert len(_tweets_with(stack, edited)) == 1
        # And Ana sees her reply sent, approved with edits
        sent = page.locator(".msg.out").filter(has_text=edited)
        expect(sent.get_by_test_id("reply-status")).to_have_text("Sent", timeout=20_000)
        expect(sent).to_contain_text("Approved by sam with edits")
        # And the supervisor's reports show the approval wait apart from the first response
        sam = stack.token("sam", "supervisor")
        wait_for(lambda: (stack.get("/reports/summary", sam, days=7)["approvals"]["decided"] or 0) >= 1, 30,
                 "the stream counted the decision")
        sam_page.get_by_role("link", name="Reports").click()
        expect(sam_page.locator(".stat-cards")).to_contain_text("Approval wait")
        assert not errors
    finally:
        context.close()


def test_a_rejected_reply_shows_its_reason_and_goes_back_to_the_composer(stack, page, browser):
    _hold_anas_replies(stack)
    marker = uuid.uuid4().hex[:6]
    post_tweet(stack, f"@AegeanSkies will you refund my ticket? (ref {marker})", "Otto Berg", "ottoberg")
    ana = stack.token("ana")
    ticket = ticket_with(stack, ana, marker)
    written = f"Yes, a full refund by Friday. ({marker})"
    sign_in(page, stack, ana)
    _reply(page, stack, ticket["id"], written)

    errors: list[str] = []
    context, sam_page = _supervisor_page(browser, stack, errors)
    try:
        sam_page.get_by_role("link", name="Approvals").click()
        held = sam_page.locator(".approval").filter(has_text=marker)
        held.get_by_role("button", name="Reject…").click()
        held.get_by_role("button", name="Reject reply").click()  # no reason yet: said, nothing decided
        expect(held.locator(".error")).to_have_text("Say why: the author sees the reason.")
        held.get_by_label("Reason for rejecting").fill("We cannot promise a date; say we are checking.")
        held.get_by_role("button", name="Reject reply").click()
        expect(sam_page.locator(".approval").filter(has_text=marker)).to_have_count(0)
        assert not errors
    finally:
        context.close()

    # Ana sees why, and takes the reply back to edit it
    mine = page.locator(".msg.out").filter(has_text=written)
    expect(mine.get_by_test_id("reply-status")).to_have_text("Rejected", timeout=20_000)
    expect(mine.get_by_test_id("rejection")).to_contain_text("Rejected by sam: We cannot promise a date")
    page.screenshot(path=str(SCREENSHOTS / "approval-rejected.png"))
    mine.get_by_role("button", name="Edit and send again").click()
    expect(page.locator("#reply-text")).to_have_value(written)
    expect(page.locator("#reply-text")).to_be_focused()
    assert _tweets_with(stack, written) == []
