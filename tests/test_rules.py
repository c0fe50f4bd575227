"""Pure rules: facts in, verdicts out (no network)."""

from __future__ import annotations

import random
import string
from typing import Any

import pytest

from gccheck.bucket_url import parse_bucket_url
from gccheck.matrix import load_matrix
from gccheck.model import (
    BucketFacts,
    DeleteProtection,
    Kind,
    LifecycleRule,
    Setting,
    Settings,
    SoftDelete,
    Status,
    Unavailable,
    UnavailableKind,
    VersioningState,
    WorkloadEnv,
)
from gccheck.rules import RULES, Context, _same_words, edit_distance, evaluate, near_misses

MATRIX = load_matrix(None, RULES)


def env(**values: str) -> Settings:
    return Settings("test env", {k: Setting(k, v, "test env") for k, v in values.items()})


def results(hosting: str, settings: Settings, url: str | None = None,
            facts: BucketFacts | None = None) -> dict[str, tuple[Status, str]]:
    bucket = parse_bucket_url(url) if url else None
    ctx = Context(MATRIX, MATRIX.hosting_types[hosting], settings, bucket, facts)
    return {r.id: (r.status, r.summary) for r in evaluate(ctx)}


@pytest.mark.parametrize("value", ["true", "TRUE", " True ", "true\n"])
def test_env_var_true_passes(value: str) -> None:
    status, _ = results("on-prem", env(GORILLA_ARTIFACT_GC_ENABLED=value))["gc-env-var"]
    assert status is Status.PASS


@pytest.mark.parametrize("value, shown", [("false", "'false'"), ("", "empty"), ("1", "'1'"),
                                          ("yes", "'yes'")])
def test_env_var_other_values_fail_and_say_what_was_found(value: str, shown: str) -> None:
    status, summary = results("on-prem", env(GORILLA_ARTIFACT_GC_ENABLED=value))["gc-env-var"]
    assert status is Status.FAIL and shown in summary


@pytest.mark.parametrize("name", ["GORILLA_ARTIFACTS_GC_ENABLED", "gorilla_artifact_gc_enabled",
                                  "GORILLA_ARTIFACT_GC_ENABLE", "GORILA_ARTIFACT_GC_ENABLD"])
def test_near_miss_names_are_suggested(name: str) -> None:
    status, summary = results("on-prem", env(**{name: "true"}))["gc-env-var"]
    assert status is Status.FAIL
    assert "not set" in summary and f"did you mean {name}" in summary


def test_a_chart_variable_is_said_to_be_one_not_a_misspelling() -> None:
    # operator-wandb 0.33+ renders GORILLA_GLUE_ARTIFACT_GC_ENABLED in its glue ConfigMap; W&B
    # does not document it.
    name = "GORILLA_GLUE_ARTIFACT_GC_ENABLED"
    status, summary = results("on-prem", env(**{name: "false"}))["gc-env-var"]
    assert status is Status.FAIL and "did you mean" not in summary
    assert f"{name} (set to 'false' in test env) is a chart variable: set by operator-wandb" in \
        summary and "W&B does not document it" in summary
    status, summary = results("on-prem", env(**{name: "true", "GORILLA_ARTIFACTS_GC_ENABLED":
                                                 "true"}))["gc-env-var"]
    assert "did you mean GORILLA_ARTIFACTS_GC_ENABLED" in summary and "is a chart variable" in summary


def test_unrelated_names_are_not_suggested() -> None:
    _, summary = results("on-prem", env(GORILLA_ARTIFACTS_GC_BATCH_SIZE="10"))["gc-env-var"]
    assert "did you mean" not in summary
    assert near_misses("ABC", (), ["XYZ", "ABD"]) == ["ABD"]
    assert edit_distance("kitten", "sitting") == 3


def test_unresolved_setting_is_unknown() -> None:
    settings = Settings("values", {"GORILLA_ARTIFACT_GC_ENABLED": Setting(
        "GORILLA_ARTIFACT_GC_ENABLED", None, "values.yaml", unresolved="a Secret only in the "
        "cluster")})
    status, summary = results("on-prem", settings)["gc-env-var"]
    assert status is Status.UNKNOWN and "Secret" in summary


