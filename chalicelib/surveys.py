"""CSAT surveys: one question to the customer when their ticket is resolved, where the brand turned it on.

**When.** A ticket an agent *closes* (PATCH status closed, which "Send and close" is) and that has
an agent's reply (queued or sent; not failed, held for approval or rejected) gets one survey; a
ticket closed with "Done" (no reply needed, spam, a duplicate, resolved elsewhere) gets none: the
customer got no answer to rate.
Exactly once per ticket: `survey_sent_at` is claimed by a conditional write before anything is
queued, and the survey is a reply on the ticket (`kind` = the reply action + `_survey`, automatic,
idempotency key "survey"), so the outbound worker's exactly-once send, its retries and the DLQ
apply to it as to any reply. A ticket reopened and closed again gets no second one.

**Where.** On the channel the customer wrote on, privately, as the channel's reply policy plans a
private reply (outbound/policy.py; a refusal, e.g. WhatsApp's closed 24-hour window, means no
survey, logged): WhatsApp interactive reply buttons (at most three: 😞 1, 😐 3, 😀 5 on the
1-5 scale), Messenger and Instagram DMs with five quick replies (1-5), an X DM with five
quick-reply options, and on email and the API channel a link to a signed public page
(`GET /csat/{token}`, chalicelib/csat.py) with the five answers. A channel whose send.py has no
`<action>_survey` sender (a Facebook comment's one private reply, an Instagram mention) gets none.

**Ties.** Each button/quick reply carries `csat:<ticket>:<score>:<sig>` (channels/survey.py),
`sig` = HMAC-SHA256(SURVEY_SECRET, "csat:<ticket>:<score>") cut to 128 bits; the page's token is
`<ticket>.<expiry epoch>.<sig>` with sig over "page:<ticket>:<expiry>". SURVEY_SECRET is read like
the platform secrets (environment, else the platform secret in Secrets Manager); without it no
survey is sent (never an unsigned one). The payloads are stored on the queued survey (they prove
only an answer to this ticket, which the ticket's customer may give anyway).

**Settings.** Per brand, per channel, off unless turned on: the settings document
`surveys:<brand>` (`{"version", "channels": {"whatsapp": true, ...}}`), read and saved by the
brand's supervisors and the admins (`GET|PUT /api/brands/{brand}/surveys`).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import datetime, timedelta
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib import env, queues
from chalicelib.aggregates.message import Message
from chalicelib.aggregates.ticket import Ticket
from chalicelib.channels import registry as channel_registry
from chalicelib.channels import survey as payloads
from chalicelib.channels.reply import ReplyRefused, module
from chalicelib.config import secrets, settings
from chalicelib.errors import ConcurrentUpdate, DeskError, EnqueueFailed, NotFound
from chalicelib.models import OutboundRequest, sortable, utcnow
from chalicelib.observability import logger
from chalicelib.outbound import policy
from chalicelib.store import keys
from chalicelib.store.dynamodb import DynamoStore
from chalicelib.store.ports import TIMELINE_PAGE

SECRET = "SURVEY_SECRET"
PAGE_TTL = timedelta(days=7)
SURVEY_NAMESPACE = uuid.UUID("3c0f8e52-7d1e-4c55-b1f5-5e2f0a6d9c41")
SYSTEM_AGENT = "desk"
QUESTION = "How did we do? Tap one answer."
LINK_QUESTION = "How did we do? One click tells us (no sign-in): {url}"
# WhatsApp allows three reply buttons (titles up to 20 characters): three points of the 1-5 scale
THREE = ((1, "😞 Not good"), (3, "😐 OK"), (5, "😀 Great"))
FIVE = ((1, "😞 1"), (2, "2"), (3, "😐 3"), (4, "4"), (5, "😀 5"))
CHOICES = {"whatsapp": THREE}  # every other channel: FIVE
LINK_CHANNELS = ("email", "api")
# a reply on its way or delivered answers the customer; a failed, held (pending_approval) or rejected one does not
ANSWERED = ("queued", "sending", "retrying", "unconfirmed", "sent")


class SurveyRefused(DeskError):
    """A page token that is not ours, was altered, or expired: the page answers 4xx."""


class SurveyExpired(SurveyRefused):
    pass


# -- settings ------------------------------------------------------------------------------
class SurveySettings(BaseModel):
    """One brand's surveys: on or off per channel (absent: off)."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(default=0, ge=0)
    channels: dict[str, bool] = Field(default_factory=dict)

    @field_validator("channels")
    @classmethod
    def _known(cls, channels: dict[str, bool]) -> dict[str, bool]:
        for channel in channels:
            if channel_registry.find(channel) is None:
                raise ValueError(f"unknown channel {channel!r}; one of {', '.join(channel_registry.ids())}")
        return channels


def survey_document(brand: str) -> str:
    """The name of a brand's survey settings document."""
    return f"surveys:{brand}"



def get_settings(store: DynamoStore, brand: str, principal) -> dict:
    """The brand's survey settings (a brand the caller does not see: NotFound, as a missing one)."""
    if not principal.sees(brand):
        raise NotFound(f"brand {brand}")
    principal.require("supervisor")
    stored = store.get_settings(survey_document(brand))
    document = SurveySettings.model_validate(stored) if stored else SurveySettings()
    return {"brand": brand, **document.model_dump(), "available": list(channel_registry.ids())}


def put_settings(store: DynamoStore, brand: str, body: dict, principal) -> dict:
    """Save over the version edited (ConcurrentUpdate: 409)."""
    if not principal.sees(brand):
        raise NotFound(f"brand {brand}")
    principal.require("supervisor")
    document = SurveySettings.model_validate(body).model_dump()
    saved = store.put_settings(survey_document(brand), document, principal.agent_id)
    return {"brand": brand, **saved}


