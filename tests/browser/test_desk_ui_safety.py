"""What the desk's UI must never do, tried in a real browser against the local stack.

* An internal note is never published: the composer's "Internal note" mode is its own tab, box
  and button; in it Ctrl+Enter saves a note and nothing else, and switching modes keeps both
  drafts and sends nothing. The platform sandbox receives nothing.
* The page runs under its Content-Security-Policy: injected inline script, inline style, eval and
  HTML strings are refused (and the suite notices each: see CSP_WATCH in conftest), and no other
  site can frame it.
* An attachment URL from a platform becomes a link only when it is http(s): a `javascript:` or
  `data:` URL in a signed webhook stays text.
"""
from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path

import requests
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, sign_in, wait_for
from tests.browser.test_desk_ui import post_tweet, ticket_with

WEB = Path(__file__).resolve().parents[2] / "chalicelib" / "web"
AEGEAN_PAGE = "104000000000002"

expect.set_options(timeout=15_000)


def open_ticket(page, ticket_id: str) -> None:
    page.locator(f".ticket-list li[data-id='{ticket_id}'] a").click()
    expect(page).to_have_url(re.compile(re.escape(f"#/ticket/{ticket_id}")))


def writes(requests_seen: list, path: str) -> list:
    """The requests that change the ticket: not a GET, nor the presence heartbeat (issue 16)."""
    return [r for r in requests_seen if r.method != "GET" and path in r.url and not r.url.endswith("/presence")]


def test_a_note_saved_with_ctrl_enter_in_note_mode_never_reaches_a_platform(stack, page):
    ana = stack.token("ana")
    marker = uuid.uuid4().hex[:8]
    post_tweet(stack, f"@AegeanSkies is the 07:40 to Rhodes tomorrow still on? (ref {marker})", "Nikos Alexiou", "nikos_a")
    ticket = ticket_with(stack, ana, marker)
    seen: list = []
    page.on("request", lambda r: seen.append(r))

    sign_in(page, stack, ana)
    open_ticket(page, ticket["id"])
    expect(page.locator(".msg.in")).to_contain_text(marker)
    reply_tab = page.get_by_role("tab", name="Reply")
    note_tab = page.get_by_role("tab", name="Internal note")
    reply_box = page.get_by_label("Reply text", exact=True)
    note_box = page.get_by_label("Note text", exact=True)
    expect(reply_tab).to_have_attribute("aria-selected", "true")
    expect(note_tab).to_have_attribute("aria-selected", "false")
    expect(page.locator("#vis-public")).to_be_checked()
    expect(note_box).to_be_hidden()

    # Given a reply half written, when the agent switches to note mode (Alt+N, while typing),
    # then the note box is empty, amber, labelled, and nothing of the reply form is left
    reply_draft = f"Let me check the 07:40 for you ({marker})"
    reply_box.fill(reply_draft)
    page.keyboard.press("Alt+n")
    expect(note_tab).to_have_attribute("aria-selected", "true")
    expect(reply_tab).to_have_attribute("aria-selected", "false")
    expect(note_box).to_be_focused()
    expect(note_box).to_have_value("")
    expect(note_box).to_have_attribute("placeholder", re.compile(r"^Write a note for your team"))
    expect(page.locator(".note-banner")).to_have_text(re.compile(r"Internal note.*only agents see this"))
    for gone in (page.locator("#vis-public"), page.locator("#vis-private"), reply_box,
                 page.get_by_role("button", name="Send reply")):
        expect(gone).to_be_hidden()
    save = page.get_by_role("button", name="Save note")
    expect(save).to_be_disabled()
    amber = page.evaluate("getComputedStyle(document.querySelector('.note-form')).backgroundColor")
    white = page.evaluate("getComputedStyle(document.querySelector('.reply:not(.note-form)')).backgroundColor")
    assert amber == "rgb(254, 243, 199)" and amber != white

    # the team lead's note: switching back and forth (keys, tabs, arrows) keeps both drafts
    secret = uuid.uuid4().hex[:8]
    note = f"INTERNAL: refund {secret} approved by finance, can be closed"
    note_box.fill(note)
    expect(save).to_be_enabled()
    page.keyboard.press("Alt+r")
    expect(reply_tab).to_have_attribute("aria-selected", "true")
    expect(reply_box).to_be_focused()
    expect(reply_box).to_have_value(reply_draft)
    note_tab.click()
    expect(note_box).to_have_value(note)
    expect(note_box).to_be_focused()
    note_tab.focus()
    page.keyboard.press("ArrowLeft")
    expect(reply_tab).to_be_focused()
    expect(reply_box).to_be_visible()
    page.keyboard.press("ArrowRight")
    expect(note_box).to_have_value(note)
    page.locator("#conv-title").click()
    page.keyboard.press("r")
    expect(reply_box).to_be_focused()
    expect(reply_box).to_have_value(reply_draft)  # the key itself is not typed
    page.keyboard.press("Escape")
    page.keyboard.press("n")
    expect(note_box).to_be_focused()
    expect(note_box).to_have_value(note)
    # and both drafts (and the mode) survive a reload of the tab
    page.reload()
    expect(note_tab).to_have_attribute("aria-selected", "true")
    expect(note_box).to_have_value(note)
    expect(reply_box).to_have_value(reply_draft)
    page.screenshot(path=str(SCREENSHOTS / "composer-note.png"))
    assert not writes(seen, f"/api/tickets/{ticket['id']}/"), "switching modes sent something"

    # When the agent presses Ctrl+Enter in note mode, then a note is saved, and only a note
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith(f"/api/tickets/{ticket['id']}/notes")) as saved:
        note_box.press("Control+Enter")
    body = saved.value.post_data_json
    assert body.pop("seen") and body == {"text": note}  # seen: what the view had loaded (issue 16)
    shown = page.locator(".msg.note").filter(has_text=secret)
    expect(shown).to_contain_text("Internal note")
    expect(note_box).to_have_value("")
    expect(note_tab).to_have_attribute("aria-selected", "true")
    note_box.press("Control+Enter")  # an empty note box: Ctrl+Enter does nothing at all
    reply_tab.click()
    expect(reply_box).to_have_value(reply_draft)
    page.screenshot(path=str(SCREENSHOTS / "composer-reply-after-note.png"))
    assert [r.url for r in writes(seen, f"/api/tickets/{ticket['id']}/")] == [saved.value.url]

    # Then nothing reached any platform: the sandbox saw no request and published no post with it
    time.sleep(3)  # the outbound worker polls every few hundred ms; give a leak time to show
    for recorded in stack.sandbox_requests():
        assert secret not in json.dumps(recorded), f"the note reached the sandbox: {recorded}"
    assert not [p for p in stack.sandbox_posts() if secret in json.dumps(p)]
    stored = stack.get(f"/tickets/{ticket['id']}", ana)["messages"]
    assert [m["direction"] for m in stored if secret in (m.get("text") or "")] == ["note"]
    assert not [m for m in stored if m["direction"] == "out" and marker in (m.get("text") or "")]


