"""The only place DynamoDB keys are built. One table, generic PK/SK, GSI1-3 and ByAssignee.

| item                      | PK                              | SK                         |
| ticket                    | TICKET#<id>                     | TICKET                     |
| message of a ticket       | TICKET#<id>                     | MSG#<created iso>#<msg id> |
| dedupe of a platform id   | EXT#<platform>#<external id>    | EXT                        |
| open ticket of a thread   | CONV#<platform>#<account>#<conv>| CONV                       |
| platform identity         | IDENTITY#<platform>#<user id>   | IDENTITY                   |
| customer profile          | CUSTOMER#<id>                   | PROFILE                    |
| customer touchpoint       | CUSTOMER#<id>                   | TOUCH#<iso>#<msg id>       |
| customer event (imported) | CUSTOMER#<id>                   | EVENT#<iso>#<event id>     |
| merge of two customers    | CUSTOMER#<id of the survivor>   | MERGE#<merge id>           |
| brand account             | ACCOUNTS                        | ACCOUNT#<platform>#<id>    |
| poller cursor             | ACCOUNTS                        | POLL#<platform>#<id>       |
| quarantined payload       | QUARANTINE                      | <received iso>#<id>        |
| outbound delivery status  | OUTMSG#<platform>#<external id> | STATUS#<iso>#<status>      |
| our message of that id    | OUTMSG#<platform>#<external id> | OUT                        |
| a reply's idempotency key | TICKET#<id>                     | REPLYKEY#<key>             |
| agent (presence, load)    | AGENT#<id>                      | AGENT                      |
| agent's roster entry      | ROSTER                          | AGENT#<id>                 |
| priority rules, a version | RULES#<brand>                   | V#<version, 6 digits>      |
| priority rules in force   | RULES#<brand>                   | CURRENT                    |
| CRM record of an identity | CRM#<platform>#<user id|@handle>| CRM                        |
| an agent's correction     | CORRECTIONS#<brand>             | <iso>#<message id>         |
| reply template            | TEMPLATES                       | TEMPLATE#<id>              |
| team                      | TEAMS                           | TEAM#<id>                  |
| settings document         | SETTINGS                        | <sla|hours|routing>        |
| brand's sentiment model   | MODEL#<brand>                   | CURRENT                    |
| reply held for approval   | APPROVALS#<brand>               | <submitted iso>#<msg id>   |
| held reply's record       | APPROVAL#<msg id>               | APPROVAL                   |
| history reply, by topic   | HIST#<brand>#<lang>#<topic>     | <at iso>#<entry id>        |
| history reply, by language| HISTLANG#<brand>#<lang>         | <at iso>#<entry id>        |
| who is on a ticket (TTL)  | VIEWERS#<brand>                 | AGENT#<agent id>           |

GSI1 is the inbox, by brand and write shard: GSI1PK = INBOX#<brand>#<shard 0..15> (`inbox_home`,
set once when the ticket opens), GSI1SK = <status>#<100-priority>#<0 unanswered|1 answered>#<sla due>#<id>
(`inbox_index`: an answered ticket below the unanswered ones of its priority, whatever its deadline); a
page merges the brand's shards (`inbox_partitions`, `inbox_range`), its cursor holds each shard's
position (`inbox_cursor`, `inbox_start`). It also groups the CRM records of one CRM customer:
GSI1PK = CRMREF#<ref>, GSI1SK = <platform>#<key>. Brands that had a ticket: BRANDS / BRAND#<brand>.
GSI2 buckets by minute: a ticket's SLA deadline (DUE#<yyyy-mm-ddThh:mm>#<shard 0..3>, `due_index`)
and a reply in flight (OUTBOUND#<minute>#<shard 0..3>, `outbound_in_flight`; `out_of_in_flight`
removes it); GSI3 the next re-drive of an unassigned ticket (REDRIVE#<minute>#<shard 0..3>,
`redrive_index`). `ticket_index_changes` derives the GSI2/GSI3 keys a ticket's change moves;
`new_ticket_keys` every index key of a ticket as it opens. Index ByAssignee is the ticket's own
`assignee` and `status` attributes (so it moves only when either does, never with priority or SLA). The sweeper's mark: SWEEPER / MARK.

A message's sort key alone (`message_sk`) travels in the outbound queue's requests and in the
pointers to a reply (`REPLYKEY`, `OUTMSG`); `message_by_sk` makes it a key again.

Reads, one function per access pattern; a query is `(PK, SK prefix)` (an empty prefix reads the
whole partition): `ticket_messages`, `customer_items`, `customer_events`, `accounts_of`,
`delivery_statuses`, `roster`, `all_teams`, `all_templates`, `rules_versions`, `corrections_of`;
`touchpoints_between` is `(PK, lowest SK, highest SK)`; the inbox reads GSI1 under
`inbox_partitions`, deadlines and re-drives under `due_partitions` / `redrive_partitions`, the
replies in flight under `in_flight_partitions` (minutes from `minutes_between`), a CRM customer's
records under `crm_ref_partition`; a scan for tickets matches `TICKET_SK`. `customer_item_kind` tells the items
of a customer's partition apart by sort key, and `customer_item` addresses one of them by it (a
merge moves them).

Not keys: `Mention.dedupe_key` (`<platform>#<external id>`) and `conversation_key`
(`<platform>#<account>#<conversation>`) are the domain's identifiers (kept on the ticket, hashed
into message ids, logged, read by the reply policy); `dedupe` and `conversation` take them whole.
`tests/unit/test_keys_only_in_keys.py` fails when a key-shaped literal (a prefix or whole value
written here) appears in any other module Lambda ships.
"""
from __future__ import annotations

