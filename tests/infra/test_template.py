"""The deployable template, as `make package` generates it (chalice package + merge template).

Chalice alone never sets ReportBatchItemFailures (aws/chalice#884) nor makes queues; these
tests read the generated SAM template to prove the merge did.
"""
from __future__ import annotations

import json

import pytest

from infra import package, resources


BRANDS = ("nordlight", "aegean-air")


@pytest.fixture(scope="module")
def whole(tmp_path_factory):
    out = tmp_path_factory.mktemp("package")
    path = package.package(out, stage="prod", lint=True, brands=BRANDS)  # cfn-lint failing raises here
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def template(whole):
    return whole["Resources"]


def test_every_sqs_event_source_reports_partial_batch_failures(template):
    sqs_events = [(name, event) for name, res in template.items()
                  if res["Type"] == "AWS::Serverless::Function"
                  for event in res["Properties"].get("Events", {}).values() if event["Type"] == "SQS"]
    assert {name for name, _ in sqs_events} == {"IngestWorker", "RouteWorker", "OutboundWorker"}
    for _, event in sqs_events:
        assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_every_queue_has_a_dead_letter_queue_and_an_alarm_on_it(template):
    for spec in resources.QUEUES:
        queue = template[spec.logical_id]["Properties"]
        assert queue["QueueName"] == spec.name
        assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": [spec.logical_id + "Dlq", "Arn"]}
        assert template[spec.logical_id + "Dlq"]["Properties"]["QueueName"] == spec.dlq_name
        alarm = template[spec.logical_id + "DlqAlarm"]["Properties"]
        assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": spec.dlq_name}]


def test_the_sqs_handlers_consume_the_queues_the_template_makes(template):
    queue_of = {"IngestWorker": "social-care-ingest", "RouteWorker": "social-care-routing",
                "OutboundWorker": "social-care-outbound"}
    for function, queue_name in queue_of.items():
        [event] = template[function]["Properties"]["Events"].values()
        assert event["Properties"]["Queue"]["Fn::Sub"].endswith(":" + queue_name)


def test_the_table_is_the_one_tests_and_the_local_stack_use(template):
    table = template["Table"]["Properties"]
    for key in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode"):
        assert table[key] == resources.TABLE_DEFINITION[key]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_every_function_gets_resource_names_and_no_secret_in_its_environment(template):
    functions = {n: r for n, r in template.items() if r["Type"] == "AWS::Serverless::Function"}
    assert set(functions) == set(package.chalice_functions())  # every handler and the API's authorizer
    for res in functions.values():
        variables = res["Properties"]["Environment"]["Variables"]
        assert variables["TABLE_NAME"] == {"Ref": "Table"}
        assert variables["INGEST_QUEUE_URL"] == {"Ref": "IngestQueue"}
        assert variables["PLATFORM_SECRET_ID"] == {"Ref": "PlatformSecret"}  # its ARN
        for name in ("X_CONSUMER_SECRET", "META_APP_SECRET", "META_VERIFY_TOKEN", "API_CHANNEL_SECRET"):
            assert name not in variables


def test_the_runtime_is_python_3_11(template):
    runtimes = {r["Properties"]["Runtime"] for r in template.values() if r["Type"] == "AWS::Serverless::Function"}
    assert runtimes == {"python3.11"}


def test_the_outbound_worker_knows_the_queues_receive_limit_and_outlives_no_lease(template):
    from chalicelib.outbound import worker

    redrive = template["OutboundQueue"]["Properties"]["RedrivePolicy"]
    assert int(redrive["maxReceiveCount"]) == worker.DEFAULT_MAX_RECEIVES
    # a send attempt holds its lease longer than the function may run: no second worker can cut in
    assert template["OutboundWorker"]["Properties"]["Timeout"] < worker.LEASE.total_seconds()


def test_the_local_one_click_sign_in_is_no_route_of_a_deployed_stage(template):
    """`python -m infra.local up` adds /_local/agents and /_local/sign-in to its own process; the
    packaged API (what any deployed stage serves) has neither, nor any path outside the desk's own."""
    paths = set(template["RestAPI"]["Properties"]["DefinitionBody"]["paths"])
    assert paths, "the API has routes"
    assert not [p for p in paths if p.startswith("/_local")], sorted(paths)
    assert all(p == "/" or p.startswith(("/api", "/webhooks", "/ui/", "/auth/", "/csat")) for p in paths), sorted(paths)


