"""Planned facts of an `azurerm_storage_account` (hashicorp/azurerm): blob soft delete is a
property of the account, so the account is what is judged.

`blob_properties[0].delete_retention_policy[0].days` present = on; the block absent or empty =
off. `container_delete_retention_policy` is container soft delete, a different setting.
Lifecycle: `azurerm_storage_management_policy` (rule.actions.base_blob / version / snapshot).
Delete protection: `azurerm_storage_container_immutability_policy` on a container of the
account, or the account's own `immutability_policy`.
"""

from __future__ import annotations

from gccheck.bucket_url import AZURE
from gccheck.model import BucketFacts, DeleteProtection, LifecycleRule, SoftDelete, Unavailable
from gccheck.terraform.facts import Facts, Known, days_text, number
from gccheck.terraform.values import Planned

POLICY = "azurerm_storage_management_policy"
CONTAINER = "azurerm_storage_container"
IMMUTABILITY = "azurerm_storage_container_immutability_policy"
RELATED = (POLICY, CONTAINER, IMMUTABILITY)


def facts(f: Facts) -> BucketFacts:
    """The account's blob soft delete, lifecycle (management policy) and immutability."""
    notes = _notes(f)
    return BucketFacts(provider=AZURE, blob_soft_delete=_soft_delete(f, notes),
                       lifecycle=_lifecycle(f), delete_protection=_protection(f),
                       notes=tuple(notes))


def _soft_delete(f: Facts, notes: list[str]) -> SoftDelete | Unavailable:
    path = ("blob_properties", 0, "delete_retention_policy")
    known, policy = f.state(f.bucket, *path)
    if known is Known.AFTER_APPLY:
        days_known, _ = f.state(f.bucket, *path, 0, "days")
        if days_known is not Known.DEFAULT:
            return f.after_apply(f.bucket, *path, 0, "days")
        return SoftDelete(True, 7.0)  # the block is set, days left to its default
    if known is Known.DEFAULT or not policy.blocks():
        notes.append(f"blob soft delete: not configured on {f.bucket.address} "
                     "(no blob_properties.delete_retention_policy)")
        return SoftDelete(False)
    days = number(policy.at(0, "days"))
    return SoftDelete(True, days if days is not None else 7.0)


def _notes(f: Facts) -> list[str]:
    notes = []
    props = f.bucket.after.at("blob_properties", 0)
    versioning = props.at("versioning_enabled")
    if not versioning.is_unknown and versioning.value is not None:
        notes.append(f"blob versioning: {'on' if versioning.value else 'off'}")
    container = props.at("container_delete_retention_policy", 0)
    if not container.has_unknown:
        days = number(container.at("days"))
        notes.append("container soft delete (not blob soft delete): "
                     + ((f"on ({days_text(days)})" if days else "on") if container.value else "off"))
    return notes


def _lifecycle(f: Facts) -> tuple[LifecycleRule, ...] | Unavailable:
    active = f.related.active(POLICY)
    if not active:
        loose = f.related.unlinked_reason(POLICY)
        return loose if loose is not None else ()
    resource = active[-1]
    known, rules = f.state(resource, "rule")
    if known is Known.AFTER_APPLY:
        return f.after_apply(resource, "rule")
    return tuple(_rule(rule, i) for i, rule in enumerate(rules.blocks()))


def _rule(rule: Planned, index: int) -> LifecycleRule:
    actions = rule.at("actions", 0)
    base = actions.at("base_blob", 0)
    current = [number(base.at(key)) for key in (
        "delete_after_days_since_modification_greater_than",
        "delete_after_days_since_last_access_time_greater_than",
        "delete_after_days_since_creation_greater_than")]
    version = number(actions.at("version", 0, "delete_after_days_since_creation"))
    snapshot = number(actions.at("snapshot", 0, "delete_after_days_since_creation_greater_than"))
    days = next((d for d in current if d is not None), None)
    parts = []
    if days is not None:
        parts.append(f"deletes current blobs after {days_text(days)}")
    if version is not None:
        parts.append(f"deletes previous versions after {days_text(version)}")
    if snapshot is not None:
        parts.append(f"deletes snapshots after {days_text(snapshot)}")
    return LifecycleRule(id=rule.at("name").text() or f"rule {index + 1}",
                         enabled=rule.at("enabled").value is not False,
                         expires_current=days is not None,
                         expires_noncurrent=version is not None, description=", ".join(parts))


def _protection(f: Facts) -> DeleteProtection | Unavailable:
    found = []
    for policy in f.related.active(IMMUTABILITY):
        known, period = f.state(policy, "immutability_period_in_days")
        if known is Known.AFTER_APPLY:
            return f.after_apply(policy, "immutability_period_in_days")
        days = number(period)
        locked = " (locked)" if policy.after.at("locked").value is True else ""
        found.append(f"container immutability policy {policy.address}"
                     + (f" of {days_text(days)}" if days else "") + locked)
    loose = f.related.unlinked_reason(IMMUTABILITY)
    if loose is not None and not found:
        return loose
    known, account = f.state(f.bucket, "immutability_policy", 0)
    if known is Known.AFTER_APPLY:
        return f.after_apply(f.bucket, "immutability_policy", 0)
    state = account.at("state").text()
    if known is Known.KNOWN and account.value and state != "Disabled":
        days = number(account.at("period_since_creation_in_days"))
        found.append(f"account immutability policy ({state or 'enabled'}"
                     + (f", {days_text(days)}" if days else "") + ")")
    if found:
        return DeleteProtection(True, " and ".join(found))
    return DeleteProtection(False, "no immutability policy in the plan")
