"""Bucket facts from a plan's end state, per provider, judged by the same rules as a live bucket."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fixtures.terraform import plans
from fixtures.terraform.plans import const, ref, resource_config

from gccheck.bucket_url import AZURE, BucketLocation
from gccheck.matrix import load_matrix
from gccheck.model import (
    BucketFacts,
    DeleteProtection,
    Setting,
    Settings,
    SoftDelete,
    Status,
    Unavailable,
    VersioningState,
)
from gccheck.rules import RULES, Context, evaluate
from gccheck.terraform import PlannedBucket, load_plan

MATRIX = load_matrix(None, RULES)
TOP = "module.wandb_infra"
FS = f"{TOP}.module.file_storage"
FILE_STORAGE = f"{FS}.aws_s3_bucket.file_storage"
FLOW_LOG = f"{TOP}.module.networking.aws_s3_bucket.flow_log[0]"
GCS = "module.wandb.module.storage.module.bucket.google_storage_bucket.file_storage"
ACCOUNT = "module.wandb.module.storage.azurerm_storage_account.default"
STORAGE = "module.wandb.module.storage"


def _bucket(tmp_path: Path, doc: dict[str, Any], address: str = FILE_STORAGE) -> PlannedBucket:
    return load_plan(plans.write(tmp_path, doc)).select_bucket(address, None)


def verdict(bucket: PlannedBucket, check: str) -> tuple[Status, str, str | None]:
    """The rules' verdict on `check` for the planned facts."""
    scheme = {"aws": "s3", "gcp": "gs", "azure": "az"}[bucket.provider]
    location = BucketLocation(scheme, bucket.provider, bucket.name or "planned",
                              account=bucket.name if bucket.provider == AZURE else None)
    settings = Settings("plan", {"GORILLA_ARTIFACT_GC_ENABLED": Setting(
        "GORILLA_ARTIFACT_GC_ENABLED", "true", "plan")})
    ctx = Context(MATRIX, MATRIX.hosting_types["customer-managed-cloud"], settings, location,
                  bucket.facts())
    result = next(r for r in evaluate(ctx) if r.id == check)
    return result.status, result.summary, result.remediation


def _versioning(status: Any, unknown: Any = None, bucket_ref: Any = None,
                name: str = "file_storage") -> tuple[dict[str, Any], dict[str, Any]]:
    after: dict[str, Any] = {"expected_bucket_owner": None, "mfa": None,
                             "versioning_configuration": [{"mfa_delete": None}]}
    if status is not None:
        after["versioning_configuration"][0]["status"] = status
    change = plans.change(FS, "aws_s3_bucket_versioning", name, after,
                          {"id": True, "bucket": True, **(unknown or {})})
    config = resource_config("aws_s3_bucket_versioning", name, {
        "bucket": bucket_ref or ref("aws_s3_bucket.file_storage.id", "aws_s3_bucket.file_storage"),
        "versioning_configuration": [{"status": const(status) if status else ref(
            "var.versioning_status")}]})
    return change, config


# ---- AWS ------------------------------------------------------------------------------------


def test_aws_module_as_is_fails_and_names_the_fix(tmp_path: Path) -> None:
    doc = plans.aws_create()
    # The inline block is computed (after_unknown) but not configured: versioning is off.
    assert plans.find(doc, FILE_STORAGE)["change"]["after_unknown"]["versioning"] is True
    bucket = _bucket(tmp_path, doc)
    assert bucket.facts().versioning is VersioningState.NEVER_ENABLED
    status, summary, _ = verdict(bucket, "bucket-versioning")
    assert status is Status.FAIL and "never enabled" in summary
    fix = bucket.fix("bucket-versioning")
    assert fix is not None
    assert 'resource "aws_s3_bucket_versioning" "file_storage"' in fix
    assert "bucket = aws_s3_bucket.file_storage.id" in fix
    assert 'status = "Enabled"' in fix and FS in fix


@pytest.mark.parametrize(("status", "expected", "verdict_status"), [
    ("Enabled", VersioningState.ENABLED, Status.PASS),
    ("Suspended", VersioningState.SUSPENDED, Status.FAIL),
    ("Disabled", VersioningState.NEVER_ENABLED, Status.FAIL),
])
def test_aws_versioning_resource_linked_by_reference(tmp_path: Path, status: str,
                                                     expected: VersioningState,
                                                     verdict_status: Status) -> None:
    doc = plans.aws_create()
    plans.add(doc, *_versioning(status), "wandb_infra", "file_storage")
    bucket = _bucket(tmp_path, doc)
    assert bucket.facts().versioning is expected
    assert verdict(bucket, "bucket-versioning")[0] is verdict_status
    # The other bucket is not touched by it.
    assert _bucket(tmp_path, doc, FLOW_LOG).facts().versioning is VersioningState.NEVER_ENABLED


