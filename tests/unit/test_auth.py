"""The one authorizer: Cognito ID tokens (RS256, keys from the pool's JWKS) and local HS256 tokens.

A real RSA key pair and a real JWKS endpoint on loopback stand in for the user pool, so the
code under test fetches, caches and refetches keys exactly as it would in AWS.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from chalicelib import auth
from chalicelib.auth import Forbidden, Principal, Unauthorized, authenticate, mint

POOL_ID = "eu-west-1_AbCdEf123"
ISSUER = f"https://cognito-idp.eu-west-1.amazonaws.com/{POOL_ID}"
CLIENT_ID = "3n4b5urk1ft4fl3mg5e62d9ado"
LOCAL_SECRET = "test-local-jwt-secret-of-32-bytes-or-more"


def _rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwk(private_key, kid):
    return {**RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True), "kid": kid, "alg": "RS256", "use": "sig"}


class JwksServer:
    """A user pool's `/.well-known/jwks.json`, counting how often it is fetched."""

    def __init__(self):
        self.keys: list[dict] = []
        self.fetches = 0
        self.body_override: bytes | None = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.fetches += 1
                body = server.body_override or json.dumps({"keys": server.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/{POOL_ID}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                       daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(auth, "_clock", fake)
    return fake


@pytest.fixture
def pool_key():
    return _rsa_key()


@pytest.fixture
def jwks(pool_key, monkeypatch, clock):
    """A user pool with one signing key `kid-1`; the app is configured for it and for local tokens."""
    auth.reset()
    with JwksServer() as server:
        server.keys = [_jwk(pool_key, "kid-1")]
        monkeypatch.setenv("COGNITO_USER_POOL_ID", POOL_ID)
        monkeypatch.setenv("COGNITO_APP_CLIENT_ID", CLIENT_ID)
        monkeypatch.setenv("COGNITO_JWKS_URL", server.url)
        monkeypatch.setenv("LOCAL_JWT_SECRET", LOCAL_SECRET)
        yield server
    auth.reset()


def id_token(key, kid="kid-1", **overrides):
    now = int(time.time())
    claims = {"sub": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "cognito:username": "ana",
              "cognito:groups": ["agents", "supervisors"], "iss": ISSUER, "aud": CLIENT_ID,
              "token_use": "id", "auth_time": now, "iat": now, "exp": now + 3600,
              "email": "ana@example.com"}
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def bearer(token):
    return {"authorization": "Bearer " + token}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned_parts(header: dict, claims: dict) -> str:
    return _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())


def _hs256_by_hand(claims: dict, secret: bytes) -> str:
    """PyJWT refuses a PEM as an HMAC secret, so an attacker signs by hand."""
    signing_input = _unsigned_parts({"alg": "HS256", "typ": "JWT", "kid": "kid-1"}, claims)
    return signing_input + "." + _b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())


def _claims_of(token):
    return jwt.decode(token, options={"verify_signature": False})


def _rejected(token) -> Unauthorized:
    with pytest.raises(Unauthorized) as caught:
        authenticate(bearer(token))
    assert token not in str(caught.value) and token.split(".")[1] not in str(caught.value)
    return caught.value


# --- Cognito ID tokens -------------------------------------------------------------------------

def test_a_valid_cognito_id_token_gives_the_username_and_the_highest_role(jwks, pool_key):
    assert authenticate(bearer(id_token(pool_key))) == Principal(agent_id="ana", role="supervisor")


def test_without_a_username_claim_the_agent_is_the_sub(jwks, pool_key):
    token = id_token(pool_key, **{"cognito:username": None, "cognito:groups": ["admins"]})
    assert authenticate(bearer(token)) == Principal(agent_id="aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", role="admin")


@pytest.mark.parametrize("overrides", [
    {"aud": "another-app-client"},
    {"aud": None},
    {"iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_SomeoneElse"},
    {"iss": None},
    {"token_use": "access"},
    {"token_use": None},
    {"exp": int(time.time()) - 60},
    {"exp": None},
    {"sub": None},
], ids=["wrong-aud", "no-aud", "wrong-iss", "no-iss", "access-token", "no-token-use", "expired", "no-exp",
        "no-sub"])
