"""Retries: 429 and 5xx only, a bounded number of times, Retry-After honoured, never past the deadline."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from gccheck.net.deadline import Deadline

T = TypeVar("T")


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