def test_aws_versioning_status_known_only_after_apply(tmp_path: Path) -> None:
    doc = plans.aws_create()
    plans.add(doc, *_versioning(None, {"versioning_configuration": [{"status": True}]}),
              "wandb_infra", "file_storage")
    bucket = _bucket(tmp_path, doc)
    state = bucket.facts().versioning
    assert isinstance(state, Unavailable)
    assert "known only after apply" in state.reason
    assert "versioning_configuration[0].status" in state.reason
    assert verdict(bucket, "bucket-versioning")[0] is Status.UNKNOWN


def test_aws_versioning_in_the_root_module_through_two_module_outputs(tmp_path: Path) -> None:
    doc = plans.aws_create()
    change, config = _versioning("Enabled", bucket_ref=ref("module.wandb_infra.bucket_name",
                                                           "module.wandb_infra"), name="wandb")
    change.pop("module_address")
    change["address"] = "aws_s3_bucket_versioning.wandb"
    plans.add(doc, change, config)
    assert _bucket(tmp_path, doc).facts().versioning is VersioningState.ENABLED


def test_aws_versioning_through_a_local_cannot_be_linked(tmp_path: Path) -> None:
    doc = plans.aws_create()
    plans.add(doc, *_versioning("Enabled", bucket_ref=ref("local.bucket_id")),
              "wandb_infra", "file_storage")
    state = _bucket(tmp_path, doc).facts().versioning
    assert isinstance(state, Unavailable)
    assert "could not be linked" in state.reason and "locals are not in the plan JSON" in (
        state.reason)


def test_aws_versioning_linked_by_literal_name(tmp_path: Path) -> None:
    doc = plans.aws_create()
    change, config = _versioning("Enabled", bucket_ref=const("wandb-vpc-flow-logs"))
    change["change"]["after"]["bucket"] = "wandb-vpc-flow-logs"
    plans.add(doc, change, config, "wandb_infra", "file_storage")
    assert _bucket(tmp_path, doc, FLOW_LOG).facts().versioning is VersioningState.ENABLED
    assert (_bucket(tmp_path, doc).facts().versioning is VersioningState.NEVER_ENABLED)


def test_aws_versioning_resource_destroyed_suspends(tmp_path: Path) -> None:
    doc = plans.aws_create()
    change, config = _versioning("Enabled")
    change["change"].update(actions=["delete"], before=change["change"]["after"], after=None,
                            after_unknown={})
    plans.add(doc, change, config, "wandb_infra", "file_storage")
    facts = _bucket(tmp_path, doc).facts()
    assert facts.versioning is VersioningState.SUSPENDED
    assert any("suspends versioning" in n for n in facts.notes)


@pytest.mark.parametrize(("enabled", "expected"), [
    (True, VersioningState.ENABLED), (False, VersioningState.NEVER_ENABLED)])
def test_aws_inline_versioning_provider_v3(tmp_path: Path, enabled: bool,
                                           expected: VersioningState) -> None:
    doc = plans.aws_create()
    change = plans.find(doc, FILE_STORAGE)["change"]
    change["after"]["versioning"] = [{"enabled": enabled, "mfa_delete": False}]
    del change["after_unknown"]["versioning"]
    config = plans.module_config(doc, "wandb_infra", "file_storage")["resources"][1]
    config["expressions"]["versioning"] = [{"enabled": const(enabled)}]
    assert _bucket(tmp_path, doc).facts().versioning is expected


def test_aws_inline_versioning_known_only_after_apply(tmp_path: Path) -> None:
    doc = plans.aws_create()
    change = plans.find(doc, FILE_STORAGE)["change"]
    change["after_unknown"]["versioning"] = [{"enabled": True}]
    config = plans.module_config(doc, "wandb_infra", "file_storage")["resources"][1]
    config["expressions"]["versioning"] = [{"enabled": ref("var.versioning")}]
    state = _bucket(tmp_path, doc).facts().versioning
    assert isinstance(state, Unavailable) and "versioning[0].enabled" in state.reason


