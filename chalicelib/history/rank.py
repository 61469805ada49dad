"""Suggested answers, ranked: a brand's earlier replies to messages like this one, and its templates
that fit. Pure Python on the standard library (no store, no AWS), so the route, the bench and the
unit tests run the same code; bounded by what it is given (the use case reads at most
`history.entries.READ_LIMIT` entries).

How (docs/ARCHITECTURE.md, "Suggested answers"):

* **Text similarity**: TF-IDF cosine over word tokens (NFKD, accents and case folded; a word longer
  than five letters also gives its five-letter prefix, a crude stem that matches "refunded" with
  "refund" and "Rückerstattung" with "Rückerstattungen") and, for scripts written without spaces
  (Han, kana, Hangul, Thai), character bigrams. The IDF comes from the entries given (plus the
  query), so a word every customer writes weighs little.
* **Neighbours vote**: the `NEIGHBOURS` past questions nearest the ticket's message each vote for the
  reply that answered them, with their similarity, times `TOPIC_BOOST` for the ticket's topic and
  `OUTCOME_BOOST` when that reply resolved the ticket or earned a CSAT of 4 or 5 (a CSAT of 1 or 2
  takes as much away), times `OTHER_LANGUAGE` for a reply in another language than the ticket's (the
  use case reads the ticket's language only, so this matters for a ticket of unknown language and
  for callers that pass a mixed history).
* **Near-identical replies are one suggestion**: replies are grouped by their normalised text (case,
  spacing, punctuation, digits and the customer's name aside), then groups whose word sets overlap by
  `SAME_REPLY` (Jaccard) or more are merged; the newest wording of a group is the one suggested.
* **Score** (0..1) = 0.55 × the best similarity of a group's questions + 0.30 × its share of the
  strongest group's vote + 0.15 × its outcome rate (resolved or CSAT ≥ 4, less CSAT ≤ 2, over its
  similar questions, floored at 0).
* **Templates** fit when their variant is in the ticket's language and they share words with the
  message or name its topic: score = 0.25 + 0.45 × similarity + 0.25 for the topic (+0.05 when in
  the ticket's language). A history reply that is a template's text is folded into the template
  (its support named in the template's why). When a template fits but none made the five, it takes
  the fifth place: the brand's own answers stay in view.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Optional, Sequence

LIMIT = 5  # suggestions answered at most
NEIGHBOURS = 30  # past questions that vote
MIN_SIMILARITY = 0.08  # a past question less similar than this does not vote
TOPIC_BOOST = 1.25
OTHER_LANGUAGE = 0.3  # a reply in another language than the ticket's votes this much (the read keeps to one)
OUTCOME_BOOST = 0.5  # resolved, or CSAT >= 4: ×1.5; CSAT <= 2: ×0.5
SAME_REPLY = 0.8  # Jaccard of two replies' word sets above which they are one suggestion
STOPWORDS = frozenset(
    "the a an and or to of in on for is are was it i my me we you your our this that be have has do "
    "did not no with at by from as can will just please hi hello hey thanks thank dear "
    "el la los las de del que y en un una por para es mi me no se lo con "
    "der die das und ist ich mein meine nicht ein eine zu mit den dem von bitte "
    "le les des et est je mon ma mes pas un une du au pour avec "
    "o os as e um uma do da em meu minha nao "
    "il lo gli e di che non per con mio".split())
_WORD = re.compile(r"[^\W_]+")
_URL = re.compile(r"(?:https?://|www\.)\S+")
_HANDLE = re.compile(r"(?<![\w@])@\w+")
_VARIABLE = re.compile(r"\{\{[^}]*\}\}")
_UNSPACED = ((0x0E00, 0x0E7F), (0x1100, 0x11FF), (0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),
             (0xAC00, 0xD7AF), (0xF900, 0xFAFF), (0x20000, 0x2FA1F))


@dataclass(frozen=True)
class Past:
    """One entry of the brand's history, as the ranker reads it."""
    id: str
    customer_text: str
    reply_text: str
    language: Optional[str] = None
    topic: Optional[str] = None
    resolved: Optional[bool] = None
    csat: Optional[int] = None
    at: str = ""


@dataclass(frozen=True)
class Query:
    """The ticket being answered: its customer's words, language and topic."""
    text: str
    language: Optional[str] = None
    topic: Optional[str] = None


@dataclass
class Suggestion:
    text: str
    source: str  # "history" | "template"
    id: str
    score: float
    why: str

    def as_dict(self) -> dict:
        return {"text": self.text, "source": self.source, "id": self.id, "score": self.score, "why": self.why}


