"""`python -m bench coldstart`: cold starts as Lambda pays them, without bytecode cache.

A Lambda package ships no `__pycache__` (Chalice unpacks wheels and copies the source), so on a
cold start every module of the app and its dependencies is compiled from source; only the
runtime's standard library comes compiled. Each figure here is a fresh interpreter started with
`-X pycache_prefix=<dir>` and `PYTHONDONTWRITEBYTECODE=1`, where `<dir>` holds the bytecode of
the standard library alone: the `__pycache__` folders in the checkout and in the venv are never
read, and nothing is written. Times are measured inside the interpreter (from its first line to
the end of the work; the interpreter's own start, ~15 ms, is shown once apart), median of runs.

* handlers: what each Lambda imports on its first event (the same lists `make bench` used before,
  now without cache);
* the webhook as Lambda pays it: the interpreter imports `app.py`, builds API Gateway's proxy
  event of one signed X mention and calls the Chalice app with it, which verifies, parses and sends
  it to the ingest queue (SQS on a moto server on this machine, the local stack's endpoint), until
  the 200 comes back: import of app.py, then the first request (its imports, boto3, the client and
  the SendMessageBatch round trip).
"""
from __future__ import annotations

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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

HANDLERS = {
    "app.py only": "import app",
    "webhook (meta) imports": ("import app; import chalicelib.ingest, chalicelib.channels.registry, "
                               "chalicelib.channels.meta.webhook, chalicelib.channels.facebook.webhook, "
                               "chalicelib.queues, boto3"),
    "ingest worker imports": ("import app; import chalicelib.pipeline, chalicelib.classify, "
                              "chalicelib.classify.priority, aws_lambda_powertools.utilities.batch, "
                              "boto3.dynamodb.types"),
    "x poller imports": "import app; import chalicelib.poller, chalicelib.channels.x.v2, boto3",
    "sla sweeper imports": "import app; import chalicelib.sweeper, chalicelib.sla, chalicelib.desk_settings, boto3",
    "outbound worker imports": ("import app; import chalicelib.outbound.worker, "
                                "aws_lambda_powertools.utilities.batch, boto3.dynamodb.types"),
}

X_SECRET = "bench-cold-x-consumer-secret"

WEBHOOK_SCRIPT = r'''
import time
started = time.perf_counter()
import app
imported = time.perf_counter()
import json, sys
body = sys.argv[1]
event = {"resource": "/webhooks/{channel}", "path": "/webhooks/x", "httpMethod": "POST",
         "headers": {"content-type": "application/json", "x-twitter-webhooks-signature": sys.argv[2]},
         "multiValueHeaders": {}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
         "pathParameters": {"channel": "x"}, "stageVariables": None, "body": body, "isBase64Encoded": False,
         "requestContext": {"resourcePath": "/webhooks/{channel}", "httpMethod": "POST", "path": "/api/webhooks/x",
                            "requestId": "cold-1", "stage": "api", "identity": {"sourceIp": "127.0.0.1"}}}
class Context:
    function_name = "social-care-desk-dev"; function_version = "$LATEST"; memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:social-care-desk-dev"
    aws_request_id = "cold-1"; log_group_name = "/aws/lambda/x"; log_stream_name = "x"
    def get_remaining_time_in_millis(self): return 30000
answer = app.app(event, Context())
served = time.perf_counter()
print(json.dumps({"import_app": (imported - started) * 1000, "first_webhook": (served - imported) * 1000,
                  "total": (served - started) * 1000, "status": answer["statusCode"], "body": answer["body"][:200]}))
'''


def stdlib_only_cache(python: str = sys.executable) -> str:
    """A pycache_prefix holding the standard library's bytecode and nothing else (made once)."""
    version = f"{sys.version_info.major}{sys.version_info.minor}"
    where = Path(tempfile.gettempdir()) / f"bench-stdlib-pycache-{version}"
    done = where / ".complete"
    if done.exists():
        return str(where)
    stdlib = sysconfig.get_paths()["stdlib"]
    shutil.rmtree(where, ignore_errors=True)
    subprocess.run([python, "-X", f"pycache_prefix={where}", "-m", "compileall", "-q", "-j0", "-x",
                    r"/(test|tests|idlelib|tkinter|lib2to3|ensurepip|turtledemo|site-packages)/", stdlib],
                   check=True, stdout=subprocess.DEVNULL)
    done.touch()
    return str(where)


def _env(cache: str, extra: dict | None = None) -> dict:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(ROOT), **(extra or {})}
    return env


def _cmd(cache: str, *args: str) -> list[str]:
    return [sys.executable, "-X", f"pycache_prefix={cache}", *args]


