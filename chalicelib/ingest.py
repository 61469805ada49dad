"""Webhook use case: verify ▸ parse ▸ normalise ▸ enqueue, or refuse, or quarantine.

Order matters: a body too large is refused before anything else (413); a missing or wrong
signature is refused before any write (401); a signed body that is not JSON is a 400; a signed
JSON body of unknown shape is kept in quarantine and answered 200, so nothing a platform sends
is silently lost; a queue that refuses a message answers 503 so the platform retries.

A signed body is never lost to a 5xx of our own making. What the parser can read is enqueued;
whatever it cannot (an unknown shape, one bad event of a batch, nesting too deep for any
parser, a parser bug) is quarantined byte for byte with the reason, and the answer is 200. A
5xx comes only from a real outage of the queue, the bucket or the table, so the platform
retries; a retried delivery never makes a second ticket (dedupe at ingest).
"""
from __future__ import annotations

import base64
import functools
import importlib
import json
import uuid
from dataclasses import dataclass
from types import ModuleType
from typing import Mapping, Optional, Union

from chalicelib.channels import registry as channel_registry
from chalicelib import queues
from chalicelib.config import MAX_BODY_BYTES, secrets, settings
from chalicelib.errors import EnqueueFailed, InvalidSignature, StoreUnavailable, UnknownPayload
from chalicelib.models import MAX_TEXT_CHARS, AnswerEnvelope, MentionEnvelope, ParseResult, StatusEnvelope, utcnow
from chalicelib.observability import M, count, logger

QUARANTINE_INLINE_LIMIT = 300 * 1024  # a DynamoDB item holds 400 KB; bigger bodies go to S3
QUARANTINE_HEADERS = ("content-type", "user-agent", "x-request-id")  # and the route's signature header


@dataclass(frozen=True)
class Channel:
    """How one webhook route is verified and parsed."""

    route: str
    metric_channel: str
    adapter: str  # the module that verifies and parses it (the channel package's webhook)
    secret_key: str
    signature_header: str
    handshake_secret_key: str = ""
    parts: tuple[tuple[str, str], ...] = ()  # a shared webhook's parts: (envelope name, module)

    def module(self) -> ModuleType:
        return importlib.import_module(self.adapter)

    def parser(self, adapter: ModuleType):
        """The adapter's parse; a shared webhook's is handed every registered part."""
        if not self.parts:
            return adapter.parse
        return functools.partial(adapter.parse, parts=dict(self.parts))


def webhook(key: str) -> Optional[Channel]:
    """The webhook at `/webhooks/<key>` as the registry says when called (a test may add one)."""
    hook = channel_registry.webhook(key)
    if hook is None:
        return None
    return Channel(hook.route, key, hook.module, hook.secret, hook.signature_header,
                   hook.handshake_secret or hook.secret, tuple(channel_registry.parts(hook).items()))


@dataclass(frozen=True)
class Answer:
    status: int
    body: Union[dict, str]


NO_SUCH_WEBHOOK = Answer(404, {"error": "no such webhook"})


def handshake(channel_key: str, query: Mapping[str, str]) -> Answer:
    """A webhook route's GET (X's CRC, Meta's verify token), answered by the channel's own module;
    a body of text is the echo of a challenge. 405 for a webhook that has no handshake."""
    found = webhook(channel_key)
    if found is None:
        return NO_SUCH_WEBHOOK
    adapter = found.module()
    if not hasattr(adapter, "handshake"):
        return Answer(405, {"error": "this webhook answers POST only"})
    status, body = adapter.handshake(query, secrets().get(found.handshake_secret_key))
    return Answer(status, body)


def handle_webhook(channel_key: str, raw_body: Optional[bytes], headers: Mapping[str, str]) -> Answer:
    channel = webhook(channel_key)
    if channel is None:
        return NO_SUCH_WEBHOOK
    body = raw_body or b""
    if len(body) > MAX_BODY_BYTES:
        return Answer(413, {"error": f"body over {MAX_BODY_BYTES} bytes"})
    adapter = channel.module()
    try:
        account, secret = _signer(channel, adapter, headers)
        adapter.verify(body, _header(headers, channel.signature_header), secret)
    except InvalidSignature as err:
        count(M.INVALID_SIGNATURES, channel.metric_channel)
        logger.warning("webhook refused: bad signature", extra={"route": channel.route, "reason": str(err)})
        return Answer(401, {"error": "invalid signature"})
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return Answer(400, {"error": "body is not JSON"})
    except RecursionError:  # valid JSON, maybe, but nested deeper than any platform sends
        return _kept(channel, body, headers, ParseResult(), "JSON nested too deep to parse")
    result, reason = _parsed(channel, channel.parser(adapter), payload)
    if account is not None:  # signed by one account: only its messages
        before = len(result.rejected)
        result = adapter.bind(result, account)
        reason = "; ".join(r for r in [reason, *result.rejected[before:]] if r)
    return _kept(channel, body, headers, result, reason)


def _signer(channel: Channel, adapter: ModuleType, headers: Mapping[str, str]) -> tuple[Optional[str], str]:
    """Who signed and with what: a channel whose integrators each have a secret (the API channel's
    ACCOUNT_HEADER) is signed with the named account's own secret, from the platform secret
    (InvalidSignature for an account with none); without the header, or for any other channel, the
    channel's one secret (the API channel's shared one, accepted during the move to one each)."""
    header = getattr(adapter, "ACCOUNT_HEADER", None)
    account = _header(headers, header) if header else None
    if account is None:
        return None, secrets().get(channel.secret_key)
    key = adapter.account_secret_key(account)
    secret = secrets().get(key) if key else ""
    if not secret:
        raise InvalidSignature("no secret for this account")
    return account, secret


