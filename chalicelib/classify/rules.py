"""The transparent rule classifier behind `chalicelib.classify.classify`.

Imports the standard library and sibling modules only (no pydantic here: `analyse` returns a
plain dict that the package turns into a `Classification`).

How a mention is read:
1. The first MAX_CHARS characters, `text.normalise`d (NFKC, lowercase, no URLs/handles);
   `text.fold` for FOLDED languages.
2. Language: `langid.identify` (script fast paths, then Latin stopwords), with the hint.
3. Lexicons to run: the detected language's, plus English when Latin letters are present
   (people mix English product words into every language). Unknown Latin-script language:
   every Latin lexicon. A known language without a lexicon (sv, nl, tr, ja, ru, ...):
   English if Latin letters are present, Chinese if Han is.
4. Sentiment: lexicon weights (±1, strong ±2), flipped when a negator precedes within three
   words (two characters for Chinese), ×0.5 before a contrast word ("but") and ×1.5 after
   it; emoji and emoticons add their weight, and so do urgency flags (safety, legal, churn,
   outage −1; repeated contact −0.5). score = raw / (|raw| + 2), in -1..1; label at ±0.2.
5. Actionable: noisy-or of the help cues that fired (question 0.55, complaint 0.6, request
   0.5, outage 0.7, weak 0.3, question mark 0.5, each urgency flag 0.6, negative sentiment
   0.6·|score|); a complaint cue negated within two words ("no problem", "ei ole rikki")
   does not fire. Positive sentiment damps the result: × (1 − 0.7·score) when only weak
   cues fired, × (1 − 0.3·score) otherwise. Actionable when the confidence reaches 0.5.
6. Topic: the topic with most cue hits (ties: the order of TOPIC_ORDER); "praise" for a
   positive mention that needs no reply; "service_complaint" for an actionable negative one
   without a topic; else "other".
"""
from __future__ import annotations

import re

from . import langid, matcher
from .labels import URGENCY_FLAGS
from .lexicon import FOLDED, LANGUAGES, LEXICON
from .text import EMOJI, emoticons, fold, has_han, normalise, script_counts, strip_emoticons

TOPIC_ORDER = ("refund", "billing", "account", "technical", "delivery", "order",
               "product_question", "service_complaint", "praise")

QUESTION_MARK_WEIGHT = 0.5
URGENCY_WEIGHT = 0.6
# Urgency flags that also say something about the customer's mood (raw sentiment points).
FLAG_SENTIMENT = {"safety": -1.0, "legal": -1.0, "churn": -1.0, "outage": -1.0,
                  "repeated_contact": -0.5}
NEGATIVE_WEIGHT = 0.6
ACTIONABLE_THRESHOLD = 0.5
SENTIMENT_THRESHOLD = 0.2
CONTRAST_BEFORE, CONTRAST_AFTER = 0.5, 1.5  # "nice, but broken": the clause after "but" leads
NEGATION_WINDOW = 3          # words
COMPLAINT_NEGATION_WINDOW = 2  # words: "no problem", "nie ma problemu", "δεν υπάρχει πρόβλημα"
ZH_NEGATION_WINDOW = 2       # characters
MAX_CHARS = 8000             # only the start of a very long text (a quoted e-mail thread) is read
MAX_EVIDENCE = 60            # cues listed; the rest are counted in a final "more:N" entry

_WINDOW_STOP = re.compile(r"[.,!?;:؟،。，！？；\n]")
_WORD = re.compile(r"[\w']+")


def _lexicon_languages(lang: str | None, norm: str, counts: dict[str, int]) -> list[str]:
    latin = counts.get("latin", 0) > 0
    han = has_han(norm)
    if lang in LEXICON:
        return [lang] + (["en"] if lang != "en" and latin else [])
    if lang is None:  # Latin text without a decisive language: every Latin lexicon
        langs = [lg for lg in LANGUAGES if lg not in ("el", "ar", "zh")] if latin else []
        return langs + (["zh"] if han else [])
    # A known language without a lexicon of its own (sv, nl, tr, ja, ru, ...).
    return (["en"] if latin else []) + (["zh"] if han else [])


def _negated(text: str, hit: matcher.Hit, comp: matcher.Compiled,
             window: int = NEGATION_WINDOW) -> str | None:
    """The negator governing a match, if any.

    Looks back `window` words (Chinese: characters) within the clause. Entries that carry
    their own negation ("not working") are never flipped, and a negator right after a
    conditional ("if you don't ...") is hypothetical, not a negation.
    """
    if not comp.negators or comp.starts_negated(hit.entry):
        return None
    start = hit.start
    if comp.lang == "zh":
        scope = _WINDOW_STOP.split(text[max(0, start - ZH_NEGATION_WINDOW):start])[-1]
        for ch in reversed(scope):
            if ch in comp.negators:
                return ch
        return None
    clause = _WINDOW_STOP.split(text[max(0, start - 80):start])[-1]
    words = _WORD.findall(clause)
    for i in range(len(words) - 1, max(-1, len(words) - 1 - window), -1):
        w = words[i]
        if w in comp.negators or w.split("'")[0] in comp.negators:
            if i > 0 and words[i - 1] in comp.conditionals:
                return None
            return w
    return None


def _contrast_at(text: str, comp: matcher.Compiled) -> tuple[int, str] | None:
    """Position and word of the last contrast word ("but"), if any."""
    last = None
    for hit in comp.contrast.find(text):
        last = (hit.start, hit.entry.text)
    return last


