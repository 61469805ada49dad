"""Compiles the lexicon into regular expressions, lazily and once per language.

Imports the standard library and `.lexicon` only. Nothing is compiled at import time: the
first `compiled(lang)` call for a language builds its four patterns (help, sentiment, topic,
urgency) — about a millisecond — and keeps them for the life of the process.

Each pattern is one alternation with one capturing group per entry, longest entries first, so
a match's `lastindex` names the entry (and its meaning) that fired, and a longer phrase wins
over a shorter word at the same position ("不错" before "错", "not working" before "not").
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .lexicon import FOLDED, HELP_WEIGHTS, LEXICON
from .text import fold

# Arabic proclitics: conjunction (و ف), preposition (ب ل ك, or لل), article (ال).
_AR_PREFIX = "(?:[وف])?(?:لل|[بلك])?(?:ال)?"


@dataclass(frozen=True)
class Entry:
    text: str       # as written in the lexicon, for evidence
    kind: str       # help: question/complaint/...; sentiment: pos/neg; topic; urgency flag
    weight: float


@dataclass(frozen=True)
class Compiled:
    lang: str
    folded: bool
    help: re.Pattern | None
    help_entries: tuple[Entry, ...]
    sentiment: re.Pattern | None
    sentiment_entries: tuple[Entry, ...]
    topic: re.Pattern | None
    topic_entries: tuple[Entry, ...]
    urgency: re.Pattern | None
    urgency_entries: tuple[Entry, ...]
    negators: frozenset[str]
    conditionals: frozenset[str]
    contrast: re.Pattern | None

    def starts_negated(self, entry: Entry) -> bool:
        """True for entries that carry their own negation ("not working", "ei toimi")."""
        if self.lang == "zh":
            return entry.text[:1] in self.negators
        first = entry.text.split()[0] if entry.text.split() else ""
        first = fold(first) if self.folded else first
        return first in self.negators


def _fragment(entry: str, lang: str, folded: bool) -> str:
    text = fold(entry) if folded else entry
    prefix = text.endswith("*")
    text = text.rstrip("*")
    body = r"\s+".join(re.escape(part) for part in text.split())
    if lang == "zh":
        return body + (r"\w*" if prefix else "")
    left = r"(?<!\w)" + (_AR_PREFIX if lang == "ar" else "")
    right = r"\w*" if prefix else r"(?!\w)"
    return left + body + right


def _build(lang: str, folded: bool, entries: list[Entry]) -> tuple[re.Pattern | None, tuple[Entry, ...]]:
    # Deduplicate on the entry text (first meaning wins), longest first.
    seen: dict[str, Entry] = {}
    for e in entries:
        key = fold(e.text) if folded else e.text
        seen.setdefault(key, e)
    ordered = sorted(seen.values(), key=lambda e: -len(e.text.rstrip("*")))
    if not ordered:
        return None, ()
    pattern = "|".join(f"({_fragment(e.text, lang, folded)})" for e in ordered)
    return re.compile(pattern), tuple(ordered)


@lru_cache(maxsize=None)
def compiled(lang: str) -> Compiled:
    lex = LEXICON[lang]
    folded = lang in FOLDED

    help_entries = [Entry(t, kind, HELP_WEIGHTS[kind])
                    for kind in ("outage", "complaint", "question", "request", "weak")
                    for t in lex.get(kind, ())]
    sent_entries = ([Entry(t, "zero", 0.0) for t in lex.get("zero", ())]
                    + [Entry(t, "pos", 2.0) for t in lex.get("strong_pos", ())]
                    + [Entry(t, "neg", -2.0) for t in lex.get("strong_neg", ())]
                    + [Entry(t, "pos", 1.0) for t in lex.get("pos", ())]
                    + [Entry(t, "neg", -1.0) for t in lex.get("neg", ())])
    topic_entries = [Entry(t, topic, 1.0) for topic, words in lex.get("topics", {}).items()
                     for t in words]
    urgency_entries = [Entry(t, flag, 1.0) for flag, words in lex.get("urgency", {}).items()
                       for t in words]

    help_re, help_e = _build(lang, folded, help_entries)
    sent_re, sent_e = _build(lang, folded, sent_entries)
    topic_re, topic_e = _build(lang, folded, topic_entries)
    urg_re, urg_e = _build(lang, folded, urgency_entries)

    negators = frozenset(fold(n) if folded else n for n in lex.get("negators", ()))
    conditionals = frozenset(fold(n) if folded else n for n in lex.get("conditionals", ()))
    contrast_words = lex.get("contrast", ())
    contrast = None
    if contrast_words:
        contrast = re.compile("|".join(
            f"({_fragment(w, lang, folded)})" for w in sorted(contrast_words, key=len, reverse=True)))
    return Compiled(lang, folded, help_re, help_e, sent_re, sent_e, topic_re, topic_e,
                    urg_re, urg_e, negators, conditionals, contrast)


def find(pattern: re.Pattern | None, entries: tuple[Entry, ...], text: str):
    """Yield (entry, match) for every non-overlapping match."""
    if pattern is None:
        return
    for m in pattern.finditer(text):
        yield entries[m.lastindex - 1], m