def test_every_api_route_but_health_goes_through_the_one_authorizer(template):
    api = template["RestAPI"]["Properties"]["DefinitionBody"]
    assert set(api["securityDefinitions"]) == {"desk_authorizer"}
    for path, methods in api["paths"].items():
        for method, operation in methods.items():
            if method == "options" or not path.startswith("/api"):
                continue
            expected = [] if path == "/api/health" else [{"desk_authorizer": []}]
            assert operation.get("security", []) == expected, (method, path)
    assert template["DeskAuthorizer"]["Type"] == "AWS::Serverless::Function"


def test_on_call_is_paged_for_breaches_failed_replies_and_given_up_replies_on_every_channel(template):
    alarms = [r["Properties"] for r in template.values() if r["Type"] == "AWS::CloudWatch::Alarm"
              and r["Properties"].get("Namespace") == "SocialCare"]
    covered = {(a["MetricName"], {d["Name"]: d["Value"] for d in a["Dimensions"]}["channel"]) for a in alarms}
    for metric in ("SLABreaches", "RepliesFailed", "OutboundGaveUp"):
        for channel in ("x", "facebook", "instagram", "whatsapp", "email", "api"):
            assert (metric, channel) in covered
    for alarm in alarms:
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        assert {d["Name"] for d in alarm["Dimensions"]} == {"channel", "service"}


# -- IAM: one least-privilege role per function (.chalice/policies/, tests/integration/test_iam_policies.py)
DATA_SERVICES = ("dynamodb", "sqs", "s3", "secretsmanager")


def _roles(template) -> dict:
    """Function logical id → the role it runs with."""
    return {name: template[res["Properties"]["Role"]["Fn::GetAtt"][0]] for name, res in template.items()
            if res["Type"] == "AWS::Serverless::Function"}


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def test_every_function_has_its_own_role_with_exactly_its_policy_file(template):
    from chalice.utils import to_cfn_resource_name

    from tests import iam

    roles = _roles(template)
    assert len({id(role) for role in roles.values()}) == len(roles) == len(iam.function_names())
    for function in iam.function_names():
        logical_id = "APIHandler" if function == "api_handler" else to_cfn_resource_name(function)
        [policy] = roles[logical_id]["Properties"]["Policies"]
        deployed = [(s["Sid"], s["Action"]) for s in policy["PolicyDocument"]["Statement"]]
        assert deployed == [(s["Sid"], s["Action"]) for s in iam.policy_document(function, "prod")["Statement"]]


