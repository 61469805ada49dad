"""X's replies: a tweet is answered by a reply tweet (public) or a DM to its author (private);
a DM only by a DM. Limits: the descriptor's counters (280 weighted characters, 10,000)."""
from __future__ import annotations

from chalicelib.channels.reply import Plan, private_only

ACTIONS = {"x_reply": "a reply on X", "x_dm": "an X direct message"}


def _tweet(ticket, latest, inbound, messages, account, visibility, now) -> Plan:
    if visibility == "public":
        return Plan("x_reply", {"in_reply_to_tweet_id": latest.reply_to_id or latest.platform_message_id,
                                "account_id": ticket.brand_account_id})
    return Plan("x_dm", {"participant_id": latest.author["id"], "account_id": ticket.brand_account_id},
                notes=("X delivers the DM only if the customer accepts messages from the brand",))


def _dm(ticket, latest, inbound, messages, account, visibility, now) -> Plan:
    private_only(visibility, "X direct message")
    return Plan("x_dm", {"participant_id": latest.author["id"], "account_id": ticket.brand_account_id})


PLANNERS = {"tweet": _tweet, "dm": _dm}
