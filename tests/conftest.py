"""Shared fixtures: the desk under moto's in-process AWS, built from infra/resources.py.

The app is imported inside the mock and every boto3 client is created lazily, so nothing
here can reach real AWS. Secrets are test values set in the environment.
"""
from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass
from typing import Any

import pytest

TEST_SECRETS = {
    "X_CONSUMER_SECRET": "test-x-consumer-secret",
    "META_APP_SECRET": "test-meta-app-secret",
    "META_VERIFY_TOKEN": "test-meta-verify-token",
    "API_CHANNEL_SECRET": "test-api-channel-secret",
    "X_BEARER_TOKEN": "test-x-bearer-token",
    "LOCAL_JWT_SECRET": "test-local-jwt-secret-of-32-bytes-or-more",  # HS256 wants >= 32
}
REGION = "eu-west-1"


def _share_botocore_data() -> None:
    """One botocore data loader for the whole test process.

    moto's `mock_aws` gives every test a new boto3 default session, and every new session read and
    parsed botocore's JSON (the endpoints, each service's model) again: a third of the suite's time.
    The files do not change during a run and botocore never changes what it loaded (one session
    already shares it between all its clients), so all sessions share one loader.
    """
    from botocore import loaders, session

    made: dict = {}

    def create_loader(search_path_string=None):
        if search_path_string not in made:
            made[search_path_string] = loaders.create_loader(search_path_string)
        return made[search_path_string]

    session.create_loader = create_loader


_share_botocore_data()


def _fast_transactions() -> None:
    """moto backs up the whole table on every TransactWriteItems, so a test's cost grew with the
    square of what it wrote; the local stack's fix (infra/local/fastmoto.py) backs up only the items
    a transaction touches and restores them if it is cancelled: the same answers and state."""
    from infra.local.fastmoto import fast_moto_transactions

    fast_moto_transactions()


_fast_transactions()


@pytest.fixture(autouse=True)
def _environment_kept():
    """What a test leaves in os.environ is put back after it. Chalice's test client sets the stage's
    variables (.chalice/config.json) around each request and restores what it found, so two
    requests in threads (the 409 race test) could leave POWERTOOLS_SERVICE_NAME or MODEL_BUCKET set
    for the rest of the worker: later tests then saw a `service` metric dimension or a model bucket,
    depending on which files the worker ran first."""
    before = dict(os.environ)
    yield
    if os.environ != before:
        os.environ.clear()
        os.environ.update(before)


@pytest.fixture(autouse=True)
def _local_state(_environment_kept, tmp_path, monkeypatch):
    """Nothing a test does may write into the checkout's .local-stack (the developer's secrets)."""
    monkeypatch.setenv("LOCAL_STATE_DIR", str(tmp_path / "local-stack"))


@pytest.fixture
def aws_env(monkeypatch):
    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "PLATFORM_SECRET_ID"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("TABLE_NAME", "social-care-desk")
    monkeypatch.setenv("MODEL_BUCKET", "social-care-models-test")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "SocialCare")
    # the desk runs on this machine, as under `make run`: API-channel callbacks may reach the
    # platform sandbox on loopback over http (chalicelib/netguard.py); the SSRF tests unset it
    monkeypatch.setenv("DESK_LOCAL", "1")
    for key, value in TEST_SECRETS.items():
        monkeypatch.setenv(key, value)
    return monkeypatch


