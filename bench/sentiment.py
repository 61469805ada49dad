"""Sentiment benchmark on UMSAB val: our learnt model against VADER and TextBlob.

    .venv/bin/python -m bench.sentiment

Prints macro-F1 per language and averaged (the benchmark's metric) for:
* ours, given the language (the desk knows it from language identification; UMSAB's
  language here) and ours without it (shared weights only),
* VADER (compound ≥ 0.05 positive, ≤ −0.05 negative, else neutral) and TextBlob (polarity
  > 0.05 / < −0.05), both English-only lexicons run on every language as they are,
then mentions per second on one core for each, the model file's size and its load time in a
fresh interpreter (median of 3). VADER and TextBlob are dev dependencies; one that is not
installed is reported as skipped. The UMSAB data come from env UMSAB_DIR or
../shared/data/umsab; without them the quality figures are skipped.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

ROOT = Path(__file__).resolve().parents[1]


def _rate(fn: Callable[[str], object], texts: Sequence[str], min_seconds: float = 1.0) -> float:
    """Calls per second of fn over texts (at least min_seconds of work, best of passes)."""
    best = 0.0
    spent = 0.0
    passes = 0
    while spent < min_seconds or passes < 2:
        started = time.perf_counter()
        for t in texts:
            fn(t)
        took = time.perf_counter() - started
        spent += took
        passes += 1
        best = max(best, len(texts) / took)
    return best


def _load_ms(model_path: Path, runs: int = 3) -> float:
    code = ("import time, sys; sys.path.insert(0, %r); from chalicelib.classify import sentiment as s; "
            "t = time.perf_counter(); s.SentimentModel.load(%r); print(time.perf_counter() - t)"
            % (str(ROOT), str(model_path)))
    times = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                             env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
        times.append(float(out.stdout.strip()) * 1000)
    return statistics.median(times)


def _vader():
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        return None
    analyzer = SentimentIntensityAnalyzer()

    def label(text: str) -> int:
        c = analyzer.polarity_scores(text)["compound"]
        return 2 if c >= 0.05 else 0 if c <= -0.05 else 1
    return label


def _textblob():
    try:
        from textblob import TextBlob
        TextBlob("good").sentiment  # noqa: B018  (fails here if a corpus were needed)
    except Exception:  # ImportError, or a missing download
        return None

    def label(text: str) -> int:
        p = TextBlob(text).sentiment.polarity
        return 2 if p > 0.05 else 0 if p < -0.05 else 1
    return label


def _table(rows: dict[str, dict[str, float]], langs: list[str]) -> None:
    print(f"  {'':<22}" + "".join(f"{lang:>6}" for lang in langs) + f"{'avg':>7}")
    for name, res in rows.items():
        print(f"  {name:<22}" + "".join(f"{res[lang] * 100:6.1f}" for lang in langs)
              + f"{res['avg'] * 100:7.1f}")


def main(model_path: str | Path | None = None) -> int:
    from chalicelib.classify.sentiment import DEFAULT_PATH, SentimentModel, decode
    from chalicelib.classify.train import load_umsab, macro_f1

    path = Path(model_path) if model_path else DEFAULT_PATH
    model = SentimentModel.load(path)
    print(f"Sentiment model {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: "
          f"{path.stat().st_size / 1e6:.2f} MB, {model.size():,} weights, "
          f"load {_load_ms(path):.0f} ms (fresh interpreter, median of 3)")
    try:
        val = load_umsab("val")
    except OSError as exc:
        print(f"  UMSAB val not found ({exc}); quality figures skipped")
        return 0
    texts = [t for t, _, _ in val]
    langs = sorted({lang for _, _, lang in val})

    def score(pred: Sequence[int]) -> dict[str, float]:
        res = {}
        for lang in langs:
            pairs = [(y, p) for (_, y, lg), p in zip(val, pred) if lg == lang]
            res[lang] = macro_f1([y for y, _ in pairs], [p for _, p in pairs])
        res["avg"] = sum(res[lang] for lang in langs) / len(langs)
        return res

    systems: dict[str, Callable[[str], int] | None] = {}
    rows: dict[str, dict[str, float]] = {}
    rows["ours (language given)"] = score([model.predict_label(t, lang) for t, _, lang in val])
    rows["ours (no language)"] = score([model.predict_label(t) for t in texts])
    systems["ours"] = model.predict_label
    from chalicelib.classify import classify

    label_of = {"negative": 0, "neutral": 1, "positive": 2}

    def desk(text: str) -> int:  # what the product and `python -m chalicelib.classify predict` answer
        return label_of[classify(decode(text)).sentiment]

    rows["desk classify()"] = score([desk(t) for t in texts])
    systems["desk classify()"] = desk
    skipped = []
    for name, make in (("VADER", _vader), ("TextBlob", _textblob)):
        fn = make()
        if fn is None:
            skipped.append(name)
            continue
        # They get the same decoded text our model reads (escapes undone).
        rows[name] = score([fn(decode(t)) for t in texts])
        systems[name] = (lambda f: (lambda t: f(decode(t))))(fn)
    print(f"UMSAB val macro-F1 (%), {len(val)} tweets, {len(langs)} languages:")
    _table(rows, langs)
    if skipped:
        print("  skipped (not installed or needs a download): " + ", ".join(skipped))
    print("Throughput on one core (mentions/s, UMSAB val texts):")
    rates = {"ours": _rate(model.predict_label, texts)}
    rates["ours, full result"] = _rate(lambda t: model.predict(t, "en"), texts)
    rates["desk classify(), all fields"] = _rate(systems["desk classify()"], texts)
    for name in ("VADER", "TextBlob"):
        if systems.get(name):
            rates[name] = _rate(systems[name], texts)
    for name, r in rates.items():
        print(f"  {name:<22}{r:10,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2]))
