"""Channel health (every 15 minutes): notice a dead channel before its customers do.

For the connected (`active`) accounts, three questions:
* **silent** — has a channel that is usually busy had nothing for hours? Read per (brand, channel),
  not per account: the hour counters (counters.py, kept from the table's stream) count a brand's
  *tickets created* per channel (`ch:<channel>`), not mentions and not per account. So a brand's
  channel whose last QUIET_HOURS complete hours (and the current hour so far) opened no ticket is
  flagged when at least MIN_EXPECTED were expected (`expected`): P(nothing | Poisson mean 10) is
  e^-10 ≈ 0.005 %, so a quiet brand never pages. The expectation is the least of three figures read
  from the BASELINE_DAYS before the window: the average rate over those days, the median of the same
  clock hours on each of those days (a brand quiet at night is not expected to be busy at night) and
  the same hours a week ago (nor at weekends). The problem names every account of the brand on the
  channel. A stream that stopped counting silences every channel: that pages too, rightly.
* **token** — does the platform still take the account's token? X: `GET /2/users/me` with the
  user token; an X access token lives 2 hours, so a refused one with a refresh token is refreshed
  as the outbound worker would (`outbound.credentials.refresh`, the new pair written back for every
  container) and only a refused refresh is a problem. Facebook, Instagram: `GET /{id}/subscribed_apps`
  with the account's token answers the token and the subscription in one call; WhatsApp the same on
  its business account when the account's secret names `waba_id`, else `GET /{phone-number-id}`
  (token only). Graph error 190 is the token: subcode 463 expired, 458/460/467 revoked
  (https://developers.facebook.com/docs/graph-api/guides/error-handling). A token whose secret
  says `expires_at` (epoch seconds or ISO time) within EXPIRY_WARNING is `token_expiring`.
* **subscription** — does the platform still deliver the account's webhooks? Meta: the
  `subscribed_apps` above is empty, or lacks `META_APP_ID` when the platform secret names it. X: the
  app's webhooks (`GET /2/account_activity/webhooks`, app bearer `X_BEARER_TOKEN`, once a run) has
  none `valid` (X re-checks the CRC and invalidates a webhook that fails), or the account's own
  `GET /2/account_activity/webhooks/{id}/subscriptions/all` (user context) says not subscribed
  (https://docs.x.com/x-api/account-activity/introduction). An X account the poller reads (`poll`)
  has no subscription to check; without X_BEARER_TOKEN no X subscription is checked.
Email and API channel accounts have no token or subscription to check: only their silence is.

Each problem is one `ChannelUnhealthy` (dimension `channel`; `account_id`, `brand`, `reason` and
`detail` as EMF properties) and one log line; a healthy account, nothing. A check that fails (a
platform down or timing out, a missing secret, a bug) is that account's problem
(`platform_unreachable`, `no_credentials`, `check_failed`), never the run's; a platform's rate limit
is not a dead channel (logged, not reported). Bounded: BASELINE_DAYS×24 + QUIET_HOURS + 1 counter
items per brand (never the tickets), each account's secret read afresh, one platform call per check
(X: a refresh and one more call only after X refused the token), each CHECK_TIMEOUT at most, WORKERS
accounts at once.

Imports: counters, outbound.credentials, channels (http, meta.graph, x.credentials, the packages'
ids), store, config, observability, models.
"""
from __future__ import annotations

import statistics
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Optional, Sequence

from chalicelib import counters
from chalicelib.aggregates.account import Account
from chalicelib.channels import http
from chalicelib.channels.facebook import ID as FACEBOOK
from chalicelib.channels.instagram import ID as INSTAGRAM
from chalicelib.channels.meta import graph
from chalicelib.channels.whatsapp import ID as WHATSAPP
from chalicelib.channels.x import ID as X
from chalicelib.channels.x.credentials import refresh_grant
from chalicelib.config import secrets, settings
from chalicelib.errors import MissingCredential, Retry
from chalicelib.models import utcnow
from chalicelib.observability import M, count, logger
from chalicelib.outbound import credentials
from chalicelib.store import keys