def test_aws_inline_versioning_suspended_on_an_existing_bucket(tmp_path: Path) -> None:
    doc = plans.aws_create()
    change = plans.find(doc, FILE_STORAGE)["change"]
    change.update(actions=["update"], before={"bucket": "b", "versioning": [{"enabled": True}]},
                  after={"bucket": "b", "versioning": [{"enabled": False}]}, after_unknown={})
    assert _bucket(tmp_path, doc).facts().versioning is VersioningState.SUSPENDED


def test_aws_count_instances_link_by_the_same_key(tmp_path: Path) -> None:
    doc = plans.aws_create()
    flow = plans.find(doc, FLOW_LOG)
    second = plans.change(f"{TOP}.module.networking", "aws_s3_bucket", "flow_log",
                          {"bucket": "wandb-vpc-flow-logs-2"}, {}, index=1)
    doc["resource_changes"].append(second)
    for index, status in ((0, "Suspended"), (1, "Enabled")):
        change = plans.change(f"{TOP}.module.networking", "aws_s3_bucket_versioning", "flow_log",
                              {"versioning_configuration": [{"status": status}]},
                              {"bucket": True}, index=index)
        doc["resource_changes"].append(change)
    plans.module_config(doc, "wandb_infra", "networking")["resources"].append(resource_config(
        "aws_s3_bucket_versioning", "flow_log", {"bucket": ref(
            "aws_s3_bucket.flow_log", "count.index")}))
    assert flow["address"] == FLOW_LOG
    assert _bucket(tmp_path, doc, FLOW_LOG).facts().versioning is VersioningState.SUSPENDED
    second_bucket = _bucket(tmp_path, doc, second["address"])
    assert second_bucket.facts().versioning is VersioningState.ENABLED


def test_aws_lifecycle_separate_and_inline(tmp_path: Path) -> None:
    doc = plans.aws_create()
    lifecycle = plans.change(FS, "aws_s3_bucket_lifecycle_configuration", "file_storage", {
        "rule": [{"id": "expire-all", "status": "Enabled",
                  "expiration": [{"days": 30, "date": None, "expired_object_delete_marker": None}],
                  "noncurrent_version_expiration": [], "filter": [{"prefix": "tmp/"}]},
                 {"id": "noncurrent", "status": "Enabled", "expiration": [],
                  "noncurrent_version_expiration": [{"noncurrent_days": 7,
                                                     "newer_noncurrent_versions": None}]}]},
        {"bucket": True, "id": True})
    plans.add(doc, lifecycle, resource_config(
        "aws_s3_bucket_lifecycle_configuration", "file_storage",
        {"bucket": ref("aws_s3_bucket.file_storage.id", "aws_s3_bucket.file_storage")}),
        "wandb_infra", "file_storage")
    rules = _bucket(tmp_path, doc).facts().lifecycle
    assert isinstance(rules, tuple)
    assert [(r.id, r.enabled, r.expires_current, r.expires_noncurrent) for r in rules] == [
        ("expire-all", True, True, False), ("noncurrent", True, False, True)]
    assert "prefix 'tmp/'" in rules[0].description
    # v3 inline form on the other bucket.
    flow = plans.find(doc, FLOW_LOG)["change"]
    flow["after"]["lifecycle_rule"] = [{"id": "old", "enabled": True, "expiration": [
        {"days": 90}], "noncurrent_version_expiration": [{"days": 30}]}]
    del flow["after_unknown"]["lifecycle_rule"]
    inline = _bucket(tmp_path, doc, FLOW_LOG).facts().lifecycle
    assert isinstance(inline, tuple)
    assert [(r.id, r.expires_current, r.expires_noncurrent) for r in inline] == [
        ("old", True, True)]


def test_aws_object_lock(tmp_path: Path) -> None:
    doc = plans.aws_create()
    lock = plans.change(FS, "aws_s3_bucket_object_lock_configuration", "file_storage", {
        "object_lock_enabled": "Enabled", "rule": [{"default_retention": [
            {"mode": "GOVERNANCE", "days": 30, "years": None}]}]}, {"bucket": True})
    plans.add(doc, lock, resource_config(
        "aws_s3_bucket_object_lock_configuration", "file_storage",
        {"bucket": ref("aws_s3_bucket.file_storage.id", "aws_s3_bucket.file_storage")}),
        "wandb_infra", "file_storage")
    protection = _bucket(tmp_path, doc).facts().delete_protection
    assert isinstance(protection, DeleteProtection) and protection.active
    assert "GOVERNANCE 30 days" in protection.description
    flow = plans.find(doc, FLOW_LOG)["change"]
    flow["after"]["object_lock_enabled"] = True
    del flow["after_unknown"]["object_lock_enabled"]
    assert _bucket(tmp_path, doc, FLOW_LOG).facts().delete_protection == DeleteProtection(
        False, "object lock is enabled without a default retention")


