"""Issue 16, point 1, collision detection, in a real browser: two agents in two browser contexts on
one ticket see each other in the ticket header ("Zofia is typing…") and on the inbox row; the
second one's reply, written before the first one's reply reached her view, gets the 409 view naming
it; "Send anyway" sends hers once (double-clicked, one reply, one post to the platform); when the
first leaves the ticket the second sees her gone. Screenshots: build/screenshots/collision-viewing.png,
collision-typing.png, collision-stale-reply.png.
"""
from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM_ARGS, CSP_WATCH, SCREENSHOTS, VIEWPORT, sign_in, wait_for
from tests.browser.test_desk_ui import post_tweet, ticket_with

expect.set_options(timeout=15_000)


def _second_agent(browser, csp_violations, errors):
    """Another browser context (its own sessionStorage: another agent), watched as the `page` fixture is."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB", timezone_id="Europe/Helsinki")
    context.set_default_timeout(15_000)
    context.add_init_script(CSP_WATCH)
    page = context.new_page()
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.on("console", lambda msg: csp_violations.append(msg.text) if msg.text.startswith("csp-violation ") else None)
    return context, page


def _open(page, stack, ticket_id: str, poll_ms: int) -> None:
    page.goto(f"{stack.api}/?poll={poll_ms}&beat=1000#/ticket/{ticket_id}")
    expect(page.locator("#reply-text")).to_be_visible()


def _replies(stack, token: str, ticket_id: str) -> list[dict]:
    return [m for m in stack.get(f"/tickets/{ticket_id}", token)["messages"] if m["direction"] == "out"]


def test_two_agents_see_each_other_and_the_second_ones_stale_reply_gets_the_409_view(stack, page, browser,
                                                                                        csp_violations):
    assert CHROMIUM_ARGS  # the second context runs in the same Chromium the fixture launched
    ana, zofia = stack.token("ana"), stack.token("zofia")
    marker = uuid.uuid4().hex[:6]
    post_tweet(stack, f"@AegeanAir my bag never arrived ({marker})", "Nikos Pappas", "nikosp")
    ticket = ticket_with(stack, ana, marker)
    errors: list[str] = []
    context, other = _second_agent(browser, csp_violations, errors)
    try:
        # Given Ana (live view, 1 s refresh) and Zofia (a view that will not refresh by itself) on one ticket
        sign_in(page, stack, ana)
        _open(page, stack, ticket["id"], poll_ms=1000)
        sign_in(other, stack, zofia)
        _open(other, stack, ticket["id"], poll_ms=600_000)
        # Then each sees the other in the ticket header
        expect(other.get_by_test_id("presence")).to_have_text("Ana is viewing")
        expect(page.get_by_test_id("presence")).to_have_text("Zofia is viewing")
        expect(other.locator(f'.ticket-list li[data-id="{ticket["id"]}"] [data-testid="row-viewers"]')).to_have_text(
            "Open now by Ana viewing")
        other.screenshot(path=str(SCREENSHOTS / "collision-viewing.png"))

        # When Zofia types, Ana sees it in the header and on the ticket's inbox row
        other.locator("#reply-text").fill(f"Hi Nikos, I have found your bag ({marker})")
        expect(page.get_by_test_id("presence")).to_have_text("Zofia is typing…")
        row = page.locator(f'.ticket-list li[data-id="{ticket["id"]}"] [data-testid="row-viewers"]')
        expect(row).to_have_text("Open now by Zofia typing…")
        page.screenshot(path=str(SCREENSHOTS / "collision-typing.png"))

        # When Ana replies first, from her own view
        page.locator("#reply-text").fill(f"Hello Nikos, we are on it ({marker})")
        page.locator("#reply-send").click()
        wait_for(lambda: len(_replies(stack, ana, ticket["id"])) == 1, 15, "Ana's reply stored")

        # Then Zofia's reply, written before Ana's reached her view, is refused and Ana's is shown to her
        other.locator("#reply-send").click()
        stale = other.get_by_test_id("stale")
        expect(stale).to_be_visible()
        expect(stale).to_contain_text("A new message arrived since you opened this ticket")
        expect(stale).to_contain_text("Ana Papadopoulou replied")
        expect(stale).to_contain_text(f"Hello Nikos, we are on it ({marker})")
        expect(other.locator("#reply-text")).to_have_value(f"Hi Nikos, I have found your bag ({marker})")
        assert len(_replies(stack, ana, ticket["id"])) == 1  # nothing of hers was stored
        # the thread behind the notice now shows Ana's reply too
        expect(other.locator(".messages .msg.out")).to_have_count(1)
        other.screenshot(path=str(SCREENSHOTS / "collision-stale-reply.png"))

        # When she sends anyway (a double click), hers goes out once
        other.get_by_test_id("send-anyway").dblclick()
        expect(stale).to_have_count(0)
        wait_for(lambda: len(_replies(stack, ana, ticket["id"])) == 2, 15, "Zofia's reply stored")
        expect(other.locator(".messages .msg.out")).to_have_count(2)
        texts = [m["text"] for m in _replies(stack, ana, ticket["id"])]
        assert texts.count(f"Hi Nikos, I have found your bag ({marker})") == 1

        def posted(text: str) -> int:
            return sum(text in str(r.get("body")) for r in stack.sandbox_requests() if r["method"] == "POST")

        wait_for(lambda: posted(f"I have found your bag ({marker})") == 1, 30, "Zofia's reply reached the platform")
        assert posted(f"I have found your bag ({marker})") == 1 and posted(f"we are on it ({marker})") == 1

        # When Ana closes the ticket, Zofia sees her gone at her next heartbeat
        page.goto(f"{stack.ui}#/")
        expect(other.get_by_test_id("presence")).to_be_hidden()
    finally:
        try:
            other.evaluate("0")
        except Exception:  # noqa: BLE001 - a closed page has nothing more to report
            pass
        context.close()
    assert not errors, f"uncaught errors in the second agent's page: {errors}"
