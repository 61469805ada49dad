"""Item helpers the in-memory twins share: a stored copy without Nones, a change applied, a filter."""
from __future__ import annotations

from typing import Any, Mapping


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


def matches(ticket: dict, filters: Mapping[str, Any]) -> bool:
    """The inbox's FilterExpression (store/tickets.py inbox_filter) in Python."""
    for name in ("channel", "assignee", "team", "topic", "language"):
        if name in filters:
            if name == "assignee" and filters[name] == "none":
                if "assignee" in ticket:
                    return False
            elif ticket.get(name) != filters[name]:
                return False
    priority = ticket.get("priority")
    if "priority_min" in filters and (priority is None or priority < filters["priority_min"]):
        return False
    if "priority_max" in filters and (priority is None or priority > filters["priority_max"]):
        return False
    if "sentiment" in filters and (ticket.get("classification") or {}).get("sentiment") != filters["sentiment"]:
        return False
    return "q" not in filters or filters["q"].lower() in (ticket.get("search_text") or "")