def analyse(text: str, language_hint: str | None = None) -> dict:
    norm = normalise(text[:MAX_CHARS])
    folded = fold(norm)
    counts = script_counts(norm)
    lang, evidence = langid.identify(norm, language_hint)
    evidence = list(evidence)

    help_cues: list[tuple[str, float]] = []   # (kind, weight)
    seen_help: set[str] = set()               # a help cue counts once, whichever lexicon
    seen_sentiment: set[tuple[str, int]] = set()  # a word counts once per place
    raw_sentiment = 0.0
    topic_hits: dict[str, float] = {}
    flags: dict[str, None] = {}

    for lg in _lexicon_languages(lang, norm, counts):
        comp = matcher.compiled(lg)
        target = folded if lg in FOLDED else norm
        contrast = _contrast_at(target, comp)

        for hit in comp.help.find(target):
            entry = hit.entry
            key = fold(entry.text)
            if key in seen_help:
                continue
            if entry.kind == "complaint" and _negated(target, hit, comp,
                                                      COMPLAINT_NEGATION_WINDOW):
                evidence.append(f"negated:{lg}:'{entry.text.rstrip('*')}'")
                continue
            seen_help.add(key)
            help_cues.append((entry.kind, entry.weight))
            evidence.append(f"help:{lg}:'{entry.text.rstrip('*')}'")

        for hit in comp.sentiment.find(target):
            entry = hit.entry
            if entry.kind == "zero":
                continue
            place = (fold(entry.text), hit.start)
            if place in seen_sentiment:
                continue
            seen_sentiment.add(place)
            weight = entry.weight
            neg = _negated(target, hit, comp)
            word = entry.text.rstrip("*")
            if neg:
                weight = -weight
                word = f"{neg} {word}" if lg != "zh" else f"{neg}{word}"
            if contrast:
                weight *= CONTRAST_BEFORE if hit.start < contrast[0] else CONTRAST_AFTER
            raw_sentiment += weight
            evidence.append(f"{'pos' if weight > 0 else 'neg'}:{lg}:'{word}'")
        if contrast:
            evidence.append(f"contrast:{lg}:'{contrast[1]}'")

        for hit in comp.topic.find(target):
            entry = hit.entry
            topic_hits[entry.kind] = topic_hits.get(entry.kind, 0.0) + entry.weight
            evidence.append(f"topic:{entry.kind}:{lg}:'{entry.text.rstrip('*')}'")

        for hit in comp.urgency.find(target):
            entry = hit.entry
            if entry.kind not in flags:
                flags[entry.kind] = None
            evidence.append(f"flag:{entry.kind}:{lg}:'{entry.text.rstrip('*')}'")

    for flag in flags:
        if flag in FLAG_SENTIMENT:
            raw_sentiment += FLAG_SENTIMENT[flag]
            evidence.append(f"neg:flag:{flag}")

    # Emoji and emoticons.
    for ch in norm:
        w = EMOJI.get(ch)
        if w is not None:
            raw_sentiment += w
            evidence.append(f"{'pos' if w > 0 else 'neg'}:emoji:'{ch}'")
            if ch == "🙏":
                help_cues.append(("request", 0.2))
    for emo, w in emoticons(norm):
        raw_sentiment += w
        evidence.append(f"{'pos' if w > 0 else 'neg'}:emoticon:'{emo}'")

    # Question marks: ASCII/full-width (NFKC → "?"), Arabic "؟", Greek ";" (NFKC of U+037E).
    plain = strip_emoticons(norm)
    qmarks = plain.count("?") + plain.count("؟")
    if lang == "el" or counts.get("greek", 0):
        qmarks += plain.count(";")
    if qmarks:
        help_cues.append(("question", QUESTION_MARK_WEIGHT))
        evidence.append("help:qmark:'?'")

    score = raw_sentiment / (abs(raw_sentiment) + 2.0) if raw_sentiment else 0.0
    score = max(-1.0, min(1.0, score))
    if score <= -SENTIMENT_THRESHOLD:
        sentiment = "negative"
    elif score >= SENTIMENT_THRESHOLD:
        sentiment = "positive"
    else:
        sentiment = "neutral"

    weights = [w for _, w in help_cues]
    weights += [URGENCY_WEIGHT] * len(flags)
    if score < 0:
        weights.append(NEGATIVE_WEIGHT * -score)
    miss = 1.0
    for w in weights:
        miss *= 1.0 - w
    confidence = 1.0 - miss
    if score > 0:
        strong = any(kind != "weak" for kind, _ in help_cues) or bool(flags)
        damp = 0.3 if strong else 0.7
        confidence *= 1.0 - damp * score
        evidence.append(f"damp:positive:{damp * score:.2f}")
    confidence = round(max(0.0, min(1.0, confidence)), 3)
    actionable = confidence >= ACTIONABLE_THRESHOLD

    topic = "other"
    if topic_hits:
        best = max(TOPIC_ORDER, key=lambda t: (topic_hits.get(t, 0.0), -TOPIC_ORDER.index(t)))
        if topic_hits.get(best, 0.0) > 0:
            topic = best
    if not actionable and sentiment == "positive":
        topic = "praise"
    elif topic == "praise" and actionable:
        rest = [t for t in TOPIC_ORDER if t != "praise" and topic_hits.get(t)]
        topic = rest[0] if rest else ("service_complaint" if sentiment == "negative" else "other")
    elif topic == "other" and actionable and sentiment == "negative":
        topic = "service_complaint"

    if len(evidence) > MAX_EVIDENCE:
        evidence = evidence[:MAX_EVIDENCE - 1] + [f"more:{len(evidence) - MAX_EVIDENCE + 1}"]
    return {
        "actionable": actionable,
        "actionable_confidence": confidence,
        "sentiment": sentiment,
        "sentiment_score": round(score, 3),
        "language": lang,
        "topic": topic,
        "urgency": [f for f in URGENCY_FLAGS if f in flags],
        "evidence": evidence,
    }
