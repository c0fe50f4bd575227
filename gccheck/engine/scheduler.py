"""Run prepared (or to-be-prepared) targets on threads, each bounded by its deadline.

Concurrency model (the fleet audit's promises):
- at most `concurrency` targets run at once, each on its own daemon thread; a probe's calls run
  on a shared call pool (concurrency.DaemonPool), so calls within a target run concurrently
  too;
- every target has a deadline (its timeout, plus a grace); a target still running then is
  given up on (`unknown`, with a timeout reason) and its slot goes to the next target, so a
  hung endpoint never delays the report, nor the other targets, by more than its timeout;
- one ProbeRegistry per run (or passed in), so probes reuse their clients across targets;
- reports come back in input order; `on_done` is called, on the calling thread, in the order
  targets finish.
"""

from __future__ import annotations

import functools
import heapq
import queue
import threading
import time
from collections.abc import Callable, Sequence

from gccheck import __version__
from gccheck.concurrency import DaemonPool, leave_interrupts_to_the_main_thread
from gccheck.debuglog import debug
from gccheck.engine.evaluate import check_prepared, timed_out_target, unverified_target
from gccheck.engine.prepared import Prepared
from gccheck.errors import InputError
from gccheck.matrix import HostingType, Matrix
from gccheck.model import Report, TargetReport
from gccheck.probes import ProbeRegistry
from gccheck.target import TargetSpec

DEFAULT_CONCURRENCY = 32
# Calls stuck on a dead socket keep their thread after their target was given up on (until the
# SDK's own timeouts and retries end), so the call pool has room beyond the live calls.
_CALLS_PER_TARGET = 3
_CALL_POOL_HEADROOM = 4


class Job:
    """One target to check: already prepared, or prepared on its worker (live sources)."""

    def __init__(self, matrix: Matrix, spec: TargetSpec, prepared: Prepared | None,
                 prepare_later: Callable[[], Prepared] | None = None) -> None:
        self.matrix = matrix
        self.spec = spec
        self.prepared = prepared
        self.prepare_later = prepare_later

    @property
    def hosting(self) -> HostingType:
        return self.matrix.hosting_types[self.spec.hosting]

    def budget(self) -> float:
        """Seconds before the target is given up on: its own timeouts, plus a grace."""
        waits = 2 if self.prepare_later is not None else 1  # settings read live, then probe
        # The grace covers importing the provider's SDK on a loaded machine (up to ~2 s), so
        # that a probe's own, specific timeout reason wins over a generic "no verdict".
        return self.spec.timeout * waits + max(3.0, self.spec.timeout / 2)

    def run(self, probes: ProbeRegistry, pool: DaemonPool,
            probed: Callable[[], None] | None = None) -> TargetReport:
        prepared = self.prepared
        if prepared is None:
            assert self.prepare_later is not None
            try:
                prepared = self.prepare_later()
            except InputError as exc:  # a live source that could not be read
                return unverified_target(self.spec, self.hosting, self.matrix, None,
                                         f"settings could not be read: {exc}")
        return check_prepared(prepared, self.matrix, probes, pool, probed)

    def gave_up(self) -> TargetReport:
        return timed_out_target(self.spec, self.hosting, self.matrix, self.prepared,
                                f"timeout: no verdict within {self.budget():g} s "
                                f"(--timeout {self.spec.timeout:g})")

    def crashed(self, exc: BaseException) -> TargetReport:
        bucket = self.prepared.bucket if self.prepared else None
        return unverified_target(self.spec, self.hosting, self.matrix, bucket,
                                 f"check failed unexpectedly ({type(exc).__name__})")


# The event a worker sends once a target's network part is over.
NETWORK_DONE = -1.0


