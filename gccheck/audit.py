"""Orchestration: targets -> sources -> probes (concurrently) -> rules -> a Report.

Concurrency model (the fleet audit's promises):
- at most `concurrency` targets run at once, each on its own daemon thread; a probe's calls run
  on a shared call pool, so calls within a target run concurrently too;
- every target has a deadline (its timeout, plus a grace); a target still running then is
  given up on (`unknown`, with a timeout reason) and its slot goes to the next target, so a
  hung endpoint never delays the report, nor the other targets, by more than its timeout;
- one ProbeRegistry per run (or passed in), so probes reuse their clients across targets;
- reports come back in input order; `on_done` is called, on the calling thread, in the order
  targets finish.
"""

from __future__ import annotations

import heapq
import queue
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from gccheck import __version__
from gccheck.bucket_url import BucketLocation, parse_bucket_url, validate_endpoint_url
from gccheck.concurrency import DaemonPool
from gccheck.debuglog import debug
from gccheck.errors import InputError
from gccheck.masking import Redactor
from gccheck.matrix import HostingType, Matrix
from gccheck.model import (
    BucketFacts,
    Kind,
    Report,
    Result,
    Settings,
    Status,
    TargetReport,
    Unavailable,
    UnavailableKind,
)
from gccheck.probes import ProbeRegistry, uses_aws_profile
from gccheck.probes.interface import ProbeOptions
from gccheck.rules import Context, evaluate, needs_probe
from gccheck.sources import source_for
from gccheck.target import TargetSpec

DEFAULT_CONCURRENCY = 32
# Calls stuck on a dead socket keep their thread after their target was given up on (until the
# SDK's own timeouts and retries end), so the call pool has room beyond the live calls.
_CALLS_PER_TARGET = 3
_CALL_POOL_HEADROOM = 4


@dataclass(frozen=True)
class Prepared:
    """A target with its settings read and its bucket parsed: ready for the network."""

    spec: TargetSpec
    hosting: HostingType
    settings: Settings
    bucket: BucketLocation | None


def prepare(spec: TargetSpec, matrix: Matrix, environ: Mapping[str, str],
            redactor: Redactor) -> Prepared:
    """Read the settings and parse the bucket URL; raises InputError for bad input."""
    hosting = matrix.hosting_type(spec.hosting)
    for where, value in (("--endpoint-url", spec.endpoint_url),
                         ("--azure-blob-endpoint", spec.azure_blob_endpoint),
                         ("--azure-arm-endpoint", spec.azure_arm_endpoint)):
        if value:
            validate_endpoint_url(value, where)
    settings = source_for(spec, environ).read()
    redactor.add_settings({k: s.value for k, s in settings.values.items()})
    for secret in settings.secrets:
        redactor.add(secret)
    url = spec.bucket or settings.get("BUCKET")
    bucket = None
    if url and url.strip():
        redactor.add_settings({"BUCKET": url})
        _reject_unexpanded(url, settings)
        endpoint = spec.endpoint_url
        if not endpoint and url.strip().partition("://")[0].lower() in ("s3", "cw"):
            # AWS's variables name an S3 endpoint: a gs:// bucket (and its Google token)
            # must not be sent there.
            for name in ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"):
                setting = settings.values.get(name)
                if setting is not None and setting.value and setting.value.strip():
                    # Named as the user wrote it, not as --endpoint-url.
                    endpoint = validate_endpoint_url(setting.value, f"{name} ({setting.origin})")
                    break
        bucket = parse_bucket_url(url, endpoint_url=endpoint or None)
        for secret in bucket.secrets:
            redactor.add(secret)
        if spec.aws_profile and uses_aws_profile(bucket.provider):
            from gccheck.probes.s3 import unknown_profile

            problem = unknown_profile(spec.aws_profile)
            if problem:
                raise InputError(f"--aws-profile: {problem}")
    debug(__name__, "%s: settings from %s (%d values); bucket %s", spec.name,
          settings.description, len(settings.values),
          f"{bucket.masked_url} ({bucket.provider}, endpoint "
          f"{bucket.endpoint_url or 'the provider default'})" if bucket else "none")
    return Prepared(spec, hosting, settings, bucket)


# $(NAME): a Kubernetes dependent-variable reference. The kubelet leaves one to an undefined
# variable as written, so BUCKET=s3://$(BUCKET_ACCESS_KEY):...@ keeps it when the Secret an
# optional secretKeyRef reads is missing: the store would then reject "the credentials".
# Only a whole part of the URL (key, secret, host, path segment) counts: a password such as
# Pa55$(w0rd)Xyz is a password.
_UNEXPANDED = re.compile(r"(?<=[:@/])\$\(([A-Za-z_][A-Za-z0-9_.\-]*)\)(?=[:@/?#]|$)")


