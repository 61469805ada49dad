"""`python -m chalicelib.history import FILE` (issue 16, point 3): every line validated first, bad
lines named with their number and reason and nothing imported; a good file imported in batches,
into the table TABLE_NAME names; the same file again doubles nothing."""
from __future__ import annotations

import json

from chalicelib.history.__main__ import main
from chalicelib.store import keys

GOOD = {"brand": "nordlight", "channel": "x", "customer_text": "where is my refund?",
        "reply_text": "Your refund arrives in 5 days.", "language": "en", "topic": "refund",
        "resolved": True, "csat": 5, "at": "2026-03-01T10:00:00Z"}


def _file(tmp_path, lines):
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def _stored(desk, brand="nordlight", language="en", topic="refund") -> list[dict]:
    table = desk.store().table
    return table.query(KeyConditionExpression="PK = :pk",
                       ExpressionAttributeValues={":pk": keys.history_partition(brand, language, topic)})["Items"]


def test_bad_lines_are_named_and_nothing_is_imported(desk, tmp_path, capsys):
    lines = [json.dumps(GOOD),
             "{not json",
             json.dumps({**GOOD, "csat": 9}),
             json.dumps({k: v for k, v in GOOD.items() if k != "reply_text"}),
             "",  # blank: skipped, still counted
             json.dumps({**GOOD, "at": "2026-03-01T10:00:00"}),
             json.dumps(["a list"]),
             json.dumps({**GOOD, "brand": "Nord Light"}),
             json.dumps({**GOOD, "colour": "blue"})]

    code = main(["import", _file(tmp_path, lines)])

    err = capsys.readouterr().err.splitlines()
    assert code == 1
    assert err[0].startswith("line 2: not JSON")
    assert err[1].startswith("line 3: csat:") and "less than or equal to 5" in err[1]
    assert err[2] == "line 4: reply_text: Field required"
    assert err[3].startswith("line 6: at:") and "time zone" in err[3]
    assert err[4] == "line 7: not a JSON object"
    assert err[5].startswith("line 8: brand:")
    assert err[6].startswith("line 9: colour:")
    assert err[7] == "7 bad lines: nothing imported"
    assert _stored(desk) == []  # the good first line was not imported either


def test_a_good_file_is_imported_and_importing_it_again_doubles_nothing(desk, tmp_path, capsys):
    rows = [{**GOOD, "customer_text": f"refund question {i}", "at": f"2026-03-01T10:{i:02d}:00Z"} for i in range(40)]
    rows.append({k: v for k, v in GOOD.items() if k not in ("language", "topic", "resolved", "csat", "at")})
    path = _file(tmp_path, [json.dumps(r) for r in rows])

    assert main(["import", path]) == 0
    assert json.loads(capsys.readouterr().out) == {"imported": 41, "brands": ["nordlight"]}
    first = _stored(desk)
    assert len(first) == 40 and first[0]["source"] == "import" and first[0]["resolved"] is True
    assert len(_stored(desk, language=None, topic=None)) == 1  # no language, no topic: its own partition

    assert main(["import", path]) == 0
    assert len(_stored(desk)) == 40
    assert sorted(i["id"] for i in _stored(desk)) == sorted(i["id"] for i in first)


def test_an_unreadable_file_is_exit_1(desk, tmp_path, capsys):
    assert main(["import", str(tmp_path / "missing.jsonl")]) == 1
    assert "cannot read" in capsys.readouterr().err
