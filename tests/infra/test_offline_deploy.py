"""The stack `make deploy` would create, deployed offline: the packaged template, through moto's
CloudFormation in server mode, and every resource checked as deployed (issue 14, point 3).

`infra.package.package` writes the SAM template `chalice package --merge-template` makes; the
AWS::Serverless transform (which CloudFormation runs in AWS, and moto does not) is run here by the
same library AWS uses, `samtranslator`; the plain CloudFormation it gives is created with
`create_stack` against a `ThreadedMotoServer`, the functions' code coming from the packaged
`deployment.zip` uploaded to the moto S3 first, as `infra/deploy.py` uploads it to the artifacts
bucket. Then each resource is read back through its service's API: the table, queues and DLQs,
bucket, topics, functions (their environment naming the real table, queue URLs, bucket, user pool,
app client and secret), event source mappings, roles (exactly their policy files, pinned), alarms.

moto's CloudFormation has no handler for some types the stack uses. For those in PROVIDED, the test
gives moto's CloudFormation a small handler that creates the resource through that service's own
API on the same moto server (CloudFormation's property names are the API's, with the renames
listed; a property the API does not take is left out and listed by `ignored`), so moto resolves
`Ref` and `Fn::GetAtt` to real ids and the checks read the created resource as for any other.
What neither can create is in NOT_DEPLOYED, each with its reason: it is asserted in the template
only, and a type in the template that is in neither list fails the test.
"""
from __future__ import annotations

import ast
import json
import logging
import os
import re
import secrets
from pathlib import Path
from typing import Any, Callable

import pytest

from infra import package, resources

REGION = "eu-west-1"
STACK = "social-care-desk-dev"
ARTIFACTS = "social-care-desk-artifacts-offline"
BRANDS = ("nordlight", "aegean")
GIVEN_PARAMETERS = {"AlarmEmail": "oncall@example.com", "HostedUiDomainPrefix": "desk-offline"}

# Types moto's CloudFormation cannot create, and why; asserted in the template, not deployed.
NOT_DEPLOYED = {
    "AWS::CloudWatch::AnomalyDetector": "moto has no CloudWatch anomaly detectors (the alarm on the "
                                        "band is deployed and checked; its model is not)",
    "AWS::ApiGateway::Stage": "moto's CloudFormation has no API Gateway stage; the API, its routes and "
                              "its deployment are created and checked",
    "AWS::Lambda::Permission": "moto's CloudFormation accepts it and creates nothing (no statement on the "
                               "function's policy to read back); each is checked in the template",
}
# Properties moto's CloudFormation leaves out when it creates a resource it knows: checked in the
# template, and on the deployed resource only where moto reports them.
NOT_APPLIED = {
    ("AWS::DynamoDB::Table", "TimeToLiveSpecification"): "moto's table handler ignores it",
    ("AWS::DynamoDB::Table", "PointInTimeRecoverySpecification"): "moto's table handler ignores it",
    ("AWS::S3::Bucket", "PublicAccessBlockConfiguration"): "moto's bucket handler ignores it",
    ("AWS::S3::Bucket", "LifecycleConfiguration"): "moto's bucket handler ignores it",
    ("AWS::S3::Bucket", "OwnershipControls"): "moto's bucket handler ignores it",
}


# -- the template ---------------------------------------------------------------------------------
class _NoManagedPolicies:
    """samtranslator asks IAM for the ARNs of managed policies named in a function's `Policies`;
    Chalice gives each function its own role instead, so there is none to look up."""

    def load(self) -> dict:
        return {}


def to_cloudformation(sam: dict) -> dict:
    from samtranslator.translator.transform import transform

    return transform(sam, {}, _NoManagedPolicies())


# -- what moto's CloudFormation lacks: a handler per type, through the service's own API -----------
class Provided:
    """A resource moto's CloudFormation engine holds for a type it has no model of."""

    def __init__(self, physical_id: str, attributes: dict, ignored: list[str]):
        self.physical_resource_id = physical_id
        self.attributes = attributes
        self.ignored = ignored  # CloudFormation properties the API call does not take

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return True

    def get_cfn_attribute(self, name: str) -> Any:
        return self.attributes[name]

    def is_created(self) -> bool:
        return True


def _api_params(client, operation: str, properties: dict, renames: dict | None = None) -> tuple[dict, list]:
    """The template's properties as the operation's parameters (same names but for `renames`)."""
    members = client.meta.service_model.operation_model(operation).input_shape.members
    params, ignored = {}, []
    for key, value in properties.items():
        key = (renames or {}).get(key, key)
        if key in members:
            params[key] = value
        else:
            ignored.append(key)
    return params, ignored


