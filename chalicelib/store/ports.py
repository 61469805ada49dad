"""The store's ports: one small interface per aggregate, which use cases depend on.

Each has a DynamoDB implementation, given its table (`store/agents.py`, ...), and an in-memory
twin with the same semantics (`store/memory/`); `tests/contract/` runs one suite against both.
Aggregates not yet behind a port still go through `store/dynamodb.py`'s DynamoStore (see
docs/ARCHITECTURE.md, "Store ports"). Imports the aggregates only.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Iterable, Iterator, Mapping, Optional, Protocol, Sequence

from chalicelib.aggregates.account import Account
from chalicelib.aggregates.agent import PERFORMANCE_WEIGHT, Agent, Measure, Status
from chalicelib.aggregates.customer import Customer, CustomerEvent, CustomerHistory, Identity, Merge, Moved
from chalicelib.aggregates.message import Message, Receipt, ReplyCondition
from chalicelib.aggregates.team import Team
from chalicelib.aggregates.ticket import Ticket
from chalicelib.aggregates.viewer import Viewer

PROFILE_FIELDS = ("name", "role", "languages", "skills", "teams", "brands", "capacity",
                  "needs_approval")  # an admin's to edit
ROSTER_LIMIT = 1000  # agents read at most by one listing (the router reads the roster, then its candidates)


class AgentStore(Protocol):
    def get(self, agent_id: str) -> Optional[Agent]: ...

    def put(self, agent: Agent) -> None:
        """Create or replace the agent (presence, load and performance as given)."""

    def save_profile(self, agent: Agent) -> Agent:
        """An admin's edit: create the agent as given, or change only an existing one's profile
        (PROFILE_FIELDS), keeping presence, load and performance as stored now (never as read
        before the edit: a ticket may have moved meanwhile). The agent as stored."""

    def delete(self, agent_id: str) -> bool:
        """True if there was such an agent."""

    def all(self, limit: int = ROSTER_LIMIT) -> list[Agent]:
        """Every agent (at most `limit`), in id order."""

    def roster(self, limit: int = ROSTER_LIMIT) -> list[Agent]:
        """Every agent (at most `limit`, id order) as the roster lists them: profile and presence as
        put and set, but no load (0) and no performance (None); load and performance never write it."""

    def get_many(self, agent_ids: Iterable[str]) -> list[Agent]:
        """The agents of these ids as `get` reads them (load, presence, performance), in the order
        asked, each once; ids of no agent left out."""

    def set_status(self, agent_id: str, status: Status, at_iso: str) -> None:
        """Presence and when it changed; NotFound for an agent that does not exist."""

    def record_performance(self, agent_id: str, measure: Measure, value: float,
                           weight: float = PERFORMANCE_WEIGHT) -> None:
        """Fold one observation into the rolling average, conditional on the averages read, so
        concurrent workers never lose one another's update. Nothing for an unknown agent."""

    def assign_within_capacity(self, ticket_id: str, expected_version: int, agent_id: str) -> None:
        """Give the ticket to the agent at once: their load goes up only while they are online and
        below capacity (else AgentUnavailable), the ticket takes them only if it has no assignee
        at `expected_version` (else TicketChanged, which wins when both fail). The ticket's
        version goes up and `waiting_since` goes."""

    def note_drift(self, agent_id: str, seen_load: int, held: int, at_iso: str) -> None:
        """Note that the agent's load (`seen_load`) did not match the tickets they hold (`held`),
        only while the load is still that (`load_drift`: {load, held, at})."""

    def settle_load(self, agent_id: str, seen_load: int, held: int) -> bool:
        """Set the load to `held` and drop the note, only while the load is still `seen_load` and
        the note says the same: True when it did."""

    def clear_drift(self, agent_id: str) -> None:
        """Drop the note (the load matches again)."""

    def reserve(self, agent_id: str) -> None:
        """A slot for a ticket about to be opened already assigned: the agent's load goes up only
        while they are online and below capacity (else AgentUnavailable). One write, on their own item."""

    def unreserve(self, agent_id: str) -> None:
        """Give back a reserved slot whose ticket was not opened (never below zero)."""

    def move_load(self, ticket_id: str, expected_version: int, changes: Mapping[str, Any],
                  load: Mapping[str, int]) -> Ticket:
        """An agent's change of who holds a ticket: the ticket's `changes` (as TicketStore.update,
        ConcurrentUpdate at another version) and each agent's load moved by `load` ({agent id: +1 |
        -1}) at once. A move that would take a load below zero or land on no agent (a deleted
        agent, a caller who is no agent) is dropped and the rest written. The ticket as it now is."""

    def release(self, ticket_id: str, expected_version: int, agent_id: str, since_iso: str) -> None:
        """Take the ticket back from the agent at once: it must be theirs at `expected_version`
        and their load above zero (else TicketChanged); it keeps `previous_assignee` and waits
        from `since_iso`."""


