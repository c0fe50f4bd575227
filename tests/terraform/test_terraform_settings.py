"""The W&B environment as a plan sets it, read with the same logic as --values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fixtures.terraform import plans
from fixtures.terraform.plans import HELM_P, K8S_P

from gccheck.errors import InputError
from gccheck.matrix import load_matrix
from gccheck.model import Settings, Status
from gccheck.rules import RULES, Context, evaluate
from gccheck.terraform import load_plan

MATRIX = load_matrix(None, RULES)
GC = "GORILLA_ARTIFACT_GC_ENABLED"
RELEASE = "module.wandb_infra.module.wandb.helm_release.wandb[0]"


def _settings(tmp_path: Path, doc: dict[str, Any]) -> Settings:
    return load_plan(plans.write(tmp_path, doc)).settings()


def gc_verdict(settings: Settings) -> tuple[Status, str, str | None]:
    ctx = Context(MATRIX, MATRIX.hosting_types["customer-managed-cloud"], settings, None, None)
    result = next(r for r in evaluate(ctx) if r.id == "gc-env-var")
    return result.status, result.summary, result.remediation


def _spec(doc: dict[str, Any], spec: Any, *, unknown: bool = False,
          sensitive: bool = False) -> None:
    """Give W&B's wandb-cr release a spec (yamlencode(var.spec)), known or not."""
    change = plans.find(doc, RELEASE)["change"]
    entry = change["after"]["set"][1]
    entry.pop("value", None)
    if not unknown:
        entry["value"] = json.dumps(spec)  # JSON is YAML: what yamlencode produces, read alike
    change["after_unknown"]["set"] = [{}, {"value": True}] if unknown else [{}, {}]
    change["after_sensitive"]["set"] = [{}, {"value": True}] if sensitive else [{}, {}]


SPEC_ON = {"values": {"global": {"host": "https://wandb.example.com", "extraEnv": {
    GC: "true"}, "defaultBucket": {"provider": "s3", "name": "wandb-files",
                                   "region": "us-east-1"}}}}


def test_first_plan_of_the_aws_module_is_unknown(tmp_path: Path) -> None:
    settings = load_plan(str(plans.HERE / "aws_wandb_create.json")).settings()
    setting = settings.values[GC]
    assert setting.value is None and setting.unresolved is not None
    assert "known only after apply" in setting.unresolved and RELEASE in setting.unresolved
    status, summary, _ = gc_verdict(settings)
    assert status is Status.UNKNOWN and "known only after apply" in summary


def test_a_sensitive_spec_is_unknown(tmp_path: Path) -> None:
    doc = plans.aws_create()
    _spec(doc, SPEC_ON, sensitive=True)
    setting = _settings(tmp_path, doc).values[GC]
    assert setting.value is None and setting.unresolved is not None
    assert "sensitive in the plan" in setting.unresolved


def test_a_known_spec_is_read_like_values(tmp_path: Path) -> None:
    doc = plans.aws_create()
    _spec(doc, SPEC_ON)
    settings = _settings(tmp_path, doc)
    setting = settings.values[GC]
    assert setting.value == "true"
    assert setting.origin == f"{RELEASE}: set.spec.values.global.extraEnv.{GC}"
    assert gc_verdict(settings)[0] is Status.PASS
    # The bucket the chart derives, which names W&B's bucket for select_bucket.
    assert settings.get("BUCKET") == "s3://wandb-files"


@pytest.mark.parametrize("value", ["false", None])
def test_env_false_or_unset_fails_with_the_module_variable(tmp_path: Path,
                                                           value: str | None) -> None:
    doc = plans.aws_create()
    spec = json.loads(json.dumps(SPEC_ON))
    if value is None:
        del spec["values"]["global"]["extraEnv"]
    else:
        spec["values"]["global"]["extraEnv"][GC] = value
    _spec(doc, spec)
    status, summary, fix = gc_verdict(_settings(tmp_path, doc))
    assert status is Status.FAIL
    assert ("not set" if value is None else "needs \"true\"") in summary
    assert fix is not None and f'other_wandb_env = {{\n    {GC} = "true"\n  }}' in fix


