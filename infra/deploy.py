"""`python -m infra.deploy --stage prod [--brands a,b] [--alarm-email ADDR] [--callback-url URL]`:
package, upload the code and the template, deploy the stack.

The packaged SAM template (infra/package.py) carries the whole stack: the table, queues, DLQs, the
bucket, the platform secret `social-care/platform`, the Cognito user pool, the alarms, the dashboard
and the partial-batch settings Chalice cannot express, so it is deployed with CloudFormation rather
than `chalice deploy`. The template is over CloudFormation's 51,200-byte inline limit: it goes to
the artifacts bucket beside the code. The platform secret is created with empty keys (and a generated
META_VERIFY_TOKEN); the operator fills in the platform's app secrets afterwards, never this script.

Template parameters not given keep the stack's current value (a first deploy takes the defaults).
The hosted UI must send agents back to the web UI, whose address (the API's EndpointURL) exists only
once the stack does: after a first deploy left the callback at its local default, a second change set
sets it to EndpointURL (only the app client changes). Needs AWS credentials.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Optional

from infra import package

ROOT = Path(__file__).resolve().parents[1]
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]


def parameters(template: dict, given: dict[str, str], current: Optional[set[str]]) -> list[dict]:
    """The change set's parameters: those given; the others keep the stack's value (`current`: the
    parameters the stack has, None for a new stack, which takes the template's defaults)."""
    out = []
    for name in template.get("Parameters", {}):
        if given.get(name) is not None:
            out.append({"ParameterKey": name, "ParameterValue": given[name]})
        elif current is not None and name in current:
            out.append({"ParameterKey": name, "UsePreviousValue": True})
    return out


def _stack(cfn, name: str) -> Optional[dict]:
    from botocore.exceptions import ClientError

    try:
        [stack] = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError as err:
        if "does not exist" in str(err):
            return None
        raise
    if stack["StackStatus"] == "ROLLBACK_COMPLETE":  # a first create that failed: nothing to update
        raise RuntimeError(f"{name} failed to create (ROLLBACK_COMPLETE): read its events, delete it, deploy again")
    return None if stack["StackStatus"] in ("REVIEW_IN_PROGRESS", "DELETE_COMPLETE") else stack


def _apply(cfn, stack: str, template_url: str, params: list[dict], exists: bool) -> bool:
    """One change set, executed; False when it changed nothing."""
    from botocore.exceptions import WaiterError

    change_set = f"deploy-{int(time.time())}"
    cfn.create_change_set(StackName=stack, ChangeSetName=change_set, TemplateURL=template_url, Parameters=params,
                          ChangeSetType="UPDATE" if exists else "CREATE", Capabilities=CAPABILITIES)
    try:
        cfn.get_waiter("change_set_create_complete").wait(StackName=stack, ChangeSetName=change_set)
    except WaiterError:
        found = cfn.describe_change_set(StackName=stack, ChangeSetName=change_set)
        reason = found.get("StatusReason", "")
        if "didn't contain changes" in reason or "No updates" in reason:
            cfn.delete_change_set(StackName=stack, ChangeSetName=change_set)
            return False
        raise RuntimeError(f"change set {change_set} failed: {reason}")
    cfn.execute_change_set(StackName=stack, ChangeSetName=change_set)
    cfn.get_waiter("stack_update_complete" if exists else "stack_create_complete").wait(
        StackName=stack, WaiterConfig={"Delay": 15, "MaxAttempts": 240})
    return True


def deploy(stage: str, brands=None, given: Optional[dict[str, str]] = None) -> str:
    """Deploy the stage's stack; `brands` (None: DESK_BRANDS) get the negative-mentions anomaly alarm,
    `given` sets template parameters (CallbackUrls, HostedUiDomainPrefix, AlarmEmail, ...)."""
    import boto3

    given = dict(given or {})
    template_path = package.package(ROOT / "build" / stage, stage=stage, brands=brands)
    template = json.loads(template_path.read_text())
    account = boto3.client("sts").get_caller_identity()["Account"]
    region = boto3.session.Session().region_name
    bucket = f"social-care-desk-artifacts-{account}-{region}"
    s3 = boto3.client("s3")
    if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=bucket, **({} if region == "us-east-1" else
                                           {"CreateBucketConfiguration": {"LocationConstraint": region}}))
    key = f"{stage}/deployment-{int(time.time())}"
    s3.upload_file(str(template_path.with_name("deployment.zip")), bucket, key + ".zip")
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://{bucket}/{key}.zip"
    s3.put_object(Bucket=bucket, Key=key + ".json", Body=json.dumps(template).encode("utf-8"))
    template_url = f"https://{bucket}.s3.{region}.amazonaws.com/{key}.json"

    cfn = boto3.client("cloudformation")
    stack = f"social-care-desk-{stage}"
    found = _stack(cfn, stack)
    current = None if found is None else {p["ParameterKey"] for p in found.get("Parameters", [])}
    _apply(cfn, stack, template_url, parameters(template, given, current), exists=found is not None)

    found = _stack(cfn, stack)
    values = {p["ParameterKey"]: p.get("ParameterValue") for p in found.get("Parameters", [])}
    outputs = {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}
    if "CallbackUrls" not in given and values.get("CallbackUrls") == package.LOCAL_CALLBACK:
        endpoint = outputs["EndpointURL"]  # the web UI, served at the API's root
        urls = {"CallbackUrls": endpoint, "LogoutUrls": given.get("LogoutUrls", endpoint)}
        _apply(cfn, stack, template_url, parameters(template, {**given, **urls}, set(values)), exists=True)
    return stack


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.deploy")
    parser.add_argument("--stage", default="dev", choices=["dev", "prod"])
    parser.add_argument("--brands", default=None, type=lambda v: tuple(b.strip() for b in v.split(",") if b.strip()),
                        help="comma-separated brands with an anomaly alarm on negative mentions (default: DESK_BRANDS)")
    parser.add_argument("--alarm-email", help="subscribe this address to the alarm topic")
    parser.add_argument("--callback-url", action="append",
                        help="the web UI's address for the hosted UI (default: the API's EndpointURL)")
    parser.add_argument("--domain-prefix", help="the hosted UI's domain prefix (default: social-care-desk-<account>)")
    args = parser.parse_args(argv)
    given = {"AlarmEmail": args.alarm_email or os.environ.get("DESK_ALARM_EMAIL") or None,
             "CallbackUrls": ",".join(args.callback_url) if args.callback_url else None,
             "LogoutUrls": ",".join(args.callback_url) if args.callback_url else None,
             "HostedUiDomainPrefix": args.domain_prefix}
    print("deployed", deploy(args.stage, brands=args.brands, given={k: v for k, v in given.items() if v}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