def _fold(text: str) -> str:
    text = _VARIABLE.sub(" ", text or "")
    text = _HANDLE.sub(" ", _URL.sub(" ", text))
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _unspaced(ch: str) -> bool:
    code = ord(ch)
    return any(low <= code <= high for low, high in _UNSPACED)


def tokens(text: str) -> list[str]:
    """The terms of a text: folded words (and a five-letter stem of long ones), stop words and
    single letters aside; character bigrams for runs of a script written without spaces."""
    found: list[str] = []
    for word in _WORD.findall(_fold(text)):
        if any(_unspaced(c) for c in word):
            run = [c for c in word if _unspaced(c)]
            found += ["".join(run[i:i + 2]) for i in range(len(run) - 1)] or run
            word = "".join(c for c in word if not _unspaced(c))
        if len(word) < 2 or word in STOPWORDS or word.isdigit():
            continue
        found.append(word)
        if len(word) > 5:
            found.append(word[:5] + "~")
    return found


def reply_key(text: str) -> str:
    """A reply's text with what differs between two sendings of the same answer taken out: case,
    accents, spacing, punctuation, digits and the customer's name (a `{{customer.name}}` variable)."""
    return " ".join(w for w in _WORD.findall(_fold(text)) if not w.isdigit())


class _Vectors:
    """TF-IDF vectors (unit length) over one set of documents."""

    def __init__(self, documents: Sequence[list[str]]):
        counts: dict[str, int] = {}
        for terms in documents:
            for term in set(terms):
                counts[term] = counts.get(term, 0) + 1
        n = len(documents)
        self.idf = {term: math.log(1 + n / df) for term, df in counts.items()}

    def vector(self, terms: list[str]) -> dict[str, float]:
        weights: dict[str, float] = {}
        for term in terms:
            weights[term] = weights.get(term, 0.0) + 1.0
        vector = {t: (1 + math.log(c)) * self.idf.get(t, 0.0) for t, c in weights.items()}
        norm = math.sqrt(sum(v * v for v in vector.values()))
        return {t: v / norm for t, v in vector.items()} if norm else {}


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(t, 0.0) for t, v in a.items())


@dataclass
class _Group:
    """Past entries that sent one reply (near enough)."""
    words: set
    entries: list = field(default_factory=list)  # [(Past, similarity)]
    vote: float = 0.0

    def newest(self) -> Past:
        return max((p for p, _ in self.entries), key=lambda p: (p.at, p.id))


def _good(past: Past) -> bool:
    return bool(past.resolved) or (past.csat is not None and past.csat >= 4)


def _bad(past: Past) -> bool:
    return past.csat is not None and past.csat <= 2


def rank(query: Query, history: Sequence[Past], templates: Sequence[dict] = (), limit: int = LIMIT) -> list[Suggestion]:
    """At most `limit` suggestions, best first. `templates` are rendered for the ticket
    (`{"id", "name", "language", "text"}`, chalicelib.templates.render)."""
    template_terms = [tokens(f"{t.get('name', '')} {t['text']}") for t in templates]
    vectors, asked, nearest = _nearest(query, history, template_terms)

    groups: dict[str, _Group] = {}
    for similarity, i in nearest:
        past = history[i]
        key = reply_key(past.reply_text)
        group = groups.get(key) or _merge_into(groups, key)
        group.entries.append((past, similarity))
        weight = similarity * (TOPIC_BOOST if query.topic and past.topic == query.topic else 1.0)
        weight *= OTHER_LANGUAGE if query.language and past.language and past.language != query.language else 1.0
        weight *= 1 + OUTCOME_BOOST if _good(past) else 1 - OUTCOME_BOOST if _bad(past) else 1.0
        group.vote += weight

    strongest = max((g.vote for g in groups.values()), default=0.0) or 1.0
    suggestions: list[tuple[Suggestion, set]] = []
    for group in _distinct(groups):
        best = max(s * (OTHER_LANGUAGE if query.language and p.language and p.language != query.language else 1.0)
                   for p, s in group.entries)
        pasts = [p for p, _ in group.entries]
        outcome = max(0.0, (sum(_good(p) for p in pasts) - sum(_bad(p) for p in pasts)) / len(pasts))
        score = 0.55 * min(best, 1.0) + 0.30 * group.vote / strongest + 0.15 * outcome
        newest = group.newest()
        suggestions.append((Suggestion(text=newest.reply_text, source="history", id=newest.id,
                                       score=round(min(score, 1.0), 3), why=_why_history(query, pasts)), group.words))

    suggestions += _templates(query, templates, template_terms, vectors, asked, suggestions)
    ordered = sorted((s for s, _ in suggestions), key=lambda s: (-s.score, s.source != "template", s.id))
    chosen = ordered[:limit]
    if chosen and not any(s.source == "template" for s in chosen):
        fitting = next((s for s in ordered if s.source == "template"), None)
        if fitting is not None:
            chosen[-1] = fitting
    return chosen


