"""`python -m chalicelib.classify`: predict (one JSON object per input line, exact fields) and
adapt (validated examples, bad lines named by number, no fake training)."""
import io
import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from chalicelib.classify import TOPICS, URGENCY_FLAGS
from chalicelib.classify import __main__ as cli

ROOT = Path(__file__).resolve().parents[2]
FIELDS = {"sentiment", "sentiment_score", "language", "actionable", "actionable_confidence", "topic",
          "urgency", "priority_hints"}

LINES = [
    "@NordlightShop where is my refund? I returned the headphones three weeks ago 😡",
    "Tilaukseni ei ole vieläkään saapunut. Milloin se tulee?",
    "",
    "Η παραγγελία μου έχει καθυστερήσει δύο εβδομάδες",
    "我的订单为什么还没到？",
    "لم يصل طلبي حتى الآن، متى سيصل؟",
    "Zamówienie nadal nie dotarło, kiedy mogę się go spodziewać?",
    "Thanks, super fast delivery and the speaker sounds great 😍",
    "注文した商品がまだ届きません",
    "Моя посылка уже неделю стоит на складе",
    "it\\u2019s broken",          # a JSON-style escape written out: kept as is
    "   ",
    "ok",
]
EXPECTED_LANGUAGE = ["en", "fi", None, "el", "zh", "ar", "pl", "en", "ja", "ru", None, None, None]


def run_cli(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "chalicelib.classify", *args], cwd=ROOT, input=stdin,
                          capture_output=True, timeout=120)


def write_lines(path: Path, lines, terminator="\n", final=True) -> Path:
    data = terminator.join(lines) + (terminator if final else "")
    path.write_bytes(data.encode("utf-8"))
    return path


def check_object(obj: dict) -> None:
    assert set(obj) == FIELDS
    assert obj["sentiment"] in ("negative", "neutral", "positive")
    assert isinstance(obj["sentiment_score"], (int, float)) and -1 <= obj["sentiment_score"] <= 1
    assert obj["language"] is None or (isinstance(obj["language"], str) and len(obj["language"]) == 2)
    assert isinstance(obj["actionable"], bool)
    assert isinstance(obj["actionable_confidence"], (int, float)) and 0 <= obj["actionable_confidence"] <= 1
    assert obj["topic"] in TOPICS
    assert isinstance(obj["urgency"], list) and all(f in URGENCY_FLAGS for f in obj["urgency"])
    hints = obj["priority_hints"]
    assert isinstance(hints, dict) and "score" in hints and "base" in hints
    assert all(isinstance(v, int) and not isinstance(v, bool) for v in hints.values())
    assert 0 <= hints["score"] <= 100
    assert sum(v for k, v in hints.items() if k != "score") == hints["score"]


def test_predict_writes_one_object_per_line_in_order(tmp_path):
    path = write_lines(tmp_path / "in.txt", LINES)
    proc = run_cli("predict", str(path))
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout.decode("utf-8").splitlines()
    assert len(out) == len(LINES)
    objs = [json.loads(line) for line in out]
    for obj in objs:
        check_object(obj)
    assert [o["language"] for o in objs] == EXPECTED_LANGUAGE
    assert objs[0]["actionable"] and objs[0]["topic"] == "refund"
    assert objs[0]["priority_hints"]["public_complaint"] == 10     # public=True, negative
    assert objs[7]["sentiment"] == "positive" and objs[7]["topic"] == "praise"
    assert "reach" not in objs[0]["priority_hints"] and "verified" not in objs[0]["priority_hints"]


def test_empty_line_gets_an_object_too(tmp_path):
    proc = run_cli("predict", str(write_lines(tmp_path / "e.txt", ["", ""])))
    objs = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert len(objs) == 2
    assert objs[0] == objs[1]
    assert objs[0]["language"] is None and objs[0]["actionable"] is False
    assert objs[0]["priority_hints"] == {"base": 10, "score": 10}


def test_output_is_utf8_json_not_ascii_escaped(tmp_path):
    proc = run_cli("predict", str(write_lines(tmp_path / "u.txt", ["Kiitos paljon!"])))
    assert proc.returncode == 0
    assert b"\\u" not in proc.stdout


def test_crlf_missing_final_newline_and_odd_separators_keep_alignment(tmp_path):
    lines = ["Where is my order?", "Missä tilaukseni on?", "first\u2028still the same line\rand this", ""]
    path = write_lines(tmp_path / "crlf.txt", lines, terminator="\r\n", final=False)
    proc = run_cli("predict", str(path))
    out = proc.stdout.decode().splitlines()
    assert len(out) == 3  # "a\r\nb\r\nc\r\n" + "" without a final terminator: three lines
    assert [json.loads(o)["language"] for o in out[:2]] == ["en", "fi"]


