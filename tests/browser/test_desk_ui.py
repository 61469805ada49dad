"""The agent desk in a real browser: what an agent and a supervisor do on a shift.

Given the local stack with a few signed mentions already in, when a new mention arrives while the
agent's inbox is open, then it appears by itself; the agent opens it, answers with a template,
and the reply reaches X in the platform sandbox and shows as sent. A supervisor reassigns a
ticket and reads the reports. Screenshots of the inbox, a conversation and the reports are saved
to build/screenshots/ on every run.
"""
from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timezone
from pathlib import Path

from playwright.sync_api import expect

from chalicelib.outbound.text import x_weighted_length
from tests.browser.conftest import SCREENSHOTS, sign_in, wait_for

WEB = Path(__file__).resolve().parents[2] / "chalicelib" / "web"
# x_tweet (VIP, English), Facebook comment, Instagram comment, WhatsApp, API channel (Finnish),
# X in Chinese and Arabic, Facebook in Greek: an inbox that looks like a morning's work
BACKGROUND = (0, 9, 5, 8, 21, 33, 43, 24)
AEGEAN_X = "1500000000000000002"

expect.set_options(timeout=15_000)


def post_background(stack) -> int:
    """Post a handful of the demo corpus's mentions as their platforms would, signed."""
    import requests

    from infra.local import corpus, traffic

    lines = corpus.load()
    deliveries = traffic.build([lines[i] for i in BACKGROUND], datetime.now(timezone.utc))
    for route in ("x", "meta", "api"):
        for payload in deliveries[route]:
            stack.webhook(route, payload)
    for wrote in deliveries["inbound"]:  # the sandbox enforces Meta's reply windows from these
        requests.post(f"{stack.sandbox}/_sandbox/inbound", json=wrote, timeout=5)
    return len(BACKGROUND)


def post_tweet(stack, text: str, name: str, handle: str) -> str:
    from infra.local import payloads

    tweet_id = str(1_880_000_000_000_000_000 + uuid.uuid4().int % 10 ** 17)
    author = {"id": str(1_590_000_000_000_000_000 + uuid.uuid4().int % 10 ** 17), "name": name, "handle": handle,
              "followers": 1840, "verified": False}
    stack.webhook("x", payloads.x_tweet_event(AEGEAN_X, tweet_id, author, text))
    return tweet_id


def ticket_with(stack, token: str, marker: str) -> dict:
    return wait_for(lambda: next((t for t in stack.tickets(token) if marker in (t["last_message_preview"] or "")), None),
                    30, f"a ticket for the mention {marker!r}")


def request_body(recorded: dict) -> dict:
    body = recorded["body"]
    return body if isinstance(body, dict) else json.loads(body)


