"""`GET /api/openapi.json`: the agent API as an OpenAPI 3.1 document, generated from the models.

Request bodies and query parameters come from the same pydantic models the routes validate
with, so the document cannot drift from what the API accepts. Responses name the shapes the
routes answer with; every error is `{"error": str}` (422 adds `field`). The suite runs
schemathesis over this document against the running app (tests/integration/test_openapi.py).
"""
from __future__ import annotations

from functools import lru_cache


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


def _operations() -> list[tuple]:
    from chalicelib.admin import AccountPatch, Agent, BulkRequest, Team
    from chalicelib.api import CorrectionRequest, InboxQuery
    from chalicelib.customers import CustomerPatch, EventImport, MergeRequest
    from chalicelib.outbound.replies import ReplyRequest
    from chalicelib.templates import Template
    from chalicelib.tickets import ClaimRequest, CsatRequest, DoneRequest, NoteRequest, PresenceRequest, TicketPatch

    ticket = {"$ref": "#/components/schemas/Ticket"}
    return [
        # method, path, summary, query model, body model, success status, success schema, errors
        ("get", "/api/tickets", "The inbox, by priority then SLA due", InboxQuery, None, "200", PAGE, "400 401 403"),
        ("get", "/api/tickets/{ticket_id}", "A ticket with messages, customer and reply options", None, None,
         "200", ticket, "401 403 404"),
        ("patch", "/api/tickets/{ticket_id}", "Edit status, priority, tags, assignee or topic", None, TicketPatch,
         "200", ticket, "400 401 403 404 409"),
        ("post", "/api/tickets/{ticket_id}/replies", "Reply on the customer's platform", None, ReplyRequest,
         "202", OBJECT, "400 401 403 404 422 503"),
        ("post", "/api/tickets/{ticket_id}/notes", "An internal note", None, NoteRequest, "201", OBJECT,
         "400 401 403 404"),
        ("post", "/api/tickets/{ticket_id}/done", "Close without a reply", None, DoneRequest, "200", ticket,
         "400 401 403 404 409"),
        ("post", "/api/tickets/{ticket_id}/claim", "Take a ticket nobody holds (409 if another agent does)", None, ClaimRequest, "200", ticket,
         "400 401 403 404 409"),
        ("post", "/api/tickets/{ticket_id}/csat", "Record the customer's rating (1-5) (supervisor)", None,
         CsatRequest, "201", OBJECT, "400 401 403 404"),
        ("post", "/api/tickets/{ticket_id}/corrections", "Correct the classifier", None, CorrectionRequest,
         "201", OBJECT, "400 401 403 404"),
        ("get", "/api/tickets/{ticket_id}/templates", "Templates rendered for this ticket", None, None, "200",
         ITEMS, "401 403 404"),
        ("get", "/api/templates", "Reply templates", None, None, "200", ITEMS, "401 403"),
        ("put", "/api/templates/{template_id}", "Create or replace a template (admin)", None, Template, "200",
         OBJECT, "400 401 403 409"),
        ("delete", "/api/templates/{template_id}", "Delete a template (admin)", None, None, "204", None,
         "401 403 404"),
        ("get", "/api/agents", "Agents with presence and load (supervisor)", None, None, "200", ITEMS, "401 403"),
        ("get", "/api/agents/me/status", "Your presence", None, None, "200", OBJECT, "401 403 404"),
        ("put", "/api/agents/me/status", "Set your presence", None, PresenceRequest, "200", OBJECT,
         "400 401 403 404"),
        ("get", "/api/reports/summary", "First response, volume, sentiment, topics", None, None, "200", OBJECT,
         "400 401 403"),
        ("get", "/api/rules/{brand}", "The brand's priority rule dictionary", None, None, "200", OBJECT, "401 403"),
        ("get", "/api/customers/{customer_id}", "A customer: identities, CRM value, events, tickets", None, None,
         "200", OBJECT, "401 403 404"),
        ("patch", "/api/customers/{customer_id}", "Edit name, tags, VIP flag, note", None, CustomerPatch, "200",
         OBJECT, "400 401 403 404 409"),
        ("post", "/api/customers/{customer_id}/merge", "Merge another profile into this one (supervisor)", None,
         MergeRequest, "200", OBJECT, "400 401 403 404 409"),
        ("post", "/api/customers/{customer_id}/merges/{merge_id}/undo", "Undo a merge (supervisor)", None, None,
         "200", OBJECT, "401 403 404 409"),
        ("post", "/api/customers/{customer_id}/events", "Import CRM events: calls, emails, purchases (supervisor)",
         None, EventImport, "201", OBJECT, "400 401 403 404"),
        ("post", "/api/customers/{customer_id}/erase", "Erase the person, keep anonymous statistics (admin)", None,
         None, "200", OBJECT, "401 403 404"),
        ("post", "/api/tickets/bulk", "Close or assign many tickets (supervisor)", None, BulkRequest, "200", OBJECT,
         "400 401 403 404"),
        ("put", "/api/agents/{agent_id}", "Create or update an agent (supervisor)", None, Agent, "200", OBJECT,
         "400 401 403"),
        ("delete", "/api/agents/{agent_id}", "Remove an agent (supervisor)", None, None, "204", None, "401 403 404"),
        ("get", "/api/teams", "Teams", None, None, "200", ITEMS, "401 403"),
        ("get", "/api/queues", "How many tickets each status holds (supervisor)", None, None, "200", OBJECT,
         "401 403"),
        ("put", "/api/teams/{team_id}", "Create or update a team (supervisor)", None, Team, "200", OBJECT, "400 401 403"),
        ("delete", "/api/teams/{team_id}", "Remove a team (supervisor)", None, None, "204", None, "401 403 404"),
        ("get", "/api/accounts", "Connected and discovered brand accounts (supervisor)", None, None, "200", ITEMS,
         "401 403"),
        ("patch", "/api/accounts/{platform}/{account_id}", "Connect or configure an account (admin)", None,
         AccountPatch, "200", OBJECT, "400 401 403 404"),
        ("get", "/api/settings/{name}", "SLA policy, business hours or routing settings (supervisor)", None, None,
         "200", OBJECT, "401 403 404"),
        ("put", "/api/settings/{name}", "Save settings over the version edited (admin)", None, None, "200", OBJECT,
         "400 401 403 404 409"),
    ]


