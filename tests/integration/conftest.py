"""Fixtures shared by the integration tests of the agent API, and the platform sandbox connected."""
from __future__ import annotations

import contextlib
import json

import pytest

from infra.local import demo
from infra.local import sandbox as sb
from tests import stored
from tests.conftest import REGION


@contextlib.contextmanager
def connected_platforms(desk, aws_env, tokens: dict, secret_extra=lambda platform: {}):
    """The platform sandbox over HTTP with the desk pointed at it (short timeouts), and each
    `(platform, account): token` connected: an active account of nordlight, its token in Secrets
    Manager (plus `secret_extra(platform)`) and known to the sandbox. Yields the sandbox."""
    import boto3

    from chalicelib import config
    from chalicelib.channels import http as clients
    from chalicelib.outbound import credentials

    with sb.start() as sandbox:
        aws_env.setenv("X_API_BASE", sandbox.url)
        aws_env.setenv("GRAPH_API_BASE", sandbox.graph_url)
        aws_env.setattr(clients, "TIMEOUT_SECONDS", 0.6)
        config.reset()
        credentials.reset()
        secrets = boto3.client("secretsmanager", region_name=REGION)
        for (platform, account), token in tokens.items():
            stored.put_account(desk.store(), platform, account, status="active", brand="nordlight")
            secrets.create_secret(Name=credentials.secret_id(platform, account),
                                  SecretString=json.dumps({"access_token": token, **secret_extra(platform)}))
            sandbox.add_token(token, "x" if platform == "x" else "graph", user_id=account)
        try:
            yield sandbox
        finally:
            credentials.reset()

BRAND_X = "1500000000000000001"


@pytest.fixture
def ticket(desk):
    """One open ticket nobody holds, from a signed tweet; every demo agent offline with load 0."""
    for agent in demo.AGENTS:
        stored.put_agent(desk.store(), {**agent, "status": "offline", "capacity": 10, "load": 0})
    stored.put_account(desk.store(), "x", BRAND_X, status="active", brand="nordlight")
    desk.post_tweet(BRAND_X, "1850000000000000009", {"id": "42", "name": "Kim", "handle": "kim"},
                    "@NordlightShop my lamp arrived broken")
    desk.drain(only=("ingest_worker",))
    [found] = list(desk.store().all_tickets())
    assert not found.get("assignee")
    return found


GRAPH_PAGE, GRAPH_IG = "104000000000001", "17841400000000001"


@pytest.fixture
def graph(desk, aws_env):
    """The platform sandbox's Graph API with the desk pointed at it, and the Facebook Page's and the
    Instagram account's tokens in Secrets Manager (accounts left to be discovered). Yields the sandbox."""
    import boto3

    from chalicelib import config
    from chalicelib.outbound import credentials

    with sb.start() as sandbox:
        aws_env.setenv("GRAPH_API_BASE", sandbox.graph_url)
        config.reset()
        credentials.reset()
        secrets = boto3.client("secretsmanager", region_name=REGION)
        for platform, account, token in (("facebook", GRAPH_PAGE, "page-token-1"), ("instagram", GRAPH_IG, "ig-token-1")):
            secrets.create_secret(Name=credentials.secret_id(platform, account),
                                  SecretString=json.dumps({"access_token": token}))
            sandbox.add_token(token, "graph", user_id=account)
        yield sandbox
        credentials.reset()
