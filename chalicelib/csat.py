"""The customer's CSAT answer: from a survey button or quick reply (through the ingest worker), or
from the signed public page (`GET|POST /csat/{token}`, no sign-in).

Either way the answer is checked (the button's HMAC, or the page token's signature and expiry;
chalicelib/surveys.py), must be for a ticket whose survey was sent, and is stored once through
tickets.rate (the conditional `attribute_not_exists(csat)`), which credits the agent's rolling
CSAT; the reports' counters follow from the ticket's stream (counters.agent_counts). A button
answer must come from the ticket's customer (the platform id the survey went to). A second answer,
a forged or altered payload, or one for another customer changes nothing and is counted as ignored;
the page answers them with a 4xx page.

The page is small server-rendered HTML under the web UI's Content-Security-Policy (no script, one
stylesheet from /ui/), every value escaped.
"""
from __future__ import annotations

import html
from datetime import datetime
from typing import Optional
from urllib.parse import parse_qs

from chalicelib import surveys, tickets
from chalicelib.errors import NotFound
from chalicelib.models import SurveyAnswer, utcnow
from chalicelib.observability import logger
from chalicelib.store.dynamodb import DynamoStore

CHOICE_LABELS = {1: "1 · Very unhappy", 2: "2 · Unhappy", 3: "3 · OK", 4: "4 · Happy", 5: "5 · Very happy"}


def answered(store: DynamoStore, answer: SurveyAnswer) -> str:
    """A survey button or quick reply tapped: the ticket's CSAT when genuine and the first;
    the outcome as a word (rated, already, forged, stranger, unknown)."""
    extra = {"ticket_id": answer.ticket_id, "platform": answer.platform}
    if not surveys.genuine(surveys.secret(), answer.ticket_id, answer.score, answer.sig):
        logger.warning("CSAT answer with a bad signature ignored", extra=extra)
        return "forged"
    ticket = store.tickets.get(answer.ticket_id)
    if ticket is None or not ticket.survey_sent_at:
        return "unknown"
    if ticket.channel != answer.platform or ticket.brand_account_id != answer.brand_account_id \
            or not _is_customer(store, ticket, answer.author_id):
        logger.warning("CSAT answer from someone other than the ticket's customer ignored", extra=extra)
        return "stranger"
    return _rate(store, answer.ticket_id, answer.score)


def _is_customer(store: DynamoStore, ticket, author_id: str) -> bool:
    """The answer comes from whom the survey went to (its target), else the ticket's customer."""
    messages = store.messages.timeline(ticket.id, latest=50)
    sent_to = {str(v) for m in messages if m.kind and m.kind.endswith("_survey") and m.target
               for k, v in m.target.items() if k in ("to", "recipient_id", "participant_id")}
    if sent_to:
        return author_id in sent_to
    return any(m.direction == "in" and (m.author or {}).get("id") == author_id for m in messages)


def _rate(store: DynamoStore, ticket_id: str, score: int, comment: Optional[str] = None) -> str:
    try:
        tickets.rate(store, ticket_id, tickets.CsatRequest(score=score, comment=comment), by=None)
    except ValueError:  # rated already (the customer's second tap, or a supervisor's entry)
        return "already"
    except NotFound:
        return "unknown"
    return "rated"


# -- the public page (email and the API channel) ------------------------------------------------
def page(store: DynamoStore, token: str, now: Optional[datetime] = None) -> tuple[int, str]:
    """(status, HTML) of `GET /csat/{token}`."""
    ticket, refusal = _opened(store, token, now)
    if refusal:
        return refusal
    if ticket.csat is not None:
        return 200, _already()
    choices = "".join(
        f'<label class="choice"><input type="radio" name="score" value="{s}" required> '
        f"{html.escape(label)}</label>" for s, label in CHOICE_LABELS.items())
    form = (f'<form method="post" action="/csat/{html.escape(token, quote=True)}">'
            f'<fieldset><legend>How satisfied are you with how we handled your request?</legend>{choices}</fieldset>'
            '<label class="comment">Anything to add? (optional)<textarea name="comment" maxlength="2000" rows="3">'
            '</textarea></label><button type="submit">Send</button></form>')
    return 200, _html("How did we do?", form)


def submit(store: DynamoStore, token: str, body: bytes, now: Optional[datetime] = None) -> tuple[int, str]:
    """(status, HTML) of `POST /csat/{token}` (a form: score=1..5, comment optional)."""
    ticket, refusal = _opened(store, token, now)
    if refusal:
        return refusal
    try:
        form = parse_qs((body or b"").decode("utf-8"), max_num_fields=5)
    except (UnicodeDecodeError, ValueError):
        form = {}
    score_text = (form.get("score") or [""])[0]
    comment = ((form.get("comment") or [""])[0].strip() or None)
    if score_text not in ("1", "2", "3", "4", "5") or (comment and len(comment) > 2000):
        return 400, _html("Please choose an answer", "<p>Choose one of the five answers, then send.</p>"
                          f'<p><a href="/csat/{html.escape(token, quote=True)}">Back to the question</a></p>')
    outcome = _rate(store, ticket.id, int(score_text), comment)
    if outcome == "already":
        return 409, _already()
    return 200, _html("Thank you!", "<p>Thank you — your answer was recorded.</p>")


def _opened(store: DynamoStore, token: str, now: Optional[datetime]):
    """(the ticket a page link is for, None), or (None, the page refusing it): expired 410; altered,
    not ours, or no survey sent for that ticket 404."""
    try:
        ticket_id = surveys.read_token(surveys.secret(), token, now or utcnow())
    except surveys.SurveyExpired:
        return None, (410, _html("This survey has closed", "<p>Thank you — this survey is no longer open.</p>"))
    except surveys.SurveyRefused:
        ticket_id = None
    ticket = store.tickets.get(ticket_id) if ticket_id else None
    if ticket is None or not ticket.survey_sent_at:
        return None, (404, _html("Survey not found", "<p>This survey link is not valid.</p>"))
    return ticket, None


def _already() -> str:
    return _html("Already answered", "<p>This survey was already answered — thank you.</p>")


def _html(title: str, body: str) -> str:
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(title)}</title><link rel=\"stylesheet\" href=\"/ui/survey.css\"></head>"
            f"<body><main class=\"survey\"><h1>{html.escape(title)}</h1>{body}</main></body></html>")
