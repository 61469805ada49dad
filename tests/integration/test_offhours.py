"""Outside its team's hours a new conversation gets one automatic acknowledgement, in the
customer's language, saying when a person will answer; inside hours it gets none."""
from __future__ import annotations

from datetime import datetime, timezone

from chalicelib.models import RoutingRequest
from infra.local import payloads as p
from tests.conftest import TEST_SECRETS
from tests import stored

BRAND_X = "1500000000000000001"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _hours(open_today: bool) -> dict:
    today = datetime.now(timezone.utc).weekday()
    day = DAYS[today] if open_today else DAYS[(today + 2) % 7]
    return {"version": 0, "teams": {"nordic": {"timezone": "UTC", "days": {day: [["00:00", "24:00"]]}}}}


def _tweet(desk, text, tweet_id="1850000000000000701"):
    body = p.encode(p.x_tweet_event(BRAND_X, tweet_id, {"id": "42", "name": "Aino Virtanen", "handle": "aino"}, text))
    desk.client.http.post("/webhooks/x", body=body, headers={
        "Content-Type": "application/json", **p.sign_x(body, TEST_SECRETS["X_CONSUMER_SECRET"])})
    desk.drain(only=("ingest_worker", "route_worker"))
    [ticket] = list(desk.store().all_tickets())
    return ticket


def _setup(desk, open_today):
    store = desk.store()
    stored.put_account(store, "x", BRAND_X, status="active", brand="nordlight", team="nordic")
    store.put_settings("hours", _hours(open_today), "test")


def test_a_closed_team_acknowledges_once_in_the_customers_language(desk):
    _setup(desk, open_today=False)
    ticket = _tweet(desk, "Tilaukseni ei ole vieläkään saapunut, missä se on?")
    [ack] = [m for m in stored.messages(desk.store(), ticket["id"]) if m["direction"] == "out"]
    assert ack["automatic"] is True and ack["visibility"] == "public" and ack["kind"] == "x_reply"
    assert ack["text"].startswith("Kiitos viestistäsi, Aino!") and "(UTC)" in ack["text"]
    due = datetime.fromisoformat(ticket["first_response_due_at"])
    assert due.strftime("%H:%M") in ack["text"]
    queued = desk.queued("OUTBOUND_QUEUE_URL")
    assert [q["message_id"] for q in queued] == [ack["id"]]
    # a redelivered routing request does not acknowledge twice
    from chalicelib import routing

    routing.route(RoutingRequest(ticket_id=ticket["id"], message_id="m", reason="new_ticket", priority=1),
                  desk.store(), routing.DEFAULT_SETTINGS)
    assert len([m for m in stored.messages(desk.store(), ticket["id"]) if m["direction"] == "out"]) == 1


def test_an_open_team_sends_no_acknowledgement(desk):
    _setup(desk, open_today=True)
    ticket = _tweet(desk, "Which lamp fits a reading corner?")
    assert [m for m in stored.messages(desk.store(), ticket["id"]) if m["direction"] == "out"] == []


def test_the_acknowledgement_is_not_a_first_response(desk):
    _setup(desk, open_today=False)
    ticket = _tweet(desk, "Hello? Anyone there?")
    [ack] = [m for m in stored.messages(desk.store(), ticket["id"]) if m["direction"] == "out"]
    store = desk.store()
    from chalicelib.aggregates.message import Message

    sent = Message.from_item({**ack, "platform_message_id": "77", "sent_at": ack["created_at"]})
    assert store.messages.record_sent(sent, None) is False
    assert "first_response_at" not in stored.ticket(store, ticket["id"])


def test_a_brands_own_wording_per_channel_wins(desk):
    _setup(desk, open_today=False)
    desk.store().put_template({"id": "offhours-x", "name": "X off-hours", "default_language": "en", "variants": {
        "en": "Hi {{customer.name}}, we are offline; a person replies by {{reply.time}}.",
        "fi": "Hei {{customer.name}}, olemme poissa; vastaamme {{reply.time}} mennessä."}}, expected_version=0)
    ticket = _tweet(desk, "Tilaukseni ei ole vieläkään saapunut, missä se on?")
    [ack] = [m for m in stored.messages(desk.store(), ticket["id"]) if m["direction"] == "out"]
    assert ack["text"].startswith("Hei Aino Virtanen, olemme poissa; vastaamme ") and "(UTC) mennessä" in ack["text"]
