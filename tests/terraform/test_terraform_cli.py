"""`gccheck check --terraform-plan` and the fleet key `terraform-plan`, end to end through the
real CLI, on plans shaped like those of W&B's AWS, GCP and Azure modules."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fixtures.terraform import plans
from fixtures.terraform.plans import const, ref, resource_config
from support.constants import FIXTURES, REPO, TEST_KEY, TEST_SECRET
from support.run import Run, run_gccheck

TF = FIXTURES / "terraform"
CMC = ("check", "--hosting", "customer-managed-cloud")
GC = "GORILLA_ARTIFACT_GC_ENABLED"
FS = "module.wandb_infra.module.file_storage"
FILE_STORAGE = f"{FS}.aws_s3_bucket.file_storage"
FLOW_LOG = "module.wandb_infra.module.networking.aws_s3_bucket.flow_log[0]"
RELEASE = "module.wandb_infra.module.wandb.helm_release.wandb[0]"
GCS = "module.wandb.module.storage.module.bucket.google_storage_bucket.file_storage"
ACCOUNT = "module.wandb.module.storage.azurerm_storage_account.default"
AWS_FIX = ('resource "aws_s3_bucket_versioning" "file_storage" {\n'
           '  bucket = aws_s3_bucket.file_storage.id\n'
           '  versioning_configuration {\n    status = "Enabled"\n  }\n}')


# ---- plan variants: W&B's modules as they are, and with the fix applied ----------------------


def _spec(doc: dict[str, Any], gc: str | None = "true", *, unknown: bool = False,
          sensitive: bool = False) -> None:
    """W&B's wandb-cr release with its spec (yamlencode(var.spec)) known, sensitive or not."""
    change = plans.find(doc, RELEASE)["change"]
    entry = change["after"]["set"][1]
    entry.pop("value", None)
    if not unknown:
        extra = {GC: gc} if gc is not None else {}
        entry["value"] = json.dumps({"values": {"global": {
            "host": "https://wandb.example.com", "extraEnv": extra}}})
    change["after_unknown"]["set"] = [{}, {"value": True}] if unknown else [{}, {}]
    change["after_sensitive"]["set"] = [{}, {"value": True}] if sensitive else [{}, {}]


def _aws_versioning(doc: dict[str, Any], status: str | None = "Enabled") -> None:
    """aws_s3_bucket_versioning for W&B's bucket, by reference; status None: from a variable
    known only after apply."""
    after: dict[str, Any] = {"expected_bucket_owner": None, "mfa": None,
                             "versioning_configuration": [{"mfa_delete": None}]}
    unknown: dict[str, Any] = {"id": True, "bucket": True}
    if status is not None:
        after["versioning_configuration"][0]["status"] = status
    else:
        unknown["versioning_configuration"] = [{"status": True}]
    plans.add(doc, plans.change(FS, "aws_s3_bucket_versioning", "file_storage", after, unknown),
              resource_config("aws_s3_bucket_versioning", "file_storage", {
                  "bucket": ref("aws_s3_bucket.file_storage.id", "aws_s3_bucket.file_storage"),
                  "versioning_configuration": [{"status": const(status) if status else ref(
                      "var.versioning_status")}]}), "wandb_infra", "file_storage")


def _gcp_fixed() -> dict[str, Any]:
    doc = plans.gcp_create()
    plans.find(doc, GCS)["change"]["after"]["versioning"] = [{"enabled": True}]
    resources = plans.module_config(doc, "wandb", "storage", "bucket")["resources"]
    resources[0]["expressions"]["versioning"] = [{"enabled": const(True)}]
    release = plans.find(doc, "module.wandb.helm_release.wandb")["change"]["after"]
    release["values"] = [release["values"][0].replace('"false"', '"true"')]
    return doc


def _azure_fixed() -> dict[str, Any]:
    doc = plans.azure_create()
    props = plans.find(doc, ACCOUNT)["change"]["after"]["blob_properties"][0]
    props["delete_retention_policy"] = [{"days": 7, "permanent_delete_enabled": False}]
    config = plans.module_config(doc, "wandb", "storage")["resources"][0]
    config["expressions"]["blob_properties"][0]["delete_retention_policy"] = [
        {"days": const(7)}]
    return doc


