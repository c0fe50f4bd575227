"""A Terraform plan (or state) as gccheck reads it: its buckets, which is W&B's, their planned
facts, the planned W&B settings, and fixes in Terraform terms."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from gccheck.bucket_url import AWS, AZURE, GCP, BucketLocation
from gccheck.errors import InputError
from gccheck.masking import mask_url_value
from gccheck.model import (
    BucketFacts,
    DeleteProtection,
    Settings,
    Unavailable,
    UnavailableKind,
)
from gccheck.neutral import neutralise
from gccheck.terraform import aws, azure, gcs
from gccheck.terraform.document import BUCKET_TYPES, Document, Instance, read_document
from gccheck.terraform.facts import Facts, Related
from gccheck.terraform.links import Configuration
from gccheck.terraform.settings import read_settings

PROVIDERS = {"aws_s3_bucket": AWS, "google_storage_bucket": GCP,
             "azurerm_storage_account": AZURE}
_SCHEMES = {"s3": AWS, "gs": GCP, "az": AZURE}
# type -> (arguments that name the target, the target's type)
_LINKS: Mapping[str, tuple[tuple[str, ...], str]] = {
    aws.VERSIONING: (("bucket",), "aws_s3_bucket"),
    aws.LIFECYCLE: (("bucket",), "aws_s3_bucket"),
    aws.OBJECT_LOCK: (("bucket",), "aws_s3_bucket"),
    azure.POLICY: (("storage_account_id",), "azurerm_storage_account"),
    azure.CONTAINER: (("storage_account_id", "storage_account_name"), "azurerm_storage_account"),
    azure.IMMUTABILITY: (("storage_container_resource_manager_id",), azure.CONTAINER),
}
# The attributes whose value identifies a resource when another names it literally.
_IDENTITY = {"aws_s3_bucket": ("bucket", "id"), "google_storage_bucket": ("name", "id"),
             "azurerm_storage_account": ("name", "id"),
             azure.CONTAINER: ("id", "resource_manager_id")}
_RELATED_BY_PROVIDER = {AWS: aws.RELATED, GCP: (), AZURE: azure.RELATED}
_ACTIONS = {"state": "no-op"}


@dataclass(frozen=True)
class PlannedBucket:
    """A bucket (an Azure storage account) as the plan leaves it."""

    address: str | None  # None for a bucket named only (not in the plan)
    provider: str  # gccheck.bucket_url AWS / GCP / AZURE
    name: str | None  # None when known only after apply
    action: str  # create, update, delete, replace, no-op, read
    managed: bool  # False for a data source, a prior_state-only resource or a name only
    why_unmanaged: str = ""
    _facts: Facts | None = field(default=None, repr=False, compare=False)

    @property
    def label(self) -> str:
        """`module.x.aws_s3_bucket.y (name known only after apply)`, safe to print."""
        name = self.name if self.name is not None else "name known only after apply"
        return neutralise(f"{self.address} ({name})" if self.address else name)

    def live_command(self) -> str:
        """How to check this bucket live instead."""
        scheme = {AWS: "s3", GCP: "gs", AZURE: "az"}[self.provider]
        target = (f"{scheme}://{self.name}" + ("/CONTAINER" if self.provider == AZURE else "")
                  if self.name else f"{scheme}://NAME")
        return f"gccheck check --bucket {neutralise(target)} --hosting ..."

    def facts(self) -> BucketFacts:
        """The planned end state as BucketFacts, judged by the same rules as a live bucket."""
        if not self.managed or self._facts is None:
            reason = Unavailable(UnavailableKind.NO_PROBE, neutralise(
                f"{self.label} is not managed by this plan ({self.why_unmanaged}): check it "
                f"live with {self.live_command()}"))
            return BucketFacts(provider=self.provider, versioning=reason,
                               blob_soft_delete=reason if self.provider == AZURE else None,
                               lifecycle=reason, delete_protection=reason)
        if self.action == "delete":
            return BucketFacts(provider=self.provider, missing=True, missing_reason=neutralise(
                f"the plan deletes {self.address}"))
        builder = {AWS: aws.facts, GCP: gcs.facts, AZURE: azure.facts}[self.provider]
        facts = builder(self._facts)
        incomplete = self._facts.config.document.incomplete
        if incomplete:
            facts = replace(facts, notes=(*facts.notes, incomplete))
        return _neutralised(facts)

    def location(self) -> BucketLocation:
        """A BucketLocation for the rules: the bucket shown by its address (its name when it
        is not a resource of the plan); for Azure, the account and its first container."""
        scheme = {AWS: "s3", GCP: "gs", AZURE: "az"}[self.provider]
        shown = self.address or self.name or "unknown"
        if self.provider != AZURE:
            return BucketLocation(scheme, self.provider, shown, masked_url=f"{scheme}://{shown}")
        containers = self._facts.related.active(azure.CONTAINER) if self._facts else []
        container = next((c.after.at("name").text() for c in containers
                          if c.after.at("name").text()), None) or "CONTAINER"
        return BucketLocation(scheme, self.provider, container, account=shown,
                              masked_url=f"az://{shown}/{container}")

    def fix(self, check_id: str) -> str | None:
        """A ready-to-paste Terraform block that fixes `check_id` for this bucket."""
        from gccheck.terraform.fixes import fix_for

        instance = self._facts.bucket if self._facts is not None else None
        return fix_for(check_id, self.provider, instance, self._facts)

    def source(self, check_id: str) -> str | None:
        """The resource address (and attribute) the plan sets what `check_id` judges with;
        None for a check that does not read the bucket or a bucket the plan does not manage."""
        from gccheck.terraform.fixes import source_of

        instance = self._facts.bucket if self._facts is not None else None
        return source_of(check_id, self.provider, instance, self._facts)


def _neutralised(facts: BucketFacts) -> BucketFacts:
    """The facts with every text from the plan (addresses, rule ids, prefixes) made safe."""

    def fact(value: Any) -> Any:
        if isinstance(value, Unavailable):
            return replace(value, reason=neutralise(value.reason))
        if isinstance(value, DeleteProtection):
            return replace(value, description=neutralise(value.description))
        if isinstance(value, tuple):
            return tuple(replace(r, id=neutralise(r.id, 200), description=neutralise(
                r.description)) for r in value)
        return value

    return replace(facts, versioning=fact(facts.versioning),
                   blob_soft_delete=fact(facts.blob_soft_delete), lifecycle=fact(facts.lifecycle),
                   delete_protection=fact(facts.delete_protection),
                   notes=tuple(neutralise(n) for n in facts.notes))


@dataclass(frozen=True)
class Plan:
    """A parsed `terraform show -json` document, indexed once."""

    document: Document
    _buckets: tuple[PlannedBucket, ...] = field(repr=False)

    @property
    def path(self) -> str:
        return self.document.path

    def buckets(self) -> list[PlannedBucket]:
        """Every bucket the plan holds: managed ones first, then data sources."""
        return list(self._buckets)

    def settings(self) -> Settings:
        """The W&B environment as planned (unresolved where sensitive or known after apply)."""
        return read_settings(self.document.path, self.document.instances)

    def select_bucket(self, hint: str | None, wandb_bucket_name: str | None) -> PlannedBucket:
        """W&B's bucket: `hint` (an address or a name), else the one the W&B settings name,
        else the only bucket; InputError listing the candidates otherwise."""
        managed = [b for b in self._buckets if b.managed]
        if hint:
            found = self._by_address(hint) or self._by_name(hint)
            if found is not None:
                return found
            return self._unmatched(hint, "--bucket", managed)
        if wandb_bucket_name:
            found = self._by_name(wandb_bucket_name)
            if found is not None:
                return found
            if managed and all(b.name is not None for b in managed):
                return self._unmatched(wandb_bucket_name, "the W&B settings", managed)
        if len(managed) == 1:
            return managed[0]
        if not managed and len(self._buckets) == 1:
            return self._buckets[0]
        where = f"Terraform plan {neutralise(self.path, 200)}"
        if not self._buckets:
            raise InputError(f"{where}: no bucket in it (aws_s3_bucket, google_storage_bucket, "
                             "azurerm_storage_account); name W&B's with --bucket s3://NAME to "
                             "check it live")
        candidates = managed or list(self._buckets)
        listed = "; ".join(b.label for b in candidates[:10])
        why = ("the W&B settings do not name it (known only after apply or not in the plan)"
               if not wandb_bucket_name else
               f"the W&B settings name {_shown(wandb_bucket_name)}, which is not known")
        raise InputError(f"{where}: {len(candidates)} buckets and {why}; say which is W&B's "
                         f"with --bucket ADDRESS or NAME, e.g. --bucket "
                         f"{neutralise(candidates[0].address or '', 200)}; the buckets: {listed}")

    def _by_address(self, hint: str) -> PlannedBucket | None:
        exact = [b for b in self._buckets if b.address == hint]
        if exact:
            return exact[0]
        # `aws_s3_bucket.flow_log` for `aws_s3_bucket.flow_log[0]`, when it is the only one.
        keyed = [b for b in self._buckets if b.address and _unindexed(b.address) == hint]
        if len(keyed) > 1:
            raise InputError(f"--bucket {neutralise(hint, 200)}: {len(keyed)} instances "
                             f"({', '.join(b.label for b in keyed[:5])}); give one with its "
                             "index")
        if keyed:
            return keyed[0]
        # An Azure container leads to its account.
        for bucket in self._buckets:
            containers = bucket._facts.related.linked.get(azure.CONTAINER, ()) if (
                bucket._facts is not None) else ()
            if any(hint in (c.address, _unindexed(c.address)) for c in containers):
                return bucket
        return None

    def _by_name(self, text: str) -> PlannedBucket | None:
        _, name = _name(text)
        matches = [b for b in self._buckets if b.name == name]
        managed = [b for b in matches if b.managed]
        return (managed or matches)[0] if matches else None

    def _unmatched(self, text: str, given: str, managed: list[PlannedBucket]) -> PlannedBucket:
        provider, name = _name(text)
        providers = {b.provider for b in self._buckets}
        if provider is None and len(providers) == 1:
            provider = next(iter(providers))
        looks_like_address = "." in name and name.split(".")[0] in BUCKET_TYPES | {"module",
                                                                                   "data"}
        if provider is None or looks_like_address:
            listed = "; ".join(b.label for b in managed[:10]) or "none"
            raise InputError(f"{given} {_shown(text)}: not a bucket of Terraform plan "
                             f"{neutralise(self.path, 200)}; its buckets: {listed}")
        return PlannedBucket(None, provider, name, "read", managed=False,
                             why_unmanaged=f"named by {given}, not a resource of the plan")


def _unindexed(address: str) -> str:
    """The address without its instance key: `a.b` for `a.b[0]` or `a.b["x"]`."""
    return address[:address.rfind("[")] if address.endswith("]") else address


def _shown(url: str) -> str:
    """A bucket URL or name as it may be printed: keys masked, control characters escaped."""
    return neutralise(mask_url_value(url), 200)


def _name(text: str) -> tuple[str | None, str]:
    """(provider, bucket or account name) of `s3://b/path`, `az://account/container`, `b`."""
    scheme, sep, rest = text.partition("://")
    if not sep:
        return None, text
    return _SCHEMES.get(scheme), rest.split("@")[-1].split("/")[0].split("?")[0]


def load_plan(path: str) -> Plan:
    """Read `terraform show -json` output (a plan, or an applied state); InputError otherwise."""
    document = read_document(path)
    config = Configuration(document)
    related = _link(document, config)
    buckets = []
    for instance in document.instances:
        if instance.type not in BUCKET_TYPES:
            continue
        provider = PROVIDERS[instance.type]
        # `forget` (a `removed` block, Terraform 1.7+) leaves the bucket as it is, unmanaged.
        forgotten = instance.action == "forget"
        managed = (instance.mode == "managed" and not instance.in_prior_state_only
                   and not forgotten)
        why = ("a data source" if instance.mode == "data" else
               "found only in prior_state" if instance.in_prior_state_only else
               "the plan forgets it: a removed block" if forgotten else "")
        name_attr = _IDENTITY[instance.type][0]
        planned = instance.after.at(name_attr)
        if instance.action in ("delete", "forget"):
            planned = instance.before.at(name_attr)
        # A name the plan marks sensitive is never shown: it counts as not known.
        name = None if planned.is_sensitive else planned.text()
        facts = Facts(instance, related.get(instance.address, Related()), config)
        buckets.append(PlannedBucket(instance.address, provider, name,
                                     _ACTIONS.get(instance.action, instance.action), managed,
                                     why, facts if managed else None))
    buckets.sort(key=lambda b: not b.managed)
    return Plan(document, tuple(buckets))


def _link(document: Document, config: Configuration) -> dict[str, Related]:
    """bucket address -> the resources linked to it (one pass over the kept resources)."""
    by_identity: dict[tuple[str, str], str] = {}
    # A data source often reads a bucket the plan also manages: the managed one wins.
    for instance in sorted(document.instances, key=lambda i: i.mode != "managed"):
        for attr in _IDENTITY.get(instance.type, ()):
            value = instance.after.at(attr).text()
            if value:
                by_identity.setdefault((instance.type, value.lower()), instance.address)
    by_address = {instance.address: instance for instance in document.instances}
    links: dict[str, tuple[str | None, str]] = {}  # address -> (target, why not)
    order = sorted((i for i in document.instances if i.type in _LINKS),
                   key=lambda i: i.type != azure.CONTAINER)  # containers first: policies use them
    linked: dict[str, dict[str, list[Instance]]] = {}
    unlinked: dict[str, list[tuple[Instance, str]]] = {}
    for instance in order:
        attrs, target_type = _LINKS[instance.type]
        target, why = _target(instance, attrs, target_type, by_identity, by_address, config)
        if target is not None and target_type == azure.CONTAINER:
            target, why = links.get(target, (None, f"its container {target} has no account"))
        links[instance.address] = (target, why)
        if target is not None:
            linked.setdefault(target, {}).setdefault(instance.type, []).append(instance)
        elif why:
            unlinked.setdefault(instance.type, []).append((instance, why))
    related: dict[str, Related] = {}
    for instance in document.instances:
        if instance.type in BUCKET_TYPES:
            types = _RELATED_BY_PROVIDER[PROVIDERS[instance.type]]
            related[instance.address] = Related(
                {t: tuple(v) for t, v in linked.get(instance.address, {}).items()},
                {t: tuple(unlinked[t]) for t in types if t in unlinked})
    return related


def _target(instance: Instance, attrs: tuple[str, ...], target_type: str,
            by_identity: Mapping[tuple[str, str], str], instances: Mapping[str, Instance],
            config: Configuration) -> tuple[str | None, str]:
    """The resource `instance` names in `attrs`; (None, "") when it names one outside the plan,
    (None, why) when the plan does not say which."""
    reasons: list[str] = []
    for attr in attrs:
        literal = instance.after.at(attr).text()
        if literal:
            found = _by_literal(target_type, literal, by_identity)
            if found is not None:
                return found, ""
            return None, ""  # a bucket this plan does not hold
        if not config.sets(instance, attr):
            continue
        link = config.follow(instance, attr)
        # A data source of the type counts when it reads a bucket the plan manages.
        names = set(link.names)
        targets = set()
        for address in link.targets:
            target = instances.get(address)
            if target is None or target.type != target_type:
                continue
            if target.mode == "managed":
                targets.add(address)
            elif (name := target.after.at(_IDENTITY[target_type][0]).text()) is not None:
                names.add(name)
        targets |= {found for name in names
                    if (found := _by_literal(target_type, name, by_identity)) is not None}
        if len(targets) == 1:
            return targets.pop(), ""
        if targets:
            reasons.append(f"{attr} may be any of {', '.join(sorted(targets)[:3])}")
        elif link.unfollowed:
            reasons.append(f"{attr} uses {', '.join(link.unfollowed[:2])}")
        else:
            # Known only after apply and not a reference to one of the plan's buckets: it may
            # still be one of them (a name built the same way), or a bucket outside the plan.
            refs = ", ".join(sorted(link.targets)[:2])
            reasons.append(f"{attr} is known only after apply and does not reference a "
                           f"{target_type} of the plan" + (f" (it uses {refs})" if refs else ""))
    return None, "; ".join(reasons)


def _by_literal(target_type: str, literal: str,
                by_identity: Mapping[tuple[str, str], str]) -> str | None:
    value = literal.lower()
    found = by_identity.get((target_type, value))
    if found is None and "/storageaccounts/" in value:
        found = by_identity.get((target_type, value.split("/storageaccounts/")[1].split("/")[0]))
    return found
