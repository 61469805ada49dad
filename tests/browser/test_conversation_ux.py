"""Issue 15, the conversation view, in a real browser: the reply window counts down from the
server's end of it; "Send and set Pending" / "Send and close" move the ticket on and open the next
(the brand's default preselected, a 409 on the status said); below 1100 px the side panel is a
drawer (button and `i`), and the reply box is a skip link away; templates by keyboard (`/`, type,
Enter), shown by name; Enter submits the Done dialog, Ctrl+Enter on an over-limit reply says why,
and status-change lines read as times. The 800 px drawer is saved to build/screenshots/drawer-800.png.
"""
from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import requests
from playwright.sync_api import expect

from chalicelib.outbound.text import x_weighted_length
from tests.browser.conftest import SCREENSHOTS, sign_in, wait_for
from tests.browser.test_desk_ui import post_tweet, ticket_with

expect.set_options(timeout=15_000)
AEGEAN_WHATSAPP = "109000000000002"


def _open(page, stack, ticket_id: str) -> None:
    page.goto(f"{stack.ui}#/ticket/{ticket_id}")
    expect(page.locator("#reply-text")).to_be_visible()


def _whatsapp(stack, marker: str) -> None:
    from infra.local import payloads as p

    wa_id = str(306900000000 + uuid.uuid4().int % 10 ** 8)
    change = p.wa_message_change(AEGEAN_WHATSAPP, wa_id, "Eleni Georgiou", f"wamid.{uuid.uuid4().hex}",
                                 text=f"Where is my refund? ({marker})", display_phone_number="302100000002")
    stack.webhook("meta", p.meta_payload("whatsapp_business_account", [p.meta_entry("209000000000002", [change])]))


def _put_reply_settings(stack, document: dict) -> None:
    admin = stack.token("root", "admin")
    current = requests.get(f"{stack.api}/api/settings/replies", timeout=10,
                           headers={"Authorization": f"Bearer {admin}"}).json()
    answer = requests.put(f"{stack.api}/api/settings/replies", json={**document, "version": current["version"]},
                          timeout=10, headers={"Authorization": f"Bearer {admin}"})
    assert answer.status_code == 200, answer.text


def _hours_left(text: str) -> float:
    found = re.search(r"closes in (?:(\d+)h )?(\d+)m", text)
    assert found, text
    return int(found.group(1) or 0) + int(found.group(2)) / 60


# -- point 2: the reply window ---------------------------------------------------------------------
def test_the_reply_window_counts_down_from_the_servers_end_of_it(stack, page):
    ana = stack.token("ana")
    marker = uuid.uuid4().hex[:6]
    _whatsapp(stack, marker)
    ticket = ticket_with(stack, ana, marker)
    closes_at = stack.get(f"/tickets/{ticket['id']}", ana)["reply_options"]["private"]["window_closes_at"]
    server_left = (datetime.fromisoformat(closes_at) - datetime.now(timezone.utc)).total_seconds() / 3600
    assert 23 < server_left <= 24

    page.clock.install()  # the page's own clock, so the countdown can be moved on without waiting
    sign_in(page, stack, ana)
    _open(page, stack, ticket["id"])
    window = page.locator(".reply-foot .window")
    # Then the footer shows the server's window end as time left, never "just now"
    expect(window).to_have_text(re.compile(r"^reply window closes in 2[34]h \d\dm$"))
    assert abs(_hours_left(window.inner_text()) - server_left) < 0.1
    assert datetime.fromisoformat(window.get_attribute("data-closes-at").replace("Z", "+00:00")) == \
        datetime.fromisoformat(closes_at)
    # And it ticks: two hours on, two hours less
    before = _hours_left(window.inner_text())
    page.clock.fast_forward("02:00:00")
    expect(window).not_to_have_text(re.compile(rf"closes in {int(before)}h"))
    assert abs(before - 2 - _hours_left(window.inner_text())) < 0.1
    page.clock.fast_forward("23:00:00")
    expect(window).to_have_text("reply window closed")