def test_no_role_grants_a_wildcard_action_or_a_wildcard_resource_on_data(template):
    for function, role in _roles(template).items():
        for policy in role["Properties"]["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                assert statement["Effect"] == "Allow" and "NotAction" not in statement and "NotResource" not in statement
                for action in _listed(statement["Action"]):
                    assert "*" not in action, (function, action)  # neither "*" nor "service:*" nor "Get*"
                for resource in _listed(statement["Resource"]):
                    arn = resource["Fn::Sub"] if isinstance(resource, dict) else resource
                    assert arn != "*" and ":*:*:" not in arn, (function, arn)  # pinned to this stack
                    service, name = arn.split(":")[2], arn.split(":", 5)[5]
                    if service in DATA_SERVICES:  # only the desk's own table, queues, secrets, bucket
                        assert "social-care" in name or name.startswith("${ModelBucket}/"), (function, arn)
                    if service == "logs":  # only the function's own log group
                        assert name.startswith(f"log-group:/aws/lambda/${{AWS::StackName}}-{function}-"), arn


def test_the_stream_handler_reads_the_tables_stream_ticket_items_only(template):
    assert template["Table"]["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    [event] = template["TicketStream"]["Properties"]["Events"].values()
    assert event["Type"] == "DynamoDB"
    assert event["Properties"]["Stream"] == {"Fn::GetAtt": ["Table", "StreamArn"]}
    [only] = event["Properties"]["FilterCriteria"]["Filters"]
    assert json.loads(only["Pattern"]) == {"dynamodb": {"Keys": {"SK": {"S": ["TICKET"]}}}}
    assert event["Properties"]["BisectBatchOnFunctionError"] is True
    assert event["Properties"]["TumblingWindowInSeconds"] > 0  # the event names its shard (the counters' watermarks)


# -- the rest of the stack (issue 14): what pages on-call, who signs in, where secrets live --------
CHANNELS = ("x", "facebook", "instagram", "whatsapp", "email", "api")


def _alarms(template) -> dict:
    return {n: r["Properties"] for n, r in template.items() if r["Type"] == "AWS::CloudWatch::Alarm"}


def _dimensions(alarm) -> dict:
    return {d["Name"]: d["Value"] for d in alarm["Dimensions"]}


def _service() -> str:
    return package.chalice_config()["environment_variables"]["POWERTOOLS_SERVICE_NAME"]


def test_every_alarm_pages_the_alarm_topic_and_says_what_to_do_first(template):
    alarms = _alarms(template)
    assert template["AlarmTopic"]["Type"] == "AWS::SNS::Topic"
    for name, alarm in alarms.items():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert alarm["OKActions"] == [{"Ref": "AlarmTopic"}], name
        description = alarm["AlarmDescription"]
        text = description["Fn::Sub"] if isinstance(description, dict) else description
        assert "First:" in text, name


def test_the_alarm_topic_can_page_an_address_given_at_deploy(whole):
    subscription = whole["Resources"]["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["TopicArn"] == {"Ref": "AlarmTopic"}
    assert whole["Parameters"]["AlarmEmail"]["Default"] == ""


def _desk_alarm(alarms, metric, channel) -> dict:
    [found] = [a for a in alarms.values() if a.get("MetricName") == metric and a.get("Namespace") == "SocialCare"
               and _dimensions(a) == {"channel": channel, "service": _service()}]
    return found


def test_each_channel_pages_on_breaches_slow_first_responses_forged_requests_and_ill_health(whole):
    alarms, parameters = _alarms(whole["Resources"]), whole["Parameters"]
    for channel in CHANNELS:
        breaches = _desk_alarm(alarms, "SLABreaches", channel)
        assert breaches["Statistic"] == "Sum"
        p90 = _desk_alarm(alarms, "FirstResponseTime", channel)
        assert p90["ExtendedStatistic"] == "p90" and "Statistic" not in p90
        assert p90["Threshold"] == {"Ref": "FirstResponseTargetSeconds"}
        assert p90["ComparisonOperator"] == "GreaterThanThreshold"
        forged = _desk_alarm(alarms, "InvalidSignatures", channel)
        assert (forged["Statistic"], forged["Period"]) == ("Sum", 300)
        assert forged["Threshold"] == {"Ref": "InvalidSignatureThreshold"}
        assert forged["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        unhealthy = _desk_alarm(alarms, "ChannelUnhealthy", channel)
        assert (unhealthy["Statistic"], unhealthy["Period"], unhealthy["Threshold"]) == ("Sum", 900, 1)
        assert unhealthy["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert parameters["FirstResponseTargetSeconds"]["Default"] == 3600
    assert parameters["InvalidSignatureThreshold"]["Default"] == 20


def test_the_desk_metrics_alarms_name_the_service_the_functions_emit_with(template):
    service = _service()
    for res in template.values():
        if res["Type"] == "AWS::Serverless::Function":
            assert res["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == service


def test_every_function_pages_on_its_errors_and_throttles(template):
    functions = [n for n, r in template.items() if r["Type"] == "AWS::Serverless::Function"]
    assert set(functions) == set(package.chalice_functions())
    alarms = _alarms(template)
    for function in functions:
        for metric in ("Errors", "Throttles"):
            alarm = alarms[f"{function}{metric}Alarm"]
            assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Lambda", metric)
            assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function}}]
            assert alarm["Threshold"] == 1 and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_the_api_pages_on_5xx_of_the_rest_api_chalice_generates(template):
    api = template["RestAPI"]["Properties"]
    alarm = _alarms(template)["Api5xxAlarm"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/ApiGateway", "5XXError")
    assert _dimensions(alarm) == {"ApiName": api["Name"], "Stage": api["StageName"]}
    assert api["Name"] == api["DefinitionBody"]["info"]["title"] == "social-care-desk"


def test_each_brand_named_at_package_time_has_an_anomaly_alarm_on_its_negative_mentions(template):
    for brand, part in (("nordlight", "Nordlight"), ("aegean-air", "AegeanAir")):
        metric = {"Namespace": "SocialCare", "MetricName": "NegativeMentions",
                  "Dimensions": [{"Name": "brand", "Value": brand}, {"Name": "service", "Value": _service()}]}
        detector = template[f"NegativeMentions{part}Detector"]
        assert detector["Type"] == "AWS::CloudWatch::AnomalyDetector"
        assert detector["Properties"]["SingleMetricAnomalyDetector"] == {**metric, "Stat": "Sum"}
        alarm = template[f"NegativeMentions{part}Alarm"]
        assert alarm["DependsOn"] == [f"NegativeMentions{part}Detector"]
        props = alarm["Properties"]
        assert props["ComparisonOperator"] == "GreaterThanUpperThreshold"
        by_id = {m["Id"]: m for m in props["Metrics"]}
        band = by_id[props["ThresholdMetricId"]]
        [watched] = [m for m in props["Metrics"] if "MetricStat" in m]
        assert watched["MetricStat"]["Metric"] == metric and watched["MetricStat"]["Stat"] == "Sum"
        assert band["Expression"]["Fn::Sub"].startswith(f"ANOMALY_DETECTION_BAND({watched['Id']},")
    assert len([r for r in template.values() if r["Type"] == "AWS::CloudWatch::AnomalyDetector"]) == len(BRANDS)


def test_brands_come_from_the_command_line_or_the_environment_and_never_clash(monkeypatch):
    from infra import monitoring

    monkeypatch.setenv("DESK_BRANDS", " nordlight, aegean ,")
    assert package.brands_from_env() == ("nordlight", "aegean")
    monkeypatch.delenv("DESK_BRANDS")
    assert package.brands_from_env() == ()
    assert package.merge_template("dev")["Resources"].keys().isdisjoint(
        {"NegativeMentionsNordlightAlarm", "NegativeMentionsAegeanAlarm"})
    with pytest.raises(ValueError):
        monitoring.brand_ids(["nord-light", "nord_light"])


def test_the_dashboard_shows_the_desks_health(template):
    dashboard = template["Dashboard"]
    assert dashboard["Type"] == "AWS::CloudWatch::Dashboard"
    body = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    import re

    for name in re.findall(r"\$\{([^}]+)\}", body):  # every substitution names a resource or a parameter
        assert name.startswith("AWS::") or name in template or name == "FirstResponseTargetSeconds", name
    widgets = json.loads(re.sub(r"\$\{FirstResponseTargetSeconds\}", "3600", body))["widgets"]
    shown = {(m[0], m[1]) for w in widgets for m in w["properties"]["metrics"] if isinstance(m[0], str)}
    for metric in ("MentionsReceived", "TicketsCreated", "SLABreaches", "FirstResponseTime", "RepliesSent",
                   "RepliesFailed", "ChannelUnhealthy"):
        assert ("SocialCare", metric) in shown, metric
    for metric in (("AWS/SQS", "ApproximateNumberOfMessagesVisible"), ("AWS/Lambda", "Errors"),
                   ("AWS/Lambda", "Throttles"), ("AWS/ApiGateway", "5XXError")):
        assert metric in shown, metric
    assert any("NegativeMentions" in m[0].get("expression", "") for w in widgets
               for m in w["properties"]["metrics"] if isinstance(m[0], dict))
    dlqs = {m[3] for w in widgets for m in w["properties"]["metrics"] if m[1:2] == ["ApproximateNumberOfMessagesVisible"]}
    assert dlqs == {spec.dlq_name for spec in resources.QUEUES}
    lambdas = {m[3] for w in widgets for m in w["properties"]["metrics"] if m[:2] == ["AWS/Lambda", "Errors"]}
    assert lambdas == {"${%s}" % f for f in package.chalice_functions()}


# -- Cognito ------------------------------------------------------------------------------------
def test_the_user_pool_signs_in_by_email_with_no_self_sign_up_and_the_desks_groups(template):
    pool = template["UserPool"]["Properties"]
    assert pool["UsernameAttributes"] == ["email"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    policy = pool["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12 and all(policy[k] for k in (
        "RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols"))
    groups = {r["Properties"]["GroupName"]: r["Properties"] for r in template.values()
              if r["Type"] == "AWS::Cognito::UserPoolGroup"}
    from chalicelib.auth import GROUP_ROLE

    assert set(groups) == set(GROUP_ROLE) == {"agents", "supervisors", "admins"}
    assert all(g["UserPoolId"] == {"Ref": "UserPool"} for g in groups.values())


def test_the_web_uis_client_has_no_secret_and_allows_the_flow_the_ui_uses(whole):
    from pathlib import Path

    client = whole["Resources"]["UserPoolClient"]["Properties"]
    assert client["UserPoolId"] == {"Ref": "UserPool"} and client["GenerateSecret"] is False
    assert client["AllowedOAuthFlowsUserPoolClient"] is True and "code" in client["AllowedOAuthFlows"]
    assert set(client["AllowedOAuthScopes"]) == {"openid", "email", "profile"}
    app_js = (Path(package.ROOT) / "chalicelib" / "web" / "app.js").read_text()
    if 'response_type: "token"' in app_js:  # the UI still takes the ID token from the fragment
        assert "implicit" in client["AllowedOAuthFlows"]
    else:
        assert client["AllowedOAuthFlows"] == ["code"]
    assert client["CallbackURLs"] == {"Ref": "CallbackUrls"} and client["LogoutURLs"] == {"Ref": "LogoutUrls"}
    assert whole["Parameters"]["CallbackUrls"]["Default"] == package.LOCAL_CALLBACK
    domain = whole["Resources"]["UserPoolDomain"]["Properties"]
    assert domain["UserPoolId"] == {"Ref": "UserPool"}
    assert domain["Domain"]["Fn::If"][1] == {"Ref": "HostedUiDomainPrefix"}


def test_every_function_that_reads_cognito_settings_gets_them_from_the_pool_and_its_client(template):
    readers = {"APIHandler", "DeskAuthorizer"}  # chalicelib/auth.py checks tokens in both
    for name, res in template.items():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        variables = res["Properties"]["Environment"]["Variables"]
        if name in readers:
            assert variables["COGNITO_USER_POOL_ID"] == {"Ref": "UserPool"}
            assert variables["COGNITO_APP_CLIENT_ID"] == {"Ref": "UserPoolClient"}
        else:
            assert not any(key.startswith("COGNITO_") for key in variables), name
    hosted = template["APIHandler"]["Properties"]["Environment"]["Variables"]["COGNITO_HOSTED_UI_URL"]
    assert "${UserPoolDomain}" in hosted["Fn::Sub"]  # app.py's /auth/config sends the UI there


# -- the platform secret and the bucket -----------------------------------------------------------
def test_the_platform_secret_is_created_empty_but_for_the_verify_token_and_reaches_every_function(template):
    from chalicelib.config import SECRET_KEYS

    secret = template["PlatformSecret"]
    assert secret["Type"] == "AWS::SecretsManager::Secret" and secret["DeletionPolicy"] == "Retain"
    props = secret["Properties"]
    assert props["Name"] == package.chalice_config()["environment_variables"]["PLATFORM_SECRET_ID"]
    generated = props["GenerateSecretString"]
    placeholder = json.loads(generated["SecretStringTemplate"])
    assert set(placeholder) | {generated["GenerateStringKey"]} == {*SECRET_KEYS, "SURVEY_SECRET"}  # each, for the operator
    assert set(placeholder.values()) == {""}  # never a real secret in the template
    assert "SecretString" not in props
    for name, res in template.items():
        if res["Type"] == "AWS::Serverless::Function":
            assert res["Properties"]["Environment"]["Variables"]["PLATFORM_SECRET_ID"] == {"Ref": "PlatformSecret"}
    # the functions' policies name it by its name (pinned to the stack): the ARN they are given matches
    policies = json.dumps([r["Properties"]["Policies"] for r in template.values() if r["Type"] == "AWS::IAM::Role"])
    assert f"secret:{props['Name']}-??????" in policies


def test_the_bucket_is_private_encrypted_and_forgets_quarantined_bodies(whole):
    bucket = whole["Resources"]["ModelBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    rules = {r["Prefix"]: r for r in bucket["LifecycleConfiguration"]["Rules"] if r["Status"] == "Enabled"}
    assert rules[package.QUARANTINE_PREFIX]["ExpirationInDays"] == {"Ref": "QuarantineRetentionDays"}
    assert whole["Parameters"]["QuarantineRetentionDays"]["Default"] == 90
    # the prefix the API may write quarantined bodies under is the one that expires
    api_policy = json.loads((package.ROOT / ".chalice" / "policies" / "api_handler.json").read_text())
    written = [r for s in api_policy["Statement"] if "s3:PutObject" in s["Action"] for r in _listed(s["Resource"])]
    assert any(r.endswith("/" + package.QUARANTINE_PREFIX + "*") for r in written)
    from chalicelib.ingest import QUARANTINE_INLINE_LIMIT

    assert QUARANTINE_INLINE_LIMIT == 300 * 1024
    claim_days = rules["claims/"]["ExpirationInDays"]
    assert claim_days * 24 * 3600 > resources.DLQ_RETENTION_SECONDS  # a message in a DLQ keeps its body


# -- IAM anywhere in the template -----------------------------------------------------------------
def _statements(node, where=""):
    """Every policy statement anywhere in the template (roles, topic, queue and bucket policies ...)."""
    if isinstance(node, dict):
        if isinstance(node.get("Statement"), list):
            for statement in node["Statement"]:
                yield where, statement
        for key, value in node.items():
            yield from _statements(value, f"{where}/{key}")
    elif isinstance(node, list):
        for value in node:
            yield from _statements(value, where)


def test_no_policy_statement_anywhere_has_a_wildcard_action_or_a_wildcard_resource_on_data(template):
    found = list(_statements(template))
    assert len(found) > 9
    for where, statement in found:
        if "Action" not in statement:  # an assume-role policy's trust
            continue
        for action in _listed(statement["Action"]):
            assert "*" not in action, (where, action)
        for resource in _listed(statement.get("Resource", [])):
            arn = resource["Fn::Sub"] if isinstance(resource, dict) and "Fn::Sub" in resource else resource
            if not isinstance(arn, str):
                continue  # a Ref or GetAtt: one resource of the stack
            assert arn != "*", where
            if arn.startswith("arn:") and arn.split(":")[2] in DATA_SERVICES:
                name = arn.split(":", 5)[5]
                assert name not in ("*", "table/*", "secret:*") and not name.startswith("*"), (where, arn)
    for res in template.values():  # no SAM policy templates or managed policies sneaking in
        assert "ManagedPolicyArns" not in res.get("Properties", {})
        if res["Type"] == "AWS::Serverless::Function":
            assert "Policies" not in res["Properties"]


# -- make package: the dev stage, no brands, stays clean under cfn-lint -----------------------------
def test_make_package_for_dev_is_clean_under_cfn_lint(tmp_path, monkeypatch):
    monkeypatch.delenv("DESK_BRANDS", raising=False)
    path = package.package(tmp_path, stage="dev", lint=True)  # raises on any cfn-lint finding
    resources_ = json.loads(path.read_text())["Resources"]
    assert "UserPool" in resources_ and not any(n.startswith("NegativeMentions") for n in resources_)


def test_deploy_keeps_parameters_not_given_and_sets_those_given():
    from infra import deploy

    template = {"Parameters": {"CallbackUrls": {}, "AlarmEmail": {}, "Brand": {}}}
    assert deploy.parameters(template, {"AlarmEmail": "oncall@example.com"}, None) == [
        {"ParameterKey": "AlarmEmail", "ParameterValue": "oncall@example.com"}]
    assert deploy.parameters(template, {}, {"CallbackUrls", "AlarmEmail"}) == [
        {"ParameterKey": "CallbackUrls", "UsePreviousValue": True},
        {"ParameterKey": "AlarmEmail", "UsePreviousValue": True}]  # a new parameter takes its default