class AccountStore(Protocol):
    def get(self, platform: str, account_id: str) -> Optional[Account]: ...

    def put(self, account: Account) -> None:
        """Create or replace the account (the local stack's seeding, tests)."""

    def all(self, platform: Optional[str] = None) -> list[Account]:
        """The accounts of one platform, or of every platform, in (platform, id) order."""

    def discover(self, platform: str, account_id: str, at: datetime) -> bool:
        """Record an account on first sight (`Account.discovered`), only if there is none yet: True
        if this call made it, False (and nothing changed) if it was known, however it got there;
        of racing workers exactly one is told True."""

    def update(self, platform: str, account_id: str, changes: Mapping[str, Any]) -> Account:
        """Set the attributes in `changes` (a None removes one), leaving the others as they are;
        the account as it now is. NotFound for an account that does not exist (nothing written);
        ValueError for the account's identity or an attribute it cannot have."""


class TeamStore(Protocol):
    def get(self, team_id: str) -> Optional[Team]: ...

    def put(self, team: Team) -> None:
        """Create or replace the team."""

    def delete(self, team_id: str) -> bool:
        """True if there was such a team."""

    def all(self) -> list[Team]:
        """Every team, in id order."""


class CustomerStore(Protocol):
    """Customer profiles, their platform identities and touchpoints, the events imported from the
    CRM, merges (what moved, so they can be undone) and erasure."""

    def link(self, platform: str, author: Mapping[str, Any], now: datetime) -> str:
        """The customer of the author's platform identity, made on first sight under the identity's
        `first_sight_id` (of racing workers, or retries, linking the same identity all are told the
        one customer; one merged away or erased is never taken back). A known identity has its
        names and reach refreshed from what the author carries (nothing written if none changed)."""

    def name_asked(self, platform: str, user_id: str, now: datetime) -> None:
        """Note on the identity's pointer (if there is one) that its platform did not give a name at `now`."""

    def identity(self, platform: str, user_id: str) -> Optional[Identity]:
        """The identity's pointer (its customer, names and reach as last seen); None if never seen."""

    def customer_of(self, platform: str, user_id: str) -> Optional[str]:
        """The customer id an identity points at, if any."""

    def get(self, customer_id: str) -> Optional[Customer]:
        """The profile alone."""

    def history(self, customer_id: str) -> CustomerHistory:
        """The profile with its identities and touchpoints; NotFound for no profile."""

    def profile(self, customer_id: str) -> CustomerHistory:
        """The profile with its identities, no touchpoint read; NotFound for no profile."""

    def latest_touchpoints(self, customer_id: str, before: Optional[str], limit: int) -> tuple[list[dict], Optional[str]]:
        """At most `limit` touchpoints, newest first, older than the sort key `before` (all when
        None), and the sort key to go on from when the page is full (else None)."""

    def update(self, customer_id: str, expected_version: int, changes: Mapping[str, Any]) -> None:
        """Set what `changes` names (a None removes) and the version one up, only at
        `expected_version` (a profile never edited is at 0): ConcurrentUpdate otherwise, or for no
        profile. ValueError for the identity, the version or an attribute a profile cannot have."""

    def count_touchpoints(self, customer_id: str, since_iso: str) -> int:
        """How many times the customer wrote or was answered from `since_iso` on."""

    def events(self, customer_id: str) -> list[CustomerEvent]:
        """The events imported from the CRM, in (time, id) order."""

    def put_event(self, customer_id: str, event: CustomerEvent) -> None:
        """Add an event (the same id at the same time replaces it: an import is repeatable)."""

    def moving(self, customer_id: str) -> Moved:
        """What merging this customer into another would move: its identities, touchpoints and
        events, and the tickets its touchpoints name."""

    def move(self, from_id: str, to_id: str, moved: Moved) -> None:
        """The identities, touchpoints and events `moved` names from one customer to the other
        (each written to its new home before the old one goes; what is no longer there is
        skipped); the identities' pointers follow. The tickets are the TicketStore's
        (`set_customer`)."""

    def put_merge(self, merge: Merge) -> None:
        """Keep a merge's record in the survivor's partition."""

    def get_merge(self, survivor_id: str, merge_id: str) -> Optional[Merge]: ...

    def mark_merge_undone(self, survivor_id: str, merge_id: str, agent_id: str, at_iso: str) -> None:
        """Once: ConcurrentUpdate when it was undone already."""

    def erase(self, customer_id: str, identities: list[tuple[str, str]], crm_records: list[tuple[str, str]],
              erased_at: str, erased_by: str) -> None:
        """The person out of the desk (GDPR art. 17): the CRM records named (platform, key), each
        identity (pointer and the customer's copy) and the imported events go; the profile keeps
        no name ("[erased]"), tags, note or VIP flag, no identity count, and says who erased it and
        when. Touchpoints stay (anonymous statistics). Idempotent."""


