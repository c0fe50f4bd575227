"""The engine `check` and `audit` share: prepare (settings, secrets, the endpoint decision) and
evaluate (probe, judge; every fact unavailable for one reason, built in one place)."""

from __future__ import annotations

from typing import Any

import pytest
from support.constants import GC_ON

from gccheck.bucket_url import BucketLocation
from gccheck.concurrency import DaemonPool
from gccheck.engine import check_prepared, prepare, unavailable_facts
from gccheck.masking import Redactor
from gccheck.matrix import Matrix, load_matrix
from gccheck.model import BucketFacts, Settings, Status, Unavailable, UnavailableKind
from gccheck.probes.interface import ProbeOptions
from gccheck.rules import RULES
from gccheck.target import InlineEnv, TargetSpec


@pytest.fixture(scope="module")
def matrix() -> Matrix:
    return load_matrix(None, RULES)


def test_aws_endpoint_variables_apply_to_s3_urls_only(matrix: Matrix) -> None:
    env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:7078", "GORILLA_ARTIFACT_GC_ENABLED": "true"}

    def endpoint(bucket: str, **spec: Any) -> str | None:
        target = TargetSpec(name="t", hosting="on-prem", bucket=bucket, source=InlineEnv(env),
                            **spec)
        prepared = prepare(target, matrix, {}, Redactor())
        assert prepared.bucket is not None
        return prepared.bucket.endpoint_url

    assert endpoint("s3://bucket") == "http://127.0.0.1:7078"
    # A Google token must never go to an S3 endpoint named by AWS's variables.
    assert endpoint("gs://bucket") is None
    assert endpoint("gs://bucket", endpoint_url="http://127.0.0.1:9023") == "http://127.0.0.1:9023"


def test_prepare_learns_the_secrets_of_the_settings_and_the_url(matrix: Matrix) -> None:
    redactor = Redactor()
    spec = TargetSpec("t", "on-prem", bucket="s3://AKIALEARNT0000:learntsecret0000@minio:9000/b",
                      source=InlineEnv({**GC_ON, "AWS_SECRET_ACCESS_KEY": "settingsecret0000"}),
                      endpoint_url="http://127.0.0.1:9000")
    prepare(spec, matrix, {}, redactor)
    shown = redactor.redact("learntsecret0000 settingsecret0000")
    assert "learntsecret0000" not in shown and "settingsecret0000" not in shown


class _Crashing:
    def probe(self, bucket: BucketLocation, settings: Settings,
              options: ProbeOptions) -> BucketFacts:
        raise RuntimeError("a bug")


class _Registry:
    def __init__(self, probe: Any) -> None:
        self.probe = probe

    def for_provider(self, provider: str) -> Any:
        return self.probe


@pytest.mark.parametrize(("probe", "reason"), [
    (None, "no probe for this provider yet (aws)"),
    (_Crashing(), "the aws probe failed unexpectedly (RuntimeError)"),
])
def test_a_bucket_nothing_could_be_learnt_about_is_unknown_for_one_reason(
        matrix: Matrix, probe: Any, reason: str) -> None:
    spec = TargetSpec("t", "on-prem", bucket="s3://wandb-files", source=InlineEnv(GC_ON))
    prepared = prepare(spec, matrix, {}, Redactor())
    report = check_prepared(prepared, matrix, _Registry(probe), DaemonPool(2))  # type: ignore[arg-type]
    versioning = next(r for r in report.results if r.id == "bucket-versioning")
    assert versioning.status is Status.UNKNOWN and reason in versioning.summary
    assert next(r for r in report.results if r.id == "gc-env-var").status is Status.PASS


def test_unavailable_facts_leave_no_fact_readable() -> None:
    facts = unavailable_facts("gcp", UnavailableKind.ERROR, "why")
    for fact in (facts.versioning, facts.blob_soft_delete, facts.lifecycle,
                 facts.delete_protection):
        assert fact == Unavailable(UnavailableKind.ERROR, "why")
    assert facts.provider == "gcp"


# ---- a Terraform plan: facts from the plan, never a probe ------------------------------------