# ---- GCS ------------------------------------------------------------------------------------


def _gcs(tmp_path: Path, after: dict[str, Any] | None = None, unknown: dict[str, Any] | None = None,
         config: dict[str, Any] | None = None) -> PlannedBucket:
    doc = plans.gcp_create()
    change = plans.find(doc, GCS)["change"]
    change["after"].update(after or {})
    change["after_unknown"].update(unknown or {})
    resources = plans.module_config(doc, "wandb", "storage", "bucket")["resources"]
    resources[0]["expressions"].update(config or {})
    return _bucket(tmp_path, doc, GCS)


def test_gcs_module_as_is_fails_and_names_the_fix(tmp_path: Path) -> None:
    bucket = _gcs(tmp_path)
    assert bucket.facts().versioning is VersioningState.DISABLED
    status, summary, _ = verdict(bucket, "bucket-versioning")
    assert status is Status.FAIL and "disabled" in summary
    fix = bucket.fix("bucket-versioning")
    assert fix is not None and "versioning {\n    enabled = true\n  }" in fix
    assert 'resource "google_storage_bucket" "file_storage"' in fix
    assert any("soft delete: not configured (GCS default, 7 days" in n
               for n in bucket.facts().notes)


@pytest.mark.parametrize(("enabled", "expected"), [
    (True, VersioningState.ENABLED), (False, VersioningState.DISABLED)])
def test_gcs_versioning_set(tmp_path: Path, enabled: bool, expected: VersioningState) -> None:
    bucket = _gcs(tmp_path, {"versioning": [{"enabled": enabled}]},
                  config={"versioning": [{"enabled": const(enabled)}]})
    assert bucket.facts().versioning is expected
    assert verdict(bucket, "bucket-versioning")[0] is (Status.PASS if enabled else Status.FAIL)


def test_gcs_versioning_computed_but_not_configured_is_off(tmp_path: Path) -> None:
    doc = plans.gcp_create()
    change = plans.find(doc, GCS)["change"]
    del change["after"]["versioning"]
    change["after_unknown"]["versioning"] = True
    assert _bucket(tmp_path, doc, GCS).facts().versioning is VersioningState.DISABLED


def test_gcs_versioning_known_only_after_apply(tmp_path: Path) -> None:
    bucket = _gcs(tmp_path, {"versioning": [{}]}, {"versioning": [{"enabled": True}]},
                  {"versioning": [{"enabled": ref("var.versioning")}]})
    state = bucket.facts().versioning
    assert isinstance(state, Unavailable) and "known only after apply" in state.reason
    assert "var.versioning" in state.reason


def test_gcs_lifecycle_retention_and_soft_delete(tmp_path: Path) -> None:
    bucket = _gcs(tmp_path, {
        "lifecycle_rule": [
            {"action": [{"type": "Delete", "storage_class": ""}], "condition": [
                {"age": 30, "with_state": "ANY", "num_newer_versions": 0}]},
            {"action": [{"type": "Delete", "storage_class": ""}], "condition": [
                {"age": 0, "with_state": "ARCHIVED", "num_newer_versions": 3}]},
            {"action": [{"type": "SetStorageClass", "storage_class": "NEARLINE"}],
             "condition": [{"age": 10}]}],
        "retention_policy": [{"retention_period": 86400 * 3, "is_locked": True}],
        "soft_delete_policy": [{"retention_duration_seconds": 0}]},
        {"soft_delete_policy": False})
    facts = bucket.facts()
    assert isinstance(facts.lifecycle, tuple)
    assert [(r.expires_current, r.expires_noncurrent) for r in facts.lifecycle] == [
        (True, True), (False, True), (False, False)]
    assert facts.delete_protection == DeleteProtection(
        True, "bucket retention policy of 3 days (locked)")
    assert "soft delete: off" in facts.notes


# ---- Azure ----------------------------------------------------------------------------------


