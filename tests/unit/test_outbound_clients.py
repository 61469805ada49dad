"""How platform answers are read: what is retried and when, what is final, what is an auth error
(the HTTP helper, chalicelib/channels/http.py, and each platform's answers in its channel package)."""
from __future__ import annotations

import json
import time

import pytest

from chalicelib.channels import http as clients
from chalicelib.channels.meta import graph
from chalicelib.channels.x import send as x
from chalicelib.errors import Ambiguous, AuthFailed, Permanent, Retry


def _reply(status: int, body=None, **headers) -> clients.Reply:
    return clients.Reply(status, {k.replace("_", "-"): v for k, v in headers.items()}, body)


def test_x_429_waits_until_the_window_resets():
    with pytest.raises(Retry) as err:
        x.check(_reply(429, {"title": "Too Many Requests"}, x_rate_limit_reset=str(int(time.time()) + 300)), 1)
    assert 295 <= err.value.after <= 300 and err.value.code == "429"


def test_x_5xx_backs_off_by_attempt_and_401_is_an_auth_failure():
    with pytest.raises(Retry) as err:
        x.check(_reply(503, {"title": "Service Unavailable"}), 3)
    assert err.value.after == 4
    with pytest.raises(AuthFailed):
        x.check(_reply(401, {"title": "Unauthorized", "detail": "Unauthorized"}), 1)


def test_x_duplicate_content_means_an_earlier_attempt_landed():
    body = {"detail": "You are not allowed to create a Tweet with duplicate content.", "status": 403}
    with pytest.raises(Ambiguous):
        x.check(_reply(403, body), 2)
    with pytest.raises(Permanent) as err:
        x.check(_reply(403, {"detail": "You are not permitted to reply to this conversation."}), 1)
    assert "not permitted" in err.value.reason


def test_meta_rate_limit_waits_for_the_business_use_case_estimate():
    usage = json.dumps({"104": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 7}]})
    with pytest.raises(Retry) as err:
        graph.check(_reply(400, {"error": {"code": 80001, "message": "(#80001) too many calls"}},
                                    **{"X-Business-Use-Case-Usage": usage}), 1)
    assert err.value.after == 420 and err.value.code == "80001"


def test_meta_app_usage_at_its_limit_waits_a_minute_and_otherwise_a_second():
    assert graph.wait({"X-App-Usage": json.dumps({"call_count": 100, "total_time": 12})}) == 60
    assert graph.wait({"X-App-Usage": json.dumps({"call_count": 40})}) == 1
    assert graph.wait({"X-Business-Use-Case-Usage": "not json"}) == 1


@pytest.mark.parametrize("error, expected", [
    ({"code": 190, "error_subcode": 463, "message": "Session has expired"}, AuthFailed),
    ({"code": 2, "message": "Service temporarily unavailable", "is_transient": True}, Retry),
    ({"code": 131047, "message": "(#131047) Re-engagement message"}, Permanent),
    ({"code": 10, "error_subcode": 2018278, "message": "(#10) outside of allowed window"}, Permanent),
    ({"code": 130429, "message": "Rate limit hit"}, Retry),
])
def test_graph_errors_by_code(error, expected):
    with pytest.raises(expected):
        graph.check(_reply(400, {"error": error}), 1)


def test_graph_permanent_reasons_speak_to_the_agent():
    with pytest.raises(Permanent) as err:
        graph.check(_reply(400, {"error": {"code": 131047, "message": "(#131047) Re-engagement message"}}), 1)
    assert "24 hours" in err.value.reason and "template" in err.value.reason


def test_unreachable_platform_is_a_retry_and_never_ambiguous():
    with pytest.raises(Retry):
        clients.http("POST", "http://127.0.0.1:9/2/tweets", body={"text": "x"}, timeout=0.5)


def test_tokens_travel_only_in_the_authorization_header(monkeypatch):
    seen = {}

    class Opener:
        def open(self, request, timeout):
            seen.update(url=request.full_url, headers=dict(request.header_items()), data=request.data)
            raise clients.urllib.error.URLError(OSError("refused"))

    monkeypatch.setattr(clients, "_OPENER", Opener())
    with pytest.raises(Retry) as err:
        clients.http("POST", "https://graph.example/v21.0/1/comments", token="secret-token", body={"message": "hi"})
    assert seen["headers"]["Authorization"] == "Bearer secret-token"
    assert "secret-token" not in seen["url"] + seen["data"].decode() + err.value.reason


def test_a_receivers_answer_is_read_only_so_far_and_never_crashes_the_worker():
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    sent = {}

    class Hostile(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            body = b"[" * 100_000 + b"]" * 100_000 if self.path == "/deep" else b"x" * (16 * 1024 * 1024)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
                sent[self.path] = len(body)
            except (BrokenPipeError, ConnectionResetError):
                sent[self.path] = "cut"

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        # Given a receiver answering 16 MiB, and one answering JSON nested 100,000 deep
        huge = clients.http("GET", base + "/huge")
        deep = clients.http("GET", base + "/deep")
    finally:
        server.shutdown()
    # Then each is read up to the limit, kept only as a short text, and nothing raised
    assert huge.status == deep.status == 200
    assert len(huge.body["raw"]) <= clients.ERROR_TEXT_LIMIT and len(deep.body["raw"]) <= clients.ERROR_TEXT_LIMIT
