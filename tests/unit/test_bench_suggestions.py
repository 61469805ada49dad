"""The suggestions bench (bench/suggestions.py): its corpus is the same on every run, its match is
the ranker's near-identical, and on a small corpus the suggestions beat the most-frequent-reply
baseline without passing the ceiling of replies that were not one-offs."""
from bench import suggestions


def test_the_corpus_is_deterministic_and_split_in_time_order():
    first, again = suggestions.corpus(60), suggestions.corpus(60)
    assert first == again
    for rows in first.values():
        assert [r["at"] for r in rows] == sorted(r["at"] for r in rows)
        assert {r["kind"] for r in rows} == {"usual", "alternative", "one-off"}


def test_a_reply_with_another_name_or_number_is_the_same_reply():
    assert suggestions._same("Thanks, Maria! Order 123 ships today.", "thanks {{customer.name}}! order 456 ships today")
    assert not suggestions._same("Your refund is on its way.", "Your parcel is on its way.")


def test_suggestions_beat_the_baseline_on_a_small_corpus():
    figures = suggestions.evaluate(suggestions.corpus(150))
    assert figures["baseline"] < figures["hit@5"] <= figures["ceiling"]
    assert figures["hit@1"] <= figures["hit@5"]
    assert figures["most_read"] <= 300
