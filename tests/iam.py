"""Run a Lambda function's code under the IAM policy it is deployed with, enforced by moto.

Every function of the app has its own policy file (`.chalice/config.json`, `lambda_functions`);
`policy_document` reads the one Chalice would deploy, by Chalice's own config lookup. `Enforcement`
makes one IAM role per function in moto with exactly that document, assumes it, and switches on
moto's access control (`INITIAL_NO_AUTH_ACTION_COUNT` = 0); `acting_as(function)` then puts that
role's credentials where the code's boto3 clients read them (the environment) and empties the
per-container caches, as a cold Lambda container would be.

moto's access control alone would not be enough (moto 5.2, `moto/core/authorization.py`,
`moto/iam/access_control.py`): it checks the *action* for every service, but the *resource* only
for SQS and S3 — DynamoDB, Secrets Manager and SES requests are checked against "*", which no
resource-scoped statement matches — and it names the action after the API operation, where AWS
authorises some operations as others. So for those services `Enforcement` asks moto's own policy
engine about each (action, resource) pair AWS would check:

* DynamoDB: the table's or the index's ARN; TransactWriteItems as PutItem, UpdateItem, DeleteItem
  or ConditionCheckItem per item, TransactGetItems as GetItem per item (AWS: "Using IAM with
  DynamoDB transactions"); BatchGetItem and BatchWriteItem per table.
* SQS: the queue's ARN; SendMessageBatch as SendMessage, DeleteMessageBatch as DeleteMessage,
  ChangeMessageVisibilityBatch as ChangeMessageVisibility (AWS: SQS API permissions reference).
* Secrets Manager: the secret's full ARN (with its random six-character suffix).
* SES: the sending identity (`identity/<Source>`).

Wildcards are matched as IAM does (`*` any run, `?` one character; moto reads patterns as regular
expressions). Every decision is recorded with the role that asked, so a denial the code swallows
(a brand model that silently falls back, a retry delay that is only logged) still fails a test.
The Lambda service's own calls for a function are made under its role too: the SQS event source
mapping (`deliver`) receives and deletes with the function's credentials, as AWS does. A role (not
an IAM user) per function, assumed through STS: the same kind of credentials Lambda hands a function.
"""
from __future__ import annotations

import json
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional

ROOT = Path(__file__).resolve().parents[1]
ROLE_PREFIX = "social-care-desk-"
LAMBDA_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


# -- what is deployed ---------------------------------------------------------------------------
def function_names() -> list[str]:
    """Every Lambda function Chalice makes of app.py, by its Chalice name."""
    import sys

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from app import app

    return ["api_handler", *(a.name for a in app.builtin_auth_handlers),
            *(h.name for h in app.event_sources), *(f.name for f in app.pure_lambda_functions)]


def policy_file(function: str, stage: str = "dev") -> Path:
    """The policy file `chalice package --stage STAGE` gives `function` (autogen_policy is off)."""
    from chalice.config import Config

    config = Config(chalice_stage=stage, function_name=function, user_provided_params={},
                    config_from_disk=json.loads((ROOT / ".chalice" / "config.json").read_text()))
    assert config.autogen_policy is False, "policies are ours, not Chalice's guess"
    return ROOT / ".chalice" / (config.iam_policy_file or f"policy-{stage}.json")  # Chalice's fallback


def policy_document(function: str, stage: str = "dev") -> dict:
    return json.loads(policy_file(function, stage).read_text())


def without(document: dict, action: str) -> dict:
    """The document with one action taken out of every statement (for proving a test needs it)."""
    statements = []
    for statement in document["Statement"]:
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        kept = [a for a in actions if a != action]
        if kept:
            statements.append({**statement, "Action": kept})
    return {**document, "Statement": statements}


# -- what AWS authorises, per request -----------------------------------------------------------
_TRANSACT_WRITE = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                   "ConditionCheck": "ConditionCheckItem"}
_SQS_BATCH = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage",
              "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}


