"""Suggested answers, ranked (chalicelib/history/rank.py): similar questions' replies first, the
ticket's topic and replies that resolved or earned a good CSAT higher, near-identical replies as one,
templates that fit included, at most five, best first, each with a why."""
from chalicelib.history.rank import Past, Query, rank, reply_key, tokens

REFUND = "You will get your refund within 5 working days, {{customer.name}}."
TRACK = "Here is how to track your parcel: open Orders and choose Track."
PASSWORD = "To reset your password, use the Forgot password link on the sign-in page."


def _past(i, customer, reply, topic=None, resolved=None, csat=None, language="en"):
    return Past(id=f"h{i}", customer_text=customer, reply_text=reply, language=language, topic=topic,
                resolved=resolved, csat=csat, at=f"2026-01-{i:02d}T00:00:00+00:00")


def test_the_reply_to_similar_questions_comes_first_and_says_why():
    history = [_past(1, "Where is my refund? I returned the shoes", REFUND, "refund", resolved=True),
               _past(2, "I am still waiting for my refund for the jacket", REFUND, "refund", resolved=True),
               _past(3, "where is my parcel, tracking says nothing", TRACK, "delivery"),
               _past(4, "I can't log in, forgot my password", PASSWORD, "account")]
    got = rank(Query("Hello, when do I get my refund for the returned boots?", "en", "refund"), history)
    assert got[0].text == REFUND and got[0].source == "history"
    assert got[0].why == "same topic (refund), 2 similar questions, resolved 2 of them"
    assert [s.score for s in got] == sorted((s.score for s in got), reverse=True)
    assert all(0 <= s.score <= 1 for s in got)
    assert PASSWORD not in [s.text for s in got]  # nothing in common: not suggested


def test_a_reply_that_resolved_or_was_rated_well_ranks_above_an_equally_similar_one():
    question = "my order arrived broken"
    for good in ({"resolved": True}, {"csat": 5}):
        history = [_past(1, question, "Sorry! Please send us a photo of the damage.", "order"),
                   _past(2, question, "We will send a replacement today, no need to return it.", "order", **good)]
        got = rank(Query(question, "en", "order"), history)
        assert got[0].text.startswith("We will send a replacement"), good


def test_a_poorly_rated_reply_ranks_below():
    question = "my order arrived broken"
    history = [_past(1, question, "Sorry! Please send us a photo of the damage.", "order", csat=1),
               _past(2, question, "We will send a replacement today, no need to return it.", "order")]
    assert rank(Query(question, "en", "order"), history)[0].text.startswith("We will send")


def test_the_tickets_topic_ranks_higher():
    question = "the charge on my card is wrong"
    history = [_past(1, question, "Our billing team will correct the charge.", "billing"),
               _past(2, question, "Please check your card with your bank.", "other")]
    assert rank(Query(question, "en", "billing"), history)[0].text.startswith("Our billing team")
    assert rank(Query(question, "en", "other"), history)[0].text.startswith("Please check")


def test_near_identical_replies_are_one_suggestion_and_count_together():
    history = [_past(1, "refund not received yet", "Hi Maria, your refund is on its way and arrives in 5 days."),
               _past(2, "refund still missing", "Hi John, your refund is on its way and arrives in 5 days!"),
               _past(3, "no refund so far", "hi {{customer.name}}, your refund is on its way and arrives in 5 days")]
    got = rank(Query("my refund has not arrived", "en"), history)
    assert len(got) == 1 and got[0].why.startswith("3 similar questions")
    assert got[0].id == "h3"  # the newest wording


def test_at_most_five_best_first_with_a_template_that_fits():
    history = [_past(i, f"refund question number {i} about my refund {w}", f"Answer {w} about refunds, variant {w}.",
                     "refund") for i, w in enumerate(["alpha", "bravo", "charlie", "delta", "echo", "foxtrot",
                                                       "golf", "hotel"], start=1)]
    templates = [{"id": "refund-policy", "name": "Refund policy", "language": "en",
                  "text": "Hi Ana, refunds take 5 days."},
                 {"id": "password", "name": "Password reset", "language": "en", "text": "Use the reset link."},
                 {"id": "refund-fi", "name": "Refund policy", "language": "fi", "text": "Hei Ana, palautus..."}]
    got = rank(Query("where is my refund", "en", "refund"), history, templates)
    assert len(got) == 5
    ranked = [s.score for s in got if s.source == "history"]
    assert ranked == sorted(ranked, reverse=True)
    chosen = [s for s in got if s.source == "template"]
    assert [s.id for s in chosen] == ["refund-policy"]  # the password one does not fit, the Finnish one is not English
    assert chosen[0].text == "Hi Ana, refunds take 5 days." and "same topic (refund)" in chosen[0].why


def test_a_history_reply_that_is_a_template_is_the_template():
    history = [_past(1, "refund please", "Hi Ana, refunds take 5 days."),
               _past(2, "refund?", "Hi Ana, refunds take 5 days.")]
    templates = [{"id": "refund-policy", "name": "Refund policy", "language": "en", "text": "Hi Ana, refunds take 5 days."}]
    got = rank(Query("refund please", "en", "refund"), history, templates)
    assert [(s.source, s.id) for s in got] == [("template", "refund-policy")]
    assert "sent before: 2 similar questions" in got[0].why


def test_scripts_without_spaces_match_by_character_pairs():
    history = [_past(1, "我的退款什么时候到账", "您的退款将在5个工作日内到账。", language="zh"),
               _past(2, "密码忘记了怎么办", "请使用登录页面的忘记密码链接。", language="zh")]
    assert rank(Query("退款还没有到账", "zh"), history)[0].text.startswith("您的退款")
    assert "退款" in tokens("我的退款")


def test_reply_key_ignores_case_punctuation_digits_and_the_name_variable():
    assert reply_key("Hi {{customer.name}}, it ships in 3 days!") == reply_key("hi, it ships in 5 days")


def test_no_history_and_no_template_is_no_suggestion():
    assert rank(Query("anything", "en"), []) == []


def test_a_reply_in_the_tickets_language_ranks_above_one_in_another():
    question = "refund refund"
    history = [_past(1, question, "Ihre Rückerstattung ist unterwegs.", language="de"),
               _past(2, question, "Your refund is on its way.", language="en")]
    got = rank(Query(question, "en"), history)
    assert [s.text for s in got] == ["Your refund is on its way.", "Ihre Rückerstattung ist unterwegs."]
    assert got[0].score > got[1].score
    assert rank(Query(question, "de"), history)[0].text.startswith("Ihre")