import base64
import json
import zlib
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping, Optional

TICKET_SK = "TICKET"


def ticket(ticket_id: str) -> dict:
    return {"PK": f"TICKET#{ticket_id}", "SK": TICKET_SK}


def ticket_id_of(key: Mapping[str, Any]) -> str:
    """The ticket a ticket item's key (or an index entry carrying it) names."""
    return key["PK"].split("#", 1)[1]


MESSAGE_PREFIX = "MSG#"


def message_sk(created_iso: str, message_id: str) -> str:
    return f"{MESSAGE_PREFIX}{created_iso}#{message_id}"


def message(ticket_id: str, created_iso: str, message_id: str) -> dict:
    return message_by_sk(ticket_id, message_sk(created_iso, message_id))


def message_by_sk(ticket_id: str, sort_key: str) -> dict:
    return {"PK": f"TICKET#{ticket_id}", "SK": sort_key}


def ticket_messages(ticket_id: str) -> tuple[str, str]:
    """Query: a ticket's messages, notes and events, oldest first."""
    return f"TICKET#{ticket_id}", MESSAGE_PREFIX


def dedupe(dedupe_key: str) -> dict:
    return {"PK": f"EXT#{dedupe_key}", "SK": "EXT"}


def conversation(conversation_key: str) -> dict:
    return {"PK": f"CONV#{conversation_key}", "SK": "CONV"}


def identity(platform: str, user_id: str) -> dict:
    return {"PK": f"IDENTITY#{platform}#{user_id}", "SK": "IDENTITY"}


def customer(customer_id: str) -> dict:
    return {"PK": f"CUSTOMER#{customer_id}", "SK": "PROFILE"}


def customer_identity(customer_id: str, platform: str, user_id: str) -> dict:
    return {"PK": f"CUSTOMER#{customer_id}", "SK": f"IDENTITY#{platform}#{user_id}"}


def touchpoint(customer_id: str, created_iso: str, message_id: str) -> dict:
    return {"PK": f"CUSTOMER#{customer_id}", "SK": f"TOUCH#{created_iso}#{message_id}"}


def touchpoints_between(customer_id: str, since_iso: str) -> tuple[str, str, str]:
    """Query: a customer's touchpoints from `since_iso` on (PK, lowest SK, highest SK)."""
    return f"CUSTOMER#{customer_id}", f"TOUCH#{since_iso}", "TOUCH#\uffff"


def customer_event(customer_id: str, at_iso: str, event_id: str) -> dict:
    return {"PK": f"CUSTOMER#{customer_id}", "SK": f"EVENT#{at_iso}#{event_id}"}


