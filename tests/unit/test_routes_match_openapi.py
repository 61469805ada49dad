"""The OpenAPI document and the app's route table describe the same API, both ways.

Given the Chalice app's actual routes (`app.routes`: every path and method Chalice will deploy)
and the document `GET /api/openapi.json` serves,
then every route under /api is an operation of the document and every operation is a route,
each authorised exactly when the document says it needs a bearer token; and the routes outside
/api (the platforms' webhooks and the web UI, whose contract is DESIGN.md) are exactly those listed here.
"""
from __future__ import annotations

import app
from chalicelib.openapi import document

# Not the agent API: signed by the platforms, or the UI's static files and sign-in settings.
# The webhooks are one pair for every channel of the registry (/webhooks/x, /webhooks/meta, ...).
OUTSIDE_THE_DOCUMENT = {("GET", "/webhooks/{channel}"), ("POST", "/webhooks/{channel}"), ("GET", "/"),
                        ("GET", "/ui/{name}"), ("GET", "/auth/config"),
                        ("GET", "/csat/{token}"), ("POST", "/csat/{token}")}  # the public CSAT survey page


def _routes() -> dict[tuple[str, str], object]:
    return {(method, path): entry for path, methods in app.app.routes.items() for method, entry in methods.items()}


def _operations() -> dict[tuple[str, str], dict]:
    doc = document(tuple(app.agent_api.declared))
    return {(method.upper(), path): operation for path, operations in doc["paths"].items()
            for method, operation in operations.items()}


def test_every_api_route_is_documented_and_every_documented_operation_is_a_route():
    # Given the routes Chalice serves under /api and the operations the document lists
    served = {key for key in _routes() if key[1].startswith("/api")}
    documented = set(_operations())
    # Then neither has one the other lacks
    assert sorted(served - documented) == [], "routes missing from the OpenAPI document"
    assert sorted(documented - served) == [], "documented operations the app does not serve"


def test_the_routes_outside_the_document_are_only_the_webhooks_and_the_web_ui():
    outside = {key for key in _routes() if not key[1].startswith("/api")}
    assert outside == OUTSIDE_THE_DOCUMENT


def test_an_operation_needs_a_token_exactly_when_its_route_has_the_authorizer():
    routes, operations = _routes(), _operations()
    for key, operation in operations.items():
        authorised = routes[key].authorizer is not None
        assert bool(operation["security"]) == authorised, key
        assert ("401" in operation["responses"]) == authorised, key


def test_each_route_is_declared_once():
    declared = [(route.method, route.path) for route in app.agent_api.declared]
    assert len(declared) == len(set(declared))