def _check(gccheck_inproc: Any, plan: str | Path, *args: str) -> Run:
    run: Run = gccheck_inproc(*CMC, "--terraform-plan", str(plan), *args)
    return run


def _json(run: Run) -> dict[str, dict[str, Any]]:
    (target,) = json.loads(run.out)["targets"]
    return {r["id"]: r for r in target["results"]}


# ---- W&B's modules as they are: fail, the resource named, the block that fixes it ------------


def test_aws_module_fails_names_the_bucket_and_prints_the_block(gccheck_inproc: Any) -> None:
    run = _check(gccheck_inproc, TF / "aws_wandb_create.json", "--bucket", FILE_STORAGE)
    assert run.code == 1, run.err
    assert f"versioning was never enabled on bucket {FILE_STORAGE}" in run.out
    assert "add in module.wandb_infra.module.file_storage" in run.out
    assert AWS_FIX.replace("\n", "\n      ") in run.out  # the table indents the block
    assert f"from {FILE_STORAGE}.versioning[0].enabled" in run.out
    assert "nothing asked of the cloud" in run.out
    # W&B's spec is known only after apply on a first plan: unknown, saying which attribute.
    assert f"{GC} cannot be read: {RELEASE}: set.spec" in run.out
    results = _json(_check(gccheck_inproc, TF / "aws_wandb_create.json", "--bucket",
                           FILE_STORAGE, "--format", "json"))
    versioning = results["bucket-versioning"]
    assert versioning["status"] == "fail"
    assert versioning["source"] == f"{FILE_STORAGE}.versioning[0].enabled"
    assert versioning["remediation"].endswith(AWS_FIX)
    assert results["gc-env-var"]["status"] == "unknown"
    assert "known only after apply" in results["gc-env-var"]["summary"]
    assert results["gc-env-var"]["source"] == f"{RELEASE}: set.spec (the W&B spec)"


def test_gcp_module_fails_versioning_and_the_env_it_shows(gccheck_inproc: Any) -> None:
    run = _check(gccheck_inproc, TF / "gcp_wandb_create.json", "--format", "json")
    assert run.code == 1, run.err
    results = _json(run)
    assert results["bucket-versioning"]["status"] == "fail"
    assert results["bucket-versioning"]["source"] == f"{GCS}.versioning[0].enabled"
    assert "versioning {\n    enabled = true\n  }" in results["bucket-versioning"]["remediation"]
    assert GCS in results["bucket-versioning"]["remediation"]
    env = results["gc-env-var"]
    assert env["status"] == "fail" and "'false'" in env["summary"]
    assert env["source"] == f"module.wandb.helm_release.wandb: values[0].global.extraEnv.{GC}"
    assert f'name  = "global.extraEnv.{GC}"' in env["remediation"]
    table = _check(gccheck_inproc, TF / "gcp_wandb_create.json")
    assert f"versioning is disabled on bucket {GCS}" in table.out
    assert "enabled = true" in table.out


def test_azure_module_fails_soft_delete_on_the_account(gccheck_inproc: Any) -> None:
    run = _check(gccheck_inproc, TF / "azure_wandb_create.json", "--format", "json")
    assert run.code == 1, run.err
    results = _json(run)
    soft_delete = results["blob-soft-delete"]
    assert soft_delete["status"] == "fail" and ACCOUNT in soft_delete["summary"]
    assert soft_delete["source"] == f"{ACCOUNT}.blob_properties[0].delete_retention_policy"
    assert "delete_retention_policy {\n      days = 7" in soft_delete["remediation"]
    assert results["gc-env-var"]["status"] == "pass"
    table = _check(gccheck_inproc, TF / "azure_wandb_create.json")
    assert f"blob soft delete is disabled on account {ACCOUNT}" in table.out
    assert "days = 7" in table.out


# ---- the env var from the plan: fails where shown, unknown where sensitive or after apply ----


