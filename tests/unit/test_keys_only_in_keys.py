"""Every DynamoDB key is built in chalicelib/store/keys.py (issue 12, point 3): no other module Lambda
ships (chalicelib, app.py) holds a key-shaped string literal.

What is key-shaped is read from keys.py itself, so the guard grows with it: every string keys.py
writes (its docstring and the attribute names PK/SK/GSI1PK..GSI3SK aside) that starts with an upper-case
word gives that word, as a prefix when a `#` follows (`TICKET#…`, `MSG#…`, `INBOX#…`) and as a whole
value when it stands alone (`ACCOUNTS`, `PROFILE`, `TICKET`). Elsewhere a string literal, or an
f-string read with its holes empty, is a key when it starts with one of those prefixes and a `#`, or
is one of those whole values. Comments and docstrings are prose and may name keys.

Not keys, and so not looked for: `Mention.dedupe_key` and `conversation_key` (`<platform>#…`), which
are the domain's identifiers of a platform message and a thread (stored on the ticket, hashed into
message ids, logged); keys.py takes them as they are and puts its prefix in front.
"""
import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KEYS = ROOT / "chalicelib" / "store" / "keys.py"
ATTRIBUTES = {"PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK"}  # the key attributes' names, not key values
WORD = re.compile(r"([A-Z][A-Z0-9_]*)(#|$)")


def _docstrings(tree: ast.AST) -> set[int]:
    return {id(node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)}


def _strings(source: str) -> list[tuple[int, str]]:
    """(line, text) of every string literal that is not a docstring; an f-string with its holes empty."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    inner = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in ast.walk(node)
             if part is not node}
    found = []
    for node in ast.walk(tree):
        if id(node) in skip or id(node) in inner:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr):
            found.append((node.lineno, "".join(p.value if isinstance(p, ast.Constant) else "{}" for p in node.values)))
    return found


def key_words(source: str) -> tuple[set[str], set[str]]:
    """(prefixes, whole values) of the keys a keys.py source writes."""
    prefixes, whole = set(), set()
    for _, text in _strings(source):
        match = WORD.match(text)
        if match and text not in ATTRIBUTES:
            (prefixes if match.group(2) == "#" else whole).add(match.group(1))
    return prefixes, whole


def key_literals(source: str, prefixes: set[str], whole: set[str]) -> list[tuple[int, str]]:
    """The key-shaped literals of a module's source: (line, text)."""
    shaped = re.compile("(?:%s)#" % "|".join(sorted(map(re.escape, prefixes), key=len, reverse=True)))
    return [(line, text) for line, text in _strings(source) if shaped.match(text) or text in whole]


def _shipped() -> list[Path]:
    return [ROOT / "app.py"] + sorted(p for p in (ROOT / "chalicelib").rglob("*.py") if p != KEYS)


def test_keys_py_defines_the_item_prefixes_the_guard_looks_for():
    prefixes, whole = key_words(KEYS.read_text())
    assert {"TICKET", "MSG", "INBOX", "OUTMSG", "CUSTOMER", "ACCOUNT", "AGENT"} <= prefixes
    assert {"TICKET", "PROFILE", "ACCOUNTS", "SETTINGS"} <= whole


def test_no_module_but_keys_py_holds_a_key_shaped_literal():
    prefixes, whole = key_words(KEYS.read_text())
    found = [f"{path.relative_to(ROOT)}:{line}: {text!r}" for path in _shipped()
             for line, text in sorted(key_literals(path.read_text(), prefixes, whole))]
    assert not found, "build these keys in chalicelib/store/keys.py:\n" + "\n".join(found)


@pytest.mark.parametrize("code", [
    'store.get_outbound(t, f"MSG#{m[\'created_at\']}#{m[\'id\']}")',  # a sort key in a use case
    'ok = start["GSI1PK"] == f"INBOX#{status}"',                       # parsing a cursor
    'prefix = "ACCOUNT#"',                                             # a query's prefix
    'kwargs = {":t": "TICKET"}',                                       # a whole sort key
])
def test_the_guard_bites(code):
    prefixes, whole = key_words(KEYS.read_text())
    assert key_literals(code, prefixes, whole)


@pytest.mark.parametrize("code", [
    '"""Stored under `TICKET#<id>`."""',           # prose
    'names = {"#status": "status"}',              # an expression attribute name
    'key = f"{platform}#{external_id}"',          # a dedupe key: the domain's, not a storage key
    'correlation = f"out#{message_id}"',          # a log correlation id
    'x = "GSI1PK"',                               # an attribute's name
])
def test_the_guard_leaves_alone(code):
    prefixes, whole = key_words(KEYS.read_text())
    assert not key_literals(code, prefixes, whole)
