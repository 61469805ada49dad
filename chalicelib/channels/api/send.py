"""Sending a reply on the API channel: POST to the account's callback URL.

POST <callback_url>, `X-Signature-256: sha256=<hex HMAC-SHA256 of the body with the account's secret>`,
`Idempotency-Key: <message id>` (so a resend is safe: the receiver drops it). The account's secret is
its own, `API_CHANNEL_SECRET:<channel_id>`, the one it signs its messages with (webhook.py); an
account without one yet gets the shared API_CHANNEL_SECRET, as its messages are accepted under it,
until the shared one leaves the platform secret (then its replies fail: no credentials). One
integrator's secret never signs a reply to another.

The callback URL is the one request whose address an admin, not the operator, chooses: it is
checked again before every send (chalicelib/netguard.py: https only, public addresses only), the
connection goes to the very address that was checked (no second DNS lookup, no proxy), redirects
are never followed, and nothing of the receiver's answer but a short id reaches the agent.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re

from chalicelib import netguard
from chalicelib.aggregates.message import Message
from chalicelib.channels import http
from chalicelib.channels.reply import Sender
from chalicelib.errors import Permanent, Retry

_RECEIVER_ID = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")


def callback(message: Message, secret: str, attempt: int = 1) -> str:
    """`secret`: the account's own signing secret (the shared one during the move), which signs the body."""
    target = message.target
    try:  # again at send time: the host's DNS may have changed since the URL was saved
        checked = netguard.check(target["url"])
    except netguard.Unresolvable as err:
        raise Retry(f"callback_url: {err.reason}", after=http.backoff(attempt), code="dns") from None
    except netguard.Refused as err:
        raise Permanent(f"callback_url refused: {err.reason}", code="address") from None
    payload = {"id": message.id, "thread_id": target["thread_id"], "in_reply_to": target["in_reply_to"],
               "to": target["to"], "text": message.text, "visibility": message.visibility,
               "agent": (message.author or {}).get("name"), "created_at": message.created_at}
    if (target.get("survey") or {}).get("url"):  # a CSAT survey: the page's link, also in the text
        payload["survey_url"] = target["survey"]["url"]
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    signature = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    reply = http.http("POST", checked.url, raw=raw, headers={"X-Signature-256": signature,
                                                             "Idempotency-Key": message.id},
                      opener=http.pinned_opener(checked.addresses[0]))
    if 200 <= reply.status < 300:  # the receiver's own id, if it gives a short one; never its body
        found = reply.body.get("id") if isinstance(reply.body, dict) else None
        found = str(found) if isinstance(found, int) and not isinstance(found, bool) else found
        return found if isinstance(found, str) and _RECEIVER_ID.match(found) else message.id
    if reply.status == 429 or reply.status >= 500:
        raise Retry(f"callback answered {reply.status}", after=http.backoff(attempt), code=str(reply.status))
    if 300 <= reply.status < 400:
        raise Permanent(f"callback answered a redirect ({reply.status}); the desk does not follow redirects",
                        code=str(reply.status))
    raise Permanent(f"callback refused the reply ({reply.status})", code=str(reply.status))


SENDERS = {"api_callback": Sender(callback, credential="account_secret:API_CHANNEL_SECRET", resend_safe=True),
           "api_callback_survey": Sender(callback, credential="account_secret:API_CHANNEL_SECRET", resend_safe=True)}