IGNORED: dict[str, list[str]] = {}  # logical id → the template's properties its API call did not take


def _provider(service: str, create: Callable[[Any, str, dict], Provided]):
    class Handler:
        @classmethod
        def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id,
                                            region_name, **kwargs):
            import boto3

            client = boto3.client(service, region_name=region_name, endpoint_url=os.environ["OFFLINE_MOTO_URL"],
                                  aws_access_key_id="testing", aws_secret_access_key="testing")
            made = create(client, resource_name, dict(cloudformation_json.get("Properties", {})))
            IGNORED[kwargs["LogicalId"]] = made.ignored
            return made

        @staticmethod
        def cloudformation_name_type() -> str:
            return ""

    return Handler


def _alarm(cw, name: str, props: dict) -> Provided:
    params, ignored = _api_params(cw, "PutMetricAlarm", props)
    params.setdefault("AlarmName", name)
    cw.put_metric_alarm(**params)
    arn = cw.describe_alarms(AlarmNames=[params["AlarmName"]])["MetricAlarms"][0]["AlarmArn"]
    return Provided(params["AlarmName"], {"Arn": arn}, ignored)


def _user_pool(idp, name: str, props: dict) -> Provided:
    params, ignored = _api_params(idp, "CreateUserPool", props, {"UserPoolName": "PoolName"})
    params.setdefault("PoolName", name)
    pool = idp.create_user_pool(**params)["UserPool"]
    provider = f"cognito-idp.{REGION}.amazonaws.com/{pool['Id']}"
    return Provided(pool["Id"], {"Arn": pool["Arn"], "UserPoolId": pool["Id"], "ProviderName": provider,
                                 "ProviderURL": "https://" + provider}, ignored)


def _user_pool_group(idp, name: str, props: dict) -> Provided:
    params, ignored = _api_params(idp, "CreateGroup", props)
    params.setdefault("GroupName", name)
    idp.create_group(**params)
    return Provided(params["GroupName"], {}, ignored)


def _user_pool_client(idp, name: str, props: dict) -> Provided:
    params, ignored = _api_params(idp, "CreateUserPoolClient", props)
    params.setdefault("ClientName", name)
    client = idp.create_user_pool_client(**params)["UserPoolClient"]
    return Provided(client["ClientId"], {"ClientSecret": client.get("ClientSecret", ""),
                                         "Name": client["ClientName"], "ClientId": client["ClientId"]}, ignored)


def _user_pool_domain(idp, name: str, props: dict) -> Provided:
    params, ignored = _api_params(idp, "CreateUserPoolDomain", props)
    idp.create_user_pool_domain(**params)
    domain = params["Domain"]
    return Provided(domain, {"CloudFrontDistribution": f"{domain}.cloudfront.net"}, ignored)


def _secret(sm, name: str, props: dict) -> Provided:
    params, ignored = _api_params(sm, "CreateSecret", props)
    params.setdefault("Name", name)
    generate = props.get("GenerateSecretString")
    if generate and "SecretString" not in params:  # CloudFormation generates it; so does the test
        value = secrets.token_urlsafe(24)
        template = generate.get("SecretStringTemplate")
        params["SecretString"] = (json.dumps({**json.loads(template), generate["GenerateStringKey"]: value})
                                  if template else value)
        ignored.remove("GenerateSecretString")
    created = sm.create_secret(**params)
    return Provided(created["ARN"], {"Id": created["ARN"]}, ignored)


def _subscription(sns, name: str, props: dict) -> Provided:
    params, ignored = _api_params(sns, "Subscribe", props)
    arn = sns.subscribe(ReturnSubscriptionArn=True, **params)["SubscriptionArn"]
    return Provided(arn, {"Arn": arn}, ignored)


