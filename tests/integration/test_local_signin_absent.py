"""The one-click sign-in of the local stack (issue 16, point 5) exists only in the process that
`python -m infra.local up` runs: `app.py` as Lambda imports it has no such route, and a request for
one gets what API Gateway answers for a path it does not have, never a token."""
from __future__ import annotations

from chalice.test import Client


def test_app_py_alone_has_no_local_sign_in_route(aws_env):
    import app as handlers

    assert not [p for p in handlers.app.routes if p.startswith("/_local")]
    with Client(handlers.app) as client:
        for method, path in (("GET", "/_local/agents"), ("POST", "/_local/sign-in")):
            answer = client.http.request(method, path, body=b'{"agent_id": "sam"}',
                                         headers={"Content-Type": "application/json"})
            assert answer.status_code in (403, 404), (path, answer.status_code)
            assert b"token" not in answer.body


def test_installing_it_adds_exactly_the_two_routes_to_the_app_it_is_given():
    from chalice import Chalice

    from infra.local import signin

    app = Chalice(app_name="scratch")
    signin.install(app, store=lambda: None, secret=lambda: "s")
    assert sorted(app.routes) == ["/_local/agents", "/_local/sign-in"]
