"""A bounded pool of daemon threads, so a call stuck on a dead socket never holds up exit.

concurrent.futures' pool joins its (non-daemon) workers at exit; gccheck stops waiting for a
call at its deadline and must be able to exit right then.
"""

from __future__ import annotations

import contextlib
import queue
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


def leave_interrupts_to_the_main_thread() -> None:
    """Block SIGINT in the calling (worker) thread, and in the threads it starts.

    The kernel hands a Ctrl-C to any thread that does not block it; when that is a worker,
    the main thread, asleep in a wait, only runs the handler when its wait ends. With every
    other thread blocking it, the main thread's wait is interrupted at once.
    """
    with contextlib.suppress(ValueError, OSError, AttributeError):  # no pthreads: no harm
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


class DaemonPool:
    """Runs callables on at most `size` daemon threads, started on demand."""

    def __init__(self, size: int) -> None:
        self._size = max(1, size)
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]]] = queue.SimpleQueue()
        self._workers = 0
        self._idle = 0
        self._lock = threading.Lock()

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        self._jobs.put((future, fn))
        with self._lock:
            if self._idle == 0 and self._workers < self._size:
                self._workers += 1
                threading.Thread(target=self._work, daemon=True, name="gccheck-worker").start()
        return future

    def _work(self) -> None:
        leave_interrupts_to_the_main_thread()
        while True:
            with self._lock:
                self._idle += 1
            future, fn = self._jobs.get()
            with self._lock:
                self._idle -= 1
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as exc:  # handed to the waiter, which decides
                future.set_exception(exc)
