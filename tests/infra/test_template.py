"""The deployable template, as `make package` generates it (chalice package + merge template).

Chalice alone never sets ReportBatchItemFailures (aws/chalice#884) nor makes queues; these
tests read the generated SAM template to prove the merge did.
"""
from __future__ import annotations

import json

import pytest

from infra import package, resources


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    out = tmp_path_factory.mktemp("package")
    path = package.package(out, stage="prod", lint=True)  # cfn-lint failing raises here
    return json.loads(path.read_text())["Resources"]


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
    assert len(functions) == 9  # eight handlers and the API's authorizer
    for res in functions.values():
        variables = res["Properties"]["Environment"]["Variables"]
        assert variables["TABLE_NAME"] == {"Ref": "Table"}
        assert variables["INGEST_QUEUE_URL"] == {"Ref": "IngestQueue"}
        assert variables["PLATFORM_SECRET_ID"] == "social-care/platform"
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
