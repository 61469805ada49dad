"""Webhook ▸ ingest queue ▸ ingest worker ▸ ticket and message in DynamoDB ▸ routing message.

Everything runs in-process: Chalice's test client for the routes, moto for DynamoDB and SQS,
and the local stack's queue poller to deliver real SQS events to the worker.
"""
from __future__ import annotations

import json

from infra.local import payloads as p
from infra.local import stack
from tests.conftest import TEST_SECRETS
from tests import stored

BRAND_X = "1500000000000000001"
PAGE = "104000000000001"
CUSTOMER = {"id": "2244994945", "name": "Aino Korhonen", "handle": "ainok", "followers": 120_000,
            "verified": True}


def post_x(desk, payload, secret=TEST_SECRETS["X_CONSUMER_SECRET"]):
    body = p.encode(payload)
    headers = {"Content-Type": "application/json", **p.sign_x(body, secret)}
    return desk.client.http.post("/webhooks/x", headers=headers, body=body)


def post_meta(desk, payload):
    body = p.encode(payload)
    headers = {"Content-Type": "application/json", **p.sign_meta(body, TEST_SECRETS["META_APP_SECRET"])}
    return desk.client.http.post("/webhooks/meta", headers=headers, body=body)


def tweet(tweet_id="1850000000000000001", text="@NordlightShop my order #4411 never arrived, help?"):
    return p.x_tweet_event(BRAND_X, tweet_id, CUSTOMER, text)


def test_a_tweet_becomes_a_ticket_with_its_message_opened_waiting_when_nobody_can_take_it(desk):
    # Given a signed Account Activity delivery with one customer tweet, and nobody online
    # When it is posted and the ingest worker runs
    answer = post_x(desk, tweet())
    desk.drain(only=("ingest_worker",))

    # Then the webhook accepted it, one ticket holds the message, waiting with its first re-drive
    assert answer.status_code == 200
    assert json.loads(answer.body) == {"accepted": 1, "duplicates": 0, "ignored": 0}
    [ticket] = stack.ticket_lines(desk.store())
    assert ticket["channel"] == "x" and ticket["status"] == "open"
    assert ticket["messages"] == [{"direction": "in", "platform_message_id": "1850000000000000001",
                                   "text": "@NordlightShop my order #4411 never arrived, help?"}]
    item = stored.ticket(desk.store(), ticket["id"])
    assert item["classification"]["actionable"] is True
    assert item["priority"] > 0 and item["priority_factors"]
    assert "assignee" not in item and item["waiting_since"] and item["GSI3PK"].startswith("REDRIVE#")
    assert desk.queued("ROUTING_QUEUE_URL") == []  # the ingest worker routed it itself


def test_a_new_ticket_opens_assigned_to_the_agent_the_router_picks_in_one_write(desk):
    stored.put_agent(desk.store(), {"id": "mikko", "languages": ["en"], "status": "online", "capacity": 2,
                                    "brands": ["default"]})
    post_x(desk, tweet())
    desk.drain(only=("ingest_worker",))
    [ticket] = stack.ticket_lines(desk.store())
    item = stored.ticket(desk.store(), ticket["id"])
    assert (item["assignee"], item["version"]) == ("mikko", 1) and "GSI3PK" not in item and "waiting_since" not in item
    assert desk.store().agents.get("mikko").load == 1
    assert desk.queued("ROUTING_QUEUE_URL") == []


def test_the_customer_profile_keeps_identity_reach_and_touchpoint(desk):
    post_x(desk, tweet())
    desk.drain(only=("ingest_worker",))

    [ticket] = stack.ticket_lines(desk.store())
    profile = desk.store().customers.history(ticket["customer_id"])
    [identity] = profile.identities
    assert (identity.platform, identity.user_id, identity.followers, identity.verified) == (
        "x", "2244994945", 120_000, True)
    assert [t["ticket_id"] for t in profile.touchpoints] == [ticket["id"]]


def test_a_platform_retry_never_makes_a_second_ticket_or_message(desk):
    # Given the same delivery posted three times (X retries on timeouts)
    for _ in range(3):
        assert post_x(desk, tweet()).status_code == 200
    # When the worker processes all three copies
    desk.drain(only=("ingest_worker",))
    # Then there is one ticket with one message, and nothing more for the router
    [ticket] = stack.ticket_lines(desk.store())
    assert len(ticket["messages"]) == 1
    assert desk.queued("ROUTING_QUEUE_URL") == []


