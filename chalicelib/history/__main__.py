"""Import a brand's earlier conversations, for suggested answers:

    python -m chalicelib.history import FILE      ("-": standard input)

FILE holds one JSON object a line: `brand`, `channel`, `customer_text`, `reply_text`, and optional
`language` (ISO 639-1), `topic`, `resolved` (bool), `csat` (1-5), `at` (ISO 8601 with a zone).
Blank lines are skipped. Every line is validated first (history.entries.Entry); any bad line is
named on stderr with its number and reason, and then nothing is imported (exit 1). Otherwise every
entry is written in batches (25 items a request) and a summary printed. Importing the same file
again writes the same items (deterministic ids): nothing doubles.

Reads TABLE_NAME and AWS_ENDPOINT_URL as the other commands do (`aws.table()`). Exit codes: 0
imported, 1 bad input (unreadable file, bad lines), 2 usage error.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Iterable, Optional

from pydantic import ValidationError

from chalicelib.history.entries import Entry, write


def parse(lines: Iterable[str]) -> tuple[list[Entry], list[str]]:
    """The entries of a file's lines, and a message for each bad line ("line N: reason")."""
    entries: list[Entry] = []
    errors: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as err:
            errors.append(f"line {number}: not JSON ({err.msg})")
            continue
        if not isinstance(value, dict):
            errors.append(f"line {number}: not a JSON object")
            continue
        try:
            entries.append(Entry.model_validate(value))
        except ValidationError as err:
            reasons = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'line'}: {e['msg']}" for e in err.errors())
            errors.append(f"line {number}: {reasons}")
    return entries, errors


def import_file(path: str, table=None, out=None, err=None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    try:
        if path == "-":
            lines = sys.stdin.read().splitlines()
        else:
            with open(path, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
    except (OSError, UnicodeDecodeError) as problem:
        print(f"cannot read {path}: {problem}", file=err)
        return 1
    entries, errors = parse(lines)
    if errors:
        for message in errors:
            print(message, file=err)
        print(f"{len(errors)} bad line{'s' if len(errors) != 1 else ''}: nothing imported", file=err)
        return 1
    if table is None:
        from chalicelib import aws

        table = aws.table()
    written = write(table, ((e, None, "import", None) for e in entries))
    brands = sorted({e.brand for e in entries})
    print(json.dumps({"imported": written, "brands": brands}), file=out)
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.history", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    importing = commands.add_parser("import", help="import a JSONL file of earlier conversations")
    importing.add_argument("file")
    args = parser.parse_args(argv)
    return import_file(args.file)


if __name__ == "__main__":
    sys.exit(main())