def _reject_unexpanded(url: str, settings: Settings) -> None:
    names = list(dict.fromkeys(_UNEXPANDED.findall(url)))
    if not names:
        return
    setting = settings.values.get("BUCKET")
    origin = f" ({setting.origin})" if setting is not None and url == setting.value else ""
    listed = ", ".join(f"$({name})" for name in names)
    raise InputError(f"the bucket URL{origin} still holds {listed}: Kubernetes leaves a "
                     "reference to an undefined variable as written, so the Secret, ConfigMap "
                     f"or key that would set {'it' if len(names) == 1 else 'them'} is missing "
                     "or misnamed (an optional reference?)")


def _no_probe(bucket: BucketLocation) -> BucketFacts:
    missing = Unavailable(UnavailableKind.NO_PROBE,
                          f"no probe for this provider yet ({bucket.provider})")
    return BucketFacts(provider=bucket.provider, versioning=missing, blob_soft_delete=missing,
                       lifecycle=missing, delete_protection=missing)


def _crashed(bucket: BucketLocation, exc: BaseException) -> BucketFacts:
    failure = Unavailable(UnavailableKind.ERROR,
                          f"the {bucket.provider} probe failed unexpectedly ({type(exc).__name__})")
    return BucketFacts(provider=bucket.provider, versioning=failure, blob_soft_delete=failure,
                       lifecycle=failure, delete_protection=failure)


def probe_options(spec: TargetSpec, pool: DaemonPool) -> ProbeOptions:
    return ProbeOptions(timeout=spec.timeout, pool=pool, aws_profile=spec.aws_profile,
                        azure_subscription=spec.azure_subscription,
                        azure_resource_group=spec.azure_resource_group,
                        azure_plane=spec.azure_plane,
                        azure_blob_endpoint=spec.azure_blob_endpoint,
                        azure_arm_endpoint=spec.azure_arm_endpoint)


def check_prepared(prepared: Prepared, matrix: Matrix, probes: ProbeRegistry,
                   pool: DaemonPool) -> TargetReport:
    """Probe the bucket (when the hosting type needs it) and judge everything."""
    bucket = prepared.bucket
    facts: BucketFacts | None = None
    if bucket is not None and needs_probe(matrix, prepared.hosting, bucket.provider):
        probe = probes.for_provider(bucket.provider)
        if probe is None:
            facts = _no_probe(bucket)
        else:
            try:
                started = time.monotonic()
                facts = probe.probe(bucket, prepared.settings,
                                    probe_options(prepared.spec, pool))
                debug(__name__, "%s: %s probed in %.2f s", prepared.spec.name,
                      bucket.masked_url, time.monotonic() - started)
            except Exception as exc:  # a probe bug must not hide the other verdicts
                debug(__name__, "probe crashed", exc_info=True)
                facts = _crashed(bucket, exc)
    context = Context(matrix, prepared.hosting, prepared.settings, bucket, facts)
    bucket_setting = prepared.settings.values.get("BUCKET")
    if bucket is None and bucket_setting is not None and bucket_setting.unresolved:
        context = replace(context, no_bucket_reason=(
            f"BUCKET cannot be read ({bucket_setting.origin}): {bucket_setting.unresolved}"))
    results = evaluate(context)
    notes: list[str] = []
    if bucket is not None and not prepared.spec.bucket and "BUCKET" in prepared.settings.values:
        notes.append(f"bucket from {prepared.settings.values['BUCKET'].origin}")
    if bucket is not None and bucket.reading:
        notes.append(bucket.reading)
    return TargetReport(
        name=prepared.spec.name, hosting=prepared.hosting.id,
        provider=bucket.provider if bucket else None,
        bucket=bucket.masked_url if bucket else None, results=results, notes=tuple(notes))


def unverified_target(spec: TargetSpec, hosting: HostingType, matrix: Matrix,
                      bucket: BucketLocation | None, why: str) -> TargetReport:
    """Every required item `unknown` for one reason (timeout, unreadable settings, a bug)."""
    results = tuple(
        Result(cid, Kind.REQUIREMENT, Status.UNKNOWN if cid in hosting.requires
               else Status.NOT_REQUIRED, why if cid in hosting.requires
               else f"not required for {hosting.title.lower()}")
        for cid in matrix.requirements)
    return TargetReport(spec.name, hosting.id, bucket.provider if bucket else None,
                        bucket.masked_url if bucket else None, results)