def test_a_token_with_a_wrong_or_missing_claim_is_unauthorized(jwks, pool_key, overrides):
    _rejected(id_token(pool_key, **overrides))


def test_an_unknown_kid_is_unauthorized(jwks, pool_key):
    _rejected(id_token(pool_key, kid="kid-nobody-published"))


def test_a_token_without_a_kid_is_unauthorized(jwks, pool_key):
    _rejected(jwt.encode(_claims_of(id_token(pool_key)), pool_key, algorithm="RS256"))


def test_a_token_signed_by_another_key_under_the_pools_kid_is_unauthorized(jwks):
    _rejected(id_token(_rsa_key(), kid="kid-1"))


def test_alg_none_is_unauthorized(jwks, pool_key):
    claims = _claims_of(id_token(pool_key))
    _rejected(_unsigned_parts({"alg": "none", "typ": "JWT", "kid": "kid-1"}, claims) + ".")
    _rejected(_unsigned_parts({"alg": "None", "typ": "JWT", "kid": "kid-1"}, claims) + ".")


def test_an_unsupported_algorithm_is_unauthorized(jwks, pool_key):
    claims = _claims_of(id_token(pool_key))
    _rejected(jwt.encode(claims, pool_key, algorithm="PS256", headers={"kid": "kid-1"}))


@pytest.mark.parametrize("local_secret_configured", [True, False])
def test_hs256_forged_with_the_pools_public_key_as_secret_is_unauthorized(jwks, pool_key, monkeypatch,
                                                                           local_secret_configured):
    # Given an attacker who knows the public key (it is published) and signs HS256 with it
    if not local_secret_configured:
        monkeypatch.delenv("LOCAL_JWT_SECRET")
    claims = {**_claims_of(id_token(pool_key)), "cognito:groups": ["admins"]}
    for secret in (pool_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo),
                   json.dumps(jwks.keys[0]).encode()):
        # When it is presented, Then it is refused
        _rejected(_hs256_by_hand(claims, secret))
    if local_secret_configured:  # (and the same hand-made token with the right secret is accepted)
        local_claims = {**claims, "iss": auth.LOCAL_ISSUER, "aud": auth.LOCAL_AUDIENCE}
        assert authenticate(bearer(_hs256_by_hand(local_claims, LOCAL_SECRET.encode()))).role == "admin"


def test_garbage_is_unauthorized(jwks):
    for token in ("", "not-a-jwt", "a.b.c", "....", "eyJhbGciOiJSUzI1NiJ9.e30."):
        with pytest.raises(Unauthorized):
            authenticate(bearer(token))
    with pytest.raises(Unauthorized):
        authenticate({})
    with pytest.raises(Unauthorized):
        authenticate({"authorization": "Basic YW5hOnB3"})


def test_a_token_with_no_desk_group_is_forbidden(jwks, pool_key):
    with pytest.raises(Forbidden):
        authenticate(bearer(id_token(pool_key, **{"cognito:groups": ["marketing"]})))
    with pytest.raises(Forbidden):
        authenticate(bearer(id_token(pool_key, **{"cognito:groups": None})))


# --- local HS256 tokens alongside ---------------------------------------------------------------

def test_local_hs256_tokens_still_work_alongside_cognito(jwks, pool_key):
    assert authenticate(bearer(mint("sam", "admin", LOCAL_SECRET))) == Principal("sam", "admin")
    assert authenticate(bearer(id_token(pool_key))) == Principal("ana", "supervisor")
    _rejected(mint("sam", "admin", "not-the-secret-but-long-enough-for-hs256"))


def local_token(**overrides) -> str:
    """A local HS256 token as `mint` makes it, with claims changed (None deletes one)."""
    now = int(time.time())
    claims = {"sub": "sam", "cognito:groups": ["admins"], "iat": now, "exp": now + 3600,
              "iss": auth.LOCAL_ISSUER, "aud": auth.LOCAL_AUDIENCE, "token_use": "id"}
    claims.update(overrides)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, LOCAL_SECRET, algorithm="HS256")


