"""How a send attempt ended, when it did not end with the platform's id.

The worker decides from the type alone: Retry waits (`after` seconds) and tries again;
Permanent marks the reply failed with the platform's reason for the agent; AuthFailed refreshes
the account's credential once; Ambiguous means the request may have been accepted (a timeout
after sending, X's duplicate-content refusal), so the platform is asked before any resend.
"""
from __future__ import annotations

from typing import Optional


class SendError(Exception):
    def __init__(self, reason: str, code: Optional[str] = None):
        super().__init__(reason)
        self.reason = reason
        self.code = code


class Retry(SendError):
    def __init__(self, reason: str, after: float = 0.0, code: Optional[str] = None):
        super().__init__(reason, code)
        self.after = max(float(after), 0.0)


class Permanent(SendError):
    pass


class AuthFailed(SendError):
    pass


class Ambiguous(SendError):
    pass
