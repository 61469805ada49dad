"""The agent API's routes, each declared once, in `app.py`, by the decorator that registers it.

    @api.patch("/api/tickets/{ticket_id}", "Edit status, priority, tags, assignee or topic",
               body="chalicelib.tickets:TicketPatch", answers="ticket", refusals="404 409")
    def patch_ticket(ticket_id, body, principal):
        return tickets.edit(_store(), ticket_id, body, principal)

One declaration (`Route`: method, path, summary, the role it needs, request models, success
status and shape, the refusals it may answer) feeds three things:
* Chalice's routing: `Routes` calls `app.route` on the app itself (never a blueprint: blueprint
  handlers skip app middleware, aws/chalice#1566), with the desk authorizer unless the route is
  public;
* the request frame every route shares: the role check (403), the JSON body (400 if it is not an
  object; every POST, PUT and PATCH reads it), the body and query models validated into the view's
  `body` and `query`, the caller passed as `principal`, the declared success status;
* the OpenAPI document (`chalicelib/openapi.py`), generated from `Routes.declared`.

Errors: a view raises, and `answers.TABLE` (applied by `app.py`'s HTTP middleware) says what the
caller sees. Chalice turns any exception a view raises into a 500 before middleware sees it,
except a `ChaliceUnhandledError`; so the frame carries whatever a view raises out as `Raised`.

Models are named as "module:Class" and imported on the first request that needs them: `app.py`
imports this module, and every Lambda function of the app pays for what it imports.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import import_module
from typing import Any, Callable, Optional

from chalice import BadRequestError, ChaliceUnhandledError, Response

from chalicelib.errors import Invalid

JSON = {"Content-Type": "application/json"}


class Raised(ChaliceUnhandledError):
    """What a view raised, carried past Chalice to the HTTP middleware (see the module docstring)."""

    def __init__(self, error: Exception):
        super().__init__(repr(error))
        self.error = error


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    summary: str
    role: Optional[str] = "agent"  # the least role that may call it; None: public (no authorizer)
    body: Optional[str] = None  # "module:Model" validated into the view's `body`; "object": any JSON object
    query: Optional[str] = None  # "module:Model" validated from the query string into the view's `query`
    status: int = 200  # the success status, unless the view returns a Response of its own
    answers: Optional[str] = "object"  # the success body (openapi.SHAPES); None: no body
    refusals: str = ""  # statuses besides 401 and 403 (any authorised route) and 400 (a body or a query)
    body_id: Optional[str] = None  # the path parameter that becomes the body's `id` before validation

    @property
    def errors(self) -> list[str]:
        """Every refusal the route may answer, as the document lists them."""
        found = set(self.refusals.split())
        if self.role:
            found |= {"401", "403"}
        if self.body or self.query or self.method in ("POST", "PUT", "PATCH"):
            found.add("400")
        return sorted(found)

    def parse_body(self, raw: dict, params: dict) -> Any:
        if self.body in (None, "object"):
            return raw
        if self.body_id:
            raw = {**raw, "id": params[self.body_id]}
        return model(self.body).model_validate(raw)


def model(name: str):
    """The class a declaration names as "module:Class"."""
    module, _, attribute = name.partition(":")
    return getattr(import_module(module), attribute)


class Routes:
    """Registers each declared route with the Chalice app and keeps the declarations."""

    def __init__(self, app, authorizer, brands: Optional[Callable[[str], Optional[list]]] = None):
        self.app = app
        self.authorizer = authorizer
        self.brands = brands  # agent id → the brands on their record (None: no record); see `caller`
        self.declared: list[Route] = []

    def get(self, path: str, summary: str, **declaration) -> Callable:
        return self._declare(Route("GET", path, summary, **declaration))

    def post(self, path: str, summary: str, **declaration) -> Callable:
        return self._declare(Route("POST", path, summary, **declaration))

    def put(self, path: str, summary: str, **declaration) -> Callable:
        return self._declare(Route("PUT", path, summary, **declaration))

    def patch(self, path: str, summary: str, **declaration) -> Callable:
        return self._declare(Route("PATCH", path, summary, **declaration))

    def delete(self, path: str, summary: str, **declaration) -> Callable:
        return self._declare(Route("DELETE", path, summary, **declaration))

    def _declare(self, route: Route) -> Callable:
        def register(view: Callable) -> Callable:
            wants = set(view.__code__.co_varnames[:view.__code__.co_argcount])

            @functools.wraps(view)
            def handler(**params):
                try:
                    return self._run(route, view, wants, params)
                except Exception as err:  # noqa: BLE001 - answered (or made a 500) by the middleware
                    raise Raised(err) from err

            self.app.route(route.path, methods=[route.method],
                           authorizer=self.authorizer if route.role else None)(handler)
            self.declared.append(route)
            return handler

        return register

    def _run(self, route: Route, view: Callable, wants: set, params: dict) -> Response:
        request = self.app.current_request
        arguments = dict(params)
        if route.role:
            principal = caller(request, route.role, self.brands)
            if "principal" in wants:
                arguments["principal"] = principal
        if route.method in ("POST", "PUT", "PATCH"):
            body = route.parse_body(json_object(request), params)
            if "body" in wants:
                arguments["body"] = body
        if route.query:
            arguments["query"] = model(route.query).model_validate(request.query_params or {})
        result = view(**arguments)
        if isinstance(result, Response):
            return result
        if result is None:
            return Response(body="", status_code=route.status)
        return Response(body=result, status_code=route.status, headers=dict(JSON))


def caller(request, role: str, brands: Optional[Callable[[str], Optional[list]]] = None):
    """Who is calling, as the desk authorizer established it, if their role is at least `role`,
    with the brands they work for: an admin's are every brand; anyone else's are read from their
    agent record (`brands(agent_id)`, cached briefly by auth.brands_of), none without one."""
    # Lazy for cold start: auth brings PyJWT and its crypto (~15 ms), which only the API function
    # needs; the workers and schedules import app.py, and with it this module, too.
    from chalicelib.auth import ROLE_RANK, Forbidden, Principal, brands_of

    context = (request.context or {}).get("authorizer") or {}
    if context.get("role") not in ROLE_RANK:
        raise Forbidden("no desk role in token")
    principal = Principal(agent_id=context["agent_id"], role=context["role"]).require(role)
    if principal.every_brand or brands is None or not principal.agent_id:
        return principal
    return Principal(principal.agent_id, principal.role, brands_of(principal.agent_id, brands))


def json_object(request) -> dict:
    """The request's JSON object (none: {}); anything else is errors.Invalid, a 400."""
    try:
        body = request.json_body
    except BadRequestError:
        raise Invalid("body", "not valid JSON") from None
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise Invalid("body", "give a JSON object")
    return body