def test_a_local_token_as_mint_makes_it_is_accepted_up_to_twelve_hours_long(jwks):
    # Given tokens the minter's way, the longest one exactly 12 hours from iat to exp
    now = int(time.time())
    for token in (local_token(), local_token(iat=now, exp=now + 12 * 3600), mint("sam", "admin", LOCAL_SECRET)):
        # Then each is accepted
        assert authenticate(bearer(token)) == Principal("sam", "admin")
    claims = _claims_of(mint("sam", "admin", LOCAL_SECRET))
    assert claims["iss"] == auth.LOCAL_ISSUER and claims["aud"] == auth.LOCAL_AUDIENCE
    assert claims["exp"] - claims["iat"] == 12 * 3600


@pytest.mark.parametrize("overrides", [
    {"iat": int(time.time()), "exp": int(time.time()) + 12 * 3600 + 1},
    {"iat": int(time.time()) - 3600, "exp": int(time.time()) + 365 * 86400},
    {"exp": None},
    {"iat": None},
    {"iat": int(time.time()) + 3600, "exp": int(time.time()) + 7200},
    {"iss": None},
    {"iss": "someone-else"},
    {"iss": ISSUER},
    {"aud": None},
    {"aud": "another-desk"},
    {"aud": CLIENT_ID},
    {"exp": int(time.time()) - 60},
    {"sub": None},
], ids=["12h-and-a-second", "a-year", "no-exp", "no-iat", "iat-in-the-future", "no-iss", "wrong-iss",
        "cognito-iss", "no-aud", "wrong-aud", "cognito-aud", "expired", "no-sub"])
def test_a_local_token_too_long_lived_or_with_a_wrong_or_missing_claim_is_unauthorized(jwks, overrides):
    # Given a token signed with the right local secret, When one claim is wrong, Then it is refused
    _rejected(local_token(**overrides))


def test_the_minter_refuses_a_lifetime_over_twelve_hours():
    with pytest.raises(ValueError, match="12 hours"):
        mint("sam", "admin", LOCAL_SECRET, ttl_seconds=12 * 3600 + 1)
    with pytest.raises(ValueError):
        mint("sam", "admin", LOCAL_SECRET, ttl_seconds=0)


def test_the_token_command_mints_a_token_the_desk_accepts(jwks, monkeypatch, capsys):
    # Given the local stack's secret, When `python -m infra.local token` runs
    from infra.local.__main__ import main

    assert main(["token", "--agent", "zofia", "--role", "supervisor"]) == 0
    token = capsys.readouterr().out.strip()
    # Then the token is accepted, 12 hours long, with our issuer and audience
    assert authenticate(bearer(token)) == Principal("zofia", "supervisor")
    claims = _claims_of(token)
    assert (claims["iss"], claims["aud"], claims["exp"] - claims["iat"]) == (
        auth.LOCAL_ISSUER, auth.LOCAL_AUDIENCE, 12 * 3600)


def test_each_kind_of_token_needs_its_own_configuration(jwks, pool_key, monkeypatch):
    monkeypatch.delenv("LOCAL_JWT_SECRET")
    _rejected(mint("sam", "admin", LOCAL_SECRET))
    assert authenticate(bearer(id_token(pool_key))).agent_id == "ana"

    monkeypatch.setenv("LOCAL_JWT_SECRET", LOCAL_SECRET)
    monkeypatch.delenv("COGNITO_APP_CLIENT_ID")
    _rejected(id_token(pool_key))
    assert authenticate(bearer(mint("sam", "agent", LOCAL_SECRET))).agent_id == "sam"


def test_with_nothing_configured_every_token_is_unauthorized(jwks, pool_key, monkeypatch):
    for key in ("LOCAL_JWT_SECRET", "COGNITO_USER_POOL_ID", "COGNITO_APP_CLIENT_ID"):
        monkeypatch.delenv(key)
    _rejected(mint("sam", "admin", LOCAL_SECRET))
    _rejected(id_token(pool_key))
    assert jwks.fetches == 0


