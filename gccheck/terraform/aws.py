"""Planned facts of an `aws_s3_bucket` (hashicorp/aws v4+ separate resources, v3 inline blocks).

Versioning: `aws_s3_bucket_versioning.versioning_configuration[0].status` is Enabled,
Suspended or Disabled (Disabled only for a bucket that never had versioning). Destroying that
resource suspends versioning on the bucket (the provider's documented behaviour). Provider v3
kept `versioning { enabled }` inline; v4+ still reports the inline block as computed, which is
the bucket's live state for a bucket that exists.
"""

from __future__ import annotations

from gccheck.bucket_url import AWS
from gccheck.model import (
    BucketFacts,
    DeleteProtection,
    LifecycleRule,
    Unavailable,
    VersioningState,
)
from gccheck.terraform.facts import Facts, Known, days_text, number
from gccheck.terraform.values import Planned

VERSIONING = "aws_s3_bucket_versioning"
LIFECYCLE = "aws_s3_bucket_lifecycle_configuration"
OBJECT_LOCK = "aws_s3_bucket_object_lock_configuration"
RELATED = (VERSIONING, LIFECYCLE, OBJECT_LOCK)

_STATUS = {"Enabled": VersioningState.ENABLED, "Suspended": VersioningState.SUSPENDED,
           "Disabled": VersioningState.NEVER_ENABLED}


def facts(f: Facts) -> BucketFacts:
    """The bucket's versioning, lifecycle rules and object lock as the plan leaves them."""
    notes: list[str] = []
    return BucketFacts(provider=AWS, versioning=_versioning(f, notes),
                       lifecycle=_lifecycle(f, notes), delete_protection=_object_lock(f),
                       notes=tuple(notes))


def _versioning(f: Facts, notes: list[str]) -> VersioningState | Unavailable:
    active = f.related.active(VERSIONING)
    if len(active) > 1:
        notes.append(f"several {VERSIONING} resources name this bucket: "
                     + ", ".join(i.address for i in active) + " (the last applied wins)")
    if active:
        resource = active[-1]
        known, status = f.state(resource, "versioning_configuration", 0, "status")
        if known is Known.AFTER_APPLY:
            return f.after_apply(resource, "versioning_configuration", 0, "status")
        notes.append(f"versioning from {resource.address}")
        text = status.text()
        return _STATUS.get(text or "", VersioningState.NEVER_ENABLED)
    for resource in f.related.deleted(VERSIONING):
        before = resource.before.at("versioning_configuration", 0, "status").text()
        notes.append(f"the plan destroys {resource.address}, which suspends versioning")
        return (VersioningState.SUSPENDED if before == "Enabled"
                else _STATUS.get(before or "", VersioningState.NEVER_ENABLED))
    loose = f.related.unlinked_reason(VERSIONING)
    if loose is not None:
        return loose
    bucket = f.bucket
    known, enabled = f.state(bucket, "versioning", 0, "enabled")
    if known is Known.AFTER_APPLY:
        return f.after_apply(bucket, "versioning", 0, "enabled")
    if known is Known.KNOWN and enabled.value is True:
        notes.append(f"versioning from the inline versioning block of {bucket.address}")
        return VersioningState.ENABLED
    if known is Known.KNOWN and enabled.value is False and _was_enabled(bucket.before):
        return VersioningState.SUSPENDED
    notes.append(f"versioning: not configured on {bucket.address} (no {VERSIONING} for it)")
    return VersioningState.NEVER_ENABLED


def _was_enabled(before: Planned) -> bool:
    return before.at("versioning", 0, "enabled").value is True


def _lifecycle(f: Facts, notes: list[str]) -> tuple[LifecycleRule, ...] | Unavailable:
    active = f.related.active(LIFECYCLE)
    if active:
        resource = active[-1]
        known, rules = f.state(resource, "rule")
        if known is Known.AFTER_APPLY:
            return f.after_apply(resource, "rule")
        return tuple(_rule(r, i, current_status=True) for i, r in enumerate(rules.blocks()))
    loose = f.related.unlinked_reason(LIFECYCLE)
    if loose is not None:
        return loose
    known, inline = f.state(f.bucket, "lifecycle_rule")
    if known is Known.AFTER_APPLY:
        return f.after_apply(f.bucket, "lifecycle_rule")
    if known is Known.KNOWN and inline.blocks():
        notes.append(f"lifecycle from the inline lifecycle_rule blocks of {f.bucket.address}")
        return tuple(_rule(r, i, current_status=False) for i, r in enumerate(inline.blocks()))
    return ()


def _rule(rule: Planned, index: int, current_status: bool) -> LifecycleRule:
    # v4+: status "Enabled"; v3 inline: enabled = true. noncurrent days: noncurrent_days / days.
    enabled = (rule.at("status").value == "Enabled" if current_status
               else rule.at("enabled").value is True)
    expiration = rule.at("expiration", 0)
    days = number(expiration.at("days"))
    date = expiration.at("date").text()
    noncurrent = rule.at("noncurrent_version_expiration", 0)
    noncurrent_days = number(noncurrent.at("noncurrent_days" if current_status else "days"))
    expires_noncurrent = noncurrent.value is not None and (
        noncurrent_days is not None or number(noncurrent.at("newer_noncurrent_versions"))
        is not None)
    parts = []
    if days is not None or date:
        parts.append("expires current objects after "
                     + (days_text(days) if days is not None else str(date)))
    if expires_noncurrent:
        parts.append("expires noncurrent versions"
                     + (f" after {days_text(noncurrent_days)}" if noncurrent_days else ""))
    prefix = rule.at("filter", 0, "prefix").text() or rule.at("prefix").text()
    if prefix:
        parts.append(f"prefix {prefix!r}")
    return LifecycleRule(id=rule.at("id").text() or f"rule {index + 1}", enabled=enabled,
                         expires_current=days is not None or bool(date),
                         expires_noncurrent=expires_noncurrent, description=", ".join(parts))


def _object_lock(f: Facts) -> DeleteProtection | Unavailable:
    active = f.related.active(OBJECT_LOCK)
    if active:
        resource = active[-1]
        known, retention = f.state(resource, "rule", 0, "default_retention", 0)
        if known is Known.AFTER_APPLY:
            return f.after_apply(resource, "rule", 0, "default_retention", 0)
        return _retention(retention, f"{resource.address}: ")
    loose = f.related.unlinked_reason(OBJECT_LOCK)
    if loose is not None:
        return loose
    bucket = f.bucket
    known, inline = f.state(bucket, "object_lock_configuration", 0)
    if known is Known.AFTER_APPLY:
        return f.after_apply(bucket, "object_lock_configuration", 0)
    if known is Known.KNOWN and inline.value:
        return _retention(inline.at("rule", 0, "default_retention", 0), "")
    known, enabled = f.state(bucket, "object_lock_enabled")
    if known is Known.AFTER_APPLY:
        return f.after_apply(bucket, "object_lock_enabled")
    if known is Known.KNOWN and enabled.value is True:
        return DeleteProtection(False, "object lock is enabled without a default retention")
    return DeleteProtection(False, "object lock is not configured")


def _retention(retention: Planned, where: str) -> DeleteProtection:
    mode = retention.at("mode").text()
    days = number(retention.at("days"))
    years = number(retention.at("years"))
    if not mode or (days is None and years is None):
        return DeleteProtection(False, f"{where}object lock is enabled without a default "
                                       "retention")
    length = days_text(days) if days is not None else f"{years:g} years"
    return DeleteProtection(True, f"{where}object lock default retention {mode} {length}")
