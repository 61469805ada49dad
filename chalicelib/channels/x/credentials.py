"""X's OAuth 2.0 refresh grant: new user tokens after X refused the account's access token.

POST /2/oauth2/token grant_type=refresh_token (https://docs.x.com/resources/fundamentals/authentication/oauth-2-0/user-access-token);
a confidential app authenticates with Basic client_id:client_secret. X refresh tokens are
single-use: outbound/credentials.py writes the new pair back to the account's secret at once.
"""
from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request

from chalicelib.env import settings
from chalicelib.errors import MissingCredential, Retry


def token_url() -> str:
    return settings().x_api_base + "/2/oauth2/token"


def refresh_grant(current) -> dict:
    """The new `access_token` and `refresh_token` for `current` (a Credential holding
    `refresh_token`, `client_id` and perhaps `client_secret`). MissingCredential when X refuses,
    Retry when it does not answer."""
    form = {"grant_type": "refresh_token", "refresh_token": current.get("refresh_token"),
            "client_id": current.get("client_id")}
    headers = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "social-care-desk/1.0"}
    if current.get("client_secret"):
        pair = f"{current.get('client_id')}:{current.get('client_secret')}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    request = urllib.request.Request(token_url(), data=urllib.parse.urlencode(form).encode(), method="POST",
                                     headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            body = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as err:
        err.close()
        raise MissingCredential(f"X refused to refresh the token of account {current.account_id} "
                                f"(HTTP {err.code}); reconnect the account") from None
    except (urllib.error.URLError, OSError, ValueError) as err:
        raise Retry(f"X token refresh did not answer: {type(err).__name__}", after=5) from None
    if not body.get("access_token"):
        raise MissingCredential("token refresh answered without an access token")
    return {"access_token": body["access_token"], "refresh_token": body.get("refresh_token")
            or current.get("refresh_token")}