INBOX_READS = 10  # a filtered inbox page reads at most this many index pages of a shard before it hands back a cursor
TIMELINE_PAGE = 50  # the newest messages a ticket view, its reply options and a read watermark read
IN_FLIGHT_WINDOW = timedelta(minutes=30)  # how far back the re-drive looks for replies still in flight (30 x 4 queries a run)


class TicketStore(Protocol):
    """Tickets: the conversation pointer that threads messages into one, the versioned changes
    agents and workers make, and the indexes that keep every read bounded: the inbox (GSI1, each
    brand's write shards, ordered by status, priority, SLA due), deadlines and re-drives by minute
    (GSI2, GSI3) and each agent's own (ByAssignee). Which index keys a change moves is the store's
    business (keys.ticket_index_changes), but for the inbox place (keys.inbox_index), which the
    writers of status and priority give. A ticket's messages are the MessageStore's."""

    def open_for(self, conversation_key: str, new: Ticket) -> tuple[Ticket, bool]:
        """The open ticket of a conversation, or `new` stored as it: (ticket, created). Racing
        workers on one conversation make one ticket; a closed one is followed by `new`, which
        keeps the closed one's assignee as `previous_assignee`."""

    def get(self, ticket_id: str) -> Optional[Ticket]: ...

    def by_conversation(self, conversation_key: str) -> Optional[Ticket]:
        """The ticket the conversation points at now (open or not)."""

    def update(self, ticket_id: str, expected_version: int, changes: Mapping[str, Any]) -> Ticket:
        """Set what `changes` names (a None removes; the inbox index keys among them move the
        ticket in the inbox) and the version one up, only at `expected_version`:
        ConcurrentUpdate otherwise, or for no ticket. The ticket as it now is."""

    def inbox(self, status: str, *, brands: Optional[Sequence[str]] = None,
              filters: Optional[Mapping[str, Any]] = None, limit: int = 25,
              cursor: Optional[dict] = None) -> tuple[list[Ticket], Optional[dict]]:
        """One page of at most `limit` tickets of `status`, highest priority then soonest due
        first, of `brands` only (None: every brand, for admins; empty: nothing, and nothing read),
        matching `filters` (channel, assignee or "none", team, topic, language,
        priority_min, priority_max, sentiment, q); the position to go on from (`{"status", "after":
        {inbox shard: last entry read, or None when done}}`, keys.inbox_cursor makes it a cursor), or
        None at the end. Each brand's inbox is INBOX_SHARDS write shards, merged in order; a
        filtered page reads at most INBOX_READS index pages of a shard, so it may come back short
        with a cursor."""

    def inbox_all(self, status: str, filters: Optional[Mapping[str, Any]] = None, *,
                  brands: Optional[Sequence[str]] = None) -> Iterator[Ticket]:
        """Every ticket of `status` matching `filters`, page after page."""

    def inbox_count(self, status: str, *, brands: Optional[Sequence[str]] = None) -> int:
        """How many tickets of `status` (of `brands` only; None: every brand)."""

    def brands(self) -> list[Optional[str]]:
        """Every brand that has had a ticket (None: tickets stored without one)."""

    def assigned_to(self, agent_id: str, status: str = "open") -> list[Ticket]:
        """The agent's own tickets of `status` in inbox order (index ByAssignee: nobody else's read)."""

    def held_count(self, agent_id: str) -> int:
        """How many tickets the agent holds (assignee, not closed: open, pending, on hold), counted
        on ByAssignee (keys only, nothing else read)."""

    def waiting(self, limit: int, *, brands: Optional[Sequence[str]] = None) -> list[Ticket]:
        """Open tickets nobody holds, highest priority first (one page), of `brands` (None: all)."""

    def due_between(self, first_minute: str, last_minute: str) -> list[Ticket]:
        """The tickets whose SLA deadline (`sla_due_at`) falls in those minutes (`yyyy-mm-ddThh:mm`,
        both included), soonest first: the minute buckets of the due index, nothing else read."""

    def redrives_between(self, first_minute: str, last_minute: str) -> list[Ticket]:
        """The unassigned tickets whose next re-drive to the router falls in those minutes (first
        REDRIVE_AFTER after they were opened or released; `redrive_later` moves it), soonest first."""

    def redrive_later(self, ticket: Ticket, at_iso: str) -> None:
        """The ticket's next re-drive at `at_iso`, unless someone holds it now."""

    def set_sla_due(self, ticket: Ticket, due_iso: str) -> None:
        """Move the ticket's next deadline (and its place in the inbox), its version untouched."""

    def rate(self, ticket_id: str, score: int, comment: Optional[str], at_iso: str,
             source: Optional[str] = None) -> None:
        """The customer's rating, once: ValueError when it was rated already (or no ticket).
        `source`: "customer" (a survey answer) or "supervisor" (entered for them)."""

    def mark_survey(self, ticket_id: str, at_iso: str) -> None:
        """Claim the ticket's one CSAT survey (`survey_sent_at`): ConcurrentUpdate when it was claimed."""

    def claim_offhours_ack(self, ticket_id: str, at_iso: str) -> None:
        """Claim the ticket's one off-hours acknowledgement: ConcurrentUpdate when it was claimed."""

    def mark_waiting(self, ticket_id: str, since_iso: str) -> None:
        """Waiting for an agent since `since_iso`, unless it waits already; its first re-drive
        (GSI3) REDRIVE_AFTER later, unless it has one, and only while nobody holds it."""

    def set_customer(self, ticket_ids: list[str], customer_id: str) -> None:
        """The tickets now belong to another customer (a merge, its undo)."""

    def redact(self, ticket_id: str, erased: str) -> int:
        """The customer's words and identity out of the ticket and its inbound messages (text,
        author, attachments, headers, subject); times, channel and verdicts stay. How many
        messages were redacted."""