def _azure(tmp_path: Path, retention: Any, *, unknown: Any = None,
           config: dict[str, Any] | None = None,
           container_retention: Any = None) -> PlannedBucket:
    doc = plans.azure_create()
    change = plans.find(doc, ACCOUNT)["change"]
    props = change["after"]["blob_properties"][0]
    props["delete_retention_policy"] = retention
    if container_retention is not None:
        props["container_delete_retention_policy"] = container_retention
    if unknown is not None:
        change["after_unknown"]["blob_properties"][0]["delete_retention_policy"] = unknown
    if config is not None:
        resources = plans.module_config(doc, "wandb", "storage")["resources"]
        resources[0]["expressions"]["blob_properties"][0].update(config)
    return _bucket(tmp_path, doc, ACCOUNT)


def test_azure_module_as_is_fails_and_names_the_fix(tmp_path: Path) -> None:
    bucket = _azure(tmp_path, [])
    assert bucket.facts().blob_soft_delete == SoftDelete(False)
    status, summary, _ = verdict(bucket, "blob-soft-delete")
    assert status is Status.FAIL and "wandbstorage" in summary
    fix = bucket.fix("blob-soft-delete")
    assert fix is not None and "delete_retention_policy {\n      days = 7" in fix


def test_azure_container_soft_delete_is_not_blob_soft_delete(tmp_path: Path) -> None:
    bucket = _azure(tmp_path, [], container_retention=[{"days": 7}])
    facts = bucket.facts()
    assert facts.blob_soft_delete == SoftDelete(False)
    assert "container soft delete (not blob soft delete): on (7 days)" in facts.notes


def test_azure_soft_delete_on(tmp_path: Path) -> None:
    bucket = _azure(tmp_path, [{"days": 14, "permanent_delete_enabled": False}],
                    config={"delete_retention_policy": [{"days": const(14)}]})
    assert bucket.facts().blob_soft_delete == SoftDelete(True, 14.0)
    assert verdict(bucket, "blob-soft-delete")[0] is Status.PASS


def test_azure_soft_delete_days_known_only_after_apply(tmp_path: Path) -> None:
    bucket = _azure(tmp_path, [{}], unknown=[{"days": True}],
                    config={"delete_retention_policy": [{"days": ref("var.retention_days")}]})
    state = bucket.facts().blob_soft_delete
    assert isinstance(state, Unavailable) and "known only after apply" in state.reason
    assert verdict(bucket, "blob-soft-delete")[0] is Status.UNKNOWN


def test_azure_blob_properties_computed_but_not_configured_is_off(tmp_path: Path) -> None:
    doc = plans.azure_create()
    change = plans.find(doc, ACCOUNT)["change"]
    del change["after"]["blob_properties"]
    change["after_unknown"]["blob_properties"] = True
    del plans.module_config(doc, "wandb", "storage")["resources"][0]["expressions"][
        "blob_properties"]
    assert _bucket(tmp_path, doc, ACCOUNT).facts().blob_soft_delete == SoftDelete(False)


def test_azure_management_policy_and_container_immutability(tmp_path: Path) -> None:
    doc = plans.azure_create()
    policy = plans.change(STORAGE, "azurerm_storage_management_policy", "default", {"rule": [
        {"name": "expire", "enabled": True, "actions": [{
            "base_blob": [{"delete_after_days_since_modification_greater_than": 30}],
            "version": [{"delete_after_days_since_creation": 7}], "snapshot": []}]}]},
        {"id": True, "storage_account_id": True})
    plans.add(doc, policy, resource_config(
        "azurerm_storage_management_policy", "default", {"storage_account_id": ref(
            "azurerm_storage_account.default.id", "azurerm_storage_account.default")}),
        "wandb", "storage")
    immutability = plans.change(STORAGE, "azurerm_storage_container_immutability_policy", "wandb",
                                {"immutability_period_in_days": 10, "locked": False},
                                {"storage_container_resource_manager_id": True})
    plans.add(doc, immutability, resource_config(
        "azurerm_storage_container_immutability_policy", "wandb", {
            "storage_container_resource_manager_id": ref(
                "azurerm_storage_container.default.resource_manager_id",
                "azurerm_storage_container.default")}), "wandb", "storage")
    facts = _bucket(tmp_path, doc, ACCOUNT).facts()
    assert isinstance(facts.lifecycle, tuple)
    assert [(r.id, r.expires_current, r.expires_noncurrent) for r in facts.lifecycle] == [
        ("expire", True, True)]
    assert isinstance(facts.delete_protection, DeleteProtection)
    assert facts.delete_protection.active and "10 days" in facts.delete_protection.description


