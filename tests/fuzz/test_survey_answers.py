"""Property-based tests of CSAT survey answers as they arrive on a platform's webhook.

Invariants, for any button id a webhook may carry (ours, altered, or anything at all):
- `survey.decode` gives a (ticket, score, signature) only for a payload of the exact shape, and
  that triple encodes back to the very same text; anything else is None, never an exception;
- the WhatsApp parser makes of one button tap exactly one of: a SurveyAnswer (only for a payload
  that decodes), a mention, an ignored or a rejected event; an answer is never also a mention;
- no signature but the one made with the secret is genuine (a forged tap never sets a CSAT).
"""
from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from chalicelib import surveys
from chalicelib.channels import survey
from chalicelib.models import AnswerEnvelope, utcnow
from infra.local import payloads as p
from tests.fuzz.strategies import HOSTILE, ODD_STRINGS
from tests.unit.parsing import meta_parse

SECRET = "fuzz-survey-secret"
TICKET = str(uuid.uuid5(uuid.NAMESPACE_URL, "csat-fuzz"))
GENUINE = [surveys.payload(SECRET, TICKET, score) for score in (1, 3, 5)]


def _altered(data, text: str) -> str:
    i = data.draw(st.integers(0, len(text) - 1))
    return text[:i] + data.draw(st.characters()) + text[i + 1:]


BUTTON_IDS = st.one_of(st.sampled_from(GENUINE), st.text(max_size=120), ODD_STRINGS, HOSTILE,
                       st.builds(lambda s, extra: s + extra, st.sampled_from(GENUINE), st.text(min_size=1, max_size=5)))


@given(st.data())
def test_decode_reads_only_our_exact_shape(data):
    text = data.draw(st.one_of(BUTTON_IDS, st.sampled_from(GENUINE).map(lambda g: _altered(data, g))))
    decoded = survey.decode(text)
    if decoded is not None:
        assert survey.encode(*decoded) == text and decoded[1] in range(1, 6)


@given(st.data())
def test_a_button_tap_is_one_answer_or_one_message_never_both(data):
    button_id = data.draw(st.one_of(BUTTON_IDS, st.sampled_from(GENUINE).map(lambda g: _altered(data, g))))
    title = data.draw(st.one_of(st.text(max_size=30), HOSTILE))
    change = p.wa_button_reply_change("109000000000001", "358401234567", "Pirkko", "wamid.TAP", "x", "t")
    change["value"]["messages"][0]["interactive"]["button_reply"] = {"id": button_id, "title": title}
    result = meta_parse(p.meta_payload("whatsapp_business_account", [p.meta_entry("waba-1", changes=[change])]))
    assert len(result.answers) + len(result.mentions) + result.ignored + len(result.rejected) == 1
    for answer in result.answers:
        assert survey.decode(button_id) == (answer.ticket_id, answer.score, answer.sig)
        assert answer.author_id == "358401234567"
        trip = AnswerEnvelope(answer=answer, received_at=utcnow()).model_dump_json()
        assert AnswerEnvelope.model_validate_json(trip).answer == answer
    if survey.decode(button_id) is not None:
        assert result.answers and not result.mentions


@given(st.integers(1, 5), st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
                                  min_size=22, max_size=22))
def test_only_the_secrets_signature_is_genuine(score, sig):
    assert surveys.genuine(SECRET, TICKET, score, sig) == (sig == surveys.sign(SECRET, TICKET, score))
    assert not surveys.genuine("", TICKET, score, surveys.sign("", TICKET, score))


@given(st.data())
def test_a_quick_reply_tap_is_one_answer_or_one_message_never_both(data):
    payload = data.draw(st.one_of(BUTTON_IDS, st.sampled_from(GENUINE).map(lambda g: _altered(data, g))))
    event = p.quick_reply_event("104000000000001", "6001", "m_tap", "4", "x")
    event["message"]["quick_reply"] = data.draw(st.one_of(st.just({"payload": payload}), HOSTILE))
    result = meta_parse(p.meta_payload("page", [p.meta_entry("104000000000001", messaging=[event])]))
    assert len(result.answers) + len(result.mentions) + result.ignored + len(result.rejected) == 1
    for answer in result.answers:
        assert survey.decode(payload) == (answer.ticket_id, answer.score, answer.sig) and answer.author_id == "6001"


@given(st.data())
def test_an_x_quick_reply_response_is_one_answer_or_one_dm_never_both(data):
    from chalicelib.channels.x import webhook as x

    metadata = data.draw(st.one_of(BUTTON_IDS, st.sampled_from(GENUINE).map(lambda g: _altered(data, g))))
    payload = p.x_dm_event("1500", "1860000000000000002", {"id": "42", "name": "Kim", "handle": "kim"}, "2")
    payload["direct_message_events"][0]["message_create"]["message_data"]["quick_reply_response"] = data.draw(
        st.one_of(st.just({"type": "options", "metadata": metadata}), HOSTILE))
    result = x.parse(payload)
    assert len(result.answers) + len(result.mentions) + result.ignored + len(result.rejected) == 1
    for answer in result.answers:
        assert survey.decode(metadata) == (answer.ticket_id, answer.score, answer.sig) and answer.author_id == "42"
