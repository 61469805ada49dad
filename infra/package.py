"""`python -m infra.package OUT_DIR [--stage dev]`: the deployable SAM template, offline.

Chalice generates the functions; this module writes the merge template that adds what Chalice
cannot express (aws/chalice#884): the table, every queue with its dead-letter queue and a DLQ
alarm, the model bucket, the email topic, `ReportBatchItemFailures` on every SQS event source,
and the resource names each function reads from its environment. Then it runs
`chalice package --merge-template`, pins every role's ARNs to the stack (`pin_to_stack`) and,
unless told not to, runs cfn-lint on the result.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from infra import resources

ROOT = Path(__file__).resolve().parents[1]


def chalice_functions() -> dict[str, str]:
    """Logical id of every Lambda function Chalice generates, mapped to its handler type."""
    from chalice.utils import to_cfn_resource_name

    sys.path.insert(0, str(ROOT))
    from app import app

    functions = {"APIHandler": "api"}
    for handler in app.event_sources:
        functions[to_cfn_resource_name(handler.name)] = type(handler).__name__
    for authorizer in app.builtin_auth_handlers:  # the API's token authorizer is a function too
        functions[to_cfn_resource_name(authorizer.name)] = "authorizer"
    return functions


def sqs_event_sources() -> dict[str, str]:
    """Function logical id → its SQS event's logical id."""
    from chalice.app import SQSEventConfig
    from chalice.utils import to_cfn_resource_name

    from app import app

    return {to_cfn_resource_name(h.name): to_cfn_resource_name(h.name) + "SqsEventSource"
            for h in app.event_sources if isinstance(h, SQSEventConfig)}


def merge_template() -> dict:
    res: dict = {
        "Table": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain",
                  "UpdateReplacePolicy": "Retain",
                  "Properties": {"TableName": resources.TABLE_NAME, **resources.TABLE_DEFINITION,
                                 "TimeToLiveSpecification": {"AttributeName": resources.TTL_ATTRIBUTE,
                                                             "Enabled": True},
                                 "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                                 "StreamSpecification": {"StreamViewType": resources.STREAM_VIEW_TYPE}}},
        resources.MODEL_BUCKET_LOGICAL_ID: {
            "Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
            "Properties": {"BucketName": {"Fn::Sub": "social-care-desk-${AWS::AccountId}-${AWS::Region}"},
                           "PublicAccessBlockConfiguration": {
                               "BlockPublicAcls": True, "BlockPublicPolicy": True,
                               "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
                           "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                               {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}}},
        "EmailTopic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": resources.EMAIL_TOPIC_NAME}},
        "AlarmTopic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "social-care-alarms"}},
    }
    for spec in resources.QUEUES:
        dlq = spec.logical_id + "Dlq"
        res[dlq] = {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": spec.dlq_name, "MessageRetentionPeriod": resources.DLQ_RETENTION_SECONDS,
            "SqsManagedSseEnabled": True}}
        res[spec.logical_id] = {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": spec.name, "VisibilityTimeout": spec.visibility_timeout, "SqsManagedSseEnabled": True,
            "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": [dlq, "Arn"]},
                              "maxReceiveCount": spec.max_receive_count}}}
        res[dlq + "Alarm"] = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "AlarmDescription": f"Messages in {spec.dlq_name}: poison messages need a look and a redrive",
            "Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": spec.dlq_name}],
            "Statistic": "Maximum", "Period": 60, "EvaluationPeriods": 1, "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": "AlarmTopic"}]}}
    res.update(desk_alarms())
    environment = {
        "TABLE_NAME": {"Ref": "Table"},
        "MODEL_BUCKET": {"Ref": resources.MODEL_BUCKET_LOGICAL_ID},
        **{spec.env_var: {"Ref": spec.logical_id} for spec in resources.QUEUES},
    }
    sqs_events = sqs_event_sources()
    for function, kind in chalice_functions().items():
        props: dict = {"Environment": {"Variables": environment}}
        if function in sqs_events:
            props["Events"] = {sqs_events[function]: {"Properties": {
                "FunctionResponseTypes": ["ReportBatchItemFailures"]}}}
        res[function] = {"Properties": props}
        if kind == "SNSEventConfig":  # subscribes by topic name: the topic must exist first
            res[function]["DependsOn"] = ["EmailTopic"]
        if kind == "DynamoDBEventConfig":  # the table's stream (app.py names a placeholder ARN)
            props["Events"] = {function + "DynamodbEventSource": {"Properties": stream_event_properties()}}
    return {"Resources": res}


