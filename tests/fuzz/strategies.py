"""Hostile variations of the project's real-format webhook bodies, for hypothesis.

Seeds are the fixtures under tests/fixtures (captured shapes of each platform) and the local
stack's payload builders. A mutation picks a few places in the JSON tree and swaps a value's
type, deletes a key, puts in a huge or odd string, an absurd number or time, deep nesting, or
adds a bad entry next to good ones in a list (a batch with one bad entry). Bodies are then
encoded, and sometimes truncated or given bytes that are not UTF-8.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def deep(depth: int, leaf: Any = None) -> Any:
    value: Any = leaf
    for index in range(depth):
        value = [value] if index % 2 else {"a": value}
    return value


ODD_STRINGS = st.sampled_from([
    "", " ", "\x00", "\ud800", "\u202e\u0645\u0631\u062d\u0628\u0627", "\U0001f4a9" * 300, "a" * 100_000,
    "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00", "Mon Jan 01 00:00:00 +1400 0001", "NaN", "-1",
    "1e309", "99999999999999999999999", "sha256=", "javascript:alert(1)", "http://169.254.169.254/",
    "<script>alert(1)</script>", "{}", "[]", "null", "12345678901234567890", "\r\n\r\n",
])
NUMBERS = st.one_of(
    st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
    st.sampled_from([0, -1, 10 ** 20, 10 ** 30, 2 ** 63, 1e308, -1e308, 1.5]),
    st.floats(allow_nan=False),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, st.text(max_size=40), ODD_STRINGS)
HOSTILE = st.one_of(
    SCALARS,
    st.builds(deep, st.integers(min_value=1, max_value=400), SCALARS),
    st.lists(SCALARS, max_size=5),
    st.dictionaries(st.text(max_size=8), SCALARS, max_size=5),
)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, prefix + (index,))
    return found


def _get(value: Any, path: tuple) -> Any:
    for part in path:
        value = value[part]
    return value


def _swapped(value: Any) -> Any:
    """The same information in the wrong type."""
    if isinstance(value, str):
        return int(value) if value.isascii() and value.isdigit() and len(value) < 30 else [value]
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    if isinstance(value, dict):
        return list(value.values())
    return {}


@st.composite
def mutated(draw, seed: Any) -> Any:
    """`seed` with one to four mutations at random places of its tree."""
    value = copy.deepcopy(seed)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        paths = _paths(value)
        path = draw(st.sampled_from(paths))
        how = draw(st.sampled_from(["replace", "swap", "delete", "add_bad_entry", "duplicate"]))
        if not path:  # the root itself
            if how in ("replace", "swap"):
                value = draw(HOSTILE) if how == "replace" else _swapped(value)
            continue
        parent, key = _get(value, path[:-1]), path[-1]
        target = parent[key]
        if how == "replace":
            parent[key] = draw(HOSTILE)
        elif how == "swap":
            parent[key] = _swapped(target)
        elif how == "delete":
            del parent[key]
        elif how == "add_bad_entry" and isinstance(target, list):
            target.insert(draw(st.integers(min_value=0, max_value=len(target))), draw(HOSTILE))
        elif how == "duplicate" and isinstance(target, list) and target:
            target.append(copy.deepcopy(target[0]))
    return value


def encoded(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8", errors="surrogatepass")


@st.composite
def raw_bodies(draw, seeds: list) -> bytes:
    """A mutated seed as bytes; sometimes truncated, sometimes with bytes that are not UTF-8."""
    body = encoded(draw(mutated(draw(st.sampled_from(seeds)))))
    how = draw(st.sampled_from(["as is", "as is", "as is", "truncate", "bad utf-8", "deep"]))
    if how == "truncate" and body:
        body = body[:draw(st.integers(min_value=0, max_value=len(body) - 1))]
    elif how == "bad utf-8":
        at = draw(st.integers(min_value=0, max_value=len(body)))
        body = body[:at] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80\x80"])) + body[at:]
    elif how == "deep":
        depth = draw(st.integers(min_value=500, max_value=60_000))
        body = b"[" * depth + b"]" * depth
    return body
