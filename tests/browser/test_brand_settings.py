"""Brand settings in the browser (issue 15, point 3: the status after a reply is a default per brand;
issue 16, point 4: CSAT surveys turned on per channel): a supervisor opens Settings, makes her
brand's replies close the ticket and turns the WhatsApp survey on; the API and an agent's composer
then start from them. A screenshot is saved to build/screenshots/brand-settings.png."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, sign_in
from tests.browser.test_accessibility import check

expect.set_options(timeout=15_000)


def test_a_supervisor_sets_her_brands_reply_default_and_surveys(stack, page):
    sam = stack.token("sam", "supervisor")
    sign_in(page, stack, sam)
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Brand settings")
    aegean = page.locator("section.brand-settings[data-brand='aegean']")
    expect(aegean.get_by_role("heading", level=2)).to_have_text("aegean")
    expect(page.locator("section.brand-settings[data-brand='nordlight']")).to_be_visible()

    replies = aegean.locator("form[data-setting='replies']")
    replies.get_by_label("The composer's first send action moves the ticket to").select_option("closed")
    replies.get_by_role("button", name="Save").click()
    expect(replies.get_by_role("status")).to_contain_text("a ticket of aegean is closed")

    surveys = aegean.locator("form[data-setting='surveys']")
    expect(surveys.get_by_label("WhatsApp")).to_be_checked()  # the demo seed turns every channel on
    surveys.get_by_label("Email").uncheck()
    surveys.get_by_role("button", name="Save").click()
    expect(surveys.get_by_role("status")).to_contain_text("surveys go out on X, Facebook, Instagram, WhatsApp, API.")
    check(page)  # axe-core: no serious or critical violation
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "brand-settings.png"), full_page=True)

    assert stack.get("/brands/aegean/replies", sam)["after_reply"] == "closed"
    saved = stack.get("/brands/aegean/surveys", sam)["channels"]
    assert saved["whatsapp"] is True and saved["email"] is False
    layla = stack.token("layla", "agent")  # an agent of aegean reads what her composer starts from
    assert stack.get("/reply-settings", layla)["brands"] == {"aegean": "closed"}

    # a reload shows what was saved
    page.reload()
    page.get_by_role("link", name="Settings").click()
    expect(aegean.locator("form[data-setting='replies'] select")).to_have_value("closed")
    expect(aegean.locator("form[data-setting='surveys']").get_by_label("WhatsApp")).to_be_checked()
    expect(aegean.locator("form[data-setting='surveys']").get_by_label("Email")).not_to_be_checked()


def test_an_agent_has_no_settings_link(stack, page):
    sign_in(page, stack, stack.token("layla", "agent"))
    expect(page.get_by_role("link", name="Settings")).to_be_hidden()
