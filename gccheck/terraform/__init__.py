"""Checking a Terraform plan (`terraform show -json tfplan`) or applied state before apply.

    plan = load_plan("plan.json")          # InputError (exit 2) for anything else
    settings = plan.settings()              # the W&B env as planned
    bucket = plan.select_bucket(hint, wandb_bucket_name)
    facts = bucket.facts()                  # BucketFacts from the planned end state
    bucket.fix("bucket-versioning")         # a Terraform block naming that bucket

or, all at once, `gccheck.terraform.target.prepare(path, bucket_hint)`: a `PlanTarget` the
engine uses instead of a live probe (`Prepared.planned`), and `PlanSettingsSource` for the
settings-source interface.

Pure reading: no cloud call, no Terraform binary, no SDK.
"""

from __future__ import annotations

from gccheck.terraform.plan import Plan, PlannedBucket, load_plan

__all__ = ["Plan", "PlannedBucket", "load_plan"]