@pytest.mark.parametrize(("gc", "status", "said"), [
    ("false", "fail", f"{GC} is 'false'"),
    (None, "fail", f"{GC} is not set"),
    ("true", "pass", f"{GC} is 'true'"),
])
def test_aws_env_as_the_spec_plans_it(gccheck_inproc: Any, tmp_path: Path, gc: str | None,
                                      status: str, said: str) -> None:
    doc = plans.aws_create()
    _spec(doc, gc)
    results = _json(_check(gccheck_inproc, plans.write(tmp_path, doc), "--bucket",
                           FILE_STORAGE, "--format", "json"))
    env = results["gc-env-var"]
    assert env["status"] == status and said in env["summary"]
    if status == "fail":
        # W&B's module takes the whole spec: the fix is its other_wandb_env variable.
        assert "other_wandb_env = {" in env["remediation"]
        assert f'{GC} = "true"' in env["remediation"]


def test_a_sensitive_spec_is_unknown(gccheck_inproc: Any, tmp_path: Path) -> None:
    doc = plans.aws_create()
    _spec(doc, "false", sensitive=True)
    _aws_versioning(doc)
    run = _check(gccheck_inproc, plans.write(tmp_path, doc), "--bucket", FILE_STORAGE,
                 "--format", "json")
    assert run.code == 3, run.out
    env = _json(run)["gc-env-var"]
    assert env["status"] == "unknown" and "sensitive" in env["summary"]
    assert "'false'" not in run.out  # a sensitive value is never read, nor shown


# ---- the fix applied: passes; values known only after apply: unknown -------------------------


def test_aws_plan_with_the_fix_applied_passes(gccheck_inproc: Any, tmp_path: Path) -> None:
    doc = plans.aws_create()
    _aws_versioning(doc)
    _spec(doc)
    path = plans.write(tmp_path, doc)
    run = _check(gccheck_inproc, path, "--bucket", FILE_STORAGE, "--format", "json")
    assert run.code == 0, run.out
    versioning = _json(run)["bucket-versioning"]
    assert versioning["status"] == "pass" and versioning["remediation"] is None
    assert versioning["source"] == (
        f"{FS}.aws_s3_bucket_versioning.file_storage.versioning_configuration[0].status")
    assert "READY" in _check(gccheck_inproc, path, "--bucket", FILE_STORAGE).out


@pytest.mark.parametrize("build", [_gcp_fixed, _azure_fixed], ids=["gcp", "azure"])
def test_gcp_and_azure_plans_with_the_fix_applied_pass(gccheck_inproc: Any, tmp_path: Path,
                                                       build: Any) -> None:
    run = _check(gccheck_inproc, plans.write(tmp_path, build()), "--format", "json")
    assert run.code == 0, run.out
    required = {r["status"] for r in _json(run).values() if r["kind"] == "requirement"}
    assert required <= {"pass", "not-required"}


def test_versioning_known_only_after_apply_is_unknown(gccheck_inproc: Any,
                                                      tmp_path: Path) -> None:
    doc = plans.aws_create()
    _aws_versioning(doc, None)
    _spec(doc)
    run = _check(gccheck_inproc, plans.write(tmp_path, doc), "--bucket", FILE_STORAGE,
                 "--format", "json")
    assert run.code == 3, run.out
    versioning = _json(run)["bucket-versioning"]
    assert versioning["status"] == "unknown"
    assert "known only after apply" in versioning["summary"]
    assert "var.versioning_status" in versioning["summary"]


def test_env_known_only_after_apply_is_unknown_once_the_bucket_is_fixed(
        gccheck_inproc: Any, tmp_path: Path) -> None:
    doc = plans.aws_create()
    _aws_versioning(doc)
    _spec(doc, unknown=True)
    run = _check(gccheck_inproc, plans.write(tmp_path, doc), "--bucket", FILE_STORAGE)
    assert run.code == 3, run.out
    assert "unknown" in run.out and "known only after apply" in run.out


# ---- which bucket, bad input -----------------------------------------------------------------


def test_several_buckets_without_bucket_is_exit_2_listing_them(gccheck_inproc: Any) -> None:
    run = _check(gccheck_inproc, TF / "aws_wandb_create.json")
    assert run.code == 2 and run.out == ""
    (line,) = run.err.splitlines()
    assert line.startswith("gccheck: error: Terraform plan ")
    assert f"--bucket {FILE_STORAGE}" in line and FLOW_LOG in line
    assert "Traceback" not in run.err


