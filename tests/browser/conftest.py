"""The desk's web UI in real headless Chromium (Debian's, driven by Playwright) against the local
stack, started here on free ports as `make run` starts it (`python -m infra.local up
--no-traffic`): the tests post their own signed webhooks while the page is open.

Without /usr/bin/chromium (a laptop without Debian's package) these tests are skipped, with the
reason; `.ci/run` installs it, so CI always runs them. Playwright's own browser download is never
used.
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

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "build" / "screenshots"
# Without the background-networking flags Chromium's own connections are refused on a closed
# network, many at a time; Playwright gives every launch a fresh, empty profile.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1366, "height": 768}
# Every document the tests open reports each Content-Security-Policy violation (a blocked inline
# script or style, an eval, a Trusted Types sink, a request to another origin) to the console,
# where the `page` fixture collects it: the UI must run under its policy without one.
CSP_WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const v = { directive: e.effectiveDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber,
              sample: e.sample, page: location.href };
  window.__cspViolations.push(v);
  console.error("csp-violation " + JSON.stringify(v));
});
"""
POLL_MS = 1000  # the UI's live refresh (5 s for agents); `?poll=` shortens it for the tests


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=f"Debian's chromium is not installed at {CHROMIUM} "
                                   "(apt-get install chromium; .ci/run installs it): browser tests not run")
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(skip)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, seconds: float, what: str, every: float = 0.2):
    """Poll `check` until it returns something truthy (returned), or fail saying what never happened."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            found = check()
            if found:
                return found
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds:.0f} s: {what}")
        time.sleep(every)


class Stack:
    """A running local stack: its addresses, secrets, and a few API shortcuts for the tests."""

    def __init__(self, api: str, sandbox: str, state_dir: Path, log: str):
        self.api, self.sandbox, self.state_dir, self.log = api, sandbox, state_dir, log
        self.secrets = json.loads((state_dir / "secrets.json").read_text())

    @property
    def ui(self) -> str:
        return f"{self.api}/?poll={POLL_MS}"

    def token(self, agent: str, role: str = "agent") -> str:
        from chalicelib.auth import mint

        return mint(agent, role, self.secrets["LOCAL_JWT_SECRET"])

    def get(self, path: str, token: str, **params):
        answer = requests.get(f"{self.api}/api{path}", params=params, timeout=10,
                              headers={"Authorization": f"Bearer {token}"})
        answer.raise_for_status()
        return answer.json()

    def post(self, path: str, token: str, body: dict):
        return requests.post(f"{self.api}/api{path}", json=body, timeout=10,
                             headers={"Authorization": f"Bearer {token}"})

    def tickets(self, token: str) -> list[dict]:
        return self.get("/tickets", token, limit=100)["items"]

    def webhook(self, route: str, payload: dict) -> None:
        """POST a platform's payload to /webhooks/<route>, signed as that platform signs it."""
        from infra.local import payloads as p

        if route == "api":
            body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            headers = p.sign_api(body, self.secrets["API_CHANNEL_SECRET"])
        else:
            body = p.encode(payload)
            headers = (p.sign_x(body, self.secrets["X_CONSUMER_SECRET"]) if route == "x"
                       else p.sign_meta(body, self.secrets["META_APP_SECRET"]))
        answer = requests.post(f"{self.api}/webhooks/{route}", data=body, timeout=10,
                               headers={"Content-Type": "application/json", **headers})
        assert answer.status_code == 200 and answer.json()["accepted"], answer.text

    def sandbox_requests(self) -> list[dict]:
        return requests.get(f"{self.sandbox}/_sandbox/requests", timeout=5).json()["requests"]

    def sandbox_posts(self) -> list[dict]:
        return requests.get(f"{self.sandbox}/_sandbox/posts", timeout=5).json()["posts"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM}")
    ports = {"AWS_PORT": _free_port(), "API_PORT": _free_port(), "SANDBOX_PORT": _free_port()}
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "X_", "META_", "API_CHANNEL", "LOCAL_", "TABLE_", "INGEST_", "ROUTING_",
                                "OUTBOUND_", "MODEL_", "GRAPH_", "PLATFORM_"))}
    env.update({k: str(v) for k, v in ports.items()})
    state_dir = tmp_path_factory.mktemp("state")
    env["LOCAL_STATE_DIR"] = str(state_dir)
    log_path = tmp_path_factory.mktemp("log") / "up.log"
    log = log_path.open("w")
    # --cognito: the API also takes RS256 ID tokens from the sandbox's stand-in user pool, as in AWS
    proc = subprocess.Popen([sys.executable, "-m", "infra.local", "up", "--no-traffic", "--cognito"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    api = f"http://127.0.0.1:{ports['API_PORT']}"
    def healthy() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"the local stack exited: {log_path.read_text()[-2000:]}")
        return requests.get(f"{api}/api/health", timeout=2).ok

    try:
        wait_for(healthy, 60, "the local stack answers /api/health", every=0.3)
        # `up` prints its banner once the queue workers run, the last step before traffic
        wait_for(lambda: "The desk is up" in log_path.read_text(), 30, "the stack's workers started")
        running = Stack(api, f"http://127.0.0.1:{ports['SANDBOX_PORT']}", state_dir, str(log_path))
        running.aws_endpoint = f"http://127.0.0.1:{ports['AWS_PORT']}"  # commands run against it (history import)
        yield running
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def csp_violations() -> list[str]:
    """The Content-Security-Policy violations the test's pages reported (see CSP_WATCH)."""
    return []


@pytest.fixture
def page(browser, request, csp_violations):
    """A fresh context (empty sessionStorage) at 1366×768; uncaught page errors and any
    Content-Security-Policy violation fail the test."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB", timezone_id="Europe/Helsinki")
    context.set_default_timeout(15_000)
    context.add_init_script(CSP_WATCH)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.on("console", lambda msg: csp_violations.append(msg.text) if msg.text.startswith("csp-violation ") else None)
    yield page
    try:
        page.evaluate("0")  # one round trip: every console message sent before it has arrived
    except Exception:  # noqa: BLE001 - a closed or crashed page has nothing more to report
        pass
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    if getattr(request.node, "failed", False):
        page.screenshot(path=str(SCREENSHOTS / f"failed-{request.node.name}.png"))
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"
    assert not csp_violations, f"Content-Security-Policy violations: {csp_violations}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        item.failed = True


def sign_in(page, stack: Stack, token: str) -> None:
    """Through the sign-in screen, as an agent pastes the token `make run` printed."""
    page.goto(stack.ui)
    page.get_by_label("Access token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Sections").wait_for()