def customer_events(customer_id: str) -> tuple[str, str]:
    """Query: a customer's imported events."""
    return f"CUSTOMER#{customer_id}", "EVENT#"


def customer_merge(survivor_id: str, merge_id: str) -> dict:
    return {"PK": f"CUSTOMER#{survivor_id}", "SK": f"MERGE#{merge_id}"}


def customer_items(customer_id: str) -> tuple[str, str]:
    """Query: everything in a customer's partition (profile, identities, touchpoints, events, merges)."""
    return f"CUSTOMER#{customer_id}", ""


def customer_item(customer_id: str, sort_key: str) -> dict:
    """An item of a customer's partition by its sort key (a merge moves them to another customer)."""
    return {"PK": f"CUSTOMER#{customer_id}", "SK": sort_key}


def customer_item_kind(sort_key: str) -> str:
    """What an item of a customer's partition is: profile, identity, touchpoint, event, merge ("" if none)."""
    if sort_key == "PROFILE":
        return "profile"
    kinds = {"IDENTITY": "identity", "TOUCH": "touchpoint", "EVENT": "event", "MERGE": "merge"}
    return kinds.get(sort_key.split("#", 1)[0], "") if "#" in sort_key else ""


ACCOUNTS_PK = "ACCOUNTS"


def account(platform: str, account_id: str) -> dict:
    return {"PK": ACCOUNTS_PK, "SK": f"ACCOUNT#{platform}#{account_id}"}


def accounts_of(platform: Optional[str] = None) -> tuple[str, str]:
    """Query: the brand accounts of one platform, or of all."""
    return ACCOUNTS_PK, (f"ACCOUNT#{platform}#" if platform else "ACCOUNT#")


def poll_cursor(platform: str, account_id: str) -> dict:
    return {"PK": ACCOUNTS_PK, "SK": f"POLL#{platform}#{account_id}"}


QUARANTINE_PK = "QUARANTINE"


def quarantine(received_iso: str, item_id: str) -> dict:
    return {"PK": QUARANTINE_PK, "SK": f"{received_iso}#{item_id}"}


def delivery_status(platform: str, external_id: str, at_iso: str, status: str) -> dict:
    return {"PK": f"OUTMSG#{platform}#{external_id}", "SK": f"STATUS#{at_iso}#{status}"}


def delivery_statuses(platform: str, external_id: str) -> tuple[str, str]:
    """Query: every delivery status recorded for one of our platform messages."""
    return f"OUTMSG#{platform}#{external_id}", "STATUS#"


def outbound_pointer(platform: str, external_id: str) -> dict:
    return {"PK": f"OUTMSG#{platform}#{external_id}", "SK": "OUT"}


def outbound_in_flight(created_iso: str, message_id: str) -> dict:
    """A reply in flight, in the minute of its creation (GSI2), until it is sent or fails."""
    return {"GSI2PK": in_flight_partition(minute(created_iso), _shard(message_id, OUTBOUND_SHARDS)),
            "GSI2SK": f"{created_iso}#{message_id}"}


def in_flight_partition(minute_text: str, shard: int) -> str:
    return f"OUTBOUND#{minute_text}#{shard}"


def in_flight_partitions(minute_text: str) -> list[str]:
    return [in_flight_partition(minute_text, n) for n in range(OUTBOUND_SHARDS)]


def out_of_in_flight() -> dict:
    """The changes that take a reply out of the in-flight index (its GSI2 key removed)."""
    return {"GSI2PK": None, "GSI2SK": None}


def reply_key(ticket_id: str, key: str) -> dict:
    return {"PK": f"TICKET#{ticket_id}", "SK": f"REPLYKEY#{key}"}


def agent(agent_id: str) -> dict:
    """An agent's own item: the whole record; assignment's load lands here, on no shared key."""
    return {"PK": f"AGENT#{agent_id}", "SK": "AGENT"}


ROSTER_PK = "ROSTER"


def roster_entry(agent_id: str) -> dict:
    """An agent on the roster: profile and presence only, written on their changes, never on load."""
    return {"PK": ROSTER_PK, "SK": f"AGENT#{agent_id}"}


def roster() -> tuple[str, str]:
    """Query: every agent's roster entry."""
    return ROSTER_PK, "AGENT#"


