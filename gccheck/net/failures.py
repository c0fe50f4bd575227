"""What went wrong on the way, one wording for every client, and typed answer fields."""

from __future__ import annotations

import enum
import http.client
import logging
import socket
import ssl
from collections.abc import Callable, Iterator
from typing import TypeVar

from gccheck.model import Unavailable, UnavailableKind
from gccheck.neutral import neutralise

log = logging.getLogger("gccheck.net")
T = TypeVar("T")


class MalformedAnswer(Exception):
    """A 2xx answer that is not the document the call returns (the message says what it was)."""


class UnexpectedRedirect(Exception):
    """The endpoint answered with a redirect, which none of the calls gccheck makes gets from
    a right endpoint: followed, it could lead the request, and its credentials, elsewhere."""

    def __init__(self, status: int) -> None:
        super().__init__(str(status))
        self.status = status


# The longest answer body read. A bucket's versioning, lifecycle or properties document is a
# few kilobytes; a longer body is hostile or broken, and reading it whole would cost memory
# (an endless body) and time (a huge valid document to parse).
MAX_BODY = 1 << 20


class BodyTooLarge(MalformedAnswer):
    """An answer longer than MAX_BODY: refused, as a malformed answer, before it is parsed."""

    def __init__(self, limit: int = MAX_BODY) -> None:
        super().__init__(f"an answer over {limit // 1024} KB, where a bucket's settings are a "
                         "few kilobytes (refused unread)")


# ---- text from servers -------------------------------------------------------------------

# A server's error code or a lifecycle condition is a word or two: longer ones are cut.
SERVER_TEXT_LIMIT = 100


def server_text(value: object, limit: int = SERVER_TEXT_LIMIT) -> str:
    """Text a server sent (an error code, a rule's id or condition), as it may be shown:
    control characters escaped, cut to `limit` characters. Applied where a probe reads it."""
    return neutralise(str(value), limit)


# ---- what went wrong ---------------------------------------------------------------------


class Failure(str, enum.Enum):
    """What went wrong on the way to an answer, whatever client saw it."""

    REFUSED = "refused"
    DNS = "dns"
    TLS = "tls"
    TIMEOUT = "timeout"
    BROKEN = "broken"  # the connection broke before an answer
    THROTTLED = "throttled"
    SERVER_ERROR = "server-error"
    REDIRECT = "redirect"
    HTML = "html"  # a page (a proxy's, a login's) instead of the API's answer
    MALFORMED = "malformed"
    TRUNCATED = "truncated"


_DNS_MESSAGES = ("Name or service not known", "nodename nor servname",
                 "Temporary failure in name resolution", "NameResolutionError")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and every exception it wraps. Clients wrap differently: botocore in
    `kwargs["error"]`, urllib3 in `reason`, azure-core in `inner_exception`, everyone in
    `__cause__`/`__context__` or `args`."""
    seen: set[int] = set()
    stack: list[object] = [exc]
    while stack:
        current = stack.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        kwargs = getattr(current, "kwargs", None)
        stack.extend([current.__cause__, current.__context__,
                      getattr(current, "inner_exception", None), getattr(current, "reason", None),
                      kwargs.get("error") if isinstance(kwargs, dict) else None])
        stack.extend(getattr(current, "args", ()))


def is_dns_failure(exc: BaseException) -> bool:
    """Whether a DNS lookup failure lies anywhere in the exception's chain."""
    if any(isinstance(e, socket.gaierror) for e in _chain(exc)):
        return True
    return any(message in str(exc) for message in _DNS_MESSAGES)


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, TimeoutError) or type(exc).__name__.endswith(
        ("Timeout", "TimeoutError"))


def classify_transport(exc: BaseException) -> Failure | None:
    """The transport failure in `exc`'s chain, or None when it holds none (an SDK's own error,
    a bug). Order matters: a TLS failure can be reported as a broken connection, a refused
    connection inside a timeout's retries."""
    chain = list(_chain(exc))
    if any(isinstance(e, BodyTooLarge) for e in chain) or isinstance(exc, MalformedAnswer):
        return Failure.MALFORMED
    if any(isinstance(e, UnexpectedRedirect) for e in chain):
        return Failure.REDIRECT
    if any(isinstance(e, ssl.SSLError | ssl.CertificateError) for e in chain):
        return Failure.TLS
    if is_dns_failure(exc):
        return Failure.DNS
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return Failure.REFUSED
    if any(_is_timeout(e) for e in chain):
        return Failure.TIMEOUT
    if any(isinstance(e, http.client.RemoteDisconnected | ConnectionResetError
                      | ConnectionAbortedError) for e in chain):
        return Failure.BROKEN  # closed before an answer began
    if any(isinstance(e, http.client.IncompleteRead) or type(e).__name__ in (
            "IncompleteRead", "ProtocolError", "ChunkedEncodingError") for e in chain):
        return Failure.TRUNCATED
    if any(isinstance(e, ConnectionError) for e in chain):
        return Failure.BROKEN
    return None


