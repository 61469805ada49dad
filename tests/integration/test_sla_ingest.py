"""Each ticket carries its SLA from ingest: band, first response and resolution due, in the team's
business hours; a customer's reply restarts the next-response clock and resumes a paused one."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from chalicelib.auth import mint
from infra.local import payloads as p
from tests.conftest import TEST_SECRETS
from tests import stored

BRAND_X = "1500000000000000001"
HEL = ZoneInfo("Europe/Helsinki")


def _tweet(desk, tweet_id, text, at, in_reply_to=None):
    body = p.encode(p.x_tweet_event(BRAND_X, tweet_id, {"id": "42", "name": "Kim", "handle": "kim"}, text,
                                    created_at=at, in_reply_to=in_reply_to))
    desk.client.http.post("/webhooks/x", body=body, headers={
        "Content-Type": "application/json", **p.sign_x(body, TEST_SECRETS["X_CONSUMER_SECRET"])})
    desk.drain(only=("ingest_worker",))


def _only(desk):
    [ticket] = list(desk.store().all_tickets())
    return ticket


def test_a_public_complaint_is_due_in_15_minutes_around_the_clock(desk):
    at = datetime(2026, 11, 28, 3, 0, tzinfo=timezone.utc)  # a Saturday night
    _tweet(desk, "1850000000000000501", "@NordlightShop your charger caught fire, this is dangerous and awful", at)
    ticket = _only(desk)
    assert ticket["sla_band"] == "urgent"
    assert datetime.fromisoformat(ticket["first_response_due_at"]) == at + timedelta(minutes=15)
    assert ticket["sla_due_at"] == ticket["first_response_due_at"]
    assert datetime.fromisoformat(ticket["resolution_due_at"]) == at + timedelta(minutes=240)


def test_a_team_with_business_hours_counts_only_open_time(desk):
    store = desk.store()
    stored.put_account(store, "x", BRAND_X, status="active", brand="nordlight", team="nordic")
    store.put_settings("hours", {"version": 0, "teams": {"nordic": {
        "timezone": "Europe/Helsinki", "days": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
        "holidays": []}}}, "test")
    at = datetime(2026, 11, 27, 16, 50, tzinfo=HEL)  # Friday 16:50 in Helsinki
    _tweet(desk, "1850000000000000502", "@NordlightShop which lamp fits a reading corner?", at)
    ticket = _only(desk)
    assert ticket["team"] == "nordic" and ticket["sla_band"] in ("normal", "low")
    due = datetime.fromisoformat(ticket["first_response_due_at"]).astimezone(HEL)
    if ticket["sla_band"] == "normal":  # 60 business minutes: 10 on Friday, 50 on Monday
        assert due == datetime(2026, 11, 30, 9, 50, tzinfo=HEL)
    assert due.weekday() == 0 and due.hour >= 9


def test_after_the_first_reply_resolution_is_next_and_a_customer_reply_restarts_the_clock(desk):
    at = (datetime.now(timezone.utc) - timedelta(minutes=30)).replace(microsecond=0)
    _tweet(desk, "1850000000000000503", "@NordlightShop my order #4411 never arrived, help!", at)
    ticket = _only(desk)
    store = desk.store()
    sent_at = (at + timedelta(minutes=10)).isoformat()
    from chalicelib.aggregates.message import Message

    store.messages.record_sent(Message.from_item({
        "platform": "x", "platform_message_id": "900", "ticket_id": ticket["id"], "id": "r1", "direction": "out",
        "created_at": sent_at, "sent_at": sent_at, "agent_id": "ana", "kind": "x_reply"}), None)
    from chalicelib.outbound.worker import after_sent  # noqa: F401  (the worker does both steps)

    store.tickets.set_sla_due(store.tickets.get(ticket["id"]), ticket["resolution_due_at"])
    assert stored.ticket(store, ticket["id"])["sla_due_at"] == ticket["resolution_due_at"]
    again = at + timedelta(minutes=20)
    _tweet(desk, "1850000000000000504", "@NordlightShop any news?", again, in_reply_to="1850000000000000503")
    now = stored.ticket(store, ticket["id"])
    expected = again + timedelta(minutes=now["next_response_minutes"])
    assert datetime.fromisoformat(now["next_response_due_at"]) == expected
    assert now["sla_due_at"] == min(now["next_response_due_at"], now["resolution_due_at"])


def test_waiting_on_the_customer_pauses_the_resolution_clock(desk):
    stored.put_agent(desk.store(), {"id": "ana", "brands": ["aegean", "default", "nordlight"]})  # an agent of the tickets' brands
    at = (datetime.now(timezone.utc) - timedelta(hours=3)).replace(microsecond=0)
    _tweet(desk, "1850000000000000505", "@NordlightShop the app crashes on login", at)
    ticket = _only(desk)
    token = mint("ana", "agent", TEST_SECRETS["LOCAL_JWT_SECRET"])
    answer = desk.client.http.patch(f"/api/tickets/{ticket['id']}", body=json.dumps(
        {"version": ticket["version"], "status": "pending"}),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert answer.status_code == 200
    store = desk.store()
    paused_at = datetime.fromisoformat(stored.ticket(store, ticket["id"])["paused_at"])
    store.table.update_item(Key={"PK": f"TICKET#{ticket['id']}", "SK": "TICKET"},  # paused two hours ago
                            UpdateExpression="SET paused_at = :p",
                            ExpressionAttributeValues={":p": (paused_at - timedelta(hours=2)).isoformat()})
    reply_at = paused_at
    _tweet(desk, "1850000000000000506", "@NordlightShop here is the screenshot", reply_at,
           in_reply_to="1850000000000000505")
    resumed = stored.ticket(store, ticket["id"])
    shift = datetime.fromisoformat(resumed["resolution_due_at"]) - datetime.fromisoformat(ticket["resolution_due_at"])
    assert resumed["status"] == "open" and abs(shift - timedelta(hours=2)) < timedelta(seconds=5)
