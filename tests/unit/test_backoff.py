"""The desk's one retry backoff (chalicelib/backoff.py): the channels' delays and the AWS wire
client's jittered sleeps are the same curve."""
from chalicelib import aws, backoff
from chalicelib.channels import http


def test_the_channels_backoff_doubles_to_five_minutes_without_jitter():
    assert [http.backoff(a) for a in range(0, 11)] == [1, 1, 2, 4, 8, 16, 32, 64, 128, 256, 300]
    assert http.backoff(10_000) == 300.0  # a message received many times: no overflow


def test_the_wire_clients_backoff_is_the_same_curve_with_full_jitter(monkeypatch):
    monkeypatch.setattr(backoff.random, "random", lambda: 0.999)
    assert [round(backoff.exponential(a, cap=aws.MAX_BACKOFF_SECONDS, jitter=True), 2) for a in (1, 2, 3, 6)] == [
        1.0, 2.0, 4.0, 19.98]  # botocore's standard mode: a draw below min(20, 2 ** (attempt - 1))
    monkeypatch.setattr(backoff.random, "random", lambda: 0.0)
    assert backoff.exponential(3, cap=20, jitter=True) == 0.0


def test_the_wire_client_sleeps_the_shared_backoff_between_attempts(monkeypatch):
    slept, calls = [], []
    monkeypatch.setattr(aws.time, "sleep", slept.append)
    monkeypatch.setattr(backoff.random, "random", lambda: 0.5)

    def refused(url, headers, body):
        calls.append(url)
        raise ConnectionRefusedError("no")

    monkeypatch.setattr(aws, "_post", refused)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "a")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "b")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    try:
        aws._call("sqs", "AmazonSQS.SendMessageBatch", "1.0", {})
    except aws.CallFailed as failed:
        assert failed.code == "ConnectionRefusedError"
    else:
        raise AssertionError("an unreachable endpoint must fail")
    assert len(calls) == aws.MAX_ATTEMPTS and slept == [0.5, 1.0]
