"""`python -m infra.deploy --stage prod`: package, upload the code, deploy the stack.

The packaged SAM template (infra/package.py) carries the table, queues, DLQs, alarms and the
partial-batch settings Chalice cannot express, so it is deployed with CloudFormation rather
than `chalice deploy`. Needs AWS credentials; the platform secret `social-care/platform`
(JSON with X_CONSUMER_SECRET, META_APP_SECRET, META_VERIFY_TOKEN, API_CHANNEL_SECRET,
X_BEARER_TOKEN) is created once by an admin, never by this script.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from infra import package

ROOT = Path(__file__).resolve().parents[1]


def deploy(stage: str) -> str:
    import boto3

    template_path = package.package(ROOT / "build" / stage, stage=stage)
    template = json.loads(template_path.read_text())
    account = boto3.client("sts").get_caller_identity()["Account"]
    region = boto3.session.Session().region_name
    bucket = f"social-care-desk-artifacts-{account}-{region}"
    s3 = boto3.client("s3")
    if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=bucket, **({} if region == "us-east-1" else
                                           {"CreateBucketConfiguration": {"LocationConstraint": region}}))
    key = f"{stage}/deployment-{int(time.time())}.zip"
    s3.upload_file(str(template_path.with_name("deployment.zip")), bucket, key)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://{bucket}/{key}"
    cfn = boto3.client("cloudformation")
    stack = f"social-care-desk-{stage}"
    exists = any(s["StackName"] == stack for s in cfn.list_stacks(StackStatusFilter=[
        "CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"])["StackSummaries"])
    change_set = f"deploy-{int(time.time())}"
    cfn.create_change_set(StackName=stack, ChangeSetName=change_set, TemplateBody=json.dumps(template),
                          ChangeSetType="UPDATE" if exists else "CREATE",
                          Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
    cfn.get_waiter("change_set_create_complete").wait(StackName=stack, ChangeSetName=change_set)
    cfn.execute_change_set(StackName=stack, ChangeSetName=change_set)
    cfn.get_waiter("stack_update_complete" if exists else "stack_create_complete").wait(StackName=stack)
    return stack


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.deploy")
    parser.add_argument("--stage", default="dev", choices=["dev", "prod"])
    args = parser.parse_args(argv)
    print("deployed", deploy(args.stage))
    return 0


if __name__ == "__main__":
    sys.exit(main())
