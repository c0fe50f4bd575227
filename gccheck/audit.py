"""Orchestration: targets -> sources -> probes (concurrently) -> rules -> a Report."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

from gccheck import __version__
from gccheck.bucket_url import BucketLocation, parse_bucket_url
from gccheck.concurrency import DaemonPool
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
from gccheck.probes import ProbeRegistry
from gccheck.probes.interface import ProbeOptions
from gccheck.rules import Context, evaluate, needs_probe
from gccheck.sources import source_for
from gccheck.target import TargetSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prepared:
    """A target with its settings read and its bucket parsed: ready for the network."""

    spec: TargetSpec
    hosting: HostingType
    settings: Settings
    bucket: BucketLocation | None


def hosting_type(matrix: Matrix, name: str, where: str = "--hosting") -> HostingType:
    if name not in matrix.hosting_types:
        raise InputError(f"{where}: unknown hosting type {name!r} "
                         f"(one of: {', '.join(matrix.hosting_types)})")
    return matrix.hosting_types[name]


def prepare(spec: TargetSpec, matrix: Matrix, environ: Mapping[str, str],
            redactor: Redactor) -> Prepared:
    """Read the settings and parse the bucket URL; raises InputError for bad input."""
    hosting = hosting_type(matrix, spec.hosting)
    settings = source_for(spec, environ).read()
    redactor.add_settings({k: s.value for k, s in settings.values.items()})
    for secret in settings.secrets:
        redactor.add(secret)
    url = spec.bucket or settings.get("BUCKET")
    bucket = None
    if url and url.strip():
        redactor.add_settings({"BUCKET": url})
        endpoint = (spec.endpoint_url or settings.get("AWS_ENDPOINT_URL_S3")
                    or settings.get("AWS_ENDPOINT_URL"))
        bucket = parse_bucket_url(url, endpoint_url=endpoint or None)
        for secret in bucket.secrets:
            redactor.add(secret)
    return Prepared(spec, hosting, settings, bucket)


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
                facts = probe.probe(bucket, prepared.settings,
                                    probe_options(prepared.spec, pool))
            except Exception as exc:  # a probe bug must not hide the other verdicts
                log.debug("probe crashed", exc_info=True)
                facts = _crashed(bucket, exc)
    results = evaluate(Context(matrix, prepared.hosting, prepared.settings, bucket, facts))
    notes: list[str] = []
    if bucket is not None and not prepared.spec.bucket and "BUCKET" in prepared.settings.values:
        notes.append(f"bucket from {prepared.settings.values['BUCKET'].origin}")
    if bucket is not None and bucket.reading:
        notes.append(bucket.reading)
    return TargetReport(
        name=prepared.spec.name, hosting=prepared.hosting.id,
        provider=bucket.provider if bucket else None,
        bucket=bucket.masked_url if bucket else None, results=results, notes=tuple(notes))


def run(prepared: Sequence[Prepared], matrix: Matrix, concurrency: int = 16, strict: bool = False,
        on_done: Callable[[TargetReport], None] | None = None) -> Report:
    """Check every prepared target, `concurrency` at a time; reports keep the input order."""
    probes = ProbeRegistry()
    # Calls within a target run on their own pool so targets waiting on calls cannot starve it.
    call_pool = DaemonPool(max(4, concurrency * 3))
    target_pool = DaemonPool(concurrency)
    futures = [target_pool.submit(partial(check_prepared, p, matrix, probes, call_pool))
               for p in prepared]
    reports: list[TargetReport] = []
    for p, future in zip(prepared, futures, strict=True):
        try:
            # A probe bounds its own wait by its timeout; this is the backstop.
            report = future.result(timeout=p.spec.timeout * 4 + 30)
        except Exception as exc:
            log.debug("target %s failed", p.spec.name, exc_info=True)
            report = _failed_target(p, matrix, f"check failed unexpectedly "
                                               f"({type(exc).__name__})")
        reports.append(report)
        if on_done is not None:
            on_done(report)
    return Report(tuple(reports), __version__, strict=strict, generated_at=time.time())


def _failed_target(p: Prepared, matrix: Matrix, why: str) -> TargetReport:
    results = tuple(
        Result(cid, Kind.REQUIREMENT, Status.UNKNOWN if cid in p.hosting.requires
               else Status.NOT_REQUIRED, why if cid in p.hosting.requires else "not required")
        for cid in matrix.requirements)
    return TargetReport(p.spec.name, p.hosting.id, p.bucket.provider if p.bucket else None,
                        p.bucket.masked_url if p.bucket else None, results)
