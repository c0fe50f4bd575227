"""Reading a Terraform plan or state: bad input, the buckets in it, which one is W&B's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fixtures.terraform import plans
from support.constants import FIXTURES

from gccheck.bucket_url import AWS, AZURE
from gccheck.errors import InputError
from gccheck.model import Unavailable, UnavailableKind, VersioningState
from gccheck.terraform import document, load_plan
from gccheck.terraform.target import PlanSettingsSource, prepare

TF = FIXTURES / "terraform"
FILE_STORAGE = "module.wandb_infra.module.file_storage.aws_s3_bucket.file_storage"
TOP = "module.wandb_infra"
FLOW_LOG = f"{TOP}.module.networking.aws_s3_bucket.flow_log[0]"


def _error(path: str | Path) -> str:
    with pytest.raises(InputError) as caught:
        load_plan(str(path))
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(("fixture", "expected"), [
    ("not_json.json", "line 2: not valid JSON"),
    ("wrong_version.json", "format_version 2.0 is not supported"),
    ("not_a_plan.json", "no format_version: not the output of terraform show -json"),
    ("raw_tfstate.json", "raw terraform.tfstate file"),
])
def test_files_that_are_not_plans_are_one_line_errors(fixture: str, expected: str) -> None:
    assert expected in _error(TF / fixture)


@pytest.mark.parametrize(("content", "expected"), [
    (b"PK\x03\x04binary", "a binary plan file (tfplan)"),
    (b"[1, 2]", "expected a JSON object"),
    (b'{"format_version": 1}', "format_version 1 is not supported"),
    (b'{"format_version": "1.2", "resource_changes": {}}', "resource_changes is not a list"),
    (b'{"format_version": "1.0", "outputs": {}}', "neither a plan"),
    (b"\xff\xfe\x00{", "not valid"),
    (b"[" * 100_000, "nested too deeply"),
])
def test_malformed_content(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes(content)
    assert expected in _error(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    assert "no such file" in _error(tmp_path / "absent.json")
    assert "is a directory" in _error(tmp_path)


def test_size_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(document, "MAX_PLAN_BYTES", 1024)
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"format_version": "1.2", "pad": "x" * 2000}))
    assert "larger than" in _error(path)


def test_hostile_path_is_neutralised(tmp_path: Path) -> None:
    path = tmp_path / "evil\x1b[2J.json"
    path.write_text("nope")
    message = _error(path)
    assert "\x1b" not in message and "\\x1b" in message


def test_state_form() -> None:
    plan = load_plan(str(TF / "aws_state.json"))
    assert plan.document.kind == "state"
    (bucket,) = plan.buckets()
    assert (bucket.address, bucket.name, bucket.action, bucket.managed) == (
        FILE_STORAGE, "wandb-file-storage-neat-owl", "no-op", True)
    # Linked by its literal bucket name: a state has no configuration.
    assert plan.select_bucket(None, None).facts().versioning is VersioningState.ENABLED


def test_empty_state_has_no_bucket(tmp_path: Path) -> None:
    path = plans.write(tmp_path, {"format_version": "1.0", "terraform_version": "1.9.5"})
    plan = load_plan(path)
    with pytest.raises(InputError, match="no bucket in it"):
        plan.select_bucket(None, None)


def test_buckets_across_nested_modules() -> None:
    plan = load_plan(str(TF / "aws_wandb_create.json"))
    found = {(b.address, b.name, b.action, b.managed) for b in plan.buckets()}
    assert found == {
        (FILE_STORAGE, None, "create", True),
        (FLOW_LOG, "wandb-vpc-flow-logs", "create", True),
        ("module.wandb_infra.data.aws_s3_bucket.file_storage", None, "read", False),
    }
    gcp = load_plan(str(TF / "gcp_wandb_create.json")).buckets()
    assert [b.address for b in gcp] == [
        "module.wandb.module.storage.module.bucket.google_storage_bucket.file_storage"]


def test_several_buckets_without_a_hint_say_to_use_bucket() -> None:
    plan = load_plan(str(TF / "aws_wandb_create.json"))
    with pytest.raises(InputError) as caught:
        plan.select_bucket(None, None)
    message = str(caught.value)
    assert "--bucket" in message and FILE_STORAGE in message and FLOW_LOG in message
    assert "known only after apply" in message


@pytest.mark.parametrize(("hint", "expected"), [
    (FILE_STORAGE, FILE_STORAGE),
    (FLOW_LOG, FLOW_LOG),
    ("module.wandb_infra.module.networking.aws_s3_bucket.flow_log", FLOW_LOG),
    ("wandb-vpc-flow-logs", FLOW_LOG),
    ("s3://wandb-vpc-flow-logs/some/path", FLOW_LOG),
])
def test_bucket_hint_by_address_or_name(hint: str, expected: str) -> None:
    plan = load_plan(str(TF / "aws_wandb_create.json"))
    assert plan.select_bucket(hint, None).address == expected


def test_bucket_named_by_the_wandb_settings() -> None:
    plan = load_plan(str(TF / "aws_wandb_create.json"))
    assert plan.select_bucket(None, "s3://wandb-vpc-flow-logs").address == FLOW_LOG
    # A name the plan cannot match while some names are unknown: still ask for --bucket.
    with pytest.raises(InputError, match="--bucket"):
        plan.select_bucket(None, "s3://other-bucket")


def test_the_only_bucket_is_chosen() -> None:
    plan = load_plan(str(TF / "gcp_wandb_create.json"))
    assert plan.select_bucket(None, None).address.endswith("google_storage_bucket.file_storage")


def test_a_bucket_outside_the_plan_is_unknown_with_the_live_command() -> None:
    plan = load_plan(str(TF / "aws_wandb_create.json"))
    bucket = plan.select_bucket("s3://external-wandb-bucket", None)
    assert (bucket.managed, bucket.provider, bucket.name) == (False, AWS, "external-wandb-bucket")
    facts = bucket.facts()
    assert isinstance(facts.versioning, Unavailable)
    assert facts.versioning.kind is UnavailableKind.NO_PROBE
    assert "gccheck check --bucket s3://external-wandb-bucket" in facts.versioning.reason


def test_a_data_source_bucket_is_unknown() -> None:
    plan = load_plan(str(TF / "aws_wandb_create.json"))
    bucket = plan.select_bucket("module.wandb_infra.data.aws_s3_bucket.file_storage", None)
    assert not bucket.managed
    reason = bucket.facts().versioning
    assert isinstance(reason, Unavailable) and "a data source" in reason.reason
    assert bucket.fix("bucket-versioning") is None


def test_a_bucket_only_in_prior_state_is_unknown(tmp_path: Path) -> None:
    doc = plans.aws_create()
    doc["prior_state"] = {"format_version": "1.0", "values": {"root_module": {"resources": [{
        "address": "data.aws_s3_bucket.existing", "mode": "data", "type": "aws_s3_bucket",
        "name": "existing", "values": {"bucket": "existing-bucket", "id": "existing-bucket"},
        "sensitive_values": {}}]}}}
    bucket = load_plan(plans.write(tmp_path, doc)).select_bucket("existing-bucket", None)
    assert (bucket.managed, bucket.address) == (False, "data.aws_s3_bucket.existing")
    reason = bucket.facts().versioning
    assert isinstance(reason, Unavailable)
    assert "gccheck check --bucket s3://existing-bucket" in reason.reason


def test_an_address_that_is_not_in_the_plan_lists_the_buckets() -> None:
    plan = load_plan(str(TF / "aws_wandb_create.json"))
    with pytest.raises(InputError) as caught:
        plan.select_bucket("module.nope.aws_s3_bucket.x", None)
    assert FILE_STORAGE in str(caught.value)


def test_a_deleted_bucket_is_missing(tmp_path: Path) -> None:
    doc = plans.aws_create()
    change = plans.find(doc, FLOW_LOG)["change"]
    change.update(actions=["delete"], before=change["after"], after=None, after_unknown={})
    bucket = load_plan(plans.write(tmp_path, doc)).select_bucket(FLOW_LOG, None)
    assert bucket.action == "delete" and bucket.name == "wandb-vpc-flow-logs"
    facts = bucket.facts()
    assert facts.missing and f"the plan deletes {FLOW_LOG}" in facts.missing_reason


def test_an_azure_container_leads_to_its_account() -> None:
    plan = load_plan(str(TF / "azure_wandb_create.json"))
    bucket = plan.select_bucket("module.wandb.module.storage.azurerm_storage_container.default",
                                None)
    assert bucket.provider == AZURE
    assert bucket.address == "module.wandb.module.storage.azurerm_storage_account.default"
    assert plan.select_bucket("az://wandbstorage/wandb", None).address == bucket.address


def test_keys_in_a_bucket_url_never_reach_the_error() -> None:
    plan = load_plan(str(TF / "aws_wandb_create.json"))
    with pytest.raises(InputError) as caught:
        plan.select_bucket(None, "s3://AKIAEXAMPLEKEY:s3cr3t-value@other-bucket")
    message = str(caught.value)
    assert "other-bucket" in message
    assert "AKIAEXAMPLEKEY" not in message and "s3cr3t-value" not in message


def test_location_names_the_resource() -> None:
    plan = load_plan(str(TF / "aws_wandb_create.json"))
    location = plan.select_bucket(FILE_STORAGE, None).location()
    assert (location.provider, location.display_name) == (AWS, FILE_STORAGE)
    azure = load_plan(str(TF / "azure_wandb_create.json")).select_bucket(None, None).location()
    assert azure.display_name == "module.wandb.module.storage.azurerm_storage_account.default/wandb"


def test_a_managed_bucket_wins_over_a_data_source_of_the_same_name(tmp_path: Path) -> None:
    doc = plans.aws_create()
    data = plans.find(doc, "module.wandb_infra.data.aws_s3_bucket.file_storage")
    data["change"].update(after={"bucket": "wandb-vpc-flow-logs"}, after_unknown={})
    versioning = plans.change("", "aws_s3_bucket_versioning", "flow",
                              {"bucket": "wandb-vpc-flow-logs",
                               "versioning_configuration": [{"status": "Enabled"}]})
    doc["resource_changes"].insert(0, versioning)
    plan = load_plan(plans.write(tmp_path, doc))
    assert plan.select_bucket(FLOW_LOG, None).facts().versioning is VersioningState.ENABLED
    assert plan.select_bucket("wandb-vpc-flow-logs", None).address == FLOW_LOG


def test_hostile_names_in_a_plan_are_shown_escaped(tmp_path: Path) -> None:
    doc = plans.gcp_create()
    change = doc["resource_changes"][0]
    change["address"] += "\x1b]0;pwned\x07"
    change["change"]["after"]["name"] = "evil\x1b[2J"
    change["change"]["after_unknown"].pop("name")
    (bucket,) = load_plan(plans.write(tmp_path, doc)).buckets()
    assert "\x1b" not in bucket.label and "\\x1b" in bucket.label
    fix = bucket.fix("bucket-versioning")
    assert fix is not None and "\x1b" not in fix and "\x07" not in fix
    note = " ".join(bucket.facts().notes)
    assert "\x1b" not in note


def test_hostile_lifecycle_rule_ids_are_escaped(tmp_path: Path) -> None:
    doc = plans.aws_create()
    change = plans.find(doc, FLOW_LOG)["change"]
    change["after"]["lifecycle_rule"] = [{"id": "r\x1b[31m", "enabled": True, "prefix": "p\x07",
                                          "expiration": [{"days": 1}]}]
    del change["after_unknown"]["lifecycle_rule"]
    rules = load_plan(plans.write(tmp_path, doc)).select_bucket(FLOW_LOG, None).facts().lifecycle
    assert isinstance(rules, tuple)
    assert rules[0].id == "r\\x1b[31m" and "\x07" not in rules[0].description


def test_prepare_picks_the_bucket_the_planned_settings_name(tmp_path: Path) -> None:
    doc = plans.aws_create()
    entry = plans.find(doc, "module.wandb_infra.module.wandb.helm_release.wandb[0]")["change"]
    entry["after"]["set"][1]["value"] = json.dumps({"values": {"global": {"defaultBucket": {
        "provider": "s3", "name": "wandb-vpc-flow-logs", "region": "us-east-1"}}}})
    entry["after_unknown"]["set"] = [{}, {}]
    entry["after_sensitive"]["set"] = [{}, {}]
    target = prepare(plans.write(tmp_path, doc))
    assert target.bucket.address == FLOW_LOG
    assert target.location.display_name == FLOW_LOG
    assert target.source("bucket-versioning") == f"{FLOW_LOG}.versioning[0].enabled"
    assert PlanSettingsSource(target.plan).read() == target.settings
    fix = target.fix("bucket-versioning")
    assert fix is not None and "bucket = aws_s3_bucket.flow_log[0].id" in fix


def test_prepare_on_a_first_plan_asks_for_bucket() -> None:
    with pytest.raises(InputError, match="--bucket"):
        prepare(str(TF / "aws_wandb_create.json"))
    target = prepare(str(TF / "aws_wandb_create.json"), FILE_STORAGE)
    assert target.facts().versioning is VersioningState.NEVER_ENABLED


def test_a_forgotten_bucket_is_unmanaged(tmp_path: Path) -> None:
    doc = plans.aws_create()
    change = plans.find(doc, FLOW_LOG)["change"]
    change.update(actions=["forget"], before=change["after"], after=None, after_unknown={})
    bucket = load_plan(plans.write(tmp_path, doc)).select_bucket(FLOW_LOG, None)
    assert not bucket.managed and bucket.name == "wandb-vpc-flow-logs"
    reason = bucket.facts().versioning
    assert isinstance(reason, Unavailable) and "removed block" in reason.reason
    assert "gccheck check --bucket s3://wandb-vpc-flow-logs" in reason.reason


def test_a_module_address_is_not_a_bucket_address(tmp_path: Path) -> None:
    doc = plans.aws_create()
    second = plans.change(f"{TOP}.module.networking", "aws_s3_bucket", "flow_log",
                          {"bucket": "wandb-vpc-flow-logs-2"}, {}, index=1)
    doc["resource_changes"].append(second)
    doc["resource_changes"].append(plans.change("module.regional[0]", "aws_s3_bucket", "this",
                                                {"bucket": "regional"}, {}))
    plan = load_plan(plans.write(tmp_path, doc))
    with pytest.raises(InputError, match="2 instances"):
        plan.select_bucket(f"{TOP}.module.networking.aws_s3_bucket.flow_log", None)
    with pytest.raises(InputError, match="not a bucket of"):
        plan.select_bucket("module.regional", None)
    assert plan.select_bucket("module.regional[0].aws_s3_bucket.this", None).name == "regional"


def test_a_sensitive_bucket_name_is_never_shown(tmp_path: Path) -> None:
    doc = plans.aws_create()
    plans.find(doc, FLOW_LOG)["change"]["after_sensitive"]["bucket"] = True
    plan = load_plan(plans.write(tmp_path, doc))
    flow = plan.select_bucket(FLOW_LOG, None)
    assert flow.name is None and "wandb-vpc-flow-logs" not in flow.label
    with pytest.raises(InputError) as caught:
        plan.select_bucket(None, None)
    assert "wandb-vpc-flow-logs" not in str(caught.value)


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("actions", "create", "change.actions is not a list of names"),
    ("address", 5, "address is not a string"),
    ("change", [], "change is not an object"),
])
def test_a_resource_of_the_wrong_shape_names_its_entry(tmp_path: Path, field: str, value: object,
                                                       expected: str) -> None:
    doc = plans.aws_create()
    entry = plans.find(doc, FLOW_LOG)
    index = doc["resource_changes"].index(entry)
    if field == "actions":
        entry["change"]["actions"] = value
    else:
        entry[field] = value
    assert f"resource_changes[{index}]: {expected}" in _error(plans.write(tmp_path, doc))


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("errored", True, "the plan errored"), ("complete", False, "the plan is not complete")])
def test_an_incomplete_plan_says_so(tmp_path: Path, field: str, value: bool,
                                    expected: str) -> None:
    doc = plans.gcp_create()
    doc[field] = value
    facts = load_plan(plans.write(tmp_path, doc)).select_bucket(None, None).facts()
    assert any(expected in note for note in facts.notes)