def test_the_help_lists_the_note_shortcuts(stack, page):
    sign_in(page, stack, stack.token("ana"))
    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_contain_text("Write an internal note")
    expect(help_dialog).to_contain_text("Note mode: save the note, nothing else")
    expect(help_dialog.locator("dt").filter(has_text=re.compile(r"^Alt\s*\+\s*N$"))).to_have_count(1)


def test_the_page_refuses_injected_script_and_style_and_the_suite_notices(stack, page, csp_violations):
    # (Playwright's evaluate may itself eval, so `'unsafe-eval'` is checked on the header)
    answer = requests.get(f"{stack.api}/", timeout=5)
    assert not re.search(r"'unsafe-|\*", answer.headers["Content-Security-Policy"])
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["Referrer-Policy"] == "no-referrer"

    page.goto(stack.ui)
    expect(page.get_by_label("Access token")).to_be_visible()
    tried = page.evaluate("""() => {
        const out = {};
        document.body.setAttribute("style", "background-color: rgb(255, 0, 0)");
        out.style = getComputedStyle(document.body).backgroundColor;
        const button = document.createElement("button");
        try { button.setAttribute("onclick", "window.__pwned = 'onclick'"); out.handler = "set"; } catch (e) { out.handler = e.name; }
        document.body.append(button);
        button.click();
        const script = document.createElement("script");
        try { script.text = "window.__pwned = 'script'"; out.script = "set"; } catch (e) { out.script = e.name; }
        document.body.append(script);
        try { document.body.insertAdjacentHTML("beforeend", "<b>markup</b>"); out.html = "inserted"; } catch (e) { out.html = e.name; }
        out.pwned = window.__pwned || null;
        return out;
    }""")
    # the style attribute is ignored; strings never reach a script or HTML sink (Trusted Types)
    assert tried == {"style": "rgba(0, 0, 0, 0)", "handler": "TypeError", "script": "TypeError",
                     "html": "TypeError", "pwned": None}
    page.wait_for_function("window.__cspViolations.length >= 4")
    page.evaluate("0")  # the console messages for them have arrived
    directives = [json.loads(v.removeprefix("csp-violation "))["directive"] for v in csp_violations]
    assert sorted(set(directives)) == ["require-trusted-types-for", "style-src-attr"], directives
    csp_violations.clear()  # these were the point of the test

    # no other site can frame the desk (clickjacking)
    page.route("http://attacker.test/**", lambda route: route.fulfill(
        content_type="text/html", body=f"<!doctype html><title>prize</title><iframe src='{stack.api}/'></iframe>"))
    page.goto("http://attacker.test/")
    page.wait_for_load_state("load")
    framed = page.frames[1]
    expect(page.locator("iframe")).to_have_count(1)
    assert framed.url.startswith("chrome-error:"), framed.url  # refused: the frame holds Chromium's error page
    assert framed.query_selector("#signin-token") is None


