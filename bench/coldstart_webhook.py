"""`python -m bench.coldstart_webhook`: the webhook's cold start, as Lambda pays it.

A fresh interpreter with no bytecode cache at all (`-X pycache_prefix=<empty dir>` and
PYTHONDONTWRITEBYTECODE=1: a Lambda package ships no .pyc, and nothing is written for the next
run) imports `app.py` and serves one signed Meta webhook through `app.app(event, context)`, the
function Lambda calls, with an API Gateway proxy event, up to and including the SendMessageBatch
to the ingest queue. SQS is a moto server on localhost, started here once. Timed inside the
child from before `import app` to the answer (the interpreter's own start, the same for any
handler, is printed apart); median of `--runs` (5).

    python -m bench.coldstart_webhook                 # median and each run
    python -m bench.coldstart_webhook --importtime    # + the cumulative import cost by package
    python -m bench.coldstart_webhook --profile       # + cProfile of one run (top 25, cumulative)
    python -m bench.coldstart_webhook --secrets-manager   # secrets from Secrets Manager, as in AWS

Figures, not pass/fail. `make bench` prints the median (`bench/__main__.py`).
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-meta-secret"
REGION = "eu-west-1"

# What the child runs: everything a Lambda container does on its first webhook, nothing more.
CHILD = r"""
import time
started = time.perf_counter()
import app
imported = time.perf_counter()
event = __import__("json").loads(EVENT)
answer = app.app(event, None)
done = time.perf_counter()
assert answer["statusCode"] == 200, answer
print("COLDSTART", (imported - started) * 1000, (done - imported) * 1000, (done - started) * 1000)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto(secrets_manager: bool) -> tuple[object, str, str]:
    """A moto server with the ingest queue (and the platform secret); (server, endpoint, queue URL)."""
    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    kw = {"region_name": REGION, "endpoint_url": endpoint, "aws_access_key_id": "bench",
          "aws_secret_access_key": "bench"}
    url = boto3.client("sqs", **kw).create_queue(QueueName="social-care-ingest")["QueueUrl"]
    if secrets_manager:
        boto3.client("secretsmanager", **kw).create_secret(
            Name="social-care/platform", SecretString=json.dumps({"META_APP_SECRET": SECRET}))
    return server, endpoint, url


def meta_event() -> dict:
    """An API Gateway proxy event for one signed Messenger message to POST /webhooks/meta."""
    sys.path.insert(0, str(ROOT))
    from infra.local import payloads as p

    page = "104000000000001"
    body = p.encode(p.meta_payload("page", [p.meta_entry(page, messaging=[
        p.messenger_event(page, "6000000001", "m_bench_1", text="Hei, tilaukseni on myöhässä?")])]))
    headers = {"Content-Type": "application/json", **p.sign_meta(body, SECRET)}
    return {"resource": "/webhooks/{channel}", "path": "/webhooks/meta", "httpMethod": "POST",
            "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": None, "multiValueQueryStringParameters": None,
            "pathParameters": {"channel": "meta"}, "stageVariables": None,
            "requestContext": {"resourcePath": "/webhooks/{channel}", "httpMethod": "POST",
                               "requestId": "bench-request", "stage": "api", "path": "/api/webhooks/meta",
                               "identity": {"sourceIp": "127.0.0.1"}},
            "body": body.decode("ascii"), "isBase64Encoded": False}


def child_env(endpoint: str, queue_url: str, secrets_manager: bool) -> dict:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON"))}
    env.pop("META_APP_SECRET", None)
    env.update(config["environment_variables"])
    env.update(config["stages"]["prod"].get("environment_variables", {}))
    env.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION, "AWS_ENDPOINT_URL": endpoint, "INGEST_QUEUE_URL": queue_url,
                "AWS_LAMBDA_FUNCTION_NAME": "social-care-desk-prod", "PYTHONDONTWRITEBYTECODE": "1"})
    if secrets_manager:
        env["PLATFORM_SECRET_ID"] = "social-care/platform"
    else:
        env.pop("PLATFORM_SECRET_ID", None)
        env["META_APP_SECRET"] = SECRET
    return env


