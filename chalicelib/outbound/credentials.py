"""Per brand account credentials: page tokens, X user tokens, WhatsApp tokens.

Each connected account has a Secrets Manager secret `<ACCOUNT_SECRET_PREFIX>/<platform>/<account id>`
(prefix default `social-care/accounts`), a JSON object with at least `access_token`; an X
account adds `refresh_token` and `client_id` (and `client_secret` for a confidential app). Read
once per container and kept; never logged (`Credential.__repr__` hides the values).

On an auth error the worker calls `refresh` once: the secret is read again (an admin may have
reconnected the account, or another container refreshed it), and if it still holds the token
that failed and has a refresh token, the channel's refresh grant (`refresh_grant` of its
send.py: X's OAuth 2.0 grant, chalicelib/channels/x/credentials.py) makes a new pair, which is
written back so every container uses it (X refresh tokens are single-use).

`for_sender` gives a channel's sender what its `Sender.credential` names (chalicelib/channels/
reply.py): the channel packages never read Secrets Manager or make AWS clients themselves.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from botocore.exceptions import ClientError

from chalicelib import aws
from chalicelib.channels.reply import ACCOUNT
from chalicelib.config import secrets
from chalicelib.errors import MissingCredential

__all__ = ["Credential", "MissingCredential", "for_sender", "get", "refresh", "reset", "secret_id"]

DEFAULT_PREFIX = "social-care/accounts"
_cache: dict[tuple[str, str], "Credential"] = {}


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


def for_sender(spec: Optional[str], platform: str, account_id: str) -> Any:
    """What a sender is given: the account's Credential (ACCOUNT), one of the desk's platform
    secrets ("secret:<KEY>"), the account's own platform secret ("account_secret:<KEY>": `<KEY>:<account
    id>`, else the shared `<KEY>` while integrators move to their own; MissingCredential for neither),
    a boto3 client ("aws:<service>"), or None."""
    if spec == ACCOUNT:
        return get(platform, account_id)
    kind, _, name = (spec or "").partition(":")
    if kind == "secret":
        return secrets().get(name)
    if kind == "account_secret":
        found = secrets().get(f"{name}:{account_id}") or secrets().get(name)
        if not found:
            raise MissingCredential(f"no signing secret for the {platform} account {account_id}: neither its "
                                    f"own ({name}:<account id>) nor the shared one in the platform secret")
        return found
    if kind == "aws":
        return aws.client(name)
    return None


def refresh(failed: Credential, grant: Optional[Callable[[Credential], dict]] = None) -> Credential:
    """A fresh credential after `failed` was refused; MissingCredential if there is none. `grant`
    (the channel's refresh grant) makes new values from a refresh token."""
    current = _read(failed.platform, failed.account_id)
    if current.token != failed.token or not current.get("refresh_token") or grant is None:
        _cache[(failed.platform, failed.account_id)] = current
        return current
    renewed = Credential(current.platform, current.account_id, {**current.values, **grant(current)})
    aws.client("secretsmanager").put_secret_value(SecretId=secret_id(current.platform, current.account_id),
                                                  SecretString=json.dumps(renewed.values))
    _cache[(current.platform, current.account_id)] = renewed
    return renewed


def reset() -> None:
    _cache.clear()


def _read(platform: str, account_id: str) -> Credential:
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
