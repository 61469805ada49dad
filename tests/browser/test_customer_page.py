"""The customer page in a real browser (issue 15, point 6): a supervisor opens a customer and sees
her identities, tickets, the timeline with what she wrote and was answered, and a profile the desk
suspects is the same person (the same handle on another channel); she merges it from the page and
undoes the merge from the same page. A screenshot is saved to build/screenshots/customer-page.png.
"""
from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, sign_in, wait_for
from tests.browser.test_accessibility import check
from tests.browser.test_desk_ui import post_tweet, ticket_with

expect.set_options(timeout=15_000)


def test_a_supervisor_sees_the_customer_whole_merges_a_suspect_and_undoes_it(stack, page):
    from infra.local import payloads

    sam = stack.token("sam", "supervisor")
    handle = f"maya{uuid.uuid4().hex[:6]}"
    tweet, chat = uuid.uuid4().hex[:6], uuid.uuid4().hex[:6]
    post_tweet(stack, f"@AegeanSkies my refund for the Rhodes flight? (ref {tweet})", "Maya Katsaros", handle)
    stack.webhook("api", payloads.api_body(f"web-{chat}", f"visitor-{chat}", "Maya K",
                                           f"Chat: still waiting for my refund (ref {chat})", handle=handle,
                                           channel_id="aegean-web"))
    on_x, on_web = ticket_with(stack, sam, tweet), ticket_with(stack, sam, chat)
    assert stack.post(f"/tickets/{on_x['id']}/replies", sam,
                      {"text": f"Checking it now, Maya. ({tweet})", "visibility": "public"}).status_code == 202
    customer, other = on_x["customer_id"], on_web["customer_id"]
    wait_for(lambda: [s["customer_id"] for s in stack.get(f"/customers/{customer}/duplicates", sam)["items"]] == [other],
             30, "the desk suspects the chat's profile by its handle")
    wait_for(lambda: stack.get(f"/tickets/{on_x['id']}", sam)["first_response_at"], 30, "the reply was sent")

    sign_in(page, stack, sam)
    page.evaluate(f"location.hash = '#/customer/{customer}'")
    expect(page.get_by_role("heading", level=1)).to_have_text("Maya Katsaros")
    expect(page.get_by_role("heading", level=1)).to_be_focused()
    expect(page.locator(".identity-list li")).to_have_count(1)
    expect(page.locator(".identity-list li[data-platform='x']")).to_contain_text(f"@{handle}")
    expect(page.locator(f".customer-tickets li[data-ticket='{on_x['id']}']")).to_be_visible()
    timeline = page.locator(".customer-timeline")
    expect(timeline.locator("li[data-kind='in']")).to_contain_text(f"my refund for the Rhodes flight? (ref {tweet})")
    expect(timeline.locator("li[data-kind='out']")).to_contain_text(f"Checking it now, Maya. ({tweet})")
    suspect = page.locator(f".suspects li[data-customer='{other}']")
    expect(suspect).to_contain_text(f"same handle @{handle}")

    suspect.get_by_role("button").click()
    expect(page.locator(".customer-notice")).to_contain_text("Merged Maya K into this customer.")
    expect(page.locator(".identity-list li")).to_have_count(2)
    expect(page.locator(f".customer-tickets li[data-ticket='{on_web['id']}']")).to_be_visible()
    expect(timeline.locator("li[data-kind='in']").filter(has_text=chat)).to_have_count(1)
    expect(page.locator(".suspects li")).to_have_count(0)
    assert stack.get(f"/tickets/{on_web['id']}", sam)["customer_id"] == customer
    check(page)  # axe-core: no serious or critical violation
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1366, "height": 1000})
    page.screenshot(path=str(SCREENSHOTS / "customer-page.png"), full_page=True)

    undo = page.get_by_role("button", name="Undo merge")
    expect(undo).to_be_focused()
    undo.click()
    expect(page.locator(".customer-notice")).to_contain_text("Merge undone")
    expect(page.locator(".identity-list li")).to_have_count(1)
    expect(page.locator(f".suspects li[data-customer='{other}']")).to_be_visible()
    assert stack.get(f"/tickets/{on_web['id']}", sam)["customer_id"] == other


def test_the_ticket_view_leads_to_its_customers_page(stack, page):
    sam = stack.token("sam", "supervisor")
    marker = uuid.uuid4().hex[:6]
    post_tweet(stack, f"@AegeanSkies where is my bag? ({marker})", "Nikos Pappas", f"nikos{marker}")
    ticket = ticket_with(stack, sam, marker)
    sign_in(page, stack, sam)
    page.goto(f"{stack.ui}#/ticket/{ticket['id']}")
    page.get_by_role("link", name="Customer page: every channel, history, merge").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nikos Pappas")
    expect(page.locator(f".customer-tickets li[data-ticket='{ticket['id']}']")).to_be_visible()


def test_the_timeline_shows_older_tickets_on_demand(stack, page):
    """A customer with more tickets than the page reads at once (10): "Show older" brings the
    messages of the older ones into the timeline, until every ticket's are there."""
    from infra.local import payloads
    from tests.browser.test_desk_ui import AEGEAN_X

    sam = stack.token("sam", "supervisor")
    run = uuid.uuid4().hex[:6]
    author = {"id": str(1_600_000_000_000_000_000 + uuid.uuid4().int % 10 ** 17), "name": "Petros Alexiou",
              "handle": f"petros{run}", "followers": 210, "verified": False}
    for n in range(12):
        tweet_id = str(1_890_000_000_000_000_000 + uuid.uuid4().int % 10 ** 17)
        stack.webhook("x", payloads.x_tweet_event(AEGEAN_X, tweet_id, author, f"@AegeanSkies question {n} ({run}-{n:02d})"))
    first = ticket_with(stack, sam, f"({run}-00)")
    customer = first["customer_id"]
    wait_for(lambda: len(stack.get(f"/customers/{customer}", sam)["tickets"]) == 12, 30, "twelve tickets of one customer")

    sign_in(page, stack, sam)
    page.evaluate(f"location.hash = '#/customer/{customer}'")
    expect(page.get_by_role("heading", level=1)).to_have_text("Petros Alexiou")
    wrote = page.locator(".customer-timeline li[data-kind='in']")
    expect(wrote).to_have_count(10)
    older = page.get_by_role("button", name="Show older")
    expect(older).to_contain_text("10 of 12 tickets shown")
    older.click()
    expect(wrote).to_have_count(12)
    expect(page.locator(".customer-timeline")).to_contain_text(f"({run}-00)")  # the oldest ones' messages too
    expect(older).to_have_count(0)