def _rest_api(apigw, name: str, props: dict) -> Provided:
    """SAM's API is a Swagger 2.0 body, which moto's import does not read (OpenAPI 3 only): its
    authorizers, resources, methods and integrations are made one by one, as the import would."""
    body = props.get("Body") or {}
    api_id = apigw.create_rest_api(name=props.get("Name") or body.get("info", {}).get("title") or name)["id"]
    authorizers = {}
    for auth_name, spec in body.get("securityDefinitions", {}).items():
        found = spec.get("x-amazon-apigateway-authorizer", {})
        authorizers[auth_name] = apigw.create_authorizer(
            restApiId=api_id, name=auth_name, type=found.get("type", "token").upper(),
            authorizerUri=found["authorizerUri"], identitySource=f"method.request.header.{spec['name']}",
            authorizerResultTtlInSeconds=found.get("authorizerResultTtlInSeconds", 300))["id"]
    ids = {"/": [r["id"] for r in apigw.get_resources(restApiId=api_id)["items"] if r["path"] == "/"][0]}
    for path, methods in body.get("paths", {}).items():
        at = ""
        for part in [p for p in path.split("/") if p]:
            parent, at = ids[at or "/"], f"{at}/{part}"
            if at not in ids:
                ids[at] = apigw.create_resource(restApiId=api_id, parentId=parent, pathPart=part)["id"]
        for method, operation in methods.items():
            security = [next(iter(s)) for s in operation.get("security", []) if s]
            apigw.put_method(restApiId=api_id, resourceId=ids[path], httpMethod=method.upper(),
                             authorizationType="CUSTOM" if security else "NONE",
                             **({"authorizerId": authorizers[security[0]]} if security else {}))
            integration = operation.get("x-amazon-apigateway-integration")
            if integration:
                apigw.put_integration(restApiId=api_id, resourceId=ids[path], httpMethod=method.upper(),
                                      type=integration["type"].upper(),
                                      integrationHttpMethod=integration.get("httpMethod", "POST"),
                                      uri=integration.get("uri", ""))
    return Provided(api_id, {"RootResourceId": ids["/"]}, [k for k in props if k not in ("Body", "Name")])


PROVIDED = {
    "AWS::CloudWatch::Alarm": _provider("cloudwatch", _alarm),
    "AWS::Cognito::UserPool": _provider("cognito-idp", _user_pool),
    "AWS::Cognito::UserPoolGroup": _provider("cognito-idp", _user_pool_group),
    "AWS::Cognito::UserPoolClient": _provider("cognito-idp", _user_pool_client),
    "AWS::Cognito::UserPoolDomain": _provider("cognito-idp", _user_pool_domain),
    "AWS::SecretsManager::Secret": _provider("secretsmanager", _secret),
    "AWS::SNS::Subscription": _provider("sns", _subscription),
    "AWS::ApiGateway::RestApi": _provider("apigateway", _rest_api),  # moto's wants a Name and ignores the body
}


def stack_parameters(template: dict) -> list[dict]:
    """Every parameter given, as a first deploy's change set gives them: moto reads a list
    parameter's default as one string, and a given value as the list it is."""
    given = {name: str(spec["Default"]) for name, spec in template.get("Parameters", {}).items() if "Default" in spec}
    given.update({k: v for k, v in GIVEN_PARAMETERS.items() if k in given})
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in given.items()]


