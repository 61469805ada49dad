"""Ingest workers racing on moto (threads calling the real pipeline against the table): a ticket
opens without a transaction, so what the transaction guaranteed must hold by conditions alone: one
ticket per conversation, every message once, and the agent's load equal to what they hold."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from chalicelib import pipeline
from chalicelib.models import MentionEnvelope, utcnow
from infra.local import payloads as p
from tests import stored

PAGE = "104000000000001"


def _envelope(mid: str, text: str, sender: str = "6000000000000009") -> str:
    from chalicelib.channels import registry
    from chalicelib.channels.meta import WEBHOOK
    from chalicelib.channels.meta import webhook as meta

    payload = p.meta_payload("page", [p.meta_entry(PAGE, messaging=[p.messenger_event(PAGE, sender, mid, text=text)])])
    [mention] = meta.parse(payload, registry.parts(WEBHOOK)).mentions
    return MentionEnvelope(mention=mention, received_at=utcnow()).model_dump_json()


def _race(desk, bodies: list[str]) -> list:
    sent: list = []
    store = desk.store()
    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(lambda body: pipeline.handle_record(body, store, lambda url, b: sent.append(b)),
                             bodies)), sent


def test_messages_racing_into_one_new_conversation_make_one_ticket_holding_each_once(desk):
    stored.put_agent(desk.store(), {"id": "mikko", "languages": ["fi", "en"], "status": "online", "capacity": 5,
                                    "brands": ["default"]})
    bodies = [_envelope(f"m_{i}", f"viesti {i}: tilaus 44{i}") for i in range(6)]
    outcomes, _ = _race(desk, bodies)
    store = desk.store()
    [ticket] = list(store.all_tickets())
    assert sorted(o.result for o in outcomes).count("created") == 1
    assert {o.ticket_id for o in outcomes} == {ticket["id"]}
    messages = store.messages.timeline(ticket["id"])
    assert sorted(m.text for m in messages) == sorted(f"viesti {i}: tilaus 44{i}" for i in range(6))
    assert store.tickets.get(ticket["id"]).message_count == 6
    assert (ticket["assignee"], store.agents.get("mikko").load) == ("mikko", 1)


def test_one_mention_delivered_four_times_at_once_is_one_message_and_one_slot(desk):
    stored.put_agent(desk.store(), {"id": "mikko", "languages": ["fi", "en"], "status": "online", "capacity": 5,
                                    "brands": ["default"]})
    outcomes, sent = _race(desk, [_envelope("m_same", "Hei, missä tilaukseni on?")] * 4)
    store = desk.store()
    [ticket] = list(store.all_tickets())
    assert [m.id for m in store.messages.timeline(ticket["id"])] == [outcomes[0].message_id]
    assert store.tickets.get(ticket["id"]).message_count == 1
    assert store.agents.get("mikko").load == 1  # the losers' reserved slots were given back
    assert sorted(o.result for o in outcomes).count("created") >= 1 and sent == []
