"""`python -m bench coldstart`: the webhook's cold start as Lambda pays it, and each handler's imports.

The one cold-start bench (issue 13's budget: at most 500 ms for the webhook). What it times:

* **The webhook as Lambda pays it.** A fresh interpreter, in Lambda's environment (the prod
  stage's variables from .chalice/config.json, `AWS_LAMBDA_FUNCTION_NAME`, `AWS_REGION`,
  credentials in the environment as Lambda puts them, `AWS_ENDPOINT_URL` to a moto server started
  here, on this machine), imports `app.py`, builds API Gateway's proxy event of one signed X
  mention and calls `app.app(event, context)`, the function Lambda calls, which reads the platform
  secret from Secrets Manager (`PLATFORM_SECRET_ID`, as deployed), verifies, parses and sends the
  mention to the ingest queue with SendMessageBatch; timed inside the child from before
  `import app` to the 200 (the interpreter's own start, the same for every handler, apart). The
  queue must hold one message per run afterwards.
* **Bytecode.** A Lambda package ships no `__pycache__` (Chalice unpacks wheels and copies the
  source), so every module of the app and its dependencies is compiled from source on a cold
  start, while the runtime's standard library comes compiled. The child runs with
  `PYTHONDONTWRITEBYTECODE=1` and `-X pycache_prefix=<dir>`, `<dir>` holding the standard
  library's bytecode and nothing else (compiled once into `$TMPDIR/bench-stdlib-pycache-311`):
  the `__pycache__` folders of the checkout and the venv are never read, nothing is written. This
  is the figure held to the budget. The strictest reading, nothing cached at all (an empty
  prefix: the standard library compiled too), is printed next to it.
* **The child's CPU time** (user + system, interpreter start included) next to the clock: a
  busy machine moves the clock much more than the CPU time; compare CPU times there.
* **Each handler's imports** on its first event (HANDLER_IMPORTS), by the clock and CPU, and with
  `--sizing` the CPU scaled to each Lambda memory size (CPU is proportional to memory, one vCPU
  at 1,769 MB).

    python -m bench coldstart                    # median of 5: webhook (both readings) and handlers
    python -m bench coldstart --webhook-only     # the webhook alone (~10 s)
    python -m bench coldstart --secret-in-env    # the platform secret in the environment, no GetSecretValue
    python -m bench coldstart --importtime       # + the served webhook's imports by top-level package
    python -m bench coldstart --profile          # + cProfile of one served webhook (cumulative)
    python -m bench coldstart --sizing --json

Figures, not pass/fail; docs/BENCHMARKS.md has the method and the figures.
`python -m bench.coldstart_webhook` is an alias kept for the docs that name it.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REGION = "eu-west-1"
X_SECRET = "bench-cold-x-consumer-secret"
SECRET_ID = "social-care/platform"
FUNCTION = "social-care-desk-prod"
BUDGET_MS = 500

# What the child runs: what a Lambda container does on its first webhook, nothing more.
CHILD = r'''
import time
started = time.perf_counter()
import app
imported = time.perf_counter()
import json, sys
event = json.loads(EVENT)
class Context:
    function_name = FUNCTION; function_version = "$LATEST"; memory_limit_in_mb = 1769
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:" + FUNCTION
    aws_request_id = "cold-1"; log_group_name = "/aws/lambda/" + FUNCTION; log_stream_name = "cold"
    def get_remaining_time_in_millis(self): return 29000
answer = app.app(event, Context())
served = time.perf_counter()
print("COLDSTART " + json.dumps({"import_app": (imported - started) * 1000, "first_webhook": (served - imported) * 1000,
                                 "total": (served - started) * 1000, "status": answer["statusCode"]}))
'''


# -- the interpreter: bytecode ------------------------------------------------------------------
def stdlib_cache() -> str:
    """A pycache_prefix holding the standard library's bytecode and nothing else (made once)."""
    where = Path(tempfile.gettempdir()) / f"bench-stdlib-pycache-{sys.version_info[0]}{sys.version_info[1]}"
    if not (where / ".complete").exists():
        shutil.rmtree(where, ignore_errors=True)
        subprocess.run([sys.executable, "-X", f"pycache_prefix={where}", "-m", "compileall", "-q", "-j0", "-x",
                        r"/(test|tests|idlelib|tkinter|lib2to3|ensurepip|turtledemo|site-packages)/",
                        sysconfig.get_paths()["stdlib"]], check=True, stdout=subprocess.DEVNULL)
        (where / ".complete").touch()
    return str(where)


@contextmanager
def prefix(stdlib_compiled: bool):
    """The pycache_prefix of one child: the standard library's bytecode, or an empty directory."""
    if stdlib_compiled:
        yield stdlib_cache()
    else:
        with tempfile.TemporaryDirectory(prefix="coldstart-pyc-") as empty:
            yield empty