def test_the_jwks_url_defaults_to_the_pools_well_known_address(monkeypatch):
    monkeypatch.setenv("COGNITO_USER_POOL_ID", POOL_ID)
    monkeypatch.setenv("COGNITO_APP_CLIENT_ID", CLIENT_ID)
    monkeypatch.delenv("COGNITO_JWKS_URL", raising=False)
    pool = auth.cognito_pool()
    assert pool.issuer == ISSUER
    assert pool.jwks_url == f"{ISSUER}/.well-known/jwks.json"
    monkeypatch.setenv("COGNITO_USER_POOL_ID", "no-region-in-this-id")
    assert auth.cognito_pool() is None


# --- the JWKS cache -----------------------------------------------------------------------------

def test_the_jwks_is_fetched_once_for_many_verifications(jwks, pool_key):
    for _ in range(25):
        assert authenticate(bearer(id_token(pool_key))).agent_id == "ana"
    assert jwks.fetches == 1


def test_a_rotated_key_is_fetched_once_when_its_kid_first_appears(jwks, pool_key):
    # Given a container that has cached the pool's keys
    authenticate(bearer(id_token(pool_key)))
    # When the pool publishes a new key and signs with it
    new_key = _rsa_key()
    jwks.keys = [_jwk(pool_key, "kid-1"), _jwk(new_key, "kid-2")]
    for _ in range(10):
        assert authenticate(bearer(id_token(new_key, kid="kid-2"))).agent_id == "ana"
        assert authenticate(bearer(id_token(pool_key, kid="kid-1"))).agent_id == "ana"
    # Then the JWKS was fetched exactly once more
    assert jwks.fetches == 2


def test_forged_kids_refetch_the_jwks_at_most_once_a_minute(jwks, pool_key, clock):
    authenticate(bearer(id_token(pool_key)))
    for i in range(20):
        _rejected(id_token(pool_key, kid=f"forged-{i}"))
    assert jwks.fetches == 2
    clock.now += 59
    _rejected(id_token(pool_key, kid="forged-later"))
    assert jwks.fetches == 2
    clock.now += 2
    for i in range(5):
        _rejected(id_token(pool_key, kid=f"forged-again-{i}"))
    assert jwks.fetches == 3


def test_a_new_key_after_a_forged_kid_waits_for_the_cooldown(jwks, pool_key, clock):
    authenticate(bearer(id_token(pool_key)))
    _rejected(id_token(pool_key, kid="forged"))
    new_key = _rsa_key()
    jwks.keys = [_jwk(pool_key, "kid-1"), _jwk(new_key, "kid-2")]
    _rejected(id_token(new_key, kid="kid-2"))
    clock.now += 60
    assert authenticate(bearer(id_token(new_key, kid="kid-2"))).agent_id == "ana"
    assert jwks.fetches == 3


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_jwks_is_unauthorized_not_a_crash(jwks, pool_key, monkeypatch):
    monkeypatch.setenv("COGNITO_JWKS_URL", f"http://127.0.0.1:{_closed_port()}/jwks.json")
    started = time.monotonic()
    error = _rejected(id_token(pool_key))
    assert "cannot verify" in str(error)
    assert time.monotonic() - started < auth.JWKS_TIMEOUT_SECONDS + 1
    # local tokens do not depend on the pool
    assert authenticate(bearer(mint("sam", "agent", LOCAL_SECRET))).agent_id == "sam"


@pytest.mark.parametrize("body", [b"<html>502 Bad Gateway</html>", b"[]", b'{"keys": []}',
                                  b'{"keys": [{"kty": "RSA", "kid": "kid-1"}]}'])
def test_a_jwks_endpoint_answering_nonsense_is_unauthorized(jwks, pool_key, body):
    jwks.body_override = body
    _rejected(id_token(pool_key))


def test_the_cached_keys_survive_a_failed_refetch(jwks, pool_key):
    authenticate(bearer(id_token(pool_key)))
    jwks.body_override = b"<html>502 Bad Gateway</html>"
    _rejected(id_token(pool_key, kid="kid-rotated"))
    assert authenticate(bearer(id_token(pool_key))).agent_id == "ana"