QUIET_HOURS = 3  # complete hours with nothing before a channel counts as silent
BASELINE_DAYS = 7  # what "usual" is read from
MIN_EXPECTED = 10.0  # Poisson: P(0 | 10) = e^-10
EXPIRY_WARNING = timedelta(days=7)
CHECK_TIMEOUT = 5.0  # seconds, each platform call
WORKERS = 8  # accounts checked at once
DETAIL_LIMIT = 300

SILENT = "silent"
TOKEN_EXPIRED = "token_expired"
TOKEN_EXPIRING = "token_expiring"
TOKEN_REVOKED = "token_revoked"
TOKEN_REJECTED = "token_rejected"  # refused, the platform does not say why
SUBSCRIPTION_STOPPED = "subscription_stopped"
PLATFORM_UNREACHABLE = "platform_unreachable"
NO_CREDENTIALS = "no_credentials"
CHECK_FAILED = "check_failed"
GRAPH_REVOKED = {458, 460, 467}  # app removed, password changed, logged out
GRAPH_EXPIRED = 463


@dataclass(frozen=True)
class Problem:
    channel: str
    reason: str
    account_id: str = ""
    brand: str = ""
    detail: str = ""


@dataclass
class Run:
    """What a run knows once, for every account: the moment, the platform secrets' names it needs,
    and X's webhooks (None: not checked; `x_webhooks_problem` when listing them failed)."""

    now: datetime
    meta_app_id: str = ""
    x_webhooks: Optional[list] = None
    x_webhooks_problem: Optional[tuple[str, str]] = None
    rate_limited: list = field(default_factory=list)


# -- the whole run ------------------------------------------------------------------------------
def run(store: Any, now: Optional[datetime] = None) -> dict:
    """Check every active account and report each problem. A failure to read the counters is
    raised after the accounts were checked and reported (the function's error alarm sees it)."""
    moment = now or utcnow()
    accounts = [a for a in store.accounts.all() if a.status == "active"]
    problems, failure = [], None
    problems += check_accounts(accounts, moment)
    try:
        problems += silent_channels(store.table, accounts, moment)
    except Exception as err:  # noqa: BLE001 - reported after the account checks
        failure = err
        logger.exception("Channel health: the hour counters could not be read")
    for problem in problems:
        report(problem)
    summary = {"accounts": len(accounts), "problems": [asdict(p) for p in problems]}
    logger.info("Channel health checked", extra={"accounts": len(accounts), "problems": len(problems)})
    if failure is not None:
        raise failure
    return summary


def report(problem: Problem) -> None:
    """One metric and one log line; `detail` never holds a token (platform messages and ours)."""
    properties = {"account_id": problem.account_id, "brand": problem.brand, "reason": problem.reason,
                  "detail": problem.detail[:DETAIL_LIMIT]}
    count(M.CHANNEL_UNHEALTHY, problem.channel, **properties)
    logger.warning("Channel unhealthy", extra={"channel": problem.channel, **properties})


# -- silence: per (brand, channel), from the hour counters ---------------------------------------
def expected(hourly: Sequence[int]) -> float:
    """What the last QUIET_HOURS of `hourly` (complete hours, oldest first, BASELINE_DAYS×24 of
    baseline before them) were expected to hold: the least of the baseline's average over that
    many hours, the median of the same clock hours on each baseline day, and those hours a week ago."""
    window, baseline = QUIET_HOURS, list(hourly[:-QUIET_HOURS])
    if len(baseline) < BASELINE_DAYS * 24:
        baseline = [0] * (BASELINE_DAYS * 24 - len(baseline)) + baseline  # no history: nothing expected
    baseline = baseline[-BASELINE_DAYS * 24:]
    average = sum(baseline) / len(baseline) * window
    end = len(baseline)  # the window starts here, one day on from the baseline's same hours
    same_hours = [sum(baseline[end - day * 24 + i] for i in range(window)) for day in range(1, BASELINE_DAYS + 1)]
    return float(min(average, statistics.median(same_hours), same_hours[-1]))


