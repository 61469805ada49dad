"""AWS clients: boto3's, built lazily one per service per container, and a light wire client for
the two calls a webhook's cold start pays for (SQS SendMessageBatch, Secrets Manager GetSecretValue).

Nothing here runs at import time. Without bytecode cache (a Lambda package ships none) importing
boto3 and building its first client costs ~450 ms, most of the webhook's cold start; the wire
client is the standard library (http.client, hmac, hashlib, json) and costs ~20 ms. It speaks the
AWS JSON protocol both services use: a POST to the service endpoint signed with Signature
Version 4, retried like botocore's standard mode (3 attempts, jittered exponential backoff, on
connection errors, 5xx and throttling), one kept-alive connection per endpoint. It reads its
credentials from the environment, where Lambda puts them, so it is used only where they are
there and either the code runs in Lambda (`AWS_LAMBDA_FUNCTION_NAME`) or an endpoint is named
(`AWS_ENDPOINT_URL`: the local stack). Anywhere else (a profile or SSO, moto's in-process mock,
which patches botocore) the same calls go through boto3. Either way a failed call raises
`CallFailed`. `tests/integration/test_aws_wire.py` checks the signature against botocore's and the
calls against a moto server.

Why SigV4 is signed here and not by botocore's own `SigV4Auth` + `AWSRequest` + `Credentials`
(no client, no service model; botocore is in the Lambda runtime anyway): importing those three
costs ~150 ms when botocore is compiled from source, as Lambda runs a package (botocore.auth alone
pulls botocore.utils, urllib3, dateutil, six: ~120 ms), and still ~50 ms with botocore's bytecode,
against 500 ms for the whole webhook. Measured 2026-11-27 with `python -m bench coldstart
--webhook-only --runs 7` (one signed X webhook served in Lambda's environment, load ~3 on 2 vCPUs)
on cd7ad38 and on a copy with `sign` swapped for botocore's, alternately: with the standard library
compiled (the budgeted reading) 252 -> 397 ms by the clock, 278 -> 424 ms of CPU (+146); with
nothing cached 456 -> 628 ms, 475 -> 661 ms of CPU (+186). So `sign` stays (~30 lines of the
standard library) and tests/integration/test_aws_wire.py holds it to botocore's signature for
known requests (with and without a session token, a default and an explicit port). The retry
backoff is the desk's one (chalicelib/backoff.py, shared with chalicelib/channels/http.py).

`reset()` drops clients and connections (tests start moto first).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import time
from datetime import datetime, timezone
from typing import Any, Optional
from urllib.parse import urlsplit

from chalicelib.backoff import exponential
from chalicelib.env import settings

_clients: dict[str, Any] = {}
_resources: dict[str, Any] = {}
_threads = threading.local()  # each thread its own kept-alive connections (the local stack has many)


class CallFailed(Exception):
    """An AWS call that failed for good (after retries): `code` is AWS's error code, or the
    exception's type name for a connection failure."""

    def __init__(self, code: str, message: str = "", status: int = 0) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code, self.message, self.status = code, message, status


def _kwargs() -> dict:
    cfg = settings()
    kwargs: dict = {"region_name": cfg.region}
    if cfg.endpoint_url:
        kwargs["endpoint_url"] = cfg.endpoint_url
    return kwargs


def client(service: str) -> Any:
    if service not in _clients:
        import boto3

        _clients[service] = boto3.client(service, **_kwargs())
    return _clients[service]


def table() -> Any:
    name = settings().table_name
    if name not in _resources:
        import boto3

        _resources[name] = boto3.resource("dynamodb", **_kwargs()).Table(name)
    return _resources[name]


def reset() -> None:
    _clients.clear()
    _resources.clear()
    global _threads
    for connection in getattr(_threads, "connections", {}).values():
        connection.close()
    _threads = threading.local()


# -- the two calls of the webhook path -------------------------------------------------------
def send_message_batch(queue_url: str, entries: list[dict]) -> dict:
    """SQS SendMessageBatch: `{"Successful": [...], "Failed": [...]}` as boto3 answers it. An
    entry whose MD5OfMessageBody does not match what was sent is reported as failed."""
    if not _wire():
        return _boto("sqs", "send_message_batch", QueueUrl=queue_url, Entries=entries)
    answer = _call("sqs", "AmazonSQS.SendMessageBatch", "1.0", {"QueueUrl": queue_url, "Entries": entries})
    sent = {e["Id"]: e["MessageBody"] for e in entries}
    successful, failed = [], list(answer.get("Failed", []))
    for ok in answer.get("Successful", []):
        body = sent.get(ok.get("Id"), "")
        if ok.get("MD5OfMessageBody") == hashlib.md5(body.encode("utf-8")).hexdigest():  # noqa: S324 - SQS's checksum
            successful.append(ok)
        else:
            failed.append({"Id": ok.get("Id"), "SenderFault": False, "Code": "MD5Mismatch"})
    return {"Successful": successful, "Failed": failed}


def get_secret_string(secret_id: str) -> str:
    """Secrets Manager GetSecretValue's SecretString."""
    if not _wire():
        return _boto("secretsmanager", "get_secret_value", SecretId=secret_id)["SecretString"]
    return _call("secretsmanager", "secretsmanager.GetSecretValue", "1.1", {"SecretId": secret_id})["SecretString"]


