"""Finds lexicon entries in text: a token index per language, built lazily, no regex compile.

Imports the standard library and `.lexicon`/`.text` only. Nothing is built at import time: the
first `compiled(lang)` call indexes that language's entries (about a millisecond) and keeps
the index for the life of the process.

How entries match:
* Word languages: the text is split into word tokens (`\\w+`, so "can't" is can + t and
  "check-in" is check + in, for entries and text alike). An entry matches a run of tokens
  equal to its own; a trailing "*" lets its last token match any token that starts with it.
  The index maps an entry's first token (exact) or, for one-token prefix entries, the
  prefix's first character, to its candidates.
* Arabic: as word languages, and each token is also tried without its proclitics (و ف, then
  ب ل ك or لل, then ال), shortest proclitic first.
* Chinese: substring search; the index maps an entry's first character to its candidates.
At one position the longest entry wins ("不错" over "错", "not working" over "not"), and hits
never overlap: scanning resumes after a hit.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator, NamedTuple

from .lexicon import FOLDED, HELP_WEIGHTS, LEXICON
from .text import fold

_TOKEN = re.compile(r"\w+")

# Arabic proclitics: conjunction (و ف), preposition (ب ل ك, or لل), article (ال); every
# combination, shortest first.
_AR_PROCLITICS = tuple(sorted({c + p + a for c in ("", "و", "ف") for p in ("", "لل", "ب", "ل", "ك")
                               for a in ("", "ال")} - {""}, key=len))


@dataclass(frozen=True)
class Entry:
    text: str       # as written in the lexicon, for evidence
    kind: str       # help: question/complaint/...; sentiment: pos/neg/zero; topic; urgency flag
    weight: float


class Hit(NamedTuple):
    entry: Entry
    start: int      # offset in the searched text
    end: int


@dataclass(frozen=True)
class _Cand:
    tokens: tuple[str, ...]   # Chinese: one element, the whole entry
    prefix: bool              # last token is a prefix
    size: int                 # length of the entry text, for "longest wins"
    entry: Entry


class Index:
    """The entries of one category (help, sentiment, ...) of one language."""

    def __init__(self, lang: str, folded: bool, entries: list[Entry]):
        self.lang = lang
        self.exact: dict[str, list[_Cand]] = {}
        self.prefix: dict[str, list[_Cand]] = {}
        seen: set[str] = set()
        for e in entries:  # the first meaning listed for a text wins
            text = fold(e.text) if folded else e.text
            prefix = text.endswith("*")
            text = text.rstrip("*").strip()
            key = text + ("*" if prefix else "")
            if not text or key in seen:
                continue
            seen.add(key)
            if lang == "zh":
                cand = _Cand((text,), prefix, len(text), e)
                self.exact.setdefault(text[0], []).append(cand)
                continue
            tokens = tuple(_TOKEN.findall(text))
            if not tokens:
                continue
            cand = _Cand(tokens, prefix, len(text), e)
            if prefix and len(tokens) == 1:
                self.prefix.setdefault(tokens[0][0], []).append(cand)
            else:
                self.exact.setdefault(tokens[0], []).append(cand)
        for table in (self.exact, self.prefix):
            for cands in table.values():
                cands.sort(key=lambda c: -c.size)

    def __bool__(self) -> bool:
        return bool(self.exact or self.prefix)

    def find(self, text: str) -> Iterator[Hit]:
        """Every non-overlapping hit, left to right."""
        if not self:
            return iter(())
        if self.lang == "zh":
            return self._find_chars(text)
        return self._find_tokens(text)

    def _find_chars(self, text: str) -> Iterator[Hit]:
        i, n = 0, len(text)
        while i < n:
            for cand in self.exact.get(text[i], ()):
                if text.startswith(cand.tokens[0], i):
                    end = i + len(cand.tokens[0])
                    yield Hit(cand.entry, i, end)
                    i = end
                    break
            else:
                i += 1

    def _find_tokens(self, text: str) -> Iterator[Hit]:
        spans = [(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text)]
        toks = [s[0] for s in spans]
        i, n = 0, len(toks)
        while i < n:
            hit = None
            tok = toks[i]
            variants = [(tok, 0)]
            if self.lang == "ar":
                variants += [(tok[len(p):], len(p)) for p in _AR_PROCLITICS
                             if tok.startswith(p) and len(tok) - len(p) >= 2]
            for head, skip in variants:
                best = self._best(head, toks, i)
                if best is not None:
                    last = i + len(best.tokens) - 1
                    hit = Hit(best.entry, spans[i][1] + skip, spans[last][2])
                    i = last + 1
                    break
            if hit is None:
                i += 1
            else:
                yield hit

    def _best(self, head: str, toks: list[str], i: int) -> _Cand | None:
        best = None
        for cand in self.exact.get(head, ()):
            if (best is None or cand.size > best.size) and self._rest(cand, toks, i):
                best = cand
        for cand in self.prefix.get(head[:1], ()):
            if (best is None or cand.size > best.size) and head.startswith(cand.tokens[0]):
                best = cand
        return best

    @staticmethod
    def _rest(cand: _Cand, toks: list[str], i: int) -> bool:
        k = len(cand.tokens)
        if i + k > len(toks):
            return False
        for j in range(1, k):
            want, got = cand.tokens[j], toks[i + j]
            if cand.prefix and j == k - 1:
                if not got.startswith(want):
                    return False
            elif got != want:
                return False
        return True


@dataclass(frozen=True)
class Compiled:
    lang: str
    folded: bool
    help: Index
    sentiment: Index
    topic: Index
    urgency: Index
    contrast: Index
    negators: frozenset[str]
    conditionals: frozenset[str]

    def starts_negated(self, entry: Entry) -> bool:
        """True for entries that carry their own negation ("not working", "ei toimi")."""
        text = fold(entry.text) if self.folded else entry.text
        if self.lang == "zh":
            return text[:1] in self.negators
        words = text.split()
        return bool(words) and words[0] in self.negators


@lru_cache(maxsize=None)
def compiled(lang: str) -> Compiled:
    lex = LEXICON[lang]
    folded = lang in FOLDED

    def index(entries: list[Entry]) -> Index:
        return Index(lang, folded, entries)

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
    contrast_entries = [Entry(t, "contrast", 0.0) for t in lex.get("contrast", ())]

    def words(key: str) -> frozenset[str]:
        return frozenset(fold(w) if folded else w for w in lex.get(key, ()))

    return Compiled(lang, folded, index(help_entries), index(sent_entries), index(topic_entries),
                    index(urgency_entries), index(contrast_entries), words("negators"),
                    words("conditionals"))
