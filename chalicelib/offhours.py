"""Off-hours acknowledgement: outside its team's hours, a new conversation hears back at once.

One automatic reply per ticket (a conditional write claims it), on the same platform, public
where the customer wrote publicly and private where they wrote privately, in their language,
telling when a person will answer: the ticket's first-response deadline, which the SLA already
computed in the team's business hours. A brand's own wording comes from the template
`offhours-<channel>` or else `offhours` (a variant per language; variables {{customer.name}},
{{reply.time}}, ...); otherwise the shipped texts.
It is not a response: first response time still waits for a person.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional
from zoneinfo import ZoneInfo

from chalicelib import desk_settings, sla, templates
from chalicelib.aggregates.agent import Agent
from chalicelib.aggregates.ticket import Ticket
from chalicelib.errors import ConcurrentUpdate
from chalicelib.observability import logger
from chalicelib.outbound.policy import ReplyRefused
from chalicelib.outbound.replies import ReplyRequest, queue_reply
from chalicelib.store.dynamodb import DynamoStore

SHIPPED = {  # filled as templates are (templates.fill): no name known, the greeting is neutral
    "en": "Thanks for your message, {{customer.name}}! Our team is away right now; a person will answer by {{reply.time}}.",
    "fi": "Kiitos viestistäsi, {{customer.name}}! Tiimimme on nyt poissa; vastaamme viimeistään {{reply.time}}.",
    "el": "Ευχαριστούμε για το μήνυμά σας, {{customer.name}}! Η ομάδα μας λείπει τώρα· θα σας απαντήσουμε έως {{reply.time}}.",
    "zh": "{{customer.name}}，感谢您的留言！我们的团队现在不在线，将在 {{reply.time}} 前回复您。",
    "ar": "شكرًا لرسالتك يا {{customer.name}}! فريقنا غير متاح الآن، وسنرد عليك بحلول {{reply.time}}.",
    "pl": "Dziękujemy za wiadomość, {{customer.name}}! Nasz zespół jest teraz niedostępny; odpowiemy do {{reply.time}}.",
}
SYSTEM_AGENT = "desk"


def acknowledge_if_closed(store: DynamoStore, ticket: Ticket, now: datetime) -> Optional[dict]:
    """Queue the acknowledgement when the ticket's team is closed now; None when not needed."""
    hours = sla.hours_for(desk_settings.cached_settings(store, "hours"), ticket.team)
    if not hours or sla.is_open(hours, now) or ticket.offhours_ack_at:
        return None
    try:
        store.tickets.claim_offhours_ack(ticket.id, now.isoformat())
    except ConcurrentUpdate:
        return None  # a redelivered routing message: already acknowledged
    due = datetime.fromisoformat(ticket.first_response_due_at or sla.next_open(hours, now).isoformat())
    when = due.astimezone(ZoneInfo(hours["timezone"])).strftime("%a %d %b %H:%M") + f" ({hours['timezone']})"
    return _queue(store, ticket, when)


def _queue(store: DynamoStore, ticket: Ticket, when: str) -> Optional[dict]:
    visibility = "public" if ticket.visibility == "public" else "private"
    mine = {t["id"]: t for t in store.templates()}
    own = mine.get(f"offhours-{ticket.channel}") or mine.get("offhours")  # per channel, then for all
    if own:
        customer = store.customers.history(ticket.customer_id) if ticket.customer_id else None
        text = templates.render(own, ticket, customer, Agent(id=SYSTEM_AGENT, name="Care team"),
                                reply_time=when)["text"]
    else:
        language = ticket.language if ticket.language in SHIPPED else "en"
        values = {"customer.name": _first_name(store, ticket), "reply.time": when}
        text = templates.fill(SHIPPED[language], values, language)
    try:
        message, _ = queue_reply(store, ticket.id, ReplyRequest(text=text, visibility=visibility), SYSTEM_AGENT,
                                 idempotency_key="offhours", automatic=True)
    except ReplyRefused as refused:
        logger.info("off-hours acknowledgement not possible", extra={"ticket_id": ticket.id, "why": refused.reason})
        return None
    return message


def _first_name(store: DynamoStore, ticket: Ticket) -> Optional[str]:
    """The customer's first name, if a real name is known (templates.customer_name: never an id)."""
    try:
        customer = store.customers.profile(ticket.customer_id) if ticket.customer_id else None
    except Exception:  # noqa: BLE001 - a missing profile only costs the greeting its name
        customer = None
    return (templates.customer_name(customer) or "").split(" ")[0] or None
