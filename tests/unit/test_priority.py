"""Ticket priority: every factor's effect, recorded with its points, clamped to 0..100."""
import pytest

from chalicelib.classify import Classification, classify
from chalicelib.classify.priority import DEFAULT_WEIGHTS, Priority, prioritise


def make(**kw) -> Classification:
    base = dict(actionable=False, actionable_confidence=0.1, sentiment="neutral", sentiment_score=0.0,
                language="en", topic="other", urgency=[], evidence=[])
    base.update(kw)
    return Classification(**base)


def score(c, **kw) -> Priority:
    args = dict(followers=None, verified=None, public=False)
    args.update(kw)
    return prioritise(c, **args)


def rules(p: Priority) -> dict[str, int]:
    return {f.rule: f.points for f in p.factors}


def test_negative_public_complaint_from_big_verified_author_outranks_neutral_private_question():
    complaint = classify("@AegeanSkies lost my suitcase and nobody helps. Worst airline ever 😡")
    question = classify("Hi, can I bring a folding bike as checked baggage?")
    assert complaint.sentiment == "negative" and complaint.actionable and question.actionable
    assert complaint.sentiment_score < question.sentiment_score  # the learnt model's scale
    loud = prioritise(complaint, followers=100_000, verified=True, public=True)
    quiet = prioritise(question, followers=None, verified=None, public=False)
    assert loud.score > quiet.score
    assert {"reach", "verified", "public_complaint", "negative_sentiment"} <= set(rules(loud))
    assert not {"reach", "verified", "public_complaint"} & set(rules(quiet))
    assert rules(loud)["negative_sentiment"] > rules(quiet).get("negative_sentiment", 0)


def test_base_only():
    p = score(make())
    assert p.score == DEFAULT_WEIGHTS["base"]
    assert rules(p) == {"base": DEFAULT_WEIGHTS["base"]}


def test_factors_always_add_up_to_the_score():
    for c in (make(), make(actionable=True, sentiment="negative", sentiment_score=-0.9,
                           topic="billing", urgency=["safety", "legal", "outage"]),
              make(sentiment="positive", sentiment_score=0.8, topic="praise")):
        for followers in (None, 50, 5_000, 2_000_000):
            p = score(c, followers=followers, verified=True, public=True, repeat_contacts=2)
            assert sum(f.points for f in p.factors) == p.score
            assert 0 <= p.score <= 100


def test_actionable_factor():
    before, after = score(make()), score(make(actionable=True, actionable_confidence=0.9))
    assert rules(after)["actionable"] == DEFAULT_WEIGHTS["actionable"]
    assert after.score - before.score == DEFAULT_WEIGHTS["actionable"]


@pytest.mark.parametrize("s", [-0.25, -0.5, -1.0])
def test_negative_sentiment_scaled_by_score(s):
    p = score(make(sentiment="negative", sentiment_score=s))
    assert rules(p)["negative_sentiment"] == round(DEFAULT_WEIGHTS["negative_sentiment"] * -s)


def test_positive_or_neutral_sentiment_adds_nothing():
    assert "negative_sentiment" not in rules(score(make(sentiment="positive", sentiment_score=0.7)))
    assert "negative_sentiment" not in rules(score(make(sentiment="neutral", sentiment_score=-0.1)))


@pytest.mark.parametrize("flag", ["outage", "safety", "legal", "churn", "urgent", "repeated_contact"])
def test_each_urgency_flag(flag):
    before, after = score(make()), score(make(urgency=[flag]))
    points = DEFAULT_WEIGHTS["urgency"][flag]
    assert rules(after)[f"urgency:{flag}"] == points
    assert after.score - before.score == points


def test_safety_outranks_churn():
    assert score(make(urgency=["safety"])).score > score(make(urgency=["churn"])).score


@pytest.mark.parametrize("topic,points", sorted(DEFAULT_WEIGHTS["topic"].items()))
def test_topic_weights(topic, points):
    p = score(make(topic=topic))
    if points:
        assert rules(p)[f"topic:{topic}"] == points
    else:
        assert f"topic:{topic}" not in rules(p)
    assert p.score == DEFAULT_WEIGHTS["base"] + points


@pytest.mark.parametrize("followers,points", [
    (None, 0), (0, 0), (999, 0), (1_000, 4), (9_999, 4), (10_000, 10), (99_999, 10),
    (100_000, 15), (250_000, 15), (1_000_000, 20), (50_000_000, 20),
])
def test_reach_by_follower_bands(followers, points):
    p = score(make(), followers=followers)
    assert rules(p).get("reach", 0) == points


def test_verified():
    assert rules(score(make(), verified=True))["verified"] == DEFAULT_WEIGHTS["verified"]
    assert "verified" not in rules(score(make(), verified=False))
    assert "verified" not in rules(score(make(), verified=None))


def test_public_complaint_needs_public_and_negative():
    neg = make(sentiment="negative", sentiment_score=-0.5)
    assert rules(score(neg, public=True))["public_complaint"] == DEFAULT_WEIGHTS["public_complaint"]
    assert "public_complaint" not in rules(score(neg, public=False))
    assert "public_complaint" not in rules(score(make(), public=True))


@pytest.mark.parametrize("n,points", [(0, 0), (1, 4), (2, 8), (3, 12), (10, 12)])
def test_repeat_contacts_capped(n, points):
    assert rules(score(make(), repeat_contacts=n)).get("repeat_contacts", 0) == points


def test_every_factor_recorded_with_points_and_detail():
    c = make(actionable=True, actionable_confidence=0.95, sentiment="negative", sentiment_score=-0.5,
             topic="billing", urgency=["urgent"])
    p = score(c, followers=20_000, verified=True, public=True, repeat_contacts=1)
    expected = {"base": 10, "actionable": 20, "negative_sentiment": 10, "urgency:urgent": 10,
                "topic:billing": 8, "reach": 10, "verified": 5, "public_complaint": 10,
                "repeat_contacts": 4}
    assert rules(p) == expected
    assert p.score == sum(expected.values()) == 87
    assert all(f.detail for f in p.factors)


def test_score_is_clamped_at_100_and_the_clamp_is_a_factor():
    c = make(actionable=True, sentiment="negative", sentiment_score=-1.0, topic="billing",
             urgency=["outage", "safety", "legal", "churn", "urgent", "repeated_contact"])
    p = score(c, followers=5_000_000, verified=True, public=True, repeat_contacts=5)
    assert p.score == 100
    assert rules(p)["clamp"] < 0
    assert sum(f.points for f in p.factors) == 100


def test_score_is_clamped_at_0():
    p = prioritise(make(topic="praise"), followers=None, verified=None, public=False,
                   weights={"base": 0})
    assert p.score == 0
    assert rules(p) == {"base": 0, "topic:praise": -5, "clamp": 5}


def test_weights_can_be_overridden():
    p = prioritise(make(actionable=True), followers=None, verified=None, public=False,
                   weights={"actionable": 40})
    assert rules(p)["actionable"] == 40


def test_real_classifications_rank_sensibly():
    safety = classify("The charger is smoking and overheating, is it dangerous?")
    praise = classify("Thank you, amazing service!")
    question = classify("Do you ship to Åland?")
    ps = prioritise(safety, followers=None, verified=None, public=False).score
    pp = prioritise(praise, followers=None, verified=None, public=True).score
    pq = prioritise(question, followers=None, verified=None, public=False).score
    assert ps > pq > pp
