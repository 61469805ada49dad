"""The whole desk on one machine: moto server, Chalice's local server, queue pollers, a clock.

`chalice local` runs no SQS, SNS or schedule handlers, so the pollers here receive from each
local queue and invoke the matching Chalice handler with a real SQS (or SNS) event, honouring
its partial batch response: failed records go back to the queue, and after the queue's
maxReceiveCount moto moves them to the dead-letter queue, as AWS does.
"""
from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from infra import resources
from infra.local import env

RETRY_VISIBILITY_SECONDS = 2  # a failed record comes back quickly locally


# -- bootstrap ------------------------------------------------------------------------------
def bootstrap() -> dict:
    """Create table, queues with DLQs, bucket, email topic and secrets on the endpoint. Idempotent."""
    settings = env.apply()
    secret = {k: v for k, v in env.local_secrets().items() if k != "LOCAL_JWT_SECRET"}
    made = provision(settings["AWS_DEFAULT_REGION"], settings["MODEL_BUCKET"], secret)
    env.remember_region(settings["AWS_DEFAULT_REGION"])
    return {"table": resources.TABLE_NAME, "queues": [q.name for q in resources.QUEUES],
            "topic": made["topic"], "bucket": settings["MODEL_BUCKET"], "secret": env.PLATFORM_SECRET_ID}


def provision(region: str, bucket: str, secret_values: dict) -> dict:
    """Make the resources of infra/resources.py wherever boto3 points (moto server or mock)."""
    import boto3

    ddb = boto3.client("dynamodb", region_name=region)
    if resources.TABLE_NAME not in ddb.list_tables()["TableNames"]:
        ddb.create_table(TableName=resources.TABLE_NAME, **resources.TABLE_DEFINITION, StreamSpecification={
            "StreamEnabled": True, "StreamViewType": resources.STREAM_VIEW_TYPE})
        ddb.update_time_to_live(TableName=resources.TABLE_NAME, TimeToLiveSpecification={
            "Enabled": True, "AttributeName": resources.TTL_ATTRIBUTE})
    sqs = boto3.client("sqs", region_name=region)
    urls = {spec.env_var: create_queue_pair(sqs, spec.name, spec.dlq_name, spec.visibility_timeout,
                                            spec.max_receive_count) for spec in resources.QUEUES}
    email_queue = create_queue_pair(sqs, env.EMAIL_QUEUE_NAME, env.EMAIL_QUEUE_NAME + "-dlq", 60, 5)
    sns = boto3.client("sns", region_name=region)
    topic_arn = sns.create_topic(Name=resources.EMAIL_TOPIC_NAME)["TopicArn"]
    email_queue_arn = sqs.get_queue_attributes(QueueUrl=email_queue, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=email_queue_arn)
    s3 = boto3.client("s3", region_name=region)
    # us-east-1 takes no location constraint (InvalidLocationConstraint if given one)
    where = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    try:
        s3.create_bucket(Bucket=bucket, **where)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    sm = boto3.client("secretsmanager", region_name=region)
    try:
        sm.create_secret(Name=env.PLATFORM_SECRET_ID, SecretString=json.dumps(secret_values))
    except sm.exceptions.ResourceExistsException:
        sm.put_secret_value(SecretId=env.PLATFORM_SECRET_ID, SecretString=json.dumps(secret_values))
    return {"queue_urls": urls, "topic": topic_arn}


def create_queue_pair(sqs, name: str, dlq_name: str, visibility: int, max_receive: int) -> str:
    dlq_url = sqs.create_queue(QueueName=dlq_name, Attributes={
        "MessageRetentionPeriod": str(resources.DLQ_RETENTION_SECONDS)})["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return sqs.create_queue(QueueName=name, Attributes={
        "VisibilityTimeout": str(visibility),
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive)}),
    })["QueueUrl"]


# -- handlers and the events they expect ----------------------------------------------------
class LambdaContext:
    def __init__(self, name: str):
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:eu-west-1:{env.ACCOUNT_ID}:function:{name}"
        self.memory_limit_in_mb = 512
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "local"
        self._deadline = time.time() + 60

    def get_remaining_time_in_millis(self) -> int:
        return int(max(self._deadline - time.time(), 0) * 1000)


def sqs_event(messages: list[dict], queue_arn: str) -> dict:
    return {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": {k: str(v) for k, v in m.get("Attributes", {}).items()},
        "messageAttributes": {}, "md5OfBody": m.get("MD5OfBody", ""), "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn, "awsRegion": queue_arn.split(":")[3],
    } for m in messages]}


