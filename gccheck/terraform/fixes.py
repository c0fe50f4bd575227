"""Fixes in Terraform terms: ready-to-paste blocks that name the planned bucket."""

from __future__ import annotations

from gccheck.bucket_url import AWS, AZURE, GCP
from gccheck.neutral import neutralise
from gccheck.terraform import aws
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
