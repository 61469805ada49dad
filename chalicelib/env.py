"""Settings read from the environment: the bottom of the desk, imported by `aws` and `config`.

`chalicelib.config` re-exports `Settings` and `settings` next to the platform secrets; this module
is separate only so that `aws` (which builds clients from these settings) sits below `config`
(whose secrets may come from Secrets Manager through `aws`), and no import goes in a circle.
"""
from __future__ import annotations

import os
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Optional


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


# The address of the API request being served (`https://<domainName>/<stage>` from API Gateway's
# request context), set by app.py's HTTP middleware: where the desk's public pages (the CSAT
# survey page) are when DESK_PUBLIC_URL does not say (a custom domain with its own base path must).
_request_base: ContextVar[str] = ContextVar("desk_request_base", default="")


def serving(context: Optional[dict]) -> None:
    """Note the API address of the request in hand (API Gateway's requestContext); none: ''."""
    domain, stage = (context or {}).get("domainName"), (context or {}).get("stage")
    _request_base.set(f"https://{domain}/{stage}" if domain and stage and "." in str(domain) else "")


def public_base() -> str:
    """Where the desk's public pages are: DESK_PUBLIC_URL, else the API address of the request in
    hand, else '' (none known: a link to them cannot be made)."""
    return (os.environ.get("DESK_PUBLIC_URL") or _request_base.get()).rstrip("/")