def child(code: str, env: dict, stdlib_compiled: bool, extra: tuple[str, ...] = ()) -> tuple[
        subprocess.CompletedProcess, float]:
    """One fresh interpreter running `code`: (the finished process, its CPU ms, user + system)."""
    with prefix(stdlib_compiled) as where:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run([sys.executable, "-X", f"pycache_prefix={where}", *extra, "-c", code], cwd=ROOT,
                              env={**env, "PYTHONDONTWRITEBYTECODE": "1"}, capture_output=True, text=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return done, (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000


def interpreter_ms(env: dict, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-X", f"pycache_prefix={stdlib_cache()}", "-c", "pass"], env=env, check=True)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


# -- Lambda's side: AWS on this machine, the environment, the event ------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def moto_server():
    """A moto server on this machine with the ingest queue and the platform secret: (endpoint, queue URL)."""
    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # an access line per AWS call is noise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        kw = {"region_name": REGION, "endpoint_url": endpoint, "aws_access_key_id": "bench",
              "aws_secret_access_key": "bench"}
        url = boto3.client("sqs", **kw).create_queue(QueueName="social-care-ingest")["QueueUrl"]
        secrets = boto3.client("secretsmanager", **kw)
        try:  # moto's state is the process's: a second server in one process finds the first's
            secrets.create_secret(Name=SECRET_ID, SecretString=json.dumps({"X_CONSUMER_SECRET": X_SECRET}))
        except secrets.exceptions.ResourceExistsException:
            secrets.put_secret_value(SecretId=SECRET_ID, SecretString=json.dumps({"X_CONSUMER_SECRET": X_SECRET}))
        yield endpoint, url
    finally:
        server.stop()


def queued(endpoint: str, url: str) -> int:
    import boto3

    sqs = boto3.client("sqs", region_name=REGION, endpoint_url=endpoint, aws_access_key_id="bench",
                       aws_secret_access_key="bench")
    found = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(found["Attributes"]["ApproximateNumberOfMessages"])


def lambda_env(endpoint: str, queue_url: str, secret_in_env: bool = False) -> dict:
    """A deployed function's environment: the prod stage's variables from .chalice/config.json and
    what Lambda itself sets; nothing of this shell's AWS_* or PYTHON*."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "PYTHON", "POWERTOOLS_", "X_", "META_", "API_", "PLATFORM_", "DESK_"))}
    env.update(config["environment_variables"])
    env.update(config["stages"]["prod"].get("environment_variables", {}))
    env.update({"AWS_LAMBDA_FUNCTION_NAME": FUNCTION, "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1769", "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
                "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "bench",
                "AWS_SECRET_ACCESS_KEY": "bench", "AWS_SESSION_TOKEN": "bench-session",
                "AWS_ENDPOINT_URL": endpoint, "INGEST_QUEUE_URL": queue_url,
                "LAMBDA_TASK_ROOT": str(ROOT), "_HANDLER": "app.app", "TZ": ":UTC"})
    if secret_in_env:
        env.pop("PLATFORM_SECRET_ID", None)
        env["X_CONSUMER_SECRET"] = X_SECRET
    else:
        env["PLATFORM_SECRET_ID"] = SECRET_ID
    return env


def x_event(n: int = 0) -> dict:
    """API Gateway's proxy event for one signed X mention to POST /webhooks/x."""
    sys.path.insert(0, str(ROOT))
    from infra.local import payloads as p

    body = p.encode(p.x_tweet_event("1500000000000000001", str(1_880_000_000_000_000_000 + n),
                                    {"id": str(8_000_000_000 + n), "name": "Cold", "handle": "cold"},
                                    "@NordlightShop my order never arrived"))
    headers = {"content-type": "application/json", **p.sign_x(body, X_SECRET)}
    return {"resource": "/webhooks/{channel}", "path": "/webhooks/x", "httpMethod": "POST", "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()}, "queryStringParameters": None,
            "multiValueQueryStringParameters": None, "pathParameters": {"channel": "x"}, "stageVariables": None,
            "requestContext": {"resourcePath": "/webhooks/{channel}", "httpMethod": "POST", "path": "/api/webhooks/x",
                               "requestId": f"cold-{n}", "stage": "api", "identity": {"sourceIp": "127.0.0.1"}},
            "body": body.decode("ascii"), "isBase64Encoded": False}


def child_code(event: dict) -> str:
    return f"EVENT = {json.dumps(json.dumps(event))}\nFUNCTION = {FUNCTION!r}\n" + CHILD


# -- the webhook ---------------------------------------------------------------------------------
def serve_once(env: dict, event: dict, stdlib_compiled: bool, extra: tuple[str, ...] = ()) -> tuple[dict, str]:
    """One cold start serving `event`: ({import_app, first_webhook, total, status, cpu} ms, stderr)."""
    done, cpu = child(child_code(event), env, stdlib_compiled, extra)
    line = next((x for x in done.stdout.splitlines() if x.startswith("COLDSTART ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"webhook cold start failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    figures = {**json.loads(line.removeprefix("COLDSTART ")), "cpu": cpu}
    if figures["status"] != 200:
        raise RuntimeError(f"the webhook answered {figures['status']}:\n{done.stdout[-2000:]}")
    return figures, done.stderr


def webhook(runs: int = 5, secret_in_env: bool = False) -> dict:
    """The served webhook, `runs` cold starts in each reading (interleaved, so that a change in the
    machine's load hits both alike): medians, each run's total, how many the queue gained."""
    readings: dict[str, list[dict]] = {"stdlib_compiled": [], "nothing_cached": []}
    with moto_server() as (endpoint, url):
        env = lambda_env(endpoint, url, secret_in_env)
        before, n = queued(endpoint, url), 0
        for _ in range(runs):
            for name in readings:
                readings[name].append(serve_once(env, x_event(n), name == "stdlib_compiled")[0])
                n += 1
        held = queued(endpoint, url) - before
        interpreter = interpreter_ms(env, runs)
    out: dict = {"runs": runs, "queued": held, "sent": n, "interpreter": interpreter, "budget": BUDGET_MS,
                 "secret": "environment" if secret_in_env else "Secrets Manager"}
    for name, results in readings.items():
        out[name] = {**{k: statistics.median(r[k] for r in results) for k in ("import_app", "first_webhook", "total", "cpu")},
                     "totals": [round(r["total"]) for r in results]}
    return out


def import_breakdown(stderr: str, top: int = 20) -> list[tuple[str, float, float]]:
    """-X importtime lines → (top-level package, cumulative ms of its outermost import, self ms summed)."""
    cumulative: dict[str, float] = {}
    own: dict[str, float] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cum_us, name = (part.strip(" ") for part in line[len("import time:"):].split("|"))
        depth = len(name) - len(name.lstrip())
        package = name.strip().split(".")[0]
        own[package] = own.get(package, 0.0) + int(self_us) / 1000
        if depth <= 2 or package not in cumulative:
            cumulative[package] = max(cumulative.get(package, 0.0), int(cum_us) / 1000)
    return sorted(((p, cumulative.get(p, 0.0), own[p]) for p in own), key=lambda r: -r[2])[:top]


# -- the handlers' imports -----------------------------------------------------------------------
# What each handler imports on its first event (the workers use DynamoDB through boto3, so with
# boto3's first resource; the webhook's row is the served webhook above, which needs no boto3).
HANDLER_IMPORTS = {
    "app.py only": "import app",
    "ingest worker": ("import app, boto3; import chalicelib.pipeline, chalicelib.classify, chalicelib.classify.priority, "
                      "aws_lambda_powertools.utilities.batch, boto3.dynamodb.types; boto3.resource('dynamodb')"),
    "route worker": "import app, boto3; import chalicelib.routing; boto3.resource('dynamodb')",
    "outbound worker": ("import app, boto3; import chalicelib.outbound.worker, aws_lambda_powertools.utilities.batch, "
                        "boto3.dynamodb.types; boto3.resource('dynamodb')"),
    "x poller": "import app, boto3; import chalicelib.poller, chalicelib.channels.x.v2; boto3.resource('dynamodb')",
    "sla sweeper": ("import app, boto3; import chalicelib.sweeper, chalicelib.sla, chalicelib.desk_settings; "
                    "boto3.resource('dynamodb')"),
    "authorizer": "import app; import chalicelib.auth, jwt",
}
FULL_VCPU_MB = 1769  # Lambda gives a function CPU in proportion to memory: one vCPU at 1,769 MB
MEMORY_SIZES = (128, 256, 512, 1024, 1769)


def handlers(runs: int = 5) -> dict[str, dict]:
    """Each handler's imports in a fresh interpreter (stdlib compiled, the rest from source):
    median clock ms inside the child and the child's CPU ms (interpreter start included)."""
    env = lambda_env("http://127.0.0.1:9", "http://127.0.0.1:9/1/q", secret_in_env=True)
    out = {}
    for name, code in {"(bare interpreter)": "pass", **HANDLER_IMPORTS}.items():
        timed = f"import time; _t = time.perf_counter()\n{code}\nprint((time.perf_counter() - _t) * 1000)"
        clock, cpu = [], []
        for _ in range(runs):
            done, used = child(timed, env, stdlib_compiled=True)
            if done.returncode != 0:
                raise RuntimeError(f"{name}: {done.stderr[-2000:]}")
            clock.append(float(done.stdout.strip().splitlines()[-1]))
            cpu.append(used)
        out[name] = {"clock": statistics.median(clock), "cpu": statistics.median(cpu)}
    return out


def scaled(cpu_ms: float, memory_mb: int) -> float:
    """What `cpu_ms` of one core takes in a function of `memory_mb` (single-threaded: at most 1 vCPU)."""
    return cpu_ms * FULL_VCPU_MB / min(memory_mb, FULL_VCPU_MB)


# -- the report ----------------------------------------------------------------------------------
def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def lines(figures: dict, sizing: bool = False) -> list[str]:
    w = figures["webhook"]
    s, c = w["stdlib_compiled"], w["nothing_cached"]
    verdict = "within" if s["total"] <= w["budget"] else "OVER"
    out = [f"Webhook cold start as Lambda pays it (one signed X mention to the enqueue, secret from {w['secret']}; "
           f"median of {w['runs']}, ms; load average {figures['load']}, {os.cpu_count()} CPUs)",
           f"  stdlib compiled, app and dependencies from source: {s['total']:,.0f} = import app.py "
           f"{s['import_app']:,.0f} + first webhook {s['first_webhook']:,.0f}; child's CPU {s['cpu']:,.0f} "
           f"[{verdict} the {w['budget']} ms budget]",
           f"  nothing cached at all (strictest):                  {c['total']:,.0f} = import app.py "
           f"{c['import_app']:,.0f} + first webhook {c['first_webhook']:,.0f}; child's CPU {c['cpu']:,.0f}",
           f"  runs (total ms): stdlib compiled {s['totals']}, nothing cached {c['totals']}; "
           f"answered 200, {w['queued']} of {w['sent']} queued; interpreter start {w['interpreter']:.0f} ms apart, "
           "in the CPU figures"]
    if "handlers" in figures:
        h = dict(figures["handlers"])
        bare = h.pop("(bare interpreter)")
        out.append(f"Imports of each handler's first event (stdlib compiled; ms; bare interpreter's CPU "
                   f"{bare['cpu']:.0f} ms, included in CPU)")
        head = f"  {'handler':<18} {'clock':>7} {'CPU':>7}"
        if sizing:
            head += "   CPU over the bare interpreter at " + "".join(f"{m:>7}MB" for m in MEMORY_SIZES)
        out.append(head)
        for name, row in h.items():
            line = f"  {name:<18} {row['clock']:7,.0f} {row['cpu']:7,.0f}"
            if sizing:
                line += " " * 36 + "".join(f" {scaled(row['cpu'] - bare['cpu'], m):8,.0f}" for m in MEMORY_SIZES)
            out.append(line)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench coldstart", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--webhook-only", action="store_true", help="skip the handlers' imports")
    parser.add_argument("--secret-in-env", action="store_true",
                        help="the platform secret in the environment: no GetSecretValue on the cold start")
    parser.add_argument("--importtime", action="store_true", help="+ the webhook's imports by top-level package")
    parser.add_argument("--profile", action="store_true", help="+ cProfile of one served webhook")
    parser.add_argument("--sizing", action="store_true", help="+ handler CPU scaled to each Lambda memory size")
    args = parser.parse_args(argv)
    figures: dict = {"load_before": load_average(), "webhook": webhook(args.runs, args.secret_in_env)}
    if not args.webhook_only:
        figures["handlers"] = handlers(args.runs)
    figures["load"] = f"{figures.pop('load_before')} -> {load_average()}"
    print(json.dumps(figures) if args.json else "\n".join(lines(figures, args.sizing)), flush=True)
    if args.importtime or args.profile:
        with moto_server() as (endpoint, url):
            env = lambda_env(endpoint, url, args.secret_in_env)
            if args.importtime:
                _, stderr = serve_once(env, x_event(), True, ("-X", "importtime"))
                print("\nThe served webhook's imports by top-level package (stdlib compiled; cumulative ms of "
                      "its outermost import, self ms summed):")
                for package, cum, own in import_breakdown(stderr):
                    print(f"  {package:<28} {cum:8.1f} {own:8.1f}")
            if args.profile:
                import pstats

                with tempfile.TemporaryDirectory() as work:
                    script, prof = Path(work) / "child.py", Path(work) / "child.prof"
                    script.write_text(child_code(x_event(1)))
                    subprocess.run([sys.executable, "-X", f"pycache_prefix={stdlib_cache()}", "-m", "cProfile", "-o",
                                    str(prof), str(script)], cwd=ROOT, check=True, capture_output=True,
                                   env={**env, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"})
                    print()
                    pstats.Stats(str(prof)).sort_stats("cumulative").print_stats(40)
    return 0


if __name__ == "__main__":
    sys.exit(main())