def legacy_agents() -> tuple[str, str]:
    """Query: the agent items of the single partition used before each agent had their own (moved
    by `store.agents.move_legacy_agents`)."""
    return "AGENTS", "AGENT#"


TEAMS_PK = "TEAMS"


def team(team_id: str) -> dict:
    return {"PK": TEAMS_PK, "SK": f"TEAM#{team_id}"}


def all_teams() -> tuple[str, str]:
    """Query: every team."""
    return TEAMS_PK, "TEAM#"


def sweep_mark() -> dict:
    """How far the SLA sweeper has read its minute buckets (one item, read and written once a minute)."""
    return {"PK": "SWEEPER", "SK": "MARK"}


def settings(name: str) -> dict:
    return {"PK": "SETTINGS", "SK": name}


TEMPLATES_PK = "TEMPLATES"


def template(template_id: str) -> dict:
    return {"PK": TEMPLATES_PK, "SK": f"TEMPLATE#{template_id}"}


def all_templates() -> tuple[str, str]:
    """Query: every reply template."""
    return TEMPLATES_PK, "TEMPLATE#"


INBOX_SHARDS = 16  # write shards of a brand's inbox (GSI1): bench measured 1.3 WCU a mention a shard at 8, so ~0.65 at 16
DUE_SHARDS = 4  # shards of one minute's SLA deadlines (GSI2)
REDRIVE_SHARDS = 4  # shards of one minute's re-drives of unassigned tickets (GSI3)
OUTBOUND_SHARDS = 4  # shards of one minute's replies in flight (GSI2)
NO_BRAND = "-"  # the inbox partition of a ticket stored without a brand


def _shard(text: str, shards: int) -> int:
    return zlib.crc32(text.encode()) % shards


def minute(iso: str) -> str:
    """The minute bucket of a time (`yyyy-mm-ddThh:mm`, in UTC)."""
    moment = datetime.fromisoformat(iso)
    return (moment.astimezone(timezone.utc) if moment.tzinfo else moment).isoformat()[:16]


def inbox_partition(brand: Optional[str], shard: int) -> str:
    """GSI1PK of one write shard of a brand's inbox."""
    return f"INBOX#{brand or NO_BRAND}#{shard}"


def inbox_partitions(brand: Optional[str]) -> list[str]:
    """Every write shard of a brand's inbox (a read merges them)."""
    return [inbox_partition(brand, n) for n in range(INBOX_SHARDS)]


def inbox_home(brand: Optional[str], ticket_id: str) -> dict:
    """The inbox shard a ticket lives in for good (set once, when it is opened)."""
    return {"GSI1PK": inbox_partition(brand, _shard(ticket_id, INBOX_SHARDS))}


def inbox_index(status: str, priority: int, sla_due_iso: str, ticket_id: str, answered: bool = False) -> dict:
    """The ticket's place in its brand's inbox (GSI1SK): status, then priority, then the unanswered
    before the answered (`Ticket.answered`: our reply is the latest word), then SLA due."""
    return {"GSI1SK": f"{status}#{100 - priority:03d}#{1 if answered else 0}#{sla_due_iso or ''}#{ticket_id}"}


def inbox_range(status: str, after: Optional[str] = None) -> tuple[str, str]:
    """Query: one status of an inbox shard, after a position (exclusive), as (lowest, highest) GSI1SK."""
    return (after + "\x00") if after else f"{status}#", f"{status}#\uffff"


def inbox_ticket_id(sort_key: str) -> str:
    """The ticket an inbox entry (GSI1SK) is."""
    return sort_key.rsplit("#", 1)[-1]


BRANDS_PK = "BRANDS"


def brand_entry(brand: Optional[str]) -> dict:
    """A brand in the registry of brands that have tickets (an admin's inbox reads them all)."""
    return {"PK": BRANDS_PK, "SK": f"BRAND#{brand or NO_BRAND}"}


def all_brands() -> tuple[str, str]:
    """Query: the registry of brands."""
    return BRANDS_PK, "BRAND#"


def brand_of_entry(sort_key: str) -> Optional[str]:
    brand = sort_key.split("#", 1)[1]
    return None if brand == NO_BRAND else brand


