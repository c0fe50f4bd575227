"""What `check` and `audit` share: prepare a target, probe and judge it, schedule many.

    prepare   (settings read, secrets learnt, bucket URL parsed; InputError for bad input)
      -> evaluate  (the bucket probed when the hosting type needs it, then the rules)
      -> schedule  (threads, deadlines, input order)  -> a Report

A Terraform plan target is read whole by prepare; evaluate then uses its planned facts
(Prepared.planned, a PlannedFacts) instead of a probe.
"""

from gccheck.engine.evaluate import (
    check_prepared,
    probe_options,
    unavailable_facts,
    unverified_target,
)
from gccheck.engine.prepared import PlannedFacts, Prepared, SettingsCache, prepare
from gccheck.engine.scheduler import DEFAULT_CONCURRENCY, Job, run, schedule

__all__ = ["DEFAULT_CONCURRENCY", "Job", "PlannedFacts", "Prepared", "SettingsCache",
           "check_prepared", "prepare", "probe_options", "run", "schedule", "unavailable_facts",
           "unverified_target"]