ATTACHMENT_URLS = {
    "https://pbs.twimg.com/media/boarding-pass.jpg": "https://pbs.twimg.com/media/boarding-pass.jpg",
    "http://example.com/a b?x=1": "http://example.com/a%20b?x=1",
    "HTTPS://Example.COM/x": "https://example.com/x",
    "javascript:alert(document.domain)": None,
    " JaVaScRiPt:alert(1)": None,
    "\tjava\nscript:alert(1)": None,
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==": None,
    "vbscript:msgbox(1)": None,
    "file:///etc/passwd": None,
    "ses-attachment:invoice.pdf": None,
    "//evil.example/x": None,
    "/api/tickets": None,
    "": None,
}


def test_only_http_urls_become_links(page):
    """The helper every external link goes through (dom.js `httpUrl`), in the browser's own URL parser."""
    def serve(route):
        name = route.request.url.split("?")[0].rsplit("/", 1)[-1]
        if name.endswith(".js"):
            route.fulfill(body=(WEB / name).read_text(encoding="utf-8"), content_type="text/javascript; charset=utf-8")
        else:
            route.fulfill(body="<!doctype html><meta charset='utf-8'><title>urls</title>", content_type="text/html")

    page.route("http://desk.test/**", serve)
    page.goto("http://desk.test/")
    checked = page.evaluate("""async (urls) => {
        const { httpUrl } = await import("/ui/dom.js");
        return [...urls.map((u) => httpUrl(u)), httpUrl(null), httpUrl(undefined), httpUrl({ toString: () => "javascript:x" })];
    }""", list(ATTACHMENT_URLS))
    assert checked == [*ATTACHMENT_URLS.values(), None, None, None]


def test_a_javascript_attachment_from_a_signed_webhook_is_never_a_link(stack, page):
    from infra.local import payloads

    ana = stack.token("ana")
    marker = uuid.uuid4().hex[:8]
    sender = str(7_100_000_000_000_000 + uuid.uuid4().int % 10 ** 15)
    event = payloads.messenger_event(AEGEAN_PAGE, sender, f"m_{marker}", text=f"my boarding pass, ref {marker}", attachments=[
        {"type": "image", "payload": {"url": "javascript:window.__pwned='attachment'"}},
        {"type": "file", "payload": {"url": "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="}},
        {"type": "file", "payload": {"url": " JaVaScRiPt:window.__pwned='attachment'"}},
        {"type": "image", "payload": {"url": "https://scontent.xx.fbcdn.net/v/t1/boarding-pass.jpg"}}])
    stack.webhook("meta", payloads.meta_payload("page", [payloads.meta_entry(AEGEAN_PAGE, messaging=[event])]))
    ticket = ticket_with(stack, ana, marker)

    sign_in(page, stack, ana)
    open_ticket(page, ticket["id"])
    links = page.locator(".msg.in .attachments a")
    expect(links).to_have_count(1)
    expect(links).to_have_attribute("href", "https://scontent.xx.fbcdn.net/v/t1/boarding-pass.jpg")
    hrefs = page.evaluate("[...document.querySelectorAll('[href]')].map((el) => el.getAttribute('href'))")
    assert not [h for h in hrefs if not re.match(r"^(https?://|#|/)", h.strip(), re.I)], hrefs
    wait_for(lambda: page.locator(".msg.in .attachments li").count() >= 2, 5, "the refused attachments show as text")
