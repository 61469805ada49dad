"""Language identification: accuracy per language and throughput, and the profile builder.

    python -m bench.langid                 # the report (also `bench.langid.main()`)
    python -m bench.langid build --lingua-wheel lingua_language_detector-1.3.5-py3-none-any.whl

Report
------
* Held-out set: `bench/data/langid_eval.jsonl`, short social-media-like texts written for this
  benchmark (never used to build the profiles), at least 15 per supported language.
* UMSAB val texts (`$UMSAB_DIR`, default /work/shared/data/umsab, `<language>/val_text.txt`)
  for ar en fr de hi it pt es. Almost all "Hindi" tweets there are romanised (Latin script);
  they are reported on their own line ("hi (romanised)") as well as in the total.
* Throughput of `langid.identify` on normalised texts (what the classifier calls), of
  `text.normalise` + `identify`, and the import time and first-call (profile load) time, each
  measured in a fresh interpreter.

Profiles (build)
----------------
The Latin, Cyrillic and Arabic-script profiles in `chalicelib/classify/langid_data.py` are
generated from the character n-gram models that ship inside the PyPI package
`lingua-language-detector` 1.3.x (pure-Python releases; Apache-2.0 licence). It is a dev-only
dependency used by `build`; nothing of it is imported at run time. The builder reads the
`*.json.br` models straight from the wheel (needs `brotli`, also dev-only), keeps for each
language the most frequent within-word trigrams and bigrams, turns the conditional
probabilities P(c | ab), P(b | a) and P(a) into quantised costs (−log P × SCALE, one byte)
with back-off for what a language lacks, and adds the stopword lists from
`bench/data/langid_stopwords.json` (written by hand). The romanised-Hindi profile ("hi" in the
Latin group) is trained on `bench/data/langid_hinglish.txt`, text written for this project.
"""
from __future__ import annotations

import base64
import json
import math
import os
import re
import statistics
import subprocess
import sys
import time
import zipfile
import zlib
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
EVAL_FILE = DATA / "langid_eval.jsonl"
STOPWORDS_FILE = DATA / "langid_stopwords.json"
HINGLISH_FILE = DATA / "langid_hinglish.txt"
OUT_FILE = ROOT / "chalicelib" / "classify" / "langid_data.py"
UMSAB_DIR = Path(os.environ.get("UMSAB_DIR", "/work/shared/data/umsab"))
UMSAB_LANGS = {"arabic": "ar", "english": "en", "french": "fr", "german": "de", "hindi": "hi",
               "italian": "it", "portuguese": "pt", "spanish": "es"}

# ---------------------------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------------------------

# group -> languages (our ISO 639-1 code); lingua's code where it differs.
GROUPS = {
    "latin": ("en", "fi", "pl", "de", "fr", "es", "pt", "it", "sv", "nl", "tr", "da", "no", "cs",
              "ro", "hu", "id", "hi"),
    "cyrillic": ("ru", "uk", "bg"),
    "arabic": ("ar", "fa", "ur"),
}
LINGUA_CODE = {"no": "nb"}
OWN_CORPUS = {("latin", "hi"): HINGLISH_FILE}
SCALE = 4           # cost units per nat (0.25 nat resolution)
FLOOR = 1e-7        # probability of a letter a language never uses
BACKOFF = math.log(10.0)  # nats added per back-off step
STOPWORD_BONUS = 4.0      # nats
TOP_TRIGRAMS = 1500       # per language
TOP_BIGRAMS = 500         # per language
_LETTERS = {
    "latin": re.compile(r"[a-z\u00df-\u00f6\u00f8-\u00ff\u0100-\u024f\u1e00-\u1eff]+"),
    "cyrillic": re.compile(r"[\u0400-\u052f]+"),
    "arabic": re.compile(r"[\u0620-\u064a\u0671-\u06d3\u06d5\u06ee\u06ef\u06fa-\u06fc\u06ff]+"),
}


def _lingua_models(wheel: zipfile.ZipFile, code: str) -> dict[str, dict[str, float]]:
    import brotli  # dev-only

    out = {}
    for order in ("unigrams", "bigrams", "trigrams"):
        raw = wheel.read(f"lingua/language-models/{code}/{order}.json.br")
        table: dict[str, float] = {}
        for frac, grams in json.loads(brotli.decompress(raw))["ngrams"].items():
            num, den = frac.split("/")
            p = int(num) / int(den)
            for g in grams.split(" "):
                table[g] = p
        out[order] = table
    return out


