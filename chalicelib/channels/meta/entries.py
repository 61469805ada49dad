"""What every Meta product's webhook entries share: the loose payload models, field checks and
Meta's times. Facebook, Instagram and WhatsApp parse their own entries (`<channel>/webhook.py`)
with these; the envelope and its dispatch are `meta/webhook.py`.

Imports pydantic, the standard library, chalicelib.models and chalicelib.errors only.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib import channels
from chalicelib.errors import UnknownPayload
from chalicelib.models import DeliveryStatus, Mention, ParseResult, from_epoch, iso_time, utcnow

Epoch = Union[int, float, str, None]
EpochMs = Annotated[int, Field(strict=True, gt=0)]  # a JSON number of milliseconds, no string or bool


class Loose(BaseModel):
    """Only the fields we read; extra fields are allowed."""

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True, populate_by_name=True)


class IdRef(Loose):
    id: str
    name: Optional[str] = None
    username: Optional[str] = None


class Change(Loose):
    field: str
    value: dict = {}


def collect(result: ParseResult, mention: Optional[Mention]) -> None:
    if mention is None:
        result.ignored += 1
    else:
        result.mentions.append(mention)


def collect_statuses(result: ParseResult, statuses: list[DeliveryStatus]) -> None:
    if statuses:
        result.statuses.extend(statuses)
    else:
        result.ignored += 1


def validate(model: type[BaseModel], raw: Any, where: str):
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise UnknownPayload(f"meta: invalid {where} ({channels.describe(exc)})") from exc


def items(entry: dict, key: str) -> list:
    """An entry's `changes` or `messaging` list (none: empty)."""
    raw = entry.get(key, [])
    if not isinstance(raw, list):
        raise UnknownPayload(f"meta: {key} is not a list")
    return raw


def time(value: Any, fallback: Any = None) -> datetime:
    """Meta mixes epoch seconds (feed created_time), milliseconds (messaging) and ISO strings.
    A time that cannot be read, or lies outside any believable range, is when we got it."""
    moment = read_time(value) or read_time(fallback)
    return moment or utcnow()


def read_time(candidate: Any) -> Optional[datetime]:
    if isinstance(candidate, bool) or not isinstance(candidate, (int, float, str)) or candidate == "":
        return None
    text = str(candidate)[:64]
    try:
        number = float(text)
    except ValueError:
        return iso_time(text)
    try:
        return from_epoch(number / 1000 if number > 1e11 else number)
    except ValueError:
        return None


def watermark(value: Optional[int]) -> Optional[datetime]:
    """A receipt's watermark marks everything before it: one we cannot believe marks nothing."""
    if value is None:
        return None
    moment = read_time(value)
    if moment is None:
        raise UnknownPayload(f"meta: watermark {str(value)[:30]} is out of range")
    return moment