def test_values_document_of_an_operator_wandb_release(tmp_path: Path) -> None:
    settings = load_plan(str(plans.HERE / "gcp_wandb_create.json")).settings()
    assert settings.values[GC].value == "false"
    assert settings.values[GC].origin == (
        f"module.wandb.helm_release.wandb: values[0].global.extraEnv.{GC}")
    assert gc_verdict(settings)[0] is Status.FAIL


def _operator_release(doc: dict[str, Any], **after: Any) -> dict[str, Any]:
    change = plans.find(doc, "module.wandb.helm_release.wandb")["change"]
    change["after"].update(after)
    return change


def test_set_entries_win_over_values(tmp_path: Path) -> None:
    doc = plans.gcp_create()
    _operator_release(doc, set=[{"name": f"global.extraEnv.{GC}", "value": "true",
                                 "type": "string"}])
    settings = _settings(tmp_path, doc)
    assert settings.values[GC].value == "true"
    assert settings.values[GC].origin == f"module.wandb.helm_release.wandb: set.global.extraEnv.{GC}"


def test_set_sensitive_is_unknown(tmp_path: Path) -> None:
    doc = plans.gcp_create()
    change = _operator_release(doc, set_sensitive=[{"name": f"global.extraEnv.{GC}",
                                                    "value": "true", "type": ""}])
    change["after_sensitive"] = {"set_sensitive": True}
    setting = _settings(tmp_path, doc).values[GC]
    assert setting.value is None and setting.unresolved == "sensitive in the plan"


def test_values_known_only_after_apply(tmp_path: Path) -> None:
    doc = plans.gcp_create()
    change = _operator_release(doc, values=[None])
    change["after_unknown"]["values"] = [True]
    setting = _settings(tmp_path, doc).values[GC]
    assert setting.unresolved is not None and "values[0] is known only after apply" in (
        setting.unresolved)


def _manifest(doc: dict[str, Any]) -> dict[str, Any]:
    return plans.find(doc, "module.wandb.kubernetes_manifest.wandb")["change"]


def test_weightsandbiases_manifest(tmp_path: Path) -> None:
    settings = load_plan(str(plans.HERE / "azure_wandb_create.json")).settings()
    assert settings.values[GC].value == "true"
    assert settings.values[GC].origin == (
        f"module.wandb.kubernetes_manifest.wandb: manifest.spec.values.global.extraEnv.{GC}")
    assert gc_verdict(settings)[0] is Status.PASS


def test_manifest_env_value_unknown(tmp_path: Path) -> None:
    doc = plans.azure_create()
    change = _manifest(doc)
    del change["after"]["manifest"]["spec"]["values"]["global"]["extraEnv"][GC]
    change["after_unknown"]["manifest"] = {"spec": {"values": {"global": {"extraEnv": {
        GC: True}}}}}
    setting = _settings(tmp_path, doc).values[GC]
    assert setting.value is None and setting.unresolved == "known only after apply"
    assert gc_verdict(_settings(tmp_path, doc))[0] is Status.UNKNOWN


def test_manifest_env_map_unknown_hides_every_variable(tmp_path: Path) -> None:
    doc = plans.azure_create()
    change = _manifest(doc)
    del change["after"]["manifest"]["spec"]["values"]["global"]["extraEnv"]
    change["after_unknown"]["manifest"] = {"spec": {"values": {"global": {"extraEnv": True}}}}
    setting = _settings(tmp_path, doc).values[GC]
    assert setting.unresolved is not None and "global.extraEnv is known only after apply" in (
        setting.unresolved)


def test_manifest_v2_resource(tmp_path: Path) -> None:
    doc = plans.azure_create()
    _manifest(doc)["after"]["manifest"] = {
        "apiVersion": "apps.wandb.com/v2", "kind": "WeightsAndBiases",
        "metadata": {"name": "wandb"},
        "spec": {"wandb": {"retention": {"artifactGarbageCollection": True}}}}
    settings = _settings(tmp_path, doc)
    assert settings.values[GC].value == "true"
    assert "kubernetes_manifest.wandb" in settings.values[GC].origin


def test_no_wandb_release_is_unknown_with_a_hint(tmp_path: Path) -> None:
    settings = load_plan(str(plans.HERE / "aws_state.json")).settings()
    setting = settings.values[GC]
    assert setting.unresolved is not None and "--values" in setting.unresolved
    assert gc_verdict(settings)[0] is Status.UNKNOWN