def _corpus_models(path: Path, letters: re.Pattern) -> dict[str, dict[str, float]]:
    """Within-word n-gram conditional probabilities from plain text (add-nothing estimates)."""
    from chalicelib.classify.text import normalise

    c1, c2, c3 = Counter(), Counter(), Counter()
    for line in path.read_text(encoding="utf-8").splitlines():
        for w in letters.findall(normalise(line)):
            c1.update(w)
            c2.update(w[i:i + 2] for i in range(len(w) - 1))
            c3.update(w[i:i + 3] for i in range(len(w) - 2))
    n1 = sum(c1.values())
    pre2 = Counter()
    for g, n in c2.items():
        pre2[g[0]] += n
    pre3 = Counter()
    for g, n in c3.items():
        pre3[g[:2]] += n
    return {"unigrams": {k: v / n1 for k, v in c1.items()},
            "bigrams": {k: v / pre2[k[0]] for k, v in c2.items()},
            "trigrams": {k: v / pre3[k[:2]] for k, v in c3.items()}}


def build(lingua_wheel: str, out_file: Path = OUT_FILE, *, scale: int = SCALE,
          top_trigrams: int = TOP_TRIGRAMS, top_bigrams: int = TOP_BIGRAMS) -> dict:
    def _q(cost: float) -> int:
        return max(0, min(255, round(cost * scale)))

    stopwords = json.loads(STOPWORDS_FILE.read_text(encoding="utf-8"))
    groups_out = {}
    stats = {}
    with zipfile.ZipFile(lingua_wheel) as wheel:
        for group, langs in GROUPS.items():
            letters = _LETTERS[group]
            models = {}
            for lang in langs:
                own = OWN_CORPUS.get((group, lang))
                models[lang] = (_corpus_models(own, letters) if own
                                else _lingua_models(wheel, LINGUA_CODE.get(lang, lang)))

            def ok(g: str) -> bool:
                return letters.fullmatch(g) is not None

            uni_keys = sorted({c for m in models.values() for c, p in m["unigrams"].items()
                               if ok(c) and p >= 1e-6})

            def joint2(m, g):
                return m["unigrams"].get(g[0], 0.0) * m["bigrams"].get(g, 0.0)

            def joint3(m, g):
                return joint2(m, g[:2]) * m["trigrams"].get(g, 0.0)

            bi_keys, tri_keys = set(), set()
            for m in models.values():
                bi = sorted((g for g in m["bigrams"] if ok(g)), key=lambda g: -joint2(m, g))
                bi_keys.update(bi[:top_bigrams])
                tri = sorted((g for g in m["trigrams"] if ok(g)), key=lambda g: -joint3(m, g))
                tri_keys.update(tri[:top_trigrams])
            bi_keys, tri_keys = sorted(bi_keys), sorted(tri_keys)

            def c1(m, ch):
                return -math.log(max(m["unigrams"].get(ch, 0.0), FLOOR))

            def c2(m, g):
                p = m["bigrams"].get(g)
                return -math.log(p) if p else c1(m, g[1]) + BACKOFF

            def c3(m, g):
                p = m["trigrams"].get(g)
                return -math.log(p) if p else c2(m, g[1:]) + BACKOFF

            rows = bytearray()
            for ch in uni_keys:
                rows += bytes(_q(c1(models[lg], ch)) for lg in langs)
            for g in bi_keys:
                rows += bytes(_q(c2(models[lg], g)) for lg in langs)
            for g in tri_keys:
                rows += bytes(_q(c3(models[lg], g)) for lg in langs)
            words: dict[str, set[str]] = defaultdict(set)
            for lang in langs:
                for w in stopwords.get(lang, []):
                    words[w].add(lang)
            word_keys = sorted(words)
            bonus = _q(STOPWORD_BONUS)
            for w in word_keys:
                rows += bytes(0 if lg in words[w] else bonus for lg in langs)
            assert all(" " not in w and "\n" not in w for w in word_keys)
            groups_out[group] = {
                "langs": langs,
                "uni": "".join(uni_keys),
                "bi": "".join(bi_keys),
                "tri": "".join(tri_keys),
                "words": " ".join(word_keys),
                "costs": base64.b64encode(zlib.compress(bytes(rows), 9)).decode("ascii"),
            }
            stats[group] = {"languages": len(langs), "unigrams": len(uni_keys), "bigrams": len(bi_keys),
                            "trigrams": len(tri_keys), "words": len(word_keys), "bytes": len(rows)}

    lines = [
        '"""Generated by `python -m bench.langid build` - do not edit by hand.',
        "",
        "Character n-gram costs (-log P x SCALE, one byte per language, zlib + base64) per script",
        "group, derived from the n-gram models shipped in lingua-language-detector 1.3.x",
        "(Apache-2.0), romanised Hindi from bench/data/langid_hinglish.txt, and the stopword lists",
        "in bench/data/langid_stopwords.json. Row order: unigrams, bigrams, trigrams, words.",
        '"""',
        f"SCALE = {scale}",
        f"STATS = {stats!r}",
        "GROUPS = {",
    ]
    for group, g in groups_out.items():
        lines.append(f"    {group!r}: {{")
        for key in ("langs", "uni", "bi", "tri", "words"):
            lines.append(f"        {key!r}: {g[key]!r},")
        lines.append(f"        'costs': (")
        blob = g["costs"]
        for i in range(0, len(blob), 96):
            lines.append(f"            {blob[i:i + 96]!r}")
        lines.append("        ),")
        lines.append("    },")
    lines.append("}")
    out_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return stats


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