def test_a_plan_target_is_judged_from_the_plan_and_never_probed(matrix: Matrix) -> None:
    from support.constants import FIXTURES

    from gccheck.probes import ProbeRegistry
    from gccheck.target import TerraformPlan
    from gccheck.terraform.target import ReadPlan

    address = "module.wandb_infra.module.file_storage.aws_s3_bucket.file_storage"
    spec = TargetSpec(name="t", hosting="customer-managed-cloud", bucket=address,
                      source=TerraformPlan(str(FIXTURES / "terraform" / "aws_wandb_create.json")))
    prepared = prepare(spec, matrix, {}, Redactor())
    # Read whole at prepare time: the plan's document is not held while a fleet runs.
    assert isinstance(prepared.planned, ReadPlan)
    assert prepared.bucket is not None and prepared.bucket.display_name == address
    registry = ProbeRegistry()
    report = check_prepared(prepared, matrix, registry, DaemonPool(2))
    assert registry._probes == {}  # no SDK imported, no client made
    by_id = {r.id: r for r in report.results}
    assert by_id["bucket-versioning"].status is Status.FAIL
    assert by_id["bucket-versioning"].source == f"{address}.versioning[0].enabled"
    assert 'resource "aws_s3_bucket_versioning"' in (by_id["bucket-versioning"].remediation
                                                     or "")
    assert any("Terraform plan" in note for note in report.notes)


def test_a_plan_reader_bug_leaves_the_bucket_unknown_and_the_rest_judged(
        matrix: Matrix, monkeypatch: pytest.MonkeyPatch) -> None:
    from support.constants import FIXTURES

    from gccheck.probes import ProbeRegistry
    from gccheck.target import TerraformPlan
    from gccheck.terraform import gcs

    def broken(*args: Any) -> Any:
        raise RuntimeError("injected")

    monkeypatch.setattr(gcs, "facts", broken)
    spec = TargetSpec(name="t", hosting="customer-managed-cloud",
                      source=TerraformPlan(str(FIXTURES / "terraform" / "gcp_wandb_create.json")))
    report = check_prepared(prepare(spec, matrix, {}, Redactor()), matrix, ProbeRegistry(),
                            DaemonPool(2))
    by_id = {r.id: r for r in report.results}
    assert by_id["bucket-versioning"].status is Status.UNKNOWN
    assert "failed unexpectedly (RuntimeError)" in by_id["bucket-versioning"].summary
    assert by_id["gc-env-var"].status is Status.FAIL  # the plan's env still judged


def test_a_plan_target_given_up_on_keeps_its_planned_verdicts(matrix: Matrix) -> None:
    from support.constants import FIXTURES

    from gccheck.engine import Job
    from gccheck.target import TerraformPlan

    spec = TargetSpec(name="t", hosting="customer-managed-cloud",
                      source=TerraformPlan(str(FIXTURES / "terraform" / "gcp_wandb_create.json")))
    report = Job(matrix, spec, prepare(spec, matrix, {}, Redactor())).gave_up()
    by_id = {r.id: r for r in report.results}
    # Nothing was waited for: the plan's facts were read before the deadline started.
    assert by_id["bucket-versioning"].status is Status.FAIL
    assert "enabled = true" in (by_id["bucket-versioning"].remediation or "")


# ---- what a source learnt reaches the report --------------------------------------------------


def test_a_sources_notes_reach_the_report_and_survive_a_timeout(matrix: Matrix) -> None:
    from gccheck.engine import Job, Prepared
    from gccheck.model import Setting

    note = "known chart trap t: the way out"
    settings = Settings("chart c", {"GORILLA_ARTIFACT_GC_ENABLED": Setting(
        "GORILLA_ARTIFACT_GC_ENABLED", "true", "chart c")}, notes=(note,))
    spec = TargetSpec("t", "on-prem")
    prepared = Prepared(spec, matrix.hosting_types["on-prem"], settings, None)
    report = check_prepared(prepared, matrix, _Registry(None), DaemonPool(2))  # type: ignore[arg-type]
    assert report.notes == (note,)
    assert Job(matrix, spec, prepared).gave_up().notes == (note,)


def test_a_chart_target_is_rendered_by_prepare_with_its_release_and_namespace(
        matrix: Matrix) -> None:
    from support.constants import FIXTURES

    from gccheck.target import RenderedChart

    chart = str(FIXTURES / "charts" / "wandb-trap")
    spec = TargetSpec("t", "on-prem", source=RenderedChart(chart, (), "prod", "team"),
                      timeout=30.0)
    prepared = prepare(spec, matrix, {"PATH": ""}, Redactor())  # the Helm SDK: no binary
    assert [w.label for w in prepared.settings.workloads] == [
        "Deployment/prod-app container app"]
    assert prepared.settings.description.startswith(
        "chart operator-wandb 0.32.1 rendered as release prod in namespace team")
    assert prepared.bucket is not None and prepared.bucket.masked_url == "s3://wandb-files"