def _dynamodb_checks(response: Any, _resource: str) -> list[tuple[str, str]]:
    operation = response._get_action()
    params = response.body if isinstance(response.body, dict) else {}
    prefix = f"arn:aws:dynamodb:{response.region}:{response.current_account}:table/"
    if operation == "TransactWriteItems":
        return [(_TRANSACT_WRITE[kind], prefix + request["TableName"])
                for item in params["TransactItems"] for kind, request in item.items()]
    if operation == "TransactGetItems":
        return [("GetItem", prefix + item["Get"]["TableName"]) for item in params["TransactItems"]]
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [(operation, prefix + table) for table in params["RequestItems"]]
    if "TableName" not in params:  # ListTables and the like: not about one table
        return [(operation, "*")]
    arn = prefix + params["TableName"]
    if params.get("IndexName"):
        arn += "/index/" + params["IndexName"]
    return [(operation, arn)]


def _dynamodbstreams_checks(response: Any, _resource: str) -> list[tuple[str, str]]:
    """A stream's ARN (GetRecords names it through its iterator, `<stream arn>|1|<id>` in moto);
    ListStreams the streams of the table it names."""
    operation = response._get_action()
    arn = response._get_param("StreamArn") or (response._get_param("ShardIterator") or "").split("|")[0]
    if operation == "ListStreams":
        arn = (f"arn:aws:dynamodb:{response.region}:{response.current_account}:table/"
               f"{response._get_param('TableName') or '*'}/stream/*")
    return [(operation, arn)]


def _sqs_checks(response: Any, resource: str) -> list[tuple[str, str]]:
    operation = response._get_action()
    return [(_SQS_BATCH.get(operation, operation), resource)]  # moto already resolves the queue's ARN


def _secretsmanager_checks(response: Any, _resource: str) -> list[tuple[str, str]]:
    from moto.secretsmanager.models import secretsmanager_backends

    operation = response._get_action()
    secret_id = response._get_param("SecretId") or response._get_param("Name")
    if not secret_id:
        return [(operation, "*")]
    found = secretsmanager_backends[response.current_account][response.region].secrets.get(secret_id)
    arn = found.arn if found else (secret_id if secret_id.startswith("arn:") else
                                   f"arn:aws:secretsmanager:{response.region}:{response.current_account}"
                                   f":secret:{secret_id}-000000")  # not there: AWS still checks a name
    return [(operation, arn)]


def _ses_checks(response: Any, _resource: str) -> list[tuple[str, str]]:
    operation = response._get_action()
    source = response._get_param("Source") or response._get_param("FromEmailAddress")
    if operation in ("SendEmail", "SendRawEmail", "SendTemplatedEmail") and source:
        address = source.rpartition("<")[2].rstrip(">").strip()
        return [(operation, f"arn:aws:ses:{response.region}:{response.current_account}:identity/{address}")]
    return [(operation, "*")]


@dataclass(frozen=True)
class Decision:
    function: str  # the role that asked ("" for the test's own setup)
    action: str
    resource: str
    allowed: bool

    def __str__(self) -> str:
        return f"{self.function}: {self.action} on {self.resource}"