def test_an_agent_sees_a_mention_arrive_answers_it_with_a_template_and_sees_it_sent(stack, page):
    ana = stack.token("ana")
    expected = post_background(stack)
    wait_for(lambda: len(stack.tickets(ana)) >= expected, 30, "the background mentions became tickets")

    sign_in(page, stack, ana)
    rows = page.locator(".ticket-list > li")
    expect(rows).to_have_count(expected)
    shown = [int(re.search(r"\d+", p).group()) for p in page.locator(".ticket-row .prio").all_inner_texts()]
    assert shown == sorted(shown, reverse=True), "the inbox is ordered by priority"
    expect(page.locator(".ticket-row .sla").first).to_have_text(re.compile(r"(left|over)$"))

    # Given the inbox is open, when a new mention arrives, then it appears without a reload
    marker = uuid.uuid4().hex[:6]
    text = f"@AegeanSkies my suitcase did not arrive in Athens and nobody answers the phone, please help (ref {marker})"
    tweet_id = post_tweet(stack, text, "Rosa Lindqvist", "rosa_flies")
    row = rows.filter(has_text=marker)
    expect(row).to_be_visible(timeout=25_000)
    expect(row.locator(".badge.new")).to_be_visible()
    expect(page.locator("#live")).to_contain_text("new ticket")
    expect(rows).to_have_count(expected + 1)
    page.screenshot(path=str(SCREENSHOTS / "inbox.png"))

    # (the CRM knows Rosa bought a suitcase: the event joins her timeline)
    rosa = next(t for t in stack.tickets(ana) if marker in (t["last_message_preview"] or ""))
    imported = stack.post(f"/customers/{rosa['customer_id']}/events", stack.token("sam", "supervisor"), {"events": [
        {"kind": "purchase", "at": "2026-11-02T09:00:00+00:00", "summary": "Cabin suitcase", "amount": 129,
         "currency": "EUR"}], "brand": rosa["brand"]})  # sam works for both brands: he names Aegean's CRM
    assert imported.status_code == 201, imported.text

    # When the agent opens it, then the conversation, why its priority and the customer show
    row.locator("a").click()
    expect(page).to_have_url(re.compile(r"#/ticket/"))
    ticket_id = page.url.split("#/ticket/")[1]
    expect(page.locator("#conv-title")).to_have_text("Rosa Lindqvist")
    expect(page.locator(".msg.in")).to_contain_text(marker)
    expect(page.locator(".factors li").first).to_be_visible()
    expect(page.locator(".sidebar .identities")).to_contain_text("@rosa_flies")
    expect(page.locator(".sidebar .timeline")).to_contain_text("Cabin suitcase")
    expect(page.locator("#vis-public")).to_be_checked()

    # The counter counts as X does (CJK weighs 2) and will not send what X would refuse
    reply_box = page.get_by_label("Reply text", exact=True)
    reply_box.fill("好" * 141)
    expect(page.locator("#reply-count")).to_have_text(re.compile(r"^282 / 280 "))
    expect(page.get_by_role("button", name="Send reply")).to_be_disabled()
    reply_box.fill("")

    # When the agent picks a template, then its text rendered for this customer fills the box
    templates = stack.get(f"/tickets/{ticket_id}/templates", ana)["items"]
    template = next(t for t in templates if x_weighted_length(t["text"]) <= 280)
    assert "{{" not in template["text"]
    page.get_by_label("Template", exact=True).select_option(template["id"])
    expect(reply_box).to_have_value(template["text"])
    expect(page.locator("#reply-count")).to_have_text(f"{x_weighted_length(template['text'])} / 280 X characters")

    # A refusal (here: the platform's window closed meanwhile) shows inline; the draft stays
    replies_url = f"**/api/tickets/{ticket_id}/replies"
    page.route(replies_url, lambda route: route.fulfill(status=422, json={
        "error": "the 24-hour reply window closed 2 minutes ago", "field": "text"}))
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator("#reply-error")).to_contain_text("the 24-hour reply window closed")
    page.unroute(replies_url)
    expect(reply_box).to_have_value(template["text"])
    expect(reply_box).to_be_focused()
    # live refresh: the inbox and the ticket are polled without losing the draft or the focus
    with page.expect_response(lambda r: "/api/tickets?" in r.url), \
            page.expect_response(lambda r: r.url.endswith(f"/api/tickets/{ticket_id}")):
        pass
    expect(reply_box).to_have_value(template["text"])
    expect(reply_box).to_be_focused()
    assert not unlabelled_controls(page)

    newest = stack.get(f"/tickets/{ticket_id}", ana)["messages"][-1]["id"]
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith(f"/api/tickets/{ticket_id}/replies")) as sent:
        page.keyboard.press("Control+Enter")
    body = sent.value.post_data_json
    assert body.pop("seen") == newest  # issue 16: the reply says what the view had loaded, its newest entry
    assert body == {"text": template["text"], "visibility": "public", "template_id": template["id"]}
    assert sent.value.headers.get("idempotency-key")
    expect(reply_box).to_have_value("")

    # Then the reply reaches X (a reply to the customer's tweet), once, and shows as sent
    def on_x():
        return [r for r in stack.sandbox_requests() if r["method"] == "POST" and r["path"] == "/2/tweets"
                and request_body(r).get("text") == template["text"]]

    posted = wait_for(on_x, 30, "the reply reached X in the platform sandbox")
    assert len(posted) == 1
    assert request_body(posted[0])["reply"]["in_reply_to_tweet_id"] == tweet_id
    reply = page.locator(".msg.out").filter(has_text=template["text"][:30])
    expect(reply.get_by_test_id("reply-status")).to_have_text("Sent", timeout=20_000)
    expect(page.locator(".conv-head .sla-done")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "conversation.png"))

    # and the keyboard: r writes a reply, ? shows the shortcuts, j opens the next ticket
    page.locator("#conv-title").click()
    page.keyboard.press("r")
    expect(reply_box).to_be_focused()
    expect(reply_box).to_have_value("")  # the key itself is not typed
    page.keyboard.press("Escape")
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    expect(page).not_to_have_url(re.compile(re.escape(ticket_id)))


def unlabelled_controls(page) -> list[str]:
    """Every form control has an accessible name (a <label>, aria-label or aria-labelledby)."""
    return page.evaluate("""() => [...document.querySelectorAll("input, select, textarea")]
        .filter((el) => !el.closest("[hidden]") && !el.labels?.length && !el.getAttribute("aria-label")
                        && !el.getAttribute("aria-labelledby"))
        .map((el) => el.outerHTML.slice(0, 120))""")


