"""schemathesis over the generated OpenAPI document, against the app served over HTTP (Chalice's
local server, moto in-process): no request the document allows may give a 5xx or an answer the
document does not describe."""
from __future__ import annotations

import json
import socket
import threading

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

import app as desk_app
from chalicelib.openapi import document
from tests.conftest import REGION, TEST_SECRETS
from tests import stored

schema = schemathesis.openapi.from_dict(document(tuple(desk_app.agent_api.declared)))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served():
    from chalice.config import Config
    from chalice.local import create_local_server
    from moto import mock_aws

    env = pytest.MonkeyPatch()
    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "PLATFORM_SECRET_ID"):
        env.delenv(key, raising=False)
    env.setenv("AWS_ACCESS_KEY_ID", "testing")
    env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    env.setenv("AWS_DEFAULT_REGION", REGION)
    env.setenv("TABLE_NAME", "social-care-desk")
    env.setenv("MODEL_BUCKET", "social-care-models-test")
    for key, value in TEST_SECRETS.items():
        env.setenv(key, value)
    with mock_aws():
        from chalicelib import config
        from infra.local import demo, stack

        config.reset()
        made = stack.provision(REGION, "social-care-models-test",
                               {k: v for k, v in TEST_SECRETS.items() if k != "LOCAL_JWT_SECRET"})
        for name, url in made["queue_urls"].items():
            env.setenv(name, url)
        config.reset()
        from chalicelib import aws
        from chalicelib.store.dynamodb import DynamoStore

        store = DynamoStore(aws.table())
        for agent in demo.AGENTS:
            stored.put_agent(store, {**agent, "status": "online", "capacity": 10, "load": 0})
        for template in demo.TEMPLATES:
            store.put_template(template, expected_version=0)
        import app as handlers

        port = _free_port()
        server = create_local_server(handlers.app, Config(chalice_stage="dev"), "127.0.0.1", port)
        server.server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.shutdown()
            env.undo()
            config.reset()


def _token(role: str = "admin") -> str:
    from chalicelib.auth import mint

    return mint("ana", role, TEST_SECRETS["LOCAL_JWT_SECRET"])


def test_the_document_is_served_to_agents_and_lists_the_routes(served):
    import requests

    assert requests.get(f"{served}/api/openapi.json", timeout=5).status_code == 401
    doc = requests.get(f"{served}/api/openapi.json", headers={"Authorization": f"Bearer {_token('agent')}"},
                       timeout=5).json()
    assert doc["openapi"].startswith("3.") and "/api/tickets/{ticket_id}/replies" in doc["paths"]
    assert doc["components"]["schemas"]["ReplyRequest"]["properties"]["visibility"]["enum"] == ["public", "private"]


# One pytest item per operation, each running Hypothesis itself: schemathesis' own
# @schema.parametrize() collapses to a single item under pytest-xdist and then checks nothing.
OPERATIONS = {op.label: op for op in (result.ok() for result in schema.get_all_operations())}


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_no_allowed_request_gives_a_5xx_or_an_undocumented_answer(served, label):
    operation = OPERATIONS[label]
    seen = []

    @given(case=operation.as_strategy())
    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
              database=None)
    def check(case):
        seen.append(case.method)
        if case.method.upper() not in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"):
            return  # http.server under `chalice local` answers TRACE/QUERY 501 before the app
        case.call_and_validate(base_url=served, headers={"Authorization": f"Bearer {_token()}"}, checks=CHECKS)

    check()
    assert seen, "Hypothesis generated no request"