def import_ms(code: str, cache: str, runs: int = 3) -> tuple[float, float]:
    timed = f"import time; _t = time.perf_counter()\n{code}\nprint((time.perf_counter() - _t) * 1000)"
    times, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(_cmd(cache, "-c", timed), cwd=ROOT, env=_env(cache), check=True,
                              capture_output=True, text=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        times.append(float(done.stdout.strip().splitlines()[-1]))
        cpu.append((after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000)
    return statistics.median(times), statistics.median(cpu)


def interpreter_ms(runs: int = 5) -> float:
    import time

    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def webhook_ms(cache: str, runs: int = 3) -> dict:
    """The signed webhook served by a fresh interpreter, against a moto server on this machine."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access line per AWS call is noise
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    saved = dict(os.environ)
    try:
        endpoint = f"http://127.0.0.1:{port}"
        env = {"AWS_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
               "AWS_LAMBDA_FUNCTION_NAME": "social-care-desk-dev", "AWS_ACCESS_KEY_ID": "bench",
               "AWS_SECRET_ACCESS_KEY": "bench", "TABLE_NAME": "social-care-desk",
               "MODEL_BUCKET": "social-care-models-bench", "POWERTOOLS_LOG_LEVEL": "ERROR",
               "POWERTOOLS_METRICS_NAMESPACE": "SocialCare", "X_CONSUMER_SECRET": X_SECRET,
               "META_APP_SECRET": "m", "META_VERIFY_TOKEN": "v", "API_CHANNEL_SECRET": "a"}
        os.environ.pop("PLATFORM_SECRET_ID", None)
        os.environ.update(env)
        from chalicelib import aws, config
        from infra.local import payloads as p
        from infra.local import stack

        config.reset()
        aws.reset()
        os.environ.pop("AWS_LAMBDA_FUNCTION_NAME")  # that is the child's: here boto3 makes the queues
        made = stack.provision("us-east-1", env["MODEL_BUCKET"], {})
        env.update(made["queue_urls"])
        results = []
        for i in range(runs):
            body = p.encode(p.x_tweet_event("1500000000000000001", str(1_880_000_000_000_000_000 + i),
                                            {"id": str(8_000_000_000 + i), "name": "Cold", "handle": "cold"},
                                            "@NordlightShop my order never arrived"))
            signature = p.sign_x(body, X_SECRET)["x-twitter-webhooks-signature"]
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            done = subprocess.run(_cmd(cache, "-c", WEBHOOK_SCRIPT, body.decode(), signature), cwd=ROOT,
                                  env=_env(cache, env), capture_output=True, text=True)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if done.returncode != 0:
                raise RuntimeError(f"webhook cold start failed: {done.stderr[-2000:]}")
            results.append({**json.loads(done.stdout.strip().splitlines()[-1]), "cpu": (
                after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000})
        queued = aws.client("sqs").get_queue_attributes(QueueUrl=env["INGEST_QUEUE_URL"], AttributeNames=[
            "ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"]
        aws.reset()
    finally:
        os.environ.clear()
        os.environ.update(saved)
        server.stop()
    median = {k: statistics.median(r[k] for r in results) for k in ("import_app", "first_webhook", "total", "cpu")}
    return {**median, "status": results[-1]["status"], "queued": int(queued), "runs": runs}


def run(runs: int = 3) -> dict:
    cache = stdlib_only_cache()
    figures = {"interpreter": interpreter_ms(), "webhook": webhook_ms(cache, runs)}
    figures["handlers"] = {name: import_ms(code, cache, runs) for name, code in HANDLERS.items()}
    return figures


def lines(figures: dict) -> list[str]:
    w = figures["webhook"]
    out = ["Cold start without bytecode cache (stdlib compiled, app and dependencies from source; "
           f"median of {w['runs']}, ms; interpreter start {figures['interpreter']:.0f} ms not included)",
           f"  webhook as Lambda pays it: {w['total']:,.0f} ms = import app.py {w['import_app']:,.0f} + first signed "
           f"X webhook to the enqueue {w['first_webhook']:,.0f} (answered {w['status']}, "
           f"{w['queued']} queued); the child's CPU {w['cpu']:,.0f} ms, interpreter start included "
           "(steadier than the clock on a busy machine)"]
    out.append(f"  {'imports of each handler':<26} {'clock':>7} {'CPU':>7}")
    out += [f"  {name:<26} {ms:7,.0f} {cpu:7,.0f}" for name, (ms, cpu) in figures["handlers"].items()]
    return out


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench coldstart", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    figures = run(args.runs)
    print(json.dumps(figures) if args.json else "\n".join(lines(figures)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
