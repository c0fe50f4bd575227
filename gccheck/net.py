"""The one network layer: deadlines, bounded retries, failure classification, bounded bodies.

Every probe (S3, GCS, Azure) uses it, and a plain HTTP client can too (the Kubernetes API
client is meant to): nothing here imports an SDK.

* `Deadline`: one wall-clock bound for a whole read, however many calls and retries it takes;
  `await_answer` waits for a submitted call until then, `run_within` runs one on its own thread.
* Retries: `RETRIED_STATUS` (429 and 5xx) only, at most `MAX_ATTEMPTS`, `retry_wait` apart
  (0.2 s, then 0.4 s, unless `retry_after(headers)` asks for longer), never waiting past the
  deadline (`next_wait`); `with_retries` wraps a call that raises for its status.
* Classification: `Failure` names what went wrong on the way (refused, DNS, TLS, timeout,
  throttled, 5xx, redirect, an HTML page instead of the API, malformed, truncated);
  `classify_transport(exc)` finds it in any exception chain (socket, ssl, urllib3, requests,
  http.client, SDK wrappers), `classify_status(status)` in a status code, and `unavailable()`
  turns it into the `Unavailable` fact with the wording every probe shares.
* Bodies: at most `MAX_BODY` bytes are read (`read_capped`, `cap_requests_body`); a longer
  answer is `BodyTooLarge`, a malformed answer.
* Text from servers: `server_text` (neutralised, cut), `answers_from` (the endpoint note).
* Proxies: `proxy_for(url)` decides, as the HTTP clients do, which proxy from the
  environment (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, minus NO_PROXY) a request to `url` goes
  through; `answers_from` and the Kubernetes client name it.
"""

from __future__ import annotations

import enum
import http.client
import ipaddress
import logging
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit
from urllib.request import (  # type: ignore[attr-defined]  # not in typeshed
    getproxies_environment,
    proxy_bypass_environment,
)

from gccheck.masking import mask_url
from gccheck.model import Unavailable, UnavailableKind
from gccheck.neutral import neutralise

log = logging.getLogger(__name__)
T = TypeVar("T")

# Held while a probe imports its SDK. Deployments on different planes or clouds start at once,
# and two threads importing packages that import each other's modules can meet in importlib's
# module locks ("_DeadlockError", seen with azure.storage.blob beside azure.mgmt.storage).
SDK_IMPORT_LOCK = threading.RLock()


class MalformedAnswer(Exception):
    """A 2xx answer that is not the document the call returns (the message says what it was)."""


class UnexpectedRedirect(Exception):
    """The endpoint answered with a redirect, which none of the calls gccheck makes gets from
    a right endpoint: followed, it could lead the request, and its credentials, elsewhere."""

    def __init__(self, status: int) -> None:
        super().__init__(str(status))
        self.status = status


# ---- the deadline ------------------------------------------------------------------------


class Deadline:
    """A wall-clock bound (time.monotonic) for a whole read, its calls and retries."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        """Seconds until the deadline, never negative."""
        return max(0.0, self.end - time.monotonic())

    @property
    def passed(self) -> bool:
        return self.left() <= 0.0


def await_answer(future: Future[Any], deadline: Deadline) -> Any:
    """The call's answer, or the exception it raised (TimeoutError at the deadline)."""
    try:
        return future.result(timeout=deadline.left())
    except TimeoutError:
        return TimeoutError()
    except BaseException as exc:
        return exc


def run_within(call: Callable[[], T], deadline: Deadline) -> T:
    """`call()` on a daemon thread of its own: its answer, what it raised, or TimeoutError at
    the deadline.

    For a client that takes no wall-clock bound (the kubernetes client): a socket timeout
    bounds each read, not a server that sends a byte at a time. The thread is left to end on
    its own (its reads time out, its body is capped); it never holds up exit.
    """
    from gccheck.concurrency import leave_interrupts_to_the_main_thread

    future: Future[T] = Future()

    def run() -> None:
        leave_interrupts_to_the_main_thread()
        try:
            future.set_result(call())
        except BaseException as exc:  # handed to the waiting thread, which raises it
            future.set_exception(exc)

    threading.Thread(target=run, daemon=True, name="gccheck-call").start()
    answer = await_answer(future, deadline)
    if isinstance(answer, BaseException):
        raise answer
    result: T = answer
    return result


