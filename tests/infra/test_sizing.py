"""Lambda sizing, as .chalice/config.json gives it to `chalice package` (docs/ARCHITECTURE.md,
"Cold start", has the measurements behind each figure)."""
import json
from pathlib import Path

import pytest
from chalice.config import Config

ROOT = Path(__file__).resolve().parents[2]
FULL_VCPU_MB = 1769


@pytest.fixture(scope="module")
def config():
    return Config(chalice_stage="prod", config_from_disk=json.loads((ROOT / ".chalice" / "config.json").read_text()))


def _functions() -> list[str]:
    return list(json.loads((ROOT / ".chalice" / "config.json").read_text())["lambda_functions"])


def test_every_function_runs_on_arm64_with_a_measured_memory_size(config):
    assert config.lambda_architecture == "arm64"
    for name in _functions():
        memory = config.scope("prod", name).lambda_memory_size
        assert memory is not None and 512 <= memory <= FULL_VCPU_MB, name  # never Chalice's 128 MB default


def test_the_api_function_has_a_whole_vcpu_and_stops_when_api_gateway_does(config):
    api = config.scope("prod", "api_handler")
    assert api.lambda_memory_size == FULL_VCPU_MB  # the webhook's cold start is CPU: one vCPU serves it fastest
    assert api.lambda_timeout <= 29  # API Gateway's integration timeout: running longer answers nobody
    assert config.scope("prod", "desk_authorizer").lambda_timeout <= 29


def test_queue_workers_keep_chalices_timeout_under_the_outbound_lease(config):
    from chalicelib.outbound import worker

    for name in ("ingest_worker", "route_worker", "outbound_worker"):
        timeout = config.scope("prod", name).lambda_timeout or 60  # Chalice's default
        assert timeout < worker.LEASE.total_seconds()
