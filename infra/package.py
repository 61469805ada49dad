"""`python -m infra.package OUT_DIR [--stage dev] [--brands a,b]`: the deployable SAM template, offline.

Chalice generates the functions, their roles and the REST API; this module writes the merge template
that adds the rest of the stack and what Chalice cannot express (aws/chalice#884): the table, every
queue with its dead-letter queue, the model bucket (private, encrypted, quarantined bodies and claim
checks expiring), the platform secret, the Cognito user pool (groups, app client, hosted-UI domain),
the email topic, the alarm topic with every alarm and the dashboard (infra/monitoring.py),
`ReportBatchItemFailures` on every SQS event source, and the names each function reads from its
environment. Then it runs `chalice package --merge-template`, pins every role's ARNs to the stack
(`pin_to_stack`) and, unless told not to, runs cfn-lint on the result.

`--brands` (default: the comma-separated DESK_BRANDS, else none) names the brands that get an anomaly
alarm on their negative mentions: brands are data, and CloudFormation cannot loop over a parameter.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from infra import monitoring, resources

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


def merge_template(stage: str = "dev", brands: tuple[str, ...] = ()) -> dict:
    from chalicelib.channels import registry as channel_registry

    config = chalice_config()
    service = config["environment_variables"]["POWERTOOLS_SERVICE_NAME"]
    functions = chalice_functions()
    res: dict = {
        "Table": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain",
                  "UpdateReplacePolicy": "Retain",
                  "Properties": {"TableName": resources.TABLE_NAME, **resources.TABLE_DEFINITION,
                                 "TimeToLiveSpecification": {"AttributeName": resources.TTL_ATTRIBUTE,
                                                             "Enabled": True},
                                 "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                                 "StreamSpecification": {"StreamViewType": resources.STREAM_VIEW_TYPE}}},
        resources.MODEL_BUCKET_LOGICAL_ID: model_bucket(),
        PLATFORM_SECRET: platform_secret(config["environment_variables"]["PLATFORM_SECRET_ID"]),
        **user_pool(),
        "EmailTopic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": resources.EMAIL_TOPIC_NAME}},
        monitoring.TOPIC: {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "social-care-alarms"}},
        "AlarmEmailSubscription": {"Type": "AWS::SNS::Subscription", "Condition": "HasAlarmEmail", "Properties": {
            "TopicArn": {"Ref": monitoring.TOPIC}, "Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}}},
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
    channels = list(channel_registry.ids())
    api_name, api_stage = config["app_name"], config["stages"][stage]["api_gateway_stage"]
    res.update(monitoring.queue_alarms(resources.QUEUES, queue_consumers()))
    res.update(desk_alarms())
    res.update(monitoring.function_alarms(functions))
    res.update(monitoring.api_alarms(api_name, api_stage))
    res.update(monitoring.brand_alarms(brands, service))
    res.update(monitoring.dashboard(channels=channels, functions=list(functions), queues=list(resources.QUEUES),
                                    service=service, api_name=api_name, stage=api_stage))
    # the REST API by its app's name, as the 5xx alarm and the dashboard name it (SAM would take the
    # swagger's title, the same name, but the alarm should not depend on that)
    res["RestAPI"] = {"Properties": {"Name": api_name}}
    environment = {
        "TABLE_NAME": {"Ref": "Table"},
        "MODEL_BUCKET": {"Ref": resources.MODEL_BUCKET_LOGICAL_ID},
        "PLATFORM_SECRET_ID": {"Ref": PLATFORM_SECRET},
        **{spec.env_var: {"Ref": spec.logical_id} for spec in resources.QUEUES},
    }
    sqs_events = sqs_event_sources()
    for function, kind in functions.items():
        props: dict = {"Environment": {"Variables": {**environment, **COGNITO_READERS.get(kind, {})}}}
        if function in sqs_events:
            props["Events"] = {sqs_events[function]: {"Properties": {
                "FunctionResponseTypes": ["ReportBatchItemFailures"]}}}
        res[function] = {"Properties": props}
        if kind == "SNSEventConfig":  # subscribes by topic name: the topic must exist first
            res[function]["DependsOn"] = ["EmailTopic"]
        if kind == "DynamoDBEventConfig":  # the table's stream (app.py names a placeholder ARN)
            props["Events"] = {function + "DynamodbEventSource": {"Properties": stream_event_properties()}}
    return {"Parameters": {**PARAMETERS, **monitoring.PARAMETERS}, "Conditions": CONDITIONS,
            "Resources": res, "Outputs": OUTPUTS}


def desk_alarms() -> dict:
    """The per-channel alarms on the desk's own metrics, for the channels the registry has now (a
    channel added to the registry gets its own)."""
    from chalicelib.channels import registry as channel_registry

    service = chalice_config()["environment_variables"]["POWERTOOLS_SERVICE_NAME"]
    return monitoring.channel_alarms(channel_registry.ids(), service)


def chalice_config() -> dict:
    return json.loads((ROOT / ".chalice" / "config.json").read_text())


def queue_consumers() -> dict[str, str]:
    """Queue name → the logical id of the function that consumes it."""
    from chalice.app import SQSEventConfig
    from chalice.utils import to_cfn_resource_name

    from app import app

    return {h.queue: to_cfn_resource_name(h.name) for h in app.event_sources if isinstance(h, SQSEventConfig)}


# -- what the stack adds besides the table and queues ------------------------------------------------
PLATFORM_SECRET = "PlatformSecret"
QUARANTINE_PREFIX = "quarantine/"  # chalicelib/ingest.py: a quarantined body over 300 KB
CLAIM_CHECK_DAYS = 30  # a claim check outlives its message: 14 days in a DLQ at most, then a redrive
# Which functions read the Cognito settings, by handler type: the authorizer and the API check
# tokens (chalicelib/auth.py); the API also tells the web UI where the hosted UI is (/auth/config).
_POOL = {"COGNITO_USER_POOL_ID": {"Ref": "UserPool"}, "COGNITO_APP_CLIENT_ID": {"Ref": "UserPoolClient"}}
HOSTED_UI_URL = {"Fn::Sub": "https://${UserPoolDomain}.auth.${AWS::Region}.amazoncognito.com"}
COGNITO_READERS = {"api": {**_POOL, "COGNITO_HOSTED_UI_URL": HOSTED_UI_URL}, "authorizer": _POOL}
GROUPS = {"admins": "Administer the whole desk, every brand",
          "supervisors": "Supervise their brands' agents, rules and reports",
          "agents": "Answer their brands' tickets"}
# The web UI (chalicelib/web/app.js) signs in through the hosted UI and comes back to the page it
# left: the API's own address, known only once the stack exists (the client cannot name the API it
# is wired into, that would be a cycle), so infra/deploy.py sets it after the first deploy.
LOCAL_CALLBACK = "http://localhost:8000/"
# app.js asks for the ID token in the address fragment (implicit grant); the code grant is allowed
# for when it moves to authorization code with PKCE (tests/infra/test_template.py ties the two).
OAUTH_FLOWS = ["code", "implicit"]

PARAMETERS = {
    "CallbackUrls": {"Type": "CommaDelimitedList", "Default": LOCAL_CALLBACK,
                     "Description": "Where the hosted UI may send an agent back after sign-in: the web UI's "
                                    "address (the API's EndpointURL output; infra/deploy.py sets it)"},
    "LogoutUrls": {"Type": "CommaDelimitedList", "Default": LOCAL_CALLBACK,
                   "Description": "Where the hosted UI may send an agent after sign-out"},
    "HostedUiDomainPrefix": {"Type": "String", "Default": "", "AllowedPattern": "^$|^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$",
                             "Description": "Prefix of the hosted UI's domain (<prefix>.auth.<region>.amazoncognito.com); "
                                            "empty: social-care-desk-<account id>"},
    "QuarantineRetentionDays": {"Type": "Number", "Default": 90, "MinValue": 1,
                                "Description": "Days a quarantined webhook body kept in the bucket lives"},
    "AlarmEmail": {"Type": "String", "Default": "",
                   "Description": "An address subscribed to the alarm topic (empty: subscribe on-call yourself)"},
}
CONDITIONS = {"HasDomainPrefix": {"Fn::Not": [{"Fn::Equals": [{"Ref": "HostedUiDomainPrefix"}, ""]}]},
              "HasAlarmEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}}
OUTPUTS = {
    "UserPoolId": {"Value": {"Ref": "UserPool"}},
    "UserPoolClientId": {"Value": {"Ref": "UserPoolClient"}},
    "HostedUiUrl": {"Value": HOSTED_UI_URL},
    "PlatformSecretArn": {"Value": {"Ref": PLATFORM_SECRET}},
    "AlarmTopicArn": {"Value": {"Ref": monitoring.TOPIC}},
    "ModelBucketName": {"Value": {"Ref": resources.MODEL_BUCKET_LOGICAL_ID}},
    "DashboardName": {"Value": {"Ref": "Dashboard"}},
}


def model_bucket() -> dict:
    """Private and encrypted; quarantined bodies expire after QuarantineRetentionDays (their table
    item keeps the reason and the headers), claim checks once no message can still point at them."""
    from chalicelib.queues import CLAIM_PREFIX

    return {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
            "Properties": {"BucketName": {"Fn::Sub": "social-care-desk-${AWS::AccountId}-${AWS::Region}"},
                           "PublicAccessBlockConfiguration": {
                               "BlockPublicAcls": True, "BlockPublicPolicy": True,
                               "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
                           "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                           "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                               {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
                           "LifecycleConfiguration": {"Rules": [
                               {"Id": "ExpireQuarantinedBodies", "Status": "Enabled", "Prefix": QUARANTINE_PREFIX,
                                "ExpirationInDays": {"Ref": "QuarantineRetentionDays"}},
                               {"Id": "ExpireClaimChecks", "Status": "Enabled", "Prefix": CLAIM_PREFIX,
                                "ExpirationInDays": CLAIM_CHECK_DAYS},
                               {"Id": "AbortIncompleteUploads", "Status": "Enabled", "Prefix": "",
                                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}]}}}


def platform_secret(name: str) -> dict:
    """The platform secret the functions read (chalicelib/config.py): the keys the operator fills
    in (docs/OPERATIONS.md), empty until then (an empty secret refuses its channel's webhooks), and
    META_VERIFY_TOKEN generated, since only we choose it. Never a real secret in the template; kept
    when the stack goes, and an update of the stack never regenerates it."""
    from chalicelib.config import SECRET_KEYS

    generated = "META_VERIFY_TOKEN"
    return {"Type": "AWS::SecretsManager::Secret", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
            "Properties": {"Name": name, "Description": "The desk's platform app secrets (X, Meta, API channel)",
                           "GenerateSecretString": {
                               # and SURVEY_SECRET (CSAT survey signatures, chalicelib/surveys.py), empty
                               # for the operator too: no survey goes out until it is set
                               "SecretStringTemplate": json.dumps({k: "" for k in (*SECRET_KEYS, "SURVEY_SECRET")
                                                                   if k != generated}),
                               "GenerateStringKey": generated, "PasswordLength": 32, "ExcludePunctuation": True}}}


def user_pool() -> dict:
    """Agents sign in with their email; only an admin creates users (no self sign-up); groups are the
    roles chalicelib/auth.py reads from `cognito:groups`; one public client for the web UI's hosted UI."""
    pool = {"Ref": "UserPool"}
    res: dict = {
        "UserPool": {"Type": "AWS::Cognito::UserPool", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
                     "Properties": {
                         "UserPoolName": {"Fn::Sub": "${AWS::StackName}-agents"},
                         "UsernameAttributes": ["email"], "AutoVerifiedAttributes": ["email"],
                         "UsernameConfiguration": {"CaseSensitive": False},
                         "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
                         "Policies": {"PasswordPolicy": {
                             "MinimumLength": 12, "RequireLowercase": True, "RequireUppercase": True,
                             "RequireNumbers": True, "RequireSymbols": True, "TemporaryPasswordValidityDays": 3}},
                         "MfaConfiguration": "OPTIONAL", "EnabledMfas": ["SOFTWARE_TOKEN_MFA"],
                         "AccountRecoverySetting": {"RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]}}},
        "UserPoolClient": {"Type": "AWS::Cognito::UserPoolClient", "Properties": {
            "UserPoolId": pool, "ClientName": "web-ui", "GenerateSecret": False,
            "AllowedOAuthFlowsUserPoolClient": True, "AllowedOAuthFlows": OAUTH_FLOWS,
            "AllowedOAuthScopes": ["openid", "email", "profile"], "SupportedIdentityProviders": ["COGNITO"],
            "CallbackURLs": {"Ref": "CallbackUrls"}, "LogoutURLs": {"Ref": "LogoutUrls"},
            "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            "PreventUserExistenceErrors": "ENABLED", "EnableTokenRevocation": True,
            "IdTokenValidity": 8, "AccessTokenValidity": 8, "RefreshTokenValidity": 12,
            "TokenValidityUnits": {"IdToken": "hours", "AccessToken": "hours", "RefreshToken": "hours"}}},
        "UserPoolDomain": {"Type": "AWS::Cognito::UserPoolDomain", "Properties": {
            "UserPoolId": pool, "Domain": {"Fn::If": ["HasDomainPrefix", {"Ref": "HostedUiDomainPrefix"},
                                                      {"Fn::Sub": "social-care-desk-${AWS::AccountId}"}]}}},
    }
    for precedence, (group, description) in enumerate(GROUPS.items()):
        res[f"UserPoolGroup{group.capitalize()}"] = {"Type": "AWS::Cognito::UserPoolGroup", "Properties": {
            "UserPoolId": pool, "GroupName": group, "Description": description, "Precedence": precedence}}
    return res


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


def brands_from_env() -> tuple[str, ...]:
    return tuple(b.strip() for b in os.environ.get("DESK_BRANDS", "").split(",") if b.strip())


def package(out_dir: Path, stage: str = "dev", lint: bool = True, brands=None) -> Path:
    """The packaged template's path; `brands` (None: DESK_BRANDS) get a negative-mentions anomaly alarm."""
    out_dir.mkdir(parents=True, exist_ok=True)
    merge = out_dir / "merge-template.json"
    merge.write_text(json.dumps(merge_template(stage, tuple(brands_from_env() if brands is None else brands)),
                                indent=2))
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
    parser.add_argument("--brands", default=None, type=lambda v: tuple(b.strip() for b in v.split(",") if b.strip()),
                        help="comma-separated brands that get an anomaly alarm on their negative mentions "
                             "(default: DESK_BRANDS)")
    parser.add_argument("--no-lint", action="store_true")
    args = parser.parse_args(argv)
    print(package(args.out_dir, args.stage, lint=not args.no_lint, brands=args.brands))
    return 0


if __name__ == "__main__":
    sys.exit(main())