# -- the deployment -------------------------------------------------------------------------------
class Deployed:
    def __init__(self, url: str, sam: dict, cfn: dict):
        import boto3

        self.url, self.sam, self.cfn, self.template = url, sam["Resources"], cfn["Resources"], cfn
        self._boto3 = boto3
        cf = self.client("cloudformation")
        summaries = cf.get_paginator("list_stack_resources").paginate(StackName=STACK)
        found = [r for page in summaries for r in page["StackResourceSummaries"]]
        self.physical = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in found}
        self.status = {r["LogicalResourceId"]: r["ResourceStatus"] for r in found}
        self.stack = cf.describe_stacks(StackName=STACK)["Stacks"][0]

    def client(self, service: str):
        return self._boto3.client(service, region_name=REGION, endpoint_url=self.url,
                                  aws_access_key_id="testing", aws_secret_access_key="testing")

    def of_type(self, kind: str, template: str = "cfn") -> dict:
        found = self.cfn if template == "cfn" else self.sam
        return {name: res for name, res in found.items() if res["Type"] == kind}

    def function_config(self, logical_id: str) -> dict:
        return self.client("lambda").get_function_configuration(FunctionName=self.physical[logical_id])


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    from moto.cloudformation import parsing
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    out = tmp_path_factory.mktemp("offline-deploy")
    with pytest.MonkeyPatch.context() as mp:
        for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
            mp.delenv(key, raising=False)
        mp.setenv("AWS_DEFAULT_REGION", REGION)  # the transform's ${AWS::Region} and the package's
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        template_path = package.package(out, stage="dev", lint=False, brands=BRANDS)
        sam = json.loads(template_path.read_text())
        deployable = json.loads(json.dumps(sam))
        for res in deployable["Resources"].values():  # as infra/deploy.py points them at its upload
            if res["Type"] == "AWS::Serverless::Function":
                res["Properties"]["CodeUri"] = f"s3://{ARTIFACTS}/dev/deployment.zip"
        cfn = to_cloudformation(deployable)

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        mp.setenv("OFFLINE_MOTO_URL", url)
        original = parsing.get_model_map
        mp.setattr(parsing, "get_model_map", lambda: {**original(), **PROVIDED})
        try:
            import boto3

            s3 = boto3.client("s3", region_name=REGION, endpoint_url=url)
            s3.create_bucket(Bucket=ARTIFACTS, CreateBucketConfiguration={"LocationConstraint": REGION})
            s3.upload_file(str(template_path.with_name("deployment.zip")), ARTIFACTS, "dev/deployment.zip")
            body = {**cfn, "Resources": {k: v for k, v in cfn["Resources"].items() if v["Type"] not in NOT_DEPLOYED}}
            cf = boto3.client("cloudformation", region_name=REGION, endpoint_url=url)
            cf.create_stack(StackName=STACK, TemplateBody=json.dumps(body), Parameters=stack_parameters(cfn),
                            Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
            yield Deployed(url, sam, cfn)
        finally:
            import requests

            requests.post(f"{url}/moto-api/reset", timeout=10)  # nothing left for other tests' moto
            server.stop()


# -- the stack -----------------------------------------------------------------------------------
def test_the_stack_is_created_with_every_resource_but_the_listed_ones(deployed):
    assert deployed.stack["StackStatus"] == "CREATE_COMPLETE"
    types = {res["Type"] for res in deployed.cfn.values()}
    unknown = types - set(parsing_map()) - set(PROVIDED) - set(NOT_DEPLOYED)
    assert not unknown, f"types moto's CloudFormation cannot create: add a handler or a reason: {unknown}"
    for name, res in deployed.cfn.items():
        if res["Type"] in NOT_DEPLOYED:
            assert name not in deployed.physical
        else:
            assert deployed.status.get(name) == "CREATE_COMPLETE", f"{name} ({res['Type']}) was not created"
            if res["Type"] != "AWS::ApiGateway::Deployment":  # moto names none; the API test reads it
                assert deployed.physical[name], f"{name} ({res['Type']}) has no physical id"


def parsing_map() -> dict:
    from moto.cloudformation.parsing import get_model_map

    return get_model_map()


def test_what_moto_cannot_deploy_is_still_in_the_template(deployed):
    listed = {res["Type"] for res in deployed.cfn.values()} & set(NOT_DEPLOYED)
    for kind in listed:
        assert deployed.of_type(kind), kind
    detectors = deployed.of_type("AWS::CloudWatch::AnomalyDetector").values()
    assert len(detectors) == len(BRANDS)
    for detector in detectors:
        metric = detector["Properties"]["SingleMetricAnomalyDetector"]
        assert metric["MetricName"] == "NegativeMentions"
        assert {d["Value"] for d in metric["Dimensions"] if d["Name"] == "brand"} <= set(BRANDS)
    [stage] = deployed.of_type("AWS::ApiGateway::Stage").values()
    assert stage["Properties"]["StageName"] == "api"
    # every schedule, the email topic and the API may invoke their function
    permitted = {(p["Properties"]["FunctionName"].get("Ref") or p["Properties"]["FunctionName"]["Fn::GetAtt"][0],
                  p["Properties"]["Principal"]) for p in deployed.of_type("AWS::Lambda::Permission").values()}
    for function, res in deployed.of_type("AWS::Serverless::Function", "sam").items():
        for event in res["Properties"].get("Events", {}).values():
            principal = {"Schedule": "events.amazonaws.com", "SNS": "sns.amazonaws.com"}.get(event["Type"])
            if principal:
                assert (function, principal) in permitted, (function, event["Type"])
    assert ("APIHandler", "apigateway.amazonaws.com") in permitted
    assert ("DeskAuthorizer", "apigateway.amazonaws.com") in permitted
    for (kind, prop), _why in NOT_APPLIED.items():
        assert any(prop in res.get("Properties", {}) for res in deployed.of_type(kind).values()), (kind, prop)


# -- the table -----------------------------------------------------------------------------------
def test_the_table_is_deployed_with_its_keys_indexes_stream_ttl_and_backups(deployed):
    ddb = deployed.client("dynamodb")
    assert deployed.physical["Table"] == resources.TABLE_NAME
    table = ddb.describe_table(TableName=resources.TABLE_NAME)["Table"]
    assert table["KeySchema"] == resources.TABLE_DEFINITION["KeySchema"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    indexes = {i["IndexName"]: i for i in table["GlobalSecondaryIndexes"]}
    for expected in resources.TABLE_DEFINITION["GlobalSecondaryIndexes"]:
        got = indexes[expected["IndexName"]]
        assert got["KeySchema"] == expected["KeySchema"]
        assert got["Projection"]["ProjectionType"] == expected["Projection"]["ProjectionType"]
        assert sorted(got["Projection"].get("NonKeyAttributes", [])) == sorted(
            expected["Projection"].get("NonKeyAttributes", []))
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": resources.STREAM_VIEW_TYPE}
    assert table["LatestStreamArn"].startswith(table["TableArn"] + "/stream/")
    template = deployed.cfn["Table"]["Properties"]
    ttl = ddb.describe_time_to_live(TableName=resources.TABLE_NAME)["TimeToLiveDescription"]
    if ttl["TimeToLiveStatus"] == "DISABLED":
        assert ("AWS::DynamoDB::Table", "TimeToLiveSpecification") in NOT_APPLIED
    else:
        assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": resources.TTL_ATTRIBUTE}
    assert template["TimeToLiveSpecification"] == {"AttributeName": resources.TTL_ATTRIBUTE, "Enabled": True}
    backups = ddb.describe_continuous_backups(TableName=resources.TABLE_NAME)["ContinuousBackupsDescription"]
    if backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] != "ENABLED":
        assert ("AWS::DynamoDB::Table", "PointInTimeRecoverySpecification") in NOT_APPLIED
    assert template["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


# -- queues, bucket, topics -------------------------------------------------------------------------
def test_every_queue_is_deployed_with_its_dead_letter_queue_and_receive_limit(deployed):
    sqs = deployed.client("sqs")
    for spec in resources.QUEUES:
        url = deployed.physical[spec.logical_id]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert attributes["QueueArn"].endswith(":" + spec.name)
        assert int(attributes["VisibilityTimeout"]) == spec.visibility_timeout
        dlq = sqs.get_queue_attributes(QueueUrl=deployed.physical[spec.logical_id + "Dlq"],
                                       AttributeNames=["All"])["Attributes"]
        assert dlq["QueueArn"].endswith(":" + spec.dlq_name)
        assert int(dlq["MessageRetentionPeriod"]) == resources.DLQ_RETENTION_SECONDS
        redrive = json.loads(attributes["RedrivePolicy"])
        assert redrive["deadLetterTargetArn"] == dlq["QueueArn"]
        assert int(redrive["maxReceiveCount"]) == spec.max_receive_count


def test_the_bucket_is_private_and_encrypted(deployed):
    s3 = deployed.client("s3")
    bucket = deployed.physical[resources.MODEL_BUCKET_LOGICAL_ID]
    assert bucket == f"social-care-desk-123456789012-{REGION}"
    template = deployed.cfn[resources.MODEL_BUCKET_LOGICAL_ID]["Properties"]
    [rule] = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    everything_blocked = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                          "RestrictPublicBuckets": True}
    assert template["PublicAccessBlockConfiguration"] == everything_blocked
    try:
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    except s3.exceptions.ClientError:
        assert ("AWS::S3::Bucket", "PublicAccessBlockConfiguration") in NOT_APPLIED
    else:
        assert block == everything_blocked
    lifecycle = template.get("LifecycleConfiguration")
    if lifecycle:  # quarantined bodies and claim checks expire (issue 14)
        prefixes = {r.get("Prefix") for r in lifecycle["Rules"] if "ExpirationInDays" in r}
        assert {"quarantine/", "claims/"} <= prefixes
        assert ("AWS::S3::Bucket", "LifecycleConfiguration") in NOT_APPLIED


def test_the_alarm_topic_and_the_email_topic_exist_and_the_email_function_is_subscribed(deployed):
    sns = deployed.client("sns")
    topics = {t["TopicArn"] for t in sns.list_topics()["Topics"]}
    assert deployed.physical["AlarmTopic"] in topics
    email_topic = deployed.physical["EmailTopic"]
    assert email_topic in topics and email_topic.endswith(":" + resources.EMAIL_TOPIC_NAME)
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=email_topic)["Subscriptions"]
    email_function = deployed.function_config("EmailInbound")["FunctionArn"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("lambda", email_function)]


