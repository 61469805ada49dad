"""chalicelib/answers.py: the one table from exception type to the API's answer."""
from __future__ import annotations

from importlib import import_module

import pytest
from pydantic import BaseModel, Field, ValidationError

from chalicelib import answers
from chalicelib.auth import Forbidden
from chalicelib.errors import ConcurrentUpdate, EnqueueFailed, Invalid, NotFound
from chalicelib.outbound.policy import ReplyRefused
from chalicelib.tickets import HeldByAnother


@pytest.mark.parametrize("module, name", [(module, name) for module, name, _ in answers.TABLE])
def test_every_type_the_table_names_is_an_exception_class_where_the_table_looks(module, name):
    # A type that moved to another module would never match again: its refusals would become 500s
    found = getattr(import_module(module), name, None)
    assert isinstance(found, type) and issubclass(found, Exception), f"{module}.{name}"


class _Body(BaseModel):
    days: int = Field(ge=1)


def _invalid() -> ValidationError:
    with pytest.raises(ValidationError) as err:
        _Body.model_validate({"days": 0})
    return err.value


@pytest.mark.parametrize("error, status, body", [
    (Invalid("cursor", "not a cursor this API gave out"), 400, {"error": "cursor: not a cursor this API gave out"}),
    (ValueError("this ticket was rated already"), 400, {"error": "this ticket was rated already"}),
    (NotFound("agent ana"), 404, {"error": "not found: agent ana"}),
    (ConcurrentUpdate(), 409, {"error": "it changed since you loaded it; reload and try again"}),
    (HeldByAnother("bo holds this ticket"), 409, {"error": "bo holds this ticket"}),
    (Forbidden("admin role required"), 403, {"error": "admin role required"}),
    (ReplyRefused("text", "over 280"), 422, {"error": "over 280", "field": "text"}),
    (EnqueueFailed("SQS said no"), 503, {"error": "it could not be queued; nothing was sent, send it again"}),
])
def test_each_desk_error_has_its_answer(error, status, body):
    assert answers.answer(error) == (status, body)


def test_a_validation_error_names_each_field_and_wins_over_value_error():
    status, body = answers.answer(_invalid())
    assert status == 400 and body["error"].startswith("days: ")


@pytest.mark.parametrize("error", [KeyError("PK"), RuntimeError("boom"), TypeError("bug")])
def test_anything_else_is_a_bug_left_to_the_500(error):
    assert answers.answer(error) is None