class Enforcement:
    """moto's IAM access control, with each function's deployed policy on its own role."""

    def __init__(self, monkeypatch, region: str):
        from moto.core import DEFAULT_ACCOUNT_ID

        self.monkeypatch = monkeypatch
        self.region = region
        self.account = DEFAULT_ACCOUNT_ID
        self.decisions: list[Decision] = []
        self.credentials: dict[str, dict] = {}
        self.documents: dict[str, dict] = {}

    # roles ------------------------------------------------------------------------------------
    def give_roles(self, stage: str = "dev", **documents: dict) -> None:
        """One role per function with its deployed policy (or the document given for it).
        Call before `on()`: making roles is the deployer's job, not the functions'."""
        import boto3

        iam = boto3.client("iam", region_name=self.region)
        sts = boto3.client("sts", region_name=self.region)
        for function in function_names():
            document = documents.get(function) or policy_document(function, stage)
            name = ROLE_PREFIX + function
            if function in self.documents:
                iam.delete_role_policy(RoleName=name, PolicyName="deployed")
            else:
                iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
            iam.put_role_policy(RoleName=name, PolicyName="deployed", PolicyDocument=json.dumps(document))
            self.documents[function] = document
            if function not in self.credentials:
                got = sts.assume_role(RoleArn=f"arn:aws:iam::{self.account}:role/{name}",
                                      RoleSessionName=function)["Credentials"]
                self.credentials[function] = {"aws_access_key_id": got["AccessKeyId"],
                                              "aws_secret_access_key": got["SecretAccessKey"],
                                              "aws_session_token": got["SessionToken"]}

    def replace_policy(self, function: str, document: dict) -> None:
        """Deploy another document for one function (enforcement paused while doing it)."""
        with self.paused():
            self.give_roles(**{function: document})

    # switching ----------------------------------------------------------------------------------
    def on(self) -> None:
        """From now on every request to moto is signed-checked and authorised."""
        from moto import settings
        from moto.core.authorization import ActionAuthenticatorMixin
        from moto.dynamodb.responses import DynamoHandler
        from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
        from moto.iam.access_control import IAMPolicyStatement, IAMRequestBase
        from moto.secretsmanager.responses import SecretsManagerResponse
        from moto.ses.responses import EmailResponse
        from moto.sqs.responses import SQSResponse

        mp = self.monkeypatch
        for response_class, checks in ((DynamoHandler, _dynamodb_checks), (SQSResponse, _sqs_checks),
                                       (SecretsManagerResponse, _secretsmanager_checks),
                                       (EmailResponse, _ses_checks),
                                       (DynamoDBStreamsHandler, _dynamodbstreams_checks)):
            mp.setattr(response_class, "_authenticate_and_authorize_normal_action", _authorizer(checks),
                       raising=False)
        original = IAMRequestBase.check_action_permitted
        enforcement = self

        def recorded(request, resource: str) -> None:
            function = enforcement._function_of(request)
            try:
                original(request, resource)
            except Exception:
                enforcement.decisions.append(Decision(function, request._action, resource, False))
                raise
            enforcement.decisions.append(Decision(function, request._action, resource, True))

        mp.setattr(IAMRequestBase, "check_action_permitted", recorded)
        mp.setattr(IAMPolicyStatement, "_match", staticmethod(matches))
        mp.setattr(settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
        mp.setattr(ActionAuthenticatorMixin, "request_count", 0)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """The test's own setup and checks: no access control (it is not a function's work)."""
        from moto import settings

        before = settings.INITIAL_NO_AUTH_ACTION_COUNT
        settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")
        try:
            yield
        finally:
            settings.INITIAL_NO_AUTH_ACTION_COUNT = before

    @contextmanager
    def acting_as(self, function: str) -> Iterator[None]:
        """The code runs as `function` in a fresh container: its role's credentials in the
        environment, no client or per-container cache left from another function."""
        creds = self.credentials[function]
        saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")}
        os.environ["AWS_ACCESS_KEY_ID"] = creds["aws_access_key_id"]
        os.environ["AWS_SECRET_ACCESS_KEY"] = creds["aws_secret_access_key"]
        os.environ["AWS_SESSION_TOKEN"] = creds["aws_session_token"]
        cold_container()
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            cold_container()

    def client(self, function: str, service: str):
        """A boto3 client with `function`'s credentials (for what the Lambda service does for it)."""
        import boto3

        return boto3.client(service, region_name=self.region, **self.credentials[function])

    # what happened ----------------------------------------------------------------------------
    def denied(self, function: Optional[str] = None) -> list[Decision]:
        return [d for d in self.decisions if not d.allowed and d.function and function in (None, d.function)]

    def asked(self, function: str) -> set[tuple[str, str]]:
        return {(d.action, d.resource) for d in self.decisions if d.function == function and d.allowed}

    def _function_of(self, request: Any) -> str:
        arn = getattr(request._access_key, "arn", "")
        role = arn.split("assumed-role/")[-1].split("/")[0] if "assumed-role/" in arn else ""
        return role[len(ROLE_PREFIX):] if role.startswith(ROLE_PREFIX) else ""


def matches(pattern: str, value: str) -> Optional[re.Match]:
    """IAM's wildcards: `*` any run of characters, `?` exactly one, everything else literal."""
    return re.match("^" + re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".") + "$", value, re.S)