def test_a_later_message_of_the_conversation_threads_into_the_open_ticket(desk):
    # Given two Messenger messages from one customer, in two deliveries
    for mid, text in (("m_1", "Hei, tilaukseni on myöhässä"), ("m_2", "Tilausnumero 4411")):
        post_meta(desk, p.meta_payload("page", [p.meta_entry(PAGE, messaging=[
            p.messenger_event(PAGE, "6000000000000001", mid, text=text)])]))
    # When processed
    desk.drain(only=("ingest_worker",))
    # Then one ticket holds both, in order
    [ticket] = stack.ticket_lines(desk.store())
    assert [m["text"] for m in ticket["messages"]] == ["Hei, tilaukseni on myöhässä", "Tilausnumero 4411"]
    assert [r["reason"] for r in desk.queued("ROUTING_QUEUE_URL")] == ["new_message"]  # the follow-up only


def test_a_batched_meta_delivery_makes_one_ticket_per_conversation(desk):
    # Given one POST with two page entries: a comment on each of two posts and a Messenger message
    payload = p.meta_payload("page", [
        p.meta_entry(PAGE, changes=[p.fb_comment_change(PAGE, "post1", "c1", {"id": "71", "name": "Ola"},
                                                        "Where is my refund?")]),
        p.meta_entry(PAGE, changes=[p.fb_comment_change(PAGE, "post2", "c2", {"id": "72", "name": "Eleni"},
                                                        "Η παραγγελία μου δεν ήρθε")],
                     messaging=[p.messenger_event(PAGE, "6000000000000002", "m_9", text="Help please")]),
    ])
    answer = post_meta(desk, payload)
    desk.drain(only=("ingest_worker",))
    assert json.loads(answer.body)["accepted"] == 3
    tickets = stack.ticket_lines(desk.store())
    assert sorted(t["messages"][0]["platform_message_id"] for t in tickets) == ["c1", "c2", "m_9"]


def test_an_event_for_an_unseen_brand_account_registers_it_as_discovered(desk):
    post_x(desk, p.x_tweet_event("1500000000000000999", "1850000000000000777", CUSTOMER, "hello?"))
    desk.drain(only=("ingest_worker",))
    [account] = desk.store().accounts.all("x")
    assert (account.account_id, account.status) == ("1500000000000000999", "discovered")
    assert len(stack.ticket_lines(desk.store())) == 1


def test_a_bad_signature_is_refused_and_nothing_is_stored_or_queued(desk):
    answer = post_x(desk, tweet(), secret="not-the-secret")
    assert answer.status_code == 401
    assert desk.queued("INGEST_QUEUE_URL") == []
    assert desk.store().table.scan()["Items"] == []


def test_a_missing_signature_is_refused(desk):
    body = p.encode(tweet())
    answer = desk.client.http.post("/webhooks/x", headers={"Content-Type": "application/json"}, body=body)
    assert answer.status_code == 401
    assert desk.queued("INGEST_QUEUE_URL") == []


def test_a_signed_body_that_is_not_json_is_a_400(desk):
    body = b"{not json"
    answer = desk.client.http.post("/webhooks/meta", body=body, headers={
        "Content-Type": "application/json", **p.sign_meta(body, TEST_SECRETS["META_APP_SECRET"])})
    assert answer.status_code == 400 and "error" in json.loads(answer.body)


def test_a_body_over_one_mebibyte_is_a_413(desk):
    body = b'{"pad": "' + b"a" * (1024 * 1024) + b'"}'
    answer = desk.client.http.post("/webhooks/api", body=body, headers={
        "Content-Type": "application/json", **p.sign_api(body, TEST_SECRETS["API_CHANNEL_SECRET"])})
    assert answer.status_code == 413
    assert desk.queued("INGEST_QUEUE_URL") == []


def test_a_signed_body_of_unknown_shape_is_quarantined_and_answered_200(desk):
    body = p.encode({"object": "marketplace", "entry": [{"id": "1", "changes": []}]})
    answer = desk.client.http.post("/webhooks/meta", body=body, headers={
        "Content-Type": "application/json", **p.sign_meta(body, TEST_SECRETS["META_APP_SECRET"])})
    assert answer.status_code == 200
    [row] = stack.quarantine_lines(desk.store())
    assert row["route"] == "/webhooks/meta" and row["id"] == json.loads(answer.body)["quarantined"]
    [item] = desk.store().quarantined()
    assert item["raw_body"] == body.decode()  # kept byte for byte, for replay
    assert "x-hub-signature-256" in item["headers"]
    assert desk.queued("INGEST_QUEUE_URL") == []


