"""Issue 16, point 3, in a real browser against the local stack: a brand's history imported with
`python -m chalicelib.history import FILE` (TABLE_NAME and AWS_ENDPOINT_URL pointing at the stack)
shows as "Suggested" answers above the reply box for a similar ticket, each with its why on hover and
focus (keyboard reachable), a brand template that fits among them (filled for the customer); one
click inserts one (the customer named) and it is sent: the platform
sandbox receives exactly that text. Screenshots: build/screenshots/suggestions.png (the strip, a
why shown) and suggestions-sent.png (the inserted suggestion sent).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import requests
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, sign_in, wait_for
from tests.browser.test_desk_ui import post_tweet, request_body, ticket_with

expect.set_options(timeout=15_000)
ROOT = Path(__file__).resolve().parents[2]
BAGGAGE = ("We're so sorry, {{customer.name}}! Please file a missing-baggage report at aegean.example/bags "
           "and we will trace your suitcase within 48 hours.")


def _history(path: Path, marker: str) -> None:
    rows = [
        ("my suitcase did not arrive in Athens", BAGGAGE.replace("{{customer.name}}", "Maria"), True, 5),
        ("my suitcase never arrived on the flight from Helsinki", BAGGAGE.replace("{{customer.name}}", "Jonas"), True, 4),
        ("lost luggage, the suitcase is not on the belt", BAGGAGE, True, None),
        ("can I change my seat online?", "Yes: Manage booking > Seats, up to 24 hours before departure.", True, None),
        ("how much is an extra bag?", "An extra checked bag is 35 EUR online, 50 EUR at the airport.", None, None),
    ]
    lines = [json.dumps({"brand": "aegean", "channel": "x", "customer_text": f"{question} ({marker}{i})",
                         "reply_text": reply, "language": "en", "resolved": resolved, "csat": csat,
                         "at": f"2026-10-0{i + 1}T10:00:00Z"}) for i, (question, reply, resolved, csat) in enumerate(rows)]
    path.write_text("\n".join(line.replace(', "csat": null', "").replace(', "resolved": null', "") for line in lines) + "\n")


def _import(stack, path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ENDPOINT_URL": stack.aws_endpoint, "TABLE_NAME": "social-care-desk",
                "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_DEFAULT_REGION": (stack.state_dir / "region").read_text().strip()
                if (stack.state_dir / "region").exists() else "eu-west-1"})
    return subprocess.run([sys.executable, "-m", "chalicelib.history", "import", str(path)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_a_suggestion_is_inserted_and_sent(stack, page, tmp_path):
    ana = stack.token("ana")
    marker = uuid.uuid4().hex[:6]
    history = tmp_path / "history.jsonl"
    _history(history, marker)
    imported = _import(stack, history)
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout) == {"imported": 5, "brands": ["aegean"]}

    template = {"name": "Baggage delivery", "brand": "aegean", "variants": {
        "en": "Hi {{customer.name}}, your suitcase is traced and delivered to your address free of charge."}}
    saved = requests.put(f"{stack.api}/api/templates/baggage-delivery", json=template, timeout=10,
                         headers={"Authorization": f"Bearer {stack.token('root', 'admin')}"})
    assert saved.status_code in (200, 201), saved.text

    post_tweet(stack, f"@AegeanSkies my suitcase did not arrive at the belt in Athens, what now? ({marker})",
               "Rosa Lindqvist", "rosa_flies")
    ticket = ticket_with(stack, ana, marker)
    suggestions = stack.get(f"/tickets/{ticket['id']}/suggestions", ana)["items"]
    assert suggestions and suggestions[0]["source"] == "history" and "missing-baggage report" in suggestions[0]["text"]

    sign_in(page, stack, ana)
    page.goto(f"{stack.ui}#/ticket/{ticket['id']}")
    strip = page.locator("#suggestions")
    expect(strip).to_be_visible()
    buttons = strip.get_by_role("button")
    expect(buttons).to_have_count(len(suggestions))
    assert len(suggestions) <= 5
    first = buttons.first
    expect(first).to_contain_text("missing-baggage report")
    # the why, on focus (keyboard) and on hover
    first.focus()
    why = page.locator("#suggestion-why")
    expect(why).to_contain_text("3 similar questions")
    expect(why).to_contain_text("resolved 3 of them")
    assert first.get_attribute("title") == suggestions[0]["why"]
    # a template that fits is among them, filled for this customer
    templated = strip.locator(".suggestion.source-template")
    expect(templated).to_have_count(1)
    expect(templated).to_contain_text("Hi Rosa Lindqvist, your suitcase is traced")
    page.screenshot(path=str(SCREENSHOTS / "suggestions.png"))

    # When she clicks it, the reply box holds it, greeting this customer by name
    first.click()
    reply_box = page.get_by_label("Reply text", exact=True)
    expected = BAGGAGE.replace("{{customer.name}}", "Rosa Lindqvist")
    expect(reply_box).to_have_value(expected)
    expect(reply_box).to_be_focused()

    # And sends it: the platform gets exactly that text, once
    page.get_by_role("button", name="Send reply").click()
    sent = wait_for(lambda: [r for r in stack.sandbox_requests() if r["path"] == "/2/tweets"
                             and request_body(r).get("text") == expected], 30, "the suggestion reached X")
    assert len(sent) == 1
    expect(page.locator(".msg.out").last).to_contain_text("missing-baggage report")
    page.screenshot(path=str(SCREENSHOTS / "suggestions-sent.png"))