def run_once(env: dict, event: dict, extra: tuple[str, ...] = ()) -> tuple[list[float], float, str]:
    """One fresh interpreter, nothing cached: ([import ms, webhook ms, total ms], wall ms, stderr)."""
    with tempfile.TemporaryDirectory(prefix="coldstart-pyc-") as empty:
        code = f"EVENT = {json.dumps(json.dumps(event))}\n" + CHILD
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-X", f"pycache_prefix={empty}", *extra, "-c", code],
                              cwd=ROOT, env=env, capture_output=True, text=True)
        wall = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise SystemExit(f"child failed:\n{done.stdout}\n{done.stderr}")
    line = next(x for x in done.stdout.splitlines() if x.startswith("COLDSTART"))
    return [float(v) for v in line.split()[1:]], wall, done.stderr


def bare_interpreter(env: dict, runs: int) -> float:
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as empty:
            started = time.perf_counter()
            subprocess.run([sys.executable, "-X", f"pycache_prefix={empty}", "-c", "pass"], env=env, check=True)
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def import_breakdown(stderr: str, top: int = 20) -> list[tuple[str, float, float]]:
    """-X importtime lines → (top-level package, cumulative ms of its first import, self ms summed)."""
    cumulative: dict[str, float] = {}
    own: dict[str, float] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cum_us, name = (part.strip() for part in line[len("import time:"):].split("|"))
        depth = len(name) - len(name.lstrip())
        package = name.strip().split(".")[0]
        own[package] = own.get(package, 0.0) + int(self_us) / 1000
        if depth <= 2 or package not in cumulative:  # the package's outermost import
            cumulative[package] = max(cumulative.get(package, 0.0), int(cum_us) / 1000)
    rows = sorted(((p, cumulative.get(p, 0.0), own[p]) for p in own), key=lambda r: -r[2])
    return rows[:top]


def measure(runs: int = 5, secrets_manager: bool = False, quiet: bool = False) -> dict:
    server, endpoint, url = start_moto(secrets_manager)
    try:
        env, event = child_env(endpoint, url, secrets_manager), meta_event()
        results = [run_once(env, event) for _ in range(runs)]
        bare = bare_interpreter(env, runs)
    finally:
        server.stop()
    figures = {
        "import_ms": statistics.median(r[0][0] for r in results),
        "webhook_ms": statistics.median(r[0][1] for r in results),
        "total_ms": statistics.median(r[0][2] for r in results),
        "wall_ms": statistics.median(r[1] for r in results),
        "bare_interpreter_ms": bare,
        "runs_total_ms": [round(r[0][2]) for r in results],
    }
    if not quiet:
        print(json.dumps({k: round(v) if isinstance(v, float) else v for k, v in figures.items()}, indent=1))
    return figures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.coldstart_webhook")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--secrets-manager", action="store_true",
                        help="read META_APP_SECRET from Secrets Manager (moto), as a deployed function does")
    parser.add_argument("--importtime", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    print(f"Webhook cold start (POST /webhooks/meta, no bytecode cache, median of {args.runs}, ms):")
    measure(args.runs, args.secrets_manager)
    if args.importtime or args.profile:
        server, endpoint, url = start_moto(args.secrets_manager)
        try:
            env, event = child_env(endpoint, url, args.secrets_manager), meta_event()
            if args.importtime:
                _, _, stderr = run_once(env, event, ("-X", "importtime"))
                print("\nImports by top-level package (cumulative ms of its outermost import, self ms summed):")
                for package, cum, own in import_breakdown(stderr):
                    print(f"  {package:<28} {cum:8.1f} {own:8.1f}")
            if args.profile:
                with tempfile.TemporaryDirectory() as empty, tempfile.TemporaryDirectory() as work:
                    script, prof = Path(work) / "child.py", Path(work) / "child.prof"
                    script.write_text(f"EVENT = {json.dumps(json.dumps(event))}\n" + CHILD)
                    subprocess.run([sys.executable, "-X", f"pycache_prefix={empty}", "-m", "cProfile", "-o",
                                    str(prof), str(script)], cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)},
                                   check=True, capture_output=True)
                    import pstats

                    print()
                    pstats.Stats(str(prof)).sort_stats("cumulative").print_stats(40)
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