# -- functions --------------------------------------------------------------------------------------
def _functions(deployed) -> dict:
    return deployed.of_type("AWS::Serverless::Function", "sam")


def _resolved_refs(deployed, value) -> str | None:
    """The logical id a template value names by Ref or GetAtt, if any."""
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            return value["Fn::GetAtt"][0]
    return None


def test_every_function_is_deployed_and_its_environment_names_the_stacks_own_resources(deployed):
    sqs = deployed.client("sqs")
    functions = _functions(deployed)
    assert len(functions) >= 9
    for logical_id, res in functions.items():
        config = deployed.function_config(logical_id)
        assert config["Runtime"] == "python3.11"
        variables = config["Environment"]["Variables"]
        assert variables["TABLE_NAME"] == resources.TABLE_NAME == deployed.physical["Table"]
        for spec in resources.QUEUES:
            url = variables[spec.env_var]
            assert url == deployed.physical[spec.logical_id]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            assert arn == f"arn:aws:sqs:{REGION}:123456789012:{spec.name}"
        assert variables["MODEL_BUCKET"] == deployed.physical[resources.MODEL_BUCKET_LOGICAL_ID]
        # every value the template names by Ref/GetAtt is the deployed resource's, not a placeholder
        for name, value in res["Properties"]["Environment"]["Variables"].items():
            target = _resolved_refs(deployed, value)
            if target and "Ref" in value:
                assert variables[name] == deployed.physical[target], (logical_id, name)
            assert "${" not in variables[name] and "Fn::" not in variables[name], (logical_id, name)
        for name in ("X_CONSUMER_SECRET", "META_APP_SECRET", "META_VERIFY_TOKEN", "API_CHANNEL_SECRET"):
            assert name not in variables