class MessageStore(Protocol):
    """A ticket's timeline: inbound messages (recorded once per platform id, with their effect
    on the ticket and the customer's touchpoint), replies and their delivery state, notes and
    events. Messages come back oldest first."""

    def seen(self, dedupe_key: str) -> Optional[dict]:
        """The record of a platform id already stored (`ticket_id`, `message_id`)."""

    def record_opening(self, conversation_key: str, ticket: Ticket, message: Message, customer_id: str,
                       replaces: Optional[str]) -> bool:
        """Open `ticket` (as its first message leaves it: version 1, one message) for the
        conversation, which points at nothing, at the closed ticket `replaces`, or at `ticket`
        already (ConcurrentUpdate otherwise, nothing written); store its first message and the
        customer's touchpoint. No transaction: every write is keyed by what the platform id derives
        (ticket and message ids), so a retry after a crash at any step finishes the job, and a ticket
        that is there already is never overwritten (False: this call did not put it). The platform
        id is claimed after (`claim`)."""

    def claim(self, dedupe_key: str, ticket_id: str, message_id: str, now: datetime) -> None:
        """Claim a platform id for the message stored under it: DuplicateEvent when it was claimed."""

    def record_inbound(self, ticket: Ticket, message: Message, dedupe_key: str, customer_id: str,
                       ticket_changes: Mapping[str, Any], now: datetime) -> None:
        """Store the message and touch the customer's history (both keyed by the message: a retry
        rewrites them), then claim its platform id and apply `ticket_changes` to the ticket (one
        message more, the version one up) at once and once: DuplicateEvent when the id was recorded
        already, ConcurrentUpdate when the ticket is no longer at the version read (neither the
        claim nor the ticket written). One platform id is always one message (the pipeline derives
        the message id from it)."""

    def timeline(self, ticket_id: str, latest: Optional[int] = None) -> list[Message]:
        """Every message, note and event of the ticket, oldest first; with `latest`, only the
        newest that many (one bounded read), still oldest first."""

    def get(self, ticket_id: str, message_id: str) -> Optional[Message]: ...

    def put(self, message: Message) -> None:
        """A note or an event on the ticket's timeline."""

    def put_reply(self, reply: Message, idempotency_key: Optional[str] = None) -> tuple[Message, bool]:
        """Store a queued reply (in flight until it is sent or fails): (reply, True). With an
        idempotency key, a second reply under the same key stores nothing and returns the first:
        (first, False)."""

    def reply(self, ticket_id: str, message_sk: str) -> Optional[Message]:
        """A reply by its place on the timeline (as the outbound queue names it)."""

    def update_reply(self, reply: Message, changes: Mapping[str, Any], when: ReplyCondition) -> Message:
        """Set what `changes` names (a None removes) only while `when` holds: ConcurrentUpdate
        otherwise. The reply as it now is."""

    def in_flight(self, created_before_iso: str, since_iso: Optional[str] = None) -> list[Message]:
        """Replies queued before then (from `since_iso` on, IN_FLIGHT_WINDOW before by default) and
        not yet sent or failed, oldest first: every minute bucket read to its end."""

    def by_platform_id(self, platform: str, platform_id: str) -> Optional[Message]:
        """Our sent reply the platform knows by this id."""

    def record_sent(self, reply: Message, customer_id: Optional[str], ticket: Optional[Ticket] = None) -> bool:
        """After a reply was sent: its platform id points back at it, the ticket notes its
        responses (`first_response_at` unless automatic, `last_outbound_at`), the customer's
        history gets a touchpoint. Idempotent. True when it was the ticket's first response; then,
        given the `ticket` as read, its SLA moves on to its resolution deadline (and its inbox and
        due-minute places with it), in the same write when the ticket is still as read."""

    def record_delivery_status(self, receipt: Receipt) -> None:
        """Keep a platform's delivery status of one of our messages as it came. Idempotent: the
        same status at the same time is one receipt."""

    def delivery_statuses(self, platform: str, external_id: str) -> list[Receipt]:
        """The receipts kept for one of our platform messages, in (time, status) order."""


class ViewerStore(Protocol):
    """Who is on which ticket of a brand now (issue 16): one entry per agent a brand, replaced by
    each heartbeat, gone when its `expires_at` has passed (TTL on the table; readers drop what TTL
    has not deleted yet)."""

    def beat(self, brand: Optional[str], viewer: Viewer) -> None:
        """The agent is on `viewer.ticket_id` now (replaces wherever they were in the brand)."""

    def leave(self, brand: Optional[str], agent_id: str, ticket_id: str) -> None:
        """The agent left that ticket: their entry goes, unless it names another ticket by now."""

    def on(self, brand: Optional[str], now: datetime) -> list[Viewer]:
        """Every agent on a ticket of the brand whose entry has not expired at `now`, by agent id
        (one bounded read: at most ROSTER_LIMIT entries)."""


class Stores(Protocol):
    """The ports of one desk together, as a use case that needs several is given them
    (DynamoStore on the table, MemoryStore in use-case tests)."""

    agents: AgentStore
    accounts: AccountStore
    teams: TeamStore
    customers: CustomerStore
    tickets: TicketStore
    messages: MessageStore
    viewers: ViewerStore
