"""Ingest worker: dedupe ▸ register account ▸ classify ▸ link customer ▸ thread ▸ store ▸ route.

Idempotent under at-least-once delivery: the platform id is claimed by a conditional write (with
the ticket's update in one transaction when the message joins a ticket; last, after the ticket,
message and touchpoint, when it opens one, whose ids all derive from the platform id), so a retry,
or the same tweet seen by the webhook and by the poller, never makes a second message or ticket.
The router is asked before a new ticket's id is claimed (after, for a message that joins a
ticket: its claim is one transaction with the ticket's update), so a crash before the send is
retried whole and a claimed id was routed; the router takes a ticket once.

The ingest worker needs everything below for its first mention, so it is imported at module level;
the only lazy imports are the author look-up and the model registry, which most batches never use.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Optional

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from pydantic import TypeAdapter

from chalicelib import aws, crm, desk_settings, offhours, queues, routing, sla, templates
from chalicelib.aggregates.account import Account
from chalicelib.aggregates.message import Message
from chalicelib.aggregates.ticket import Ticket, answered as ticket_answered
from chalicelib.classify import classify
from chalicelib.classify.priority import DEFAULT_RULES, PriorityContext, PriorityRules, prioritise
from chalicelib.config import settings
from chalicelib.errors import ConcurrentUpdate, DuplicateEvent
from chalicelib.models import AnswerEnvelope, IngestMessage, Mention, MentionEnvelope, RoutingRequest, StatusEnvelope, sortable, utcnow
from chalicelib.observability import M, brand_count, count, logger
from chalicelib.outbound import receipts
from chalicelib.store import keys
from chalicelib.store.dynamodb import DynamoStore
from chalicelib.store.ports import AccountStore

_ingest_adapter = TypeAdapter(IngestMessage)
MESSAGE_NAMESPACE = uuid.UUID("0b5d0c41-6a43-4bb5-9a36-6f1f0b7f3a10")


@dataclass(frozen=True)
class Outcome:
    result: str  # created, threaded, duplicate, status
    ticket_id: Optional[str] = None
    message_id: Optional[str] = None


def handle_record(body: str, store: DynamoStore, send: Callable[[str, str], None] = queues.send) -> Outcome:
    message = _ingest_adapter.validate_json(queues.resolve(body))
    if isinstance(message, StatusEnvelope):
        return record_status(message, store)
    if isinstance(message, AnswerEnvelope):  # a CSAT survey's answer: the ticket's CSAT, never a mention
        from chalicelib import csat

        return Outcome(csat.answered(store, message.answer), message.answer.ticket_id)
    return ingest_mention(message, store, send)


def record_status(envelope: StatusEnvelope, store: DynamoStore) -> Outcome:
    receipts.record(envelope.status, store)
    return Outcome("status")


def ingest_mention(envelope: MentionEnvelope, store: DynamoStore, send: Callable[[str, str], None]) -> Outcome:
    m = envelope.mention
    logger.append_keys(correlation_id=m.dedupe_key)
    seen = store.messages.seen(m.dedupe_key)
    if seen:
        return _duplicate(m, seen)
    now = utcnow()
    account = _account(m, store.accounts, now)
    unnamed = False  # a DM's author the platform was asked to name, and did not
    if m.kind == "mention" or (m.kind == "message" and not m.author.name):
        m, unnamed = _with_author(m, store, now)
    brand = account.brand or DEFAULT_BRAND
    rules = rules_for(brand, store)
    verdict = classify(m.text, taxonomy=rules.taxonomy, model=_brand_model(brand, store))
    customer_id = store.customers.link(m.platform, m.author.model_dump(), now)
    if unnamed:  # not asked again on each message (outbound/authors.py, ASK_AGAIN)
        store.customers.name_asked(m.platform, m.author.id, now)
    message_id = str(uuid.uuid5(MESSAGE_NAMESPACE, m.dedupe_key))
    priority = prioritise(verdict, rules=rules, context=priority_context(m, customer_id, rules, store, now, brand))
    message = Message.inbound(
        message_id, mention=m.model_dump(mode="json", exclude_none=True), customer_id=customer_id,
        created_at=sortable(m.created_at), received_at=sortable(envelope.received_at),
        classification=verdict.model_dump(), priority=priority.score, priority_rules_version=priority.rules_version,
        brand=brand)
    factors = [f.model_dump() for f in priority.factors]
    try:
        ticket, created = _store_with_retry(m, message, factors, customer_id, verdict, priority, store, now,
                                            account.team)
        ticket_id = ticket.id
        if created:  # opened assigned or waiting (routing.place): the off-hours answer, then the claim
            offhours.acknowledge_if_closed(store, ticket, now)
            store.messages.claim(m.dedupe_key, ticket_id, message_id, now)
        else:  # the router decides whether the customer's follow-up stays with its holder
            _route(ticket_id, message_id, "new_message", priority.score, verdict.language, send)
    except DuplicateEvent:  # the same id raced us in another worker and won
        return _duplicate(m, store.messages.seen(m.dedupe_key) or {})
    count(M.TICKETS_CREATED if created else M.MESSAGES_THREADED, m.platform, ticket_id=ticket_id)
    if verdict.sentiment == "negative":  # the brand's crisis alarm (anomaly detection) watches this
        brand_count(M.NEGATIVE_MENTIONS, brand, channel=m.platform, ticket_id=ticket_id)
    logger.info("mention stored", extra={"ticket_id": ticket_id, "message_id": message_id,
                                         "ticket_created": created, "priority": priority.score})
    return Outcome("created" if created else "threaded", ticket_id, message_id)


DEFAULT_BRAND = "default"
RULES_TTL_SECONDS = 60
_known_accounts: dict[tuple[str, str], Account] = {}  # per container: one write or read per account
_rules_cache: dict[str, tuple[float, object]] = {}


def _account(m: Mention, accounts: AccountStore, now) -> Account:
    """The brand account a mention reached; a signed event for an unknown one registers it."""
    key = (m.platform, m.brand_account_id)
    if key not in _known_accounts:
        if accounts.discover(*key, now):
            count(M.ACCOUNTS_DISCOVERED, m.platform, account_id=m.brand_account_id)
            logger.info("new brand account discovered", extra={"account_id": m.brand_account_id})
        _known_accounts[key] = accounts.get(*key) or Account(platform=key[0], account_id=key[1])
    return _known_accounts[key]


def rules_for(brand: str, store: DynamoStore, clock: Callable[[], float] = time.monotonic):
    """The brand's priority rules in force (shipped defaults if it has none), cached a minute."""
    cached = _rules_cache.get(brand)
    if cached and clock() - cached[0] < RULES_TTL_SECONDS:
        return cached[1]
    stored = store.get_rules(brand)
    rules = PriorityRules.model_validate(stored["rules"]) if stored else DEFAULT_RULES
    _rules_cache[brand] = (clock(), rules)
    return rules


