"""One-click sign-in for the desk that `python -m infra.local up` runs, and nowhere else.

    GET  /_local/agents    {"items": [{"id", "name", "role", "brands"}, ...]}  the roster, for the sign-in page
    POST /_local/sign-in   {"agent_id": "ana"} -> {"token": <HS256 JWT>}     as `python -m infra.local token`

The routes are added to the Chalice app object by the local stack just before it starts serving
(`install`), never by `app.py`: a deployed stage (`chalice package`, Lambda) imports `app.py`
alone, so these paths do not exist there at all, not even behind a flag someone could flip. The
token is the one `infra.local token` mints with the stack's LOCAL_JWT_SECRET, so it is checked by
the same authorizer as any other; the role is the agent record's own (a supervisor signs in as a
supervisor), and an id that is not on the roster is a 404.
"""
from __future__ import annotations

import json
from typing import Callable

PREFIX = "/_local"


def install(app, store: Callable[[], object], secret: Callable[[], str]) -> None:
    """Add the two routes to `app` (a Chalice app, before its local server is created)."""
    from chalice import Response

    def answer(body: dict, status: int = 200) -> Response:
        return Response(body=json.dumps(body), status_code=status,
                        headers={"Content-Type": "application/json", "Cache-Control": "no-store"})

    @app.route(f"{PREFIX}/agents", methods=["GET"])
    def local_agents():
        agents = store().agents.roster()
        return answer({"items": [{"id": a.id, "name": a.name or a.id, "role": a.role or "agent",
                                  "brands": list(a.brands or [])} for a in sorted(agents, key=_order)]})

    @app.route(f"{PREFIX}/sign-in", methods=["POST"], content_types=["application/json"])
    def local_sign_in():
        from chalicelib.auth import mint

        body = app.current_request.json_body if app.current_request.raw_body else None
        agent_id = body.get("agent_id") if isinstance(body, dict) else None
        if not isinstance(agent_id, str) or not agent_id:
            return answer({"error": "give the agent_id of an agent on the roster"}, 400)
        agent = store().agents.get(agent_id)
        if agent is None:
            return answer({"error": f"no agent {agent_id!r} on this desk"}, 404)
        return answer({"token": mint(agent.id, agent.role or "agent", secret()), "agent_id": agent.id,
                       "role": agent.role or "agent"})


def _order(agent) -> tuple:
    """Supervisors first (they see the most), then by name."""
    return (0 if agent.role in ("supervisor", "admin") else 1, (agent.name or agent.id).lower())
