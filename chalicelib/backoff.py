"""How long to wait before retrying a transient failure: the desk's one exponential backoff.

`exponential(attempt, cap=...)` is 1, 2, 4 ... seconds, at most `cap`, before retry number
`attempt` (1 is the first retry; 0 counts as 1). With `jitter=True` it is a uniform draw below that
("full jitter", as botocore's standard retry mode draws it), for callers that sleep in process
and would otherwise retry in step with every other container (chalicelib/aws.py's wire client).
Without jitter it is the delay a caller hands to SQS as a message's visibility timeout
(chalicelib/channels/http.py's `backoff`, read by every channel's sender and the outbound worker).

Foundation layer: the standard library only, so that both the AWS wire client and the pure
channels (which may not import chalicelib.aws) can use it.
"""
from __future__ import annotations

import random


def exponential(attempt: int, *, cap: float, jitter: bool = False) -> float:
    """Seconds before retry number `attempt`: 2 ** (attempt - 1), at most `cap`; with `jitter`, a
    uniform draw in [0, that)."""
    delay = min(2.0 ** min(max(attempt - 1, 0), 64), float(cap))  # 2 ** 64: past any cap, never an overflow
    return random.random() * delay if jitter else delay  # noqa: S311 - jitter, not a secret