def load_eval() -> list[dict]:
    with EVAL_FILE.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_umsab() -> list[dict]:
    out = []
    for name, lang in UMSAB_LANGS.items():
        path = UMSAB_DIR / name / "val_text.txt"
        if not path.exists():
            continue
        with path.open(encoding="utf-8") as f:
            for line in f:
                text = line.rstrip("\n")
                if text.strip():
                    out.append({"lang": lang, "text": text})
    return out


def accuracy(examples: list[dict], *, split_romanised: bool = False) -> dict:
    """Per-language {n, correct, accuracy, confusions} and the total.

    Texts without a letter (emoji, numbers, a bare URL) say nothing of their language: they
    are left out and counted under "skipped". With `split_romanised`, Hindi and Arabic texts
    written mostly in Latin letters are reported under "<lang> (romanised)".
    """
    from chalicelib.classify import langid
    from chalicelib.classify.text import normalise, script_counts

    n, ok = Counter(), Counter()
    wrong: dict[str, Counter] = defaultdict(Counter)
    skipped = 0
    for ex in examples:
        norm = normalise(ex["text"])
        counts = script_counts(norm)
        if not counts:
            skipped += 1
            continue
        lang = ex["lang"]
        key = lang
        if split_romanised and lang in ("hi", "ar") and max(counts, key=counts.get) == "latin":
            key = f"{lang} (romanised)"
        got, _ = langid.identify(norm)
        n[key] += 1
        if got == lang:
            ok[key] += 1
        else:
            wrong[key][str(got)] += 1
    per = {k: {"n": n[k], "correct": ok[k], "accuracy": round(ok[k] / n[k], 3),
               "confusions": dict(wrong[k].most_common(4))} for k in sorted(n)}
    total_n, total_ok = sum(n.values()), sum(ok.values())
    per["TOTAL"] = {"n": total_n, "correct": total_ok,
                    "accuracy": round(total_ok / total_n, 3) if total_n else 0.0, "confusions": {}}
    if split_romanised and any(k.endswith("(romanised)") for k in n):
        rest_n = sum(v for k, v in n.items() if not k.endswith("(romanised)"))
        rest_ok = sum(v for k, v in ok.items() if not k.endswith("(romanised)"))
        per["TOTAL without romanised"] = {"n": rest_n, "correct": rest_ok,
                                          "accuracy": round(rest_ok / rest_n, 3) if rest_n else 0.0,
                                          "confusions": {}}
    per["skipped (no letters)"] = {"n": skipped, "correct": 0, "accuracy": 0.0, "confusions": {}}
    return per


