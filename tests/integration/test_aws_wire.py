"""The light AWS client of the webhook path (chalicelib/aws.py): signed as botocore signs, correct
against a moto server over real HTTP, retried like botocore's standard mode, and failing as
EnqueueFailed / 503 as the boto3 path did. In Lambda it replaces boto3 on the webhook's cold start."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest

from chalicelib import aws, backoff, config, queues
from chalicelib.errors import EnqueueFailed

REGION = "eu-west-1"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def moto_server():
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def wire(monkeypatch, moto_server):
    """The environment of a function in Lambda, pointed at the moto server."""
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_SECRETSMANAGER"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDWIRE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wire-secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "wire-token")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "social-care-desk-dev")
    monkeypatch.setattr(backoff.random, "random", lambda: 0.0)  # no backoff sleeps in tests
    aws.reset()
    yield boto3.client("sqs", region_name=REGION, endpoint_url=moto_server)
    aws.reset()


def _received(sqs, url: str) -> list[str]:
    bodies: list[str] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return bodies
        bodies += [m["Body"] for m in got]
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])


def test_the_signature_is_botocores():
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    now = datetime(2026, 11, 27, 8, 30, 5, tzinfo=timezone.utc)
    body = b'{"QueueUrl":"https://sqs.eu-west-1.amazonaws.com/1/q","Entries":[{"Id":"0","MessageBody":"h\\u00e9"}]}'
    for url, token in (("https://sqs.eu-west-1.amazonaws.com/", "session"), ("http://127.0.0.1:4566/", None)):
        headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.SendMessageBatch"}
        ours = aws.sign("POST", url, headers, body, "sqs", REGION, "AKID", "secret", token, now)
        theirs = AWSRequest(method="POST", url=url, data=body, headers=dict(headers))
        signer = SigV4Auth(Credentials("AKID", "secret", token), "sqs", REGION)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr("botocore.auth.get_current_datetime", lambda: now.replace(tzinfo=None))
            signer.add_auth(theirs)
        assert ours["Authorization"] == theirs.headers["Authorization"]
        assert ours["X-Amz-Date"] == theirs.headers["X-Amz-Date"]
        assert ours.get("X-Amz-Security-Token") == theirs.headers.get("X-Amz-Security-Token")


def test_batches_reach_the_queue_in_order_through_the_wire_client(wire, monkeypatch):
    url = wire.create_queue(QueueName="wire-ingest")["QueueUrl"]
    called = []
    monkeypatch.setattr(aws, "client", lambda service: called.append(service))  # boto3 is never used
    bodies = [json.dumps({"n": i, "text": "tilaukseni on myöhässä ✓"}) for i in range(23)]
    assert queues.send_all(url, bodies) == 23
    assert _received(wire, url) == bodies
    assert called == []


def test_a_missing_queue_is_enqueue_failed_and_the_webhook_answers_503(wire, monkeypatch):
    from chalicelib import ingest
    from infra.local import payloads as p

    url = wire.create_queue(QueueName="wire-ingest")["QueueUrl"]
    with pytest.raises(EnqueueFailed) as raised:
        queues.send_all(url + "-missing", ["{}"])
    assert "NonExistentQueue" in str(raised.value) or "QueueDoesNotExist" in str(raised.value)

    monkeypatch.setenv("META_APP_SECRET", "wire-meta")
    monkeypatch.setenv("INGEST_QUEUE_URL", url + "-missing")
    config.reset()
    body = p.encode(p.meta_payload("page", [p.meta_entry("104000000000001", messaging=[
        p.messenger_event("104000000000001", "6000000001", "m_wire", text="hello")])]))
    answer = ingest.handle_webhook("meta", body, p.sign_meta(body, "wire-meta"))
    assert answer.status == 503
    monkeypatch.setenv("INGEST_QUEUE_URL", url)
    answer = ingest.handle_webhook("meta", body, p.sign_meta(body, "wire-meta"))
    assert answer.status == 200 and answer.body["accepted"] == 1
    assert json.loads(_received(wire, url)[0])["mention"]["external_id"] == "m_wire"
    config.reset()


def test_the_platform_secret_comes_from_secrets_manager_through_the_wire_client(wire, moto_server, monkeypatch):
    sm = boto3.client("secretsmanager", region_name=REGION, endpoint_url=moto_server)
    sm.create_secret(Name="wire/platform", SecretString=json.dumps({"META_APP_SECRET": "from-sm", "OTHER": "x"}))
    assert json.loads(aws.get_secret_string("wire/platform"))["META_APP_SECRET"] == "from-sm"
    with pytest.raises(aws.CallFailed) as raised:
        aws.get_secret_string("wire/none")
    assert raised.value.code == "ResourceNotFoundException" and raised.value.status >= 400

    for key in config.SECRET_KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PLATFORM_SECRET_ID", "wire/platform")
    config.reset()
    assert config.secrets().get("META_APP_SECRET") == "from-sm"
    config.reset()


class _Scripted(BaseHTTPRequestHandler):
    """Answers each POST with the next (status, body) of `script`, and records what it got."""

    script: list[tuple[int, dict]] = []
    seen: list[dict] = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append({"headers": dict(self.headers), "body": json.loads(body)})
        status, answer = type(self).script.pop(0)
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def scripted(monkeypatch, wire):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_address[1]}")
    _Scripted.script, _Scripted.seen = [], []
    aws.reset()
    yield _Scripted
    server.shutdown()
    server.server_close()


def _ok(entries):
    import hashlib

    return {"Successful": [{"Id": e["Id"], "MessageId": e["Id"], "MD5OfMessageBody": hashlib.md5(
        e["MessageBody"].encode()).hexdigest()} for e in entries]}


def test_5xx_and_throttling_are_retried_like_botocore_standard_mode(scripted):
    entries = [{"Id": "0", "MessageBody": "a"}]
    scripted.script = [(503, {"__type": "ServiceUnavailable"}),
                       (400, {"__type": "com.amazonaws.sqs#ThrottlingException", "message": "slow down"}),
                       (200, _ok(entries))]
    assert aws.send_message_batch("http://q/1/q", entries)["Successful"][0]["Id"] == "0"
    assert len(scripted.seen) == 3
    first = scripted.seen[0]["headers"]
    assert first["X-Amz-Target"] == "AmazonSQS.SendMessageBatch"
    assert first["X-Amz-Security-Token"] == "wire-token"
    assert first["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDWIRE/")
    assert "/eu-west-1/sqs/aws4_request" in first["Authorization"]
    assert scripted.seen[0]["body"] == {"QueueUrl": "http://q/1/q", "Entries": entries}

    scripted.seen.clear()
    scripted.script = [(500, {})] * 3
    with pytest.raises(aws.CallFailed) as raised:
        aws.send_message_batch("http://q/1/q", entries)
    assert raised.value.status == 500 and len(scripted.seen) == 3  # three attempts, then it gives up


def test_a_client_error_is_not_retried_and_a_bad_checksum_is_a_failed_entry(scripted):
    entries = [{"Id": "0", "MessageBody": "a"}, {"Id": "1", "MessageBody": "b"}]
    scripted.script = [(400, {"__type": "com.amazonaws.sqs#InvalidParameterValue", "message": "no"})]
    with pytest.raises(aws.CallFailed) as raised:
        aws.send_message_batch("http://q/1/q", entries)
    assert raised.value.code == "InvalidParameterValue" and len(scripted.seen) == 1

    answer = _ok(entries)
    answer["Successful"][1]["MD5OfMessageBody"] = "0" * 32
    scripted.script = [(200, answer), (200, _ok(entries[1:]))]
    assert queues.send_all("http://q/1/q", ["a", "b"]) == 2  # queues resends the one SQS may not have
    assert [e["MessageBody"] for e in scripted.seen[-1]["body"]["Entries"]] == ["b"]


def test_an_unreachable_endpoint_is_enqueue_failed_after_three_attempts(wire, monkeypatch):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    with pytest.raises(EnqueueFailed, match="ConnectionError"):
        queues.send_all("http://127.0.0.1/1/q", ["{}"])


def test_the_endpoint_is_botocores_choice(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_SQS", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-north-1")
    assert aws.endpoint("sqs") == "https://sqs.eu-north-1.amazonaws.com"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "cn-north-1")
    assert aws.endpoint("secretsmanager") == "https://secretsmanager.cn-north-1.amazonaws.com.cn"
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:4566/")
    assert aws.endpoint("sqs") == "http://localhost:4566"
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", "http://localhost:9324")
    assert aws.endpoint("sqs") == "http://localhost:9324"


def test_outside_lambda_with_no_endpoint_the_calls_go_through_boto3(monkeypatch):
    """A profile or SSO login, or moto's in-process mock (which patches botocore): boto3's path."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "a")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "b")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    assert not aws._wire()
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "f")
    assert aws._wire()
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    assert not aws._wire()