def _brand_model(brand: str, store: DynamoStore):
    """The brand's adapted sentiment model from S3, if one was published; else None (base model)."""
    bucket = settings().model_bucket
    if not bucket:
        return None
    # Lazy: only a desk that publishes adapted models (MODEL_BUCKET) loads the model registry.
    from chalicelib.classify import registry

    return registry.model_for(brand, store.table, aws.client("s3"), bucket)


def priority_context(m: Mention, customer_id: str, rules, store: DynamoStore, now: datetime,
                     brand: Optional[str] = None):
    """Everything but the text that moves a mention up the queue. A CRM record counts only for the
    brand that imported it (one imported before records named a brand counts for every brand)."""
    record = _brands_record(store.get_crm(m.platform, crm.author_keys(m.platform, m.author.id, m.author.handle)),
                            brand)
    since = sortable(now - timedelta(hours=rules.repeat_window_hours))
    customers = {customer_id}
    if record and record.get("crm_ref"):  # the same person on other channels, as the CRM knows them
        for linked in store.crm_linked(record["crm_ref"]):
            if _brands_record(linked, brand) is None:
                continue
            other = store.customers.customer_of(linked["platform"], linked["key"])
            if other:
                customers.add(other)
    return PriorityContext(
        followers=m.author.followers, verified=m.author.verified, public=m.visibility.value == "public",
        channel=m.platform, lifetime_value=(record or {}).get("lifetime_value", 0),
        recent_purchases=crm.recent_purchases(record, rules.recent_purchase_days, now),
        vip=bool((record or {}).get("vip")), advocate=bool((record or {}).get("advocate")),
        waiting_minutes=max((now - m.created_at).total_seconds() / 60, 0),
        repeat_contacts=sum(store.customers.count_touchpoints(c, since) for c in customers))


