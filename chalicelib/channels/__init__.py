"""One module per platform: how to verify what it sends, and how to turn it into Mentions.

Each webhook adapter exposes:
    verify(raw_body: bytes, signature_header: str | None, secret: str) -> None
        raises errors.InvalidSignature; compares in constant time over the raw bytes.
    parse(payload: dict) -> models.ParseResult
        raises errors.UnknownPayload(reason) when the body's shape is not one it knows;
        events it knows but that are not customer mentions (the brand's own posts, echoes,
        likes, ...) are counted in ParseResult.ignored.
Modules import pydantic, the standard library, chalicelib.models and chalicelib.errors only.
"""

from typing import Any, Callable, Iterable

from pydantic import ValidationError

from chalicelib.errors import UnknownPayload
from chalicelib.models import ParseResult


def each(result: ParseResult, items: Iterable[Any], where: str, handle: Callable[[Any], None]) -> None:
    """Handle every event of a batch on its own: one the parser cannot read (UnknownPayload, or a
    field the models refuse, such as an empty id) is rejected with its reason, and its neighbours
    are still read. The caller quarantines the raw body whenever anything was rejected."""
    for index, item in enumerate(items):
        try:
            handle(item)
        except UnknownPayload as err:
            result.reject(f"{where}[{index}]: {err.reason}")
        except ValidationError as err:
            result.reject(f"{where}[{index}]: {describe(err)}")


def describe(err: ValidationError) -> str:
    """The fields a model refused, e.g. "external_id (string_too_short), author.id (missing)"."""
    return ", ".join(f"{'.'.join(str(p) for p in e['loc']) or '(root)'} ({e['type']})" for e in err.errors()[:10])


def text(value: Any) -> str:
    """A text field as a string: numbers become text, anything else (objects, lists) nothing."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return ""


def obj(value: Any) -> dict:
    """A field that should hold a JSON object: anything else reads as an empty one."""
    return value if isinstance(value, dict) else {}


def array(value: Any) -> list:
    """A field that should hold a JSON array: anything else reads as an empty one."""
    return value if isinstance(value, list) else []


def url(value: Any) -> "str | None":
    return value if isinstance(value, str) and value else None
