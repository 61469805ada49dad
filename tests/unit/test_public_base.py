"""Where the desk's public pages are (the CSAT survey page's links): DESK_PUBLIC_URL when the stage
sets it, else the API address of the request being served, as API Gateway's request context names
it, so a deployed stage makes working links without configuration."""
from __future__ import annotations

import contextvars

from chalicelib import env


def _in_request(context, fn):
    def run():
        env.serving(context)
        return fn()
    return contextvars.copy_context().run(run)


def test_the_request_context_gives_the_apis_address(monkeypatch):
    monkeypatch.delenv("DESK_PUBLIC_URL", raising=False)
    context = {"domainName": "abc123.execute-api.eu-west-1.amazonaws.com", "stage": "api", "requestId": "r"}
    assert _in_request(context, env.public_base) == "https://abc123.execute-api.eu-west-1.amazonaws.com/api"


def test_the_environment_wins_and_none_known_is_empty(monkeypatch):
    monkeypatch.setenv("DESK_PUBLIC_URL", "https://care.example.com/")
    assert _in_request({"domainName": "abc.execute-api.eu-west-1.amazonaws.com", "stage": "api"},
                       env.public_base) == "https://care.example.com"
    monkeypatch.delenv("DESK_PUBLIC_URL")
    assert _in_request({}, env.public_base) == ""  # chalice local: no domain in its context
    assert _in_request({"domainName": "localhost", "stage": "api"}, env.public_base) == ""
    assert _in_request(None, env.public_base) == ""


def test_each_request_sets_its_own(monkeypatch):
    monkeypatch.delenv("DESK_PUBLIC_URL", raising=False)
    first = _in_request({"domainName": "one.execute-api.eu-west-1.amazonaws.com", "stage": "api"}, env.public_base)
    second = _in_request({}, env.public_base)
    assert first.startswith("https://one.") and second == ""
