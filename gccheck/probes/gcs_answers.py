"""What GCS's bucket resource says, read strictly: a field of the wrong type is a malformed
answer for its fact, never a value."""

from __future__ import annotations

import logging
from typing import Any

from gccheck.model import (
    DeleteProtection,
    LifecycleRule,
    VersioningState,
)
from gccheck.net import (
    MalformedAnswer,
    read_fact,
    server_text,
    strict_bool,
    whole_number,
)

log = logging.getLogger(__name__)
# Without --debug (no handler configured) Python would print the SDKs' warnings to stderr;
# --debug's handler still shows them.
logging.getLogger("google").addHandler(logging.NullHandler())

# The facts GCS has (no blob soft delete).
FACTS = ("versioning", "lifecycle", "delete_protection")
PERMISSION = "storage.buckets.get"
READ_ONLY_SCOPE = "https://www.googleapis.com/auth/devstorage.read_only"
DEFAULT_ENDPOINT = "https://storage.googleapis.com"
_NO_CREDENTIALS = ("no Google credentials found (a key in the bucket URL, "
                   "GOOGLE_APPLICATION_CREDENTIALS, workload identity, or "
                   "gcloud auth application-default login)")

# Conditions that only noncurrent versions can meet: a rule that has one cannot delete
# live objects (conditions in one GCS rule are ANDed).
_NONCURRENT_ONLY = ("daysSinceNoncurrentTime", "noncurrentTimeBefore", "numNewerVersions")


# The condition fields the JSON API types (storage/v1 Bucket.lifecycle.rule[].condition):
# int32 day and version counts (JSON numbers), a boolean, dates and lists of names as strings.
# A field of another type is a malformed answer, never read by Python's truthiness.
_INTEGER_CONDITIONS = ("age", "daysSinceCustomTime", "daysSinceNoncurrentTime",
                       "numNewerVersions")
_TEXT_CONDITIONS = ("createdBefore", "customTimeBefore", "noncurrentTimeBefore")
_LIST_CONDITIONS = ("matchesStorageClass", "matchesPrefix", "matchesSuffix")
_INT32_MAX = 2**31 - 1


def _check_condition(where: str, condition: object) -> dict[str, Any]:
    if not isinstance(condition, dict):
        raise MalformedAnswer(f"{where}.condition is not an object")
    if "isLive" in condition:
        strict_bool(condition["isLive"], f"{where}.condition.isLive")
    for key in _INTEGER_CONDITIONS:
        if key in condition:
            whole_number(condition[key], f"{where}.condition.{key}", 0, _INT32_MAX)
    for key in _TEXT_CONDITIONS:
        if key in condition and not isinstance(condition[key], str):
            raise MalformedAnswer(f"{where}.condition.{key} is not a date string")
    for key in _LIST_CONDITIONS:
        value = condition.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise MalformedAnswer(f"{where}.condition.{key} is not a list of strings")
    return condition


def lifecycle_rule(index: int, raw: dict[str, Any]) -> LifecycleRule:
    """A GCS lifecycle rule (API form: action + condition) reduced to what matters for GC.

    MalformedAnswer, naming the field, when a condition field is not of its API type."""
    where = f"lifecycle rule {index + 1}"
    action_raw = raw.get("action") or {}
    action = action_raw.get("type", "") if isinstance(action_raw, dict) else None
    if not isinstance(action, str):
        raise MalformedAnswer(f"{where}.action.type is not a string")
    condition = _check_condition(where, raw.get("condition") or {})
    deletes = action == "Delete"
    noncurrent_only = condition.get("isLive") is False or any(
        k in condition for k in _NONCURRENT_ONLY)
    # isLive: true (or no noncurrent-only condition) means live objects can match.
    expires_current = deletes and not noncurrent_only
    expires_noncurrent = deletes and condition.get("isLive") is not True
    parts = [server_text(action or "unknown action")]
    parts += [f"{server_text(key)}={server_text(value)}"
              for key, value in sorted(condition.items())]
    return LifecycleRule(id=f"rule {index + 1}", enabled=True, expires_current=expires_current,
                         expires_noncurrent=expires_noncurrent, description=", ".join(parts))


def _duration(seconds: float) -> str:
    days = seconds / 86400
    if days >= 1 and days == int(days):
        return f"{int(days)} day{'s' if days != 1 else ''}"
    if days >= 1:
        return f"{days:.1f} days"
    return f"{seconds:g} seconds"


def retention_facts(bucket: Any) -> DeleteProtection:
    found = []
    period = bucket.retention_period
    if period:
        locked = "locked" if bucket.retention_policy_locked else "not locked"
        found.append(f"bucket retention policy of {_duration(float(period))} ({locked})")
    if bucket.default_event_based_hold:
        found.append("default event-based hold on new objects")
    if found:
        return DeleteProtection(True, " and ".join(found))
    return DeleteProtection(False, "no bucket retention policy")


def _soft_delete_note(bucket: Any) -> str:
    seconds = bucket.soft_delete_policy.retention_duration_seconds
    if seconds is None:
        return "soft delete policy: not reported"
    if int(seconds) == 0:
        return "soft delete policy: off"
    return f"soft delete policy: {_duration(float(seconds))}"


def bucket_notes(bucket: Any) -> tuple[str, ...]:
    soft_delete = read_fact(lambda: _soft_delete_note(bucket), "the soft delete policy")
    notes = [soft_delete if isinstance(soft_delete, str)
             else f"soft delete policy: not readable ({soft_delete.reason})"]
    if bucket.object_retention_mode == "Enabled":
        notes.append("object retention: enabled (objects may carry their own retention)")
    return tuple(notes)


def versioning_state(bucket: Any) -> VersioningState:
    # The raw field, not Bucket.versioning_enabled: that passes on any truthy value, so a
    # string "false" would read as enabled.
    enabled = (bucket._properties.get("versioning") or {}).get("enabled", False)
    if enabled is True:
        return VersioningState.ENABLED
    if enabled is False:
        return VersioningState.DISABLED
    raise MalformedAnswer(f"versioning.enabled is {type(enabled).__name__}, not a boolean")


def lifecycle_facts(bucket: Any) -> tuple[LifecycleRule, ...]:
    # The raw resource, as the API typed it (Bucket.lifecycle_rules rebuilds each rule through
    # the SDK's classes, which take any value and fail on a condition they do not know).
    lifecycle = bucket._properties.get("lifecycle") or {}
    rules = lifecycle.get("rule") or [] if isinstance(lifecycle, dict) else None
    if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
        raise MalformedAnswer("lifecycle.rule is not a list of rules")
    return tuple(lifecycle_rule(i, r) for i, r in enumerate(rules))
