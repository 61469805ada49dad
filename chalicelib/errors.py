"""Typed domain errors. Callers match on the type, never on the message text."""


class DeskError(Exception):
    """Base of every error the desk raises on purpose."""


class InvalidSignature(DeskError):
    """The request is not signed, or not signed with our secret."""


class UnknownPayload(DeskError):
    """Signed, valid JSON of a shape we cannot parse yet: quarantine it for replay."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class EnqueueFailed(DeskError):
    """A queue refused a message: the caller must answer 5xx so the platform retries."""


class StoreUnavailable(DeskError):
    """The table or the bucket refused a write we cannot do without: answer 5xx so it is retried."""


class DuplicateEvent(DeskError):
    pass


class ConcurrentUpdate(DeskError):
    """A conditional write lost a race (stale version): answer 409 or retry."""


class TicketChanged(ConcurrentUpdate):
    """The ticket moved on (another version, another holder) before an assignment or release landed."""


class AgentUnavailable(ConcurrentUpdate):
    """The agent went away or filled up before an assignment landed: try the next one."""


class NotFound(DeskError):
    """What was asked for is not there (or not the caller's to see): the API answers 404."""


class Invalid(DeskError, ValueError):
    """A request the use case refuses, naming the field at fault: the API answers 400."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class PlatformError(DeskError):
    def __init__(self, status: int, body: str):
        super().__init__(f"platform answered {status}")
        self.status = status
        self.body = body


# How a send to a platform ended, when it did not end with the platform's id: raised by the channel
# packages' senders (and channels/http.py), decided on by the outbound worker from the type alone.
# Retry waits (`after` seconds) and tries again; Permanent marks the reply failed with the platform's
# reason for the agent; AuthFailed refreshes the account's credential once; Ambiguous means the
# request may have been accepted (a timeout after sending, X's duplicate-content refusal), so the
# platform is asked before any resend.
class SendError(Exception):
    def __init__(self, reason: str, code: "str | None" = None):
        super().__init__(reason)
        self.reason = reason
        self.code = code


class Retry(SendError):
    def __init__(self, reason: str, after: float = 0.0, code: "str | None" = None):
        super().__init__(reason, code)
        self.after = max(float(after), 0.0)


class Permanent(SendError):
    pass


class AuthFailed(SendError):
    pass


class Ambiguous(SendError):
    pass


class MissingCredential(DeskError):
    """The account has no usable secret: a permanent failure until an admin connects it."""


class LookupFailed(DeskError):
    """A mention's author could not be found; `reason` says why (never a token)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
