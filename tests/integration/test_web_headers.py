"""The web UI's answers carry a strict Content-Security-Policy and anti-framing headers, and the UI's
files contain nothing that policy would refuse (inline script or style, event-handler attributes,
HTML strings). The browser tests (tests/browser) then run the whole UI under the policy and fail
on any violation; this is the quick check that needs no browser.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "chalicelib" / "web"
UI_PATHS = ["/", "/ui/app.js", "/ui/app.css", "/ui/favicon.svg", "/ui/conversation.js", "/auth/config", "/ui/nothing.js"]


def policy(header: str) -> dict[str, list[str]]:
    directives = [d.split() for d in header.split(";") if d.strip()]
    return {d[0]: d[1:] for d in directives}


@pytest.mark.parametrize("path", UI_PATHS)
def test_every_ui_answer_carries_the_policy_and_refuses_framing(desk, path):
    answer = desk.client.http.get(path)
    assert answer.status_code == (404 if "nothing" in path else 200)
    headers = answer.headers
    csp = policy(headers["Content-Security-Policy"])
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]  # no inline, no eval
    assert csp["connect-src"] == ["'self'"] and csp["img-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["require-trusted-types-for"] == ["'script'"]
    assert not re.search(r"'unsafe-|\*|data:|https?:", headers["Content-Security-Policy"])
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_the_policy_holds_when_the_desk_signs_in_through_a_hosted_ui(desk, aws_env):
    """The hosted UI is reached by a link and comes back by a redirect: the policy need not name it."""
    aws_env.setenv("COGNITO_USER_POOL_ID", "eu-west-1_Pool1")
    aws_env.setenv("COGNITO_APP_CLIENT_ID", "client-1")
    aws_env.setenv("COGNITO_HOSTED_UI_URL", "https://desk.auth.eu-west-1.amazoncognito.com")
    for path in ("/", "/auth/config"):
        csp = policy(desk.client.http.get(path).headers["Content-Security-Policy"])
        assert csp["connect-src"] == ["'self'"] and csp["form-action"] == ["'self'"]


class _Inline(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "style":
            self.found.append("<style> element")
        if tag == "script" and not names.get("src"):
            self.found.append("inline <script>")
        self.found += [f"{tag} {name}=" for name in names if name == "style" or name.startswith("on")]
        self.found += [f"{tag} {name}={value}" for name, value in attrs
                       if name in ("href", "src", "action") and value and value.lower().startswith(("javascript:", "data:"))]


def test_index_html_has_no_inline_script_style_or_handlers():
    parser = _Inline()
    parser.feed((WEB / "index.html").read_text(encoding="utf-8"))
    assert parser.found == []


@pytest.mark.parametrize("name", sorted(p.name for p in WEB.glob("*.js")))
def test_no_script_builds_html_from_strings_or_style_attributes(name):
    source = (WEB / name).read_text(encoding="utf-8")
    refused = [r"\.innerHTML\s*=", r"\.outerHTML\s*=", r"insertAdjacentHTML", r"document\.write", r"\beval\(",
               r"new Function\(", r"setAttribute\(\s*[\"']style", r"setAttribute\(\s*[\"']on", r"\bstyle:\s*[`\"']"]
    assert [p for p in refused if re.search(p, source)] == []