def sns_event_from_sqs(messages: list[dict]) -> list[dict]:
    """SNS delivered to SQS wraps the notification; Lambda receives it as an SNS record."""
    events = []
    for m in messages:
        note = json.loads(m["Body"])
        events.append({"Records": [{
            "EventSource": "aws:sns", "EventVersion": "1.0",
            "EventSubscriptionArn": note.get("TopicArn", "") + ":local",
            "Sns": {"Type": note.get("Type", "Notification"), "MessageId": note.get("MessageId"),
                    "TopicArn": note.get("TopicArn"), "Subject": note.get("Subject"),
                    "Message": note["Message"], "Timestamp": note.get("Timestamp"),
                    "MessageAttributes": note.get("MessageAttributes", {})}}]})
    return events


@dataclass
class Worker:
    """One queue and the Chalice handler that consumes it."""

    queue_name: str
    handler: Callable[[dict, Any], Any]
    function_name: str
    kind: str = "sqs"  # or "sns": SNS notifications delivered through a local queue
    batch_size: int = 10
    own_visibility: bool = False  # the handler sets each failed record's retry delay itself
    _queue: tuple = ()  # (url, arn), looked up once per worker

    def queue(self, sqs) -> tuple[str, str]:
        if not self._queue:
            url = sqs.get_queue_url(QueueName=self.queue_name)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            self._queue = (url, arn)
        return self._queue

    def poll_once(self, sqs, wait_seconds: int = 0) -> int:
        """Receive one batch and hand it to the handler. Returns how many were received."""
        url, _ = self.queue(sqs)
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=self.batch_size,
                                  WaitTimeSeconds=wait_seconds, AttributeNames=["All"]).get("Messages", [])
        if not got:
            return 0
        if self.kind == "sns":
            self._deliver_sns(sqs, url, got)
        else:
            self._deliver_sqs(sqs, url, got)
        return len(got)

    def _deliver_sqs(self, sqs, url: str, got: list[dict]) -> None:
        _, arn = self.queue(sqs)
        try:
            result = self.handler(sqs_event(got, arn), LambdaContext(self.function_name)) or {}
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        except Exception as err:  # the whole batch failed, as Lambda would see it
            print(f"[{self.function_name}] batch failed: {type(err).__name__}: {err}", flush=True)
            failed = {m["MessageId"] for m in got}
        for m in got:
            if m["MessageId"] in failed and not self.own_visibility:  # own: it comes back when the handler said
                sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"],
                                              VisibilityTimeout=RETRY_VISIBILITY_SECONDS)
        self._delete(sqs, url, [m for m in got if m["MessageId"] not in failed])

    def _deliver_sns(self, sqs, url: str, got: list[dict]) -> None:
        done = []
        for m, event in zip(got, sns_event_from_sqs(got)):
            try:
                self.handler(event, LambdaContext(self.function_name))
            except Exception as err:
                print(f"[{self.function_name}] failed: {type(err).__name__}: {err}", flush=True)
                sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"],
                                              VisibilityTimeout=RETRY_VISIBILITY_SECONDS)
                continue
            done.append(m)
        self._delete(sqs, url, done)

    def _delete(self, sqs, url: str, done: list[dict]) -> None:
        """As Lambda's event source mapping: the records that succeeded go in one DeleteMessageBatch
        per batch (at most 10 a request), not a DeleteMessage each; one it could not delete comes
        back after the visibility timeout, as on AWS."""
        for start in range(0, len(done), 10):
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start:start + 10])]
            answer = sqs.delete_message_batch(QueueUrl=url, Entries=entries)
            for failure in answer.get("Failed", []):
                print(f"[{self.function_name}] not deleted: {failure.get('Code')}: {failure.get('Message')}", flush=True)


