"""`GET /api/openapi.json`: the agent API as an OpenAPI 3.1 document, generated from the routes.

Each operation comes from the route's one declaration in `app.py` (`chalicelib.routes.Route`):
path, method, summary, the role it needs, and the pydantic models the route validates its body
and query with, so the document cannot drift from what the API accepts; a test compares the
app's route table with the document both ways (tests/unit/test_routes_match_openapi.py).
Responses name the shapes the routes answer with; every error is `{"error": str}` (422 adds
`field`, see chalicelib/answers.py). The suite runs schemathesis over this document against the
running app (tests/integration/test_openapi.py).
"""
from __future__ import annotations

from functools import lru_cache

from chalicelib.channels import registry as channel_registry
from chalicelib.routes import Route, model

def _error() -> dict:
    return {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"},
                                                                    "field": {"type": "string"}}}


OBJECT = {"type": "object"}
TICKET = {"type": "object", "required": ["id", "status", "priority", "version"],
          "properties": {"id": {"type": "string"}, "status": {"type": "string"}, "priority": {"type": "integer"},
                         "version": {"type": "integer"}, "channel": {"type": ["string", "null"]}}}
ITEMS = {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": OBJECT}}}
PAGE = {"type": "object", "required": ["items", "next_cursor"],
        "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Ticket"}},
                       "next_cursor": {"type": ["string", "null"]}}}
ERRORS = {"400": "the request names a field that is wrong", "401": "no token or a bad one",
          "403": "your role may not do this", "404": "not found", "409": "changed since you read it; reload",
          "422": "the platform would refuse this reply", "503": "could not be queued; nothing was sent"}
# the success bodies a declaration names (Route.answers)
SHAPES = {"object": OBJECT, "items": ITEMS, "page": PAGE, "ticket": {"$ref": "#/components/schemas/Ticket"}}


PATH_PARAMETERS = {"ticket_id": {"type": "string", "minLength": 1, "maxLength": 64},
                   "template_id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$"},
                   "brand": {"type": "string", "pattern": "^[a-z0-9-]{1,40}$"},
                   "customer_id": {"type": "string", "minLength": 1, "maxLength": 64},
                   "merge_id": {"type": "string", "minLength": 1, "maxLength": 64},
                   "message_id": {"type": "string", "minLength": 1, "maxLength": 64},  # a held reply (approvals)
                   "agent_id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_.-]{0,63}$"},
                   "team_id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_.-]{0,63}$"},
                   "platform": {"type": "string"},  # its enum: the channel registry, when the document is built
                   "account_id": {"type": "string", "minLength": 1, "maxLength": 64},
                   "name": {"type": "string", "enum": ["sla", "hours", "routing"]}}


@lru_cache(maxsize=1)
def document(routes: tuple[Route, ...]) -> dict:
    """The document for these declarations (`app.agent_api.declared`, in the order app.py declares them)."""
    schemas: dict = {"Error": _error(), "Ticket": TICKET,
                     # the 401 comes from API Gateway's authorizer step, in its own shape
                     "Unauthorized": {"type": "object", "required": ["message"],
                                      "properties": {"message": {"type": "string"}}}}
    paths: dict = {}
    for route in routes:
        method, path = route.method.lower(), route.path
        operation: dict = {"summary": route.summary + _role(route.role),
                           "operationId": f"{method}_{path}".replace("/", "_").strip("_"),
                           "security": [{"bearer": []}] if route.role else [],
                           "parameters": _path_parameters(path), "responses": {}}
        if route.query is not None:
            operation["parameters"] += _query_parameters(model(route.query), schemas)
        if route.body is not None:
            schema = OBJECT if route.body == "object" else _model(model(route.body), schemas)
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
        ok = {"description": "done"}
        if route.answers is not None:
            ok["content"] = {"application/json": {"schema": SHAPES[route.answers]}}
        operation["responses"][str(route.status)] = ok
        for status in route.errors:
            schema = "Unauthorized" if status == "401" else "Error"
            operation["responses"][status] = {"description": ERRORS[status], "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}
        paths.setdefault(path, {})[method] = operation
    return {"openapi": "3.1.0",
            "info": {"title": "Social care desk: agent API", "version": "1.0.0",
                     "description": "Authorised with `Authorization: Bearer <JWT>` (Cognito ID token in AWS, "
                                    "HS256 from `python -m infra.local token` locally)."},
            "paths": paths,
            "components": {"schemas": schemas, "securitySchemes": {"bearer": {
                "type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}}}


def _role(role) -> str:
    return f" ({role})" if role in ("supervisor", "admin") else ""


def _model(model, schemas: dict) -> dict:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in schema.pop("$defs", {}).items():
        schemas[name] = definition
    schemas[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _path_parameters(path: str) -> list[dict]:
    return [{"name": name, "in": "path", "required": True,
             "schema": {**schema, "enum": list(channel_registry.ids())} if name == "platform" else schema}
            for name, schema in PATH_PARAMETERS.items() if "{" + name + "}" in path]


def _query_parameters(model, schemas: dict) -> list[dict]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    return [{"name": name, "in": "query", "required": name in schema.get("required", []), "schema": prop}
            for name, prop in schema["properties"].items()]
