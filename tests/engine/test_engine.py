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
