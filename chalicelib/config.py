"""Settings, read once per container from the environment, and platform secrets.

Secrets come from the environment when set (local stack, tests), otherwise from the Secrets
Manager secret named by PLATFORM_SECRET_ID, fetched once and kept for the container's life.
A secret is never logged: `Secrets.__repr__` hides the values.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache

from chalicelib import aws
from chalicelib.env import Settings, settings

__all__ = ["MAX_BODY_BYTES", "SECRET_KEYS", "Secrets", "Settings", "reset", "secrets", "settings"]

SECRET_KEYS = ("X_CONSUMER_SECRET", "META_APP_SECRET", "META_VERIFY_TOKEN", "API_CHANNEL_SECRET",
               "X_BEARER_TOKEN")

MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Secrets:
    values: dict = field(repr=False)

    def get(self, key: str) -> str:
        """A channel's secret: SECRET_KEYS are read once; another channel's key (a channel added to
        the registry names its own) is read from the stored secret or the environment."""
        return self.values.get(key) or (os.environ.get(key, "") if key not in SECRET_KEYS else "")

    def __repr__(self) -> str:  # never print a secret, even by accident
        return f"Secrets(keys={sorted(k for k, v in self.values.items() if v)})"


@lru_cache(maxsize=1)
def secrets() -> Secrets:
    from_env = {k: os.environ[k] for k in SECRET_KEYS if os.environ.get(k)}
    cfg = settings()
    if cfg.platform_secret_id and len(from_env) < len(SECRET_KEYS):
        stored = json.loads(aws.get_secret_string(cfg.platform_secret_id))
        return Secrets({**{k: stored.get(k, "") for k in SECRET_KEYS},
                        **{k: v for k, v in stored.items() if isinstance(v, str)}, **from_env})
    return Secrets(from_env)


def reset() -> None:
    """Forget cached settings and secrets (tests and the local stack change the environment)."""
    secrets.cache_clear()
    aws.reset()
