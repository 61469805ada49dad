"""Agent authentication for /api routes: one authorizer for AWS and for the local stack.

In AWS the bearer token is a Cognito user-pool ID token (RS256), checked against the pool's
JWKS as https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html
says (signature by `kid`, `exp`, `iss`, `aud`, `token_use: id`). Locally and in tests it is an
HS256 JWT signed with LOCAL_JWT_SECRET (minted by `python -m infra.local token`). The token's
`alg` header only picks which configured verifier runs; each verifier holds its own key and
accepts only its own algorithm, so a token can never choose its key. Either way the
`cognito:groups` claim carries the role. A local token must name this desk as its issuer and
audience (`LOCAL_ISSUER`, `LOCAL_AUDIENCE`, set by `mint`) and carry `iat` and `exp` at most
`LOCAL_MAX_LIFETIME_SECONDS` (12 h) apart: a leaked one stops working within a working day. No token or a bad one → Unauthorized; a role without
the right → Forbidden. A token is never logged nor put in an error message.

Environment, read on every call: LOCAL_JWT_SECRET; COGNITO_USER_POOL_ID with
COGNITO_APP_CLIENT_ID (Cognito tokens are refused unless both are set); COGNITO_JWKS_URL
(optional: the local stack and tests serve their own keys). The JWKS is fetched once per
container and refetched for an unknown `kid` at most once a minute, so forged `kid`s cannot
make us hammer the endpoint. jwt (and cryptography) is imported only when a request arrives.
May import config and errors; observability only when the JWKS cannot be fetched.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

from chalicelib.config import settings
from chalicelib.errors import DeskError, NotFound

ROLE_RANK = {"agent": 1, "supervisor": 2, "admin": 3}
GROUP_ROLE = {"agents": "agent", "supervisors": "supervisor", "admins": "admin"}

JWKS_TIMEOUT_SECONDS = 3
JWKS_LIFESPAN_SECONDS = 6 * 3600  # pool keys rotate rarely; an unknown kid refetches sooner
JWKS_REFETCH_COOLDOWN_SECONDS = 60

LOCAL_ISSUER = "social-care-desk/local"
LOCAL_AUDIENCE = "social-care-desk/api"
LOCAL_MAX_LIFETIME_SECONDS = 12 * 3600


class Unauthorized(DeskError):
    pass


class Forbidden(DeskError):
    pass


@dataclass(frozen=True)
class Principal:
    """Who calls, their role, and the brands (tenants) they work for: every /api read and write
    answers only within `brands` (another brand's object is NotFound, a 404, never a 403). An admin
    sees every brand whatever `brands` says; anyone else with no brands (no agent record) sees none."""

    agent_id: str
    role: str
    brands: frozenset = frozenset()

    def require(self, role: str) -> "Principal":
        if ROLE_RANK[self.role] < ROLE_RANK[role]:
            raise Forbidden(f"{role} role required")
        return self

    @property
    def every_brand(self) -> bool:
        return self.role == "admin"

    @property
    def scope(self) -> Optional[list[str]]:
        """The brands a list may read, as the stores take them: None for every brand (admins)."""
        return None if self.every_brand else sorted(self.brands)

    def sees(self, brand: Optional[str]) -> bool:
        return self.every_brand or (brand is not None and brand in self.brands)

    def sees_any(self, brands) -> bool:
        """One of `brands` is the caller's (an object shared by brands, as a team or an agent)."""
        return self.every_brand or bool(self.brands.intersection(brands or ()))

    def within(self, brand: Optional[str], what: str) -> None:
        """NotFound (404) unless `brand` is the caller's: the one check every brand-owned object passes."""
        if not self.sees(brand):
            raise NotFound(what)

    def ticket(self, tickets, ticket_id: str):
        """The ticket, read through a TicketStore, if it exists and is of the caller's brands; NotFound
        otherwise (the same answer whether it is missing or another brand's)."""
        found = tickets.get(ticket_id)
        if found is None or not self.sees(found.brand):
            raise NotFound(ticket_id)
        return found


# -- the caller's brands, read from their agent record ---------------------------------------
# Not in the authorizer's context: API Gateway passes only strings, numbers and booleans there,
# and caches it per token for five minutes, so a brand taken away would stay for as long. The
# record is read on the caller's first request and kept BRANDS_TTL_SECONDS per container (one
# GetItem per agent per half minute); PUT and DELETE /api/agents/{id} forget it at once here, and
# other containers within the TTL.
BRANDS_TTL_SECONDS = 30.0
_brands_cache: dict[str, tuple[float, frozenset]] = {}
_brands_lock = threading.Lock()


def brands_of(agent_id: str, read: Callable[[str], Optional[Any]]) -> frozenset:
    """The brands on the agent's record (`read(agent_id)` → the brands, or None for no record:
    no brands), cached briefly."""
    now = _clock()
    with _brands_lock:
        cached = _brands_cache.get(agent_id)
        if cached and now - cached[0] < BRANDS_TTL_SECONDS:
            return cached[1]
    found = frozenset(read(agent_id) or ())
    with _brands_lock:
        _brands_cache[agent_id] = (now, found)
    return found


def forget_brands(agent_id: Optional[str] = None) -> None:
    """Drop the cached brands of one agent (their record changed), or of everyone (tests)."""
    with _brands_lock:
        if agent_id is None:
            _brands_cache.clear()
        else:
            _brands_cache.pop(agent_id, None)


@dataclass(frozen=True)
class CognitoPool:
    issuer: str
    client_id: str
    jwks_url: str


def cognito_pool() -> Optional[CognitoPool]:
    """The user pool whose ID tokens we accept, or None when Cognito is not configured."""
    pool_id = os.environ.get("COGNITO_USER_POOL_ID", "").strip()
    client_id = os.environ.get("COGNITO_APP_CLIENT_ID", "").strip()
    region, sep, _ = pool_id.partition("_")
    if not (region and sep and client_id):
        return None
    issuer = f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"
    jwks_url = os.environ.get("COGNITO_JWKS_URL", "").strip() or f"{issuer}/.well-known/jwks.json"
    return CognitoPool(issuer=issuer, client_id=client_id, jwks_url=jwks_url)


def authenticate(headers: Mapping[str, str]) -> Principal:
    import jwt

    header: Optional[str] = headers.get("authorization")
    if not header or not header.lower().startswith("bearer "):
        raise Unauthorized("missing bearer token")
    token = header[7:].strip()
    pool = cognito_pool()
    secret = settings().local_jwt_secret
    if not pool and not secret:
        raise Unauthorized("token verification is not configured")
    try:
        token_header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as err:
        raise Unauthorized("invalid token") from err
    alg = token_header.get("alg")
    if alg == "RS256" and pool:
        claims = _verify_cognito(token, token_header.get("kid"), pool)
        agent_id = claims.get("cognito:username") or claims["sub"]
    elif alg == "HS256" and secret:
        claims = _verify_local(token, secret)
        agent_id = claims["sub"]
    else:  # `none`, another algorithm, or one we have no key for
        raise Unauthorized("invalid token")
    groups = claims.get("cognito:groups") or []
    roles = [GROUP_ROLE[g] for g in groups if isinstance(g, str) and g in GROUP_ROLE]
    if not roles:
        raise Forbidden("no desk role in token")
    return Principal(agent_id=str(agent_id), role=max(roles, key=ROLE_RANK.__getitem__))


def _verify_local(token: str, secret: str) -> dict:
    """Signature, expiry, issued-at (not in the future), our issuer and audience, and a lifetime
    of at most 12 hours (exp - iat), so a token minted for a year is refused however it was signed."""
    import jwt

    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], audience=LOCAL_AUDIENCE, issuer=LOCAL_ISSUER,
                            options={"require": ["sub", "exp", "iat", "iss", "aud"]})
    except jwt.PyJWTError as err:
        raise Unauthorized("invalid token") from err
    lifetime = [claims["exp"], claims["iat"]]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in lifetime) \
            or lifetime[0] - lifetime[1] > LOCAL_MAX_LIFETIME_SECONDS:
        raise Unauthorized("invalid token")
    return claims