def nearest(query: Query, history: Sequence[Past]) -> list[str]:
    """The ids of the past questions that vote for this query (at most NEIGHBOURS), nearest first."""
    return [history[i].id for _, i in _nearest(query, history, [])[2]]


def _nearest(query: Query, history: Sequence[Past], template_terms: list[list[str]]):
    query_terms = tokens(query.text)
    past_terms = [tokens(p.customer_text) for p in history]
    vectors = _Vectors([query_terms, *past_terms, *template_terms])
    asked = vectors.vector(query_terms)
    ranked = sorted(((_cosine(asked, vectors.vector(terms)), i) for i, terms in enumerate(past_terms)),
                    key=lambda pair: (-pair[0], pair[1]))
    return vectors, asked, [(s, i) for s, i in ranked[:NEIGHBOURS] if s >= MIN_SIMILARITY]


def _merge_into(groups: dict[str, _Group], key: str) -> _Group:
    """The group a new reply key joins: an existing one whose words overlap it by SAME_REPLY, else a new one."""
    words = set(key.split())
    for group in groups.values():
        union = len(words | group.words)
        if union and len(words & group.words) / union >= SAME_REPLY:
            groups[key] = group
            return group
    groups[key] = _Group(words=words)
    return groups[key]


def _distinct(groups: dict[str, _Group]) -> list[_Group]:
    seen: dict[int, _Group] = {}
    for group in groups.values():
        seen.setdefault(id(group), group)
    return list(seen.values())


def _why_history(query: Query, pasts: list[Past]) -> str:
    n = len(pasts)
    parts = []
    if query.topic and any(p.topic == query.topic for p in pasts):
        parts.append(f"same topic ({query.topic.replace('_', ' ')})")
    parts.append(f"{n} similar question{'s' if n != 1 else ''}" if n > 1 else "a similar question")
    resolved = sum(bool(p.resolved) for p in pasts)
    if resolved:
        parts.append(f"resolved {resolved} of them" if n > 1 else "it resolved the ticket")
    rated = [p.csat for p in pasts if p.csat is not None]
    if rated:
        parts.append(f"CSAT {sum(rated) / len(rated):.1f} from {len(rated)} rating{'s' if len(rated) != 1 else ''}")
    return ", ".join(parts)


def _templates(query: Query, templates: Sequence[dict], template_terms: list[list[str]], vectors: _Vectors,
               asked: dict[str, float], history: list[tuple[Suggestion, set]]) -> list[tuple[Suggestion, set]]:
    found: list[tuple[Suggestion, set]] = []
    for template, terms in zip(templates, template_terms):
        if query.language and template.get("language") != query.language:
            continue  # a variant in another language does not fit this customer
        similarity = _cosine(asked, vectors.vector(terms))
        topic = bool(query.topic) and query.topic.replace("_", " ") in f"{template['id']} {template.get('name', '')}".replace("-", " ").replace("_", " ").lower()
        if similarity < MIN_SIMILARITY and not topic:
            continue
        score = 0.25 + 0.45 * min(similarity, 1.0) + (0.25 if topic else 0.0) + (0.05 if query.language else 0.0)
        words = set(reply_key(template["text"]).split())
        parts = [f"template \u201c{template.get('name') or template['id']}\u201d"]
        if topic:
            parts.append(f"same topic ({query.topic.replace('_', ' ')})")
        shared = [t for t in dict.fromkeys(tokens(query.text)) if not t.endswith("~") and t in set(terms)][:3]
        if shared:
            parts.append("shares " + ", ".join(shared))
        for suggestion, reply_words in list(history):
            union = len(words | reply_words)
            if union and len(words & reply_words) / union >= SAME_REPLY:  # the template, sent before
                history.remove((suggestion, reply_words))
                score = max(score, suggestion.score)
                parts.append("sent before: " + suggestion.why)
        found.append((Suggestion(text=template["text"], source="template", id=template["id"],
                                 score=round(min(score, 1.0), 3), why=", ".join(parts)), words))
    return found
