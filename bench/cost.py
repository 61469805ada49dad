"""`python -m bench cost`: what one mention costs at the AWS wire, end to end.

N mentions (200 by default), each a tweet from its own customer in its own conversation, go
through the real webhook route (`POST /webhooks/x`, signed) of the real Chalice app; the real
ingest, routing and outbound workers run on them with real SQS events, received from moto's
queues the way the local stack's pollers do (`infra.local.stack.Worker`, batches of 10); a
quarter of the tickets are answered through `POST /api/tickets/{id}/replies` by their assignee,
each reply goes out to the platform sandbox over HTTP, and the sandbox's echo of it comes back
through the webhook. All of it against moto in-process (`mock_aws`), with the demo seed (brand
accounts, tokens, agents, rules, templates): the in-process equivalent of `make run`.

Every request the desk's boto3 clients send while the mentions go through is counted by
`bench.meter` (the seed and the listing of tickets to answer are not). Requests made by the
stand-in for Lambda's SQS poller (receive, delete, visibility) are counted apart as "event
source": on AWS, Lambda's event source mapping makes them and they are billed as SQS requests.
"""
from __future__ import annotations

import contextlib
import io
import json
import re
import os
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

REGION = "us-east-1"
BRAND = "nordlight"
SECRETS = {
    "X_CONSUMER_SECRET": "bench-x-consumer-secret",
    "META_APP_SECRET": "bench-meta-app-secret",
    "META_VERIFY_TOKEN": "bench-meta-verify-token",
    "API_CHANNEL_SECRET": "bench-api-channel-secret",
    "X_BEARER_TOKEN": "bench-x-bearer-token",
    "LOCAL_JWT_SECRET": "bench-local-jwt-secret-of-32-bytes-or-more",
}

# On-demand list prices, us-east-1 (docs/BENCHMARKS.md gives their date and source).
PRICES = {
    "dynamodb_write_unit": 0.625 / 1e6,  # per write request unit (1 KB)
    "dynamodb_read_unit": 0.125 / 1e6,  # per read request unit (4 KB strongly consistent; 2 eventual)
    "sqs_request": 0.40 / 1e6,  # standard queue, per request (64 KB chunk), after the first million
    "s3_put": 0.005 / 1e3,  # PUT, COPY, POST, LIST (S3 Standard)
    "s3_get": 0.0004 / 1e3,  # GET and the rest
    "secretsmanager_call": 0.05 / 1e4,  # per 10,000 API calls
}
PRICES_DATE = "2026-11-27 (us-east-1 list prices, unchanged since DynamoDB on-demand's cut of 2024-11-01)"
# Provisioned capacity, us-east-1, per capacity unit-hour; a projection for a steady 1,000 mentions/s
# with auto scaling at its default 70% target utilisation (what a unit of work costs at that rate).
PROVISIONED = {"wcu_hour": 0.00065, "rcu_hour": 0.00013, "utilisation": 0.70}


def provisioned_unit_prices() -> tuple[float, float]:
    """$ per write unit and per read unit on provisioned capacity kept PROVISIONED['utilisation'] busy."""
    busy = 3600 * PROVISIONED["utilisation"]
    return PROVISIONED["wcu_hour"] / busy, PROVISIONED["rcu_hour"] / busy


def item_kind(key: str, index: str = "table") -> str:
    """A partition key's shape, ids and times folded (`TICKET#<id>`, `DUE#<minute>#<n>`)."""
    if index == "ByAssignee":
        return "<agent id>"
    key = re.sub(r"^AGENT#.+$", "AGENT#<id>", key)
    key = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<id>", key)
    key = re.sub(r"\d{4}-\d\d-\d\dT[\d:]+", "<time>", key)
    key = re.sub(r"^SEARCH#([^#]+)#[^.]+\.", r"SEARCH#\1#<token>.", key)
    return re.sub(r"\d+", "<n>", key)


