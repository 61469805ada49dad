"""The demo corpus: well-formed, covers every language and channel, and the classifier reads it
the way its author meant (care-needing lines actionable, languages right)."""
import json
from collections import Counter

import pytest

from chalicelib.classify import classify
from infra.local.corpus import BRANDS, CHANNELS, LANGUAGES, load


@pytest.fixture(scope="module")
def lines():
    return load()


@pytest.fixture(scope="module")
def classified(lines):
    return [(line, classify(line["text"])) for line in lines]


def test_corpus_size_and_languages(lines):
    assert 55 <= len(lines) <= 80
    per_lang = Counter(line["lang"] for line in lines)
    assert set(per_lang) == set(LANGUAGES)
    assert all(n >= 8 for n in per_lang.values()), per_lang


def test_every_channel_and_brand_appears(lines):
    assert set(CHANNELS) == {line["channel"] for line in lines}
    assert set(BRANDS) == {line["brand"] for line in lines}


def test_mostly_care_needing_with_some_praise_and_chatter(lines):
    care = sum(line["expect_actionable"] for line in lines)
    assert care >= 0.6 * len(lines)
    assert len(lines) - care >= 8


def test_threads_are_conversations(lines):
    threads: dict[str, list[dict]] = {}
    for line in lines:
        if "thread" in line:
            threads.setdefault(line["thread"], []).append(line)
    assert len(threads) >= 3
    for key, msgs in threads.items():
        assert len(msgs) >= 2, key
        assert len({m["channel"] for m in msgs}) == 1, key
        assert len({m["author"]["id"] for m in msgs}) == 1, key
    assert any(m[0]["channel"] == "email" for m in threads.values())
    assert any(m[0]["channel"] == "messenger" for m in threads.values())


def test_influencer_complains_publicly(lines):
    big = [line for line in lines if (line["author"].get("followers") or 0) >= 100_000
           and line["author"].get("verified") and line["channel"] == "x_tweet"]
    assert big and all(line["expect_actionable"] for line in big)


def test_channel_specific_fields(lines):
    for line in lines:
        author = line["author"]
        if line["channel"].startswith(("x_", "ig_")):
            assert author["handle"] and "followers" in author
        if line["channel"].startswith("x_"):
            assert "verified" in author
        assert ("subject" in line) == (line["channel"] == "email")
    assert len({line["id"] for line in lines}) == len(lines)


def test_load_rejects_a_bad_line(tmp_path):
    good = {"id": "t1", "channel": "x_tweet", "lang": "en", "brand": "nordlight",
            "author": {"id": "1", "name": "A", "handle": "a", "followers": 1, "verified": False},
            "text": "hi", "expect_actionable": False}
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps(good) + "\n", encoding="utf-8")
    assert load(path) == [good]
    bad = dict(good, channel="myspace")
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="c.jsonl:2"):
        load(path)
    no_handle = dict(good, author={"id": "1", "name": "A"})
    path.write_text(json.dumps(no_handle) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="handle"):
        load(path)


def test_classifier_marks_care_needing_lines_actionable(classified):
    care = [(line, c) for line, c in classified if line["expect_actionable"]]
    hits = [line["id"] for line, c in care if c.actionable]
    missed = [(line["id"], line["text"]) for line, c in care if not c.actionable]
    assert len(hits) / len(care) >= 0.8, missed


def test_classifier_leaves_most_praise_and_chatter_alone(classified):
    other = [(line, c) for line, c in classified if not line["expect_actionable"]]
    flagged = [(line["id"], line["text"]) for line, c in other if c.actionable]
    assert len(flagged) / len(other) <= 0.25, flagged


def test_classifier_detects_the_language(classified):
    wrong = [(line["id"], line["lang"], c.language) for line, c in classified if c.language != line["lang"]]
    assert 1 - len(wrong) / len(classified) >= 0.9, wrong


def test_classifier_finds_the_urgent_cases(classified):
    flags = Counter(f for _, c in classified for f in c.urgency)
    for flag in ("outage", "safety", "legal", "churn", "urgent", "repeated_contact"):
        assert flags[flag] >= 1, flags