def test_an_enqueue_failure_answers_5xx_so_the_platform_retries(desk, aws_env):
    from chalicelib import config

    aws_env.setenv("INGEST_QUEUE_URL", desk.queue_urls["INGEST_QUEUE_URL"] + "-missing")
    config.reset()
    answer = post_x(desk, tweet())
    assert answer.status_code == 503


def test_a_whatsapp_status_updates_delivery_tracking_not_tickets(desk):
    payload = p.meta_payload("whatsapp_business_account", [p.meta_entry("WABA1", changes=[
        p.wa_status_change("109000000000001", "wamid.OUT1", "delivered", "358401234567")])])
    assert post_meta(desk, payload).status_code == 200
    desk.drain(only=("ingest_worker",))
    assert stack.ticket_lines(desk.store()) == []
    [status] = desk.store().messages.delivery_statuses("whatsapp", "wamid.OUT1")
    assert status.status == "delivered"


def test_an_inbound_email_through_sns_becomes_a_ticket(desk):
    message = p.ses_sns_message("kasia@example.pl", "care@nordlight.example", "Zwrot pieniędzy",
                                "Dzień dobry, proszę o zwrot pieniędzy za zamówienie 5521.",
                                "abc123@mail.example.pl")
    desk.client.lambda_.invoke("email_inbound", desk.client.events.generate_sns_event(message=message))
    desk.drain(only=("ingest_worker",))
    [ticket] = stack.ticket_lines(desk.store())
    assert ticket["channel"] == "email"
    assert "zwrot pieniędzy" in ticket["messages"][0]["text"]


def test_an_email_delivered_twice_by_sns_is_one_message(desk):
    message = p.ses_sns_message("eleni@example.gr", "care@nordlight.example", "Επιστροφή",
                                "Θέλω επιστροφή χρημάτων", "dup1@mail.example.gr")
    for _ in range(2):
        desk.client.lambda_.invoke("email_inbound", desk.client.events.generate_sns_event(message=message))
    desk.drain(only=("ingest_worker",))
    [ticket] = stack.ticket_lines(desk.store())
    assert len(ticket["messages"]) == 1


def test_an_email_reply_threads_into_the_ticket_of_its_first_message(desk):
    first = p.ses_sns_message("eleni@example.gr", "care@nordlight.example", "Order 77", "Where is order 77?",
                              "root77@mail.example.gr")
    reply = p.ses_sns_message("eleni@example.gr", "care@nordlight.example", "Re: Order 77", "Any news?",
                              "reply77@mail.example.gr", in_reply_to="root77@mail.example.gr",
                              references="root77@mail.example.gr")
    for message in (first, reply):
        desk.client.lambda_.invoke("email_inbound", desk.client.events.generate_sns_event(message=message))
        desk.drain(only=("ingest_worker",))
    [ticket] = stack.ticket_lines(desk.store())
    assert [m["text"] for m in ticket["messages"]] == ["Where is order 77?", "Any news?"]


def test_an_sns_notification_of_unknown_shape_is_quarantined(desk):
    desk.client.lambda_.invoke("email_inbound", desk.client.events.generate_sns_event(
        message=json.dumps({"notificationType": "Received", "surprise": True})))
    [row] = stack.quarantine_lines(desk.store())
    assert row["route"] == "sns:email"
    assert desk.queued("INGEST_QUEUE_URL") == []


def test_the_routing_worker_assigns_an_online_agent_who_speaks_the_language(desk):
    # (an account nobody connected yet is the "default" brand's; agents take only their brands' tickets)
    stored.put_agent(desk.store(), {"id": "mikko", "languages": ["fi", "en"], "status": "online", "capacity": 5,
                                    "brands": ["default"]})
    stored.put_agent(desk.store(), {"id": "ana", "languages": ["el", "en"], "status": "online", "capacity": 5,
                                    "brands": ["default"]})
    post_meta(desk, p.meta_payload("page", [p.meta_entry(PAGE, messaging=[
        p.messenger_event(PAGE, "6000000000000003", "m_31", text="Hei, laskussa on virhe, apua?")])]))
    desk.drain()
    [ticket] = stack.ticket_lines(desk.store())
    assert stored.ticket(desk.store(), ticket["id"])["assignee"] == "mikko"