def _wire() -> bool:
    env = os.environ
    return bool(env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY")
                and (env.get("AWS_LAMBDA_FUNCTION_NAME") or settings().endpoint_url))


def _boto(service: str, operation: str, **params) -> dict:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return getattr(client(service), operation)(**params)
    except ClientError as err:
        error = err.response.get("Error", {})
        raise CallFailed(error.get("Code") or type(err).__name__, error.get("Message", ""),
                         err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)) from err
    except BotoCoreError as err:
        raise CallFailed(type(err).__name__) from err


# -- the wire client ---------------------------------------------------------------------------
MAX_ATTEMPTS = 3  # botocore's standard retry mode
MAX_BACKOFF_SECONDS = 20.0
TIMEOUT_SECONDS = 10.0
RETRYABLE_STATUS = {500, 502, 503, 504}
RETRYABLE_CODES = {  # botocore's standard mode: throttling and transient errors
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
    "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown",
    "PriorRequestNotComplete", "EC2ThrottledException", "RequestTimeout", "RequestTimeoutException",
    "InternalError", "ServiceUnavailable", "InternalFailure",
}


def endpoint(service: str) -> str:
    """botocore's order: AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, then the regional endpoint."""
    named = os.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}") or settings().endpoint_url
    if named:
        return named.rstrip("/")
    region = settings().region
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://{service}.{region}.{suffix}"


def sign(method: str, url: str, headers: dict[str, str], body: bytes, service: str, region: str,
         access_key: str, secret_key: str, token: Optional[str], now: datetime) -> dict[str, str]:
    """The headers of a request signed with SigV4 (host, x-amz-date, the token, Authorization), as
    botocore's SigV4Auth signs them: every header given is signed."""
    parts = urlsplit(url)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    signed = {k.lower(): " ".join(str(v).split()) for k, v in headers.items()}
    default_port = {"http": 80, "https": 443}[parts.scheme]
    signed["host"] = parts.hostname + (f":{parts.port}" if parts.port and parts.port != default_port else "")
    signed["x-amz-date"] = amz_date
    if token:
        signed["x-amz-security-token"] = token
    names = sorted(signed)
    canonical = "\n".join([method, parts.path or "/", parts.query,
                           "".join(f"{n}:{signed[n]}\n" for n in names), ";".join(names),
                           hashlib.sha256(body).hexdigest()])
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
    key = ("AWS4" + secret_key).encode("utf-8")
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    out = {**headers, "Host": signed["host"], "X-Amz-Date": amz_date}
    if token:
        out["X-Amz-Security-Token"] = token
    out["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
                            f"SignedHeaders={';'.join(names)}, Signature={signature}")
    return out


def _call(service: str, target: str, json_version: str, payload: dict) -> dict:
    """One AWS JSON-protocol call, signed and retried; the decoded answer, or CallFailed."""
    url = endpoint(service) + "/"
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    failure = CallFailed("NotAttempted")
    for attempt in range(MAX_ATTEMPTS):
        if attempt:
            time.sleep(exponential(attempt, cap=MAX_BACKOFF_SECONDS, jitter=True))  # botocore's standard mode
        env = os.environ
        headers = sign("POST", url, {"Content-Type": f"application/x-amz-json-{json_version}", "X-Amz-Target": target},
                       body, service, settings().region, env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"],
                       env.get("AWS_SESSION_TOKEN") or None, datetime.now(timezone.utc))
        try:
            status, response_headers, data = _post(url, headers, body)
        except OSError as err:  # refused, reset, timed out, TLS: retried on a new connection
            failure = CallFailed(type(err).__name__, str(err))
            continue
        if status < 300:
            return json.loads(data or b"{}")
        failure = _error(status, response_headers, data)
        if status not in RETRYABLE_STATUS and failure.code not in RETRYABLE_CODES:
            break
    raise failure


def _error(status: int, headers: dict[str, str], data: bytes) -> CallFailed:
    try:
        found = json.loads(data or b"{}")
    except ValueError:
        found = {}
    if not isinstance(found, dict):
        found = {}
    query_error = headers.get("x-amzn-query-error", "").split(";")[0]  # SQS's legacy code, as boto3 names it
    code = query_error or str(found.get("__type") or found.get("code") or f"HTTP{status}").rsplit("#", 1)[-1]
    return CallFailed(code, str(found.get("message") or found.get("Message") or ""), status)


def _post(url: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
    import http.client

    parts = urlsplit(url)
    key = (parts.scheme, parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
    connections = _threads.__dict__.setdefault("connections", {})
    connection = connections.get(key)
    if connection is None:
        kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        connection = connections[key] = kind(key[1], key[2], timeout=TIMEOUT_SECONDS)
    try:
        connection.request("POST", parts.path or "/", body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
    except (OSError, http.client.HTTPException) as err:
        connection.close()
        connections.pop(key, None)
        raise ConnectionError(f"{type(err).__name__}: {err}") from err
    if response.will_close:
        connection.close()
        connections.pop(key, None)
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data