def test_facts_are_bucket_facts(tmp_path: Path) -> None:
    for bucket in (_gcs(tmp_path), _azure(tmp_path, [])):
        assert isinstance(bucket.facts(), BucketFacts)


def test_aws_versioning_in_a_sibling_module_through_a_variable(tmp_path: Path) -> None:
    # module "versioning" { bucket = module.file_storage.bucket_name } inside W&B's module:
    # var.bucket -> the caller's argument -> module output -> the bucket resource.
    doc = plans.aws_create()
    module = f"{TOP}.module.versioning"
    doc["resource_changes"].append(plans.change(
        module, "aws_s3_bucket_versioning", "this",
        {"versioning_configuration": [{"status": "Enabled"}]}, {"bucket": True}))
    plans.module_config(doc, "wandb_infra")["module_calls"]["versioning"] = {
        "source": "./modules/versioning",
        "expressions": {"bucket": ref("module.file_storage.bucket_name", "module.file_storage")},
        "module": {"resources": [resource_config("aws_s3_bucket_versioning", "this", {
            "bucket": ref("var.bucket")})], "variables": {"bucket": {}}}}
    assert _bucket(tmp_path, doc).facts().versioning is VersioningState.ENABLED
    assert _bucket(tmp_path, doc, FLOW_LOG).facts().versioning is VersioningState.NEVER_ENABLED


def test_aws_versioning_whose_variable_is_not_passed_cannot_be_linked(tmp_path: Path) -> None:
    doc = plans.aws_create()
    module = f"{TOP}.module.versioning"
    doc["resource_changes"].append(plans.change(
        module, "aws_s3_bucket_versioning", "this",
        {"versioning_configuration": [{"status": "Enabled"}]}, {"bucket": True}))
    plans.module_config(doc, "wandb_infra")["module_calls"]["versioning"] = {
        "source": "./modules/versioning", "expressions": {},
        "module": {"resources": [resource_config("aws_s3_bucket_versioning", "this", {
            "bucket": ref("var.bucket")})], "variables": {"bucket": {}}}}
    state = _bucket(tmp_path, doc).facts().versioning
    assert isinstance(state, Unavailable) and "var.bucket (not set by its caller)" in state.reason


def test_aws_versioning_named_by_a_computed_string_is_unknown_not_fail(tmp_path: Path) -> None:
    # bucket = "${var.namespace}-file-storage-${random_pet.file_storage.id}": the same name as
    # the bucket's, built again; the plan cannot tell which bucket it is.
    doc = plans.aws_create()
    plans.add(doc, *_versioning("Enabled", bucket_ref=ref(
        "var.namespace", "random_pet.file_storage.id", "random_pet.file_storage")),
        "wandb_infra", "file_storage")
    state = _bucket(tmp_path, doc).facts().versioning
    assert isinstance(state, Unavailable)
    assert "known only after apply and does not reference a aws_s3_bucket" in state.reason


def test_aws_versioning_through_a_data_source_of_a_managed_bucket(tmp_path: Path) -> None:
    doc = plans.aws_create()
    data = plans.find(doc, f"{TOP}.data.aws_s3_bucket.file_storage")["change"]
    data.update(after={"bucket": "wandb-vpc-flow-logs"}, after_unknown={"arn": True})
    change = plans.change(TOP, "aws_s3_bucket_versioning", "via_data",
                          {"versioning_configuration": [{"status": "Suspended"}]},
                          {"bucket": True})
    plans.add(doc, change, resource_config("aws_s3_bucket_versioning", "via_data", {
        "bucket": ref("data.aws_s3_bucket.file_storage.id", "data.aws_s3_bucket.file_storage")}),
        "wandb_infra")
    assert _bucket(tmp_path, doc, FLOW_LOG).facts().versioning is VersioningState.SUSPENDED
    assert _bucket(tmp_path, doc).facts().versioning is VersioningState.NEVER_ENABLED


def test_aws_versioning_resource_forgotten_keeps_its_state(tmp_path: Path) -> None:
    doc = plans.aws_create()
    change, config = _versioning("Enabled")
    change["change"].update(actions=["forget"], before=change["change"]["after"], after=None,
                            after_unknown={})
    plans.add(doc, change, config, "wandb_infra", "file_storage")
    assert _bucket(tmp_path, doc).facts().versioning is VersioningState.ENABLED