@dataclass
class Desk:
    handlers: Any  # the app module: `handlers.app` is the Chalice app
    client: Any
    queue_urls: dict

    def sqs(self):
        from chalicelib import aws

        return aws.client("sqs")

    def drain(self, only: tuple = (), max_rounds: int = 50) -> dict:
        """Run the queue workers on what is queued, with real SQS events, until empty.

        `only` limits it to some workers by function name (e.g. ("ingest_worker",)).
        """
        from infra.local import stack

        sqs = self.sqs()
        counts: dict = {}
        for _ in range(max_rounds):
            moved = 0
            for worker in stack.workers(self.handlers):
                if only and worker.function_name not in only:
                    continue
                n = worker.poll_once(sqs)
                counts[worker.queue_name] = counts.get(worker.queue_name, 0) + n
                moved += n
            if not moved:
                break
        return counts

    def queued(self, env_var: str) -> list[dict]:
        """Read (and leave invisible for a while) everything on a queue; bodies parsed."""
        sqs = self.sqs()
        found = []
        while True:
            got = sqs.receive_message(QueueUrl=self.queue_urls[env_var], MaxNumberOfMessages=10,
                                      VisibilityTimeout=30).get("Messages", [])
            if not got:
                return found
            found += [json.loads(m["Body"]) for m in got]

    def store(self):
        from chalicelib import aws
        from chalicelib.store.dynamodb import DynamoStore

        return DynamoStore(aws.table())

    def ticket_stream_records(self) -> list[dict]:
        """Every ticket record on the table's stream so far (its one shard), as GetRecords gives them."""
        from chalicelib import aws
        from chalicelib.store import keys
        from infra.local import stack

        streams = stack.streams_client()
        arn = aws.client("dynamodb").describe_table(TableName="social-care-desk")["Table"]["LatestStreamArn"]
        [shard] = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records: list[dict] = []
        while True:
            got = streams.get_records(ShardIterator=iterator, Limit=1000)
            if not got["Records"]:
                return [r for r in records if r["dynamodb"]["Keys"]["SK"]["S"] == keys.TICKET_SK]
            records += got["Records"]
            iterator = got["NextShardIterator"]

    def post_tweet(self, brand_account: str, tweet_id: str, author: dict, text: str):
        """A signed X Account Activity delivery of one customer tweet, posted to the real route."""
        from infra.local import payloads as p

        body = p.encode(p.x_tweet_event(brand_account, tweet_id, author, text))
        return self.client.http.post("/webhooks/x", body=body, headers={
            "Content-Type": "application/json", **p.sign_x(body, TEST_SECRETS["X_CONSUMER_SECRET"])})


# The moto services `stack.provision` fills, and their state right after it, once per test process
PROVISIONED_SERVICES = ("dynamodb", "sqs", "sns", "s3", "secretsmanager")
_provisioned_state: dict = {}


def _backend_copy(state: dict) -> dict:
    """A deep copy of a moto backend's attributes; a queue's lock is a new lock, never shared."""
    import threading

    memo: dict = {}
    for queue in state.get("queues", {}).values():
        lock = getattr(queue, "_messages_lock", None)
        if lock is not None:
            memo[id(lock)] = threading.Condition()
    return copy.deepcopy(state, memo)


def _provisioned(provision) -> dict:
    """The provisioned desk in this test's fresh, empty moto: `provision()` itself the first time
    in a test process, then a copy of the state it left in moto's backends (the table, queues,
    topic and subscription, bucket and secret, each as provisioned, nothing a test did since),
    swapped in the way moto's own reset swaps a backend's attributes. The same resources without
    provision's ~20 AWS calls in every test."""
    from moto.backends import get_backend
    from moto.s3.models import s3_backends

    if not _provisioned_state:
        made = provision()
        backends = {name: {(account, region): _backend_copy(vars(backend))
                           for account, regions in get_backend(name).items() for region, backend in regions.items()}
                    for name in PROVISIONED_SERVICES}
        _provisioned_state.update(made=copy.deepcopy(made), backends=backends,
                                  buckets=dict(s3_backends.bucket_accounts))
        return made
    for name, backends in _provisioned_state["backends"].items():
        for (account, region), state in backends.items():
            get_backend(name)[account][region].__dict__ = _backend_copy(state)
    s3_backends.bucket_accounts.update(_provisioned_state["buckets"])
    return copy.deepcopy(_provisioned_state["made"])


@pytest.fixture
def desk(aws_env):
    from chalice.test import Client
    from moto import mock_aws

    with mock_aws():
        from chalicelib import config
        from infra.local import stack

        config.reset()
        secret = {k: v for k, v in TEST_SECRETS.items() if k != "LOCAL_JWT_SECRET"}
        made = _provisioned(lambda: stack.provision(REGION, "social-care-models-test", secret))
        for env_var, url in made["queue_urls"].items():
            aws_env.setenv(env_var, url)
        config.reset()
        from chalicelib import pipeline

        pipeline._known_accounts.clear()  # per-container caches; every test is a new AWS
        pipeline._rules_cache.clear()
        from chalicelib import desk_settings

        desk_settings._cache.clear()
        from chalicelib.classify import registry

        registry.reset()
        from chalicelib import auth

        auth.forget_brands()  # the callers' brands, cached per container
        from chalicelib import collab

        collab._names.clear()  # agents' names for the heartbeat, kept per container
        from chalicelib.store import tickets as ticket_store

        getattr(ticket_store, "_REGISTERED", {}).clear()  # the brands registered per container
        import app as handlers

        with Client(handlers.app) as client:
            yield Desk(handlers=handlers, client=client, queue_urls=made["queue_urls"])
        config.reset()