def _verify_cognito(token: str, kid: Any, pool: CognitoPool) -> dict:
    import jwt

    if not isinstance(kid, str) or not kid:
        raise Unauthorized("invalid token")
    key = _jwks(pool.jwks_url).key(kid)
    if key is None:
        raise Unauthorized("invalid token")
    try:
        claims = jwt.decode(token, key, algorithms=["RS256"], audience=pool.client_id, issuer=pool.issuer,
                            options={"require": ["sub", "exp", "iss", "aud", "token_use"]})
    except jwt.PyJWTError as err:
        raise Unauthorized("invalid token") from err
    if claims.get("token_use") != "id":
        raise Unauthorized("an ID token is required")
    return claims


class Jwks:
    """One pool's signing keys, cached for the container's life by PyJWT's PyJWKClient.

    An unknown `kid` forces a refetch (a key rotation) at most once per cooldown; until the
    next allowed refetch, unknown `kid`s are simply refused.
    """

    def __init__(self, url: str, clock: Callable[[], float] = time.monotonic):
        from jwt import PyJWKClient

        self.client = PyJWKClient(url, cache_jwk_set=True, lifespan=JWKS_LIFESPAN_SECONDS,
                                  timeout=JWKS_TIMEOUT_SECONDS, cooldown_duration=0)
        self.url = url
        self.clock = clock
        self.last_forced: Optional[float] = None
        self.lock = threading.Lock()

    def key(self, kid: str) -> Optional[Any]:
        """The PyJWK for `kid`, or None if the pool has no such key; Unauthorized if the JWKS
        cannot be fetched."""
        with self.lock:
            found = self.client.match_kid(self._signing_keys(refresh=False), kid)
            if found is None and self._may_refetch():
                self.last_forced = self.clock()
                found = self.client.match_kid(self._signing_keys(refresh=True), kid)
            return found

    def _may_refetch(self) -> bool:
        return self.last_forced is None or self.clock() - self.last_forced >= JWKS_REFETCH_COOLDOWN_SECONDS

    def _signing_keys(self, refresh: bool) -> list:
        import jwt

        try:
            return self.client.get_signing_keys(refresh=refresh)
        except (jwt.PyJWTError, ValueError, OSError) as err:  # unreachable, timed out, not a JWKS
            from chalicelib.observability import logger

            logger.warning("cannot fetch the user pool's JWKS",
                           extra={"jwks_url": self.url, "error": type(err).__name__})
            raise Unauthorized("cannot verify the token now") from err


