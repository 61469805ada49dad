"""Replies go back where the customer wrote, exactly once.

Each test ingests a real signed webhook, posts a reply through `POST /api/tickets/{id}/replies`,
runs the outbound worker from the outbound queue (real SQS events under moto) and checks, over
HTTP, the exact request the platform sandbox received.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass

import pytest

from chalicelib.auth import mint
from infra.local import payloads as p
from tests.conftest import REGION, TEST_SECRETS
from tests import stored
from tests.integration.conftest import connected_platforms

BRAND_X, PAGE, IG, WA = "1500000000000000001", "104000000000001", "17841400000000001", "109000000000001"
EMAIL, API_CHANNEL = "care@nordlight.example", "nordlight-web"
CUSTOMER = {"id": "2244994945", "name": "Aino Korhonen", "handle": "ainok", "followers": 1200}
TOKENS = {("x", BRAND_X): "x-user-token-1", ("facebook", PAGE): "page-token-1",
          ("instagram", IG): "ig-page-token-1", ("whatsapp", WA): "wa-system-token-1"}


@dataclass
class Outbound:
    desk: object
    sandbox: object

    @property
    def store(self):
        return self.desk.store()

    def agent_headers(self, **extra) -> dict:
        token = mint("ana", "agent", TEST_SECRETS["LOCAL_JWT_SECRET"])
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/json", **extra}

    def post_x(self, payload) -> None:
        body = p.encode(payload)
        answer = self.desk.client.http.post("/webhooks/x", body=body, headers={
            "Content-Type": "application/json", **p.sign_x(body, TEST_SECRETS["X_CONSUMER_SECRET"])})
        assert answer.status_code == 200

    def post_meta(self, payload) -> None:
        body = p.encode(payload)
        answer = self.desk.client.http.post("/webhooks/meta", body=body, headers={
            "Content-Type": "application/json", **p.sign_meta(body, TEST_SECRETS["META_APP_SECRET"])})
        assert answer.status_code == 200

    def ticket(self) -> dict:
        self.desk.drain(only=("ingest_worker",))
        tickets = list(self.store.all_tickets())
        assert len(tickets) == 1, tickets
        return tickets[0]

    def reply(self, ticket_id: str, text: str, visibility: str, **headers):
        return self.desk.client.http.post(f"/api/tickets/{ticket_id}/replies", headers=self.agent_headers(**headers),
                                          body=json.dumps({"text": text, "visibility": visibility}))

    def send(self, ticket_id: str, text: str, visibility: str) -> dict:
        answer = self.reply(ticket_id, text, visibility)
        assert answer.status_code == 202, answer.body
        self.desk.drain(only=("outbound_worker",))
        return self.outbound(ticket_id)

    def outbound(self, ticket_id: str) -> dict:
        [message] = [m for m in stored.messages(self.store, ticket_id) if m["direction"] == "out"]
        return message

    def deliver_echoes(self) -> int:
        echoes = self.sandbox.take_echoes()
        for echo in echoes:
            answer = self.desk.client.http.post(echo["path"], body=echo["body"].encode("utf-8"),
                                                headers=echo["headers"])
            assert answer.status_code == 200, answer.body
        self.desk.drain(only=("ingest_worker",))
        return len(echoes)


@pytest.fixture
def out(desk, aws_env):
    import boto3

    with connected_platforms(desk, aws_env, TOKENS) as sandbox:
        store = desk.store()
        stored.put_account(store, "email", EMAIL, status="active", brand="nordlight")
        boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress=EMAIL)
        stored.put_account(store, "api", API_CHANNEL, status="active", brand="nordlight",
                          callback_url=f"{sandbox.url}/hooks/nordlight/replies")
        sandbox.configure_echoes(TEST_SECRETS["X_CONSUMER_SECRET"], TEST_SECRETS["META_APP_SECRET"])
        stored.put_agent(store, {"id": "ana", "brands": ["nordlight"]})  # who replies: an agent of the brand
        yield Outbound(desk, sandbox)


# --- every platform: the exact request the platform receives ---------------------------------

def _tweet(out, tweet_id="1850000000000000001"):
    out.post_x(p.x_tweet_event(BRAND_X, tweet_id, CUSTOMER, "@NordlightShop my order #4411 never arrived"))
    return out.ticket()


def _json_request(sandbox, path):
    [request] = [r for r in sandbox.requests if r["path"] == path and r["method"] == "POST"]
    return request, json.loads(request["body"])


def test_x_public_reply_is_a_reply_tweet_and_the_ticket_shows_it_sent(out):
    ticket = _tweet(out)
    message = out.send(ticket["id"], "So sorry, Aino! We are checking order #4411 now.", "public")
    request, body = _json_request(out.sandbox, "/2/tweets")
    assert body == {"text": "So sorry, Aino! We are checking order #4411 now.",
                    "reply": {"in_reply_to_tweet_id": "1850000000000000001"}}
    assert request["headers"]["Authorization"] == "Bearer x-user-token-1"
    [posted] = out.sandbox.posts("x")
    assert message["status"] == "sent" and message["platform_message_id"] == posted["id"]
    shown = json.loads(out.desk.client.http.get(f"/api/tickets/{ticket['id']}", headers=out.agent_headers()).body)
    assert shown["messages"][-1]["status"] == "sent" and shown["first_response_at"] == message["sent_at"]
    assert "attempt_token" not in shown["messages"][-1]


def test_x_private_reply_to_a_tweet_is_a_dm_to_its_author(out):
    ticket = _tweet(out)
    out.send(ticket["id"], "Could you send us the order email address?", "private")
    request, body = _json_request(out.sandbox, f"/2/dm_conversations/with/{CUSTOMER['id']}/messages")
    assert body == {"text": "Could you send us the order email address?"}


def test_x_dm_is_answered_by_dm(out):
    out.post_x(p.x_dm_event(BRAND_X, "1860000000000000001", CUSTOMER, "my refund has not arrived"))
    ticket = out.ticket()
    message = out.send(ticket["id"], "Checking your refund now.", "private")
    assert message["kind"] == "x_dm" and message["status"] == "sent"
    _json_request(out.sandbox, f"/2/dm_conversations/with/{CUSTOMER['id']}/messages")


def _fb_comment(out):
    change = p.fb_comment_change(PAGE, "555", "555_777", {"id": "901", "name": "Eleni"}, "Where is my refund?")
    out.post_meta(p.meta_payload("page", [p.meta_entry(PAGE, changes=[change])]))
    return out.ticket()


def test_facebook_comment_public_and_private_replies(out):
    ticket = _fb_comment(out)
    message = out.send(ticket["id"], "Hi Eleni, we have sent you a message.", "public")
    request, body = _json_request(out.sandbox, "/v21.0/555_777/comments")
    assert body == {"message": "Hi Eleni, we have sent you a message."}
    assert request["headers"]["Authorization"] == "Bearer page-token-1" and message["status"] == "sent"
    answer = out.reply(ticket["id"], "Your refund reference is R-1.", "private")
    assert answer.status_code == 202
    out.desk.drain(only=("outbound_worker",))
    _, body = _json_request(out.sandbox, f"/v21.0/{PAGE}/messages")
    assert body == {"recipient": {"comment_id": "555_777"}, "message": {"text": "Your refund reference is R-1."}}
    # a second private reply to the same comment is refused before queuing
    again = out.reply(ticket["id"], "And another thing", "private")
    assert again.status_code == 422 and "one private reply" in json.loads(again.body)["error"]


def test_a_visitors_post_on_the_page_is_answered_by_a_comment_under_it(out):
    # Given a visitor's post on the Page (a feed item=post change: dropped before issue 12)
    change = p.fb_post_change(PAGE, "556", {"id": "902", "name": "Maya"}, "Your store closed an hour early today!")
    out.post_meta(p.meta_payload("page", [p.meta_entry(PAGE, changes=[change])]))
    ticket = out.ticket()
    # When an agent answers publicly
    message = out.send(ticket["id"], "Sorry Maya, we are checking the opening hours.", "public")
    # Then the answer is a comment under the post, and a private answer is refused with the reason
    _, body = _json_request(out.sandbox, f"/v21.0/{PAGE}_556/comments")
    assert body == {"message": "Sorry Maya, we are checking the opening hours."} and message["status"] == "sent"
    refused = out.reply(ticket["id"], "psst", "private")
    assert refused.status_code == 422 and "Messenger" in json.loads(refused.body)["error"]


def test_a_page_mention_in_a_comment_is_answered_under_that_comment(out):
    out.post_meta(p.meta_payload("page", [p.meta_entry(PAGE, changes=[p.fb_mention_change("42_900", "42_900_7")])]))
    ticket = out.ticket()
    out.send(ticket["id"], "Thanks for the shout-out!", "public")
    _, body = _json_request(out.sandbox, "/v21.0/42_900_7/comments")
    assert body == {"message": "Thanks for the shout-out!"}


def test_messenger_reply_uses_the_send_api_inside_the_window(out):
    out.post_meta(p.meta_payload("page", [p.meta_entry(PAGE, messaging=[
        p.messenger_event(PAGE, "6001", "m_in_1", text="Is the store open on Sunday?")])]))
    out.sandbox.customer_wrote("facebook", PAGE, "6001")
    ticket = out.ticket()
    message = out.send(ticket["id"], "Yes, 10-16!", "private")
    _, body = _json_request(out.sandbox, f"/v21.0/{PAGE}/messages")
    assert body == {"recipient": {"id": "6001"}, "messaging_type": "RESPONSE",
                    "message": {"text": "Yes, 10-16!", "metadata": message["id"]}}
    assert message["status"] == "sent"


def test_instagram_comment_reply_private_reply_and_dm(out):
    change = p.ig_comment_change("18000000000000001", "17900000000000001", {"id": "801", "username": "maya"},
                                 "my lamp flickers")
    out.post_meta(p.meta_payload("instagram", [p.meta_entry(IG, changes=[change])]))
    ticket = out.ticket()
    out.send(ticket["id"], "Sorry Maya! Check your DMs.", "public")
    _, body = _json_request(out.sandbox, "/v21.0/18000000000000001/replies")
    assert body == {"message": "Sorry Maya! Check your DMs."}
    assert out.reply(ticket["id"], "Which model is it?", "private").status_code == 202
    out.desk.drain(only=("outbound_worker",))
    _, body = _json_request(out.sandbox, f"/v21.0/{IG}/messages")
    assert body == {"recipient": {"comment_id": "18000000000000001"}, "message": {"text": "Which model is it?"}}


def test_instagram_dm_and_mention(out):
    out.post_meta(p.meta_payload("instagram", [p.meta_entry(IG, messaging=[
        p.ig_dm_event(IG, "7001", "ig_in_1", text="do you ship to Cyprus?")])]))
    out.sandbox.customer_wrote("instagram", IG, "7001")
    ticket = out.ticket()
    message = out.send(ticket["id"], "We do!", "private")
    _, body = _json_request(out.sandbox, f"/v21.0/{IG}/messages")
    assert body["recipient"] == {"id": "7001"} and body["message"]["text"] == "We do!"
    assert message["kind"] == "ig_dm" and message["status"] == "sent"
    assert out.deliver_echoes() == 2  # the echo (ignored) and a read receipt naming our message id
    assert out.outbound(ticket["id"])["delivery_status"] == "read"


def test_instagram_mention_is_answered_on_the_media(out):
    out.post_meta(p.meta_payload("instagram", [p.meta_entry(IG, changes=[
        p.ig_mention_change("17900000000000009", "18000000000000009")])]))
    ticket = out.ticket()
    out.send(ticket["id"], "Thank you for the shout-out!", "public")
    _, body = _json_request(out.sandbox, f"/v21.0/{IG}/mentions")
    assert body == {"media_id": "17900000000000009", "comment_id": "18000000000000009",
                    "message": "Thank you for the shout-out!"}


def _whatsapp(out, text="Hei, tilaukseni ei ole saapunut"):
    out.post_meta(p.meta_payload("whatsapp_business_account", [p.meta_entry("waba-1", changes=[
        p.wa_message_change(WA, "358401234567", "Pirkko", "wamid.IN1", text=text)])]))
    out.sandbox.customer_wrote("whatsapp", WA, "358401234567")
    return out.ticket()


def test_whatsapp_text_quotes_the_customer_message(out):
    ticket = _whatsapp(out)
    message = out.send(ticket["id"], "Hei Pirkko! Tarkistamme asian.", "private")
    request, body = _json_request(out.sandbox, f"/v21.0/{WA}/messages")
    assert body == {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "358401234567",
                    "type": "text", "text": {"preview_url": False, "body": "Hei Pirkko! Tarkistamme asian."},
                    "biz_opaque_callback_data": f"desk:{ticket['id']}:{message['id']}",
                    "context": {"message_id": "wamid.IN1"}}
    assert request["headers"]["Authorization"] == "Bearer wa-system-token-1"
    assert message["platform_message_id"].startswith("wamid.")


def test_email_goes_through_ses_in_the_thread(out):
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    mail = p.ses_sns_message("kasia@example.pl", EMAIL, "Zwrot", "Proszę o zwrot.", "abc123@mail.example.pl",
                             references="root1@mail.example.pl")
    out.desk.client.lambda_.invoke("email_inbound", out.desk.client.events.generate_sns_event(message=mail))
    ticket = out.ticket()
    message = out.send(ticket["id"], "Dzień dobry, zwrot jest w drodze.", "private")
    assert message["status"] == "sent"
    [sent] = ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
    raw = sent.raw_data if hasattr(sent, "raw_data") else sent.raw
    from email import message_from_string, policy

    parsed = message_from_string(raw, policy=policy.default)
    assert parsed["In-Reply-To"] == "<abc123@mail.example.pl>"
    assert parsed["References"] == "<root1@mail.example.pl> <abc123@mail.example.pl>"
    assert parsed["Subject"] == "Re: Zwrot" and parsed["To"].addresses[0].addr_spec == "kasia@example.pl"
    assert parsed["Message-ID"] == f"<{message['id']}@nordlight.example>"
    assert "zwrot jest w drodze" in parsed.get_content()


def test_api_channel_reply_is_a_signed_callback(out):
    from chalicelib.channels import signing

    body = json.dumps(p.api_body("web-1", "visitor-9", "Visitor", "Chat: my code does not work",
                                 thread_id="chat-9", channel_id=API_CHANNEL)).encode()
    out.desk.client.http.post("/webhooks/api", body=body, headers={
        "Content-Type": "application/json", **p.sign_api(body, TEST_SECRETS["API_CHANNEL_SECRET"])})
    ticket = out.ticket()
    message = out.send(ticket["id"], "Try the code SPRING.", "private")
    [request] = out.sandbox.requests_to("/hooks/nordlight/replies")
    assert request["headers"]["X-Signature-256"] == signing.hex_signature(
        TEST_SECRETS["API_CHANNEL_SECRET"], request["body"].encode())
    assert request["headers"]["Idempotency-Key"] == message["id"]
    assert json.loads(request["body"])["thread_id"] == "chat-9" and message["status"] == "sent"


OWN_SECRET, OTHER_SECRET = "nordlight-web-own-secret-3f9a", "aegean-web-own-secret-77c1"


def _api_chat(out, secret, account=None, external_id="web-2"):
    body = json.dumps(p.api_body(external_id, "visitor-9", "Visitor", "Chat: where is my parcel?",
                                 thread_id="chat-10", channel_id=API_CHANNEL)).encode()
    extra = {"X-Channel-Id": account} if account else {}
    answer = out.desk.client.http.post("/webhooks/api", body=body, headers={
        "Content-Type": "application/json", **p.sign_api(body, secret), **extra})
    assert answer.status_code == 200, answer.body
    return out.ticket()


def test_an_api_account_with_its_own_secret_gets_replies_signed_with_it(out, monkeypatch):
    from chalicelib import config
    from chalicelib.channels import signing

    monkeypatch.setenv(f"API_CHANNEL_SECRET:{API_CHANNEL}", OWN_SECRET)
    monkeypatch.setenv("API_CHANNEL_SECRET:aegean-web", OTHER_SECRET)  # another integrator's: never used here
    config.reset()
    ticket = _api_chat(out, OWN_SECRET, API_CHANNEL)
    message = out.send(ticket["id"], "It left the warehouse today.", "private")
    [request] = out.sandbox.requests_to("/hooks/nordlight/replies")
    raw = request["body"].encode()
    assert message["status"] == "sent"
    assert request["headers"]["X-Signature-256"] == signing.hex_signature(OWN_SECRET, raw)
    for other in (TEST_SECRETS["API_CHANNEL_SECRET"], OTHER_SECRET):  # not the shared one, not another's
        assert request["headers"]["X-Signature-256"] != signing.hex_signature(other, raw)
    config.reset()


def test_once_the_shared_api_secret_is_gone_an_account_without_its_own_gets_no_unsigned_reply(out, monkeypatch):
    from chalicelib import config

    ticket = _api_chat(out, TEST_SECRETS["API_CHANNEL_SECRET"])  # in during the transition
    monkeypatch.delenv("API_CHANNEL_SECRET")  # the move is over: the shared secret is removed
    config.reset()
    message = out.send(ticket["id"], "Thanks, we are on it.", "private")
    assert out.sandbox.requests_to("/hooks/nordlight/replies") == []  # nothing signed with an empty key
    assert message["status"] == "failed" and message["error"]["code"] == "credentials"
    assert "neither its own" in message["error"]["reason"]
    config.reset()


# --- exactly once under faults ---------------------------------------------------------------

def test_429_then_200_posts_once(out):
    ticket = _tweet(out)
    out.sandbox.fail_next("/2/tweets", status=429, headers={"x-rate-limit-reset": str(int(time.time()) + 1)})
    message = out.send(ticket["id"], "Looking into it.", "public")
    assert message["status"] == "sent" and message["attempts"] == 1
    assert len(out.sandbox.requests_to("/2/tweets")) == 2 and len(out.sandbox.posts("x")) == 1


def test_5xx_then_200_posts_once(out):
    ticket = _fb_comment(out)
    out.sandbox.fail_next("/v21.0/555_777/comments", status=503)
    message = out.send(ticket["id"], "We are on it.", "public")
    assert message["status"] == "sent"
    assert len(out.sandbox.requests_to("/v21.0/555_777/comments")) == 2 and len(out.sandbox.posts("facebook")) == 1


def test_a_timeout_after_the_platform_accepted_posts_once_and_is_confirmed_by_lookup(out):
    ticket = _tweet(out)
    out.sandbox.fail_next("/2/tweets", mode="timeout_after_accept", delay=1.0)
    message = out.send(ticket["id"], "Checking with the warehouse.", "public")
    [posted] = out.sandbox.posts("x")
    assert message["status"] == "sent" and message["confirmed_by"] == "lookup"
    assert message["platform_message_id"] == posted["id"]
    assert len(out.sandbox.requests_to("/2/tweets")) == 1  # asked, never re-posted
    assert out.sandbox.requests_to(f"/2/users/{BRAND_X}/tweets")


def test_a_messenger_timeout_after_accept_is_found_in_the_conversation(out):
    out.post_meta(p.meta_payload("page", [p.meta_entry(PAGE, messaging=[
        p.messenger_event(PAGE, "6001", "m_in_1", text="Is the store open on Sunday?")])]))
    out.sandbox.customer_wrote("facebook", PAGE, "6001")
    ticket = out.ticket()
    out.sandbox.fail_next(f"/v21.0/{PAGE}/messages", mode="timeout_after_accept", delay=1.0)
    message = out.send(ticket["id"], "Yes, 10-16!", "private")
    assert message["status"] == "sent" and message["confirmed_by"] == "lookup"
    assert len(out.sandbox.requests_to(f"/v21.0/{PAGE}/messages")) == 1


def test_a_whatsapp_timeout_after_accept_is_confirmed_by_the_status_webhook(out):
    ticket = _whatsapp(out)
    out.sandbox.fail_next(f"/v21.0/{WA}/messages", mode="timeout_after_accept", delay=1.0)
    assert out.reply(ticket["id"], "Tarkistamme asian.", "private").status_code == 202
    out.desk.drain(only=("outbound_worker",))
    assert out.outbound(ticket["id"])["status"] == "unconfirmed"
    # WhatsApp's statuses carry our biz_opaque_callback_data: the ingest worker confirms the reply
    assert out.deliver_echoes() == 3
    message = out.outbound(ticket["id"])
    [posted] = out.sandbox.posts("whatsapp")
    assert message["status"] == "sent" and message["platform_message_id"] == posted["id"]
    assert message["delivery_status"] == "read"
    assert len(out.sandbox.requests_to(f"/v21.0/{WA}/messages")) == 1


def test_queue_redelivery_never_posts_twice(out):
    from chalicelib import queues
    from chalicelib.models import OutboundRequest

    ticket = _tweet(out)
    assert out.reply(ticket["id"], "On it!", "public").status_code == 202
    [request] = out.desk.queued("OUTBOUND_QUEUE_URL")
    body = OutboundRequest.model_validate(request).model_dump_json()
    for _ in range(2):  # SQS delivers at least once: the same message twice, then again later
        queues.send(out.desk.queue_urls["OUTBOUND_QUEUE_URL"], body)
    out.desk.drain(only=("outbound_worker",))
    queues.send(out.desk.queue_urls["OUTBOUND_QUEUE_URL"], body)
    out.desk.drain(only=("outbound_worker",))
    assert len(out.sandbox.requests_to("/2/tweets")) == 1 and out.outbound(ticket["id"])["status"] == "sent"


def test_a_worker_that_died_mid_send_is_followed_by_a_lookup_not_a_second_post(out):
    from chalicelib.models import OutboundRequest
    from chalicelib.outbound import worker

    ticket = _tweet(out)
    assert out.reply(ticket["id"], "We will make this right.", "public").status_code == 202
    [request] = out.desk.queued("OUTBOUND_QUEUE_URL")
    message = out.outbound(ticket["id"])
    # the platform got the post, then the worker died before writing "sent"; its lease ran out
    import requests

    requests.post(f"{out.sandbox.url}/2/tweets", headers={"Authorization": "Bearer x-user-token-1"},
                  json={"text": message["text"], "reply": {"in_reply_to_tweet_id": "1850000000000000001"}})
    from chalicelib.aggregates.message import Message, ReplyCondition

    out.store.messages.update_reply(
        Message.from_item(message), {"status": "sending", "lease_until": "2000-01-01T00:00:00.000000+00:00",
                                     "attempt_token": "dead", "first_attempt_at": message["created_at"],
                                     "attempts": 1}, ReplyCondition.status_in("queued"))
    assert worker.deliver(OutboundRequest.model_validate(request), out.store) == "sent"
    assert out.outbound(ticket["id"])["confirmed_by"] == "lookup"
    assert len(out.sandbox.posts("x")) == 1


def test_a_long_rate_limit_parks_the_reply_and_sends_it_after_the_wait(out):
    from chalicelib.models import OutboundRequest
    from chalicelib.outbound import worker

    ticket = _tweet(out)
    reset = int(time.time()) + 600
    out.sandbox.fail_next("/2/tweets", status=429, headers={"x-rate-limit-reset": str(reset)})
    assert out.reply(ticket["id"], "We are checking.", "public").status_code == 202
    [request] = out.desk.queued("OUTBOUND_QUEUE_URL")
    with pytest.raises(worker.Deferred) as deferred:
        worker.deliver(OutboundRequest.model_validate(request), out.store)
    assert 590 <= deferred.value.after <= 601
    parked = out.outbound(ticket["id"])
    assert parked["status"] == "retrying" and "rate limit" in parked["error"]["reason"]
    assert worker.deliver(OutboundRequest.model_validate(request), out.store, receive_count=2) == "sent"
    assert len(out.sandbox.posts("x")) == 1


def test_a_permanent_refusal_marks_the_reply_failed_with_the_platforms_reason(out, capsys):
    out.post_meta(p.meta_payload("page", [p.meta_entry(PAGE, messaging=[
        p.messenger_event(PAGE, "6002", "m_in_2", text="hello?")])]))
    ticket = out.ticket()  # the sandbox never heard of this person: Meta answers 2018001
    message = out.send(ticket["id"], "Hi!", "private")
    assert message["status"] == "failed"
    assert "no such recipient" in message["error"]["reason"] and message["error"]["code"] == "100/2018001"
    assert '"RepliesFailed"' in capsys.readouterr().out


def test_a_reply_that_keeps_failing_ends_in_the_dlq_with_a_metric(out, aws_env, capsys):
    from chalicelib.channels import http as clients
    from chalicelib.outbound import worker

    aws_env.setattr(clients, "backoff", lambda attempt: 0.0)
    aws_env.setattr(worker, "IN_PROCESS_ATTEMPTS", 1)
    ticket = _tweet(out)
    out.sandbox.fail_next("/2/tweets", status=503, times=100)
    assert out.reply(ticket["id"], "Hello", "public").status_code == 202
    for _ in range(12):
        out.desk.drain(only=("outbound_worker",))
        time.sleep(0.05)
    message = out.outbound(ticket["id"])
    assert message["status"] == "failed" and message["error"]["reason"].startswith("gave up after 8 attempts")
    sqs = out.desk.sqs()
    dlq = sqs.get_queue_url(QueueName="social-care-outbound-dlq")["QueueUrl"]
    assert len(sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])) == 1
    assert '"OutboundGaveUp"' in capsys.readouterr().out


# --- credentials ----------------------------------------------------------------------------

def test_an_expired_page_token_is_refreshed_from_secrets_manager_once(out):
    import boto3

    from chalicelib.outbound import credentials

    ticket = _fb_comment(out)
    credentials.get("facebook", PAGE)  # cached in this container
    out.sandbox.expire_token("page-token-1")
    out.sandbox.add_token("page-token-2", "graph", user_id=PAGE)
    boto3.client("secretsmanager", region_name=REGION).put_secret_value(
        SecretId=credentials.secret_id("facebook", PAGE), SecretString=json.dumps({"access_token": "page-token-2"}))
    message = out.send(ticket["id"], "Thanks for waiting.", "public")
    assert message["status"] == "sent"
    used = [r["headers"]["Authorization"] for r in out.sandbox.requests_to("/v21.0/555_777/comments")]
    assert used == ["Bearer page-token-1", "Bearer page-token-2"]


def test_an_expired_x_token_is_refreshed_with_the_refresh_token_and_saved(out):
    import boto3

    from chalicelib.outbound import credentials

    ticket = _tweet(out)
    sm = boto3.client("secretsmanager", region_name=REGION)
    sm.put_secret_value(SecretId=credentials.secret_id("x", BRAND_X), SecretString=json.dumps(
        {"access_token": "x-old", "refresh_token": "r-1", "client_id": "client-1"}))
    out.sandbox.add_token("x-old", "x", user_id=BRAND_X, refresh_token="r-1", client_id="client-1", expired=True)
    credentials.reset()
    message = out.send(ticket["id"], "Thanks!", "public")
    assert message["status"] == "sent"
    saved = json.loads(sm.get_secret_value(SecretId=credentials.secret_id("x", BRAND_X))["SecretString"])
    assert saved["access_token"] not in ("x-old", "") and saved["refresh_token"] != "r-1"
    assert out.sandbox.requests_to("/2/oauth2/token")


def test_a_token_that_still_fails_after_refresh_fails_the_reply_without_leaking_it(out, capsys):
    ticket = _fb_comment(out)
    out.sandbox.expire_token("page-token-1")
    message = out.send(ticket["id"], "Hello", "public")
    assert message["status"] == "failed" and "reconnect the account" in message["error"]["reason"]
    assert "page-token-1" not in capsys.readouterr().out + json.dumps(message["error"])


# --- echoes, receipts, first response, the API ----------------------------------------------

def test_the_brands_own_reply_echoed_back_is_not_a_mention(out):
    ticket = _tweet(out)
    out.send(ticket["id"], "We are on it!", "public")
    assert out.deliver_echoes() == 1
    messages = stored.messages(out.store, ticket["id"])
    assert [m["direction"] for m in messages] == ["in", "out"]
    assert len(list(out.store.all_tickets())) == 1


def test_messenger_delivery_and_read_receipts_show_on_the_reply(out):
    out.post_meta(p.meta_payload("page", [p.meta_entry(PAGE, messaging=[
        p.messenger_event(PAGE, "6001", "m_in_1", text="Is the store open on Sunday?")])]))
    out.sandbox.customer_wrote("facebook", PAGE, "6001")
    ticket = out.ticket()
    out.send(ticket["id"], "Yes, 10-16!", "private")
    assert out.deliver_echoes() == 3  # echo, delivery, read
    message = out.outbound(ticket["id"])
    assert message["delivery_status"] == "read" and message.get("delivered_at") and message.get("read_at")
    assert [m["direction"] for m in stored.messages(out.store, ticket["id"])] == ["in", "out"]


def test_first_response_time_is_set_once_and_measured(out, capsys):
    ticket = _tweet(out)
    first = out.send(ticket["id"], "First answer", "public")
    out.reply(ticket["id"], "Second answer", "private")
    out.desk.drain(only=("outbound_worker",))
    after = stored.ticket(out.store, ticket["id"])
    assert after["first_response_at"] == first["sent_at"] and after["first_response_by"] == "ana"
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    frt = [d for d in emitted if "FirstResponseTime" in d]
    assert len(frt) == 1 and frt[0]["channel"] == "x" and frt[0]["FirstResponseTime"][0] >= 0
    assert frt[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] == "Seconds"
    assert sum(1 for d in emitted if "RepliesSent" in d) == 2


def test_refusals_come_before_queuing_with_the_field_and_reason(out):
    ticket = _tweet(out)
    too_long = out.reply(ticket["id"], "x" * 281, "public")
    assert too_long.status_code == 422
    assert json.loads(too_long.body) == {"field": "text", "error": "too long for a reply on X: 281 of at most 280 "
                                         "weighted characters (X counts CJK and emoji as 2, links as 23); shorten it"}
    bad = out.reply(ticket["id"], "hi", "loud")
    assert bad.status_code == 400 and "visibility" in json.loads(bad.body)["error"]
    assert out.desk.client.http.post(f"/api/tickets/{ticket['id']}/replies", body=json.dumps(
        {"text": "hi", "visibility": "public"}), headers={"Content-Type": "application/json"}).status_code == 401
    assert out.reply("no-such-ticket", "hi", "public").status_code == 404
    assert out.desk.queued("OUTBOUND_QUEUE_URL") == []


def test_whatsapp_window_closed_is_refused_before_sending(out):
    old = int(time.time()) - 30 * 3600
    out.post_meta(p.meta_payload("whatsapp_business_account", [p.meta_entry("waba-1", changes=[
        p.wa_message_change(WA, "358409999999", "Olli", "wamid.OLD", text="hello?", timestamp=old)])]))
    ticket = out.ticket()
    answer = out.reply(ticket["id"], "Sorry for the wait", "private")
    assert answer.status_code == 422 and "template" in json.loads(answer.body)["error"]
    shown = json.loads(out.desk.client.http.get(f"/api/tickets/{ticket['id']}", headers=out.agent_headers()).body)
    assert shown["reply_options"]["private"]["allowed"] is False


def test_an_idempotency_key_makes_a_double_click_one_reply(out):
    ticket = _tweet(out)
    first = out.reply(ticket["id"], "Once only", "public", **{"Idempotency-Key": "click-1"})
    second = out.reply(ticket["id"], "Once only", "public", **{"Idempotency-Key": "click-1"})
    assert (first.status_code, second.status_code) == (202, 200)
    assert json.loads(first.body)["id"] == json.loads(second.body)["id"]
    out.desk.drain(only=("outbound_worker",))
    assert len(out.sandbox.requests_to("/2/tweets")) == 1


def test_a_reply_whose_queue_message_was_lost_is_redriven_by_the_sweeper(out):
    from datetime import timedelta

    from chalicelib import queues
    from chalicelib.models import utcnow
    from chalicelib.outbound import replies

    ticket = _tweet(out)
    assert out.reply(ticket["id"], "Sorry for the wait!", "public").status_code == 202
    assert len(out.desk.queued("OUTBOUND_QUEUE_URL")) == 1  # taken off the queue and never handled: lost
    resent = []
    assert replies.redrive(out.store, resent.append, utcnow()) == 0  # too early to call it lost
    assert replies.redrive(out.store, resent.append, utcnow() + timedelta(minutes=6)) == 1
    queues.send(out.desk.queue_urls["OUTBOUND_QUEUE_URL"], resent[0])
    out.desk.drain(only=("outbound_worker",))
    assert out.outbound(ticket["id"])["status"] == "sent" and len(out.sandbox.posts("x")) == 1
    assert replies.redrive(out.store, resent.append, utcnow() + timedelta(minutes=6)) == 0  # sent: out of the index