def test_the_functions_know_the_user_pool_and_app_client_the_stack_made(deployed):
    pools = deployed.of_type("AWS::Cognito::UserPool")
    idp = deployed.client("cognito-idp")
    [pool_id] = [deployed.physical[name] for name in pools]
    idp.describe_user_pool(UserPoolId=pool_id)
    groups = {g["GroupName"] for g in idp.list_groups(UserPoolId=pool_id)["Groups"]}
    assert {"agents", "supervisors", "admins"} <= groups
    clients = {c["ClientId"] for c in idp.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]}
    assert clients
    readers = [name for name, res in _functions(deployed).items()
               if "COGNITO_USER_POOL_ID" in res["Properties"]["Environment"]["Variables"]]
    assert {"APIHandler", "DeskAuthorizer"} <= set(readers)  # who checks tokens (chalicelib/auth.py)
    for logical_id in readers:
        variables = deployed.function_config(logical_id)["Environment"]["Variables"]
        assert variables["COGNITO_USER_POOL_ID"] == pool_id, logical_id
        assert variables["COGNITO_APP_CLIENT_ID"] in clients, logical_id
        hosted = variables.get("COGNITO_HOSTED_UI_URL")
        if hosted:
            assert hosted == f"https://{GIVEN_PARAMETERS['HostedUiDomainPrefix']}.auth.{REGION}.amazoncognito.com"
    domains = deployed.of_type("AWS::Cognito::UserPoolDomain")
    for name, domain in domains.items():
        described = idp.describe_user_pool_domain(Domain=deployed.physical[name])["DomainDescription"]
        assert described["UserPoolId"] == pool_id


def test_the_functions_read_the_platform_secret_the_stack_made(deployed):
    secrets_made = deployed.of_type("AWS::SecretsManager::Secret")
    sm = deployed.client("secretsmanager")
    described = {name: sm.describe_secret(SecretId=deployed.physical[name]) for name in secrets_made}
    known = {d["Name"] for d in described.values()} | {d["ARN"] for d in described.values()}
    assert "social-care/platform" in {d["Name"] for d in described.values()}
    for logical_id in _functions(deployed):
        variables = deployed.function_config(logical_id)["Environment"]["Variables"]
        assert variables["PLATFORM_SECRET_ID"] in known, logical_id


