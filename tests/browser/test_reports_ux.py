"""The staffing report in a real browser (issue 15, point 7): a supervisor reads when tickets
arrive (per hour of the week, in her own hours), what is open now by language and team, SLA
attainment per band and each agent's output; and "last 24 hours" and "last 30 days" read as
different periods. A screenshot of the staffing report is saved to
build/screenshots/staffing-report.png on every run.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, sign_in, wait_for
from tests.browser.test_accessibility import check
from tests.browser.test_desk_ui import post_tweet, ticket_with

expect.set_options(timeout=15_000)


def _cell_text(v: float) -> str:
    """As reports.js writes a heatmap cell: integers as they are, else two decimals, a trailing 0 dropped."""
    if v == int(v):
        return str(int(v)) if v else ""
    return f"{v:.2f}".removesuffix("0")


def test_a_supervisor_staffs_from_the_report(stack, page):
    sam = stack.token("sam", "supervisor")
    marker, answered = uuid.uuid4().hex[:6], uuid.uuid4().hex[:6]
    post_tweet(stack, f"@AegeanSkies my bag never arrived in Chania (ref {marker})", "Mira Holm", "miraholm")
    post_tweet(stack, f"@AegeanSkies can I bring my bike on board? (ref {answered})", "Ola Nord", "olanord")
    ticket_with(stack, sam, marker)
    other = ticket_with(stack, sam, answered)
    # Sam answers one, it is closed and rated 4: his output, and the band's attainment, in the report
    assert stack.post(f"/tickets/{other['id']}/replies", sam,
                      {"text": f"Yes, boxed, as sports equipment. ({answered})", "visibility": "public"}).status_code == 202
    sent = wait_for(lambda: (t := stack.get(f"/tickets/{other['id']}", sam))["first_response_at"] and t, 30,
                    "the API reply was sent")
    import requests

    closed = requests.patch(f"{stack.api}/api/tickets/{other['id']}", json={"version": sent["version"], "status": "closed"},
                            headers={"Authorization": f"Bearer {sam}"}, timeout=10)
    assert closed.status_code == 200, closed.text
    assert stack.post(f"/tickets/{other['id']}/csat", sam, {"score": 4}).status_code == 201
    report = wait_for(lambda: (r := stack.get("/reports/staffing", sam, days=7)) and any(
        a["agent"] == "sam" and a["csat_count"] for a in r["agents"]) and any(a["handled"] for a in r["agents"]) and r,
        30, "the stream counted Sam's answer, the close and the rating")

    sign_in(page, stack, sam)
    page.get_by_role("link", name="Reports").click()
    # the periods differ: per hour over 25 hours, per day over 31 days
    page.get_by_label("Period").select_option("1")
    expect(page.locator("figure.chart figcaption").filter(has_text="Sentiment per hour")).to_be_visible()
    expect(page.locator("#report-period")).to_contain_text("(25 hours)")
    page.get_by_label("Period").select_option("30")
    expect(page.locator("figure.chart figcaption").filter(has_text="Sentiment per day")).to_be_visible()
    expect(page.locator("#report-period")).to_contain_text("(721 hours)")
    page.get_by_label("Period").select_option("7")

    page.get_by_role("button", name="Staffing").click()
    expect(page.get_by_role("button", name="Staffing")).to_have_attribute("aria-pressed", "true")
    heat = page.locator("table.heat-table")
    expect(heat.locator("tbody tr")).to_have_count(7)
    expect(heat.locator("tbody tr").first.locator("td")).to_have_count(24)
    # now's hour of the week, in the browser's hours (Europe/Helsinki), holds the server's UTC slot
    now = datetime.now(timezone.utc)
    report = stack.get("/reports/staffing", sam, days=7)
    expected = sum(grid[now.weekday()][now.hour] for grid in report["arrivals"]["channels"].values())
    day, hour = page.evaluate("(() => { const d = new Date(); return [(d.getDay() + 6) % 7, d.getHours()]; })()")
    assert expected > 0
    expect(heat.locator(f"td[data-row='{day}'][data-col='{hour}']")).to_have_text(_cell_text(expected))
    expect(page.locator("figure.chart").filter(has_text="Open now by language")).to_contain_text("English")
    expect(page.locator("figure.chart").filter(has_text="Open now by team")).to_be_visible()
    for band in report["sla_by_band"]:
        row = page.locator(f"tr[data-band='{band['band']}']")
        expect(row).to_contain_text(f"{round(band['attainment'] * 100)}%")
    sam_row = page.locator("table.agent-output tr[data-agent='sam']")
    expect(sam_row).to_contain_text("4.0 (1)")
    handler = next(a for a in report["agents"] if a["handled"])
    expect(page.locator(f"table.agent-output tr[data-agent='{handler['agent']}'] td").first).to_have_text(
        str(handler["handled"]))
    # one channel's arrivals only
    page.get_by_label("Channel").select_option("x")
    expect(page.locator("figure.heatmap figcaption")).to_contain_text("X")
    page.get_by_label("Channel").select_option("")
    check(page)  # axe-core: no serious or critical violation
    page.set_viewport_size({"width": 1366, "height": 1300})
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "staffing-report.png"), full_page=True)