class StreamWorker:
    """The table's stream and its Chalice handler, as Lambda's event source mapping runs them: read
    each shard from where the last poll stopped (TRIM_HORIZON at first), keep only ticket records
    (the mapping's filter, infra/package.py), hand a batch to the handler; a batch that fails is read
    again on the next poll, as Lambda retries it. The place read up to is kept per stream and shard,
    with the last record's eventID: a table made again (a new test's moto) starts from its beginning."""

    queue_name = "table-stream"
    positions: dict = {}  # (stream arn, shard id) -> (sequence number, eventID) of the last record handled

    def __init__(self, handler: Callable[[dict, Any], Any], function_name: str, batch_size: int = 100):
        self.handler = handler
        self.function_name = function_name
        self.batch_size = batch_size

    def poll_once(self, sqs=None, wait_seconds: int = 0) -> int:
        """Read what is new on every shard and deliver it. Returns how many ticket records were delivered."""
        from chalicelib import aws

        ddb, streams = aws.client("dynamodb"), streams_client()
        arn = ddb.describe_table(TableName=resources.TABLE_NAME)["Table"].get("LatestStreamArn")
        if not arn:
            return 0
        delivered = 0
        for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            delivered += self._poll_shard(streams, arn, shard["ShardId"])
        if not delivered and wait_seconds:
            time.sleep(min(wait_seconds, 1))
        return delivered

    def _start(self, streams, arn: str, shard_id: str) -> str:
        known = self.positions.get((arn, shard_id))
        if known:
            iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, ShardIteratorType="AT_SEQUENCE_NUMBER",
                                                  SequenceNumber=known[0])["ShardIterator"]
            got = streams.get_records(ShardIterator=iterator, Limit=1)
            if [r["eventID"] for r in got["Records"]] == [known[1]]:
                return got["NextShardIterator"]
        return streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]

    def _poll_shard(self, streams, arn: str, shard_id: str) -> int:
        from chalicelib.stream import is_ticket

        iterator, delivered = self._start(streams, arn, shard_id), 0
        while iterator:
            got = streams.get_records(ShardIterator=iterator, Limit=self.batch_size)
            records = got.get("Records", [])
            if not records:
                return delivered
            tickets = [r for r in records if is_ticket(r)]
            if tickets:
                try:
                    self.handler(stream_event(tickets, arn, shard_id), LambdaContext(self.function_name))
                except Exception as err:  # read again next time, as Lambda retries the batch
                    print(f"[{self.function_name}] batch failed: {type(err).__name__}: {err}", flush=True)
                    return delivered
                delivered += len(tickets)
            last = records[-1]
            self.positions[(arn, shard_id)] = (last["dynamodb"]["SequenceNumber"], last["eventID"])
            iterator = got.get("NextShardIterator")
        return delivered


def streams_client():
    """A DynamoDB Streams client for the local endpoint or moto. botocore now addresses Streams at
    `<account>.streams-ddb.<region>`, a host moto's in-process mock does not answer: the regional
    endpoint it does is asked for instead."""
    import os

    import boto3
    from botocore.config import Config

    where = (_region(), os.environ.get("AWS_ENDPOINT_URL") or "")
    if where not in _streams_clients:
        _streams_clients[where] = boto3.client(
            "dynamodbstreams", region_name=where[0], endpoint_url=where[1] or None,
            config=Config(account_id_endpoint_mode="disabled"))
    return _streams_clients[where]


_streams_clients: dict = {}


def stream_event(records: list[dict], stream_arn: str, shard_id: str = "shardId-local") -> dict:
    """Lambda's event for one shard's stream records: as GetRecords gives them, with the stream's
    ARN and region, and the shard's id at the top (as Lambda gives it with a tumbling window)."""
    def wire(value):
        return value.timestamp() if hasattr(value, "timestamp") else value

    return {"Records": [{**r, "eventSourceARN": stream_arn, "awsRegion": stream_arn.split(":")[3],
                         "dynamodb": {k: wire(v) for k, v in r["dynamodb"].items()}} for r in records],
            "shardId": shard_id, "eventSourceARN": stream_arn}


def _region() -> str:
    import os

    return os.environ.get("AWS_DEFAULT_REGION", "eu-west-1")


def workers(handlers) -> list[Worker]:
    """`handlers` is the app module: its event handlers are module-level functions."""
    return [
        Worker(env.EMAIL_QUEUE_NAME, handlers.email_inbound, "email_inbound", kind="sns"),
        Worker(resources.queue("ingest").name, handlers.ingest_worker, "ingest_worker"),
        Worker(resources.queue("routing").name, handlers.route_worker, "route_worker"),
        Worker(resources.queue("outbound").name, handlers.outbound_worker, "outbound_worker", own_visibility=True),
        StreamWorker(getattr(handlers, resources.STREAM_FUNCTION), resources.STREAM_FUNCTION),
    ]


def schedules(handlers) -> list[tuple[str, Callable, int]]:
    return [("x_mentions_poller", handlers.x_mentions_poller, 60), ("sla_sweeper", handlers.sla_sweeper, 60),
            ("channel_health", handlers.channel_health, 900)]


def scheduled_event(name: str) -> dict:
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
            "source": "aws.events", "account": env.ACCOUNT_ID,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "region": _region(),
            "resources": [f"arn:aws:events:{_region()}:{env.ACCOUNT_ID}:rule/{name}"], "detail": {}}


def load_handlers():
    """The app module (its `app` is the Chalice object, its functions the handlers)."""
    env.apply()
    import app as handlers

    return handlers


def drain(handlers=None, idle_rounds: int = 2, max_seconds: float = 300) -> dict:
    """Process every queue until all are empty (twice in a row), then return the counts."""
    import boto3

    handlers = handlers or load_handlers()
    sqs = boto3.client("sqs", region_name=_region())
    counts = {w.queue_name: 0 for w in workers(handlers)}
    idle, started = 0, time.time()
    while idle < idle_rounds and time.time() - started < max_seconds:
        moved = 0
        for worker in workers(handlers):
            n = worker.poll_once(sqs)
            counts[worker.queue_name] += n
            moved += n
        idle = idle + 1 if moved == 0 and _all_empty(sqs) else 0
        if moved == 0 and idle < idle_rounds:
            time.sleep(0.2)
    return counts