def minutes_between(first_minute: str, last_minute: str) -> list[str]:
    """Every minute bucket from one to the other, both included (`yyyy-mm-ddThh:mm`)."""
    moment, last = datetime.fromisoformat(first_minute), datetime.fromisoformat(last_minute)
    found = []
    while moment <= last:
        found.append(moment.isoformat()[:16])
        moment += timedelta(minutes=1)
    return found


def sla_due(status: str, priority: int, due_iso: str, ticket_id: str, answered: bool = False) -> dict:
    """A ticket's next SLA deadline with the index keys that move with it: its inbox place (GSI1SK,
    by the status, priority and answered flag given) and its due-minute bucket (GSI2)."""
    return {"sla_due_at": due_iso, **inbox_index(status, priority, due_iso, ticket_id, answered),
            **due_index(due_iso, ticket_id)}


def due_index(due_iso: Optional[str], ticket_id: str) -> dict:
    """A ticket's SLA deadline in the minute-bucketed due index (GSI2); no deadline, no entry."""
    if not due_iso:
        return {"GSI2PK": None, "GSI2SK": None}
    return {"GSI2PK": due_partition(minute(due_iso), _shard(ticket_id, DUE_SHARDS)),
            "GSI2SK": f"{due_iso}#{ticket_id}"}


def due_partition(minute_text: str, shard: int) -> str:
    """GSI2PK of the deadlines falling in one minute, one shard."""
    return f"DUE#{minute_text}#{shard}"


def due_partitions(minute_text: str) -> list[str]:
    return [due_partition(minute_text, n) for n in range(DUE_SHARDS)]


def redrive_index(at_iso: Optional[str], ticket_id: str) -> dict:
    """When an unassigned ticket goes back to the router (GSI3, bucketed by minute); None takes it out."""
    if not at_iso:
        return {"GSI3PK": None, "GSI3SK": None}
    return {"GSI3PK": redrive_partition(minute(at_iso), _shard(ticket_id, REDRIVE_SHARDS)),
            "GSI3SK": f"{at_iso}#{ticket_id}"}


def redrive_partition(minute_text: str, shard: int) -> str:
    return f"REDRIVE#{minute_text}#{shard}"


def redrive_partitions(minute_text: str) -> list[str]:
    return [redrive_partition(minute_text, n) for n in range(REDRIVE_SHARDS)]


def index_ticket_id(sort_key: str) -> str:
    """The ticket a due or re-drive entry (`<iso>#<ticket id>`) is."""
    return sort_key.rsplit("#", 1)[-1]


REDRIVE_AFTER = timedelta(minutes=2)  # an unassigned ticket goes back to the router this long after it started waiting


def later(iso: str, delta: timedelta) -> str:
    return (datetime.fromisoformat(iso) + delta).isoformat()


def ticket_index_changes(ticket_id: str, changes: Mapping[str, Any]) -> dict:
    """The index keys a ticket change moves along with it, derived here so no caller sets them: a
    new SLA deadline moves the ticket's due-minute bucket (GSI2); closing takes it out of the due and
    re-drive buckets; an assignee takes it out of the re-drive bucket, and losing one puts it back in."""
    derived: dict = {}
    if "sla_due_at" in changes:
        derived.update(due_index(changes["sla_due_at"], ticket_id))
    if changes.get("status") == "closed":
        derived.update(due_index(None, ticket_id), **redrive_index(None, ticket_id))
    elif "assignee" in changes:
        since = changes.get("waiting_since") or changes.get("updated_at")
        derived.update(redrive_index(later(since, REDRIVE_AFTER) if changes["assignee"] is None and since
                                          else None, ticket_id))
    return derived


def new_ticket_keys(ticket_id: str, brand: Optional[str], status: str, priority: int,
                    sla_due_at: Optional[str], waiting_since: Optional[str] = None) -> dict:
    """Every index key of a ticket as it is opened: its inbox shard and place, its deadline's
    minute, and, when it opens waiting for an agent (`waiting_since`: nobody could take it), its
    first re-drive. A ticket opened already assigned never writes the re-drive index."""
    found = {**inbox_home(brand, ticket_id), **inbox_index(status, priority, sla_due_at or "", ticket_id),
             **due_index(sla_due_at, ticket_id),
             **redrive_index(later(waiting_since, REDRIVE_AFTER) if waiting_since else None, ticket_id)}
    return {k: v for k, v in found.items() if v is not None}