# -- point 3: after answering, the ticket moves on -------------------------------------------------
def test_send_and_set_pending_moves_the_ticket_on_and_opens_the_next(stack, page):
    ana = stack.token("ana")
    first_marker, second_marker = uuid.uuid4().hex[:6], uuid.uuid4().hex[:6]
    post_tweet(stack, f"@AegeanSkies is my flight on time? ({first_marker})", "Nikos Pappas", "nikos_p")
    post_tweet(stack, f"@AegeanSkies lost my booking code ({second_marker})", "Maria Kosta", "maria_k")
    first = ticket_with(stack, ana, first_marker)
    ticket_with(stack, ana, second_marker)

    sign_in(page, stack, ana)
    _open(page, stack, first["id"])
    # the shipped default keeps the ticket open: the plain "Send reply"
    expect(page.locator("#reply-then")).to_have_value("open")
    page.get_by_label("Then", exact=True).select_option("pending")
    send = page.get_by_role("button", name="Send and set Pending")
    page.get_by_label("Reply text", exact=True).fill(f"Yes, on time today. ({first_marker})")
    send.click()
    # Then the reply is stored, the ticket is Pending, and another ticket opens
    expect(page).not_to_have_url(re.compile(re.escape(first["id"])))
    expect(page).to_have_url(re.compile(r"#/ticket/"))
    after = stack.get(f"/tickets/{first['id']}", ana)
    assert after["status"] == "pending"
    assert [m["text"] for m in after["messages"] if m["direction"] == "out"] == [f"Yes, on time today. ({first_marker})"]


def test_the_brands_default_is_preselected_and_a_409_on_the_status_is_said(stack, page):
    ana = stack.token("ana")
    _put_reply_settings(stack, {"after_reply": "open", "brands": {"aegean": "closed"}})
    try:
        marker = uuid.uuid4().hex[:6]
        post_tweet(stack, f"@AegeanSkies can I change my seat? ({marker})", "Yannis Dimou", "yannis_d")
        ticket = ticket_with(stack, ana, marker)
        sign_in(page, stack, ana)
        # the status change meets a stale version (someone changed the ticket meanwhile)
        page.route(f"**/api/tickets/{ticket['id']}", lambda route: route.fulfill(
            status=409, content_type="application/json", body=json.dumps({"error": "the ticket changed meanwhile"}))
            if route.request.method == "PATCH" else route.continue_())
        _open(page, stack, ticket["id"])
        expect(page.locator("#reply-then")).to_have_value("closed")
        page.get_by_label("Reply text", exact=True).fill(f"Yes, in the app. ({marker})")
        page.get_by_role("button", name="Send and close").click()
        expect(page.locator("#reply-error")).to_contain_text("Reply sent, but the ticket was not closed: it changed meanwhile")
        expect(page).to_have_url(re.compile(re.escape(ticket["id"])))  # it stays, for the agent to check
        after = stack.get(f"/tickets/{ticket['id']}", ana)
        assert after["status"] == "open" and any(m["direction"] == "out" for m in after["messages"])
    finally:
        _put_reply_settings(stack, {"after_reply": "open", "brands": {}})


# -- point 4: any screen ---------------------------------------------------------------------------
def test_below_1100px_the_details_are_a_drawer_and_the_reply_box_a_skip_link_away(stack, page):
    ana = stack.token("ana")
    marker = uuid.uuid4().hex[:6]
    post_tweet(stack, f"@AegeanSkies my bag is damaged ({marker})", "Sofia Andreou", "sofia_a")
    ticket = ticket_with(stack, ana, marker)
    page.set_viewport_size({"width": 800, "height": 700})
    sign_in(page, stack, ana)
    _open(page, stack, ticket["id"])
    side = page.get_by_role("complementary", name="Ticket and customer details")
    expect(side).to_be_hidden()
    # `i` opens the drawer with the priority reasons, the customer and the history, focused
    page.locator("#conv-title").focus()
    page.keyboard.press("i")
    expect(side).to_be_visible()
    expect(side).to_be_focused()
    expect(side.locator(".factors li").first).to_be_visible()
    expect(side.locator(".identities")).to_contain_text("@sofia_a")
    page.screenshot(path=str(SCREENSHOTS / "drawer-800.png"))
    # Esc closes it and gives the focus back to its button; the button opens it again
    page.keyboard.press("Escape")
    expect(side).to_be_hidden()
    button = page.get_by_role("button", name="Details", exact=True)
    expect(button).to_be_focused()
    expect(button).to_have_attribute("aria-expanded", "false")
    button.click()
    expect(side).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "true")
    side.get_by_role("button", name="Close details").click()
    expect(side).to_be_hidden()
    button.click()
    # the shortcut is in the help
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Shortcuts").click()
    expect(page.locator("#help")).to_contain_text("Ticket details")
    page.keyboard.press("Escape")
    # From the top of the page (freshly loaded) the reply box is two Tabs and an Enter away
    page.reload()
    expect(page.locator("#reply-text")).to_be_visible()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to the reply box")
    page.keyboard.press("Enter")
    expect(page.locator("#reply-text")).to_be_focused()