def handle_email_notification(sns_message: str, headers: Mapping[str, str]) -> Answer:
    """SES ▸ SNS ▸ here. AWS invokes us, so there is no signature to check."""
    # Lazy for the webhook function's cold start: only the email function reads email.
    from chalicelib.channels.email import ID, inbound

    channel = Channel("sns:email", ID, ID, "", "")
    return _kept(channel, sns_message.encode("utf-8"), headers, *_parsed(channel, inbound.parse_sns, sns_message))


def _parsed(channel: Channel, parse, payload) -> tuple[ParseResult, str]:
    """What the adapter read, and why it kept the rest back ("" when it read everything)."""
    try:
        result = parse(payload)
    except UnknownPayload as err:
        return ParseResult(), err.reason
    except Exception as err:  # noqa: BLE001 - a parser bug must not lose a signed body to a 500
        count(M.PARSER_ERRORS, channel.metric_channel)
        logger.exception("parser failed; body quarantined", extra={"route": channel.route})
        return ParseResult(), f"{channel.adapter}: parser failed ({type(err).__name__})"
    reasons = list(result.rejected)
    bounded = [m.bounded() for m in result.mentions]
    if any(m.truncated for m in bounded):
        reasons.append(f"text over {MAX_TEXT_CHARS} characters or too many attachments: cut, body kept whole")
    result.mentions = bounded
    return result, "; ".join(reasons)


def _kept(channel: Channel, body: bytes, headers: Mapping[str, str], result: ParseResult, reason: str) -> Answer:
    """Enqueue what was read, then quarantine the raw body if anything was kept back."""
    answer = _enqueue(channel.metric_channel, result)
    if answer.status != 200 or not reason:
        return answer
    try:
        item_id = _quarantine(channel, body, headers, reason)
    except StoreUnavailable:
        return Answer(503, {"error": "temporarily unable to keep this body, retry later"})
    return Answer(200, {**answer.body, "quarantined": item_id})


def _enqueue(metric_channel: str, result: ParseResult) -> Answer:
    now = utcnow()
    bodies = [MentionEnvelope(mention=m, received_at=now).model_dump_json() for m in result.mentions]
    bodies += [StatusEnvelope(status=s, received_at=now).model_dump_json() for s in result.statuses]
    bodies += [AnswerEnvelope(answer=a, received_at=now).model_dump_json() for a in result.answers]  # CSAT
    try:
        queues.send_all(settings().ingest_queue_url, bodies)
    except EnqueueFailed as err:
        count(M.ENQUEUE_FAILURES, metric_channel, len(bodies))
        logger.error("enqueue failed; answering 5xx so the platform retries", extra={"reason": str(err)})
        return Answer(503, {"error": "temporarily unable to accept events, retry later"})
    for mention in result.mentions:
        count(M.MENTIONS_RECEIVED, mention.platform, kind=mention.kind)
    count(M.IGNORED_EVENTS, metric_channel, result.ignored)
    count(M.DELIVERY_STATUSES, metric_channel, len(result.statuses))
    logger.info("webhook accepted", extra={"accepted": len(result.mentions), "statuses": len(result.statuses),
                                           "ignored": result.ignored, "channel": metric_channel})
    return Answer(200, {"accepted": len(result.mentions) + len(result.statuses) + len(result.answers), "duplicates": 0,
                        "ignored": result.ignored})


def _quarantine(channel: Channel, body: bytes, headers: Mapping[str, str], reason: str) -> str:
    """Keep the raw body byte for byte (inline as text, base64 when it is not UTF-8, in S3 when
    large) with the reason; StoreUnavailable when the table or the bucket cannot take it."""
    # Lazy for the webhook function's cold start: the store (boto3's DynamoDB layer) loads only when
    # a body is quarantined.
    from botocore.exceptions import BotoCoreError, ClientError

    from chalicelib import aws
    from chalicelib.store.dynamodb import DynamoStore

    item_id = str(uuid.uuid4())
    received = utcnow().isoformat()
    record: dict = {"route": channel.route, "reason": reason[:1000], "size": len(body),
                    "headers": {h: v[:1000] for h in (*QUARANTINE_HEADERS, channel.signature_header)
                                if h and (v := _header(headers, h))}}
    try:
        if len(body) <= QUARANTINE_INLINE_LIMIT:
            try:
                record["raw_body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                record["raw_body_b64"] = base64.b64encode(body).decode("ascii")
        else:
            key = f"quarantine/{item_id}"
            aws.client("s3").put_object(Bucket=settings().model_bucket, Key=key, Body=body)
            record["raw_body_s3_key"] = key
        DynamoStore(aws.table()).quarantine(item_id, received, record)
    except (BotoCoreError, ClientError) as err:
        logger.error("quarantine failed; answering 5xx so the platform retries",
                     extra={"route": channel.route, "error": type(err).__name__})
        raise StoreUnavailable(type(err).__name__) from err
    count(M.UNPARSED_EVENTS, channel.metric_channel, quarantine_id=item_id)
    logger.warning("unreadable payload quarantined", extra={"route": channel.route, "reason": reason[:1000],
                                                            "quarantine_id": item_id})
    return item_id


def _header(headers: Mapping[str, str], name: str) -> Optional[str]:
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value