_INBOX_CURSOR = ("status", "after")
_CURSOR_MAX = 1 << 16  # bytes a cursor may inflate to


def inbox_cursor(position: dict) -> str:
    """The page cursor the agent API hands out for an inbox position
    (`{"status", "after": {shard partition: last GSI1SK read, or None when that shard is done}}`)."""
    # compressed: the shards' positions repeat one another (a full page leaves them all at its last
    # entry), so 16 shards of a brand fit the API's 2,000 characters with room to spare
    packed = zlib.compress(json.dumps(position, sort_keys=True, separators=(",", ":")).encode(), 9)
    return base64.urlsafe_b64encode(packed).decode().rstrip("=")


def inbox_start(cursor: str, status: str) -> Optional[dict]:
    """The position of an inbox cursor given out for `status`; None for anything else. Its shards
    only say where to go on: the brands read are the caller's, never the cursor's."""
    try:
        packed = base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4))
        inflater = zlib.decompressobj()
        text = inflater.decompress(packed, _CURSOR_MAX)
        if inflater.unconsumed_tail:
            return None  # larger than any cursor this API gives out
        start = json.loads(text)
    except (ValueError, UnicodeDecodeError, zlib.error):
        return None
    if not isinstance(start, dict) or set(start) != set(_INBOX_CURSOR) or start["status"] != status:
        return None
    after = start["after"]
    if not isinstance(after, dict) or not all(
            isinstance(k, str) and k.startswith("INBOX#")
            and (v is None or (isinstance(v, str) and v.startswith(f"{status}#"))) for k, v in after.items()):
        return None
    return start


def rules_version(brand: str, version: int) -> dict:
    return {"PK": f"RULES#{brand}", "SK": f"V#{version:06d}"}


def rules_current(brand: str) -> dict:
    return {"PK": f"RULES#{brand}", "SK": "CURRENT"}


def rules_versions(brand: str) -> tuple[str, str]:
    """Query: every saved version of a brand's rules."""
    return f"RULES#{brand}", "V#"


def crm(platform: str, key: str) -> dict:
    return {"PK": f"CRM#{platform}#{key}", "SK": "CRM"}


def crm_ref_partition(ref: str) -> str:
    """GSI1PK grouping the CRM records of one CRM customer."""
    return f"CRMREF#{ref}"


def crm_ref_index(ref: str, platform: str, key: str) -> dict:
    return {"GSI1PK": crm_ref_partition(ref), "GSI1SK": f"{platform}#{key}"}


def correction(brand: str, at_iso: str, message_id: str) -> dict:
    return {"PK": f"CORRECTIONS#{brand}", "SK": f"{at_iso}#{message_id}"}


def corrections_of(brand: str) -> tuple[str, str]:
    """Query: a brand's corrections."""
    return f"CORRECTIONS#{brand}", ""


def model_pointer(brand: str) -> dict:
    """The brand's adapted sentiment model in force (classify/registry.py)."""
    return {"PK": f"MODEL#{brand}", "SK": "CURRENT"}


# -- reports and search (chalicelib/counters.py, chalicelib/search.py), written by the stream handler --
def counter_hour(brand: str, hour: str) -> dict:
    """A brand's counters of the tickets created in one hour (`yyyy-mm-ddThh`, UTC)."""
    return {"PK": f"COUNT#{brand}#{hour}", "SK": "HOUR"}


def gauge(brand: str) -> dict:
    """A brand's queue gauges: tickets per status, open ones per team and language."""
    return {"PK": f"GAUGE#{brand}", "SK": "GAUGE"}


def search_partition(brand: str, token: str) -> str:
    """PK of the brand's tickets holding one search token."""
    return f"SEARCH#{brand}#{token}"


def search_entry(brand: str, token: str, created_iso: str, ticket_id: str) -> dict:
    """One ticket under one token, newest first when read backwards."""
    return {"PK": search_partition(brand, token), "SK": f"{created_iso}#{ticket_id}"}