def test_env_var_not_required_on_shared_and_dedicated_cloud() -> None:
    for hosting in ("shared-cloud", "dedicated-cloud", "shared-cloud-ssc", "dedicated-cloud-ssc"):
        assert results(hosting, env())["gc-env-var"][0] is Status.NOT_REQUIRED


S3 = "s3://wandb-prod"


@pytest.mark.parametrize("state, status, words", [
    (VersioningState.ENABLED, Status.PASS, "enabled"),
    (VersioningState.SUSPENDED, Status.FAIL, "suspended"),
    (VersioningState.NEVER_ENABLED, Status.FAIL, "never enabled"),
    (Unavailable(UnavailableKind.DENIED, "access denied", "s3:GetBucketVersioning"),
     Status.UNKNOWN, "access denied"),
    (Unavailable(UnavailableKind.TIMEOUT, "no answer within 2 s"), Status.UNKNOWN, "no answer"),
])
def test_versioning_verdicts(state: object, status: Status, words: str) -> None:
    facts = BucketFacts("aws", versioning=state)  # type: ignore[arg-type]
    got, summary = results("customer-managed-cloud", env(), S3, facts)["bucket-versioning"]
    assert got is status and words in summary


def test_missing_bucket_fails() -> None:
    facts = BucketFacts("aws", missing=True, missing_reason="bucket wandb-prod does not exist")
    status, summary = results("on-prem", env(), S3, facts)["bucket-versioning"]
    assert status is Status.FAIL and "does not exist" in summary


def test_no_bucket_is_unknown_for_storage_requirements() -> None:
    got = results("customer-managed-cloud", env())
    assert got["bucket-versioning"][0] is Status.UNKNOWN
    assert got["blob-soft-delete"][0] is Status.UNKNOWN


def test_azure_takes_blob_soft_delete_instead_of_versioning() -> None:
    on = BucketFacts("azure", blob_soft_delete=SoftDelete(True, 7))
    got = results("on-prem", env(), "az://acct1/files", on)
    assert got["bucket-versioning"][0] is Status.NOT_REQUIRED
    assert got["blob-soft-delete"][0] is Status.PASS and "7 days" in got["blob-soft-delete"][1]
    off = BucketFacts("azure", blob_soft_delete=SoftDelete(False))
    assert results("on-prem", env(), "az://acct1/files", off)["blob-soft-delete"][0] is Status.FAIL


@pytest.mark.parametrize("url, status", [
    ("s3://wandb-prod", Status.PASS),
    ("gs://wandb-prod", Status.PASS),
    ("az://acct1/files", Status.FAIL),
    ("s3://AK:SK@minio:9000/wandb", Status.FAIL),
    ("cw://AK:SK@cwobject.com/wandb", Status.FAIL),
])
def test_ssc_provider(url: str, status: Status) -> None:
    got, summary = results("dedicated-cloud-ssc", env(), url)["ssc-provider"]
    assert got is status
    if status is Status.FAIL:
        assert "not offered" in summary


def test_advisories_warn_on_hazards_and_pass_otherwise() -> None:
    hazards = BucketFacts("aws", versioning=VersioningState.ENABLED, lifecycle=(
        LifecycleRule("expire-all", True, True, False),),
        delete_protection=DeleteProtection(True, "object lock default retention GOVERNANCE 30 days"))
    got = results("on-prem", env(), S3, hazards)
    assert got["lifecycle-expires-current"][0] is Status.WARN
    assert "expire-all" in got["lifecycle-expires-current"][1]
    assert got["noncurrent-never-expire"][0] is Status.WARN
    assert got["object-lock-retention"][0] is Status.WARN
    clean = BucketFacts("aws", versioning=VersioningState.ENABLED, lifecycle=(
        LifecycleRule("nc", True, False, True), LifecycleRule("off", False, True, False)),
        delete_protection=DeleteProtection(False, "object lock is not configured"))
    got = results("on-prem", env(), S3, clean)
    assert {got[a][0] for a in ("lifecycle-expires-current", "noncurrent-never-expire",
                                "object-lock-retention")} == {Status.PASS}