# ---- retries -----------------------------------------------------------------------------

MAX_ATTEMPTS = 3
RETRIED_STATUS = frozenset({429, 500, 502, 503, 504})
BACKOFF = 0.2  # seconds before the 2nd attempt, doubled for the 3rd (Retry-After wins)


def retry_after(headers: Mapping[str, Any] | None) -> float | None:
    """Seconds the server asked to wait: retry-after-ms, x-ms-retry-after-ms (Azure) or
    Retry-After in seconds; None when absent, an HTTP date, or absurd (a day or more)."""
    for name, scale in (("retry-after-ms", 0.001), ("x-ms-retry-after-ms", 0.001),
                        ("Retry-After", 1.0)):
        try:
            seconds = float(str((headers or {}).get(name, "")).strip()) * scale
        except (ValueError, AttributeError):
            continue  # absent, or an HTTP date: use the backoff
        if 0 <= seconds < 86400:
            return seconds
    return None


def retry_wait(failed_attempts: int, asked: float | None) -> float:
    """Seconds to wait before the next attempt, after `failed_attempts` failures."""
    backoff: float = BACKOFF * 2 ** (failed_attempts - 1)
    return max(backoff, asked or 0.0)


def next_wait(status: int | None, failed_attempts: int, headers: Mapping[str, Any] | None,
              deadline: Deadline) -> float | None:
    """Seconds to wait before retrying an answer with `status`, or None: do not retry.

    For a plain HTTP client's own loop: retried statuses only, at most MAX_ATTEMPTS, and
    never a wait that ends past the deadline (better to say what the attempts got).
    """
    if status not in RETRIED_STATUS or failed_attempts >= MAX_ATTEMPTS:
        return None
    wait = retry_wait(failed_attempts, retry_after(headers))
    return wait if wait < deadline.left() else None


def with_retries(call: Callable[[], T], deadline: Deadline, failed: list[BaseException],
                 status_of: Callable[[BaseException], int | None],
                 headers_of: Callable[[BaseException], Mapping[str, Any] | None],
                 on_wait: Callable[[float, BaseException], None] | None = None,
                 ) -> Callable[[], T]:
    """`call`, retried when what it raises has a retried status (`status_of`).

    Each retried failure is appended to `failed`, so that a timeout can say what the attempts
    got; `on_wait(seconds, failure)` is told before each wait.
    """
    def run() -> T:
        while True:
            try:
                return call()
            except Exception as exc:
                status = status_of(exc)
                if status not in RETRIED_STATUS:
                    raise
                failed.append(exc)
                wait = next_wait(status, len(failed), headers_of(exc), deadline)
                if wait is None:
                    raise
                if on_wait is not None:
                    on_wait(wait, exc)
                time.sleep(wait)

    return run


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


# ---- text from servers -------------------------------------------------------------------

# A server's error code or a lifecycle condition is a word or two: longer ones are cut.
SERVER_TEXT_LIMIT = 100


def server_text(value: object, limit: int = SERVER_TEXT_LIMIT) -> str:
    """Text a server sent (an error code, a rule's id or condition), as it may be shown:
    control characters escaped, cut to `limit` characters. Applied where a probe reads it."""
    return neutralise(str(value), limit)


def answers_from(url: str, origin: str, *, botocore: bool = False) -> str:
    """The note that names where a bucket's answers came from, masked and neutralised, and
    the proxy the requests went through, if any (`botocore`: see `proxy_for`)."""
    return (f"answers from {neutralise(mask_url(url), 200)} ({neutralise(origin, 200)})"
            + via_proxy(proxy_for(url, botocore=botocore)))


