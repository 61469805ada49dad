"""Issue 16, point 4, in a real browser against the local stack: a WhatsApp ticket is resolved, the
CSAT survey (interactive reply buttons) reaches the platform sandbox, a signed WhatsApp webhook with
the customer's tap answers it, and the ticket view shows the CSAT, from the customer. The public
survey page (email and the API channel) takes one answer through its form, under the UI's CSP.
Screenshots: build/screenshots/csat-survey-sent.png, csat-answered.png, csat-page.png,
csat-page-thanks.png, csat-page-already.png, csat-page-invalid.png.
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import requests
from playwright.sync_api import expect

from chalicelib.channels import survey as survey_payload
from tests.browser.conftest import SCREENSHOTS, sign_in, wait_for
from tests.browser.test_desk_ui import ticket_with

expect.set_options(timeout=15_000)
AEGEAN_WHATSAPP, AEGEAN_WABA = "109000000000002", "209000000000002"


def _surveys_on(stack) -> None:
    sam = stack.token("sam", "supervisor")
    headers = {"Authorization": f"Bearer {sam}"}
    current = requests.get(f"{stack.api}/api/brands/aegean/surveys", headers=headers, timeout=10).json()
    answer = requests.put(f"{stack.api}/api/brands/aegean/surveys", headers=headers, timeout=10,
                          json={"version": current["version"], "channels": {**current["channels"], "whatsapp": True}})
    assert answer.status_code == 200, answer.text


def _resolved_whatsapp_ticket(stack, ana: str) -> tuple[dict, str]:
    """A customer's WhatsApp message, answered by Ana and closed ("Send and close"): (ticket, wa_id)."""
    from infra.local import payloads as p

    marker = uuid.uuid4().hex[:6]
    wa_id = str(306900000000 + uuid.uuid4().int % 10 ** 8)
    requests.post(f"{stack.sandbox}/_sandbox/inbound", timeout=5,
                  json={"platform": "whatsapp", "account_id": AEGEAN_WHATSAPP, "user_id": wa_id})
    change = p.wa_message_change(AEGEAN_WHATSAPP, wa_id, "Eleni Georgiou", f"wamid.{uuid.uuid4().hex}",
                                 text=f"My bag did not arrive ({marker})", display_phone_number="302100000002")
    stack.webhook("meta", p.meta_payload("whatsapp_business_account", [p.meta_entry(AEGEAN_WABA, [change])]))
    ticket = ticket_with(stack, ana, marker)
    answer = stack.post(f"/tickets/{ticket['id']}/replies", ana, {"text": "Found it: it arrives today.",
                                                                  "visibility": "private"})
    assert answer.status_code == 202, answer.text
    version = stack.get(f"/tickets/{ticket['id']}", ana)["version"]
    answer = requests.patch(f"{stack.api}/api/tickets/{ticket['id']}", json={"version": version, "status": "closed"},
                            headers={"Authorization": f"Bearer {ana}"}, timeout=10)
    assert answer.status_code == 200, answer.text
    return ticket, wa_id


def _survey_sent_to(stack, wa_id: str) -> dict:
    def found():
        for recorded in stack.sandbox_requests():
            if recorded["method"] == "POST" and recorded["path"] == f"/v21.0/{AEGEAN_WHATSAPP}/messages":
                body = json.loads(recorded["body"])
                if body.get("to") == wa_id and body.get("type") == "interactive":
                    return body
        return None

    return wait_for(found, 30, f"the CSAT survey to {wa_id} reached the sandbox")


