"""The SLA sweeper (every minute): warn before a breach, escalate a breach, re-drive stuck work,
publish the queues' gauges.

For the open or on-hold tickets the minute buckets name (pending tickets wait on the customer: their
clock is paused), never the whole inbox: deadlines since the last sweep, deadlines a warning's lead
ahead, and unassigned tickets whose re-drive came (GSI2 and GSI3, store/keys.py):
* **warning** once per deadline, when less than a fifth of the target (at least 5 minutes) is
  left: `SLAWarnings`, and `sla_warned_for` on the ticket;
* **breach** once per deadline: `SLABreaches`, the priority goes up by `BREACH_BUMP` (so it rises
  in every inbox), the ticket is tagged `sla-breached`, and if nobody online holds it, it goes
  back to the router, which then prefers the strongest agents;
* **stuck**: unassigned for more than `STUCK_AFTER` (a routing message lost or nobody was free)
  goes back to the router, and its next re-drive waits as long again as it has waited (backoff, at
  most `REDRIVE_BACKOFF_MAX`).
Gauges per team: `QueueBacklog` (tickets nobody holds) and `OldestWaiting` (seconds), of the
tickets this sweep read. And agents' loads audited against what they hold (`audit_loads`).
Every write is conditional on the version read; a ticket an agent changed meanwhile is left for
the next sweep.
"""
from __future__ import annotations

import zlib
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Callable, Optional

from chalicelib import desk_settings, queues, sla
from chalicelib.aggregates.ticket import Ticket
from chalicelib.config import settings
from chalicelib.errors import ConcurrentUpdate
from chalicelib.models import RoutingRequest, utcnow
from chalicelib.observability import M, count, gauge, logger
from chalicelib.outbound import replies
from chalicelib.store import keys
from chalicelib.store.dynamodb import DynamoStore

BREACH_BUMP = 10
STUCK_AFTER = timedelta(minutes=2)
WARN_SHARE = 0.2
WARN_AT_LEAST = timedelta(minutes=5)
SWEPT = ("open", "on_hold")
SWEEP_BACK = timedelta(minutes=2)  # how far back the first sweep reads (no mark yet)
RUN_MINUTES = timedelta(minutes=60)  # at most this many minutes of buckets a run (a gap is caught up run by run)
CATCH_UP_LIMIT = timedelta(hours=24)  # deadlines older than this when the sweeper comes back are not looked at
REDRIVE_BACKOFF_MAX = timedelta(minutes=30)  # an unassigned ticket goes back to the router at least this often
AUDIT_PER_RUN = 20  # agents whose load a run audits, all of them up to this many
AUDIT_SLICES = 15  # beyond, a fifteenth a run: every agent every 15 minutes
DRIFT_SETTLE = timedelta(minutes=5)  # a mismatch repaired only when it held this long, unchanged


def sweep(store: DynamoStore, send: Callable[[str], None], now: Optional[datetime] = None) -> dict:
    """One minute's work, read from the minute buckets only: the deadlines that fell since the last
    sweep (breaches), those a warning's lead ahead (one window per lead among the SLA bands), and the
    unassigned tickets whose re-drive came. Each bucket is read from the minute the last sweep
    reached (`store.sweep_mark`; SWEEP_BACK for the first) to this one, at most RUN_MINUTES of them,
    so a missed run is caught up and nothing else is read, however many tickets are open."""
    moment = now or utcnow()
    policy = desk_settings.cached_settings(store, "sla")
    mark = store.sweep_mark()
    since = min(max(datetime.fromisoformat(mark), moment - CATCH_UP_LIMIT) if mark else moment - SWEEP_BACK, moment)
    through = min(moment, since + RUN_MINUTES)  # a long gap is caught up RUN_MINUTES a run, none lost
    seen: dict[str, Ticket] = {}
    for ticket in store.tickets.due_between(keys.minute(since.isoformat()), keys.minute(through.isoformat())):
        seen[ticket.id] = ticket
    for lead in sorted({_lead(band) for band in policy["bands"]} | {_lead(None)}):
        for ticket in store.tickets.due_between(keys.minute((since + lead).isoformat()),
                                                keys.minute((through + lead).isoformat())):
            seen.setdefault(ticket.id, ticket)
    redrives = store.tickets.redrives_between(keys.minute(since.isoformat()), keys.minute(through.isoformat()))
    for ticket in redrives:
        seen.setdefault(ticket.id, ticket)
    summary = {"warned": 0, "breached": 0, "rerouted": 0, "tickets": 0}
    backlog: dict = defaultdict(list)
    online: Optional[set] = None
    for ticket in seen.values():
        if ticket.status not in SWEPT:
            continue
        summary["tickets"] += 1
        if not ticket.assignee:
            backlog[ticket.team or "default"].append(ticket)
        if online is None and (ticket.sla_due_at and datetime.fromisoformat(ticket.sla_due_at) <= moment):
            online = {a.id for a in store.agents.all() if a.status == "online"}  # only when something breaches
        outcome = _check(store, ticket, policy, moment, online or set(), send, sla)
        for key in outcome:
            summary[key] += 1
    for team, waiting in backlog.items():
        oldest = min(datetime.fromisoformat(t.waiting_since or t.created_at) for t in waiting)
        gauge(M.QUEUE_BACKLOG, len(waiting), team=team)
        gauge(M.OLDEST_WAITING, max((moment - oldest).total_seconds(), 0), unit="Seconds", team=team)
    store.set_sweep_mark(through.isoformat())
    return summary


