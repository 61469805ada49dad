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
    python -m bench.coldstart_webhook --sizing        # + every handler's import CPU, scaled to Lambda memory
    python -m bench.coldstart_webhook --stdlib-compiled   # the runtime's standard library comes compiled

By default nothing at all is cached, the standard library included: the strictest reading. In
Lambda the runtime's standard library does come compiled; `--stdlib-compiled` measures that (the
prefix then holds the standard library's bytecode and nothing else, as bench/coldstart.py does).

Figures, not pass/fail. `make bench` prints the median (`bench/__main__.py`).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
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


STDLIB_CACHE: str | None = None  # set by --stdlib-compiled: a pycache prefix with the stdlib's bytecode


def stdlib_cache() -> str:
    """A pycache prefix holding the standard library's bytecode and nothing else (made once)."""
    import sysconfig

    where = Path(tempfile.gettempdir()) / f"coldstart-webhook-stdlib-{sys.version_info[0]}{sys.version_info[1]}"
    if not (where / "done").exists():
        subprocess.run([sys.executable, "-X", f"pycache_prefix={where}", "-m", "compileall", "-q", "-j0", "-x",
                        r"/(test|tests|idlelib|tkinter|lib2to3|ensurepip|turtledemo|site-packages)/",
                        sysconfig.get_paths()["stdlib"]], check=False, capture_output=True)
        (where / "done").write_text("")
    return str(where)


def _prefix(empty: str) -> str:
    return STDLIB_CACHE or empty


def run_once(env: dict, event: dict, extra: tuple[str, ...] = ()) -> tuple[list[float], float, str]:
    """One fresh interpreter, nothing cached: ([import ms, webhook ms, total ms, child CPU ms], wall ms,
    stderr). CPU time (user + system of the whole child, interpreter start included) moves less
    than the clock on a busy machine."""
    with tempfile.TemporaryDirectory(prefix="coldstart-pyc-") as empty:
        code = f"EVENT = {json.dumps(json.dumps(event))}\n" + CHILD
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-X", f"pycache_prefix={_prefix(empty)}", *extra, "-c", code],
                              cwd=ROOT, env=env, capture_output=True, text=True)
        wall = (time.perf_counter() - started) * 1000
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"child failed:\n{done.stdout}\n{done.stderr}")
    line = next(x for x in done.stdout.splitlines() if x.startswith("COLDSTART"))
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    return [*(float(v) for v in line.split()[1:]), cpu], wall, done.stderr


def bare_interpreter(env: dict, runs: int) -> float:
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as empty:
            started = time.perf_counter()
            subprocess.run([sys.executable, "-X", f"pycache_prefix={_prefix(empty)}", "-c", "pass"], env=env, check=True)
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
        "cpu_ms": statistics.median(r[0][3] for r in results),
        "wall_ms": statistics.median(r[1] for r in results),
        "bare_interpreter_ms": bare,
        "runs_total_ms": [round(r[0][2]) for r in results],
    }
    if not quiet:
        print(json.dumps({k: round(v) if isinstance(v, float) else v for k, v in figures.items()}, indent=1))
    return figures


FULL_VCPU_MB = 1769  # Lambda gives a function CPU in proportion to memory: one vCPU at 1,769 MB
MEMORY_SIZES = (128, 256, 512, 1024, 1769)


# What each other handler imports on its first event (boto3 with its first client: the workers use
# DynamoDB through boto3; the webhook's row is the served webhook above, which needs no boto3).
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


def handler_cpu(runs: int = 3) -> dict[str, float]:
    """CPU ms (user + system) a fresh interpreter with no bytecode cache spends importing what each
    handler imports on its first event (HANDLER_IMPORTS), over a bare interpreter."""
    COLD_STARTS = HANDLER_IMPORTS  # noqa: N806

    def cpu(code: str) -> float:
        times = []
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as empty:
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                subprocess.run([sys.executable, "-X", f"pycache_prefix={_prefix(empty)}", "-c", code], cwd=ROOT, check=True,
                               env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "AWS_DEFAULT_REGION": REGION})
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
            times.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
        return statistics.median(times)

    bare = cpu("pass")
    return {"(bare interpreter)": bare, **{name: cpu(code) - bare for name, code in COLD_STARTS.items()}}


def scaled(cpu_ms: float, memory_mb: int) -> float:
    """What `cpu_ms` of one core takes in a function of `memory_mb` (single-threaded: at most 1 vCPU)."""
    return cpu_ms * FULL_VCPU_MB / min(memory_mb, FULL_VCPU_MB)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.coldstart_webhook")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--secrets-manager", action="store_true",
                        help="read META_APP_SECRET from Secrets Manager (moto), as a deployed function does")
    parser.add_argument("--importtime", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sizing", action="store_true")
    parser.add_argument("--stdlib-compiled", action="store_true",
                        help="the standard library's bytecode cached, as the Lambda runtime ships it")
    args = parser.parse_args(argv)
    global STDLIB_CACHE
    if args.stdlib_compiled:
        STDLIB_CACHE = stdlib_cache()
    cached = "stdlib compiled, app and dependencies from source" if args.stdlib_compiled else "no bytecode cache"
    print(f"Webhook cold start (POST /webhooks/meta, {cached}, median of {args.runs}, ms):")
    figures = measure(args.runs, args.secrets_manager)
    if args.sizing:
        imports = handler_cpu()
        rows = {"webhook, served": figures["cpu_ms"] - imports.pop("(bare interpreter)"),
                **{f"{name}, imports": cpu_ms for name, cpu_ms in imports.items()}}
        print("\nFirst-event CPU without bytecode cache (ms) and what it takes at each Lambda memory size (ms):")
        print(f"  {'handler':<28} {'CPU':>6}" + "".join(f" {m:>6}MB" for m in MEMORY_SIZES))
        for name, cpu_ms in rows.items():
            print(f"  {name:<28} {cpu_ms:6.0f}" + "".join(f" {scaled(cpu_ms, m):8.0f}" for m in MEMORY_SIZES))
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
                    subprocess.run([sys.executable, "-X", f"pycache_prefix={_prefix(empty)}", "-m", "cProfile", "-o",
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
