"""Settings, read once per container from the environment, and platform secrets.

Secrets come from the environment when set (local stack, tests), otherwise from the Secrets
Manager secret named by PLATFORM_SECRET_ID, fetched once and kept for the container's life.
A secret is never logged: `Secrets.__repr__` hides the values.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Optional

SECRET_KEYS = ("X_CONSUMER_SECRET", "META_APP_SECRET", "META_VERIFY_TOKEN", "API_CHANNEL_SECRET",
               "X_BEARER_TOKEN")

MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    table_name: str
    ingest_queue_url: str
    routing_queue_url: str
    outbound_queue_url: str
    model_bucket: str
    region: str
    endpoint_url: Optional[str]
    x_api_base: str
    graph_api_base: str
    platform_secret_id: Optional[str]
    local_jwt_secret: Optional[str]


def settings() -> Settings:
    """Read on every call (a dozen dictionary lookups): the Chalice test client swaps os.environ
    for the stage's config.json values during a request, and a cached copy would outlive that."""
    env = os.environ
    return Settings(
        table_name=env.get("TABLE_NAME", "social-care"),
        ingest_queue_url=env.get("INGEST_QUEUE_URL", ""),
        routing_queue_url=env.get("ROUTING_QUEUE_URL", ""),
        outbound_queue_url=env.get("OUTBOUND_QUEUE_URL", ""),
        model_bucket=env.get("MODEL_BUCKET", ""),
        region=env.get("AWS_DEFAULT_REGION", "eu-west-1"),
        endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
        x_api_base=env.get("X_API_BASE", "https://api.x.com").rstrip("/"),
        graph_api_base=env.get("GRAPH_API_BASE", "https://graph.facebook.com/v21.0").rstrip("/"),
        platform_secret_id=env.get("PLATFORM_SECRET_ID") or None,
        local_jwt_secret=env.get("LOCAL_JWT_SECRET") or None,
    )


@dataclass(frozen=True)
class Secrets:
    values: dict = field(repr=False)

    def get(self, key: str) -> str:
        return self.values.get(key) or ""

    def __repr__(self) -> str:  # never print a secret, even by accident
        return f"Secrets(keys={sorted(k for k, v in self.values.items() if v)})"


@lru_cache(maxsize=1)
def secrets() -> Secrets:
    from_env = {k: os.environ[k] for k in SECRET_KEYS if os.environ.get(k)}
    cfg = settings()
    if cfg.platform_secret_id and len(from_env) < len(SECRET_KEYS):
        from chalicelib import aws

        raw = aws.client("secretsmanager").get_secret_value(SecretId=cfg.platform_secret_id)
        stored = json.loads(raw["SecretString"])
        return Secrets({**{k: stored.get(k, "") for k in SECRET_KEYS}, **from_env})
    return Secrets(from_env)


def reset() -> None:
    """Forget cached settings and secrets (tests and the local stack change the environment)."""
    secrets.cache_clear()
    from chalicelib import aws

    aws.reset()