def throughput(texts: list[str], rounds: int = 5) -> dict:
    from chalicelib.classify import langid
    from chalicelib.classify.text import normalise

    norms = [normalise(t) for t in texts]
    langid.identify("warm up the profiles")
    best_id = best_full = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        for t in norms:
            langid.identify(t)
        best_id = max(best_id, len(norms) / (time.perf_counter() - started))
        started = time.perf_counter()
        for t in texts:
            langid.identify(normalise(t))
        best_full = max(best_full, len(texts) / (time.perf_counter() - started))
    # Cold: every text new to the per-word cache.
    langid._reset_cache()
    started = time.perf_counter()
    for t in norms:
        langid.identify(t)
    cold = len(norms) / (time.perf_counter() - started)
    return {"identify_per_s": round(best_id), "normalise_identify_per_s": round(best_full),
            "identify_cold_cache_per_s": round(cold)}


def startup(runs: int = 5) -> dict:
    """Fresh interpreter, no bytecode cache (as a Lambda cold start): the package import (pydantic),
    then `langid` on top of it, then the first `identify` (loads the profiles)."""
    code = ("import time; t0 = time.perf_counter(); import chalicelib.classify; t1 = time.perf_counter(); "
            "from chalicelib.classify import langid; t2 = time.perf_counter(); "
            "langid.identify('where is my order'); t3 = time.perf_counter(); "
            "print((t1 - t0) * 1000, (t2 - t1) * 1000, (t3 - t2) * 1000)")
    pkg, imp, first = [], [], []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                             cwd=ROOT, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}).stdout.split()
        pkg.append(float(out[0]))
        imp.append(float(out[1]))
        first.append(float(out[2]))
    return {"package_import_ms": round(statistics.median(pkg), 1),
            "langid_import_ms": round(statistics.median(imp), 1),
            "first_call_ms": round(statistics.median(first), 1)}


def _print_table(title: str, per: dict) -> None:
    print(f"\n{title}")
    print(f"  {'language':<24}{'n':>5}{'correct':>9}{'accuracy':>10}  confusions")
    for k, v in per.items():
        if k.startswith("skipped"):
            print(f"  {k:<24}{v['n']:>5}")
            continue
        conf = ", ".join(f"{g}:{c}" for g, c in v["confusions"].items())
        print(f"  {k:<24}{v['n']:>5}{v['correct']:>9}{v['accuracy']:>10.3f}  {conf}")


def main(argv: list[str] | None = None) -> dict:
    sys.path.insert(0, str(ROOT))
    ev = load_eval()
    results = {"eval": accuracy(ev, split_romanised=True)}
    _print_table(f"Held-out eval set ({EVAL_FILE.relative_to(ROOT)})", results["eval"])
    um = load_umsab()
    if um:
        results["umsab"] = accuracy(um, split_romanised=True)
        _print_table(f"UMSAB val ({UMSAB_DIR})", results["umsab"])
    texts = [e["text"] for e in ev] + [e["text"] for e in um]
    results["throughput"] = throughput(texts)
    results["startup"] = startup()
    print(f"\nThroughput over {len(texts)} texts (best of 5): "
          f"identify {results['throughput']['identify_per_s']:,}/s, "
          f"normalise+identify {results['throughput']['normalise_identify_per_s']:,}/s, "
          f"identify with a cold word cache {results['throughput']['identify_cold_cache_per_s']:,}/s")
    st = results["startup"]
    print(f"Import of langid {st['langid_import_ms']} ms (on top of chalicelib.classify, "
          f"{st['package_import_ms']} ms with pydantic), first call (profile load) {st['first_call_ms']} ms "
          f"(fresh interpreter, no bytecode cache, median of 5)")
    return results


if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] == "build":
        import argparse

        p = argparse.ArgumentParser(prog="python -m bench.langid build")
        p.add_argument("--lingua-wheel", required=True,
                       help="lingua_language_detector-1.3.x-py3-none-any.whl (pip download --no-deps)")
        p.add_argument("--out", type=Path, default=OUT_FILE)
        p.add_argument("--scale", type=int, default=SCALE)
        p.add_argument("--top-trigrams", type=int, default=TOP_TRIGRAMS)
        p.add_argument("--top-bigrams", type=int, default=TOP_BIGRAMS)
        ns = p.parse_args(args[1:])
        sys.path.insert(0, str(ROOT))
        print(json.dumps(build(ns.lingua_wheel, ns.out, scale=ns.scale, top_trigrams=ns.top_trigrams,
                              top_bigrams=ns.top_bigrams), indent=1))
    else:
        main(args)