def _brands_record(record: Optional[dict], brand: Optional[str]) -> Optional[dict]:
    """The CRM record if the brand may use it: its own, or one that names no brand."""
    if record is None or brand is None or record.get("brand") in (None, brand):
        return record
    return None


def _store_with_retry(m: Mention, message: Message, factors: list[dict], customer_id: str, verdict, priority,
                      store: DynamoStore, now, team: Optional[str] = None) -> tuple[Ticket, bool]:
    hours = sla.hours_for(desk_settings.cached_settings(store, "hours"), team)
    clocks = sla.clocks(desk_settings.cached_settings(store, "sla"), hours, priority=priority.score,
                        channel=m.platform,
                        negative_public=m.visibility.value == "public" and verdict.sentiment == "negative",
                        start=m.created_at)
    conversation_key = _conversation_key(m, store)
    for attempt in range(STORE_ATTEMPTS):
        current = store.tickets.by_conversation(conversation_key)
        opening = current is None or current.status == "closed" or current.opened_by == m.dedupe_key
        base = current if current is not None and not opening else None
        new_priority = max(priority.score, base.priority if base else 0)
        status = "open" if base is None or base.status in ("open", "pending") else base.status  # a reply reopens
        clock = sla.after_customer_wrote(base, hours, m.created_at) if base else {}
        changes = {
            "priority": new_priority,
            "last_inbound_at": message.created_at,
            "last_message_preview": m.text[:PREVIEW_CHARACTERS],
            # what the inbox's text search reads besides the preview: who wrote it (and the subject)
            "search_text": " ".join(filter(None, [m.author.name, m.author.handle, m.subject])).lower(),
            "customer_name": shown_name(m),
            "status": status,
            **{k: v for k, v in clock.items() if v is not None},
        }
        if base is None or new_priority > base.priority:
            changes["priority_factors"] = factors
            changes["classification"] = ticket_verdict(message.classification)
        try:
            if opening:
                ticket = _opened(m, message, customer_id, verdict, clocks, conversation_key, now, team, current,
                                 changes)
                return _open(conversation_key, ticket, current, message, customer_id, store, now), True
            changes.update(keys.inbox_index(status, new_priority, clock.get("sla_due_at") or base.sla_due_at, base.id,
                                            ticket_answered(base.first_response_at, base.last_outbound_at,
                                                            message.created_at)))  # the customer wrote: unanswered
            store.messages.record_inbound(base, message, m.dedupe_key, customer_id, changes, now)
            return base, False
        except ConcurrentUpdate:  # the ticket moved under us, or another opened the conversation: read again
            time.sleep(0.02 * attempt)
            continue
    raise ConcurrentUpdate(f"ticket of {conversation_key} kept changing")


def _open(conversation_key: str, ticket: Ticket, current: Optional[Ticket], message: Message, customer_id: str,
          store: DynamoStore, now) -> Ticket:
    """Open the ticket assigned to the agent the router picks now (a slot reserved on their own item),
    or waiting with its first re-drive; a retry of our own opening (the ticket is there) only
    finishes the writes. A slot whose ticket was not opened by this call is given back."""
    if current is not None and current.id == ticket.id:
        store.messages.record_opening(conversation_key, ticket, message, customer_id, None)
        return current
    agent = routing.place(ticket, store, now)
    ticket = ticket.model_copy(update={"assignee": agent.id} if agent else {"waiting_since": now.isoformat()})
    try:
        opened = store.messages.record_opening(conversation_key, ticket, message, customer_id,
                                               current.id if current is not None else None)
    except ConcurrentUpdate:
        if agent:
            store.agents.unreserve(agent.id)
        raise
    if agent and not opened:  # the same mention, delivered twice at once, opened it in another worker
        store.agents.unreserve(agent.id)
    if opened:
        routing.placed(ticket, agent, now)
    return ticket


STORE_ATTEMPTS = 8
PREVIEW_CHARACTERS = 200
TICKET_VERDICT = ("actionable", "sentiment", "sentiment_score", "language", "topic", "urgency")
TICKET_NAMESPACE = uuid.UUID("5d3c2a8e-2f4b-4c1e-9a77-0c3f6d1b8e42")


def shown_name(m: Mention) -> Optional[str]:
    """Who wrote, as the inbox row shows them: their name, else their @handle; never an id (a DM
    author the platform did not name). None: not known yet."""
    name = (m.author.name or "").strip()
    if name and not templates.looks_like_id(name, {m.author.id}):
        return name[:80]
    return f"@{m.author.handle}"[:80] if m.author.handle else None


