"""What the probes share about network failures, whatever SDK raised them."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from typing import TypeVar

from gccheck.masking import mask_url
from gccheck.model import Unavailable, UnavailableKind
from gccheck.neutral import neutralise

log = logging.getLogger(__name__)
T = TypeVar("T")

# Held while a probe imports its SDK. Deployments on different planes or clouds start at once,
# and two threads importing packages that import each other's modules can meet in importlib's
# module locks ("_DeadlockError", seen with azure.storage.blob beside azure.mgmt.storage).
SDK_IMPORT_LOCK = threading.RLock()

_DNS_MESSAGES = ("Name or service not known", "nodename nor servname",
                 "Temporary failure in name resolution", "NameResolutionError")


class MalformedAnswer(Exception):
    """A 2xx answer that is not the document the call returns (the message says what it was)."""


class UnexpectedRedirect(Exception):
    """The endpoint answered with a redirect, which none of the calls the probes make gets from
    a right endpoint: followed, it could lead the request, and its credentials, elsewhere."""

    def __init__(self, status: int) -> None:
        super().__init__(str(status))
        self.status = status


def is_dns_failure(exc: BaseException) -> bool:
    """Whether a DNS lookup failure lies anywhere in the exception's chain.

    SDKs wrap it differently: botocore in `kwargs["error"]`, urllib3 in `reason`, azure-core
    in `inner_exception`, everyone in `__cause__`/`__context__` or `args`.
    """
    seen: set[int] = set()
    stack: list[object] = [exc]
    while stack:
        current = stack.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, socket.gaierror):
            return True
        stack.extend([current.__cause__, current.__context__,
                      getattr(current, "inner_exception", None), getattr(current, "reason", None),
                      getattr(current, "kwargs", {}).get("error")
                      if isinstance(getattr(current, "kwargs", None), dict) else None])
        stack.extend(getattr(current, "args", ()))
    text = str(exc)
    return any(message in text for message in _DNS_MESSAGES)


# The retry policy of the probes that do their own retries (GCS, Azure; boto3 has its own,
# bounded the same way): 429 and 5xx only, at most 3 attempts, 0.2 s then 0.4 s apart unless
# Retry-After asks for longer, never waiting past the deadline.
MAX_ATTEMPTS = 3
RETRIED_STATUS = frozenset({429, 500, 502, 503, 504})
_BACKOFF = 0.2


def retry_wait(failed_attempts: int, retry_after: float | None) -> float:
    """Seconds to wait before the next attempt, after `failed_attempts` failures."""
    backoff: float = _BACKOFF * 2 ** (failed_attempts - 1)
    return max(backoff, retry_after or 0.0)


def read_fact(read: Callable[[], T], what: str) -> T | Unavailable:
    """`read()`, or the fact `unavailable` when reading it raised.

    Each fact is read on its own: a field of an odd type, or a bug in the code that reads one
    advisory, makes that fact `unknown`, never the whole bucket's verdicts.
    """
    try:
        return read()
    except MalformedAnswer as exc:
        return Unavailable(UnavailableKind.ERROR, f"malformed answer ({what}): {exc}")
    except Exception as exc:
        log.debug("reading %s failed", what, exc_info=True)
        return Unavailable(UnavailableKind.ERROR,
                           f"an answer that could not be read ({what}: {type(exc).__name__})")


def answers_from(url: str, origin: str) -> str:
    """The note that names where a bucket's answers came from, masked and neutralised."""
    return f"answers from {neutralise(mask_url(url), 200)} ({neutralise(origin, 200)})"