def test_bom_is_not_text(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffok\n".encode("utf-8"))
    proc = run_cli("predict", str(path))
    assert json.loads(proc.stdout)["language"] is None


def test_predict_reads_stdin_and_writes_out_file(tmp_path):
    out = tmp_path / "out.jsonl"
    proc = run_cli("predict", "-", "--out", str(out), stdin="Gdzie jest moje zamówienie?\n\n".encode())
    assert proc.returncode == 0 and proc.stdout == b""
    objs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [o["language"] for o in objs] == ["pl", None]


def test_predict_missing_input_or_model_is_an_error(tmp_path):
    proc = run_cli("predict", str(tmp_path / "nope.txt"))
    assert proc.returncode == 1 and b"cannot read" in proc.stderr
    path = write_lines(tmp_path / "in.txt", ["hello"])
    proc = run_cli("predict", str(path), "--model", str(tmp_path / "missing.bin"))
    assert proc.returncode == 1 and b"model file not found" in proc.stderr
    assert proc.stdout == b""


def test_model_is_handed_over_before_the_first_classification(tmp_path, monkeypatch):
    import shutil

    from chalicelib.classify import sentiment

    model = tmp_path / "model.bin"
    shutil.copy(sentiment.DEFAULT_PATH, model)
    seen = []
    import chalicelib.classify as pkg

    real = pkg.classify

    def spy(text, **kw):
        seen.append(os.environ.get("SENTIMENT_MODEL_PATH"))
        return real(text)

    monkeypatch.delenv("SENTIMENT_MODEL_PATH", raising=False)
    monkeypatch.setattr(pkg, "classify", spy)
    path = write_lines(tmp_path / "in.txt", ["one", "two"])
    out = io.StringIO()
    assert cli.main(["predict", str(path), "--model", str(model)], out=out) == 0
    assert seen == [str(model.resolve())] * 2
    assert len(out.getvalue().splitlines()) == 2


def test_help_explains_each_subcommand():
    top = run_cli("--help")
    assert top.returncode == 0
    assert b"predict" in top.stdout and b"adapt" in top.stdout
    pred = run_cli("predict", "--help").stdout.decode()
    assert "--model" in pred and "priority_hints" in pred and "one text a line" in pred
    adapt = run_cli("adapt", "--help").stdout.decode()
    assert "--out" in adapt and "sentiment" in adapt
    assert run_cli().returncode == 2          # a subcommand is required
    assert run_cli("adapt", "x.jsonl").returncode == 2   # --out is required


# --------------------------------------------------------------------------------------------
# adapt

GOOD = [
    {"text": "Where is my refund?", "sentiment": "negative", "topic": "refund", "actionable": True},
    {"text": "Kiitos, kaikki toimii!", "sentiment": "positive"},
    {"text": "Ok", "sentiment": "neutral", "actionable": False},
]


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                    encoding="utf-8")
    return path


def test_adapt_rejects_bad_lines_with_their_numbers(tmp_path):
    path = write_jsonl(tmp_path / "ex.jsonl", [
        GOOD[0],
        {"text": "meh", "sentiment": "angry"},               # 2: not a label
        "",                                                   # 3: blank, skipped
        "{not json",                                          # 4
        {"sentiment": "positive"},                            # 5: no text
        {"text": "x", "sentiment": "neutral", "actionable": "yes"},   # 6: not a bool
        {"text": "x", "sentiment": "neutral", "topics": "refund"},    # 7: unknown key
        ["text", "sentiment"],                                # 8: not an object
        GOOD[1],
    ])
    proc = run_cli("adapt", str(path), "--out", str(tmp_path / "m.bin"))
    assert proc.returncode == 1
    err = proc.stderr.decode()
    for n in (2, 4, 5, 6, 7, 8):
        assert f"ex.jsonl:{n}:" in err, err
    for n in (1, 3, 9):
        assert f"ex.jsonl:{n}:" not in err
    assert "sentiment" in err and "nothing was trained" in err
    assert not (tmp_path / "m.bin").exists()


def test_adapt_without_examples_is_an_error(tmp_path):
    path = write_jsonl(tmp_path / "empty.jsonl", ["", "  "])
    proc = run_cli("adapt", str(path), "--out", str(tmp_path / "m.bin"))
    assert proc.returncode == 1 and b"no examples" in proc.stderr


def test_adapt_exits_3_when_training_is_unavailable(tmp_path, monkeypatch, capsys):
    import chalicelib.classify as pkg

    monkeypatch.setitem(sys.modules, "chalicelib.classify.train", None)   # import raises ImportError
    monkeypatch.delattr(pkg, "train", raising=False)
    path = write_jsonl(tmp_path / "ex.jsonl", GOOD)
    assert cli.main(["adapt", str(path), "--out", str(tmp_path / "m.bin")], out=io.StringIO()) == 3
    err = capsys.readouterr().err
    assert "training is not available" in err and "3 example(s) validated" in err
    assert not (tmp_path / "m.bin").exists()


def test_adapt_hands_validated_examples_to_train(tmp_path, monkeypatch):
    calls = []
    fake = types.ModuleType("chalicelib.classify.train")

    def adapt(examples, out_path):
        calls.append((examples, out_path))
        Path(out_path).write_bytes(b"model")
        return {"accuracy": 0.9}

    fake.adapt = adapt
    monkeypatch.setitem(sys.modules, "chalicelib.classify.train", fake)
    import chalicelib.classify as pkg

    monkeypatch.setattr(pkg, "train", fake, raising=False)
    path = write_jsonl(tmp_path / "ex.jsonl", GOOD)
    out = io.StringIO()
    assert cli.main(["adapt", str(path), "--out", str(tmp_path / "m.bin")], out=out) == 0
    assert calls == [(GOOD, str(tmp_path / "m.bin"))]
    summary = json.loads(out.getvalue())
    assert summary["examples"] == 3 and summary["accuracy"] == 0.9


def test_validate_examples_reports_every_problem():
    data = "\n".join([json.dumps(GOOD[0]), '{"text": "", "sentiment": "neutral"}',
                      '{"text": "a", "sentiment": "neutral", "topic": 5}']).encode()
    examples, errors = cli.validate_examples(io.BytesIO(data))
    assert examples == [GOOD[0]]
    assert [n for n, _ in errors] == [2, 3]