def test_a_release_being_destroyed_is_not_read(tmp_path: Path) -> None:
    doc = plans.gcp_create()
    change = _operator_release(doc)
    change.update(actions=["delete"], before=change["after"], after=None, after_unknown={})
    assert "no W&B release" in _settings(tmp_path, doc).description


def test_two_wandb_releases_are_an_input_error(tmp_path: Path) -> None:
    doc = plans.gcp_create()
    doc["resource_changes"].append(plans.change(
        "", "helm_release", "wandb_staging", {"chart": "operator-wandb", "values": [],
                                              "set": [], "set_sensitive": []},
        provider=HELM_P))
    with pytest.raises(InputError, match="several W&B deployments"):
        _settings(tmp_path, doc)


def test_other_manifests_and_the_operator_chart_are_ignored(tmp_path: Path) -> None:
    doc = plans.azure_create()
    doc["resource_changes"].append(plans.change(
        "", "kubernetes_manifest", "other", {"manifest": {"apiVersion": "v1", "kind": "ConfigMap",
                                                          "metadata": {"name": "x"}}},
        provider=K8S_P))
    assert load_plan(plans.write(tmp_path, doc)).settings().values[GC].value == "true"
    aws = load_plan(str(plans.HERE / "aws_wandb_create.json")).settings()
    assert "helm_release.operator" not in aws.description


def test_bad_yaml_in_values_is_one_line(tmp_path: Path) -> None:
    doc = plans.gcp_create()
    _operator_release(doc, values=["global: [unclosed\n"])
    with pytest.raises(InputError, match="values\\[0\\]: not valid YAML"):
        _settings(tmp_path, doc)


def test_an_unreadable_spec_names_the_attribute_as_origin() -> None:
    settings = load_plan(str(plans.HERE / "aws_wandb_create.json")).settings()
    assert settings.values[GC].origin == f"{RELEASE}: set.spec (the W&B spec)"


def test_errors_naming_a_hostile_address_are_escaped(tmp_path: Path) -> None:
    doc = plans.gcp_create()
    _operator_release(doc, values=["global: [unclosed\n"])
    plans.find(doc, "module.wandb.helm_release.wandb")["address"] = "helm_release.x\x1b[2J"
    with pytest.raises(InputError) as caught:
        _settings(tmp_path, doc)
    assert "\x1b" not in str(caught.value) and "\\x1b" in str(caught.value)


@pytest.mark.parametrize(("marks", "reason"), [
    ({"after_sensitive": {"set": True}}, "sensitive in the plan"),
    ({"after_unknown": {"set": True}}, "known only after apply"),
])
def test_a_whole_set_marked_hides_the_spec(tmp_path: Path, marks: dict[str, Any],
                                           reason: str) -> None:
    # Terraform marks a set as a whole when one of its elements is sensitive or unknown.
    doc = plans.aws_create()
    _spec(doc, SPEC_ON)
    plans.find(doc, RELEASE)["change"].update(marks)
    setting = _settings(tmp_path, doc).values[GC]
    assert setting.value is None and setting.unresolved == f"{RELEASE} set is {reason}"


def test_fixes_name_the_resource_that_sets_the_env(tmp_path: Path) -> None:
    gcp = load_plan(str(plans.HERE / "gcp_wandb_create.json")).settings()
    fix = gc_verdict(gcp)[2]
    assert fix is not None and 'resource "helm_release" "wandb"' in fix
    assert f'name  = "global.extraEnv.{GC}"' in fix and 'value = "true"' in fix
    doc = plans.azure_create()
    del _manifest(doc)["after"]["manifest"]["spec"]["values"]["global"]["extraEnv"]
    fix = gc_verdict(_settings(tmp_path, doc))[2]
    assert fix is not None and 'resource "kubernetes_manifest" "wandb"' in fix
    assert f'manifest.spec.values.global.extraEnv, {GC} = "true"' in fix


def test_a_wandb_release_with_no_values_sets_no_variable(tmp_path: Path) -> None:
    doc = plans.gcp_create()
    _operator_release(doc, values=None)
    settings = _settings(tmp_path, doc)
    assert GC not in settings.values
    assert gc_verdict(settings)[0] is Status.FAIL
