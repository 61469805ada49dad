"""An admin cannot point the API channel's callback at the desk's own network (SSRF).

The URL is checked when it is saved (PATCH /api/accounts → 400 naming callback_url) and again
when a reply is sent, since DNS can change in between; the worker connects to the address it
checked, follows no redirect, and shows the agent nothing of the receiver's answer. The platform
sandbox on loopback stands in for an internal service: outside local mode it must never see a
request.
"""
from __future__ import annotations

import json
import socket

import pytest

from chalicelib import netguard
from chalicelib.auth import mint
from infra.local import payloads as p
from tests.conftest import TEST_SECRETS
from tests.integration.test_outbound import API_CHANNEL, out  # noqa: F401 - the fixture
from tests import stored

PUBLIC = "93.184.215.14"


def _admin(desk, method, path, body):
    answer = getattr(desk.client.http, method)(path, body=json.dumps(body), headers={
        "Authorization": f"Bearer {mint('root', 'admin', TEST_SECRETS['LOCAL_JWT_SECRET'])}",
        "Content-Type": "application/json"})
    return answer.status_code, json.loads(answer.body or b"null")


def resolving(table: dict):
    """getaddrinfo answering from `table` (host -> address); anything else does not resolve."""
    def resolve(host, port, *_):
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (table[host], port))]
    return resolve


@pytest.fixture
def remote(aws_env):
    """The desk as deployed: not local, so loopback is as internal as any private address."""
    aws_env.delenv("DESK_LOCAL", raising=False)


def _api_ticket(out) -> dict:
    body = json.dumps(p.api_body("web-7", "visitor-7", "Visitor", "Chat: where is my order?",
                                 thread_id="chat-7", channel_id=API_CHANNEL)).encode()
    out.desk.client.http.post("/webhooks/api", body=body, headers={
        "Content-Type": "application/json", **p.sign_api(body, TEST_SECRETS["API_CHANNEL_SECRET"])})
    return out.ticket()


# --- when the URL is saved ---------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "https://169.254.169.254/latest/meta-data/",
    "https://2852039166/latest/meta-data/",
    "https://[::ffff:169.254.169.254]/latest/meta-data/",
    "https://metadata.internal.example/latest/meta-data/",
    "https://10.0.0.12/hooks",
    "https://localhost/hooks",
    "http://hooks.nordlight.example/replies",
    "https://admin:secret@hooks.nordlight.example/replies",
])
def test_an_internal_or_plain_http_callback_url_is_refused_when_saved(out, remote, monkeypatch, url):
    monkeypatch.setattr(netguard, "resolver", resolving({"metadata.internal.example": "169.254.169.254",
                                                         "localhost": "127.0.0.1",
                                                         "hooks.nordlight.example": PUBLIC}))
    before = out.store.accounts.get("api", API_CHANNEL).callback_url
    status, answer = _admin(out.desk, "patch", f"/api/accounts/api/{API_CHANNEL}", {"callback_url": url})
    assert status == 400 and answer["error"].startswith("callback_url: ")
    assert out.store.accounts.get("api", API_CHANNEL).callback_url == before


def test_a_public_https_callback_url_is_saved(out, remote, monkeypatch):
    monkeypatch.setattr(netguard, "resolver", resolving({"hooks.nordlight.example": PUBLIC}))
    status, account = _admin(out.desk, "patch", f"/api/accounts/api/{API_CHANNEL}",
                             {"callback_url": "https://hooks.nordlight.example/replies"})
    assert status == 200 and account["callback_url"] == "https://hooks.nordlight.example/replies"


# --- when a reply is sent ----------------------------------------------------------------------

def test_a_host_that_now_resolves_inside_is_refused_at_send_time_and_nothing_is_posted(out, remote, monkeypatch):
    # Given a callback URL saved while its host resolved to a public address
    port = out.sandbox.url.rsplit(":", 1)[1]
    monkeypatch.setattr(netguard, "resolver", resolving({"hooks.nordlight.example": PUBLIC}))
    assert _admin(out.desk, "patch", f"/api/accounts/api/{API_CHANNEL}",
                  {"callback_url": f"https://hooks.nordlight.example:{port}/hooks/nordlight/replies"})[0] == 200
    ticket = _api_ticket(out)
    # When its DNS now answers loopback, where an internal service (the sandbox) listens
    monkeypatch.setattr(netguard, "resolver", resolving({"hooks.nordlight.example": "127.0.0.1"}))
    message = out.send(ticket["id"], "Your order ships today.", "private")
    # Then the reply fails with the reason, and the internal service saw nothing
    assert message["status"] == "failed"
    assert "resolves to a loopback address" in message["error"]["reason"]
    assert out.sandbox.requests_to("/hooks") == []


def test_a_stored_metadata_url_is_refused_before_any_connection(out, remote, monkeypatch):
    # Given a metadata URL that reached the table without the API's check (an old item, an import)
    stored.put_account(out.store, "api", API_CHANNEL, status="active", brand="nordlight",
                          callback_url="http://169.254.169.254/latest/meta-data/iam/security-credentials/")
    connections = []
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: connections.append(a) or 1 / 0)
    ticket = _api_ticket(out)
    message = out.send(ticket["id"], "Hello", "private")
    assert message["status"] == "failed" and "metadata" in message["error"]["reason"]
    assert connections == []


def test_locally_the_worker_connects_to_the_address_it_checked(out, monkeypatch):
    # Given the local stack (DESK_LOCAL=1) and a host name only our checked lookup knows
    port = out.sandbox.url.rsplit(":", 1)[1]
    monkeypatch.setattr(netguard, "resolver", resolving({"hooks.desk.test": "127.0.0.1"}))
    stored.put_account(out.store, "api", API_CHANNEL, status="active", brand="nordlight",
                          callback_url=f"http://hooks.desk.test:{port}/hooks/nordlight/replies")
    ticket = _api_ticket(out)
    message = out.send(ticket["id"], "Pinned.", "private")
    # Then the post reached that address (the system resolver was never asked: it knows no such
    # host), with the URL's host in the Host header
    assert message["status"] == "sent"
    [request] = out.sandbox.requests_to("/hooks/nordlight/replies")
    assert request["headers"]["Host"] == f"hooks.desk.test:{port}"


def test_a_redirect_is_not_followed(out):
    out.sandbox.fail_next("/hooks/nordlight/replies", status=302,
                          headers={"Location": f"{out.sandbox.url}/hooks/internal/admin"}, body={})
    ticket = _api_ticket(out)
    message = out.send(ticket["id"], "Hello", "private")
    assert message["status"] == "failed" and "redirect" in message["error"]["reason"]
    assert out.sandbox.requests_to("/hooks/internal") == []


@pytest.mark.parametrize("status", [200, 400])
def test_nothing_of_the_receivers_answer_reaches_the_agent(out, status):
    leaked = {"id": "AKIA" + "X" * 200, "AccessKeyId": "AKIAINTERNAL", "SecretAccessKey": "internal-secret"}
    out.sandbox.fail_next("/hooks/nordlight/replies", status=status, body=leaked)
    ticket = _api_ticket(out)
    message = out.send(ticket["id"], "Hello", "private")
    shown = json.dumps(json.loads(out.desk.client.http.get(f"/api/tickets/{ticket['id']}", headers=out.agent_headers()
                                                           ).body)["messages"])
    assert "AKIA" not in shown and "internal-secret" not in shown
    assert message["status"] == ("sent" if status == 200 else "failed")
    if status == 200:
        assert message["platform_message_id"] == message["id"]  # not the receiver's oversized "id"
