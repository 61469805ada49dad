"""Item helpers the in-memory twins share: a stored copy without Nones, a change applied, the inbox's filter."""
from __future__ import annotations

from typing import Any, Mapping

from chalicelib.store.items import matches  # noqa: F401 (the inbox's filter, shared with the table's)


def clean(value: Any) -> Any:
    """What the table keeps of a value: a deep copy without the Nones (DynamoDB stores no null
    attribute where the desk writes one)."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    return value


def apply(item: dict, changes: Mapping[str, Any]) -> None:
    """An update expression's effect: each change set, a None removed."""
    for name, value in changes.items():
        if value is None:
            item.pop(name, None)
        else:
            item[name] = clean(value)
