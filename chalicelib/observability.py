"""The one place that owns the logger, the metrics and their names.

Powertools Logger writes JSON lines with a correlation id; Metrics writes CloudWatch EMF in
the `SocialCare` namespace with `channel` as the only dimension (ids go in properties, never
in dimensions). Tracer is deliberately not imported here: it costs ~130 ms of cold start.
"""
from __future__ import annotations

import os

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import Metrics, MetricUnit, single_metric

NAMESPACE = "SocialCare"
SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "social-care")


class M:
    """Metric names, in one place."""

    MENTIONS_RECEIVED = "MentionsReceived"
    DUPLICATE_EVENTS = "DuplicateEvents"
    INVALID_SIGNATURES = "InvalidSignatures"
    UNPARSED_EVENTS = "UnparsedEvents"
    AUTHOR_LOOKUP_FAILURES = "AuthorLookupFailures"  # a mention's author could not be looked up
    PARSER_ERRORS = "ParserErrors"  # a parser raised what it should not: a bug, the body quarantined
    TICKETS_CREATED = "TicketsCreated"
    MESSAGES_THREADED = "MessagesThreaded"
    IGNORED_EVENTS = "IgnoredEvents"
    ENQUEUE_FAILURES = "EnqueueFailures"
    DELIVERY_STATUSES = "DeliveryStatuses"
    ACCOUNTS_DISCOVERED = "AccountsDiscovered"
    POLLER_RATE_LIMITED = "PollerRateLimited"
    REPLIES_SENT = "RepliesSent"
    REPLIES_FAILED = "RepliesFailed"
    FIRST_RESPONSE_TIME = "FirstResponseTime"
    OUTBOUND_RETRIES = "OutboundRetries"
    OUTBOUND_GAVE_UP = "OutboundGaveUp"
    TICKETS_ROUTED = "TicketsRouted"
    ROUTING_LATENCY = "RoutingLatency"
    UNASSIGNED = "Unassigned"
    SLA_BREACHES = "SLABreaches"
    SLA_WARNINGS = "SLAWarnings"
    QUEUE_BACKLOG = "QueueBacklog"
    OLDEST_WAITING = "OldestWaiting"
    CHANNEL_UNHEALTHY = "ChannelUnhealthy"  # a connected account's channel died: silent, token, subscription
    LOAD_DRIFT_REPAIRED = "LoadDriftRepaired"  # the sweeper set an agent's load back to what they hold
    NEGATIVE_MENTIONS = "NegativeMentions"  # per brand (dimension `brand`): its anomaly alarm pages on a crisis


logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def count(name: str, channel: str, value: float = 1, **properties) -> None:
    """Emit one count with the `channel` dimension, flushed immediately as its own EMF line.

    Used from webhooks and workers alike, so it never depends on a handler decorator having
    flushed the shared `metrics` object.
    """
    if value <= 0:
        return
    measure(name, channel, value, **properties)


def measure(name: str, channel: str, value: float, unit: str = "Count", **properties) -> None:
    """Emit one value (Count, Seconds, ...) with the `channel` dimension as its own EMF line."""
    with single_metric(name=name, unit=MetricUnit(unit), value=value, namespace=NAMESPACE) as m:
        m.add_dimension(name="channel", value=channel)
        for key, val in properties.items():
            m.add_metadata(key=key, value=val)


def brand_count(name: str, brand: str, value: float = 1, **properties) -> None:
    """One count with the `brand` dimension (a brand's own figure, e.g. its negative mentions)."""
    with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=NAMESPACE) as m:
        m.add_dimension(name="brand", value=brand)
        for key, val in properties.items():
            m.add_metadata(key=key, value=val)


def gauge(name: str, value: float, unit: str = "Count", team: str = "default") -> None:
    """A queue gauge with the `team` dimension (the sweeper's backlog and oldest wait)."""
    with single_metric(name=name, unit=MetricUnit(unit), value=value, namespace=NAMESPACE) as m:
        m.add_dimension(name="team", value=team)
