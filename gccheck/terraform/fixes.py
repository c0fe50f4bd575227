"""Fixes in Terraform terms: ready-to-paste blocks that name the planned bucket."""

from __future__ import annotations

from gccheck.bucket_url import AWS, AZURE, GCP
from gccheck.neutral import neutralise
from gccheck.terraform import aws, azure
from gccheck.terraform.document import Instance
from gccheck.terraform.facts import Facts
from gccheck.terraform.settings import FIX_MODULE, GC_VARIABLE


def fix_for(check_id: str, provider: str, bucket: Instance | None,
            facts: Facts | None) -> str | None:
    """The block that fixes `check_id` for `bucket`; None when gccheck has none."""
    if check_id == "gc-env-var":
        return FIX_MODULE.replace("{name}", GC_VARIABLE).replace("{value}", "true")
    if bucket is None:
        return None
    if check_id == "bucket-versioning" and provider == AWS:
        return _aws_versioning(bucket, facts)
    if check_id == "bucket-versioning" and provider == GCP:
        return _inside(bucket, "versioning {\n    enabled = true\n  }")
    if check_id in ("blob-soft-delete", "bucket-versioning") and provider == AZURE:
        return _inside(bucket, "blob_properties {\n    delete_retention_policy {\n"
                               "      days = 7\n    }\n  }")
    if check_id == "noncurrent-never-expire":
        return _noncurrent(provider, bucket)
    where = source_of(check_id, provider, bucket, facts)
    if where is not None:
        # Advisories whose fix is to take something out: say where it is set.
        return neutralise(f"change {where} (see gccheck explain {check_id}), then terraform "
                          "apply", None)
    return None


def _noncurrent(provider: str, bucket: Instance) -> str | None:
    if provider == AWS:
        label = bucket.name if bucket.name.isidentifier() else "wandb"
        return neutralise(
            f"add {_where(bucket)}, then terraform apply (a bucket with an "
            "aws_s3_bucket_lifecycle_configuration already: add the rule to it instead):\n"
            f"resource \"aws_s3_bucket_lifecycle_configuration\" \"{label}\" {{\n"
            f"  bucket = {_reference(bucket)}.id\n"
            "  rule {\n    id     = \"expire-noncurrent\"\n    status = \"Enabled\"\n"
            "    filter {}\n    noncurrent_version_expiration {\n      noncurrent_days = 30\n"
            "    }\n  }\n}", None, multiline=True)
    if provider == GCP:
        return _inside(bucket, "lifecycle_rule {\n    condition {\n"
                               "      days_since_noncurrent_time = 30\n    }\n"
                               "    action {\n      type = \"Delete\"\n    }\n  }")
    return None


def _reference(bucket: Instance) -> str:
    """`aws_s3_bucket.flow_log[0]`: how the bucket's own module refers to it."""
    key = bucket.address[bucket.address.rfind(f"{bucket.type}.{bucket.name}")
                         + len(f"{bucket.type}.{bucket.name}"):]
    return f"{bucket.type}.{bucket.name}{key}"


def _where(bucket: Instance) -> str:
    if not bucket.module:
        return "in the root module"
    return (f"in {bucket.module} (the module that declares {_reference(bucket)}; for a "
            "registry module you do not edit, declare it in your root module with bucket = the "
            "module's bucket name output)")


def _aws_versioning(bucket: Instance, facts: Facts | None) -> str:
    existing = facts.related.active(aws.VERSIONING) if facts is not None else []
    if existing:
        return neutralise(f"set the status in {existing[-1].address}, then terraform apply:\n"
                          "  versioning_configuration {\n    status = \"Enabled\"\n  }",
                          None, multiline=True)
    label = bucket.name if bucket.name.isidentifier() else "wandb"
    return neutralise(
        f"add {_where(bucket)}, then terraform apply:\n"
        f"resource \"aws_s3_bucket_versioning\" \"{label}\" {{\n"
        f"  bucket = {_reference(bucket)}.id\n"
        "  versioning_configuration {\n    status = \"Enabled\"\n  }\n}", None, multiline=True)


def _inside(bucket: Instance, block: str) -> str:
    return neutralise(
        f"add inside resource \"{bucket.type}\" \"{bucket.name}\" ({bucket.address}), then "
        f"terraform apply:\n  {block}", None, multiline=True)


# check id -> (the resource type that holds the fact when linked, its attribute), per provider;
# else the bucket's own attribute. Checks that share a rule (delete protection) share a row.
_PROVENANCE: dict[str, dict[str, tuple[str | None, str, str]]] = {
    "bucket-versioning": {
        AWS: (aws.VERSIONING, "versioning_configuration[0].status", "versioning[0].enabled"),
        GCP: (None, "", "versioning[0].enabled")},
    "blob-soft-delete": {
        AZURE: (None, "", "blob_properties[0].delete_retention_policy")},
    "lifecycle-expires-current": {
        AWS: (aws.LIFECYCLE, "rule", "lifecycle_rule"),
        GCP: (None, "", "lifecycle_rule"), AZURE: (azure.POLICY, "rule", "")},
    "object-lock-retention": {
        AWS: (aws.OBJECT_LOCK, "rule[0].default_retention", "object_lock_configuration")},
    "retention-policy": {GCP: (None, "", "retention_policy")},
    "immutability-policy": {AZURE: (azure.IMMUTABILITY, "", "immutability_policy")},
}
_PROVENANCE["noncurrent-never-expire"] = _PROVENANCE["lifecycle-expires-current"]


def source_of(check_id: str, provider: str, bucket: Instance | None,
              facts: Facts | None) -> str | None:
    """Where the plan says what `check_id` judges: the resource address (module path
    included) and, where known, its attribute; None for a check that does not read the bucket."""
    if bucket is None:
        return None
    row = _PROVENANCE.get(check_id, {}).get(provider)
    if row is None:
        return None
    linked_type, linked_attr, own_attr = row
    linked = facts.related.active(linked_type) if facts is not None and linked_type else []
    if linked:
        where = linked[-1].address + (f".{linked_attr}" if linked_attr else "")
    else:
        where = bucket.address + (f".{own_attr}" if own_attr else "")
    return neutralise(where, 300)