class _Job:
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

    def run(self, probes: ProbeRegistry, pool: DaemonPool) -> TargetReport:
        prepared = self.prepared
        if prepared is None:
            assert self.prepare_later is not None
            try:
                prepared = self.prepare_later()
            except InputError as exc:  # a live source that could not be read
                return unverified_target(self.spec, self.hosting, self.matrix, None,
                                         f"settings could not be read: {exc}")
        return check_prepared(prepared, self.matrix, probes, pool)

    def gave_up(self) -> TargetReport:
        bucket = self.prepared.bucket if self.prepared else None
        return unverified_target(self.spec, self.hosting, self.matrix, bucket,
                                 f"timeout: no verdict within {self.budget():g} s "
                                 f"(--timeout {self.spec.timeout:g})")

    def crashed(self, exc: BaseException) -> TargetReport:
        bucket = self.prepared.bucket if self.prepared else None
        return unverified_target(self.spec, self.hosting, self.matrix, bucket,
                                 f"check failed unexpectedly ({type(exc).__name__})")


class _Workers:
    """`size` long-lived worker threads; one given up on is replaced, then retires when free.

    Workers tell the scheduler through one queue: (index, start time, None) when they take a
    target, (index, 0, outcome) when it is done.
    """

    def __init__(self, jobs: Sequence[_Job], probes: ProbeRegistry, pool: DaemonPool) -> None:
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
        while True:
            index = self.todo.get()
            if index is None:
                return
            self.events.put((index, time.monotonic(), None))
            job = self.jobs[index]
            try:
                outcome: TargetReport | BaseException = job.run(self.probes, self.pool)
            except BaseException as exc:  # handed to the scheduler, which reports it
                debug(__name__, "target %s failed", job.spec.name, exc_info=True)
                outcome = exc
            self.events.put((index, 0.0, outcome))
            with self._lock:
                if self._excess:
                    self._excess -= 1
                    return


def _schedule(jobs: Sequence[_Job], concurrency: int, probes: ProbeRegistry,
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
    remaining = len(jobs)

    def finish(index: int, report: TargetReport) -> None:
        nonlocal remaining
        reports[index] = report
        remaining -= 1
        if on_done is not None:
            on_done(report)

    try:
        while remaining:
            while deadlines and reports[deadlines[0][1]] is not None:
                heapq.heappop(deadlines)
            wait = deadlines[0][0] - time.monotonic() if deadlines else 1.0
            try:
                index, started, outcome = workers.events.get(timeout=min(max(wait, 0.0), 1.0))
            except queue.Empty:
                now = time.monotonic()
                while deadlines and deadlines[0][0] <= now:
                    _, index = heapq.heappop(deadlines)
                    if reports[index] is None:
                        debug(__name__, "giving up on target %s", jobs[index].spec.name)
                        finish(index, jobs[index].gave_up())
                        workers.replace_one()
                continue
            if outcome is None:
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
    jobs = [_Job(matrix, p.spec, p) for p in prepared]
    reports = _schedule(jobs, max(1, concurrency), probes or ProbeRegistry(), on_done)
    return Report(tuple(reports), __version__, strict=strict, generated_at=time.time())


def audit(specs: Sequence[TargetSpec], matrix: Matrix, environ: Mapping[str, str],
          redactor: Redactor, *, concurrency: int = DEFAULT_CONCURRENCY, strict: bool = False,
          on_done: Callable[[TargetReport], None] | None = None,
          probes: ProbeRegistry | None = None) -> Report:
    """Check many deployments.

    Settings from files and inline env are read, and bucket URLs parsed, before anything is
    sent: bad input raises InputError naming the deployment. Settings read from a live cluster
    are read on the target's worker; when they cannot be read, that deployment is `unknown`.
    """
    jobs: list[_Job] = []
    for spec in specs:
        if spec.reads_live:
            matrix.hosting_type(spec.hosting, f"{spec.name}: hosting")

            def later(spec: TargetSpec = spec) -> Prepared:
                return prepare(spec, matrix, environ, redactor)

            jobs.append(_Job(matrix, spec, None, later))
            continue
        try:
            jobs.append(_Job(matrix, spec, prepare(spec, matrix, environ, redactor)))
        except InputError as exc:
            message = str(exc)
            raise InputError(message if message.startswith(f"{spec.name}:")
                             else f"deployment {spec.name!r}: {message}") from None
    reports = _schedule(jobs, max(1, concurrency), probes or ProbeRegistry(), on_done)
    return Report(tuple(reports), __version__, strict=strict, generated_at=time.time())