class _Workers:
    """`size` long-lived worker threads; one given up on is replaced, then retires when free.

    Workers tell the scheduler through one queue: (index, start time, None) when they take a
    target, (index, NETWORK_DONE, None) when its network part is over (what is left is local
    work, which no deadline cuts short), (index, 0, outcome) when it is done.
    """

    def __init__(self, jobs: Sequence[Job], probes: ProbeRegistry, pool: DaemonPool) -> None:
        self.jobs = jobs
        self.probes = probes
        self.pool = pool
        self.todo: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        self.events: queue.SimpleQueue[
            tuple[int, float, TargetReport | BaseException | None]] = queue.SimpleQueue()
        self._excess = 0
        self._lock = threading.Lock()
        self.count = 0

    def spawn(self) -> None:
        self.count += 1
        threading.Thread(target=self._work, daemon=True, name="gccheck-target").start()

    def replace_one(self) -> None:
        """A worker is stuck on a target given up on: add one, and retire one later."""
        with self._lock:
            self._excess += 1
        self.spawn()

    def stop(self) -> None:
        for _ in range(self.count):
            self.todo.put(None)

    def _work(self) -> None:
        leave_interrupts_to_the_main_thread()
        while True:
            index = self.todo.get()
            if index is None:
                return
            self.events.put((index, time.monotonic(), None))
            job = self.jobs[index]
            try:
                outcome: TargetReport | BaseException = job.run(
                    self.probes, self.pool,
                    functools.partial(self.events.put, (index, NETWORK_DONE, None)))
            except BaseException as exc:  # handed to the scheduler, which reports it
                debug(__name__, "target %s failed", job.spec.name, exc_info=True)
                outcome = exc
            self.events.put((index, 0.0, outcome))
            with self._lock:
                if self._excess:
                    self._excess -= 1
                    return


def schedule(jobs: Sequence[Job], concurrency: int, probes: ProbeRegistry,
              on_done: Callable[[TargetReport], None] | None) -> list[TargetReport]:
    """Run jobs `concurrency` at a time; give up on each at its deadline; input order out."""
    call_pool = DaemonPool(max(8, concurrency * _CALLS_PER_TARGET * _CALL_POOL_HEADROOM))
    workers = _Workers(jobs, probes, call_pool)
    reports: list[TargetReport | None] = [None] * len(jobs)
    for index in range(len(jobs)):
        workers.todo.put(index)
    for _ in range(min(concurrency, len(jobs))):
        workers.spawn()
    deadlines: list[tuple[float, int]] = []  # heap of (deadline, index) of started targets
    local: set[int] = set()  # targets past their network part: no deadline any more
    remaining = len(jobs)

    def finish(index: int, report: TargetReport) -> None:
        nonlocal remaining
        reports[index] = report
        remaining -= 1
        if on_done is not None:
            on_done(report)

    try:
        while remaining:
            while deadlines and (reports[deadlines[0][1]] is not None
                                 or deadlines[0][1] in local):
                heapq.heappop(deadlines)
            wait = deadlines[0][0] - time.monotonic() if deadlines else 1.0
            try:
                index, started, outcome = workers.events.get(timeout=min(max(wait, 0.0), 1.0))
            except queue.Empty:
                now = time.monotonic()
                while deadlines and deadlines[0][0] <= now:
                    _, index = heapq.heappop(deadlines)
                    if reports[index] is None and index not in local:
                        debug(__name__, "giving up on target %s", jobs[index].spec.name)
                        finish(index, jobs[index].gave_up())
                        workers.replace_one()
                continue
            if outcome is None and started == NETWORK_DONE:
                local.add(index)
            elif outcome is None:
                heapq.heappush(deadlines, (started + jobs[index].budget(), index))
            elif reports[index] is None:  # else: finished after it was given up on
                finish(index, outcome if isinstance(outcome, TargetReport)
                       else jobs[index].crashed(outcome))
    finally:
        workers.stop()
    return [r for r in reports if r is not None]


def run(prepared: Sequence[Prepared], matrix: Matrix, concurrency: int = DEFAULT_CONCURRENCY,
        strict: bool = False, on_done: Callable[[TargetReport], None] | None = None, *,
        probes: ProbeRegistry | None = None) -> Report:
    """Check every prepared target, `concurrency` at a time; reports keep the input order."""
    jobs = [Job(matrix, p.spec, p) for p in prepared]
    reports = schedule(jobs, max(1, concurrency), probes or ProbeRegistry(), on_done)
    return Report(tuple(reports), __version__, strict=strict, generated_at=time.time())
