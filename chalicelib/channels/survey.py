"""A CSAT survey's answer as it rides a platform's button or quick reply, both ends.

The survey (chalicelib/surveys.py) gives each choice a payload `csat:<ticket id>:<score>:<sig>`,
`sig` an HMAC of the ticket and the score with the desk's SURVEY_SECRET (checked by the ingest
worker, never here: the webhook path holds no such secret). The platform echoes the payload when
the customer taps the choice (WhatsApp `interactive.button_reply.id`, Messenger and Instagram
`message.quick_reply.payload`, X `quick_reply_response.metadata`); each channel's parser reads it
back with `decode` into a SurveyAnswer instead of a Mention, so an answer never opens a ticket.
Anything not of this exact shape decodes to None and stays a customer message.

Standard library only: the webhook path imports it.
"""
from __future__ import annotations

import re
from typing import Any, Optional

PREFIX = "csat"
SCORES = range(1, 6)
# ticket ids are uuids; the signature is 128 bits of HMAC-SHA256, base64url without padding
_PAYLOAD = re.compile(r"csat:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}):([1-5]):([A-Za-z0-9_-]{22})")


def encode(ticket_id: str, score: int, sig: str) -> str:
    return f"{PREFIX}:{ticket_id}:{score}:{sig}"


def decode(payload: Any) -> Optional[tuple[str, int, str]]:
    """(ticket id, score, signature) of a survey payload of ours; None for anything else."""
    if not isinstance(payload, str) or len(payload) > 100:
        return None
    found = _PAYLOAD.fullmatch(payload)
    if found is None:
        return None
    return found.group(1), int(found.group(2)), found.group(3)
