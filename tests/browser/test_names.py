"""Real names, never raw ids (issue 15, point 1), in the browser against the local stack: a Messenger
customer the Graph API (the platform sandbox) knows by name writes twice; the ingest worker asks
for the name once, and the conversation shows it, never the page-scoped id; a customer the Graph
API does not know is greeted neutrally by the templates, never by id."""
from __future__ import annotations

import uuid

import requests
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, sign_in, wait_for

PAGE = "104000000000001"  # Nordlight's Facebook page (infra/local/demo.py)

expect.set_options(timeout=15_000)


def _messenger_dm(stack, psid: str, text: str) -> None:
    from infra.local import payloads as p

    mid = f"m_{uuid.uuid4().hex}"
    stack.webhook("meta", p.meta_payload("page", [p.meta_entry(PAGE, messaging=[p.messenger_event(PAGE, psid, mid, text)])]))


def _ticket(stack, token: str, marker: str) -> dict:
    return wait_for(lambda: next((t for t in stack.tickets(token) if marker in (t["last_message_preview"] or "")), None),
                    30, f"a ticket for the DM {marker!r}")


def _psid() -> str:
    return str(24_680_000_000_000_000 + uuid.uuid4().int % 10 ** 15)


def test_a_messenger_customer_shows_by_the_name_the_graph_api_gave_once(stack, page):
    sam = stack.token("sam", "supervisor")
    psid, marker = _psid(), uuid.uuid4().hex[:6]
    # Given a Messenger user the Graph API knows as Lina Haddad
    answer = requests.post(f"{stack.sandbox}/_sandbox/graph/profiles", timeout=5,
                           json={"profiles": [{"id": psid, "first_name": "Lina", "last_name": "Haddad"}]})
    assert answer.ok, answer.text
    # When she writes twice
    _messenger_dm(stack, psid, f"Hello, my lamp order is late ({marker})")
    ticket = _ticket(stack, sam, marker)
    _messenger_dm(stack, psid, f"Any news? ({marker}-2)")
    wait_for(lambda: marker + "-2" in (stack.get(f"/tickets/{ticket['id']}", sam)["last_message_preview"] or ""),
             30, "the follow-up joined the ticket")
    # Then the Graph API was asked for her name once
    asked = [r for r in stack.sandbox_requests() if r["path"].endswith(f"/{psid}")]
    assert len(asked) == 1 and asked[0]["query"]["fields"] == "name,first_name,last_name"
    # And the templates greet her by name
    rendered = {t["id"]: t["text"] for t in stack.get(f"/tickets/{ticket['id']}/templates", sam)["items"]}
    assert rendered["sorry-looking"].startswith("Hi Lina Haddad,") and psid not in " ".join(rendered.values())

    # And in the desk her row never shows the id, and her conversation shows her name
    sign_in(page, stack, sam)
    row = page.locator(".ticket-list > li").filter(has_text=marker)
    expect(row).to_be_visible(timeout=25_000)
    expect(row).not_to_contain_text(psid)
    expect(row.locator(".who")).to_have_text("Lina Haddad: ")  # the row names who wrote
    row.locator("a").first.click()
    expect(page.locator("#cust-title")).to_have_text("Lina Haddad")
    heads = page.locator(".conversation .msg-head strong")
    expect(heads.filter(has_text="Lina Haddad")).to_have_count(2)
    expect(page.locator(".conversation")).not_to_contain_text(psid)
    page.screenshot(path=str(SCREENSHOTS / "customer-by-name.png"))


def test_a_customer_the_graph_api_does_not_name_is_greeted_neutrally(stack, page):
    sam = stack.token("sam", "supervisor")
    psid, marker = _psid(), uuid.uuid4().hex[:6]
    _messenger_dm(stack, psid, f"Do you ship lamps to Oman? ({marker})")
    ticket = _ticket(stack, sam, marker)
    rendered = {t["id"]: t["text"] for t in stack.get(f"/tickets/{ticket['id']}/templates", sam)["items"]}
    assert rendered["sorry-looking"].startswith("Hi there,")
    assert all(psid not in text for text in rendered.values())
    # and the conversation's customer card names no id either
    sign_in(page, stack, sam)
    page.goto(f"{stack.ui}#/ticket/{ticket['id']}")
    expect(page.locator("#cust-title")).to_have_text("Customer")
    expect(page.locator("#cust-title")).not_to_contain_text(psid)


def test_the_demo_instagram_customer_of_the_issue_is_greeted_by_name_in_arabic(stack, page):
    """The issue's example: templates greeted this demo customer "مرحبًا 17841490000000009"."""
    from datetime import datetime, timezone

    from infra.local import corpus, traffic

    sam = stack.token("sam", "supervisor")
    line = corpus.load()[50]
    assert line["author"]["id"] == "17841490000000009" and line["channel"] == "ig_dm"
    for payload in traffic.build([line], datetime.now(timezone.utc))["meta"]:
        stack.webhook("meta", payload)
    ticket = wait_for(lambda: next((t for t in stack.tickets(sam) if t["channel"] == "instagram"
                                    and "يسخن" in (t["last_message_preview"] or "")), None), 30, "the Arabic DM's ticket")
    rendered = {t["id"]: t["text"] for t in stack.get(f"/tickets/{ticket['id']}/templates", sam)["items"]}
    assert rendered["sorry-looking"].startswith("مرحبًا فهد، ")
    assert all("17841490000000009" not in text for text in rendered.values())
    sign_in(page, stack, sam)
    page.goto(f"{stack.ui}#/ticket/{ticket['id']}")
    expect(page.locator("#cust-title")).to_have_text("فهد")
    expect(page.locator(".conversation")).not_to_contain_text("17841490000000009")