def stream_event_properties() -> dict:
    """The stream handler's event source: the stack's table's stream, ticket items only (Lambda
    filters before invoking: counters, index entries and everything else cost no invocation), a
    failing batch split to find the record that fails and retried a bounded number of times. The
    tumbling window is there for the event's `shardId` (stream records do not name their shard):
    chalicelib/counters.py keeps a watermark per shard on each counter item."""
    from chalicelib.store import keys

    ticket_only = {"dynamodb": {"Keys": {"SK": {"S": [keys.TICKET_SK]}}}}
    return {"Stream": {"Fn::GetAtt": ["Table", "StreamArn"]},
            "FilterCriteria": {"Filters": [{"Pattern": json.dumps(ticket_only)}]},
            "BisectBatchOnFunctionError": True, "MaximumRetryAttempts": 10, "MaximumBatchingWindowInSeconds": 1,
            "TumblingWindowInSeconds": 900}


# What pages on-call, per channel: (metric, statistic threshold over the period, period seconds, why)
ALARMS = (
    ("SLABreaches", 3, 900, "customers are waiting past their SLA"),
    ("RepliesFailed", 1, 300, "agents' replies are not reaching the platform"),
    ("OutboundGaveUp", 1, 300, "a reply kept failing and went to the outbound DLQ"),
)


def desk_alarms() -> dict:
    """CloudWatch alarms on the desk's own EMF metrics (namespace SocialCare; every function
    emits them with the dimensions channel and service), to the alarm topic."""
    from chalicelib.channels import registry as channel_registry
    from chalicelib.observability import NAMESPACE

    service = json.loads((ROOT / ".chalice" / "config.json").read_text())["environment_variables"][
        "POWERTOOLS_SERVICE_NAME"]
    alarms = {}
    for metric, threshold, period, why in ALARMS:
        for channel in channel_registry.ids():  # every channel of the registry
            alarms[f"{metric}{channel.capitalize()}Alarm"] = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
                "AlarmDescription": f"{metric} on {channel}: {why}",
                "Namespace": NAMESPACE, "MetricName": metric,
                "Dimensions": [{"Name": "channel", "Value": channel}, {"Name": "service", "Value": service}],
                "Statistic": "Sum", "Period": period, "EvaluationPeriods": 1, "Threshold": threshold,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold", "TreatMissingData": "notBreaching",
                "AlarmActions": [{"Ref": "AlarmTopic"}]}}
    return alarms


BUCKET_ARN = "arn:aws:s3:::social-care-desk-*/"  # the model bucket, as the policy files name it
LOG_GROUPS = "log-group:/aws/lambda/social-care-desk-*-"  # a function's log group, ditto


def pin_to_stack(template: dict) -> dict:
    """Each function's policy file (`.chalice/policies/`) names its resources with `*` for region
    and account, so one file serves both stages and the IAM tests run it against moto's account.
    In the deployed template every ARN names this stack's own region and account, its bucket, and
    its function's own log group (CloudFormation names a function `<stack>-<logical id>-<suffix>`),
    so a stage deployed in another region of the account is out of reach."""
    def pinned(arn):
        if not isinstance(arn, str):
            return arn
        if arn.startswith(BUCKET_ARN):
            return {"Fn::Sub": f"arn:${{AWS::Partition}}:s3:::${{{resources.MODEL_BUCKET_LOGICAL_ID}}}/"
                               + arn[len(BUCKET_ARN):]}
        found = re.fullmatch(r"arn:aws:([a-z0-9-]+):\*:\*:(.+)", arn)
        if not found:
            return arn
        service, rest = found.groups()
        rest = rest.replace(LOG_GROUPS, "log-group:/aws/lambda/${AWS::StackName}-")
        return {"Fn::Sub": f"arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{rest}"}

    for res in template["Resources"].values():
        if res["Type"] != "AWS::IAM::Role":
            continue
        for policy in res["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                found = statement["Resource"]
                statement["Resource"] = [pinned(r) for r in found] if isinstance(found, list) else pinned(found)
    return template


def package(out_dir: Path, stage: str = "dev", lint: bool = True) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    merge = out_dir / "merge-template.json"
    merge.write_text(json.dumps(merge_template(), indent=2))
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "eu-west-1")}
    chalice = Path(sys.executable).with_name("chalice")
    subprocess.run([str(chalice), "package", "--stage", stage, "--merge-template", str(merge),
                    str(out_dir / "package")], cwd=ROOT, env=env, check=True)
    template = out_dir / "package" / "sam.json"
    template.write_text(json.dumps(pin_to_stack(json.loads(template.read_text())), indent=2))
    if lint:
        cfn_lint = Path(sys.executable).with_name("cfn-lint")
        subprocess.run([str(cfn_lint), str(template)], check=True)
    return template


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.package")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--stage", default="dev", choices=["dev", "prod"])
    parser.add_argument("--no-lint", action="store_true")
    args = parser.parse_args(argv)
    print(package(args.out_dir, args.stage, lint=not args.no_lint))
    return 0


if __name__ == "__main__":
    sys.exit(main())