def _all_empty(sqs) -> bool:
    for name in [env.EMAIL_QUEUE_NAME] + [q.name for q in resources.QUEUES if q.key != "outbound"]:
        attrs = sqs.get_queue_attributes(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"], AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        if int(attrs["ApproximateNumberOfMessages"]) or int(attrs["ApproximateNumberOfMessagesNotVisible"]):
            return False
    return True


def _one_call_at_a_time() -> None:
    """moto's DynamoDB is not thread-safe (a query racing a write fails with "dictionary changed
    size during iteration"); DynamoDB answers each call atomically. One lock around each DynamoDB
    request makes the local table behave like that, whatever the workers, sweeper and API do."""
    from moto.moto_server import werkzeug_app

    app_class = werkzeug_app.DomainDispatcherApplication
    if getattr(app_class, "_desk_serialised", False):
        return
    lock = threading.Lock()
    original = app_class.__call__

    def serialised(self, environ, start_response):
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
            return original(self, environ, start_response)  # SQS long polls must not hold the lock
        with lock:
            return list(original(self, environ, start_response))

    app_class.__call__ = serialised
    app_class._desk_serialised = True


# -- long-running services ------------------------------------------------------------------
class Services:
    def __init__(self) -> None:
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self.moto = None
        self.api = None
        self.sandbox = None

    def start_moto(self, port: int) -> None:
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access line per AWS call is noise

        _one_call_at_a_time()
        from infra.local.fastmoto import fast_moto_transactions

        fast_moto_transactions()  # a transaction backs up the items it touches, not the whole table
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self.moto.start()

    def start_sandbox(self, port: int) -> None:
        from infra.local import sandbox

        self.sandbox = sandbox.start(port=port)

    def start_api(self, handlers, port: int) -> None:
        from chalice.config import Config
        from chalice.local import create_local_server

        server = create_local_server(handlers.app, Config(chalice_stage="dev"), "127.0.0.1", port)
        server.server.daemon_threads = True
        self.api = server
        self._spawn("api", server.serve_forever)

    def start_workers(self, handlers) -> None:
        import boto3

        for worker in workers(handlers):
            sqs = boto3.client("sqs", region_name=_region())
            self._spawn(worker.function_name, self._poll_forever, worker, sqs)

    def start_clock(self, handlers) -> None:
        for name, handler, every in schedules(handlers):
            self._spawn(name, self._tick, name, handler, every)

    def _poll_forever(self, worker: Worker, sqs) -> None:
        while not self.stop_event.is_set():
            try:
                worker.poll_once(sqs, wait_seconds=1)
            except Exception as err:  # keep polling: a local hiccup must not stop the desk
                print(f"[{worker.function_name}] poller error: {err}", flush=True)
                self.stop_event.wait(1)

    def _tick(self, name: str, handler, every: int) -> None:
        while not self.stop_event.is_set():
            try:
                handler(scheduled_event(name), LambdaContext(name))
            except Exception as err:
                print(f"[{name}] schedule error: {err}", flush=True)
            self.stop_event.wait(every)

    def _spawn(self, name: str, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def stop(self) -> None:
        self.stop_event.set()
        if self.api:
            self.api.shutdown()
        if self.sandbox:
            self.sandbox.stop()
        if self.moto:
            self.moto.stop()


def wait_http(url: str, timeout: float = 30) -> None:
    import urllib.request

    deadline = time.time() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status < 500:
                    return
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def ticket_lines(store) -> list[dict]:
    """The `tickets` command's rows: one dict a ticket, messages in order."""
    rows = []
    for t in sorted(store.all_tickets(), key=lambda t: t["created_at"]):
        rows.append({"id": t["id"], "channel": t["channel"], "status": t["status"],
                     "priority": t.get("priority", 0), "customer_id": t.get("customer_id"),
                     "messages": [{"direction": m["direction"], "text": m.get("text", ""),
                                   "platform_message_id": m.get("platform_message_id")}
                                  for m in (m.to_item() for m in store.messages.timeline(t["id"]))]})
    return rows


def quarantine_lines(store) -> list[dict]:
    return [{"id": q["id"], "route": q["route"], "reason": q["reason"], "received_at": q["received_at"]}
            for q in store.quarantined()]


def store():
    from chalicelib import aws
    from chalicelib.store.dynamodb import DynamoStore

    env.apply()
    return DynamoStore(aws.table())