def test_the_x_crc_answers_with_the_hmac_of_the_token(desk):
    import base64
    import hashlib
    import hmac

    answer = desk.client.http.get("/webhooks/x?crc_token=challenge-123")
    expected = base64.b64encode(hmac.new(TEST_SECRETS["X_CONSUMER_SECRET"].encode(), b"challenge-123",
                                         hashlib.sha256).digest()).decode()
    assert (answer.status_code, json.loads(answer.body)) == (200, {"response_token": "sha256=" + expected})
    assert desk.client.http.get("/webhooks/x").status_code == 400


def test_secrets_missing_from_the_environment_come_from_secrets_manager(desk, aws_env):
    # Given no X secret in the environment (the stage config names PLATFORM_SECRET_ID)
    from chalicelib import aws, config

    aws_env.delenv("X_CONSUMER_SECRET")
    config.reset()
    # Then the CRC is answered with the secret stored in Secrets Manager
    assert desk.client.http.get("/webhooks/x?crc_token=abcdefgh12").status_code == 200
    # And with the secret gone from there too, X gets a 503, never a wrong token
    aws.client("secretsmanager").put_secret_value(SecretId="social-care/platform", SecretString="{}")
    config.reset()
    assert desk.client.http.get("/webhooks/x?crc_token=abcdefgh12").status_code == 503


def test_the_meta_verification_handshake(desk):
    ok = desk.client.http.get("/webhooks/meta?hub.mode=subscribe&hub.verify_token="
                              f"{TEST_SECRETS['META_VERIFY_TOKEN']}&hub.challenge=987654")
    assert (ok.status_code, ok.body) == (200, b"987654")
    wrong = desk.client.http.get("/webhooks/meta?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1")
    assert wrong.status_code == 403


def test_a_negative_mention_counts_for_its_brands_crisis_alarm(desk, capsys):
    stored.put_account(desk.store(), "x", BRAND_X, status="active", brand="nordlight")
    post_x(desk, tweet(text="@NordlightShop this is the worst service ever, I am furious and disgusted"))
    post_x(desk, tweet(tweet_id="1850000000000000002", text="@NordlightShop thank you, the lamp is lovely!"))
    desk.drain(only=("ingest_worker",))
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    negative = [m for m in lines if "NegativeMentions" in m]
    assert len(negative) == 1 and negative[0]["brand"] == "nordlight"
    [directive] = negative[0]["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "SocialCare" and directive["Dimensions"][0][0] == "brand"  # (+ service, deployed)


def test_a_follow_up_after_an_answer_puts_the_ticket_back_among_the_unanswered(desk):
    """The ingest pipeline's half of 'an answered ticket drops below the unanswered ones of its
    priority' (tests/contract/test_inbox_answered_order.py has the stores' half): the customer's
    next message makes the ticket unanswered again, in its inbox place too."""
    from chalicelib.aggregates.message import Message
    from chalicelib.models import sortable, utcnow
    from chalicelib.store import keys

    def message(mid, text):
        post_meta(desk, p.meta_payload("page", [p.meta_entry(PAGE, messaging=[
            p.messenger_event(PAGE, "6000000000000002", mid, text=text)])]))
        desk.drain(only=("ingest_worker",))

    def placed(ticket):
        return keys.inbox_index(ticket.status, ticket.priority, ticket.sla_due_at or "", ticket.id, ticket.answered)

    message("m_1", "Hei, tilaukseni on myöhässä")
    [line] = stack.ticket_lines(desk.store())
    store = desk.store()
    ticket = store.tickets.get(line["id"])
    reply = Message.reply("r1", ticket_id=ticket.id, platform="facebook", kind="messenger_reply", text="Katson heti",
                          visibility="private", target={"recipient_id": "6000000000000002"}, template_id=None,
                          created_at=sortable(utcnow()), agent_id="ana", agent_name="Ana", brand=ticket.brand, notes=[],
                          automatic=False)
    stored_reply, _ = store.messages.put_reply(reply)
    store.messages.record_sent(stored_reply.model_copy(update={"status": "sent", "platform_message_id": "mid.r1",
                                                               "sent_at": sortable(utcnow())}), ticket.customer_id, ticket)
    answered = store.tickets.get(ticket.id)
    assert answered.answered
    raw = store.table.get_item(Key=keys.ticket(ticket.id))["Item"]
    assert raw["GSI1SK"] == placed(answered)["GSI1SK"] and "#1#" in raw["GSI1SK"]

    message("m_2", "Tilausnumero 4411")

    again = store.tickets.get(ticket.id)
    assert again.answered is False
    raw = store.table.get_item(Key=keys.ticket(ticket.id))["Item"]
    assert raw["GSI1SK"] == placed(again)["GSI1SK"] and "#0#" in raw["GSI1SK"]