def test_a_supervisor_reassigns_a_ticket_and_reads_the_reports(stack, page):
    sam = stack.token("sam", "supervisor")
    marker = uuid.uuid4().hex[:6]
    post_tweet(stack, f"@AegeanSkies where is my refund for the cancelled Rhodes flight? (ref {marker})",
               "Jonas Berg", "jonasberg")
    answered = uuid.uuid4().hex[:6]
    post_tweet(stack, f"@AegeanSkies can I change my seat online? (ref {answered})", "Lea Koch", "leakoch")
    ticket = ticket_with(stack, sam, marker)
    # the reports need a first response: one goes out through the API while the supervisor works
    other = ticket_with(stack, sam, answered)
    assert stack.post(f"/tickets/{other['id']}/replies", sam,
                      {"text": f"Yes: Manage booking, then Seats. ({answered})", "visibility": "public"}).status_code == 202
    # routing assigns new tickets right after ingest; let it finish before editing the ticket
    ticket = wait_for(lambda: (t := stack.get(f"/tickets/{ticket['id']}", sam))["assignee"] and t, 15,
                      "routing assigned the new ticket")
    target = "zofia" if ticket["assignee"] != "zofia" else "wei"

    sign_in(page, stack, sam)
    page.get_by_role("link", name="Supervisor").click()
    expect(page.get_by_role("heading", name="Supervisor", level=1)).to_be_focused()
    expect(page.locator("tr[data-agent]")).to_have_count(6)
    expect(page.locator("tr[data-agent='zofia']")).to_contain_text("Online")
    open_now = stack.get("/queues", sam)["statuses"]["open"]
    expect(page.locator(".stat-card[data-status='open'] .stat-value")).to_have_text(str(open_now))
    assert open_now >= 2

    row = page.locator(f"tr[data-ticket='{ticket['id']}']")
    row.locator("select").select_option(target)
    row.get_by_role("button", name="Reassign").click()
    expect(page.locator(".supervisor .notice")).to_have_text(f"Ticket assigned to {target}.")
    assert stack.get(f"/tickets/{ticket['id']}", sam)["assignee"] == target
    expect(page.locator(f"tr[data-ticket='{ticket['id']}'] select")).to_have_value(target)
    assert not unlabelled_controls(page)
    page.screenshot(path=str(SCREENSHOTS / "supervisor.png"))  # the load meters are sized through the CSSOM

    wait_for(lambda: stack.get(f"/tickets/{other['id']}", sam)["first_response_at"], 30, "the API reply was sent")
    page.get_by_role("link", name="Reports").click()
    charts = page.locator("figure.chart svg[role='img']")
    expect(charts).to_have_count(4)
    expect(page.locator("figure.chart").filter(has_text="Volume by channel")).to_contain_text("X")
    expect(page.locator("figure.chart").filter(has_text="First response time")).to_contain_text("X")
    page.set_viewport_size({"width": 1366, "height": 1060})  # the four charts in one picture
    page.screenshot(path=str(SCREENSHOTS / "reports.png"))

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Access token")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('care-desk-token')") is None


COUNT_SAMPLES = [
    "Thanks, we are on it!",
    "我的订单已经十天了还没发货",
    "مرحبا، شكراً لتواصلك معنا",
    "Γειά σας, λυπούμαστε πολύ",
    "Great 👍🏽 and 👨‍👩‍👧 and 1️⃣ and 🇫🇮",
    "see https://example.com/a/very/long/path?x=1 and http://t.co/x",
    "cafe\u0301 naïve — “quoted” … ‰ ′",
    "好" * 141,
    "",
]


def test_the_reply_counter_counts_every_platform_as_the_server_does(page):
    def serve(route):
        name = route.request.url.split("?")[0].rsplit("/", 1)[-1]
        if name.endswith(".js"):
            route.fulfill(body=(WEB / name).read_text(encoding="utf-8"), content_type="text/javascript; charset=utf-8")
        else:
            route.fulfill(body="<!doctype html><meta charset='utf-8'><title>count</title>", content_type="text/html")

    page.route("http://desk.test/**", serve)
    page.goto("http://desk.test/")
    counted = page.evaluate("""async (texts) => {
        const m = await import("/ui/count.js");
        return texts.map((t) => [m.measure(t, "x"), m.measure(t, "characters"), m.measure(t, "bytes")]);
    }""", COUNT_SAMPLES)
    assert counted == [[x_weighted_length(t), len(t), len(t.encode("utf-8"))] for t in COUNT_SAMPLES]


def test_an_agent_signs_in_through_the_user_pools_hosted_ui(stack, page):
    """In AWS the desk signs in with Cognito's hosted UI; the sandbox stands in for the pool."""
    import base64

    page.goto(stack.ui)
    page.get_by_role("link", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/cognito/oauth2/authorize\?.*response_type=token"))
    page.get_by_label("User name").fill("wei")
    page.get_by_label("Group").select_option("supervisors")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Sections").wait_for()
    expect(page.locator(".topbar")).to_contain_text("wei")
    expect(page.get_by_role("link", name="Supervisor")).to_be_visible()  # the pool's group is the role
    assert "id_token" not in page.url  # the token left the address bar
    token = page.evaluate("sessionStorage.getItem('care-desk-token')")
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["alg"] == "RS256"
    # and a forged redirect (no matching state) does not sign anyone in
    page.evaluate("sessionStorage.clear()")
    page.goto(stack.ui.split("#")[0] + f"#id_token={token}&state=forged")
    expect(page.get_by_label("Access token")).to_be_visible()
