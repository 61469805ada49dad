"""`make bench`: figures, not pass/fail. Cold-start imports per handler, and ingest throughput.

Cold start: each measurement is a fresh interpreter importing what that Lambda imports on its
first event (median of 5). Throughput: webhook verify+parse of a batched Meta delivery in
process, and the ingest worker end to end against moto's in-process DynamoDB and SQS.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

COLD_STARTS = {
    "app.py only": "import app",
    "webhook (meta)": ("import app; import chalicelib.ingest, chalicelib.channels.registry, chalicelib.channels.meta.webhook, "
                       "chalicelib.channels.facebook.webhook, chalicelib.queues, boto3"),
    "ingest worker": ("import app; import chalicelib.pipeline, chalicelib.classify, chalicelib.classify.priority, "
                      "aws_lambda_powertools.utilities.batch, boto3.dynamodb.types"),
    "x poller": "import app; import chalicelib.poller, chalicelib.channels.x.v2, boto3",
    "sla sweeper": "import app; import chalicelib.sweeper, chalicelib.sla, chalicelib.desk_settings, boto3",
    "outbound worker": ("import app; import chalicelib.outbound.worker, aws_lambda_powertools.utilities.batch, "
                        "boto3.dynamodb.types"),
}


def cold_start(code: str, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
        times.append(time.perf_counter() - started)
    baseline = statistics.median(
        _timed([sys.executable, "-c", "pass"]) for _ in range(runs))
    return (statistics.median(times) - baseline) * 1000


def _timed(cmd) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - started


def parse_throughput(n_entries: int = 100, rounds: int = 20) -> float:
    from chalicelib.channels import registry
    from chalicelib.channels.meta import WEBHOOK
    from chalicelib.channels.meta import webhook as meta
    from infra.local import payloads as p

    parts = registry.parts(WEBHOOK)

    payload = p.meta_payload("page", [p.meta_entry("104000000000001", messaging=[
        p.messenger_event("104000000000001", str(6000000000 + i), f"m_{i}", text="Hei, tilaukseni on myöhässä?")])
        for i in range(n_entries)])
    body = p.encode(payload)
    header = p.sign_meta(body, "bench-secret")["X-Hub-Signature-256"]
    import json

    started = time.perf_counter()
    for _ in range(rounds):
        meta.verify(body, header, "bench-secret")
        meta.parse(json.loads(body), parts)
    return n_entries * rounds / (time.perf_counter() - started)


def ingest_throughput(n: int = 200) -> float:
    os.environ.update({"AWS_ACCESS_KEY_ID": "b", "AWS_SECRET_ACCESS_KEY": "b", "AWS_DEFAULT_REGION": "eu-west-1",
                       "TABLE_NAME": "social-care-desk"})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from moto import mock_aws

    with mock_aws():
        from chalicelib import aws, config, pipeline
        from chalicelib.models import Author, Mention, MentionEnvelope, utcnow
        from chalicelib.store.dynamodb import DynamoStore
        from infra.local import stack

        config.reset()
        made = stack.provision("eu-west-1", "bench-bucket", {})
        os.environ.update(made["queue_urls"])
        config.reset()
        store = DynamoStore(aws.table())
        bodies = [MentionEnvelope(mention=Mention(
            platform="x", kind="tweet", brand_account_id="1", external_id=str(10 ** 18 + i),
            conversation_id=str(i % 50), author=Author(id=str(i % 80), name="n"),
            text="My order never arrived, please help", visibility="public", created_at=utcnow()),
            received_at=utcnow()).model_dump_json() for i in range(n)]
        started = time.perf_counter()
        for body in bodies:
            pipeline.handle_record(body, store)
        return n / (time.perf_counter() - started)


def main() -> int:
    from bench import langid, sentiment

    print("== Sentiment ==")
    sentiment.main()
    print("\n== Language identification ==")
    langid.main([])
    print("\n== Routing ==")
    from bench import routing_sim

    routing_sim.main()
    print("\n== Cold start and ingest ==")
    print("Cold start: import cost over a bare interpreter (median of 5, ms)")
    for name, code in COLD_STARTS.items():
        print(f"  {name:<18} {cold_start(code):8.0f}")
    print(f"Webhook verify+parse (Meta, 100-entry batch): {parse_throughput():,.0f} mentions/s")
    print(f"Ingest worker end to end under moto in-process: {ingest_throughput():,.0f} mentions/s "
          "(moto-bound; DynamoDB in AWS is faster per call but over the network)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
