"""A channel is its package plus one line of registration (docs/ARCHITECTURE.md, "How to add a channel").

Given Toy, a made-up platform whose package lives in the tests (tests/channels/toy: its descriptor
and its webhook module) and is registered the way channels/registry.py registers the shipped ones,
and no other file edited,
then its webhook route answers its own handshake and refuses a bad signature, a signed delivery
becomes a ticket in the inbox, and the web UI's channel list names it.
"""
from __future__ import annotations

import json

import pytest

from chalicelib.auth import mint
from chalicelib.channels import registry
from chalicelib.channels import signing
from infra.local import stack
from tests.channels import toy
from tests.conftest import TEST_SECRETS

SECRET = "toy-channel-secret"


@pytest.fixture
def with_toy(monkeypatch):
    """Toy's one line in channels/registry.py, and its secret where the desk reads secrets."""
    from chalicelib.openapi import document

    monkeypatch.setattr(registry, "CHANNELS", registry.CHANNELS + (toy.CHANNEL,))
    monkeypatch.setenv("TOY_CHANNEL_SECRET", SECRET)
    document.cache_clear()
    yield
    document.cache_clear()


def _admin():
    return {"Authorization": "Bearer " + mint("sam", "admin", TEST_SECRETS["LOCAL_JWT_SECRET"])}


def _post(desk, payload, secret=SECRET):
    body = json.dumps(payload).encode()
    return desk.client.http.post("/webhooks/toy", body=body, headers={
        "Content-Type": "application/json", "X-Toy-Signature": signing.hex_signature(secret, body)})


DELIVERY = {"account": "toy-brand-1", "chats": [
    {"id": "chat-1", "from": {"id": "u-42", "name": "Tove"}, "text": "My parcel never came, can you help?"}]}


def test_a_registered_channel_is_served_by_the_webhook_route_and_becomes_a_ticket(desk, with_toy):
    # Given Toy registered and nothing else changed
    # When Toy checks the route (its own handshake) and posts a signed chat
    handshake = desk.client.http.get("/webhooks/toy?token=" + SECRET + "&challenge=abc123")
    refused = _post(desk, DELIVERY, secret="not-the-secret")
    answer = _post(desk, DELIVERY)
    desk.drain(only=("ingest_worker",))

    # Then the handshake is Toy's, a bad signature is refused, and the chat is a ticket in the inbox
    assert (handshake.status_code, handshake.body) == (200, b"abc123")
    assert handshake.headers["Content-Type"].startswith("text/plain")
    assert refused.status_code == 401
    assert answer.status_code == 200 and json.loads(answer.body) == {"accepted": 1, "duplicates": 0, "ignored": 0}
    [ticket] = stack.ticket_lines(desk.store())
    assert ticket["channel"] == "toy"
    assert ticket["messages"] == [{"direction": "in", "platform_message_id": "chat-1",
                                   "text": "My parcel never came, can you help?"}]
    inbox = json.loads(desk.client.http.get("/api/tickets?channel=toy", headers=_admin()).body)["items"]
    assert [t["id"] for t in inbox] == [ticket["id"]] and inbox[0]["channel"] == "toy"
    # and the web UI's channel list draws it
    channels = json.loads(desk.client.http.get("/api/channels", headers=_admin()).body)["items"]
    assert channels[-1]["id"] == "toy" and channels[-1]["name"] == "Toy"
    assert channels[-1]["counter"] == {"private": {"counting": "characters", "limit": 500}}


def test_an_unknown_webhook_is_a_404_and_a_webhook_without_a_handshake_answers_post_only(desk):
    assert desk.client.http.post("/webhooks/toy", body=b"{}", headers={"Content-Type": "application/json"}
                                 ).status_code == 404
    assert desk.client.http.get("/webhooks/toy?token=x&challenge=y").status_code == 404
    assert desk.client.http.get("/webhooks/facebook").status_code == 404  # Meta's products share /webhooks/meta
    answer = desk.client.http.get("/webhooks/api")
    assert answer.status_code == 405 and json.loads(answer.body) == {"error": "this webhook answers POST only"}
