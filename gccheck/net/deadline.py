"""The deadline: one wall-clock bound for a whole read, however many calls it takes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


# Held while a probe imports its SDK. Deployments on different planes or clouds start at once,
# and two threads importing packages that import each other's modules can meet in importlib's
# module locks ("_DeadlockError", seen with azure.storage.blob beside azure.mgmt.storage).
SDK_IMPORT_LOCK = threading.RLock()


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