def classify_status(status: int | None) -> Failure | None:
    """The failure an HTTP status says by itself (429, 5xx, 3xx), or None."""
    if status == 429:
        return Failure.THROTTLED
    if status is not None and status >= 500:
        return Failure.SERVER_ERROR
    if status is not None and 300 <= status < 400:
        return Failure.REDIRECT
    return None


def looks_like_html(body: bytes, content_type: str = "") -> bool:
    """Whether an answer is a web page (a proxy's, a portal's) rather than an API document."""
    start = body.lstrip()[:200].lower()
    return "html" in content_type.lower() or start.startswith((b"<!doctype html", b"<html"))


def unavailable(failure: Failure, endpoint: str, timeout: float, *, detail: str = "",
                attempts: int | None = 1) -> Unavailable:
    """The fact for `failure`, in the words every probe uses.

    `detail` goes in parentheses (the status and code) or after a colon (what was malformed);
    `attempts` above 1 is said ("after 3 attempts"); None says "after retries" (a client that
    retries on its own and does not tell how often).
    """
    tries = (" after retries" if attempts is None
             else f" after {attempts} attempts" if attempts > 1 else "")
    if failure is Failure.REFUSED:
        return Unavailable(UnavailableKind.UNREACHABLE, f"could not connect to {endpoint}")
    if failure is Failure.DNS:
        return Unavailable(UnavailableKind.UNREACHABLE, f"DNS lookup failed for {endpoint}")
    if failure is Failure.TLS:
        return Unavailable(UnavailableKind.UNREACHABLE,
                           f"TLS handshake with {endpoint} failed (certificate not trusted?)")
    if failure is Failure.TIMEOUT:
        return Unavailable(UnavailableKind.TIMEOUT,
                           f"no answer from {endpoint} within {timeout:g} s")
    if failure is Failure.BROKEN:
        return Unavailable(UnavailableKind.UNREACHABLE,
                           f"the connection to {endpoint} broke before an answer")
    if failure is Failure.THROTTLED:
        return Unavailable(UnavailableKind.UNREACHABLE,
                           f"throttled by {endpoint} ({detail or 'HTTP 429'}){tries}")
    if failure is Failure.SERVER_ERROR:
        return Unavailable(UnavailableKind.UNREACHABLE,
                           f"server error from {endpoint} ({detail}){tries}")
    if failure is Failure.REDIRECT:
        return Unavailable(UnavailableKind.ERROR,
                           f"unexpected redirect ({detail or 'HTTP 3xx'}) from {endpoint}, "
                           "not followed: is the endpoint right?")
    if failure is Failure.HTML:
        return Unavailable(UnavailableKind.ERROR,
                           f"malformed answer from {endpoint}: an HTML page, not the API's "
                           "answer")
    if failure is Failure.TRUNCATED:
        return Unavailable(UnavailableKind.ERROR,
                           f"truncated answer from {endpoint} (the connection broke mid-body)")
    return Unavailable(UnavailableKind.ERROR,
                       f"malformed answer from {endpoint}" + (f": {detail}" if detail else ""))


def timed_out_after(said: Unavailable, timeout: float) -> Unavailable:
    """The deadline passed during retries: what the last attempt got, and that time ran out."""
    return Unavailable(said.kind, f"{said.reason}; gave up at the {timeout:g} s deadline",
                       said.permission)


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


# ---- typed fields of an answer ------------------------------------------------------------
# A field of the wrong type or out of the API's range is a malformed answer for its fact,
# never read as a value: a string "true" is not true, -5 days is not a retention.


def _shown_value(value: object) -> str:
    return server_text(repr(value) if isinstance(value, str) else value, 40)


def strict_bool(value: object, field: str) -> bool:
    """A JSON boolean (true/false), or MalformedAnswer naming `field`."""
    if isinstance(value, bool):
        return value
    raise MalformedAnswer(f"{field} is {_shown_value(value)}, not a boolean (true or false)")


def xml_bool(text: str | None, field: str) -> bool:
    """An XML element's `true`/`false`, as the APIs document it, or MalformedAnswer."""
    value = (text or "").strip()
    if value in ("true", "false"):
        return value == "true"
    raise MalformedAnswer(f"{field} is {_shown_value(value)}, not true or false")


def whole_number(value: object, field: str, low: int, high: int | None = None, *,
                 xml: bool = False) -> int:
    """An integer from `low` to `high`, or MalformedAnswer naming `field`: a JSON number (not
    a string, not a boolean), or with `xml` the digits of an XML element's text."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif xml and isinstance(value, str) and value.strip().lstrip("-").isdigit() and \
            value.strip().isascii() and len(value.strip()) < 20:
        number = int(value.strip())
    if number is None or number < low or (high is not None and number > high):
        span = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise MalformedAnswer(f"{field} is {_shown_value(value)}, not a whole number {span}")
    return number
