"""Issue 16, point 4: CSAT that customers answer, through the real routes, queues and the sandbox.

A WhatsApp ticket is answered and closed; the survey reaches the sandbox once, as interactive reply
buttons; a signed WhatsApp webhook with the customer's tap sets the ticket's CSAT (source customer),
credits the agent's rolling CSAT and the reports, and never becomes a ticket. A second tap, a forged
payload, another customer's tap change nothing. No survey when the brand has it off, for a ticket
closed with Done, or twice for one ticket. Email's survey is a link to the signed public page.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import reports, surveys
from chalicelib.auth import mint
from chalicelib.channels import survey as survey_payload
from infra.local import payloads as p
from infra.local import stack
from tests import stored
from tests.conftest import TEST_SECRETS
from tests.integration.test_outbound import EMAIL, WA, out  # noqa: F401 - `out`: the fixture

SECRET = "test-survey-secret"
CUSTOMER = "358401234567"


@pytest.fixture
def desk_out(out, aws_env):  # noqa: F811
    aws_env.setenv("SURVEY_SECRET", SECRET)
    aws_env.setenv("DESK_PUBLIC_URL", "https://desk.example")
    stored.put_agent(out.store, {"id": "sam", "brands": ["nordlight"]})
    stored.put_agent(out.store, {"id": "olga", "brands": ["other"]})
    return out


def _headers(agent: str, role: str) -> dict:
    return {"Authorization": f"Bearer {mint(agent, role, TEST_SECRETS['LOCAL_JWT_SECRET'])}",
            "Content-Type": "application/json"}


def _call(out, method: str, path: str, agent="ana", role="agent", body=None):
    answer = getattr(out.desk.client.http, method)(path, headers=_headers(agent, role),
                                                   **({"body": json.dumps(body)} if body is not None else {}))
    return answer.status_code, json.loads(answer.body or b"null")


def _surveys_on(out, **channels) -> None:
    status, current = _call(out, "get", "/api/brands/nordlight/surveys", "sam", "supervisor")
    assert status == 200, current
    status, saved = _call(out, "put", "/api/brands/nordlight/surveys", "sam", "supervisor",
                          {"version": current["version"], "channels": channels})
    assert status == 200, saved


def _whatsapp_ticket(out, wamid="wamid.IN1") -> dict:
    out.post_meta(p.meta_payload("whatsapp_business_account", [p.meta_entry("waba-1", changes=[
        p.wa_message_change(WA, CUSTOMER, "Pirkko", wamid, text="Hei, tilaukseni ei ole saapunut")])]))
    out.sandbox.customer_wrote("whatsapp", WA, CUSTOMER)
    return out.ticket()


def _answer_and_close(out, ticket_id: str) -> None:
    out.send(ticket_id, "Hei Pirkko! Paketti on matkalla.", "private")
    _, shown = _call(out, "get", f"/api/tickets/{ticket_id}")
    status, body = _call(out, "patch", f"/api/tickets/{ticket_id}", body={"version": shown["version"],
                                                                          "status": "closed"})
    assert status == 200, body
    out.desk.drain(only=("outbound_worker",))


def _survey_requests(out) -> list[dict]:
    return [json.loads(r["body"]) for r in out.sandbox.requests
            if r["path"] == f"/v21.0/{WA}/messages" and json.loads(r["body"]).get("type") == "interactive"]


def _tap(out, button_id: str, author: str = CUSTOMER, wamid: str = "wamid.TAP1") -> None:
    out.post_meta(p.meta_payload("whatsapp_business_account", [p.meta_entry("waba-1", changes=[
        p.wa_button_reply_change(WA, author, "Pirkko", wamid, button_id, "😀 Great")])]))
    out.desk.drain(only=("ingest_worker",))


def _ticket(out, ticket_id: str):
    return out.store.tickets.get(ticket_id)


def test_a_whatsapp_survey_goes_out_once_and_the_customers_tap_is_the_tickets_csat(desk_out):
    out = desk_out
    _surveys_on(out, whatsapp=True)
    ticket = _whatsapp_ticket(out)
    _answer_and_close(out, ticket["id"])
    # Then the sandbox received one interactive message with three reply buttons
    [body] = _survey_requests(out)
    assert body["to"] == CUSTOMER and body["interactive"]["type"] == "button"
    buttons = body["interactive"]["action"]["buttons"]
    assert [b["reply"]["title"] for b in buttons] == ["😞 Not good", "😐 OK", "😀 Great"]
    decoded = [survey_payload.decode(b["reply"]["id"]) for b in buttons]
    assert [(d[0], d[1]) for d in decoded] == [(ticket["id"], 1), (ticket["id"], 3), (ticket["id"], 5)]
    assert all(len(b["reply"]["id"]) <= 256 and len(b["reply"]["title"]) <= 20 for b in buttons)
    assert _ticket(out, ticket["id"]).survey_sent_at
    # When the customer taps "Great" (a signed webhook)
    _tap(out, buttons[2]["reply"]["id"])
    # Then it is the ticket's CSAT, from the customer, and no new ticket was opened
    rated = _ticket(out, ticket["id"])
    assert (rated.csat, rated.csat_source) == (5, "customer")
    assert [t["id"] for t in out.store.all_tickets()] == [ticket["id"]]
    # And the agent's rolling CSAT has it
    assert out.store.agents.get("ana").performance.csat == 5
    # And a second tap (another button) changes nothing
    _tap(out, buttons[0]["reply"]["id"], wamid="wamid.TAP2")
    assert _ticket(out, ticket["id"]).csat == 5
    # And the ticket view shows it
    _, shown = _call(out, "get", f"/api/tickets/{ticket['id']}")
    assert shown["csat"] == 5 and shown["csat_source"] == "customer" and shown["survey_sent_at"]
    # And the reports count it for the agent
    arn = out.store.table.meta.client.describe_table(TableName="social-care-desk")["Table"]["LatestStreamArn"]
    out.desk.handlers.ticket_stream(stack.stream_event(out.desk.ticket_stream_records(), arn),
                                    stack.LambdaContext("ticket_stream"))
    [ana] = [a for a in reports.staffing(out.store, 1, ["nordlight"])["agents"] if a["agent"] == "ana"]
    assert (ana["csat"], ana["csat_count"]) == (5, 1)


def test_closing_again_sends_no_second_survey(desk_out):
    out = desk_out
    _surveys_on(out, whatsapp=True)
    ticket = _whatsapp_ticket(out)
    _answer_and_close(out, ticket["id"])
    _, shown = _call(out, "get", f"/api/tickets/{ticket['id']}")
    assert _call(out, "patch", f"/api/tickets/{ticket['id']}", body={"version": shown["version"],
                                                                     "status": "open"})[0] == 200
    _, shown = _call(out, "get", f"/api/tickets/{ticket['id']}")
    assert _call(out, "patch", f"/api/tickets/{ticket['id']}", body={"version": shown["version"],
                                                                     "status": "closed"})[0] == 200
    out.desk.drain(only=("outbound_worker",))
    assert len(_survey_requests(out)) == 1


def test_forged_and_strangers_taps_change_nothing(desk_out):
    out = desk_out
    _surveys_on(out, whatsapp=True)
    ticket = _whatsapp_ticket(out)
    _answer_and_close(out, ticket["id"])
    [body] = _survey_requests(out)
    genuine = body["interactive"]["action"]["buttons"][2]["reply"]["id"]
    # a payload signed with another secret, then the genuine one from another number
    forged = survey_payload.encode(ticket["id"], 5, surveys.sign("not-the-secret", ticket["id"], 5))
    _tap(out, forged)
    _tap(out, genuine, author="358409999999", wamid="wamid.TAP3")
    assert _ticket(out, ticket["id"]).csat is None
    # and an answer is never a customer message: still one ticket, its timeline without the taps
    assert len(list(out.store.all_tickets())) == 1
    assert not [m for m in stored.messages(out.store, ticket["id"]) if m["direction"] == "in"
                and m.get("platform_message_id", "").startswith("wamid.TAP")]


def test_no_survey_when_the_brand_has_it_off_or_the_ticket_was_done(desk_out):
    out = desk_out
    _surveys_on(out, whatsapp=False, email=True)  # on for email only
    ticket = _whatsapp_ticket(out)
    _answer_and_close(out, ticket["id"])
    assert _survey_requests(out) == [] and not _ticket(out, ticket["id"]).survey_sent_at
    # Done (closed without a reply) sends none either, with the channel on
    _surveys_on(out, whatsapp=True)
    reopened = _ticket(out, ticket["id"])
    assert _call(out, "patch", f"/api/tickets/{ticket['id']}", body={"version": reopened.version,
                                                                     "status": "open"})[0] == 200
    status, body = _call(out, "post", f"/api/tickets/{ticket['id']}/done",
                         body={"reason": "no_reply_needed", "version": reopened.version + 1})
    assert status == 200, body
    out.desk.drain(only=("outbound_worker",))
    assert _survey_requests(out) == []


def test_survey_settings_are_the_brands_own(desk_out):
    out = desk_out
    # another brand's supervisor sees no such brand; an agent may not; a bad channel is a 400
    assert _call(out, "get", "/api/brands/nordlight/surveys", "olga", "supervisor")[0] == 404
    assert _call(out, "put", "/api/brands/nordlight/surveys", "olga", "supervisor",
                 {"version": 0, "channels": {"whatsapp": True}})[0] == 404
    assert _call(out, "get", "/api/brands/nordlight/surveys", "ana", "agent")[0] == 403
    assert _call(out, "put", "/api/brands/nordlight/surveys", "sam", "supervisor",
                 {"version": 0, "channels": {"myspace": True}})[0] == 400
    # a stale version is a 409
    _surveys_on(out, whatsapp=True)
    assert _call(out, "put", "/api/brands/nordlight/surveys", "sam", "supervisor",
                 {"version": 0, "channels": {"whatsapp": False}})[0] == 409
    status, shown = _call(out, "get", "/api/brands/nordlight/surveys", "root", "admin")
    assert status == 200 and shown["channels"] == {"whatsapp": True} and shown["version"] == 1
    # the list: each of the caller's brands, never another's
    status, listed = _call(out, "get", "/api/surveys", "sam", "supervisor")
    assert status == 200 and [(i["brand"], i["channels"]) for i in listed["items"]] == [("nordlight", {"whatsapp": True})]
    assert [i["brand"] for i in _call(out, "get", "/api/surveys", "olga", "supervisor")[1]["items"]] == ["other"]
    assert _call(out, "get", "/api/surveys", "ana", "agent")[0] == 403


# -- email: a link to the signed public page --------------------------------------------------------
def _email_ticket(out) -> dict:
    mail = p.ses_sns_message("kasia@example.pl", EMAIL, "Zwrot", "Proszę o zwrot.", "abc123@mail.example.pl")
    out.desk.client.lambda_.invoke("email_inbound", out.desk.client.events.generate_sns_event(message=mail))
    return out.ticket()


def _page(out, path: str, method="get", form: str = ""):
    client = out.desk.client.http
    if method == "get":
        answer = client.get(path)
    else:
        answer = client.post(path, body=form.encode(), headers={"Content-Type": "application/x-www-form-urlencoded"})
    return answer.status_code, answer.body.decode(), answer.headers


def test_email_survey_links_to_a_signed_page_that_takes_one_answer(desk_out):
    out = desk_out
    _surveys_on(out, email=True)
    ticket = _email_ticket(out)
    _answer_and_close(out, ticket["id"])
    [survey] = [m for m in stored.messages(out.store, ticket["id"]) if m.get("kind") == "email_survey"]
    assert survey["status"] == "sent"
    url = survey["target"]["survey"]["url"]
    assert url.startswith("https://desk.example/csat/") and url in survey["text"]
    path = url.removeprefix("https://desk.example")
    # the page: a form, under the UI's security headers, no sign-in
    status, page, headers = _page(out, path)
    assert status == 200 and 'name="score"' in page and "script" not in page
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    # no choice: 400, nothing stored
    assert _page(out, path, "post", "comment=hm")[0] == 400 and _ticket(out, ticket["id"]).csat is None
    # an answer: stored once, with its comment
    status, page, _ = _page(out, path, "post", "score=4&comment=Quick+and+kind")
    assert status == 200 and "Thank you" in page
    rated = _ticket(out, ticket["id"])
    assert (rated.csat, rated.csat_comment, rated.csat_source) == (4, "Quick and kind", "customer")
    # a second answer: "already answered", unchanged
    status, page, _ = _page(out, path, "post", "score=1")
    assert status == 409 and "already answered" in page and _ticket(out, ticket["id"]).csat == 4
    assert "already answered" in _page(out, path)[1]


def test_a_tampered_or_expired_page_link_is_refused(desk_out):
    out = desk_out
    _surveys_on(out, email=True)
    ticket = _email_ticket(out)
    _answer_and_close(out, ticket["id"])
    tampered = surveys.page_token(SECRET, ticket["id"], datetime.now(timezone.utc) + timedelta(days=30))
    ticket_id, stamp, sig = tampered.split(".")
    assert _page(out, f"/csat/{ticket_id}.{int(stamp) + 1}.{sig}")[0] == 404  # expiry moved on: signature fails
    other = "A" if sig[-1] != "A" else "B"
    assert _page(out, f"/csat/{ticket_id}.{stamp}.{sig[:-1]}{other}", "post", "score=5")[0] == 404
    expired = surveys.page_token(SECRET, ticket["id"], datetime.now(timezone.utc) - timedelta(seconds=1))
    assert _page(out, f"/csat/{expired}")[0] == 410
    assert _page(out, f"/csat/{expired}", "post", "score=5")[0] == 410
    assert _page(out, "/csat/not-a-token")[0] == 404
    assert _ticket(out, ticket["id"]).csat is None


# -- the sandbox: the shapes it checks, and the customer's tap it emits ---------------------------------
def test_the_sandbox_refuses_what_whatsapp_and_the_send_api_would(desk_out):
    import requests

    out = desk_out
    out.sandbox.customer_wrote("whatsapp", WA, CUSTOMER)
    buttons = [{"type": "reply", "reply": {"id": f"b{i}", "title": "ok"}} for i in range(4)]
    body = {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "interactive",
            "interactive": {"type": "button", "body": {"text": "How did we do?"}, "action": {"buttons": buttons}}}
    headers = {"Authorization": "Bearer wa-system-token-1"}
    url = f"{out.sandbox.graph_url}/{WA}/messages"
    assert requests.post(url, json=body, headers=headers, timeout=5).status_code == 400  # four buttons
    body["interactive"]["action"]["buttons"] = buttons[:3]
    buttons[0]["reply"]["title"] = "x" * 21
    assert requests.post(url, json=body, headers=headers, timeout=5).status_code == 400  # title over 20
    buttons[0]["reply"]["title"] = "fine"
    assert requests.post(url, json=body, headers=headers, timeout=5).status_code == 200
    quick = [{"content_type": "text", "title": str(i), "payload": f"p{i}"} for i in range(14)]
    answer = requests.post(f"{out.sandbox.graph_url}/104000000000001/messages", timeout=5, headers={
        "Authorization": "Bearer page-token-1"}, json={"recipient": {"id": "u1"}, "message": {
            "text": "How did we do?", "quick_replies": quick}})
    assert answer.status_code == 400 and "quick_replies" in answer.text


def test_the_sandbox_emits_the_customers_tap_and_it_becomes_the_csat(desk_out):
    import requests

    out = desk_out
    _surveys_on(out, whatsapp=True)
    ticket = _whatsapp_ticket(out)
    _answer_and_close(out, ticket["id"])
    [survey] = [m for m in stored.messages(out.store, ticket["id"]) if m.get("kind") == "whatsapp_survey"]
    out.sandbox.take_echoes()  # the statuses of the replies so far
    answer = requests.post(f"{out.sandbox.url}/_sandbox/tap", timeout=5,
                           json={"message_id": survey["platform_message_id"], "choice": 1})
    assert answer.status_code == 200, answer.text
    assert out.deliver_echoes() == 1
    assert _ticket(out, ticket["id"]).csat == 3


# -- Messenger and Instagram: quick replies ---------------------------------------------------------
@pytest.mark.parametrize("channel,account,obj,user", [("facebook", "104000000000001", "page", "6001"),
                                                      ("instagram", "17841400000000001", "instagram", "7001")])
def test_messenger_and_instagram_surveys_are_quick_replies_and_a_tap_is_the_csat(desk_out, channel, account, obj, user):
    out = desk_out
    _surveys_on(out, **{channel: True})
    out.post_meta(p.meta_payload(obj, [p.meta_entry(account, messaging=[
        p.messenger_event(account, user, "m_in_1", text="Is the store open on Sunday?")])]))
    out.sandbox.customer_wrote(channel, account, user)
    ticket = out.ticket()
    _answer_and_close(out, ticket["id"])
    bodies = [json.loads(r["body"]) for r in out.sandbox.requests if r["path"] == f"/v21.0/{account}/messages"]
    [body] = [b for b in bodies if "quick_replies" in b["message"]]
    assert body["recipient"] == {"id": user} and body["messaging_type"] == "RESPONSE"
    assert body["message"]["text"] == surveys.QUESTION
    quick = body["message"]["quick_replies"]
    assert [(q["content_type"], q["title"]) for q in quick] == [("text", t) for _, t in surveys.FIVE]
    assert [survey_payload.decode(q["payload"])[:2] for q in quick] == [(ticket["id"], s) for s in range(1, 6)]
    # the customer taps "4"
    out.post_meta(p.meta_payload(obj, [p.meta_entry(account, messaging=[
        p.quick_reply_event(account, user, "m_tap_1", "4", quick[3]["payload"])])]))
    out.desk.drain(only=("ingest_worker",))
    rated = _ticket(out, ticket["id"])
    assert (rated.csat, rated.csat_source) == (4, "customer")
    assert len(list(out.store.all_tickets())) == 1


# -- X: a DM with quick-reply options ---------------------------------------------------------------
def test_x_survey_is_a_dm_with_quick_reply_options_and_a_tap_is_the_csat(desk_out):
    from tests.integration.test_outbound import BRAND_X, CUSTOMER as X_CUSTOMER

    out = desk_out
    _surveys_on(out, x=True)
    out.post_x(p.x_dm_event(BRAND_X, "1860000000000000001", X_CUSTOMER, "my order #4411 never arrived"))
    ticket = out.ticket()
    _answer_and_close(out, ticket["id"])
    [request] = [r for r in out.sandbox.requests if r["path"] == "/1.1/direct_messages/events/new.json"]
    create = json.loads(request["body"])["event"]["message_create"]
    assert create["target"] == {"recipient_id": X_CUSTOMER["id"]}
    assert create["message_data"]["text"] == surveys.QUESTION
    options = create["message_data"]["quick_reply"]["options"]
    assert create["message_data"]["quick_reply"]["type"] == "options"
    assert [survey_payload.decode(o["metadata"])[:2] for o in options] == [(ticket["id"], s) for s in range(1, 6)]
    assert all(0 < len(o["label"]) <= 36 for o in options)
    [survey] = [m for m in stored.messages(out.store, ticket["id"]) if m.get("kind") == "x_dm_survey"]
    assert survey["status"] == "sent"
    # the customer taps "2": X's Account Activity DM with the option's metadata
    tap = p.x_dm_event(BRAND_X, "1860000000000000002", X_CUSTOMER, "2")
    tap["direct_message_events"][0]["message_create"]["message_data"]["quick_reply_response"] = {
        "type": "options", "metadata": options[1]["metadata"]}
    out.post_x(tap)
    out.desk.drain(only=("ingest_worker",))
    rated = _ticket(out, ticket["id"])
    assert (rated.csat, rated.csat_source) == (2, "customer")
    assert len(list(out.store.all_tickets())) == 1


# -- the API channel: the page's link in the signed callback; a supervisor after the customer ---------
def test_api_channel_survey_is_a_signed_callback_with_the_pages_link(desk_out):
    from tests.integration.test_outbound import API_CHANNEL

    out = desk_out
    _surveys_on(out, api=True)
    body = json.dumps(p.api_body("web-1", "visitor-9", "Visitor", "Chat: my code does not work",
                                 thread_id="chat-9", channel_id=API_CHANNEL)).encode()
    out.desk.client.http.post("/webhooks/api", body=body, headers={
        "Content-Type": "application/json", **p.sign_api(body, TEST_SECRETS["API_CHANNEL_SECRET"])})
    ticket = out.ticket()
    _answer_and_close(out, ticket["id"])
    callbacks = [json.loads(r["body"]) for r in out.sandbox.requests_to("/hooks/nordlight/replies")]
    [survey] = [c for c in callbacks if "survey_url" in c]
    assert survey["survey_url"].startswith("https://desk.example/csat/") and survey["survey_url"] in survey["text"]
    assert survey["to"] == "visitor-9" and survey["thread_id"] == "chat-9"
    token = survey["survey_url"].rsplit("/", 1)[1]
    assert _page(out, f"/csat/{token}", "post", "score=2")[0] == 200
    # the customer's answer stands: a supervisor cannot overwrite it
    status, answer = _call(out, "post", f"/api/tickets/{ticket['id']}/csat", "sam", "supervisor", {"score": 5})
    assert status == 400 and "rated already" in answer["error"]
    assert (_ticket(out, ticket["id"]).csat, _ticket(out, ticket["id"]).csat_source) == (2, "customer")


def test_a_supervisors_entry_is_marked_as_theirs_and_the_survey_cannot_change_it(desk_out):
    out = desk_out
    _surveys_on(out, whatsapp=True)
    ticket = _whatsapp_ticket(out)
    _answer_and_close(out, ticket["id"])
    [body] = _survey_requests(out)
    assert _call(out, "post", f"/api/tickets/{ticket['id']}/csat", "sam", "supervisor", {"score": 3})[0] == 201
    _tap(out, body["interactive"]["action"]["buttons"][2]["reply"]["id"])
    rated = _ticket(out, ticket["id"])
    assert (rated.csat, rated.csat_source) == (3, "supervisor")
    # and an agent cannot enter one at all
    assert _call(out, "post", f"/api/tickets/{ticket['id']}/csat", "ana", "agent", {"score": 5})[0] == 403


@pytest.mark.parametrize("channel", ["facebook", "x"])
def test_the_sandbox_emits_a_quick_reply_or_option_tap_too(desk_out, channel):
    import requests

    from tests.integration.test_outbound import BRAND_X, CUSTOMER as X_CUSTOMER

    out = desk_out
    _surveys_on(out, **{channel: True})
    if channel == "x":
        out.post_x(p.x_dm_event(BRAND_X, "1860000000000000001", X_CUSTOMER, "my order #4411 never arrived"))
    else:
        out.post_meta(p.meta_payload("page", [p.meta_entry("104000000000001", messaging=[
            p.messenger_event("104000000000001", "6001", "m_in_1", text="Is the store open on Sunday?")])]))
        out.sandbox.customer_wrote("facebook", "104000000000001", "6001")
    ticket = out.ticket()
    _answer_and_close(out, ticket["id"])
    [survey] = [m for m in stored.messages(out.store, ticket["id"]) if m.get("kind", "").endswith("_survey")]
    out.sandbox.take_echoes()
    answer = requests.post(f"{out.sandbox.url}/_sandbox/tap", timeout=5,
                           json={"message_id": survey["platform_message_id"], "choice": 3})
    assert answer.status_code == 200, answer.text
    assert out.deliver_echoes() == 1
    assert _ticket(out, ticket["id"]).csat == 4


def test_a_reply_that_failed_is_no_answer_and_closing_sends_no_survey(desk_out):
    out = desk_out
    _surveys_on(out, whatsapp=True)
    ticket = _whatsapp_ticket(out)
    out.sandbox.fail_next(f"/v21.0/{WA}/messages", status=400, times=1, body={"error": {  # WhatsApp refuses the reply
        "message": "(#131026) Message undeliverable", "type": "OAuthException", "code": 131026}})
    _answer_and_close(out, ticket["id"])
    assert [m["status"] for m in stored.messages(out.store, ticket["id"]) if m["direction"] == "out"] == ["failed"]
    assert _survey_requests(out) == [] and not _ticket(out, ticket["id"]).survey_sent_at