def unexpected_silence(hourly: Sequence[int], current: int = 0) -> Optional[float]:
    """The expected count when the quiet window (the last QUIET_HOURS of `hourly`) and the current
    hour so far (`current`) had nothing though at least MIN_EXPECTED were expected; else None."""
    if current or any(hourly[-QUIET_HOURS:]):
        return None
    mean = expected(hourly)
    return mean if mean >= MIN_EXPECTED else None


def hours_read(moment: datetime) -> list[str]:
    """The hours the silence rule reads (`yyyy-mm-ddThh`, oldest first): the baseline, the quiet
    window and, last, the current hour."""
    top = moment.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
    span = BASELINE_DAYS * 24 + QUIET_HOURS
    return [counters.hour_of((top - timedelta(hours=back)).isoformat()) for back in range(span, -1, -1)]


def silent_channels(table: Any, accounts: Iterable[Account], moment: datetime) -> list[Problem]:
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for account in accounts:
        groups[(account.brand or counters.DEFAULT_BRAND, account.platform)].append(account.account_id)
    if not groups:
        return []
    brands, hours = sorted({brand for brand, _ in groups}), hours_read(moment)
    where = {keys.counter_hour(brand, hour)["PK"]: (brand, hour) for brand in brands for hour in hours}
    found: dict[tuple[str, str], dict] = {}
    for item in counters.read_hours(table, brands, hours):
        if item.get("PK") in where:
            found[where[item["PK"]]] = item
    problems = []
    for (brand, channel), ids in sorted(groups.items()):
        series = [int((found.get((brand, hour)) or {}).get(f"ch:{channel}") or 0) for hour in hours]
        mean = unexpected_silence(series[:-1], series[-1])
        if mean is not None:
            problems.append(Problem(channel, SILENT, ",".join(sorted(ids)), brand,
                                    f"no new ticket on {channel} for {QUIET_HOURS} hours; about "
                                    f"{mean:.0f} expected"))
    return problems


# -- tokens and subscriptions: per account, against the platform ---------------------------------
def check_accounts(accounts: list[Account], moment: datetime) -> list[Problem]:
    checked = [a for a in accounts if a.platform in CHECKS]
    if not checked:
        return []
    credentials.reset()  # each run reads the secrets afresh: an admin may have reconnected an account
    context = Run(now=moment)
    try:
        found = secrets()
        context.meta_app_id = found.get("META_APP_ID") or ""
        if any(a.platform == X and not a.poll for a in checked):
            _list_x_webhooks(context, found.get("X_BEARER_TOKEN") or "")
    except Exception as err:  # noqa: BLE001 - the accounts are still checked, each on its own
        logger.exception("Channel health: the platform secret could not be read")
        context.x_webhooks_problem = (CHECK_FAILED, f"the platform secret could not be read: {type(err).__name__}")
    with ThreadPoolExecutor(max_workers=min(WORKERS, len(checked))) as pool:
        found_problems = list(pool.map(lambda account: check_account(account, context), checked))
    if context.rate_limited:
        logger.info("Channel health: rate limited, not checked", extra={"accounts": context.rate_limited})
    return [p for problems in found_problems for p in problems]


def check_account(account: Account, context: Run) -> list[Problem]:
    """The account's problems; never raises."""
    def problem(reason: str, detail: str) -> Problem:
        return Problem(account.platform, reason, account.account_id, account.brand or "", detail)

    try:
        credential = credentials.get(account.platform, account.account_id)
        return [problem(*found) for found in CHECKS[account.platform](account, credential, context)]
    except MissingCredential as err:
        return [problem(NO_CREDENTIALS, str(err))]
    except Retry as err:
        return [problem(PLATFORM_UNREACHABLE, str(err))]
    except Exception as err:  # noqa: BLE001 - one account's failure is that account's problem
        logger.exception("Channel health check failed", extra={"platform": account.platform,
                                                                "account_id": account.account_id})
        return [problem(CHECK_FAILED, f"{type(err).__name__} while checking the account")]