def list_settings(store: DynamoStore, principal) -> dict:
    """Every brand of the caller's with its survey settings (admins: every brand the desk has seen);
    one read per brand, a handful."""
    principal.require("supervisor")
    brands = sorted(b for b in (store.tickets.brands() if principal.every_brand else principal.brands) if b)
    return {"items": [get_settings(store, brand, principal) for brand in brands[:100]]}


def enabled(store: DynamoStore, brand: Optional[str], channel: Optional[str]) -> bool:
    if not brand or not channel:
        return False
    stored = store.get_settings(survey_document(brand))
    return bool(stored and SurveySettings.model_validate(stored).channels.get(channel))


# -- signatures ----------------------------------------------------------------------------
def _mac(secret: str, text: str) -> str:
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(secret: str, ticket_id: str, score: int) -> str:
    return _mac(secret, f"csat:{ticket_id}:{score}")


def payload(secret: str, ticket_id: str, score: int) -> str:
    """What a button or quick reply for `score` carries."""
    return payloads.encode(ticket_id, score, sign(secret, ticket_id, score))


def genuine(secret: str, ticket_id: str, score: int, sig: str) -> bool:
    return bool(secret) and hmac.compare_digest(sign(secret, ticket_id, score), sig)


def page_token(secret: str, ticket_id: str, expires: datetime) -> str:
    stamp = int(expires.timestamp())
    return f"{ticket_id}.{stamp}.{_mac(secret, f'page:{ticket_id}:{stamp}')}"


def read_token(secret: str, token: str, now: datetime) -> str:
    """The ticket a page token is for; SurveyRefused (altered, not ours) or SurveyExpired."""
    parts = (token or "").split(".")
    if not secret or len(parts) != 3 or len(token) > 120 or not parts[1].isdigit():
        raise SurveyRefused("this survey link is not valid")
    ticket_id, stamp, sig = parts
    if not hmac.compare_digest(_mac(secret, f"page:{ticket_id}:{stamp}"), sig):
        raise SurveyRefused("this survey link is not valid")
    if int(stamp) < now.timestamp():
        raise SurveyExpired("this survey has closed")
    return ticket_id


def secret() -> str:
    return secrets().get(SECRET)


# -- the survey, when a ticket is resolved ----------------------------------------------------
def on_resolved(store: DynamoStore, ticket: Ticket, now: Optional[datetime] = None) -> str:
    """Queue the ticket's one survey when it should have one; what happened, as a word:
    queued, off, no_reply, done, refused, unsupported, no_secret, no_page, already."""
    now = now or utcnow()
    if ticket.done_without_reply:
        return "done"
    if ticket.survey_sent_at:
        return "already"
    if not enabled(store, ticket.brand, ticket.channel):
        return "off"
    messages = store.messages.timeline(ticket.id, latest=TIMELINE_PAGE)
    if not any(m.direction == "out" and not m.automatic and m.status in ANSWERED for m in messages):
        return "no_reply"
    key = secret()
    if not key:
        logger.warning("CSAT survey not sent: no SURVEY_SECRET", extra={"ticket_id": ticket.id})
        return "no_secret"
    text, survey = QUESTION, {}
    if ticket.channel in LINK_CHANNELS:
        base = env.public_base()  # DESK_PUBLIC_URL, else the API address the agent's close came in on
        if not base:
            logger.warning("CSAT survey not sent: no DESK_PUBLIC_URL for the link", extra={"ticket_id": ticket.id})
            return "no_page"
        url = f"{base}/csat/{page_token(key, ticket.id, now + PAGE_TTL)}"
        text, survey = LINK_QUESTION.format(url=url), {"url": url}
    else:
        survey = {"question": QUESTION, "choices": [
            {"score": score, "title": title, "payload": payload(key, ticket.id, score)}
            for score, title in CHOICES.get(ticket.channel, FIVE)]}
    account = store.accounts.get(ticket.channel, ticket.brand_account_id)
    try:
        plan = policy.plan(ticket, messages, account, "private", text, now)
    except ReplyRefused as refused:
        logger.info("CSAT survey not sent: the platform would refuse it",
                    extra={"ticket_id": ticket.id, "reason": refused.reason})
        return "refused"
    if plan.target.get("tag"):  # Meta's HUMAN_AGENT tag is for a person's answer, never a survey
        logger.info("CSAT survey not sent: the standard messaging window closed", extra={"ticket_id": ticket.id})
        return "refused"
    kind = f"{plan.action}_survey"
    senders = getattr(module(channel_registry.find(ticket.channel), "send"), "SENDERS", {})
    if kind not in senders:
        return "unsupported"
    try:
        store.tickets.mark_survey(ticket.id, now.isoformat())
    except ConcurrentUpdate:
        return "already"
    message_id = str(uuid.uuid5(SURVEY_NAMESPACE, ticket.id))
    reply = Message.reply(message_id, ticket_id=ticket.id, platform=ticket.channel, kind=kind, text=text,
                          visibility="private", target={**plan.target, "survey": survey}, template_id=None,
                          created_at=sortable(now), agent_id=SYSTEM_AGENT, agent_name="CSAT survey",
                          brand=ticket.brand, notes=[], automatic=True)
    stored, new = store.messages.put_reply(reply, "survey")
    if new:
        body = OutboundRequest(ticket_id=ticket.id, message_id=stored.id,
                               message_sk=keys.message_sk(stored.created_at, stored.id)).model_dump_json()
        try:
            queues.send(settings().outbound_queue_url, body)
        except EnqueueFailed:  # the sweeper's redrive sends a queued reply left behind
            logger.warning("CSAT survey stored but not queued; the redrive will send it", extra={"ticket_id": ticket.id})
    return "queued"
