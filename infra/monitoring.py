"""What pages on-call, and what they look at: the stack's CloudWatch alarms and its dashboard.

Part of the merge template (infra/package.py). Every alarm notifies the stack's `AlarmTopic` when it
fires and when it clears, and its AlarmDescription says what to do first. The desk's own metrics
are EMF lines in the `SocialCare` namespace (chalicelib/observability.py): counts carry the
dimension `channel`, a brand's figure the dimension `brand`, and both `service` (Powertools adds it
from POWERTOOLS_SERVICE_NAME, which every deployed function has), so an alarm names both.

Brands are data, not known at deploy time, and CloudFormation cannot loop over a parameter: the
anomaly alarm on `NegativeMentions` is generated per brand named when the template is packaged
(`python -m infra.package OUT --brands nordlight,aegean`, or DESK_BRANDS); the dashboard finds every
brand with a SEARCH expression. May import chalicelib's metric names and channel registry.
"""
from __future__ import annotations

import json
import re
from typing import Iterable, Mapping

from chalicelib.observability import NAMESPACE, M

TOPIC = "AlarmTopic"
FIRST_RESPONSE_TARGET = "FirstResponseTargetSeconds"  # template parameters this module reads
INVALID_SIGNATURE_THRESHOLD = "InvalidSignatureThreshold"
API_5XX_THRESHOLD = "Api5xxThreshold"
ANOMALY_BAND_WIDTH = "NegativeMentionsBandWidth"
CHANNEL_UNHEALTHY = M.CHANNEL_UNHEALTHY  # published by the channel-health schedule (chalicelib/channel_health.py)

PARAMETERS = {
    FIRST_RESPONSE_TARGET: {"Type": "Number", "Default": 3600, "MinValue": 60,
                            "Description": "First response target (seconds): the p90 alarm fires above it"},
    INVALID_SIGNATURE_THRESHOLD: {"Type": "Number", "Default": 20, "MinValue": 1,
                                  "Description": "Badly signed webhook requests on one channel in 5 minutes "
                                                 "that page on-call"},
    API_5XX_THRESHOLD: {"Type": "Number", "Default": 5, "MinValue": 1,
                        "Description": "API 5xx answers in 5 minutes that page on-call"},
    ANOMALY_BAND_WIDTH: {"Type": "Number", "Default": 3, "MinValue": 1, "MaxValue": 10,
                         "Description": "Width (standard deviations) of the usual band of a brand's negative "
                                        "mentions; above it pages on-call"},
}

# The desk's counts that page, per channel: (metric, Sum threshold over the period, period, what
# it means, what to do first)
CHANNEL_COUNT_ALARMS = (
    (M.SLA_BREACHES, 3, 900, "customers are waiting past their SLA",
     "open the inbox filtered to the channel, check who is online and the routing queue's depth on the "
     "dashboard; reassign tickets or bring agents online"),
    (M.REPLIES_FAILED, 1, 300, "agents' replies are not reaching the platform",
     "read OutboundWorker's log lines for the platform's error (expired token, rate limit, policy); "
     "reconnect the account or wait out the limit"),
    (M.OUTBOUND_GAVE_UP, 1, 300, "a reply kept failing and went to the outbound DLQ",
     "read the message in social-care-outbound-dlq and OutboundWorker's logs; fix the cause, then redrive"),
    (CHANNEL_UNHEALTHY, 1, 900, "the channel-health check found an account silent far beyond its usual "
                                "rate, its token failing or about to expire, or its webhook subscription stopped",
     "read ChannelHealth's log line (it names the account, its brand and the reason), then reconnect the "
     "account, renew its token or re-subscribe its webhook"),
)


def alarm(description, **properties) -> dict:
    """One alarm to the topic, when it fires and when it clears; missing data is no breach."""
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmDescription": description, "TreatMissingData": "notBreaching", **properties,
        "AlarmActions": [{"Ref": TOPIC}], "OKActions": [{"Ref": TOPIC}]}}


def _desk_dimensions(name: str, value: str, service: str) -> list[dict]:
    return [{"Name": name, "Value": value}, {"Name": "service", "Value": service}]


