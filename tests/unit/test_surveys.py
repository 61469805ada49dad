"""CSAT surveys below the routes: payloads and page tokens, the survey messages each channel sends,
the answers each parser reads, the brand's settings, and the public page's answers."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from chalicelib import csat, surveys
from chalicelib.aggregates.message import Message
from chalicelib.channels import survey
from infra.local import payloads as p
from tests.unit.parsing import meta_parse

SECRET = "unit-survey-secret"
TICKET = "5b0c8f4e-2a7d-4c1e-9f3a-6d2b8e1c7a90"  # fixed: parametrized ids must match across xdist workers
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


def test_a_payload_names_the_ticket_and_score_and_only_the_secret_signs_it():
    text = surveys.payload(SECRET, TICKET, 4)
    assert text.startswith(f"csat:{TICKET}:4:") and len(text) <= 100  # WhatsApp ids take 256
    ticket_id, score, sig = survey.decode(text)
    assert (ticket_id, score) == (TICKET, 4) and surveys.genuine(SECRET, TICKET, 4, sig)
    assert not surveys.genuine(SECRET, TICKET, 5, sig)  # the score is signed too
    assert not surveys.genuine("another", TICKET, 4, sig)


@pytest.mark.parametrize("text", [None, 5, "", "csat", f"csat:{TICKET}:6:" + "a" * 22, f"csat:{TICKET}:0:" + "a" * 22,
                                  f"csat:{TICKET.upper()}:3:" + "a" * 22, f" csat:{TICKET}:3:" + "a" * 22,
                                  f"csat:{TICKET}:3:" + "a" * 21, f"csat:{TICKET}:3:" + "a" * 22 + "\n",
                                  f"CSAT:{TICKET}:3:" + "a" * 22, f"desk:{TICKET}:3:" + "a" * 22, "csat:" + "x" * 5000])
def test_anything_but_our_exact_payload_is_not_an_answer(text):
    assert survey.decode(text) is None


def test_a_page_token_names_its_ticket_until_it_expires():
    token = surveys.page_token(SECRET, TICKET, NOW + timedelta(days=7))
    assert surveys.read_token(SECRET, token, NOW) == TICKET
    with pytest.raises(surveys.SurveyExpired):
        surveys.read_token(SECRET, token, NOW + timedelta(days=7, seconds=1))
    ticket_id, stamp, sig = token.split(".")
    for altered in (f"{ticket_id}.{int(stamp) + 86400}.{sig}", f"{str(uuid.uuid4())}.{stamp}.{sig}",
                    f"{ticket_id}.{stamp}.{sig[:-1]}{'A' if sig[-1] != 'A' else 'B'}", "", "a.b.c", token + ".x"):
        with pytest.raises(surveys.SurveyRefused):
            surveys.read_token(SECRET, altered, NOW)
    with pytest.raises(surveys.SurveyRefused):  # no secret: no link is ever good
        surveys.read_token("", surveys.page_token("", TICKET, NOW + timedelta(days=1)), NOW)


def test_settings_name_known_channels_only():
    assert surveys.SurveySettings.model_validate({"channels": {"whatsapp": True, "email": False}}).channels
    with pytest.raises(ValidationError):
        surveys.SurveySettings.model_validate({"channels": {"myspace": True}})
    with pytest.raises(ValidationError):
        surveys.SurveySettings.model_validate({"channels": {}, "other": 1})


# -- the survey each channel sends ----------------------------------------------------------------
def _survey_message(kind: str, platform: str, target: dict) -> Message:
    choices = [{"score": s, "title": t, "payload": surveys.payload(SECRET, TICKET, s)}
               for s, t in surveys.CHOICES.get(platform, surveys.FIVE)]
    return Message.reply("m-1", ticket_id=TICKET, platform=platform, kind=kind, text=surveys.QUESTION,
                         visibility="private", target={**target, "survey": {"question": surveys.QUESTION,
                                                                            "choices": choices}},
                         template_id=None, created_at="2026-11-27T12:00:00.000000+00:00", agent_id="desk",
                         agent_name="CSAT survey", brand="nordlight", notes=[], automatic=True)


def test_whatsapp_survey_is_three_reply_buttons(monkeypatch):
    from chalicelib.channels.meta import graph
    from chalicelib.channels.whatsapp import send

    posted = []
    monkeypatch.setattr(graph, "post", lambda path, body, credential, attempt: posted.append((path, body))
                        or {"messages": [{"id": "wamid.S"}]})
    message = _survey_message("whatsapp_survey", "whatsapp", {"to": "358401234567", "account_id": "109"})
    assert send.SENDERS["whatsapp_survey"].send(message, "token", 1) == "wamid.S"
    [(path, body)] = posted
    assert path == "/109/messages" and body["type"] == "interactive" and body["to"] == "358401234567"
    assert body["interactive"]["type"] == "button" and body["interactive"]["body"] == {"text": surveys.QUESTION}
    buttons = body["interactive"]["action"]["buttons"]
    assert [(b["type"], survey.decode(b["reply"]["id"])[1]) for b in buttons] == [("reply", 1), ("reply", 3), ("reply", 5)]
    assert all(len(b["reply"]["title"]) <= 20 for b in buttons)
    assert body["biz_opaque_callback_data"] == f"desk:{TICKET}:m-1"  # its receipts find it as any reply's


# -- the answers each parser reads ------------------------------------------------------------------
def _wa_tap(button_id: str, kind: str = "button_reply"):
    change = p.wa_button_reply_change("109", "358401234567", "Pirkko", "wamid.TAP", button_id, "😀 Great")
    if kind != "button_reply":
        change["value"]["messages"][0]["interactive"] = {"type": kind, kind: {"id": button_id, "title": "😀 Great"}}
    return meta_parse(p.meta_payload("whatsapp_business_account", [p.meta_entry("waba-1", changes=[change])]))


def test_a_whatsapp_tap_on_our_button_is_an_answer_not_a_mention():
    result = _wa_tap(surveys.payload(SECRET, TICKET, 5))
    assert result.mentions == [] and result.ignored == 0
    [answer] = result.answers
    assert (answer.platform, answer.brand_account_id, answer.ticket_id, answer.score, answer.author_id) == \
        ("whatsapp", "109", TICKET, 5, "358401234567")


def test_a_whatsapp_tap_on_another_button_stays_a_message():
    assert _wa_tap("order-status").mentions[0].text == "😀 Great" and not _wa_tap("order-status").answers
    # a list reply is not one of our survey's buttons, whatever its id
    assert not _wa_tap(surveys.payload(SECRET, TICKET, 5), kind="list_reply").answers


# -- the public page --------------------------------------------------------------------------------
class _NoStore:
    class tickets:  # noqa: N801 - never reached: the token is refused first
        @staticmethod
        def get(ticket_id):
            raise AssertionError("a refused token must not read the table")


def test_a_hostile_token_is_refused_without_echoing_it(monkeypatch):
    monkeypatch.setenv("SURVEY_SECRET", SECRET)
    from chalicelib import config

    config.reset()
    for token in ('"><script>alert(1)</script>', f"{TICKET}.1.<b>", "x" * 500):
        status, page = csat.page(_NoStore, token, NOW)
        assert status == 404 and "<script" not in page and "<b>" not in page
        status, page = csat.submit(_NoStore, token, b"score=5", NOW)
        assert status == 404


@pytest.mark.parametrize("obj,account", [("page", "104"), ("instagram", "178")])
def test_a_quick_reply_with_our_payload_is_an_answer_any_other_a_message(obj, account):
    ours = meta_parse(p.meta_payload(obj, [p.meta_entry(account, messaging=[
        p.quick_reply_event(account, "6001", "m_tap", "4", surveys.payload(SECRET, TICKET, 4))])]))
    assert ours.mentions == [] and [(a.ticket_id, a.score, a.author_id) for a in ours.answers] == [(TICKET, 4, "6001")]
    theirs = meta_parse(p.meta_payload(obj, [p.meta_entry(account, messaging=[
        p.quick_reply_event(account, "6001", "m_tap", "Opening hours", "HOURS")])]))
    assert theirs.answers == [] and theirs.mentions[0].text == "Opening hours"


def test_messenger_survey_is_the_question_with_five_quick_replies(monkeypatch):
    from chalicelib.channels.facebook import send as facebook
    from chalicelib.channels.instagram import send as instagram
    from chalicelib.channels.meta import graph

    posted = []
    monkeypatch.setattr(graph, "post", lambda path, body, credential, attempt: posted.append((path, body))
                        or {"message_id": "m_S"})
    target = {"recipient_id": "6001", "account_id": "104"}
    assert facebook.SENDERS["messenger_survey"].send(_survey_message("messenger_survey", "facebook", target), "t") == "m_S"
    assert instagram.SENDERS["ig_dm_survey"].send(_survey_message("ig_dm_survey", "instagram", target), "t") == "m_S"
    for path, body in posted:
        assert path == "/104/messages" and body["messaging_type"] == "RESPONSE" and body["recipient"] == {"id": "6001"}
        quick = body["message"]["quick_replies"]
        assert [survey.decode(q["payload"])[1] for q in quick] == [1, 2, 3, 4, 5]
        assert all(q["content_type"] == "text" and 0 < len(q["title"]) <= 20 for q in quick)


def _x_tap(metadata):
    from chalicelib.channels.x import webhook as x

    payload = p.x_dm_event("1500", "1860000000000000002", {"id": "42", "name": "Kim", "handle": "kim"}, "2")
    payload["direct_message_events"][0]["message_create"]["message_data"]["quick_reply_response"] = {
        "type": "options", "metadata": metadata}
    return x.parse(payload)


def test_an_x_quick_reply_response_of_ours_is_an_answer_any_other_a_dm():
    ours = _x_tap(surveys.payload(SECRET, TICKET, 2))
    assert ours.mentions == [] and [(a.platform, a.ticket_id, a.score, a.author_id) for a in ours.answers] == \
        [("x", TICKET, 2, "42")]
    theirs = _x_tap("menu:2")
    assert theirs.answers == [] and theirs.mentions[0].text == "2"


def test_x_survey_is_a_dm_with_quick_reply_options(monkeypatch):
    from chalicelib.channels import http
    from chalicelib.channels.x import send

    sent = []

    def fake(method, url, token=None, body=None, **kw):
        sent.append((method, url, body))
        return http.Reply(200, {}, {"event": {"id": "1870"}})

    monkeypatch.setattr(http, "http", fake)
    message = _survey_message("x_dm_survey", "x", {"participant_id": "42", "account_id": "1500"})
    credential = type("C", (), {"token": "t"})()
    assert send.SENDERS["x_dm_survey"].send(message, credential, 1) == "1870"
    [(method, url, body)] = sent
    assert method == "POST" and url.endswith("/1.1/direct_messages/events/new.json")
    data = body["event"]["message_create"]["message_data"]
    assert body["event"]["message_create"]["target"] == {"recipient_id": "42"}
    assert [survey.decode(o["metadata"])[1] for o in data["quick_reply"]["options"]] == [1, 2, 3, 4, 5]