def test_advisories_are_advisory_kind_and_never_fail() -> None:
    facts = BucketFacts("aws", versioning=VersioningState.ENABLED, lifecycle=(),
                        delete_protection=DeleteProtection(False, ""))
    bucket = parse_bucket_url(S3)
    ctx = Context(MATRIX, MATRIX.hosting_types["on-prem"], env(GORILLA_ARTIFACT_GC_ENABLED="true"),
                  bucket, facts)
    out = evaluate(ctx)
    advisories = [r for r in out if r.kind is Kind.ADVISORY]
    assert advisories and all(r.status in (Status.PASS, Status.WARN) for r in advisories)


def test_unresolved_bucket_setting_says_why_there_is_no_bucket() -> None:
    from gccheck.concurrency import DaemonPool
    from gccheck.engine import Prepared, check_prepared
    from gccheck.probes import ProbeRegistry
    from gccheck.target import TargetSpec

    settings = Settings("values", {"BUCKET": Setting(
        "BUCKET", None, "wandb-cr.yaml: spec.objectStore", unresolved="a managed object store")})
    prepared = Prepared(TargetSpec("w", "on-prem"), MATRIX.hosting_types["on-prem"], settings,
                        None)
    report = check_prepared(prepared, MATRIX, ProbeRegistry(), DaemonPool(1))
    versioning = next(r for r in report.results if r.id == "bucket-versioning")
    assert versioning.status is Status.UNKNOWN
    assert "BUCKET cannot be read (wandb-cr.yaml: spec.objectStore)" in versioning.summary


@pytest.mark.parametrize("name", ["WANDB_ARTIFACT_GC_ENABLED", "ARTIFACT_GC_ENABLED",
                                  "GORILLA_GC_ENABLED"])
def test_other_spellings_of_the_same_words_are_suggested(name: str) -> None:
    _, summary = results("on-prem", env(**{name: "true"}))["gc-env-var"]
    assert f"did you mean {name}" in summary


def test_missing_bucket_has_a_fix() -> None:
    facts = BucketFacts("aws", missing=True)
    bucket = parse_bucket_url(S3)
    ctx = Context(MATRIX, MATRIX.hosting_types["on-prem"], env(), bucket, facts)
    versioning = next(r for r in evaluate(ctx) if r.id == "bucket-versioning")
    assert versioning.status is Status.FAIL and versioning.remediation
    assert "BUCKET" in versioning.remediation


def test_a_bucket_is_probed_when_a_required_rule_reads_it(tmp_path: Any) -> None:
    import yaml

    from gccheck.matrix import default_matrix_path
    from gccheck.rules import needs_probe

    shipped = load_matrix(None, RULES)
    on_prem, shared = shipped.hosting_types["on-prem"], shipped.hosting_types["shared-cloud"]
    assert needs_probe(shipped, on_prem, "aws") and needs_probe(shipped, on_prem, "azure")
    assert not needs_probe(shipped, shared, "aws")  # nothing required: no call to the cloud
    # A custom matrix whose versioning requirement names no providers still reads the bucket.
    data = yaml.safe_load(default_matrix_path().read_text())
    del data["requirements"]["bucket-versioning"]["providers"]
    path = tmp_path / "matrix.yaml"
    path.write_text(yaml.safe_dump(data))
    custom = load_matrix(str(path), RULES)
    assert needs_probe(custom, custom.hosting_types["on-prem"], "coreweave")


def _mutated(rng: random.Random, name: str, edits: int) -> str:
    for _ in range(edits):
        at = rng.randint(0, len(name))
        letter = rng.choice(string.ascii_uppercase + "_")
        name = rng.choice([name[:at] + letter + name[at:], name[:at] + name[at + 1:],
                           name[:at] + letter + name[at + 1:]])
    return name


def test_near_misses_finds_what_a_full_comparison_finds() -> None:
    """The pigeonhole filter (a third of the name kept whole) drops no name within 2 edits."""
    rng = random.Random(6)
    variable = "GORILLA_ARTIFACT_GC_ENABLED"
    names = list({_mutated(rng, variable, rng.randint(1, 4)) for _ in range(1500)})
    names += [n.lower() for n in names[:50]] + ["ABD", ""]
    expected = sorted(n for n in names if n != variable and (
        n.upper() == variable or _same_words(n.upper(), variable)
        or (abs(len(n) - len(variable)) <= 2 and edit_distance(n.upper(), variable) <= 2)))
    assert len(expected) > 300
    assert near_misses(variable, (), names) == expected
    for short in ("AB", "ABC"):
        assert near_misses(short, (), ["XY", "ABD", "ZZZZZ"]) == sorted(
            n for n in ("XY", "ABD") if edit_distance(n, short) <= 2)