@dataclass
class Result:
    n: int
    answered: int
    tally: object
    seconds: float
    problems: list = field(default_factory=list)
    sweep: object = None  # the tally of one SLA sweeper run after the mentions

    # -- figures per mention
    def per_mention(self) -> dict:
        t, n = self.tally, self.n
        by_op = defaultdict(float)
        for (caller, service, op), count in t.requests.items():
            by_op[(service, op, caller)] += count / n
        return dict(by_op)

    def wcu(self) -> float:
        return sum(self.tally.wcu.values()) / self.n

    def rcu(self) -> float:
        return sum(self.tally.rcu.values()) / self.n

    def dollars_per_million(self) -> dict:
        t, n = self.tally, self.n
        sqs = sum(c for (s, _), c in t.billed.items() if s == "sqs")
        s3_put = sum(c for (s, op), c in t.billed.items() if s == "s3" and op in ("PutObject", "CopyObject",
                                                                                   "ListObjectsV2", "ListObjects"))
        s3_get = sum(c for (s, _), c in t.billed.items() if s == "s3") - s3_put
        sm = sum(c for (s, _), c in t.billed.items() if s == "secretsmanager")
        dollars = {
            "dynamodb": sum(t.wcu.values()) * PRICES["dynamodb_write_unit"]
            + sum(t.rcu.values()) * PRICES["dynamodb_read_unit"],
            "sqs": sqs * PRICES["sqs_request"],
            "s3": s3_put * PRICES["s3_put"] + s3_get * PRICES["s3_get"],
            "secretsmanager": sm * PRICES["secretsmanager_call"],
        }
        return {k: v / n * 1e6 for k, v in dollars.items()}

    def provisioned_per_million(self) -> float:
        """DynamoDB's $ per million mentions on provisioned capacity (PROVISIONED), a projection."""
        write, read = provisioned_unit_prices()
        return (self.wcu() * write + self.rcu() * read) * 1e6

    def by_item(self) -> list[tuple[str, str, float]]:
        """[(table or index, key shape, WCU per mention)], most first."""
        folded: dict = defaultdict(float)
        for (index, key), units in self.tally.key_wcu.items():
            folded[(index, item_kind(key, index))] += units / self.n
        return [(i, k, u) for (i, k), u in sorted(folded.items(), key=lambda kv: -kv[1])]

    def reads_by_item(self) -> list[tuple[str, float]]:
        """[(key shape read, RCU per mention)], most first (a query shown as "<index> <key>")."""
        folded: dict = defaultdict(float)
        for key, units in self.tally.key_rcu.items():
            index, _, value = key.rpartition(" ") if " " in key else ("table", "", key)
            folded[f"{index} {item_kind(value, index)}"] += units / self.n
        return sorted(folded.items(), key=lambda kv: -kv[1])

    def hottest(self, top: int = 3) -> list[tuple]:
        """[(index, key, WCU per mention, WCU/s at 1,000 mentions/s)], hottest first."""
        return [(index, key, units / self.n, units / self.n * 1000)
                for (index, key), units in self.tally.key_wcu.most_common(top)]

    def lines(self, detail: bool = True) -> list[str]:
        t, n = self.tally, self.n
        dollars = self.dollars_per_million()
        ddb = t.total("dynamodb") / n
        sqs_app, sqs_es = t.total("sqs", "app") / n, t.total("sqs", "event source") / n
        out = [f"Cost per mention at the AWS wire ({n} mentions in separate conversations, {self.answered} answered; "
               f"{self.seconds:.0f} s)",
               f"  DynamoDB {ddb:.1f} requests, {self.wcu():.1f} WCU, {self.rcu():.1f} RCU; "
               f"SQS {sqs_app + sqs_es:.1f} requests ({sqs_app:.1f} by the desk, {sqs_es:.1f} by the event source); "
               + ", ".join(f"{s} {t.total(s) / n:.2f}" for s in sorted({s for _, s, _ in t.requests})
                           if s not in ("dynamodb", "sqs")),
               f"  $ per million mentions (us-east-1 on-demand): DynamoDB {dollars['dynamodb']:.2f} + "
               f"SQS {dollars['sqs']:.2f} = {dollars['dynamodb'] + dollars['sqs']:.2f}"
               + "".join(f"; {k} {v:.2f}" for k, v in dollars.items() if k not in ("dynamodb", "sqs") and v),
               f"  projection, provisioned capacity with auto scaling at {PROVISIONED['utilisation']:.0%} (a steady "
               f"1,000 mentions/s): DynamoDB {self.provisioned_per_million():.2f} + SQS {dollars['sqs']:.2f} = "
               f"{self.provisioned_per_million() + dollars['sqs']:.2f}"]
        for index, key, per, rate in self.hottest(3):
            writes = t.key_writes[(index, key)]
            ops = ", ".join(f"{op} {u / n:.2f}" for (i, k, op), u in t.key_ops.most_common() if (i, k) == (index, key))
            out.append(f"  hot key {index} {key!r}: {per:.2f} WCU/mention ({writes} writes: {ops}) -> {rate:,.0f} WCU/s "
                       f"at 1,000 mentions/s ({rate / 1000:.1f}x a partition's 1,000)")
        if self.sweep is not None:
            s = self.sweep
            out.append(f"  sla sweeper, one run after the mentions (per minute, not per mention): "
                       f"{s.total()} requests ({', '.join(f'{op} {c}' for (_, _, op), c in s.requests.most_common())}), "
                       f"{sum(s.rcu.values()):.1f} RCU, {sum(s.wcu.values()):.1f} WCU")
        if detail:
            out.append("  WCU per mention by item (partition key shape):")
            out += [f"    {index:<10} {kind:<36} {units:6.2f}" for index, kind, units in self.by_item() if units >= 0.005]
            out.append("  RCU per mention by item read (partition key shape):")
            out += [f"    {kind:<47} {units:6.2f}" for kind, units in self.reads_by_item() if units >= 0.005]
            out.append("  requests per mention by operation (caller):")
            for (service, op, caller), per in sorted(self.per_mention().items(), key=lambda kv: -kv[1]):
                units = ""
                if service == "dynamodb":
                    units = f"  {t.wcu.get(op, 0) / n:.2f} WCU  {t.rcu.get(op, 0) / n:.2f} RCU"
                out.append(f"    {service:<15} {op:<26} {per:6.2f}  {'' if caller == 'app' else '(' + caller + ')'}"
                           f"{units}")
        errors = {k: v for k, v in t.errors.items()}
        if errors:
            out.append("  refused or failed requests: " + ", ".join(f"{s}.{op} {code} x{c}"
                                                                    for (s, op, code), c in errors.items()))
        out += [f"  problem: {p}" for p in self.problems]
        return out


