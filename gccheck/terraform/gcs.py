"""Planned facts of a `google_storage_bucket` (hashicorp/google): everything is inline.

`versioning { enabled }` (absent = off; GCS has no suspended state), `lifecycle_rule { action,
condition }`, `retention_policy { retention_period, is_locked }`, `default_event_based_hold`,
and `soft_delete_policy { retention_duration_seconds }` (GCS keeps deleted objects 7 days by
default when the block is left out).
"""

from __future__ import annotations

from gccheck.bucket_url import GCP
from gccheck.model import (
    BucketFacts,
    DeleteProtection,
    LifecycleRule,
    Unavailable,
    VersioningState,
)
from gccheck.terraform.facts import Facts, Known, days_text, number
from gccheck.terraform.values import Planned

# Conditions that match only noncurrent (archived) versions.
_NONCURRENT_ONLY = ("days_since_noncurrent_time", "noncurrent_time_before", "num_newer_versions")
_DEFAULT_SOFT_DELETE_DAYS = 7


def facts(f: Facts) -> BucketFacts:
    """The bucket's versioning, lifecycle rules, retention and soft delete as planned."""
    notes: list[str] = []
    versioning = _versioning(f, notes)
    lifecycle = _lifecycle(f)
    protection = _protection(f)
    notes.append(_soft_delete(f))
    return BucketFacts(provider=GCP, versioning=versioning, lifecycle=lifecycle,
                       delete_protection=protection, notes=tuple(notes))


def _versioning(f: Facts, notes: list[str]) -> VersioningState | Unavailable:
    known, enabled = f.state(f.bucket, "versioning", 0, "enabled")
    if known is Known.AFTER_APPLY:
        return f.after_apply(f.bucket, "versioning", 0, "enabled")
    if known is Known.KNOWN and enabled.value is True:
        return VersioningState.ENABLED
    if known is Known.DEFAULT or enabled.value is None:
        notes.append(f"versioning: not configured on {f.bucket.address}")
    return VersioningState.DISABLED


def _lifecycle(f: Facts) -> tuple[LifecycleRule, ...] | Unavailable:
    known, rules = f.state(f.bucket, "lifecycle_rule")
    if known is Known.AFTER_APPLY:
        return f.after_apply(f.bucket, "lifecycle_rule")
    if known is Known.DEFAULT:
        return ()
    return tuple(_rule(rule, i) for i, rule in enumerate(rules.blocks()))


def _rule(rule: Planned, index: int) -> LifecycleRule:
    action = rule.at("action", 0, "type").text() or ""
    condition = rule.at("condition", 0)
    state = (condition.at("with_state").text() or "").upper()
    live = condition.at("is_live").value  # deprecated form of with_state
    # The provider writes 0 or "" for a condition left out.
    set_conditions = {key: condition.at(key).value for key in (
        "age", "created_before", "with_state", *_NONCURRENT_ONLY, "matches_prefix")
        if condition.at(key).value not in (None, "", 0, [], False)}
    deletes = action == "Delete"
    noncurrent_only = state == "ARCHIVED" or live is False or any(
        k in set_conditions for k in _NONCURRENT_ONLY)
    expires_current = deletes and not noncurrent_only
    expires_noncurrent = deletes and state != "LIVE" and live is not True
    parts = [action or "unknown action"] + [f"{k}={v}" for k, v in sorted(set_conditions.items())]
    return LifecycleRule(id=f"rule {index + 1}", enabled=True, expires_current=expires_current,
                         expires_noncurrent=expires_noncurrent, description=", ".join(parts))


def _protection(f: Facts) -> DeleteProtection | Unavailable:
    found = []
    known, policy = f.state(f.bucket, "retention_policy", 0)
    if known is Known.AFTER_APPLY:
        return f.after_apply(f.bucket, "retention_policy", 0)
    period = number(policy.at("retention_period"))
    if known is Known.KNOWN and period is not None:
        locked = "locked" if policy.at("is_locked").value is True else "not locked"
        found.append(f"bucket retention policy of {_duration(period)} ({locked})")
    known, hold = f.state(f.bucket, "default_event_based_hold")
    if known is Known.AFTER_APPLY:
        return f.after_apply(f.bucket, "default_event_based_hold")
    if known is Known.KNOWN and hold.value is True:
        found.append("default event-based hold on new objects")
    if found:
        return DeleteProtection(True, " and ".join(found))
    return DeleteProtection(False, "no bucket retention policy")


def _duration(seconds: float) -> str:
    days = seconds / 86400
    if days >= 1 and days == int(days):
        return days_text(days)
    return f"{seconds:g} seconds"


def _soft_delete(f: Facts) -> str:
    known, seconds = f.state(f.bucket, "soft_delete_policy", 0, "retention_duration_seconds")
    if known is Known.AFTER_APPLY:
        return "soft delete: known only after apply"
    if known is Known.DEFAULT or seconds.value is None:
        return (f"soft delete: not configured (GCS default, {_DEFAULT_SOFT_DELETE_DAYS} days, "
                "unless the project or organisation sets another)")
    value = number(seconds)
    return f"soft delete: {_duration(value)}" if value else "soft delete: off"
