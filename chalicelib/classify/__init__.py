"""Mention classification: does it need a reply, how does the customer feel, in what
language, about what, and how urgent is it.

Public interface (stable; a learnt model will later replace the insides):

    classify(text, *, language_hint=None) -> Classification
    priority.prioritise(classification, *, followers, verified, public, repeat_contacts=0)

This first classifier is transparent rules over small per-language word lists (English,
Finnish, Greek, Chinese, Arabic, Polish; lighter German, French, Spanish, Portuguese,
Italian), with language identification for 30 languages (script fast paths, then character
trigram and stopword profiles; see `langid`). Every cue that fired
is listed in `Classification.evidence`, e.g. "help:en:'refund'", "neg:fi:'huono'",
"neg:el:'δεν καλό'", "flag:safety:en:'overheat'", "lang:script:greek".

Module layout: `labels` (topic and flag names), `text` (normalisation, scripts, emoji),
`langid` (language identification), `lexicon` (the word lists, data only), `matcher` (lazy
regex compilation), `rules` (the analysis), `priority` (ticket priority from a
classification and the author's reach).

Imports: the standard library and pydantic only. The lexicon is Python data in the package
(no file I/O); importing this package loads only the model and the label names — `rules`,
the lexicon and their patterns load on the first `classify` call.
"""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, Field

from .labels import TOPICS, URGENCY_FLAGS

Topic = Literal["order", "delivery", "refund", "billing", "account", "technical",
                "product_question", "service_complaint", "praise", "other"]
UrgencyFlag = Literal["outage", "safety", "legal", "churn", "urgent", "repeated_contact"]


class Classification(BaseModel):
    """What the desk knows about one mention's text."""

    actionable: bool  # needs a reply: question, complaint, request, outage report
    actionable_confidence: float = Field(ge=0.0, le=1.0)
    sentiment: Literal["negative", "neutral", "positive"]
    sentiment_score: float = Field(ge=-1.0, le=1.0)
    language: Optional[str] = None  # ISO 639-1
    topic: str  # one of TOPICS
    urgency: list[str] = Field(default_factory=list)  # named flags, see URGENCY_FLAGS
    evidence: list[str] = Field(default_factory=list)  # the cues that fired


def classify(text: str, *, language_hint: str | None = None,
             taxonomy: Optional[dict[str, list[str]]] = None, model=None) -> Classification:
    """Classify one mention's text. `language_hint` is the platform's guess ("fi", "zh-TW").

    `taxonomy` holds a brand's own topics, each with its cue phrases; a brand topic whose
    phrases occur wins over the shipped topics (most hits first, then the brand's order).
    Sentiment comes from `model` (a brand-adapted `sentiment.SentimentModel`), else from the
    model at SENTIMENT_MODEL_PATH, else from the shipped model; the lexicon's verdict stays in
    `evidence`.
    The rules and word lists load on the first call (about 30 ms without cached bytecode, as
    on Lambda), not at import, so a handler that never classifies never pays for them.
    """
    from . import rules

    result = rules.analyse(text or "", language_hint)
    sentiment_model = model or _sentiment_model()
    if sentiment_model is not None and result["language"] in sentiment_model.languages:
        _blend_sentiment(result, sentiment_model.predict_proba(text or "", result["language"]))
    if taxonomy:
        _apply_taxonomy(result, text or "", taxonomy)
    return Classification(**result)


LEXICON_WEIGHT = 0.5  # chosen on UMSAB val: the lexicon adds ~0.8 macro-F1 to the model alone
_model_cache: dict[str, object] = {}


def _blend_sentiment(result: dict, probs: tuple[float, float, float]) -> None:
    """The learnt model's probabilities, nudged by the lexicon's score; both kept as evidence.

    Used for the languages the model was trained on; elsewhere the lexicon, which covers
    Finnish, Greek, Chinese, Polish and more, decides alone.
    """
    lexicon = result["sentiment_score"]
    blended = [probs[0] + LEXICON_WEIGHT * max(-lexicon, 0.0), probs[1],
               probs[2] + LEXICON_WEIGHT * max(lexicon, 0.0)]
    total = sum(blended)
    neg, neu, pos = (b / total for b in blended)
    label = ("negative", "neutral", "positive")[max(range(3), key=lambda i: (neg, neu, pos)[i])]
    _add_evidence(result, [f"sentiment:model:{probs[0]:.2f}/{probs[1]:.2f}/{probs[2]:.2f}",
                           f"sentiment:lexicon:{result['sentiment']}:{lexicon:+.2f}"])
    result["sentiment"], result["sentiment_score"] = label, round(pos - neg, 4)


def _add_evidence(result: dict, items: list[str], cap: int = 60) -> None:
    """Put `items` first, keeping the list within `cap` and its trailing `more:N` count true."""
    evidence = result["evidence"]
    more = int(evidence[-1][5:]) if evidence and evidence[-1].startswith("more:") else None
    body = items + (evidence[:-1] if more is not None else evidence)
    room = cap - (1 if more is not None or len(body) > cap else 0)
    if len(body) > room:
        more = (more or 0) + len(body) - room
        body = body[:room]
    result["evidence"] = body + ([f"more:{more}"] if more is not None else [])


def _sentiment_model():
    """The model named by SENTIMENT_MODEL_PATH, else the shipped one; loaded once per process."""
    import os

    from . import sentiment

    path = os.environ.get("SENTIMENT_MODEL_PATH") or str(sentiment.DEFAULT_PATH)
    if path not in _model_cache:
        _model_cache[path] = sentiment.SentimentModel.load(path) if os.path.exists(path) else None
    return _model_cache[path]


def _apply_taxonomy(result: dict, text: str, taxonomy: dict[str, list[str]]) -> None:
    from .text import fold, normalise

    folded = fold(normalise(text))
    hits = {topic: [p for p in phrases if fold(normalise(p)) in folded] for topic, phrases in taxonomy.items()}
    order = list(taxonomy)
    best = max(order, key=lambda t: (len(hits[t]), -order.index(t)))
    if hits[best]:
        result["topic"] = best
        result["evidence"] = [*result["evidence"], *(f"topic:brand:'{p}'" for p in hits[best])]


__all__ = ["Classification", "classify", "TOPICS", "URGENCY_FLAGS"]
