"""`python -m infra.local up`, as `make run` starts it: real processes, real HTTP, moto server.

The replayed corpus must become tickets through the real webhook routes, the SNS email path
and the X poller; the commands must read a running stack through the environment.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from infra.local import corpus

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    ports = {"AWS_PORT": _free_port(), "API_PORT": _free_port(), "SANDBOX_PORT": _free_port()}
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "X_", "META_", "API_CHANNEL", "LOCAL_", "TABLE_", "INGEST_", "ROUTING_",
                                "OUTBOUND_", "MODEL_", "GRAPH_", "PLATFORM_"))}
    env.update({k: str(v) for k, v in ports.items()})
    env["LOCAL_STATE_DIR"] = str(tmp_path_factory.mktemp("state"))
    log = (tmp_path_factory.mktemp("log") / "up.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "infra.local", "up"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    api = f"http://127.0.0.1:{ports['API_PORT']}"
    try:
        _wait(lambda: requests.get(f"{api}/api/health", timeout=2).status_code == 200, 60)
        yield {"api": api, "env": env, "sandbox": f"http://127.0.0.1:{ports['SANDBOX_PORT']}", "log": log.name}
    finally:
        # SIGTERM lets the workers finish the batch in hand (about 4 s idle, longer on a machine busy
        # with the rest of the suite); a stack that will not stop is killed so it cannot outlive the
        # tests, and the wait never fails a test that passed.
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _wait(check, seconds: float):
    deadline = time.time() + seconds
    while True:
        try:
            if check():
                return
        except requests.RequestException:
            pass
        if time.time() > deadline:
            raise TimeoutError("stack did not get there in time")
        time.sleep(0.5)


def _cli(running, *args) -> str:
    return subprocess.run([sys.executable, "-m", "infra.local", *args], cwd=ROOT, env=running["env"],
                          check=True, capture_output=True, text=True, timeout=120).stdout


def _tickets(running) -> list[dict]:
    return [json.loads(line) for line in _cli(running, "tickets").splitlines()]


def test_every_replayed_mention_becomes_a_ticket_message_within_a_minute(running):
    lines = corpus.load()

    def all_there():
        texts = [m["text"] for t in _tickets(running) for m in t["messages"]]
        return all(any(line["text"] in text for text in texts) for line in lines)

    _wait(all_there, 60)
    tickets = _tickets(running)
    assert {t["channel"] for t in tickets} == {"x", "facebook", "instagram", "whatsapp", "email", "api"}
    assert sum(len(t["messages"]) for t in tickets) == len(lines)  # none lost, none twice
    for t in tickets:
        assert t["status"] == "open" and 0 <= t["priority"] <= 100 and t["customer_id"]
        assert all(m["direction"] == "in" and m["platform_message_id"] for m in t["messages"])


def test_the_unknown_shape_was_quarantined_and_the_unsigned_request_left_no_trace(running):
    _wait(lambda: _cli(running, "quarantine").strip() != "", 30)
    rows = [json.loads(line) for line in _cli(running, "quarantine").splitlines()]
    assert [r["route"] for r in rows] == ["/webhooks/meta"]
    assert set(rows[0]) == {"id", "route", "reason", "received_at"}
    assert not any("spoof" in m["text"] for t in _tickets(running) for m in t["messages"])


def _mention_polls(running) -> list[dict]:
    recorded = requests.get(f"{running['sandbox']}/_sandbox/requests", timeout=5).json()["requests"]
    return [r for r in recorded if r["path"].endswith("/mentions")]


def test_the_poller_read_the_sandbox_over_http(running):
    _wait(lambda: _mention_polls(running), 30)
    calls = _mention_polls(running)
    assert calls and calls[0]["method"] == "GET" and calls[0]["headers"]
    assert "public_metrics" in calls[0]["query"]["user.fields"]


def test_the_api_lists_tickets_by_priority_for_a_token_and_refuses_without(running):
    token = _cli(running, "token", "--agent", "zofia", "--role", "agent").strip()
    assert requests.get(f"{running['api']}/api/tickets", timeout=5).status_code == 401
    _wait(lambda: len(_tickets(running)) >= 6, 60)
    page = requests.get(f"{running['api']}/api/tickets", params={"limit": 5},
                        headers={"Authorization": f"Bearer {token}"}, timeout=5).json()
    priorities = [t["priority"] for t in page["items"]]
    assert len(priorities) == 5 and priorities == sorted(priorities, reverse=True)
    assert page["next_cursor"]
    one = requests.get(f"{running['api']}/api/tickets/{page['items'][0]['id']}",
                       headers={"Authorization": f"Bearer {token}"}, timeout=5).json()
    assert one["messages"] and one["customer"]["identities"]


def test_webhook_handshakes_answer_over_http(running):
    secrets = json.loads((Path(running["env"]["LOCAL_STATE_DIR"]) / "secrets.json").read_text())
    crc = requests.get(f"{running['api']}/webhooks/x", params={"crc_token": "abcdefgh12"}, timeout=5)
    assert crc.status_code == 200 and crc.json()["response_token"].startswith("sha256=")
    ok = requests.get(f"{running['api']}/webhooks/meta", timeout=5, params={
        "hub.mode": "subscribe", "hub.verify_token": secrets["META_VERIFY_TOKEN"], "hub.challenge": "1158201444"})
    assert (ok.status_code, ok.text) == (200, "1158201444")
    bad = requests.get(f"{running['api']}/webhooks/meta", timeout=5, params={
        "hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1158201444"})
    assert bad.status_code == 403


def test_drain_processes_what_is_queued_and_exits(running):
    counts = json.loads(_cli(running, "drain", "--max-seconds", "30").strip().splitlines()[-1])
    assert set(counts) >= {"social-care-ingest", "social-care-routing"}


def _all_tickets(running, token) -> list[dict]:
    items, cursor = [], None
    while True:
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = requests.get(f"{running['api']}/api/tickets", params=params, timeout=10,
                            headers={"Authorization": f"Bearer {token}"}).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


@pytest.mark.parametrize("channel, visibility, path", [
    ("whatsapp", "private", "/v21.0/{account}/messages"),
    ("x", "public", "/2/tweets"),
    ("api", "private", "/hooks/{account}/replies"),  # http to the sandbox on loopback: allowed locally only
])
def test_a_reply_through_the_api_reaches_the_right_platform_and_shows_sent(running, channel, visibility, path):
    token = _cli(running, "token", "--agent", "ana", "--role", "agent").strip()
    auth = {"Authorization": f"Bearer {token}"}
    _wait(lambda: any(t["channel"] == channel and t["kind"] != "dm" for t in _all_tickets(running, token)), 60)
    ticket = next(t for t in _all_tickets(running, token) if t["channel"] == channel and t["kind"] != "dm")
    text = f"Thanks for writing, we are on it ({channel} {time.time():.0f})"
    answer = requests.post(f"{running['api']}/api/tickets/{ticket['id']}/replies", headers=auth, timeout=10,
                           json={"text": text, "visibility": visibility})
    assert answer.status_code == 202, answer.text

    def reached_platform():
        recorded = requests.get(f"{running['sandbox']}/_sandbox/requests", timeout=5).json()["requests"]
        return [r for r in recorded if r["method"] == "POST" and r["path"] == path.format(
            account=ticket["brand_account_id"]) and text in r["body"]]

    _wait(reached_platform, 30)
    assert len(reached_platform()) == 1

    def shown_sent():
        shown = requests.get(f"{running['api']}/api/tickets/{ticket['id']}", headers=auth, timeout=5).json()
        [reply] = [m for m in shown["messages"] if m["direction"] == "out" and m["text"] == text]
        return reply["status"] == "sent" and shown["first_response_at"] and reply

    _wait(shown_sent, 30)
    if channel == "whatsapp":  # the sandbox echoes WhatsApp's statuses to the desk's webhook
        _wait(lambda: (shown_sent() or {}).get("delivery_status") == "read", 30)  # receipts arrive in time
