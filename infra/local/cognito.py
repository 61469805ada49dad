"""A stand-in for a Cognito user pool's hosted UI, served by the platform sandbox under /cognito.

`make run` can start the desk in Cognito mode (`python -m infra.local up --cognito`): the API's
authorizer then verifies RS256 ID tokens against this pool's JWKS exactly as it does in AWS,
and the web UI signs in through the hosted-UI redirect (implicit grant: the ID token comes back
in the URL fragment). Tests use it the same way.

  GET  /cognito/.well-known/jwks.json      the pool's public key
  GET  /cognito/oauth2/authorize?...       a sign-in page (user name and group)
  POST /cognito/login                      302 to redirect_uri#id_token=...&state=...
  GET  /cognito/logout?...                 302 to logout_uri

Tokens carry what Cognito's do: iss https://cognito-idp.<region>.amazonaws.com/<pool id>,
aud = the app client id, token_use "id", cognito:username, cognito:groups, exp an hour on.
"""
from __future__ import annotations

import html
import json
import time
import uuid
from functools import lru_cache
from urllib.parse import parse_qs, urlencode

POOL_ID = "eu-west-1_SandboxPool"
CLIENT_ID = "sandboxdeskclient"
KEY_ID = "sandbox-key-1"


def issuer(pool_id: str = POOL_ID) -> str:
    return f"https://cognito-idp.{pool_id.split('_')[0]}.amazonaws.com/{pool_id}"


@lru_cache(maxsize=1)
def _key():
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks() -> dict:
    import jwt

    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(_key().public_key()))
    return {"keys": [{**public, "kid": KEY_ID, "alg": "RS256", "use": "sig"}]}


def id_token(username: str, groups: list[str], client_id: str = CLIENT_ID, ttl: int = 3600) -> str:
    import jwt

    now = int(time.time())
    claims = {"sub": str(uuid.uuid5(uuid.NAMESPACE_URL, username)), "cognito:username": username,
              "cognito:groups": groups, "token_use": "id", "aud": client_id, "iss": issuer(),
              "auth_time": now, "iat": now, "exp": now + ttl, "email": f"{username}@desk.example"}
    return jwt.encode(claims, _key(), algorithm="RS256", headers={"kid": KEY_ID})


def handle(method: str, path: str, query: dict, body: str) -> tuple[int, dict, bytes]:
    """(status, headers, body) for a /cognito/... request."""
    if path == "/cognito/.well-known/jwks.json" and method == "GET":
        return 200, {"Content-Type": "application/json"}, json.dumps(jwks()).encode()
    if path == "/cognito/oauth2/authorize" and method == "GET":
        if query.get("response_type") != "token" or query.get("client_id") != CLIENT_ID or not query.get("redirect_uri"):
            return 400, {"Content-Type": "text/plain"}, b"invalid_request"
        return 200, {"Content-Type": "text/html; charset=utf-8"}, _page(query).encode()
    if path == "/cognito/login" and method == "POST":
        form = {k: v[-1] for k, v in parse_qs(body).items()}
        username = form.get("username", "").strip()
        if not username:
            return 400, {"Content-Type": "text/plain"}, b"username required"
        token = id_token(username, [form.get("group") or "agents"])
        fragment = urlencode({"id_token": token, "access_token": token, "token_type": "Bearer",
                              "expires_in": 3600, "state": form.get("state", "")})
        return 302, {"Location": f"{form['redirect_uri']}#{fragment}"}, b""
    if path == "/cognito/logout" and method == "GET":
        return 302, {"Location": query.get("logout_uri") or "/"}, b""
    return 404, {"Content-Type": "text/plain"}, b"not found"


def _page(query: dict) -> str:
    hidden = "".join(f'<input type="hidden" name="{k}" value="{html.escape(query.get(k, ""))}">'
                     for k in ("redirect_uri", "state"))
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head>
<body style="font-family:sans-serif;max-width:24rem;margin:4rem auto">
<h1>Sandbox user pool</h1><p>Stand-in for the Cognito hosted UI.</p>
<form method="post" action="/cognito/login">{hidden}
<p><label for="username">User name</label><br><input id="username" name="username" autocomplete="username"></p>
<p><label for="group">Group</label><br><select id="group" name="group">
<option>agents</option><option>supervisors</option><option>admins</option></select></p>
<p><button type="submit">Sign in</button></p></form></body></html>"""