PATH_PARAMETERS = {"ticket_id": {"type": "string", "minLength": 1, "maxLength": 64},
                   "template_id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$"},
                   "brand": {"type": "string", "pattern": "^[a-z0-9-]{1,40}$"},
                   "customer_id": {"type": "string", "minLength": 1, "maxLength": 64},
                   "merge_id": {"type": "string", "minLength": 1, "maxLength": 64},
                   "agent_id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_.-]{0,63}$"},
                   "team_id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_.-]{0,63}$"},
                   "platform": {"type": "string", "enum": ["x", "facebook", "instagram", "whatsapp", "email", "api"]},
                   "account_id": {"type": "string", "minLength": 1, "maxLength": 64},
                   "name": {"type": "string", "enum": ["sla", "hours", "routing"]}}
EXTRA_QUERY = {"/api/reports/summary": {"days": {"type": "integer", "minimum": 1, "maximum": 90}}}


@lru_cache(maxsize=1)
def document() -> dict:
    schemas: dict = {"Error": _error(), "Ticket": TICKET,
                     # the 401 comes from API Gateway's authorizer step, in its own shape
                     "Unauthorized": {"type": "object", "required": ["message"],
                                      "properties": {"message": {"type": "string"}}}}
    paths: dict = {}
    for method, path, summary, query, body, ok, ok_schema, errors in _operations():
        operation: dict = {"summary": summary, "operationId": f"{method}_{path}".replace("/", "_").strip("_"),
                           "security": [{"bearer": []}], "parameters": _path_parameters(path),
                           "responses": {}}
        if query is not None:
            operation["parameters"] += _query_parameters(query, schemas)
        for name, schema in EXTRA_QUERY.get(path, {}).items():
            operation["parameters"].append({"name": name, "in": "query", "required": False, "schema": schema})
        if body is not None:
            operation["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": _model(body, schemas)}}}
        operation["responses"][ok] = ({"description": "done"} if ok_schema is None else
                                      {"description": "done", "content": {"application/json": {"schema": ok_schema}}})
        for status in errors.split():
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


def _model(model, schemas: dict) -> dict:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in schema.pop("$defs", {}).items():
        schemas[name] = definition
    schemas[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _path_parameters(path: str) -> list[dict]:
    return [{"name": name, "in": "path", "required": True, "schema": schema}
            for name, schema in PATH_PARAMETERS.items() if "{" + name + "}" in path]


def _query_parameters(model, schemas: dict) -> list[dict]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    return [{"name": name, "in": "query", "required": name in schema.get("required", []), "schema": prop}
            for name, prop in schema["properties"].items()]
