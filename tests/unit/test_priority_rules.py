"""The brand-editable rule dictionary: validation, each customer and situation factor, the explanation."""
import pytest
from pydantic import ValidationError

from chalicelib.classify import Classification
from chalicelib.classify.priority import DEFAULT_RULES, PriorityContext, PriorityRules, prioritise


def make(**kw) -> Classification:
    base = dict(actionable=True, actionable_confidence=0.9, sentiment="neutral", sentiment_score=0.0,
                language="en", topic="order", urgency=[], evidence=[])
    return Classification(**{**base, **kw})


def factors(p) -> dict[str, int]:
    return {f.rule: f.points for f in p.factors}


@pytest.mark.parametrize("bad", [
    {"actionable": 101},
    {"topic": {"refund": -150}},
    {"reach": [(1000, 4), (100_000, 15)]},  # not descending
    {"customer_value": [(0, 5)]},  # non-positive threshold
    {"repeat_window_hours": 0},
    {"recent_purchase_days": 1000},
    {"actionabel": 20},  # a typo is refused, not ignored
])
def test_invalid_rule_dictionaries_are_refused_with_the_field_named(bad):
    with pytest.raises(ValidationError) as err:
        PriorityRules.model_validate({**DEFAULT_RULES.model_dump(), **bad})
    assert next(iter(bad)) in str(err.value)


def test_the_shipped_defaults_round_trip_through_json():
    assert PriorityRules.model_validate_json(DEFAULT_RULES.model_dump_json()) == DEFAULT_RULES


@pytest.mark.parametrize("context, rule, points", [
    (PriorityContext(lifetime_value=12_000), "customer_value", 15),
    (PriorityContext(lifetime_value=2_500), "customer_value", 10),
    (PriorityContext(recent_purchases=2), "recent_purchases", 8),
    (PriorityContext(recent_purchases=10), "recent_purchases", 16),  # capped
    (PriorityContext(vip=True), "vip", 15),
    (PriorityContext(advocate=True), "advocate", 8),
    (PriorityContext(waiting_minutes=130), "waiting", 10),
    (PriorityContext(waiting_minutes=600), "waiting", 20),  # capped
    (PriorityContext(repeat_contacts=2), "repeat_contacts", 8),
    (PriorityContext(followers=250_000), "reach", 15),
    (PriorityContext(verified=True), "verified", 5),
])
def test_each_context_factor_adds_its_points_and_says_why(context, rule, points):
    plain = prioritise(make(), context=PriorityContext())
    with_factor = prioritise(make(), context=context)
    assert factors(with_factor)[rule] == points
    assert rule not in factors(plain)
    assert with_factor.score - plain.score == points
    assert [f.detail for f in with_factor.factors if f.rule == rule][0]


def test_waiting_under_an_hour_adds_nothing():
    assert "waiting" not in factors(prioritise(make(), context=PriorityContext(waiting_minutes=59)))


def test_a_channel_weight_applies_only_to_its_channel():
    rules = PriorityRules(channel={"x": 6})
    assert factors(prioritise(make(), context=PriorityContext(channel="x"), rules=rules))["channel:x"] == 6
    assert "channel:email" not in factors(prioritise(make(), context=PriorityContext(channel="email"), rules=rules))


def test_a_brands_rules_change_the_ranking_and_are_recorded_by_version():
    bank = PriorityRules(version=3, topic={**DEFAULT_RULES.topic, "account": 40})
    p = prioritise(make(topic="account"), context=PriorityContext(), rules=bank)
    assert factors(p)["topic:account"] == 40 and p.rules_version == 3


def test_the_influencer_who_just_bought_ten_laptops_goes_to_the_top():
    # Given an influencer with recent big purchases asking for help, and an angry anonymous complaint
    help_request = make(topic="product_question")
    influencer = prioritise(help_request, context=PriorityContext(
        followers=250_000, verified=True, public=True, channel="x", lifetime_value=14_000, recent_purchases=10))
    angry = prioritise(make(sentiment="negative", sentiment_score=-0.8, topic="delivery"),
                       context=PriorityContext(followers=40, public=True, channel="x"))
    # Then the influencer ranks first, and the explanation names every reason
    assert influencer.score > angry.score
    assert {"reach", "verified", "customer_value", "recent_purchases", "actionable"} <= set(factors(influencer))
    assert sum(f.points for f in influencer.factors) == influencer.score


def test_a_brand_taxonomy_names_its_own_topics_and_says_which_phrase_fired():
    from chalicelib.classify import classify

    airline = {"baggage": ["suitcase", "baggage", "matkalaukku"], "delay": ["delayed", "myöhässä"]}
    c = classify("My suitcase never arrived and the flight was delayed, delayed again", taxonomy=airline)
    assert c.topic == "baggage"  # one hit each: the brand's order breaks the tie
    assert "topic:brand:'suitcase'" in c.evidence
    assert classify("Lentoni on myöhässä", taxonomy=airline).topic == "delay"
    assert classify("Where is my invoice?", taxonomy=airline).topic != "baggage"


@pytest.mark.parametrize("taxonomy", [{"": ["x"]}, {"baggage": []}, {"baggage": ["  "]}])
def test_an_invalid_taxonomy_is_refused(taxonomy):
    with pytest.raises(ValidationError):
        PriorityRules(taxonomy=taxonomy)