def test_the_queue_and_stream_handlers_are_mapped_to_their_sources(deployed):
    lam = deployed.client("lambda")
    sqs = deployed.client("sqs")
    expected = {"IngestWorker": "IngestQueue", "RouteWorker": "RoutingQueue", "OutboundWorker": "OutboundQueue"}
    for function, queue in expected.items():
        arn = sqs.get_queue_attributes(QueueUrl=deployed.physical[queue], AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        [mapping] = lam.list_event_source_mappings(FunctionName=deployed.physical[function])["EventSourceMappings"]
        assert mapping["EventSourceArn"] == arn
        assert mapping["FunctionArn"] == deployed.function_config(function)["FunctionArn"]
        [sam_event] = deployed.sam[function]["Properties"]["Events"].values()
        assert sam_event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        [cfn_mapping] = [r for r in deployed.of_type("AWS::Lambda::EventSourceMapping").values()
                         if r["Properties"]["FunctionName"] == {"Ref": function}]
        assert cfn_mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    stream = deployed.client("dynamodb").describe_table(TableName=resources.TABLE_NAME)["Table"]["LatestStreamArn"]
    [mapping] = lam.list_event_source_mappings(FunctionName=deployed.physical["TicketStream"])["EventSourceMappings"]
    assert mapping["EventSourceArn"] == stream


def test_the_schedules_invoke_their_functions(deployed):
    events = deployed.client("events")
    scheduled = {name for name, res in _functions(deployed).items()
                 if any(e["Type"] == "Schedule" for e in res["Properties"].get("Events", {}).values())}
    assert {"SlaSweeper", "XMentionsPoller"} <= scheduled
    for function in scheduled:
        arn = deployed.function_config(function)["FunctionArn"]
        rules = events.list_rule_names_by_target(TargetArn=arn)["RuleNames"]
        assert rules, function
        for rule in rules:
            assert events.describe_rule(Name=rule)["ScheduleExpression"].startswith(("rate(", "cron("))


def test_the_api_routes_reach_the_api_handler(deployed):
    apigw = deployed.client("apigateway")
    api_id = deployed.physical["RestAPI"]
    paths = {r["path"] for r in apigw.get_resources(restApiId=api_id, limit=500)["items"]}
    for path in ("/webhooks/{channel}", "/api/tickets", "/api/tickets/{ticket_id}"):
        assert path in paths or any(p.startswith(path.split("{")[0]) for p in paths), path
    assert apigw.get_deployments(restApiId=api_id)["items"]
    # the local stack's one-click sign-in (infra/local/signin.py) is no route of a deployed stage
    assert not [p for p in paths if p.startswith("/_local")], paths
    outputs = {o["OutputKey"]: o["OutputValue"] for o in deployed.stack.get("Outputs", [])}
    assert outputs["EndpointURL"].startswith(f"https://{api_id}.execute-api.{REGION}.")


# -- roles --------------------------------------------------------------------------------------------
def test_each_function_runs_with_its_own_role_holding_exactly_its_policy_file_pinned_to_the_stack(deployed):
    from chalice.utils import to_cfn_resource_name

    from tests import iam as iam_files

    client = deployed.client("iam")
    roles = set()
    for function in iam_files.function_names():
        logical_id = "APIHandler" if function == "api_handler" else to_cfn_resource_name(function)
        role_name = deployed.function_config(logical_id)["Role"].rsplit("/", 1)[1]
        roles.add(role_name)
        [policy_name] = client.list_role_policies(RoleName=role_name)["PolicyNames"]
        document = client.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
        if isinstance(document, str):  # moto's CloudFormation stores a role's inline policy as repr()
            document = ast.literal_eval(document)
        expected = iam_files.policy_document(function, "dev")["Statement"]
        assert [(s["Sid"], s["Action"]) for s in document["Statement"]] == [
            (s["Sid"], s["Action"]) for s in expected], function
        for statement in document["Statement"]:
            found = statement["Resource"]
            for arn in found if isinstance(found, list) else [found]:
                assert "${" not in arn and ":*:*:" not in arn, (function, arn)
                service = arn.split(":")[2]
                if service in ("dynamodb", "sqs", "secretsmanager", "logs"):
                    assert arn.split(":")[3:5] == [REGION, "123456789012"], (function, arn)
                if service == "logs":
                    assert f":log-group:/aws/lambda/{STACK}-{logical_id}-" in arn, (function, arn)
                if service == "s3":
                    assert arn.startswith(f"arn:aws:s3:::{deployed.physical['ModelBucket']}/"), (function, arn)
    assert len(roles) == len(iam_files.function_names())


# -- alarms ---------------------------------------------------------------------------------------------
def test_every_alarm_is_deployed_and_pages_the_alarm_topic(deployed):
    cw = deployed.client("cloudwatch")
    alarms = deployed.of_type("AWS::CloudWatch::Alarm")
    assert len(alarms) >= len(resources.QUEUES) + 3 * 6  # DLQs, and three desk alarms on six channels
    topic = deployed.physical["AlarmTopic"]
    described = {a["AlarmName"]: a for page in cw.get_paginator("describe_alarms").paginate()
                 for a in page["MetricAlarms"]}
    for name, res in alarms.items():
        alarm = described[deployed.physical[name]]
        assert alarm["AlarmActions"] == [topic], name
        props = res["Properties"]
        if "MetricName" in props:
            assert alarm["MetricName"] == props["MetricName"] and alarm["Namespace"] == props["Namespace"], name
        else:  # a metric-math alarm (the anomaly band): its queries are deployed
            assert alarm.get("Metrics"), name
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack_parameters(deployed.template)}
    functions = {deployed.physical[name]: name for name in _functions(deployed)}
    api_name = deployed.client("apigateway").get_rest_api(restApiId=deployed.physical["RestAPI"])["name"]
    for name, res in alarms.items():
        alarm, props = described[deployed.physical[name]], res["Properties"]
        if "OKActions" in props:
            assert alarm["OKActions"] == [topic], name
        if isinstance(props.get("Threshold"), dict):  # a template parameter, resolved
            assert alarm["Threshold"] == float(parameters[props["Threshold"]["Ref"]]), name
        dimensions = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
        if alarm.get("Namespace") == "AWS/Lambda":  # the deployed function's real name
            assert dimensions["FunctionName"] in functions, name
        if alarm.get("Namespace") == "AWS/ApiGateway":
            assert dimensions["ApiName"] == api_name, name
        for query in alarm.get("Metrics", []):
            assert "${" not in query.get("Expression", ""), name
    watched = {d["Value"] for a in described.values() if a.get("Namespace") == "AWS/Lambda"
               for d in a["Dimensions"] if d["Name"] == "FunctionName"}
    assert watched == set(functions)  # errors and throttles of every function
    dlq_alarms = {deployed.physical[spec.logical_id + "DlqAlarm"] for spec in resources.QUEUES}
    for alarm_name in dlq_alarms:
        alarm = described[alarm_name]
        [dimension] = alarm["Dimensions"]
        assert dimension["Name"] == "QueueName"
        assert dimension["Value"] in {spec.dlq_name for spec in resources.QUEUES}


