"""How errors become answers: the one table from exception type to HTTP status and body.

`app.py`'s HTTP middleware calls `answer(err)` for whatever a route raised; every refusal has
the shape `{"error": str}` (422 adds `"field"`). Errors are matched by type, never by message.

Cold start: this module imports nothing. A type is looked up in `sys.modules` instead of being
imported, because an exception of a class whose module was never imported cannot exist: the
table costs nothing until something fails, and importing it never pulls in pydantic or a use case.
"""
from __future__ import annotations

import sys
from typing import Callable, Optional

Answer = tuple[int, dict]


def _fields(err) -> str:
    """A pydantic ValidationError as one line naming each field and what is wrong with it."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in err.errors())


# (module, class, answer). Looked up along the exception's MRO, so the most specific entry wins
# (a pydantic ValidationError is also a ValueError; errors.Invalid is one too).
TABLE: tuple[tuple[str, str, Callable[[BaseException], Answer]], ...] = (
    ("pydantic_core", "ValidationError", lambda e: (400, {"error": _fields(e)})),
    ("chalicelib.errors", "Invalid", lambda e: (400, {"error": str(e)})),
    ("chalicelib.errors", "NotFound", lambda e: (404, {"error": f"not found: {e}" if str(e) else "not found"})),
    ("chalicelib.errors", "ConcurrentUpdate",
     lambda e: (409, {"error": "it changed since you loaded it; reload and try again"})),
    ("chalicelib.tickets", "HeldByAnother", lambda e: (409, {"error": str(e)})),
    ("chalicelib.collab", "StaleView", lambda e: (409, e.body())),  # names the messages not seen
    ("chalicelib.auth", "Forbidden", lambda e: (403, {"error": str(e)})),
    ("chalicelib.channels.reply", "ReplyRefused", lambda e: (422, {"error": e.reason, "field": e.field})),
    ("chalicelib.errors", "EnqueueFailed",
     lambda e: (503, {"error": "it could not be queued; nothing was sent, send it again"})),
    # a use case's own refusal whose message names the field (new code raises errors.Invalid)
    ("builtins", "ValueError", lambda e: (400, {"error": str(e)})),
)


def answer(err: BaseException) -> Optional[Answer]:
    """(status, body) for an error the desk answers on purpose; None for a bug (a 500)."""
    for cls in type(err).__mro__:
        for module, name, make in TABLE:
            if cls.__name__ == name and getattr(sys.modules.get(module), name, None) is cls:
                return make(err)
    return None

