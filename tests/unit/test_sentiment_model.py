"""The learnt sentiment model: the shipped file, featurisation, and the pure-Python trainer
on tiny synthetic data (no full training here)."""
from __future__ import annotations

import pytest

from chalicelib.classify import sentiment, train
from chalicelib.classify.sentiment import DEFAULT_PATH, LABELS, SentimentModel, decode, default_model, featurize


@pytest.fixture(scope="module")
def model() -> SentimentModel:
    return default_model()


def test_shipped_model_is_small_and_cached(model):
    assert DEFAULT_PATH.is_file()
    assert DEFAULT_PATH.stat().st_size <= 5 * 1024 * 1024
    assert default_model() is model
    assert model.size() > 1000
    assert set(model.languages) >= {"ar", "de", "en", "es", "fr", "hi", "it", "pt"}


@pytest.mark.parametrize("text,lang,label", [
    ("I love this, thank you so much! Best service ever 😍", "en", "positive"),
    ("This is the worst service ever, I hate it. Terrible!", "en", "negative"),
    ("The store opens at 9am on Monday", "en", "neutral"),
    ("Me encanta, muchas gracias! Excelente servicio", "es", "positive"),
    ("Pésimo servicio, una vergüenza, estoy muy enojado", "es", "negative"),
    ("شكرا جزيلا خدمة رائعة ممتازة ❤️", "ar", "positive"),
    ("خدمة سيئة جدا وزفت", "ar", "negative"),
    ("Merci beaucoup, c'est génial ! J'adore", "fr", "positive"),
    ("Das ist eine Katastrophe, einfach schrecklich", "de", "negative"),
])
def test_clear_examples(model, text, lang, label):
    result = model.predict(text, lang)
    assert result.label == label, result
    assert -1.0 <= result.score <= 1.0
    assert set(result.probs) == set(LABELS)
    assert abs(sum(result.probs.values()) - 1.0) < 1e-3


def test_without_language_uses_shared_weights(model):
    assert model.predict("I love it, thank you! 😍").label == "positive"
    assert model.predict("worst experience ever, terrible 😡").label == "negative"


def test_negation_lowers_the_score(model):
    good = model.predict("the service was good", "en").score
    not_good = model.predict("the service was not good", "en").score
    assert not_good < good
    assert "!good " in featurize("not good") and "good " in featurize("good")


def test_featurize_decodes_escapes_and_normalises():
    assert decode(r"I\u2019m here\u002c ok") == "I’m here, ok"
    assert decode(r"\ud83d\ude02 &amp;") == "😂 &"
    feats = featurize(r"I\u2019m sooooo happy\u002c @someone http://t.co/x \ud83d\ude0d")
    assert "i'm " in feats and "soo " in feats and "happy " in feats
    assert "<user> " in feats and "<url> " in feats and "😍 " in feats
    assert " elong" in feats
    assert not any("\\u" in f for f in feats)
    assert featurize(r"great\u002c thanks") == featurize("great, thanks") or \
        set(featurize(r"great\u002c thanks")) == set(featurize("great, thanks"))


SYNTHETIC = [
    ("blorf product, so blorf", 2), ("really blorf and zinty", 2), ("zinty zinty service", 2),
    ("grumf delivery, grumf", 0), ("so grumf and quobby", 0), ("quobby quobby support", 0),
    ("the parcel is at the depot", 1), ("opening hours are listed", 1), ("the depot opens monday", 1),
] * 4


def test_train_save_load_round_trip(tmp_path):
    m = train.train(SYNTHETIC, epochs=8, lr=0.05, l2=1e-4, seed=1)
    assert m.predict("blorf").label == "positive"
    assert m.predict("grumf quobby").label == "negative"
    assert m.predict("depot hours").label == "neutral"
    path = tmp_path / "m.bin"
    train.save(m, path)
    loaded = SentimentModel.load(path)
    for text in ("blorf", "grumf quobby", "depot hours", "unseen words entirely"):
        a, b = m.predict(text), loaded.predict(text)
        assert a.label == b.label
        assert abs(a.score - b.score) < 1e-3
    # Reproducible: the same data and seed give the same bytes.
    again = tmp_path / "again.bin"
    train.save(train.train(SYNTHETIC, epochs=8, lr=0.05, l2=1e-4, seed=1), again)
    assert again.read_bytes() == path.read_bytes()


def test_languages_get_their_own_weights():
    rows = [(t, y, "xx") for t, y in SYNTHETIC] + [("blorf", 0, "yy"), ("blorf!", 0, "yy")] * 6
    m = train.train(rows, epochs=8, lr=0.5, l2=1e-4, seed=1)
    assert m.predict("blorf", "xx").score > m.predict("blorf", "yy").score + 0.5
    assert m.predict("blorf", "xx").label == "positive"
    assert m.predict("blorf", "yy").label == "negative"


def test_extra_examples_shift_predictions():
    base = SYNTHETIC + [("the parcel was delayed", 1), ("delayed at the depot", 1)]
    before = train.train(base, epochs=6, lr=0.05, l2=1e-4, seed=3)
    extra = [("delayed again", "negative"), ("my parcel is delayed", "negative")]
    after = train.train(base, epochs=6, lr=0.05, l2=1e-4, seed=3, extra_examples=extra, extra_weight=5.0)
    assert after.predict("delayed").score < before.predict("delayed").score
    assert after.predict("delayed").label == "negative"


def test_load_umsab_reads_env_dir(tmp_path, monkeypatch):
    d = tmp_path / "english"
    d.mkdir()
    (d / "val_text.txt").write_text("good \\u2019\nbad\n", encoding="utf-8")
    (d / "val_labels.txt").write_text("2\n0\n", encoding="utf-8")
    monkeypatch.setenv("UMSAB_DIR", str(tmp_path))
    assert train.load_umsab("val") == [("good \\u2019", 2, "en"), ("bad", 0, "en")]
    monkeypatch.delenv("UMSAB_DIR")
    assert train.umsab_dir().parts[-3:] == ("shared", "data", "umsab")


def test_module_import_loads_nothing():
    assert sentiment.MAX_CHARS > 0  # importing sentiment reads no file; default_model() does


def test_a_corrupt_file_is_a_value_error(tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"x")
    with pytest.raises(ValueError):
        SentimentModel.load(bad)
    with pytest.raises(FileNotFoundError):
        SentimentModel.load(tmp_path / "missing.bin")
