"""Corrections ▸ brand-adapted model ▸ S3 ▸ picked up by the ingest worker for that brand."""
from __future__ import annotations

from datetime import datetime, timezone

from chalicelib import aws
from chalicelib.classify import registry
from infra.local import payloads as p
from tests.conftest import TEST_SECRETS
from tests import stored

BRAND_X = "1500000000000000002"
NOW = datetime(2026, 11, 23, tzinfo=timezone.utc).isoformat()
BASE = [("what a lovely day", "positive", "en"), ("thanks, great help", "positive", "en"),
        ("this is awful", "negative", "en"), ("terrible, broken again", "negative", "en"),
        ("the shop opens at nine", "neutral", "en"), ("my order number is 55", "neutral", "en")] * 5


def test_a_published_brand_model_is_used_for_that_brands_mentions(desk):
    store = desk.store()
    stored.put_account(store, "x", BRAND_X, brand="aegean", status="active")
    # Given agents taught that, for this airline, "gate change" talk is bad news
    for i in range(12):
        store.put_correction("aegean", f"{NOW}{i:02d}", {
            "message_id": f"m{i}", "text": f"gate change again for flight {i}", "sentiment": "negative",
            "language": "en"})
    # When the brand's model is adapted and published
    result = registry.adapt_brand("aegean", store, aws.client("s3"), "social-care-models-test", base=BASE)
    assert result["corrections"] == 12 and result["s3_key"].startswith("models/aegean/")
    # Then a new mention of that brand is scored by it
    body = p.encode(p.x_tweet_event(BRAND_X, "1892000000000000001", {"id": "8", "name": "N"},
                                    "gate change again for flight 88"))
    desk.client.http.post("/webhooks/x", body=body, headers={
        "Content-Type": "application/json", **p.sign_x(body, TEST_SECRETS["X_CONSUMER_SECRET"])})
    desk.drain(only=("ingest_worker",))
    from chalicelib.classify import classify

    assert classify("gate change again for flight 88").sentiment != "negative"  # the base model's view
    [ticket] = list(store.all_tickets())
    [message] = stored.messages(store, ticket["id"])
    assert message["classification"]["sentiment"] == "negative"
    assert any(e.startswith("sentiment:model:") for e in message["classification"]["evidence"])


def test_a_brand_without_a_model_uses_the_base_model(desk):
    assert registry.model_for("nordlight", desk.store().table, aws.client("s3"), "social-care-models-test") is None