def search_ticket_id(entry: dict) -> str:
    """The ticket an entry of a token partition names."""
    return entry["SK"].rsplit("#", 1)[1]


def search_cursor(entry: dict) -> str:
    """The page cursor after a token partition's `entry` (base64 JSON of its key)."""
    return base64.urlsafe_b64encode(json.dumps({"PK": entry["PK"], "SK": entry["SK"]}).encode()).decode()


def search_start(cursor: str, brand: str, token: str) -> Optional[dict]:
    """The key a search cursor names, only if it is in that brand's token partition; None otherwise."""
    try:
        start = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError):
        return None
    if (not isinstance(start, dict) or set(start) != {"PK", "SK"} or not all(isinstance(v, str) for v in start.values())
            or start["PK"] != search_partition(brand, token)):
        return None
    return start


# -- who is on a ticket (chalicelib/collab.py, store/presence.py): one item an agent a brand ------
def viewer(brand: Optional[str], agent_id: str) -> dict:
    """Where an agent is in a brand's tickets now (`ticket_id`, `state`), overwritten by each
    heartbeat and gone by TTL: the brand's partition holds at most one item per agent."""
    return {"PK": f"VIEWERS#{brand or NO_BRAND}", "SK": f"AGENT#{agent_id}"}


def viewers_of(brand: Optional[str]) -> tuple[str, str]:
    """Query: every agent's place in a brand's tickets (an inbox page, a ticket view, a heartbeat)."""
    return f"VIEWERS#{brand or NO_BRAND}", "AGENT#"


# -- a brand's reply history, for suggested answers (chalicelib/history) ------------------------
HISTORY_ANY = "-"  # the language or topic part of an entry that has none


def history_partition(brand: str, language: Optional[str], topic: Optional[str]) -> str:
    """PK of the brand's replies in one language on one topic."""
    return f"HIST#{brand}#{language or HISTORY_ANY}#{topic or HISTORY_ANY}"


def history_language_partition(brand: str, language: Optional[str]) -> str:
    """PK of the brand's replies in one language, any topic (the fallback when a topic is thin)."""
    return f"HISTLANG#{brand}#{language or HISTORY_ANY}"


def history_entries(brand: str, language: Optional[str], topic: Optional[str], at_iso: str,
                    entry_id: str) -> list[dict]:
    """The two items of one history entry: in its (language, topic) partition and in its language's,
    each sorted by when it was written then its id, so a query read backwards is newest first."""
    sort_key = f"{at_iso}#{entry_id}"
    return [{"PK": history_partition(brand, language, topic), "SK": sort_key},
            {"PK": history_language_partition(brand, language), "SK": sort_key}]


# -- approvals of public replies (chalicelib/approvals.py, store/approvals.py) -----------------
def approval_entry(brand: Optional[str], submitted_iso: str, message_id: str) -> dict:
    """A reply waiting for a supervisor, in its brand's approvals queue (oldest first); deleted when
    it is decided, so the partition holds only what is pending."""
    return {"PK": approvals_partition(brand), "SK": f"{submitted_iso}#{message_id}"}


def approvals_partition(brand: Optional[str]) -> str:
    """PK of a brand's approvals queue."""
    return f"APPROVALS#{brand or NO_BRAND}"


def approval(message_id: str) -> dict:
    """A held reply's record by its id: where it is (ticket, sort key) and whose (brand); it stays
    after the decision (with the table's TTL) so a second decision is told it was decided."""
    return {"PK": f"APPROVAL#{message_id}", "SK": "APPROVAL"}


def approvals_cursor(position: Mapping[str, str]) -> str:
    """The page cursor of an approvals read: {brand: the last queue SK given out} for each brand with more."""
    return base64.urlsafe_b64encode(json.dumps(dict(position), sort_keys=True).encode()).decode().rstrip("=")


def approvals_start(cursor: str) -> Optional[dict]:
    """The position an approvals cursor names ({brand: SK}); None for anything else. The brands read
    are the caller's, never the cursor's."""
    try:
        start = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(start, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in start.items()):
        return None
    return start