def _environment(state_dir: str) -> None:
    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "PLATFORM_SECRET_ID"):
        os.environ.pop(key, None)
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_SESSION_TOKEN": "bench",
        "AWS_DEFAULT_REGION": REGION, "TABLE_NAME": "social-care-desk", "MODEL_BUCKET": "social-care-models-bench",
        "POWERTOOLS_METRICS_NAMESPACE": "SocialCare", "POWERTOOLS_LOG_LEVEL": "ERROR", "DESK_LOCAL": "1",
        "LOCAL_STATE_DIR": state_dir, **SECRETS})


def run(n: int = 200, answer_every: int = 4, quiet: bool = True) -> Result:
    from bench.meter import Meter, fast_moto_transactions

    fast_moto_transactions()
    meter = Meter().install()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as state_dir:
        _environment(state_dir)
        sink = io.StringIO()  # Powertools' EMF lines and logs: one per mention is noise here
        with (contextlib.redirect_stdout(sink) if quiet else contextlib.nullcontext()):
            try:
                result = _drive(meter, n, answer_every)
            finally:
                meter.uninstall()
    result.seconds = time.perf_counter() - started
    return result


def _drive(meter, n: int, answer_every: int) -> Result:
    import boto3
    from chalice.test import Client
    from moto import mock_aws

    with mock_aws():
        from chalicelib import aws, config

        aws.reset()
        config.reset()
        from infra.local import demo, sandbox as sb, stack

        made = stack.provision(REGION, os.environ["MODEL_BUCKET"],
                               {k: v for k, v in SECRETS.items() if k != "LOCAL_JWT_SECRET"})
        os.environ.update(made["queue_urls"])
        with sb.start(port=0) as box:
            os.environ.update({"X_API_BASE": box.url, "GRAPH_API_BASE": box.graph_url})
            config.reset()
            aws.reset()
            from chalicelib.outbound import credentials

            credentials.reset()
            import app as handlers
            from chalicelib.store.dynamodb import DynamoStore

            store = DynamoStore(aws.table())
            demo.seed(store)
            for agent in demo.AGENTS:  # room for every ticket: each mention is assigned, as on a staffed desk
                seeded = store.agents.get(agent["id"])
                store.agents.put(seeded.model_copy(update={"capacity": max(seeded.capacity, n)}))
            demo.register_tokens(box)
            box.configure_echoes(SECRETS["X_CONSUMER_SECRET"], SECRETS["META_APP_SECRET"])
            poller = boto3.session.Session().client("sqs", region_name=REGION)
            meter.event_source(poller)
            workers = stack.workers(handlers)
            with Client(handlers.app) as client:
                return _mentions(meter, client, workers, poller, box, demo, n, answer_every)