def _lead(band: Optional[dict]) -> timedelta:
    """How long before its deadline a ticket of the band is warned."""
    target = timedelta(minutes=band["first_response_minutes"]) if band else timedelta(hours=1)
    return max(target * WARN_SHARE, WARN_AT_LEAST)


def _check(store: DynamoStore, ticket: Ticket, policy: dict, moment: datetime, online: set, send, sla) -> list[str]:
    done: list[str] = []
    due_text = ticket.sla_due_at
    if due_text:
        due = datetime.fromisoformat(due_text)
        band = next((b for b in policy["bands"] if b["name"] == ticket.sla_band), None)
        warn_from = due - _lead(band)
        if moment >= due and ticket.sla_breached_for != due_text:
            if _breach(store, ticket, due_text, moment):
                done.append("breached")
                if ticket.assignee not in online:
                    _reroute(ticket, send)
                    done.append("rerouted")
                return done
        elif warn_from <= moment < due and ticket.sla_warned_for != due_text:
            if _mark(store, ticket, {"sla_warned_for": due_text}):
                count(M.SLA_WARNINGS, (ticket.channel or "unknown"), ticket_id=ticket.id, due=due_text)
                done.append("warned")
    since = ticket.waiting_since or ticket.created_at
    if not ticket.assignee and since:
        waited = moment - datetime.fromisoformat(since)
        if waited > STUCK_AFTER and "rerouted" not in done:
            _reroute(ticket, send)
            done.append("rerouted")
        if waited > STUCK_AFTER:  # back off: the next re-drive after as long again as it waited
            store.tickets.redrive_later(ticket, (moment + min(max(waited, STUCK_AFTER), REDRIVE_BACKOFF_MAX)).isoformat())
    return done


def _breach(store: DynamoStore, ticket: Ticket, due_text: str, moment: datetime) -> bool:
    priority = min(ticket.priority + BREACH_BUMP, 100)
    tags = sorted(set(ticket.tags or []) | {"sla-breached"})
    changes = {"sla_breached_for": due_text, "priority": priority, "tags": tags, "escalated_at": moment.isoformat(),
               **keys.inbox_index(ticket.status, priority, due_text, ticket.id, ticket.answered)}
    if not _mark(store, ticket, changes):
        return False
    count(M.SLA_BREACHES, (ticket.channel or "unknown"), ticket_id=ticket.id, due=due_text,
          band=ticket.sla_band or "")
    logger.warning("SLA breached", extra={"ticket_id": ticket.id, "due": due_text,
                                          "assignee": ticket.assignee})
    return True


def _mark(store: DynamoStore, ticket: Ticket, changes: dict) -> bool:
    try:
        store.tickets.update(ticket.id, ticket.version, changes)
        return True
    except ConcurrentUpdate:
        return False  # an agent changed it: the next sweep looks again


def _reroute(ticket: Ticket, send) -> None:
    send(RoutingRequest(ticket_id=ticket.id, message_id="", reason="new_message",
                        priority=ticket.priority, language=ticket.language).model_dump_json())


def audit_loads(store: DynamoStore, now: Optional[datetime] = None) -> dict:
    """Repair an agent's load that no longer counts what they hold (a crash between the router's
    reservation and the ticket's put leaves it one over: the agent would get less work for good).
    Each run audits the roster's agents, all of them while there are at most AUDIT_PER_RUN, else
    one AUDIT_SLICES-th of them by id (every agent every AUDIT_SLICES minutes): their own items,
    then what each holds, counted on ByAssignee (keys only). A mismatch is noted first and repaired
    only when the next audit, at least DRIFT_SETTLE later, finds the same load and the same count:
    a reservation whose ticket is being put that moment never looks like drift for that long.
    `LoadDriftRepaired` per repair (dimension `channel`: "desk")."""
    moment = now or utcnow()
    roster = store.agents.roster()
    if len(roster) > AUDIT_PER_RUN:
        turn = int(moment.timestamp() // 60) % AUDIT_SLICES
        roster = [a for a in roster if zlib.crc32(a.id.encode()) % AUDIT_SLICES == turn]
    summary = {"audited": 0, "noted": 0, "repaired": 0}
    for agent in store.agents.get_many(a.id for a in roster):
        held = store.tickets.held_count(agent.id)
        summary["audited"] += 1
        drift = agent.load_drift or {}
        if agent.load == held:
            if drift:
                store.agents.clear_drift(agent.id)
            continue
        settled = drift.get("load") == agent.load and drift.get("held") == held and drift.get("at") and \
            moment - datetime.fromisoformat(drift["at"]) >= DRIFT_SETTLE
        if settled and store.agents.settle_load(agent.id, agent.load, held):
            summary["repaired"] += 1
            count(M.LOAD_DRIFT_REPAIRED, "desk", agent_id=agent.id, load=agent.load, held=held)
            logger.warning("agent load repaired", extra={"agent_id": agent.id, "load": agent.load, "held": held})
        elif not settled and (drift.get("load"), drift.get("held")) != (agent.load, held):
            store.agents.note_drift(agent.id, agent.load, held, moment.isoformat())
            summary["noted"] += 1
    return summary


def run(store: DynamoStore) -> dict:

    summary = sweep(store, lambda body: queues.send(settings().routing_queue_url, body))
    summary["replies_redriven"] = replies.redrive(store, lambda body: queues.send(settings().outbound_queue_url,
                                                                                 body), utcnow())
    summary["loads"] = audit_loads(store)
    return summary