def test_a_whatsapp_button_answer_becomes_the_tickets_csat(stack, page):
    from infra.local import payloads as p

    ana = stack.token("ana")
    _surveys_on(stack)
    ticket, wa_id = _resolved_whatsapp_ticket(stack, ana)
    # Then the survey reaches the sandbox: three reply buttons, each tied to this ticket
    body = _survey_sent_to(stack, wa_id)
    buttons = body["interactive"]["action"]["buttons"]
    assert [survey_payload.decode(b["reply"]["id"])[:2] for b in buttons] == \
        [(ticket["id"], 1), (ticket["id"], 3), (ticket["id"], 5)]
    # And the ticket view says the survey went out, with no answer yet
    sign_in(page, stack, ana)
    page.goto(f"{stack.ui}#/ticket/{ticket['id']}")
    offered = page.get_by_role("list", name="Answers offered")  # the survey on the timeline, as the customer saw it
    expect(offered.get_by_role("listitem")).to_have_text(["😞 Not good", "😐 OK", "😀 Great"])
    pending = page.locator(".facts dd.csat.pending")
    expect(pending).to_contain_text("Survey sent")
    expect(pending).to_contain_text("no answer yet")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "csat-survey-sent.png"))
    # When the customer taps "😀 Great" (WhatsApp's signed webhook)
    great = buttons[2]["reply"]
    stack.webhook("meta", p.meta_payload("whatsapp_business_account", [p.meta_entry(AEGEAN_WABA, [
        p.wa_button_reply_change(AEGEAN_WHATSAPP, wa_id, "Eleni Georgiou", f"wamid.{uuid.uuid4().hex}", great["id"],
                                 great["title"], context_id="wamid.survey", display_phone_number="302100000002")])]))
    # Then the open ticket view shows the CSAT, from the customer (its live refresh)
    shown = page.locator(".facts dd.csat:not(.pending)")
    expect(shown).to_have_attribute("data-csat", "5")
    expect(shown).to_contain_text("5/5")
    expect(shown).to_contain_text("from the customer")
    page.screenshot(path=str(SCREENSHOTS / "csat-answered.png"))
    # And the API agrees; the tap opened no ticket and is not a customer message on this one
    shown_ticket = stack.get(f"/tickets/{ticket['id']}", ana)
    assert (shown_ticket["csat"], shown_ticket["csat_source"]) == (5, "customer")
    assert not [m for m in shown_ticket["messages"] if m["direction"] == "in" and m.get("kind") != "message"]
    assert sum(1 for m in shown_ticket["messages"] if m["direction"] == "in") == 1


def test_the_public_survey_page_takes_one_answer(stack, page):
    from chalicelib import surveys

    ana = stack.token("ana")
    _surveys_on(stack)
    ticket, wa_id = _resolved_whatsapp_ticket(stack, ana)
    _survey_sent_to(stack, wa_id)  # survey_sent_at is set: the page may take its answer
    token = surveys.page_token(stack.secrets["SURVEY_SECRET"], ticket["id"], datetime.now(timezone.utc) + timedelta(days=7))
    # No sign-in: the link alone opens the page
    page.goto(f"{stack.api}/csat/{token}")
    expect(page.get_by_role("heading", name="How did we do?")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "csat-page.png"))
    page.get_by_label("4 · Happy", exact=True).check()
    page.get_by_label("Anything to add? (optional)").fill("Kind and quick")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "csat-page-thanks.png"))
    shown = stack.get(f"/tickets/{ticket['id']}", ana)
    assert (shown["csat"], shown["csat_comment"], shown["csat_source"]) == (4, "Kind and quick", "customer")
    # A second visit: already answered, no form
    page.goto(f"{stack.api}/csat/{token}")
    expect(page.get_by_role("heading", name="Already answered")).to_be_visible()
    assert page.locator("form").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "csat-page-already.png"))
    # A tampered link: not found
    ticket_id, stamp, sig = token.split(".")
    answer = page.goto(f"{stack.api}/csat/{ticket_id}.{int(stamp) + 60}.{sig}")
    assert answer.status == 404
    expect(page.get_by_role("heading", name="Survey not found")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "csat-page-invalid.png"))


def test_a_supervisor_turns_surveys_on_for_a_channel_of_their_brand(stack, page):
    sam = stack.token("sam", "supervisor")
    sign_in(page, stack, sam)
    page.goto(f"{stack.ui}#/settings")
    panel = page.locator("section.brand-settings[data-brand=aegean]")
    form = panel.locator("form[data-setting=surveys]")
    email = form.get_by_label("Email", exact=True)
    expect(email).to_be_visible()
    wanted = not email.is_checked()
    email.set_checked(wanted)
    form.get_by_role("button", name="Save").click()
    wait_for(lambda: stack.get("/brands/aegean/surveys", sam)["channels"].get("email") == wanted, 10,
             "the brand's survey settings saved")
    page.reload()
    expect(panel.locator("form[data-setting=surveys]").get_by_label("Email", exact=True)).to_be_checked(checked=wanted)
    panel.scroll_into_view_if_needed()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "csat-settings.png"))