def _drain(workers, poller, max_rounds: int = 500) -> None:
    idle = 0
    for _ in range(max_rounds):
        moved = sum(w.poll_once(poller) for w in workers)
        idle = idle + 1 if not moved else 0
        if idle >= 2:  # every queue answered empty twice in a row (a failed record comes back in 2 s)
            return


def _mentions(meter, client, workers, poller, box, demo, n: int, answer_every: int) -> Result:
    from chalicelib.auth import mint
    from infra.local import payloads as p

    brand_x = demo.BRANDS[BRAND]["x"]["id"]
    problems: list = []
    meter.reset()
    meter.recording = True
    # 1. n mentions through the webhook, each its own customer and conversation
    for i in range(n):
        body = p.encode(p.x_tweet_event(brand_x, str(1_870_000_000_000_000_000 + i),
                                        {"id": str(7_000_000_000 + i), "name": f"Customer {i}", "handle": f"cust{i}"},
                                        f"@NordlightShop order #{4000 + i} never arrived, can you help?"))
        answer = client.http.post("/webhooks/x", body=body, headers={
            "Content-Type": "application/json", **p.sign_x(body, SECRETS["X_CONSUMER_SECRET"])})
        if answer.status_code != 200:
            problems.append(f"webhook answered {answer.status_code}: {answer.body[:200]!r}")
    _drain(workers, poller)
    # 2. which tickets to answer (not counted: a listing an agent's inbox would page anyway)
    meter.recording = False
    tickets = _open_tickets(client, mint)
    meter.recording = True
    chosen = sorted(tickets, key=lambda t: (not t.get("assignee"), t["id"]))[: n // answer_every]
    if len(tickets) < n:
        problems.append(f"{len(tickets)} open tickets for {n} mentions")
    supervisor = next(a["id"] for a in demo.AGENTS if a["role"] == "supervisor")
    answered = 0
    for ticket in chosen:
        who, role = (ticket["assignee"], "agent") if ticket.get("assignee") else (supervisor, "supervisor")
        answer = client.http.post(f"/api/tickets/{ticket['id']}/replies", headers={
            "Authorization": f"Bearer {mint(who, role, SECRETS['LOCAL_JWT_SECRET'])}",
            "Content-Type": "application/json"},
            body=json.dumps({"text": f"So sorry about order {ticket['id'][-4:]}! We are checking it now.",
                             "visibility": "public"}))
        if answer.status_code == 202:
            answered += 1
        else:
            problems.append(f"reply answered {answer.status_code}: {answer.body[:200]!r}")
    _drain(workers, poller)
    # 3. the platform's echoes of the answers come back through the webhook
    deadline = time.time() + 10
    echoed = 0
    while echoed < answered and time.time() < deadline:
        for echo in box.take_echoes():
            echoed += 1
            answer = client.http.post(echo["path"], body=echo["body"].encode("utf-8"), headers=echo["headers"])
            if answer.status_code != 200:
                problems.append(f"echo answered {answer.status_code}")
        time.sleep(0.05)
    _drain(workers, poller)
    meter.recording = False
    tally = meter.tally
    # 4. one run of the SLA sweeper over what is open now: a per-minute cost, shown apart
    meter.reset()
    meter.recording = True
    try:
        from infra.local import stack

        handlers = {name: fn for name, fn, _ in stack.schedules(_app())}
        handlers["sla_sweeper"](stack.scheduled_event("sla_sweeper"), stack.LambdaContext("sla_sweeper"))
    except Exception as err:
        problems.append(f"sla sweeper failed: {type(err).__name__}: {err}")
    meter.recording = False
    sweep, meter.tally = meter.tally, tally
    if answered and not echoed:
        problems.append("no echo came back from the sandbox")
    problems = [f"{c} x {p}" if c > 1 else p for p, c in Counter(problems).items()]
    return Result(n=n, answered=answered, tally=tally, seconds=0.0, problems=problems, sweep=sweep)


def _app():
    import app as handlers

    return handlers


def _open_tickets(client, mint) -> list[dict]:
    token = mint("bench-admin", "admin", SECRETS["LOCAL_JWT_SECRET"])
    found, cursor = [], None
    while True:
        path = "/api/tickets?limit=100" + (f"&cursor={cursor}" if cursor else "")
        answer = client.http.get(path, headers={"Authorization": f"Bearer {token}"})
        page = json.loads(answer.body)
        found += page.get("items", [])
        cursor = page.get("next_cursor")
        if not cursor:
            return found


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench cost", description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="mentions (default 200)")
    parser.add_argument("--brief", action="store_true", help="the summary lines only")
    parser.add_argument("--json", action="store_true", help="the figures as one JSON object")
    args = parser.parse_args(argv)
    result = run(args.n)
    if args.json:
        print(json.dumps(summary(result)))
    else:
        print("\n".join(result.lines(detail=not args.brief)))
    return 0


def summary(result: Result) -> dict:
    t, n = result.tally, result.n
    return {"mentions": n, "answered": result.answered,
            "dynamodb_requests": t.total("dynamodb") / n, "wcu": result.wcu(), "rcu": result.rcu(),
            "sqs_requests": t.total("sqs") / n, "sqs_requests_desk": t.total("sqs", "app") / n,
            "dollars_per_million": result.dollars_per_million(),
            "dynamodb_dollars_per_million_provisioned": result.provisioned_per_million(),
            "wcu_by_item": {f"{i} {k}": u for i, k, u in result.by_item()},
            "rcu_by_item": dict(result.reads_by_item()),
            "hottest": [{"index": i, "key": k, "wcu_per_mention": w, "wcu_per_s_at_1000": r}
                        for i, k, w, r in result.hottest(3)],
            "requests": {f"{s}.{op}" + ("" if c == "app" else f" ({c})"): v
                         for (s, op, c), v in result.per_mention().items()},
            "sweeper_run": None if result.sweep is None else {
                "requests": result.sweep.total(), "rcu": sum(result.sweep.rcu.values()),
                "wcu": sum(result.sweep.wcu.values())},
            "problems": result.problems}


if __name__ == "__main__":
    import sys

    sys.exit(main())
