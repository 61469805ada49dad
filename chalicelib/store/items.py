"""What every DynamoDB implementation of a store port shares: items to and from plain Python
values, and reading a conditional write's refusal. Imports botocore's error type only."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterator, Mapping, Optional

from botocore.exceptions import ClientError


def conditional_failed(err: ClientError) -> bool:
    return err.response["Error"]["Code"] in ("ConditionalCheckFailedException",
                                              "TransactionCanceledException")


def cancel_reasons(err: ClientError) -> list[str]:
    return [r.get("Code", "None") for r in err.response.get("CancellationReasons", [])]


def update_expression(changes: dict, *also_set: str) -> tuple[str, dict, dict]:
    """An UpdateExpression that SETs each change (and the `also_set` clauses) and REMOVEs the ones
    that are None, with its attribute names and values."""
    setting = {k: v for k, v in changes.items() if v is not None}
    clauses = [f"#{k} = :{k}" for k in setting] + list(also_set)
    expression = ("SET " + ", ".join(clauses)) if clauses else ""
    removing = [k for k, v in changes.items() if v is None]
    if removing:
        expression += " REMOVE " + ", ".join(f"#{k}" for k in removing)
    return expression.strip(), {f"#{k}": k for k in changes}, {f":{k}": v for k, v in setting.items()}


def plain(item: Optional[dict]) -> Optional[dict]:
    """DynamoDB's Decimals back to ints/floats, for JSON and pydantic."""
    if item is None:
        return None
    return _plain(item)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def dynamo(value: Any) -> Any:
    """Floats to Decimals (boto3's resource layer refuses floats)."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: dynamo(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [dynamo(v) for v in value]
    return value


def partition(table, pk: str, sk_prefix: str = "") -> Iterator[dict]:
    """Every item of one partition (under an SK prefix, when given), as stored, page by page."""
    condition = "PK = :pk" + (" AND begins_with(SK, :sk)" if sk_prefix else "")
    values = {":pk": pk, **({":sk": sk_prefix} if sk_prefix else {})}
    kwargs: dict = {"KeyConditionExpression": condition, "ExpressionAttributeValues": values}
    while True:
        page = table.query(**kwargs)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def matches(ticket: dict, filters: Mapping[str, Any]) -> bool:
    """The inbox's filters in Python, on a ticket as stored: the in-memory twin's inbox, and the table's
    for what the index does not hold (sentiment, text)."""
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
    text = f"{ticket.get('last_message_preview') or ''} {ticket.get('search_text') or ''}".lower()
    return "q" not in filters or filters["q"].lower() in text