def test_the_dashboard_is_deployed(deployed):
    dashboards = deployed.of_type("AWS::CloudWatch::Dashboard")
    assert dashboards
    cw = deployed.client("cloudwatch")
    names = {d["DashboardName"] for d in cw.list_dashboards()["DashboardEntries"]}
    for logical_id in dashboards:
        assert deployed.physical[logical_id] in names
        body = json.loads(cw.get_dashboard(DashboardName=deployed.physical[logical_id])["DashboardBody"])
        assert body["widgets"]


def test_every_property_of_a_resource_moto_lacks_reached_its_api_but_cloudformation_only_ones(deployed):
    cloudformation_only = {
        "EnabledMfas": "a pool's MFA is SetUserPoolMfaConfig's, not CreateUserPool's",
        "Parameters": "SAM's import options for the API body",
        "EndpointConfiguration": "the API's endpoint type (EDGE), not part of the routes",
    }
    for logical_id, ignored in IGNORED.items():
        assert set(ignored) <= set(cloudformation_only), (logical_id, ignored)


def test_the_anomaly_alarm_watches_each_brands_negative_mentions(deployed):
    alarms = {name: res for name, res in deployed.of_type("AWS::CloudWatch::Alarm").items()
              if name.startswith("NegativeMentions")}
    assert len(alarms) == len(BRANDS)
    cw = deployed.client("cloudwatch")
    for brand in BRANDS:
        [name] = [n for n in alarms if n.lower().startswith(f"negativementions{brand}")]
        [alarm] = cw.describe_alarms(AlarmNames=[deployed.physical[name]])["MetricAlarms"]
        band = [q for q in alarm["Metrics"] if q["Id"] == alarm["ThresholdMetricId"]][0]
        assert band["Expression"].startswith("ANOMALY_DETECTION_BAND(")
        watched = [q["MetricStat"]["Metric"] for q in alarm["Metrics"] if "MetricStat" in q]
        assert {"Name": "brand", "Value": brand} in watched[0]["Dimensions"]
        assert watched[0]["MetricName"] == "NegativeMentions"