def _id(text: str) -> str:
    """A logical id's part: `nord-light` → `NordLight`."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text) if part)


def queue_alarms(queues: Iterable, consumers: Mapping[str, str]) -> dict:
    """Any message in a dead-letter queue (`consumers`: queue name → the function that gave up on it)."""
    return {spec.logical_id + "DlqAlarm": alarm(
        f"Messages in {spec.dlq_name}: {consumers.get(spec.name, 'its consumer')} gave up on them after "
        f"{spec.max_receive_count} receives. First: read one message and that function's ERROR log lines; fix "
        f"the cause, then redrive the DLQ to {spec.name} (aws sqs start-message-move-task).",
        Namespace="AWS/SQS", MetricName="ApproximateNumberOfMessagesVisible",
        Dimensions=[{"Name": "QueueName", "Value": spec.dlq_name}],
        Statistic="Maximum", Period=60, EvaluationPeriods=1, Threshold=0,
        ComparisonOperator="GreaterThanThreshold") for spec in queues}


def channel_alarms(channels: Iterable[str], service: str) -> dict:
    """Per channel: the counts that page, first response p90 over target, a spike of bad signatures."""
    alarms = {}
    for channel in channels:
        dimensions = _desk_dimensions("channel", channel, service)
        for metric, threshold, period, why, first in CHANNEL_COUNT_ALARMS:
            alarms[f"{metric}{_id(channel)}Alarm"] = alarm(
                f"{metric} on {channel} (>= {threshold} in {period // 60} min): {why}. First: {first}.",
                Namespace=NAMESPACE, MetricName=metric, Dimensions=dimensions, Statistic="Sum", Period=period,
                EvaluationPeriods=1, Threshold=threshold, ComparisonOperator="GreaterThanOrEqualToThreshold")
        alarms[f"{M.FIRST_RESPONSE_TIME}{_id(channel)}Alarm"] = alarm(
            {"Fn::Sub": f"First response p90 on {channel} over ${{{FIRST_RESPONSE_TARGET}}} s for 30 min: "
                        "customers wait too long for a first answer. First: check agents online and the inbox "
                        f"backlog for {channel} on the dashboard, then SLABreaches and the routing queue."},
            Namespace=NAMESPACE, MetricName=M.FIRST_RESPONSE_TIME, Dimensions=dimensions,
            ExtendedStatistic="p90", Period=900, EvaluationPeriods=2, DatapointsToAlarm=2,
            Threshold={"Ref": FIRST_RESPONSE_TARGET}, ComparisonOperator="GreaterThanThreshold")
        alarms[f"{M.INVALID_SIGNATURES}{_id(channel)}Alarm"] = alarm(
            {"Fn::Sub": f"At least ${{{INVALID_SIGNATURE_THRESHOLD}}} badly signed webhook requests on {channel} "
                        "in 5 min. First: if the platform's app secret was rotated, put the new one in the platform "
                        "secret (PlatformSecret); otherwise someone is forging requests: read the API's access "
                        "logs for their source."},
            Namespace=NAMESPACE, MetricName=M.INVALID_SIGNATURES, Dimensions=dimensions, Statistic="Sum",
            Period=300, EvaluationPeriods=1, Threshold={"Ref": INVALID_SIGNATURE_THRESHOLD},
            ComparisonOperator="GreaterThanOrEqualToThreshold")
    return alarms


def function_alarms(functions: Iterable[str]) -> dict:
    """Errors and throttles of every Lambda function (logical ids)."""
    alarms = {}
    for function in functions:
        dimensions = [{"Name": "FunctionName", "Value": {"Ref": function}}]
        alarms[f"{function}ErrorsAlarm"] = alarm(
            f"{function} raised unhandled errors. First: read the newest ERROR lines of its log group "
            f"(/aws/lambda/<stack>-{function}-...); a queue worker's failed batch is retried and ends in its DLQ.",
            Namespace="AWS/Lambda", MetricName="Errors", Dimensions=dimensions, Statistic="Sum", Period=300,
            EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold")
        alarms[f"{function}ThrottlesAlarm"] = alarm(
            f"{function} was throttled: the account's Lambda concurrency is exhausted. First: look at "
            "ConcurrentExecutions in the Lambda console for a runaway caller; then ask for a higher quota.",
            Namespace="AWS/Lambda", MetricName="Throttles", Dimensions=dimensions, Statistic="Sum", Period=300,
            EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold")
    return alarms


def api_alarms(api_name: str, stage: str) -> dict:
    return {"Api5xxAlarm": alarm(
        {"Fn::Sub": f"The API answered at least ${{{API_5XX_THRESHOLD}}} 5xx in 5 min: platforms' webhooks are "
                    "refused (they retry) and agents see errors. First: APIHandlerErrorsAlarm and the API's "
                    "latency on the dashboard, then APIHandler's ERROR log lines (a queue or the table refusing?)."},
        Namespace="AWS/ApiGateway", MetricName="5XXError",
        Dimensions=[{"Name": "ApiName", "Value": api_name}, {"Name": "Stage", "Value": stage}],
        Statistic="Sum", Period=300, EvaluationPeriods=1, Threshold={"Ref": API_5XX_THRESHOLD},
        ComparisonOperator="GreaterThanOrEqualToThreshold")}


def brand_ids(brands: Iterable[str]) -> dict[str, str]:
    """Brand → its logical id part; two brands that would share one are refused."""
    found: dict[str, str] = {}
    for brand in brands:
        part = _id(brand)
        if not part:
            raise ValueError(f"brand {brand!r} has no letter or digit")
        clash = [b for b, p in found.items() if p == part and b != brand]
        if clash:
            raise ValueError(f"brands {clash[0]!r} and {brand!r} would share the alarm NegativeMentions{part}Alarm")
        found[brand] = part
    return found


def brand_alarms(brands: Iterable[str], service: str) -> dict:
    """Per brand: an anomaly detector on its negative mentions, and an alarm above the usual band."""
    resources = {}
    for brand, part in brand_ids(brands).items():
        metric = {"Namespace": NAMESPACE, "MetricName": M.NEGATIVE_MENTIONS,
                  "Dimensions": _desk_dimensions("brand", brand, service)}
        detector = f"{M.NEGATIVE_MENTIONS}{part}Detector"
        resources[detector] = {"Type": "AWS::CloudWatch::AnomalyDetector", "Properties": {
            "SingleMetricAnomalyDetector": {**metric, "Stat": "Sum"}}}
        resources[f"{M.NEGATIVE_MENTIONS}{part}Alarm"] = {**alarm(
            f"Negative mentions of {brand} rose above their usual band: a crisis may be starting. First: open "
            f"the inbox for {brand} by priority, read the newest negative mentions, and tell the brand's social "
            "media lead before it trends.",
            Metrics=[{"Id": "mentions", "ReturnData": True, "MetricStat": {"Metric": metric, "Period": 300,
                                                                          "Stat": "Sum"}},
                     {"Id": "band", "ReturnData": True, "Label": "usual band",
                      "Expression": {"Fn::Sub": f"ANOMALY_DETECTION_BAND(mentions, ${{{ANOMALY_BAND_WIDTH}}})"}}],
            ThresholdMetricId="band", ComparisonOperator="GreaterThanUpperThreshold",
            EvaluationPeriods=3, DatapointsToAlarm=2), "DependsOn": [detector]}
    return resources


# -- the dashboard --------------------------------------------------------------------------------
_NUMBER = "__FIRST_RESPONSE_TARGET__"  # a parameter's value where the body needs a number, not a string


def dashboard(*, channels: list[str], functions: list[str], queues: list, service: str, api_name: str,
              stage: str) -> dict:
    """The desk's health on one page. The body is a `Fn::Sub`: `${LogicalId}` names a function,
    `${AWS::Region}` the region."""
    def desk(metric, stat="Sum", dimension="channel", values=channels):
        return [[NAMESPACE, metric, dimension, value, "service", service, {"label": value}] for value in values]

    def graph(title, metrics, stat="Sum", period=300, **extra):
        return {"type": "metric", "properties": {"title": title, "region": "${AWS::Region}", "view": "timeSeries",
                                                 "stacked": False, "stat": stat, "period": period,
                                                 "metrics": metrics, **extra}}

    def per_function(metric):
        return [["AWS/Lambda", metric, "FunctionName", f"${{{fn}}}", {"label": fn}] for fn in functions]

    negative = (f"SEARCH('{{{NAMESPACE},brand,service}} MetricName=\"{M.NEGATIVE_MENTIONS}\" "
                f"service=\"{service}\"', 'Sum', 300)")
    widgets = [
        graph("Mentions received", desk(M.MENTIONS_RECEIVED)),
        graph("Tickets created", desk(M.TICKETS_CREATED)),
        graph("Negative mentions, per brand", [[{"expression": negative, "id": "negative", "label": ""}]]),
        graph("SLA breaches", desk(M.SLA_BREACHES)),
        graph("First response p90 (s)", desk(M.FIRST_RESPONSE_TIME), stat="p90", period=900,
              annotations={"horizontal": [{"label": "target", "value": _NUMBER}]}),
        graph("Replies sent / failed",
              [[*row[:6], {"label": f"sent {row[3]}"}] for row in desk(M.REPLIES_SENT)]
              + [[*row[:6], {"label": f"failed {row[3]}"}] for row in desk(M.REPLIES_FAILED)]),
        graph("Dead-letter queues (messages)",
              [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q.dlq_name] for q in queues],
              stat="Maximum", period=60),
        graph("Queues: oldest message (s)",
              [["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", q.name] for q in queues],
              stat="Maximum", period=60),
        graph("Lambda errors", per_function("Errors")),
        graph("Lambda throttles", per_function("Throttles")),
        graph("API 5xx / 4xx", [["AWS/ApiGateway", "5XXError", "ApiName", api_name, "Stage", stage],
                                ["AWS/ApiGateway", "4XXError", "ApiName", api_name, "Stage", stage]]),
        graph("Channel health (unhealthy accounts)", desk(CHANNEL_UNHEALTHY)),
    ]
    for index, widget in enumerate(widgets):  # two a row
        widget.update(x=(index % 2) * 12, y=(index // 2) * 6, width=12, height=6)
    body = json.dumps({"widgets": widgets}, separators=(",", ":"))
    body = body.replace(f'"{_NUMBER}"', f"${{{FIRST_RESPONSE_TARGET}}}")
    return {"Dashboard": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {
        "DashboardName": {"Fn::Sub": "${AWS::StackName}-health"}, "DashboardBody": {"Fn::Sub": body}}}}