def test_near_misses_compares_a_bounded_number_of_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """40,000 look-alikes (a third of the variable, the right length, 3+ edits away): only
    MAX_COMPARED of them get the full comparison, the rest cost one substring test."""
    import gccheck.rules

    compared: list[str] = []
    full = gccheck.rules._within_two_edits

    def counting(a: str, b: str) -> bool:
        compared.append(a)
        return full(a, b)

    monkeypatch.setattr(gccheck.rules, "_within_two_edits", counting)
    names = [f"GORILLA_A{i:018d}" for i in range(40_000)]
    assert near_misses("GORILLA_ARTIFACT_GC_ENABLED", (), names) == []
    assert len(compared) == gccheck.rules.MAX_COMPARED
    compared.clear()
    unrelated = [f"X{i:026d}" for i in range(40_000)]
    assert near_misses("GORILLA_ARTIFACT_GC_ENABLED", (), unrelated) == []
    assert compared == []


# ---- several containers run the W&B server (a rendered chart, --workload auto) -------------

GC = "GORILLA_ARTIFACT_GC_ENABLED"


def workload(label: str, value: str | None, origin: str = "env", **kwargs: Any) -> WorkloadEnv:
    values = {} if value is None else {GC: Setting(GC, value, origin, **kwargs)}
    return WorkloadEnv(label, values, fix_missing=f"kubectl set env {label} {{name}}={{value}}")


def servers(*workloads: WorkloadEnv, notes: tuple[str, ...] = ()) -> Settings:
    return Settings("release", workloads[0].values, workloads=workloads, notes=notes)


def test_every_server_container_must_have_gc_on() -> None:
    app = workload("Deployment/wandb-app container app", "true")
    glue = workload("Deployment/wandb-glue container glue", "false", origin=(
        "ConfigMap default/wandb-gorilla-configmap: key GORILLA_ARTIFACT_GC_ENABLED (envFrom of "
        "Deployment default/wandb-glue container glue, after Secret default/wandb-global-secret)"),
        fix="upgrade")
    api = workload("Deployment/wandb-api container api", None)
    off = workload("Deployment/wandb-app container app", "false")
    assert results("on-prem", servers(app))["gc-env-var"][0] is Status.PASS
    assert results("on-prem", servers(off))["gc-env-var"][0] is Status.FAIL
    status, summary = results("on-prem", servers(app, app))["gc-env-var"]
    assert status is Status.PASS and summary == (
        f"{GC} is 'true' in every W&B server container (Deployment/wandb-app container app, "
        "Deployment/wandb-app container app)")
    ctx = Context(MATRIX, MATRIX.hosting_types["on-prem"],
                  servers(app, glue, api, notes=("known chart trap x",)), None, None)
    result = next(r for r in evaluate(ctx) if r.id == "gc-env-var")
    assert result.status is Status.FAIL
    assert result.summary == (
        f'{GC} needs "true" in every W&B server container; 2 of 3 do not: '
        "Deployment/wandb-glue container glue: 'false' (from ConfigMap "
        f"default/wandb-gorilla-configmap: key {GC} (envFrom of Deployment default/wandb-glue "
        "container glue, after Secret default/wandb-global-secret)); "
        "Deployment/wandb-api container api: not set")
    assert result.remediation == (f"upgrade\nkubectl set env Deployment/wandb-api container api "
                                  f"{GC}=true")
    assert result.detail == "known chart trap x"


def test_an_unreadable_server_container_is_unknown_unless_another_fails() -> None:
    app = workload("Deployment/wandb-app container app", "true")
    hidden = WorkloadEnv("Deployment/wandb-api container api", {GC: Setting(GC, None, "Secret x: key k",
                                                    unresolved="no 'get secrets'")})
    status, summary = results("on-prem", servers(app, hidden))["gc-env-var"]
    assert status is Status.UNKNOWN and "Deployment/wandb-api container api: cannot be read: " \
        "no 'get secrets'" in summary
    off = workload("Deployment/wandb-glue container glue", "false")
    assert results("on-prem", servers(app, hidden, off))["gc-env-var"][0] is Status.FAIL