def _get(url: str, token: str) -> http.Reply:
    return http.http("GET", url, token=token, timeout=min(CHECK_TIMEOUT, http.TIMEOUT_SECONDS))


def _expiring(credential: Any, now: datetime) -> list[tuple[str, str]]:
    """`token_expiring` when the stored `expires_at` is within EXPIRY_WARNING (whether the token
    works now, the platform has just said)."""
    at = _expiry(credential.get("expires_at"))
    if at is not None and timedelta(0) < at - now <= EXPIRY_WARNING:
        return [(TOKEN_EXPIRING, f"the token expires on {at.isoformat()}; reconnect the account before then")]
    return []


def _expiry(raw: Any) -> Optional[datetime]:
    """`expires_at` as epoch seconds (Meta's debug_token; 0 is never) or an ISO time; None if neither."""
    if raw in (None, ""):
        return None
    try:
        seconds = float(raw)
    except (TypeError, ValueError):
        try:
            at = datetime.fromisoformat(str(raw))
        except ValueError:
            return None
        return at if at.tzinfo else at.replace(tzinfo=timezone.utc)
    try:
        return datetime.fromtimestamp(seconds, timezone.utc) if seconds > 0 else None
    except (OverflowError, OSError, ValueError):
        return None


# X -------------------------------------------------------------------------------------------
def _x_url(path: str) -> str:
    return settings().x_api_base + path


def _x_refused(reply: http.Reply, context: Run, account_id: str) -> Optional[tuple[str, str]]:
    """What an X answer other than 200 and 401 says: nothing (a rate limit), or the problem."""
    if reply.status == 429:
        context.rate_limited.append(account_id)
        return None
    body = reply.body if isinstance(reply.body, dict) else {}
    detail = str(body.get("detail") or body.get("title") or reply.status)
    if reply.status >= 500:
        return PLATFORM_UNREACHABLE, f"X answered {reply.status}: {detail}"
    return CHECK_FAILED, f"X refused the check ({reply.status}): {detail}"


def _check_x(account: Account, credential: Any, context: Run) -> list[tuple[str, str]]:
    me = _get(_x_url("/2/users/me"), credential.token)
    if me.status == 401:
        if not credential.get("refresh_token"):
            return [(TOKEN_REJECTED, "X refused the access token and no refresh token is stored; reconnect the account")]
        try:
            credential = credentials.refresh(credential, refresh_grant)
        except MissingCredential as err:
            return [(TOKEN_REVOKED, str(err))]
        me = _get(_x_url("/2/users/me"), credential.token)
        if me.status == 401:
            return [(TOKEN_REVOKED, "X refused the account's refreshed token; reconnect the account")]
    if me.status != 200:
        refused = _x_refused(me, context, account.account_id)
        return [refused] if refused else []
    problems = [] if credential.get("refresh_token") else _expiring(credential, context.now)
    if not account.poll:
        problems += _x_subscription(account, credential, context)
    return problems


def _list_x_webhooks(context: Run, bearer: str) -> None:
    """The app's webhooks, once a run (app-only bearer); none checked without X_BEARER_TOKEN."""
    if not bearer:
        logger.info("Channel health: no X_BEARER_TOKEN, X subscriptions not checked")
        return
    try:
        reply = _get(_x_url("/2/account_activity/webhooks"), bearer)
    except Retry as err:
        context.x_webhooks_problem = (PLATFORM_UNREACHABLE, f"listing X's webhooks: {err}")
        return
    if reply.status == 200:
        data = (reply.body or {}).get("data") if isinstance(reply.body, dict) else None
        context.x_webhooks = [h for h in data or [] if isinstance(h, dict)]
    elif reply.status != 429:
        refused = _x_refused(reply, context, "")
        context.x_webhooks_problem = (refused[0], f"listing the app's webhooks: {refused[1]}") if refused else None