# -- point 5: templates by keyboard ----------------------------------------------------------------
def test_slash_in_the_empty_reply_opens_a_template_search_and_enter_inserts(stack, page):
    ana = stack.token("ana")
    marker = uuid.uuid4().hex[:6]
    post_tweet(stack, f"@AegeanSkies thank you for the upgrade ({marker})", "Petros Vlachos", "petros_v")
    ticket = ticket_with(stack, ana, marker)
    templates = stack.get(f"/tickets/{ticket['id']}/templates", ana)["items"]
    fitting = [t for t in templates if x_weighted_length(t["text"]) <= 280]
    assert len(fitting) >= 2, templates
    chosen = fitting[-1]
    sign_in(page, stack, ana)
    _open(page, stack, ticket["id"])
    expect(page.locator("#template-picker")).to_be_hidden()
    expect(page.get_by_role("button", name="Templates")).to_be_enabled()  # loaded
    page.get_by_label("Reply text", exact=True).focus()
    page.keyboard.press("/")
    search = page.get_by_role("combobox", name="Insert a template")
    expect(search).to_be_focused()
    options = page.get_by_role("listbox", name="Templates").get_by_role("option")
    expect(options).to_have_count(len(templates))
    page.keyboard.type(chosen["name"])
    expect(options.first).to_contain_text(chosen["name"])
    expect(options.first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    reply = page.get_by_label("Reply text", exact=True)
    expect(reply).to_have_value(chosen["text"])
    expect(page.locator("#template-picker")).to_be_hidden()
    # a slash in a box that has text is just a slash
    reply.press("End")
    reply.press("/")
    expect(page.locator("#template-picker")).to_be_hidden()
    expect(reply).to_have_value(chosen["text"] + "/")
    reply.press("Backspace")
    # sent, the reply names its template by name, never by id
    page.get_by_role("button", name="Send reply").click()
    foot = page.locator(".msg.out [data-template]")
    expect(foot).to_have_text(f"template “{chosen['name']}”")
    assert chosen["id"] not in foot.inner_text()


# -- point 8: small things that break flow ---------------------------------------------------------
def test_enter_submits_done_ctrl_enter_over_the_limit_says_why_and_events_read_as_times(stack, page):
    ana = stack.token("ana")
    marker = uuid.uuid4().hex[:6]
    post_tweet(stack, f"@AegeanSkies where do I check in? ({marker})", "Irini Sava", "irini_s")
    ticket = ticket_with(stack, ana, marker)
    until = (datetime.now(timezone.utc) + timedelta(hours=2)).replace(second=0, microsecond=0)
    local = until.astimezone(ZoneInfo("Europe/Helsinki")).strftime("%H:%M")

    def with_a_pause(route):  # a status change with a time in it, as the timeline shows it
        answer = route.fetch()
        body = answer.json()
        body["messages"].append({"id": "ev-pause", "direction": "event", "action": "edited",
                                 "author": {"name": "Sam"}, "created_at": datetime.now(timezone.utc).isoformat(),
                                 "changes": {"status": "on_hold", "paused_until": until.isoformat()}})
        route.fulfill(response=answer, json=body)

    sign_in(page, stack, ana)
    page.route(f"**/api/tickets/{ticket['id']}", lambda route: with_a_pause(route)
               if route.request.method == "GET" else route.continue_())
    _open(page, stack, ticket["id"])
    pause = page.locator('.event[data-id="ev-pause"]')
    expect(pause).to_contain_text(re.compile(rf"Paused until (\w+ \d+, )?{local}"))
    expect(pause).not_to_contain_text(until.isoformat()[:16])

    # The agent sets it Pending herself: the event reads "Paused at HH:MM", no ISO string
    page.locator("#ticket-status").select_option("pending")
    paused = page.locator(".event").filter(has_text="Paused at")
    expect(paused).to_have_count(1)
    assert not re.search(r"\d{4}-\d\d-\d\dT", paused.inner_text()), paused.inner_text()

    # Ctrl+Enter on a reply over X's limit says why nothing was sent
    reply = page.get_by_label("Reply text", exact=True)
    reply.fill("好" * 141)
    reply.press("Control+Enter")
    expect(page.locator("#reply-error")).to_have_text(re.compile(r"^Not sent: the reply is 2 .+ over the limit of 280; shorten it\.$"))
    reply.fill("")

    # Enter submits the Done dialog
    page.locator("#conv-title").focus()
    page.keyboard.press("d")
    expect(page.locator("#done-reason")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#done-dialog")).to_be_hidden()
    wait_for(lambda: stack.get(f"/tickets/{ticket['id']}", ana)["status"] == "closed", 10, "the ticket was done")
