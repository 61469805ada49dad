"""Per platform, through the real routes and the worker: good signature, bad signature, retry
without duplicates, batched delivery, unknown shape quarantined."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable

import pytest

from infra.local import payloads as p
from infra.local import stack
from tests.conftest import TEST_SECRETS

PAGE, IG, WA, BRAND_X = "104000000000001", "17841400000000001", "109000000000001", "1500000000000000001"


@dataclass
class Platform:
    name: str
    route: str
    sign: Callable[[bytes], dict]
    batch: Callable[[], dict]  # one delivery with two customer messages in two conversations
    unknown: dict  # signed JSON of a shape the parser does not know

    def post(self, desk, payload, signed=True):
        body = p.encode(payload)
        headers = {"Content-Type": "application/json", **(self.sign(body) if signed else {})}
        return desk.client.http.post(self.route, headers=headers, body=body)


def _x_sign(body):
    return p.sign_x(body, TEST_SECRETS["X_CONSUMER_SECRET"])


def _meta_sign(body):
    return p.sign_meta(body, TEST_SECRETS["META_APP_SECRET"])


def _api_sign(body):
    return p.sign_api(body, TEST_SECRETS["API_CHANNEL_SECRET"])


PLATFORMS = [
    Platform("x", "/webhooks/x", _x_sign, lambda: p.x_batch(BRAND_X, tweets=[
        p.x_tweet("1870000000000000001", {"id": "11", "name": "A", "handle": "a"}, "@brand help?"),
    ], dms=[p.x_dm("1870000000000000002", "12", BRAND_X, "DM: refund please")],
        users=[{"id": "12", "name": "B", "handle": "b", "followers": 10}]), {"for_user_id": BRAND_X, "odd": []}),
    Platform("facebook", "/webhooks/meta", _meta_sign, lambda: p.meta_payload("page", [p.meta_entry(
        PAGE, changes=[p.fb_comment_change(PAGE, "p1", "c1", {"id": "21", "name": "C"}, "Where is my order?")],
        messaging=[p.messenger_event(PAGE, "22", "m_22", text="Hei, apua laskun kanssa")])]),
        {"object": "page", "entry": [{"id": PAGE, "time": 1}]}),
    Platform("instagram", "/webhooks/meta", _meta_sign, lambda: p.meta_payload("instagram", [p.meta_entry(
        IG, changes=[p.ig_comment_change("1790001", "1780001", {"id": "31", "username": "d"}, "Broken on arrival")],
        messaging=[p.ig_dm_event(IG, "32", "ig_m_32", text="Το δέμα μου χάθηκε")])]),
        {"object": "instagram", "entry": "not a list"}),
    Platform("whatsapp", "/webhooks/meta", _meta_sign, lambda: p.meta_payload("whatsapp_business_account", [
        p.meta_entry("WABA", changes=[
            p.wa_message_change(WA, "358401111111", "E", "wamid.A1", text="我的订单在哪里？"),
            p.wa_message_change(WA, "358402222222", "F", "wamid.B1", text="أين طلبي؟")])]),
        {"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [
            {"field": "messages", "value": {"messages": [{"type": "text"}]}}]}]}),
    Platform("api", "/webhooks/api", _api_sign, lambda: [
        p.api_body("w1", "41", "G", "Chat: my login fails", thread_id="t1"),
        p.api_body("w2", "42", "H", "Form: invoice is wrong", thread_id="t2")],
        {"hello": "world"}),
]


def _flip_last(signature: str) -> str:
    return signature[:-2] + ("0" if signature[-2] != "0" else "1") + signature[-1]


@pytest.fixture(params=PLATFORMS, ids=[pl.name for pl in PLATFORMS])
def platform(request):
    return request.param


def test_a_signed_batch_becomes_one_ticket_per_conversation(desk, platform):
    answer = platform.post(desk, platform.batch())
    assert answer.status_code == 200 and json.loads(answer.body)["accepted"] == 2
    desk.drain(only=("ingest_worker",))
    tickets = stack.ticket_lines(desk.store())
    assert len(tickets) == 2 and all(len(t["messages"]) == 1 for t in tickets)


def test_a_retried_delivery_adds_nothing(desk, platform):
    for _ in range(2):
        platform.post(desk, platform.batch())
    desk.drain(only=("ingest_worker",))
    first = stack.ticket_lines(desk.store())
    platform.post(desk, platform.batch())  # a late retry, after processing
    desk.drain(only=("ingest_worker",))
    assert stack.ticket_lines(desk.store()) == first
    assert sum(len(t["messages"]) for t in first) == 2


def test_a_bad_or_missing_signature_is_401_and_leaves_no_trace(desk, platform):
    assert platform.post(desk, platform.batch(), signed=False).status_code == 401
    body = p.encode(platform.batch())
    forged = desk.client.http.post(platform.route, body=body, headers={
        "Content-Type": "application/json", **{k: _flip_last(v) for k, v in platform.sign(body).items()}})
    assert forged.status_code == 401
    assert desk.queued("INGEST_QUEUE_URL") == []
    assert desk.store().table.scan()["Items"] == []


def test_an_unknown_shape_is_kept_for_replay(desk, platform):
    answer = platform.post(desk, platform.unknown)
    assert answer.status_code == 200
    [row] = stack.quarantine_lines(desk.store())
    assert row["route"] == platform.route and row["reason"]
    assert desk.queued("INGEST_QUEUE_URL") == []
