"""`gccheck audit`: many deployments checked concurrently on top of the engine.

Settings from files and inline env are read, and bucket URLs parsed, before anything is sent;
settings from a live cluster are read on the target's worker (gccheck.engine.scheduler).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

from gccheck import __version__
from gccheck.engine import DEFAULT_CONCURRENCY, Job, Prepared, SettingsCache, prepare, schedule
from gccheck.errors import InputError
from gccheck.masking import Redactor
from gccheck.matrix import Matrix
from gccheck.model import Report, TargetReport
from gccheck.probes import ProbeRegistry
from gccheck.target import TargetSpec


def audit(specs: Sequence[TargetSpec], matrix: Matrix, environ: Mapping[str, str],
          redactor: Redactor, *, concurrency: int = DEFAULT_CONCURRENCY, strict: bool = False,
          on_done: Callable[[TargetReport], None] | None = None,
          probes: ProbeRegistry | None = None) -> Report:
    """Check many deployments.

    Settings from files and inline env are read, and bucket URLs parsed, before anything is
    sent: bad input raises InputError naming the deployment. Settings read from a live cluster
    are read on the target's worker; when they cannot be read, that deployment is `unknown`.
    """
    jobs: list[Job] = []
    cache = SettingsCache()
    for spec in specs:
        if spec.reads_live:
            matrix.hosting_type(spec.hosting, f"{spec.name}: hosting")

            def later(spec: TargetSpec = spec) -> Prepared:
                return prepare(spec, matrix, environ, redactor)

            jobs.append(Job(matrix, spec, None, later))
            continue
        try:
            jobs.append(Job(matrix, spec, prepare(spec, matrix, environ, redactor, cache)))
        except InputError as exc:
            message = str(exc)
            raise InputError(message if message.startswith(f"{spec.name}:")
                             else f"deployment {spec.name!r}: {message}") from None
    reports = schedule(jobs, max(1, concurrency), probes or ProbeRegistry(), on_done)
    return Report(tuple(reports), __version__, strict=strict, generated_at=time.time())