def test_bucket_by_name_and_an_unknown_address(gccheck_inproc: Any) -> None:
    run = _check(gccheck_inproc, TF / "aws_wandb_create.json", "--bucket",
                 "wandb-vpc-flow-logs", "--format", "json")
    assert json.loads(run.out)["targets"][0]["bucket"] == f"s3://{FLOW_LOG}"
    run = _check(gccheck_inproc, TF / "aws_wandb_create.json", "--bucket",
                 "aws_s3_bucket.nope")
    assert run.code == 2 and len(run.err.splitlines()) == 1
    assert "not a bucket of Terraform plan" in run.err and FILE_STORAGE in run.err


@pytest.mark.parametrize(("fixture", "said"), [
    ("not_json.json", "not valid JSON"),
    ("wrong_version.json", "format_version 2.0 is not supported"),
    ("not_a_plan.json", "not the output of terraform show -json"),
    ("raw_tfstate.json", "raw terraform.tfstate"),
    ("missing.json", "no such file"),
])
def test_bad_files_are_one_line_exit_2(gccheck_inproc: Any, fixture: str, said: str) -> None:
    run = _check(gccheck_inproc, TF / fixture)
    assert run.code == 2 and run.out == ""
    (line,) = run.err.splitlines()
    assert line.startswith("gccheck: error: ") and said in line


def test_the_applied_state_passes_versioning(gccheck_inproc: Any) -> None:
    results = _json(_check(gccheck_inproc, TF / "aws_state.json", "--format", "json"))
    assert results["bucket-versioning"]["status"] == "pass"
    # The state holds no W&B release: unknown, never a guess.
    assert results["gc-env-var"]["status"] == "unknown"


