"""Suggested answers (issue 16, point 3), through the real route under moto: a brand's imported
history and its templates come back for a similar ticket, best first, the customer greeted by name;
another brand's ticket is a 404 and another brand's history never shows; the history read is bounded
however large the brand's history grows; a reply the desk sends joins the history once.
"""
from __future__ import annotations

import json

import pytest

from chalicelib.history.__main__ import import_file
from chalicelib.history.entries import READ_LIMIT
from infra.local import payloads as p
from tests import stored
from tests.conftest import TEST_SECRETS
from tests.integration.agent_http import headers
from tests.integration.conftest import connected_platforms

BRAND_X, OTHER_X = "1500000000000000001", "1500000000000000077"
CUSTOMER = {"id": "2244994945", "name": "Aino Korhonen", "handle": "ainok", "followers": 10}
REFUND = "Hi {{customer.name}}, your refund is on its way and shows on your card within 5 working days."


def _lines(tmp_path, rows, name="history.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return str(path)


def _history(brand="nordlight"):
    return [
        {"brand": brand, "channel": "x", "customer_text": "where is my refund for the returned lamp?",
         "reply_text": REFUND.replace("{{customer.name}}", "Maria"), "language": "en", "topic": "refund",
         "resolved": True, "csat": 5, "at": "2026-03-01T10:00:00Z"},
        {"brand": brand, "channel": "x", "customer_text": "still no refund after my return",
         "reply_text": REFUND, "language": "en", "topic": "refund", "resolved": True,
         "at": "2026-03-02T10:00:00Z"},
        {"brand": brand, "channel": "x", "customer_text": "my parcel has not arrived",
         "reply_text": "Sorry! Track it under Orders > Track.", "language": "en", "topic": "delivery",
         "at": "2026-03-03T10:00:00Z"},
    ]


def _ticket(desk, account, tweet_id, text):
    desk.post_tweet(account, tweet_id, CUSTOMER, text)
    desk.drain(only=("ingest_worker",))
    return next(t for t in desk.store().all_tickets() if tweet_id in json.dumps(t))


def _letters(n: int) -> str:
    """A word for a number (replies that differ by digits alone are one reply)."""
    return "".join(chr(ord("a") + int(d)) for d in str(n))


def _classified(store, ticket_id, language, topic):
    """The classifier's verdict, set as an agent's correction would (so the test does not depend on it)."""
    current = store.tickets.get(ticket_id)
    store.tickets.update(ticket_id, current.version, {"language": language, "topic": topic})


def _suggestions(desk, ticket_id, agent="ana"):
    answer = desk.client.http.get(f"/api/tickets/{ticket_id}/suggestions", headers=headers(agent))
    return answer.status_code, json.loads(answer.body or b"null")


@pytest.fixture
def brands(desk):
    store = desk.store()
    stored.put_account(store, "x", BRAND_X, status="active", brand="nordlight")
    stored.put_account(store, "x", OTHER_X, status="active", brand="aegean")
    stored.put_agent(store, {"id": "ana", "name": "Ana", "brands": ["nordlight"]})
    stored.put_agent(store, {"id": "eli", "name": "Eli", "brands": ["aegean"]})
    store.put_template({"id": "refund-policy", "name": "Refund policy", "brand": "nordlight", "default_language": "en",
                        "variants": {"en": "Hi {{customer.name}}, refunds reach your card in 5 working days."}},
                       expected_version=0)
    store.put_template({"id": "aegean-refund", "name": "Refund (Aegean)", "brand": "aegean", "default_language": "en",
                        "variants": {"en": "Aegean refunds take 7 days."}}, expected_version=0)
    return desk


def test_an_imported_history_and_a_template_are_suggested_for_a_similar_ticket(brands, tmp_path):
    desk = brands
    assert import_file(_lines(tmp_path, _history() + _history("aegean")), desk.store().table) == 0
    ticket = _ticket(desk, BRAND_X, "1850000000000000101", "@NordlightShop where is my refund? I sent the lamp back")
    _classified(desk.store(), ticket["id"], "en", "refund")

    status, body = _suggestions(desk, ticket["id"])

    assert status == 200
    items = body["items"]
    assert 1 <= len(items) <= 5 and [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)
    assert set(items[0]) == {"text", "source", "id", "score", "why"}
    history = [i for i in items if i["source"] == "history"]
    assert history[0]["text"] == REFUND.replace("{{customer.name}}", "Aino Korhonen")  # the newest wording, named
    assert "2 similar questions" in history[0]["why"] and "resolved 2 of them" in history[0]["why"]
    template = next(i for i in items if i["source"] == "template")
    assert template["id"] == "refund-policy" and template["text"].startswith("Hi Aino Korhonen, refunds")
    assert "Aegean" not in json.dumps(body)  # another brand's template and history never show


def test_another_brands_ticket_is_a_404(brands, tmp_path):
    desk = brands
    ticket = _ticket(desk, OTHER_X, "1850000000000000102", "@AegeanSkies refund please")
    assert _suggestions(desk, ticket["id"], agent="ana")[0] == 404
    assert _suggestions(desk, "no-such-ticket", agent="ana")[0] == 404
    status, body = _suggestions(desk, ticket["id"], agent="eli")
    assert status == 200 and all(i["id"] != "refund-policy" for i in body["items"])


def test_the_history_read_is_bounded_however_large_the_history(brands, tmp_path):
    desk = brands
    rows = [{"brand": "nordlight", "channel": "x", "customer_text": f"refund question {i} about order {i}",
             "reply_text": f"Answer {_letters(i)} about the refund", "language": "en", "topic": "refund",
             "at": f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}Z"} for i in range(500)]
    assert import_file(_lines(tmp_path, rows), desk.store().table) == 0
    ticket = _ticket(desk, BRAND_X, "1850000000000000103", "@NordlightShop my refund for order 7?")
    _classified(desk.store(), ticket["id"], "en", "refund")
    read: list[int] = []
    scans: list[str] = []

    from chalicelib import aws

    events = aws.table().meta.client.meta.events
    history_pks = ("HIST", "HISTLANG")

    def remember(params, **_):
        pk = params.get("ExpressionAttributeValues", {}).get(":pk")
        pk = pk.get("S", "") if isinstance(pk, dict) else str(pk or "")
        remember.history = pk.split("#")[0] in history_pks

    def counted(parsed, **_):
        if getattr(remember, "history", False):
            read.append(parsed.get("Count", 0))

    events.register("provide-client-params.dynamodb.Query", remember)
    events.register("after-call.dynamodb.Query", counted)
    scanned = lambda **_: scans.append("scan")  # noqa: E731
    events.register("before-call.dynamodb.Scan", scanned)
    try:
        status, body = _suggestions(desk, ticket["id"])
    finally:
        events.unregister("provide-client-params.dynamodb.Query", remember)
        events.unregister("after-call.dynamodb.Query", counted)
        events.unregister("before-call.dynamodb.Scan", scanned)
    assert status == 200 and len(body["items"]) == 5
    assert len(read) == 2 and 0 < sum(read) <= READ_LIMIT  # two pages, one a partition, 300 items at most
    assert scans == []


def test_a_sent_reply_joins_the_history_once_and_is_suggested_next_time(desk, aws_env):
    tokens = {("x", BRAND_X): "x-user-token-1"}
    with connected_platforms(desk, aws_env, tokens) as sandbox:
        store = desk.store()
        stored.put_agent(store, {"id": "ana", "name": "Ana", "brands": ["nordlight"]})
        first = _ticket(desk, BRAND_X, "1850000000000000201", "@NordlightShop my lamp flickers when dimmed")
        text = "So sorry, Aino! A firmware update fixes the flicker: Settings > Update."
        answer = desk.client.http.post(f"/api/tickets/{first['id']}/replies", headers=headers("ana"),
                                       body=json.dumps({"text": text, "visibility": "public"}))
        assert answer.status_code == 202, answer.body
        desk.drain(only=("outbound_worker",))
        assert any(r["path"] == "/2/tweets" for r in sandbox.requests)

        from chalicelib.history import entries
        from chalicelib.outbound.sent import after_sent

        ticket = store.tickets.get(first["id"])
        found = entries.read(store.table, "nordlight", ticket.language, ticket.topic)
        assert len(found) == 1
        [entry] = found
        assert entry["source"] == "desk" and entry["ticket_id"] == first["id"]
        assert entry["customer_text"] == "@NordlightShop my lamp flickers when dimmed"
        assert entry["reply_text"] == "So sorry, {{customer.name}}! A firmware update fixes the flicker: Settings > Update."
        [sent] = [m for m in store.messages.timeline(first["id"]) if m.direction == "out"]
        after_sent(sent, store)  # the worker or a receipt again: the same entry, nothing doubles
        assert len(entries.read(store.table, "nordlight", ticket.language, ticket.topic)) == 1

        # the first ticket is closed and rated later: read at ranking time, nothing rewritten
        closed = store.tickets.get(first["id"])
        store.tickets.update(first["id"], closed.version, {"status": "closed", "csat": 5})
        second = _ticket(desk, BRAND_X, "1850000000000000202", "@NordlightShop the lamp flickers when I dim it")
        _classified(store, second["id"], ticket.language, ticket.topic)
        status, body = _suggestions(desk, second["id"])
        assert status == 200
        assert body["items"][0]["text"] == text.replace("Aino", "Aino Korhonen")
        assert body["items"][0]["source"] == "history"
        assert body["items"][0]["why"].endswith("a similar question, it resolved the ticket, CSAT 5.0 from 1 rating")


def test_the_demo_desk_suggests_from_its_brands_history_from_the_first_ticket(desk):
    """`make run` seeds the demo brands' earlier replies (infra/local/history.jsonl): a newcomer's
    first overheating-charger ticket already has the brand's usual answer among the suggestions."""
    from infra.local import demo

    store = desk.store()
    seeded = demo.seed(store)
    assert seeded["history"] == len([l for l in demo.HISTORY.read_text(encoding="utf-8").splitlines() if l.strip()])
    assert demo.seed(store)["history"] == seeded["history"]  # again: the same entries, nothing doubled
    ticket = _ticket(desk, demo.BRANDS["nordlight"]["x"]["id"], "1850000000000000199",
                     "@NordlightShop my power bank gets very hot while charging, is it safe?")
    _classified(store, ticket["id"], "en", "technical")

    status, body = _suggestions(desk, ticket["id"], agent="mikko")  # a demo agent of nordlight

    assert status == 200, body
    first = body["items"][0]
    assert first["source"] == "history" and first["text"].startswith("Hi Aino Korhonen, please stop using it")
