"""`make bench`: figures, not pass/fail.

`python -m bench` prints them all: the classifiers, routing, throughput, what a mention costs at
the AWS wire and the cold starts. Two of them run alone, in a few lines, for anyone changing keys,
writes or imports:

    python -m bench cost [-n 200] [--brief] [--json]   requests, capacity units, $ and the hottest key
    python -m bench coldstart [--runs 5] [--webhook-only] [--json]
    python -m bench suggestions [--seed 16] [--json] [--write FILE]
                                                       suggested answers: hit@5 of the sent reply
                                                       against the brand's most frequent reply
                                                       the webhook's cold start as Lambda pays it
                                                       (issue 13's budget) and each handler's imports

Cost (bench/cost.py, bench/meter.py) and cold start (bench/coldstart.py) document their method;
docs/BENCHMARKS.md has the prices, the commands and the figures. Throughput: webhook
verify+parse of a batched Meta delivery in process, and the ingest worker end to end against
moto's in-process DynamoDB and SQS.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

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
        import contextlib
        import io

        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # a log line and an EMF line per mention
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
    print("\n== Throughput ==")
    print(f"Webhook verify+parse (Meta, 100-entry batch): {parse_throughput():,.0f} mentions/s")
    print(f"Ingest worker end to end under moto in-process: {ingest_throughput():,.0f} mentions/s "
          "(moto-bound; DynamoDB in AWS is faster per call but over the network)")
    # each in its own interpreter: the cost run installs a botocore hook and imports the app under moto
    print("\n== Suggested answers ==", flush=True)
    from bench import suggestions

    suggestions.main([])
    print("\n== Cost at the AWS wire ==", flush=True)
    subprocess.run([sys.executable, "-m", "bench", "cost"], check=True)
    print("\n== Cold start ==", flush=True)
    subprocess.run([sys.executable, "-m", "bench", "coldstart"], check=True)
    return 0


def dispatch(argv: list[str]) -> int:
    if argv and argv[0] == "cost":
        from bench import cost

        return cost.main(argv[1:])
    if argv and argv[0] == "suggestions":
        from bench import suggestions

        return suggestions.main(argv[1:])
    if argv and argv[0] == "coldstart":
        from bench import coldstart

        return coldstart.main(argv[1:])
    if argv:
        print(__doc__)
        return 2
    return main()


if __name__ == "__main__":
    sys.exit(dispatch(sys.argv[1:]))