_clock: Callable[[], float] = time.monotonic
_jwks_by_url: dict[str, Jwks] = {}
_jwks_lock = threading.Lock()


def _jwks(url: str) -> Jwks:
    with _jwks_lock:
        if url not in _jwks_by_url:
            _jwks_by_url[url] = Jwks(url, clock=_clock)
        return _jwks_by_url[url]


def reset() -> None:
    """Forget every cached JWKS and every caller's cached brands (tests)."""
    with _jwks_lock:
        _jwks_by_url.clear()
    forget_brands()


def mint(agent_id: str, role: str, secret: str, ttl_seconds: int = LOCAL_MAX_LIFETIME_SECONDS) -> str:
    """A local HS256 token (`python -m infra.local token`, the tests): at most 12 hours long."""
    import jwt

    if not 0 < ttl_seconds <= LOCAL_MAX_LIFETIME_SECONDS:
        raise ValueError(f"a local token lives between 1 second and {LOCAL_MAX_LIFETIME_SECONDS // 3600} hours")
    group = {v: k for k, v in GROUP_ROLE.items()}[role]
    now = int(time.time())
    return jwt.encode({"sub": agent_id, "cognito:groups": [group], "iat": now, "exp": now + ttl_seconds,
                       "iss": LOCAL_ISSUER, "aud": LOCAL_AUDIENCE, "token_use": "id"}, secret, algorithm="HS256")