def ticket_verdict(classification: Optional[dict]) -> dict:
    """What a ticket keeps of its message's verdict (the inbox's badges and filters, the router's
    sentiment): the evidence stays on the message, so the ticket item stays small."""
    return {k: v for k, v in (classification or {}).items() if k in TICKET_VERDICT}


def ticket_id_of(dedupe_key: str) -> str:
    """The id of the ticket a mention opens: derived from its platform id, so a retry opens the same."""
    return str(uuid.uuid5(TICKET_NAMESPACE, dedupe_key))


def _opened(m: Mention, message: Message, customer_id: str, verdict, clocks: dict, conversation_key: str, now,
            team: Optional[str], closed: Optional[Ticket], changes: dict) -> Ticket:
    """The ticket a mention opens, as its first message leaves it (version 1, one message)."""
    new = Ticket.opened(
        ticket_id_of(m.dedupe_key), channel=m.platform, kind=m.kind, brand=message.brand,
        brand_account_id=m.brand_account_id, conversation_key=conversation_key, opened_by=m.dedupe_key,
        customer_id=customer_id, now_iso=now.isoformat(), first_inbound_at=sortable(m.created_at), clocks=clocks,
        visibility=m.visibility.value, language=verdict.language, topic=verdict.topic, subject=m.subject,
        team=team)
    if closed is not None and closed.assignee and closed.id != new.id:  # the customer is back: their agent first
        changes = {**changes, "previous_assignee": closed.assignee}
    return new.changed({**changes, "message_count": 1, "updated_at": now.isoformat()})


def _conversation_key(m: Mention, store: DynamoStore) -> str:
    """A reply to a message we already hold joins that message's conversation.

    X's Account Activity tweets carry no conversation id: a customer answering the brand's
    reply would otherwise start a thread keyed by that reply.
    """
    if m.in_reply_to_id:
        parent = store.messages.seen(f"{m.platform}#{m.in_reply_to_id}")
        ticket = store.tickets.get(parent["ticket_id"]) if parent else None
        if ticket:
            return ticket.conversation_key
    return m.conversation_key


def _with_author(m: Mention, store: DynamoStore, now: datetime) -> tuple[Mention, bool]:
    """A mention the webhook names by id only (a Facebook Page mention, an Instagram mention) gets
    its author, and its text when it had none, from the platform; a Messenger or Instagram DM its
    author's name, once per identity (outbound/authors.py). When the look-up fails the placeholder
    author (or the nameless one) stays and the mention is stored all the same. The flag: a DM's
    profile was asked for and not given (the caller notes that on the identity)."""
    # Lazy for cold start: the Graph client (urllib.request, ssl) is needed only for these.
    from chalicelib.outbound import authors

    profile = authors.needs_profile(m)
    try:
        if authors.needs_author(m):
            return authors.look_up(m), False
        if profile:
            return authors.with_profile(m, store.customers, now), False
    except authors.NotAskedAgain:
        return m, False
    except authors.LookupFailed as err:
        count(M.AUTHOR_LOOKUP_FAILURES, m.platform)
        logger.warning("author look-up failed; the author stays unknown", extra={"reason": err.reason[:300]})
        return m, profile
    return m, False


def _duplicate(m: Mention, seen: dict) -> Outcome:
    count(M.DUPLICATE_EVENTS, m.platform, source=m.source)
    logger.info("duplicate mention dropped", extra={"ticket_id": seen.get("ticket_id")})
    return Outcome("duplicate", seen.get("ticket_id"), seen.get("message_id"))


def _route(ticket_id: str, message_id: str, reason: str, priority: int, language: Optional[str], send) -> None:
    request = RoutingRequest(ticket_id=ticket_id, message_id=message_id, reason=reason,
                             priority=priority, language=language)
    send(settings().routing_queue_url, request.model_dump_json())


def process_sqs_event(event: dict, context) -> dict:
    """Lambda entry for the ingest queue, reporting partial batch failures."""
    store = DynamoStore(aws.table())

    def record_handler(record) -> Outcome:
        return handle_record(record.body, store)

    return process_partial_response(event=event, record_handler=record_handler,
                                    processor=BatchProcessor(event_type=EventType.SQS), context=context)