# ---- proxies -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Proxy:
    """The proxy a request goes through, and the environment variable that named it."""

    url: str
    variable: str

    @property
    def shown(self) -> str:
        """The proxy as the report shows it: any user:password masked, neutralised."""
        return f"{neutralise(mask_url(self.url), 200)} ({neutralise(self.variable, 80)})"


def via_proxy(proxy: Proxy | None) -> str:
    """" via proxy URL (VARIABLE)", or "" for a direct connection."""
    return f" via proxy {proxy.shown}" if proxy is not None else ""


def proxy_for(url: str, environ: Mapping[str, str] | None = None, *,
              botocore: bool = False) -> Proxy | None:
    """The proxy from the environment that a request to `url` goes through, or None.

    As the clients gccheck uses decide it (all read the process environment):
    `urllib.request.getproxies()` (lower-case names win over upper-case; HTTP_PROXY is ignored
    when REQUEST_METHOD is set); NO_PROXY is matched as urllib's `proxy_bypass` does (a name
    or domain suffix, with or without the port, `*` for all). requests (google-auth, the
    Azure SDKs' transport) picks `<scheme>_proxy`, else `all_proxy`, and also bypasses an
    IPv4 address NO_PROXY names, alone or in a CIDR range (requests.utils.select_proxy,
    should_bypass_proxies). botocore (`botocore=True`) takes the scheme's proxy only, never
    ALL_PROXY, and matches NO_PROXY by urllib alone: no ranges
    (botocore.httpsession.ProxyConfiguration.proxy_url_for, botocore.utils.
    should_bypass_proxies). The kubernetes client decides on its own configuration (see
    sources/kubernetes/api.py).
    """
    env = os.environ if environ is None else environ
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host:
        return None
    proxies = _environ_proxies(env)
    scheme = parts.scheme.lower()
    chosen = (scheme if scheme in proxies
              else "all" if not botocore and "all" in proxies else None)
    if chosen is None or _bypassed(host, parts.netloc.rpartition("@")[2].lower(), proxies,
                                   ranges=not botocore):
        return None
    return Proxy(proxies[chosen], _proxy_variable(env, chosen, proxies[chosen]))


def _environ_proxies(env: Mapping[str, str]) -> dict[str, str]:
    if env is os.environ:
        return getproxies_environment()
    # The same rules as getproxies_environment, for a given mapping (tests).
    proxies: dict[str, str] = {}
    for name, value in env.items():
        if value and name.lower().endswith("_proxy"):
            proxies[name[:-6].lower()] = value
    if "REQUEST_METHOD" in env:
        proxies.pop("http", None)
    for name, value in env.items():
        if name.endswith("_proxy"):
            if value:
                proxies[name[:-6]] = value
            else:
                proxies.pop(name[:-6], None)
    return proxies


def _proxy_variable(env: Mapping[str, str], scheme: str, value: str) -> str:
    lower = f"{scheme}_proxy"
    if env.get(lower) == value:
        return lower
    for name, held in env.items():
        if held == value and name.lower() == lower:
            return name
    return lower.upper()


def _bypassed(host: str, host_and_port: str, proxies: Mapping[str, str], *,
              ranges: bool) -> bool:
    no_proxy = proxies.get("no", "")
    if not no_proxy:
        return False
    if proxy_bypass_environment(host, {"no": no_proxy}) or \
            proxy_bypass_environment(host_and_port, {"no": no_proxy}):
        return True
    if not ranges:
        return False
    try:
        address = ipaddress.IPv4Address(host)
    except ValueError:
        return False
    for entry in no_proxy.replace(" ", "").split(","):
        try:
            if address in ipaddress.ip_network(entry.strip(), strict=False):
                return True
        except ValueError:
            continue
    return False


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
