"""Probe a prepared target's bucket (when its hosting type needs it) and judge everything.

A target whose facts are known already (a Terraform plan: `Prepared.planned`) is not probed:
its facts are used instead, and its results then name where the plan sets each judged fact
and carry the plan's own fixes (the rules stay provider- and source-neutral).

Also the one place where a target or a bucket nothing could be learnt about is built: every
fact unavailable for one reason (no probe, a probe that crashed), or every required item
unknown for one reason (a timeout, settings that could not be read, a bug).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from gccheck.bucket_url import BucketLocation
from gccheck.concurrency import DaemonPool
from gccheck.debuglog import debug
from gccheck.engine.prepared import PlannedFacts, Prepared
from gccheck.matrix import HostingType, Matrix
from gccheck.model import (
    BucketFacts,
    Kind,
    Result,
    Status,
    TargetReport,
    Unavailable,
    UnavailableKind,
)
from gccheck.probes import ProbeRegistry
from gccheck.probes.interface import ProbeOptions
from gccheck.rules import READS_BUCKET, Context, evaluate, needs_probe
from gccheck.target import TargetSpec


def unavailable_facts(provider: str, kind: UnavailableKind, reason: str) -> BucketFacts:
    """Facts of a bucket none of which could be read, all for one reason."""
    return BucketFacts.unavailable(provider, Unavailable(kind, reason))


def _no_probe(bucket: BucketLocation) -> BucketFacts:
    return unavailable_facts(bucket.provider, UnavailableKind.NO_PROBE,
                             f"no probe for this provider yet ({bucket.provider})")


def _crashed(bucket: BucketLocation, exc: BaseException) -> BucketFacts:
    return unavailable_facts(bucket.provider, UnavailableKind.ERROR,
                             f"the {bucket.provider} probe failed unexpectedly "
                             f"({type(exc).__name__})")


def _planned_facts(planned: PlannedFacts, bucket: BucketLocation) -> BucketFacts:
    try:
        return planned.facts()
    except Exception as exc:  # a reader bug must not hide the other verdicts
        debug(__name__, "reading the planned facts crashed", exc_info=True)
        return unavailable_facts(bucket.provider, UnavailableKind.ERROR,
                                 f"reading the planned bucket failed unexpectedly "
                                 f"({type(exc).__name__})")


def _in_planned_terms(results: tuple[Result, ...], matrix: Matrix,
                      planned: PlannedFacts) -> tuple[Result, ...]:
    """Results about the bucket name where the plan sets the fact; a failing or warning one
    gets the plan's own fix (the catalog's stays where the plan has none)."""
    out = []
    for result in results:
        check = matrix.requirements.get(result.id) or matrix.advisories.get(result.id)
        if check is None or check.check not in READS_BUCKET:
            out.append(result)  # the settings' results carry their own (planned) origin
            continue
        fix = (planned.fix(result.id) if result.status in (Status.FAIL, Status.WARN)
               else None)
        out.append(replace(result, source=planned.source(result.id) or result.source,
                           remediation=fix or result.remediation))
    return tuple(out)


def probe_options(spec: TargetSpec, pool: DaemonPool) -> ProbeOptions:
    """How the probes reach the cloud for this target (its timeout, profile, Azure options)."""
    return ProbeOptions(timeout=spec.timeout, pool=pool, aws_profile=spec.aws_profile,
                        azure_subscription=spec.azure_subscription,
                        azure_resource_group=spec.azure_resource_group,
                        azure_plane=spec.azure_plane,
                        azure_blob_endpoint=spec.azure_blob_endpoint,
                        azure_arm_endpoint=spec.azure_arm_endpoint)


def check_prepared(prepared: Prepared, matrix: Matrix, probes: ProbeRegistry,
                   pool: DaemonPool, probed: Callable[[], None] | None = None) -> TargetReport:
    """Probe the bucket (when the hosting type needs it) and judge everything.

    `probed` is called once the network part is over, before the (local) judging.
    """
    bucket = prepared.bucket
    planned = prepared.planned
    facts: BucketFacts | None = None
    if bucket is not None and needs_probe(matrix, prepared.hosting, bucket.provider):
        probe = probes.for_provider(bucket.provider) if planned is None else None
        if planned is not None:
            facts = _planned_facts(planned, bucket)
        elif probe is None:
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
    if probed is not None:
        probed()
    context = Context(matrix, prepared.hosting, prepared.settings, bucket, facts)
    bucket_setting = prepared.settings.setting("BUCKET")
    if bucket is None and bucket_setting is not None and bucket_setting.unresolved:
        context = replace(context, no_bucket_reason=(
            f"BUCKET cannot be read ({bucket_setting.origin}): {bucket_setting.unresolved}"))
    results = evaluate(context)
    notes: list[str] = list(prepared.settings.notes)  # what the source learnt (a chart trap)
    if planned is not None:
        results = _in_planned_terms(results, matrix, planned)
        notes.append(planned.note)
    elif (bucket is not None and not prepared.spec.bucket
          and "BUCKET" in prepared.settings.values):
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


def timed_out_target(spec: TargetSpec, hosting: HostingType, matrix: Matrix,
                     prepared: Prepared | None, why: str) -> TargetReport:
    """A target given up on: what is known without the network still gets its verdict (a
    missing GC variable fails); only what needed an answer is `unknown` for lack of time."""
    if prepared is None:
        return unverified_target(spec, hosting, matrix, None, why)
    bucket = prepared.bucket
    planned = prepared.planned
    try:
        facts = (None if bucket is None else _planned_facts(planned, bucket)
                 if planned is not None  # read already: no network to wait for
                 else unavailable_facts(bucket.provider, UnavailableKind.TIMEOUT, why))
        results = evaluate(Context(matrix, prepared.hosting, prepared.settings, bucket, facts))
        if planned is not None:
            results = _in_planned_terms(results, matrix, planned)
    except Exception:  # a rule bug: say only what the timeout means
        debug(__name__, "judging %s after its timeout failed", spec.name, exc_info=True)
        return unverified_target(spec, hosting, matrix, bucket, why)
    return TargetReport(spec.name, prepared.hosting.id, bucket.provider if bucket else None,
                        bucket.masked_url if bucket else None, results,
                        notes=tuple(prepared.settings.notes))
