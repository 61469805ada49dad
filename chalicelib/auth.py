"""Agent authentication for /api routes.

Locally and in tests the bearer token is an HS256 JWT signed with LOCAL_JWT_SECRET (minted by
`python -m infra.local token`); its `cognito:groups` claim carries the role, as a Cognito ID
token does in AWS. No token or a bad one → Unauthorized; a role without the right → Forbidden.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

from chalicelib.config import settings
from chalicelib.errors import DeskError

ROLE_RANK = {"agent": 1, "supervisor": 2, "admin": 3}
GROUP_ROLE = {"agents": "agent", "supervisors": "supervisor", "admins": "admin"}


class Unauthorized(DeskError):
    pass


class Forbidden(DeskError):
    pass


@dataclass(frozen=True)
class Principal:
    agent_id: str
    role: str

    def require(self, role: str) -> "Principal":
        if ROLE_RANK[self.role] < ROLE_RANK[role]:
            raise Forbidden(f"{role} role required")
        return self


def authenticate(headers: Mapping[str, str]) -> Principal:
    import jwt

    header: Optional[str] = headers.get("authorization")
    if not header or not header.lower().startswith("bearer "):
        raise Unauthorized("missing bearer token")
    secret = settings().local_jwt_secret
    if not secret:
        raise Unauthorized("token verification is not configured")
    try:
        claims = jwt.decode(header[7:].strip(), secret, algorithms=["HS256"],
                            options={"require": ["sub", "exp"]})
    except jwt.PyJWTError as err:
        raise Unauthorized("invalid token") from err
    roles = [GROUP_ROLE[g] for g in claims.get("cognito:groups", []) if g in GROUP_ROLE]
    if not roles:
        raise Forbidden("no desk role in token")
    return Principal(agent_id=str(claims["sub"]), role=max(roles, key=ROLE_RANK.__getitem__))


def mint(agent_id: str, role: str, secret: str, ttl_seconds: int = 12 * 3600) -> str:
    import time

    import jwt

    group = {v: k for k, v in GROUP_ROLE.items()}[role]
    now = int(time.time())
    return jwt.encode({"sub": agent_id, "cognito:groups": [group], "iat": now, "exp": now + ttl_seconds,
                       "token_use": "id"}, secret, algorithm="HS256")