def test_serving_a_webhook_in_lambda_loads_neither_boto3_nor_botocores_clients(moto_server):
    """The cold start's guard: what `python -m bench coldstart` times, minus the clock. In Lambda's
    environment (bench/coldstart.py's), the first signed X webhook, its secret from Secrets Manager,
    reaches the queue without boto3, botocore's modules (its signer included) or s3transfer."""
    sys.path.insert(0, str(ROOT))
    from bench import coldstart as bench

    kw = {"region_name": REGION, "endpoint_url": moto_server, "aws_access_key_id": "a", "aws_secret_access_key": "b"}
    url = boto3.client("sqs", **kw).create_queue(QueueName="wire-cold")["QueueUrl"]
    secrets = boto3.client("secretsmanager", **kw)
    try:
        secrets.create_secret(Name=bench.SECRET_ID, SecretString=json.dumps({"X_CONSUMER_SECRET": bench.X_SECRET}))
    except secrets.exceptions.ResourceExistsException:
        pass
    code = ("import json, sys, app; answer = app.app(json.loads(sys.stdin.read()), None); "
            "print(json.dumps([answer['statusCode'], sorted(m for m in sys.modules if m.split('.')[0] in "
            "('boto3', 'botocore', 's3transfer'))]))")
    done = subprocess.run([sys.executable, "-c", code], input=json.dumps(bench.x_event()), cwd=ROOT,
                          env=bench.lambda_env(moto_server, url), capture_output=True, text=True, check=True)
    status, loaded = json.loads(done.stdout.splitlines()[-1])
    assert status == 200
    assert not [m for m in loaded if m.startswith(("boto3", "botocore.", "s3transfer"))], loaded
    assert len(_received(boto3.client("sqs", **kw), url)) == 1