def _authorizer(checks):
    """moto's normal-action check, asked once per (action, resource) AWS would check."""
    from moto.iam.access_control import IAMRequest

    def authorize(self, resource: str = "*") -> None:
        for action, arn in checks(self, resource):
            self._authenticate_and_authorize_action(_as_action(IAMRequest, action), arn)

    return authorize


def _as_action(request_class, action: str):
    class Request(request_class):
        def __init__(self, **kwargs):
            super().__init__(**{**kwargs, "action": action})

    return Request


def cold_container() -> None:
    """Forget what a Lambda container keeps between invocations: clients, secrets, caches."""
    import boto3

    from chalicelib import config, desk_settings, pipeline
    from chalicelib.classify import registry
    from chalicelib.outbound import credentials

    boto3.DEFAULT_SESSION = None  # it keeps the credentials it first found
    config.reset()  # settings, platform secrets and every boto3 client
    credentials.reset()
    pipeline._known_accounts.clear()
    pipeline._rules_cache.clear()
    desk_settings._cache.clear()
    registry.reset()


def deliver(enforcement: Enforcement, function: str, handler, queue_url: str, rounds: int = 10) -> dict:
    """The SQS event source mapping of `function`, as Lambda runs it: receive with the function's
    role, invoke the handler, delete what it did not report as failed (a handler that raises
    fails the whole batch). Returns how many records were delivered and how many failed."""
    from infra.local import stack

    sqs = enforcement.client(function, "sqs")
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    counts = {"delivered": 0, "failed": 0}
    for _ in range(rounds):
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]).get(
            "Messages", [])
        if not got:
            break
        counts["delivered"] += len(got)
        with enforcement.acting_as(function):
            try:
                result = handler(stack.sqs_event(got, arn), stack.LambdaContext(function)) or {}
                failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            except Exception:  # noqa: BLE001 - Powertools raises when every record failed
                failed = {m["MessageId"] for m in got}
        counts["failed"] += len(failed)
        done = [m for m in got if m["MessageId"] not in failed]
        if done:
            sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)])
        if failed:
            break  # they come back after their visibility timeout; the test looks at what failed
    return counts


def deliver_stream(enforcement: Enforcement, function: str, handler, table_name: str) -> dict:
    """The DynamoDB stream event source mapping of `function`, as Lambda runs it: list, describe and
    read the table's stream with the function's role, hand the ticket records (the mapping's
    filter) to the handler under the role. Returns how many records were delivered."""
    import boto3
    from botocore.config import Config

    from chalicelib.stream import is_ticket
    from infra.local import stack

    streams = boto3.client("dynamodbstreams", region_name=enforcement.region,
                           config=Config(account_id_endpoint_mode="disabled"), **enforcement.credentials[function])
    [found] = streams.list_streams(TableName=table_name)["Streams"]
    arn, records = found["StreamArn"], []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            got = streams.get_records(ShardIterator=iterator, Limit=1000)
            if not got["Records"]:
                break
            records += [r for r in got["Records"] if is_ticket(r)]
            iterator = got.get("NextShardIterator")
    with enforcement.acting_as(function):
        for first in range(0, len(records), 100):
            handler(stack.stream_event(records[first:first + 100], arn), stack.LambdaContext(function))
    return {"delivered": len(records)}
