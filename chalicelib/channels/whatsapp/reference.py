"""Our reference on a WhatsApp reply, both ends: send.py puts it in the message's
`biz_opaque_callback_data`, WhatsApp echoes it in every status webhook of that message, and
webhook.py reads it back into `DeliveryStatus.ours`, so the receipts find the reply (and confirm one
whose send answer was lost) without knowing this format: `desk:<ticket id>:<message id>`.

Standard library only: the webhook path imports it (send.py and channels/http.py stay off it).
"""
from __future__ import annotations

from typing import Optional

PREFIX = "desk"


def encode(ticket_id: str, message_id: str) -> str:
    """What WhatsApp echoes in every status of the message: enough to find it again."""
    return f"{PREFIX}:{ticket_id}:{message_id}"


def decode(data: Optional[str]) -> Optional[tuple[str, str]]:
    """(ticket id, message id) from an echoed reference of ours; None for anything else."""
    parts = (data or "").split(":")
    if len(parts) != 3 or parts[0] != PREFIX or not all(p and p == p.strip() for p in parts[1:]):
        return None
    return parts[1], parts[2]
