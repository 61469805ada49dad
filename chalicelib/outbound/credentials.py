"""Per brand account credentials: page tokens, X user tokens, WhatsApp tokens.

Each connected account has a Secrets Manager secret `<ACCOUNT_SECRET_PREFIX>/<platform>/<account id>`
(prefix default `social-care/accounts`), a JSON object with at least `access_token`; an X
account adds `refresh_token` and `client_id` (and `client_secret` for a confidential app), an
API channel may hold its own `callback_secret`. Read once per container and kept; never logged
(`Credential.__repr__` hides the values).

On an auth error the sender calls `refresh` once: the secret is read again (an admin may have
reconnected the account, or another container refreshed it), and if it still holds the token
that failed and has a refresh token, X's OAuth 2.0 refresh grant makes a new pair, which is
written back so every container uses it (X refresh tokens are single-use).
"""
from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Optional

from chalicelib.errors import DeskError

DEFAULT_PREFIX = "social-care/accounts"
_cache: dict[tuple[str, str], "Credential"] = {}


class MissingCredential(DeskError):
    """The account has no usable secret: a permanent failure until an admin connects it."""


@dataclass(frozen=True)
class Credential:
    platform: str
    account_id: str
    values: dict = field(repr=False)

    @property
    def token(self) -> str:
        return self.values.get("access_token") or ""

    def get(self, key: str) -> str:
        return self.values.get(key) or ""

    def __repr__(self) -> str:
        return f"Credential({self.platform}/{self.account_id}, keys={sorted(self.values)})"


def secret_id(platform: str, account_id: str) -> str:
    prefix = os.environ.get("ACCOUNT_SECRET_PREFIX") or DEFAULT_PREFIX
    return f"{prefix}/{platform}/{account_id}"


def get(platform: str, account_id: str) -> Credential:
    key = (platform, account_id)
    if key not in _cache:
        _cache[key] = _read(platform, account_id)
    return _cache[key]


def refresh(failed: Credential, token_url: Optional[str] = None) -> Credential:
    """A fresh credential after `failed` was refused; MissingCredential if there is none."""
    current = _read(failed.platform, failed.account_id)
    if current.token != failed.token or not current.get("refresh_token") or not token_url:
        _cache[(failed.platform, failed.account_id)] = current
        return current
    renewed = Credential(current.platform, current.account_id,
                         {**current.values, **_refresh_grant(current, token_url)})
    from chalicelib import aws

    aws.client("secretsmanager").put_secret_value(SecretId=secret_id(current.platform, current.account_id),
                                                  SecretString=json.dumps(renewed.values))
    _cache[(current.platform, current.account_id)] = renewed
    return renewed


def reset() -> None:
    _cache.clear()


def _read(platform: str, account_id: str) -> Credential:
    from botocore.exceptions import ClientError

    from chalicelib import aws

    try:
        raw = aws.client("secretsmanager").get_secret_value(SecretId=secret_id(platform, account_id))
    except ClientError as err:
        code = err.response["Error"]["Code"]
        if code in ("ResourceNotFoundException", "AccessDeniedException"):
            raise MissingCredential(f"no credentials stored for the {platform} account {account_id} "
                                    f"({code}); connect the account") from None
        raise
    try:
        values = json.loads(raw.get("SecretString") or "{}")
    except ValueError:
        raise MissingCredential(f"the secret of the {platform} account {account_id} is not JSON") from None
    return Credential(platform, account_id, values if isinstance(values, dict) else {})


def _refresh_grant(current: Credential, token_url: str) -> dict:
    """X OAuth 2.0: POST /2/oauth2/token grant_type=refresh_token (a new access and refresh token)."""
    form = {"grant_type": "refresh_token", "refresh_token": current.get("refresh_token"),
            "client_id": current.get("client_id")}
    headers = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "social-care-desk/1.0"}
    if current.get("client_secret"):
        pair = f"{current.get('client_id')}:{current.get('client_secret')}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    request = urllib.request.Request(token_url, data=urllib.parse.urlencode(form).encode(), method="POST",
                                     headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            body = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as err:
        err.close()
        raise MissingCredential(f"X refused to refresh the token of account {current.account_id} "
                                f"(HTTP {err.code}); reconnect the account") from None
    except (urllib.error.URLError, OSError, ValueError) as err:
        from chalicelib.outbound.errors import Retry

        raise Retry(f"X token refresh did not answer: {type(err).__name__}", after=5) from None
    if not body.get("access_token"):
        raise MissingCredential("token refresh answered without an access token")
    return {"access_token": body["access_token"], "refresh_token": body.get("refresh_token")
            or current.get("refresh_token")}
