"""What the probes share about network failures, whatever SDK raised them."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

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


# A server's error code or a lifecycle condition is a word or two: longer ones are cut.
SERVER_TEXT_LIMIT = 100


def server_text(value: object, limit: int = SERVER_TEXT_LIMIT) -> str:
    """Text a server sent (an error code, a rule's id or condition), as it may be shown:
    control characters escaped, cut to `limit` characters. Applied where a probe reads it."""
    return neutralise(str(value), limit)


def answers_from(url: str, origin: str) -> str:
    """The note that names where a bucket's answers came from, masked and neutralised."""
    return f"answers from {neutralise(mask_url(url), 200)} ({neutralise(origin, 200)})"


# ---- bounded answers ---------------------------------------------------------------------

# The longest answer body read. A bucket's versioning, lifecycle or properties document is a
# few kilobytes; a longer body is hostile or broken, and reading it whole would cost memory
# (an endless body) and time (a huge valid document to parse).
MAX_BODY = 1 << 20


class BodyTooLarge(MalformedAnswer):
    """An answer longer than MAX_BODY: refused, as a malformed answer, before it is parsed."""

    def __init__(self, limit: int = MAX_BODY) -> None:
        super().__init__(f"an answer over {limit // 1024} KB, where a bucket's settings are a "
                         "few kilobytes (refused unread)")


def read_capped(chunks: Iterable[bytes], limit: int = MAX_BODY) -> bytes:
    """The body from `chunks`, or BodyTooLarge as soon as it passes `limit` bytes."""
    body = bytearray()
    for chunk in chunks:
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge(limit)
    return bytes(body)


def declared_too_large(headers: Mapping[str, str], limit: int = MAX_BODY) -> bool:
    """Whether Content-Length already says the body is over `limit`."""
    try:
        return int(str(headers.get("Content-Length", "")).strip()) > limit
    except ValueError:
        return False


def cap_requests_body(response: Any, *args: Any, **kwargs: Any) -> Any:
    """A `requests` response hook: read the body now, at most MAX_BODY, before anyone else.

    Registered first on a session (GCS, and the Azure SDKs' transport), it runs before
    requests itself would read the whole body into memory; read errors keep requests' own
    exception types, as `Response.content` raises them.
    """
    if response._content is False:  # not read yet (requests' own marker)
        try:
            if declared_too_large(response.headers):
                raise BodyTooLarge()
            response._content = read_capped(response.iter_content(65536))
        except BodyTooLarge:
            response.close()  # the rest stays unread: the connection is not reused
            raise
        response._content_consumed = True
    return response