def test_one_settings_source_and_the_env_var(gccheck_inproc: Any, tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text("global: {}\n")
    run = gccheck_inproc(*CMC, "--terraform-plan", str(TF / "gcp_wandb_create.json"),
                         "--values", str(values))
    assert run.code == 2 and "give only one settings source" in run.err
    run = gccheck_inproc(*CMC, "--format", "json",
                         env={"GCCHECK_TERRAFORM_PLAN": str(TF / "gcp_wandb_create.json")})
    assert run.code == 1 and _json(run)["bucket-versioning"]["status"] == "fail"


# ---- the fleet ------------------------------------------------------------------------------


def test_fleet_with_terraform_plan_entries_audits(gccheck_inproc: Any, tmp_path: Path) -> None:
    (tmp_path / "plans").mkdir()
    plans.write(tmp_path / "plans", plans.aws_create(), "aws.json")
    plans.write(tmp_path / "plans", _gcp_fixed(), "gcp.json")
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(
        "defaults:\n  hosting: customer-managed-cloud\n  env: {GORILLA_ARTIFACT_GC_ENABLED: "
        "'true'}\ndeployments:\n"
        f"  - name: aws-next\n    terraform-plan: plans/aws.json\n    bucket: {FILE_STORAGE}\n"
        "  - name: gcp-next\n    terraform-plan: plans/gcp.json\n")
    run = gccheck_inproc("audit", str(fleet), "--format", "json", "--quiet")
    assert run.code == 1, run.err
    targets = {t["name"]: t for t in json.loads(run.out)["targets"]}
    aws = {r["id"]: r for r in targets["aws-next"]["results"]}
    assert aws["bucket-versioning"]["status"] == "fail"
    assert aws["bucket-versioning"]["remediation"].endswith(AWS_FIX)
    # The plan is the settings source: the default env is not inherited.
    assert aws["gc-env-var"]["status"] == "unknown"
    assert targets["gcp-next"]["verdict"] in ("ready", "ready-with-advisories")
    fleet.write_text("deployments:\n  - name: x\n    hosting: customer-managed-cloud\n"
                     "    terraform-plan: plans/aws.json\n")
    run = gccheck_inproc("audit", str(fleet), "--quiet")
    assert run.code == 2 and "deployment 'x'" in run.err and "--bucket" in run.err


# ---- no network: the plan alone -------------------------------------------------------------


@pytest.fixture
def listener() -> Iterator[tuple[int, list[object]]]:
    """A local port that records every connection made to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    seen: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, address = server.accept()
            except OSError:
                continue
            seen.append(address)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], seen
    finally:
        stop.set()
        thread.join(timeout=2)
        server.close()


def test_no_network_call_is_made(listener: tuple[int, list[object]], tmp_path: Path) -> None:
    port, seen = listener
    here = f"http://127.0.0.1:{port}"
    env = {"HTTP_PROXY": here, "HTTPS_PROXY": here, "http_proxy": here, "https_proxy": here,
           "AWS_ENDPOINT_URL": here, "AWS_ENDPOINT_URL_S3": here, "AWS_ACCESS_KEY_ID": TEST_KEY,
           "AWS_SECRET_ACCESS_KEY": TEST_SECRET, "AWS_DEFAULT_REGION": "us-east-1",
           "STORAGE_EMULATOR_HOST": here, "NO_PROXY": ""}
    for fixture, bucket in (("aws_wandb_create.json", FILE_STORAGE),
                            ("gcp_wandb_create.json", None), ("azure_wandb_create.json", None)):
        args = [*CMC, "--terraform-plan", str(TF / fixture), "--timeout", "2",
                "--format", "json"]
        run = run_gccheck(*args, *(["--bucket", bucket] if bucket else []), env=env)
        assert run.code == 1, run.err
        statuses = {r["id"]: r["status"] for r in json.loads(run.out)["targets"][0]["results"]}
        assert "fail" in (statuses.get("bucket-versioning"), statuses.get("blob-soft-delete"))
    assert seen == []


def test_no_socket_is_opened_in_process(gccheck_inproc: Any, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    tried: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        tried.append(address)
        raise OSError("gccheck test: no network for a plan")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    doc = plans.aws_create()
    _aws_versioning(doc)
    _spec(doc)
    run = _check(gccheck_inproc, plans.write(tmp_path, doc), "--bucket", FILE_STORAGE)
    assert run.code == 0, run.out
    assert tried == []


def test_the_docs_show_what_the_command_prints(gccheck_inproc: Any, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    docs = (REPO / "docs" / "terraform.md").read_text()
    block = docs.split("## What it says", 1)[1].split("```console\n", 1)[1].split("```", 1)[0]
    command, *shown = block.splitlines()
    printed, code = shown[:-2], shown[-1]
    plans.write(tmp_path, json.loads((TF / "aws_wandb_create.json").read_text()))
    monkeypatch.chdir(tmp_path)
    run = gccheck_inproc(*command.removeprefix("$ gccheck ").split())
    assert run.out.splitlines() == printed
    assert str(run.code) == code


def test_the_readme_command_runs_on_a_plan_of_the_aws_module(
        gccheck_inproc: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (REPO / "README.md").read_text()
    section = readme.split("\n## Before `terraform apply`: check the plan\n", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    terraform, command = block.replace("\\\n", " ").splitlines()
    assert terraform == ("terraform plan -out tfplan && terraform show -json tfplan > plan.json")
    assert "docs/terraform.md" in section.split("\n## ", 1)[0]
    plans.write(tmp_path, json.loads((TF / "aws_wandb_create.json").read_text()))
    monkeypatch.chdir(tmp_path)
    run = gccheck_inproc(*command.split()[1:])
    assert run.code == 1 and AWS_FIX.replace("\n", "\n      ") in run.out


def test_a_keyed_url_given_as_the_plans_bucket_is_never_shown(gccheck_inproc: Any) -> None:
    secret = "wJalrXUtnFEMIK7MDENGbPxRfiCYzzzzzzzzzzzz"
    for bucket in (f"s3://AKIAIOSFODNN7EXAMPLE:{secret}@wandb-vpc-flow-logs",
                   f"s3://AKIAIOSFODNN7EXAMPLE:{secret}@not-in-the-plan"):
        run = _check(gccheck_inproc, TF / "aws_wandb_create.json", "--bucket", bucket,
                     "--format", "json", "--debug")
        assert run.code in (1, 3), run.err
        assert secret not in run.out + run.err
        assert "AKIAIOSFODNN7EXAMPLE" not in run.out + run.err
