"""The local stack provisions in any region a new user's environment names (issue 11, point 8)."""
from __future__ import annotations

import pytest

from tests.conftest import TEST_SECRETS


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-2"])
def test_the_local_stack_provisions_in_any_region_twice(aws_env, region):
    import boto3
    from moto import mock_aws

    from infra.local import stack

    # Given a user whose environment names this region (us-east-1 is the most common)
    aws_env.setenv("AWS_DEFAULT_REGION", region)
    with mock_aws():
        # When the stack is provisioned, and provisioned again (bootstrap is idempotent)
        for _ in range(2):
            made = stack.provision(region, "social-care-models-local", dict(TEST_SECRETS))
        # Then the bucket is in that region and the queues exist
        s3 = boto3.client("s3", region_name=region)
        location = s3.get_bucket_location(Bucket="social-care-models-local")["LocationConstraint"]
        assert (location or "us-east-1") == region
        assert set(made["queue_urls"]) >= {"INGEST_QUEUE_URL", "ROUTING_QUEUE_URL", "OUTBOUND_QUEUE_URL"}


def test_commands_in_another_shell_find_the_stack_in_the_region_it_was_started_in(monkeypatch):
    from infra.local import env

    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    assert env.region() == "eu-west-1"  # nothing started yet, nothing named
    env.remember_region("us-east-1")  # `up` in a shell that exported us-east-1
    assert env.region() == "us-east-1"  # `python -m infra.local tickets` in a shell that did not
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-2")
    assert env.region() == "ap-southeast-2"  # what the environment names always wins
