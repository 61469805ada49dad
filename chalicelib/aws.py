"""Lazily built boto3 clients, one per service per container.

Nothing here runs at import time: boto3 costs ~100 ms to import and a client ~55 ms more,
so a handler pays only for the clients it uses. `reset()` drops them (tests start moto first).
"""
from __future__ import annotations

from typing import Any

from chalicelib.env import settings

_clients: dict[str, Any] = {}
_resources: dict[str, Any] = {}


def _kwargs() -> dict:
    cfg = settings()
    kwargs: dict = {"region_name": cfg.region}
    if cfg.endpoint_url:
        kwargs["endpoint_url"] = cfg.endpoint_url
    return kwargs


def client(service: str) -> Any:
    if service not in _clients:
        import boto3

        _clients[service] = boto3.client(service, **_kwargs())
    return _clients[service]


def table() -> Any:
    name = settings().table_name
    if name not in _resources:
        import boto3

        _resources[name] = boto3.resource("dynamodb", **_kwargs()).Table(name)
    return _resources[name]


def reset() -> None:
    _clients.clear()
    _resources.clear()
