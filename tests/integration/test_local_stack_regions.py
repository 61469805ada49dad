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