def _x_subscription(account: Account, credential: Any, context: Run) -> list[tuple[str, str]]:
    if context.x_webhooks_problem:
        return [context.x_webhooks_problem]
    if context.x_webhooks is None:
        return []
    valid = [h for h in context.x_webhooks if h.get("valid") and h.get("id")]
    if not valid:
        what = "invalid (it failed X's CRC check)" if context.x_webhooks else "gone"
        return [(SUBSCRIPTION_STOPPED, f"the app's X webhook is {what}: X delivers nothing")]
    webhook = graph.seg(str(valid[0]["id"]))
    reply = _get(_x_url(f"/2/account_activity/webhooks/{webhook}/subscriptions/all"), credential.token)
    if reply.status == 200:
        data = (reply.body or {}).get("data") if isinstance(reply.body, dict) else None
        if isinstance(data, dict) and data.get("subscribed") is True:
            return []
        return [(SUBSCRIPTION_STOPPED, "the account is not subscribed to the app's X webhook")]
    refused = _x_refused(reply, context, account.account_id)
    return [refused] if refused else []


# Meta (Facebook, Instagram, WhatsApp) ----------------------------------------------------------
def _graph_refused(reply: http.Reply, context: Run, account_id: str) -> Optional[tuple[str, str]]:
    """What a Graph answer other than 2xx says: the token's problem, the platform's, or nothing (a
    rate limit)."""
    body = reply.body if isinstance(reply.body, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    code, subcode = error.get("code"), error.get("error_subcode")
    message = str(error.get("message") or f"HTTP {reply.status}")
    if code == 190:
        if subcode == GRAPH_EXPIRED:
            return TOKEN_EXPIRED, f"Meta: {message}"
        if subcode in GRAPH_REVOKED:
            return TOKEN_REVOKED, f"Meta: {message}"
        return TOKEN_REJECTED, f"Meta: {message}"
    if reply.status == 429 or code in graph.RATE_CODES:
        context.rate_limited.append(account_id)
        return None
    if reply.status >= 500 or error.get("is_transient") or code in graph.TRANSIENT_CODES:
        return PLATFORM_UNREACHABLE, f"Meta answered {reply.status}: {message}"
    return CHECK_FAILED, f"Meta refused the check ({code or reply.status}): {message}"


def _check_meta(account: Account, credential: Any, context: Run) -> list[tuple[str, str]]:
    node = account.account_id if account.platform != WHATSAPP else credential.get("waba_id")
    if node:
        reply = _get(graph.url(f"/{graph.seg(node)}/subscribed_apps"), credential.token)
    else:  # a WhatsApp number without its business account: the token alone
        reply = _get(graph.url(f"/{graph.seg(account.account_id)}?fields=id"), credential.token)
    if not 200 <= reply.status < 300:
        refused = _graph_refused(reply, context, account.account_id)
        return [refused] if refused else []
    problems = _expiring(credential, context.now)
    if node:
        data = (reply.body or {}).get("data") if isinstance(reply.body, dict) else None
        apps = [str(app.get("id")) for app in data or [] if isinstance(app, dict)]
        if not apps or (context.meta_app_id and context.meta_app_id not in apps):
            problems.append((SUBSCRIPTION_STOPPED, f"the app is not subscribed to {node}'s webhooks: Meta "
                                                   f"delivers nothing"))
    return problems


CHECKS: dict[str, Callable[[Account, Any, Run], list[tuple[str, str]]]] = {
    X: _check_x, FACEBOOK: _check_meta, INSTAGRAM: _check_meta, WHATSAPP: _check_meta}
