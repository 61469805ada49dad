"""The local stack's environment: ports, endpoint, resource names and secrets.

Everything honours what is already in the environment, so tests and tools can point the
commands at any running stack. Secrets that are not set are generated once per checkout and
kept in `.local-stack/secrets.json` (git-ignored), never in code or config files.
"""
from __future__ import annotations

import json
import os
import secrets as random_secrets
from pathlib import Path

from infra import resources

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT_ID = "123456789012"  # moto's default account
SECRET_NAMES = ("X_CONSUMER_SECRET", "META_APP_SECRET", "META_VERIFY_TOKEN", "API_CHANNEL_SECRET",
                "X_BEARER_TOKEN", "LOCAL_JWT_SECRET",
                "SURVEY_SECRET")  # signs CSAT survey buttons and page links (chalicelib/surveys.py)
PLATFORM_SECRET_ID = "social-care/platform"
EMAIL_QUEUE_NAME = "social-care-email-local"  # local stand-in for SNS ▸ Lambda delivery


def port(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def endpoint() -> str:
    return os.environ.get("AWS_ENDPOINT_URL") or f"http://127.0.0.1:{port('AWS_PORT', 4566)}"


def queue_url(name: str) -> str:
    return f"{endpoint()}/{ACCOUNT_ID}/{name}"


def state_dir() -> Path:
    return Path(os.environ.get("LOCAL_STATE_DIR") or ROOT / ".local-stack")


def region() -> str:
    """The region the environment names, else the one the running stack was started in (so
    `tickets` or `quarantine` in another shell find it), else eu-west-1."""
    if os.environ.get("AWS_DEFAULT_REGION"):
        return os.environ["AWS_DEFAULT_REGION"]
    path = state_dir() / "region"
    return path.read_text().strip() if path.exists() else "eu-west-1"


def remember_region(name: str) -> None:
    state_dir().mkdir(parents=True, exist_ok=True)
    (state_dir() / "region").write_text(name)


def channel_secrets() -> list[str]:
    """The secrets every registered channel's webhook names (a new channel's among them)."""
    from chalicelib.channels import registry

    names = [n for hook in registry.webhooks().values() for n in (hook.secret, hook.handshake_secret) if n]
    return [n for n in dict.fromkeys(names) if n not in SECRET_NAMES]


def local_secrets() -> dict[str, str]:
    """Secrets from the environment, else from the state file, else newly generated."""
    path = state_dir() / "secrets.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    values = {}
    for name in (*SECRET_NAMES, *channel_secrets()):
        values[name] = os.environ.get(name) or stored.get(name) or random_secrets.token_urlsafe(32)
    if values != stored:
        state_dir().mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
        path.chmod(0o600)
    return values


def apply() -> dict[str, str]:
    """Set the local stack's variables in this process (without overriding given ones)."""
    defaults = {
        "AWS_DEFAULT_REGION": region(),
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_ENDPOINT_URL": endpoint(),
        "TABLE_NAME": resources.TABLE_NAME,
        "MODEL_BUCKET": "social-care-models-local",
        "PLATFORM_SECRET_ID": PLATFORM_SECRET_ID,
        "X_API_BASE": f"http://127.0.0.1:{port('SANDBOX_PORT', 8025)}",
        "GRAPH_API_BASE": f"http://127.0.0.1:{port('SANDBOX_PORT', 8025)}/v21.0",
        "POWERTOOLS_SERVICE_NAME": "social-care-local",
        "POWERTOOLS_LOG_LEVEL": "WARNING",  # INFO shows every mention's JSON log line
        "DESK_LOCAL": "1",  # API-channel callbacks may go to the sandbox on loopback over http (netguard)
        "DESK_PUBLIC_URL": f"http://127.0.0.1:{port('API_PORT', 8000)}",  # CSAT survey links (chalicelib/surveys.py)
    }
    for spec in resources.QUEUES:
        defaults[spec.env_var] = queue_url(spec.name)
    for key, value in {**defaults, **local_secrets()}.items():
        os.environ.setdefault(key, value)
    from chalicelib import config

    config.reset()
    return {k: os.environ[k] for k in defaults}
