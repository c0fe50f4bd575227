"""`ssc-provider`: the secure storage connector is offered on the providers matrix.yaml lists.

The verdict is data-driven: an edited matrix.yaml changes it without code changes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.ports import closed_port
from support.run import run_gccheck
from support.s3 import S3Server, make_bucket

from gccheck.bucket_url import parse_bucket_url
from gccheck.matrix import default_matrix_path, load_matrix
from gccheck.model import BucketFacts, Settings, Status, VersioningState
from gccheck.probes import ProbeRegistry
from gccheck.rules import RULES, Context, evaluate

MATRIX = load_matrix(None, RULES)
SSC_HOSTING = ["shared-cloud-ssc", "dedicated-cloud-ssc"]
URLS = {
    "aws": "s3://wandb-bucket",
    "gcp": "gs://wandb-bucket",
    "azure": "az://wandbacct/wandb",
    "s3-compatible": "s3://AK:SK@minio.example.com:9000/wandb?tls=true",
    "coreweave": "cw://AK:SK@cwobject.com/wandb",
}


def ssc_result(hosting: str, url: str, matrix: Any = MATRIX) -> tuple[Status, str]:
    bucket = parse_bucket_url(url)
    facts = BucketFacts(provider=bucket.provider, versioning=VersioningState.ENABLED)
    ctx = Context(matrix, matrix.hosting_types[hosting], Settings("test env", {}), bucket, facts)
    result = {r.id: r for r in evaluate(ctx)}["ssc-provider"]
    return result.status, result.summary


@pytest.mark.parametrize("hosting", SSC_HOSTING)
@pytest.mark.parametrize("provider, offered", [
    ("aws", True), ("gcp", True), ("azure", False), ("s3-compatible", False),
    ("coreweave", False),
])
def test_ssc_offered_only_on_listed_providers(hosting: str, provider: str,
                                              offered: bool) -> None:
    assert parse_bucket_url(URLS[provider]).provider == provider
    status, summary = ssc_result(hosting, URLS[provider])
    title = MATRIX.providers[provider].title
    if offered:
        assert status is Status.PASS
        assert f"offered on {title}" in summary
    else:
        assert status is Status.FAIL
        assert f"not offered on {title} (only on AWS S3, Google Cloud Storage)" in summary


@pytest.mark.parametrize("hosting", ["shared-cloud", "dedicated-cloud", "customer-managed-cloud",
                                     "on-prem"])
def test_ssc_not_required_elsewhere(hosting: str) -> None:
    status, _ = ssc_result(hosting, URLS["azure"])
    assert status is Status.NOT_REQUIRED


def edited_matrix(tmp_path: Path, providers: list[str]) -> Path:
    """matrix.yaml with another secure-storage-connector provider list, nothing else changed."""
    text = default_matrix_path().read_text(encoding="utf-8")
    old = "secure-storage-connector:\n  providers: [aws, gcp]\n"
    assert old in text, "matrix.yaml changed shape: update this test"
    path = tmp_path / "matrix.yaml"
    path.write_text(text.replace(old, "secure-storage-connector:\n  providers: ["
                                 + ", ".join(providers) + "]\n"), encoding="utf-8")
    return path


def test_editing_the_matrix_changes_the_verdict(tmp_path: Path) -> None:
    matrix = load_matrix(edited_matrix(tmp_path, ["aws", "azure"]), RULES)
    assert ssc_result("dedicated-cloud-ssc", URLS["azure"], matrix)[0] is Status.PASS
    status, summary = ssc_result("dedicated-cloud-ssc", URLS["gcp"], matrix)
    assert status is Status.FAIL
    assert "only on AWS S3, Azure Blob Storage" in summary


def test_cli_with_an_edited_matrix(tmp_path: Path) -> None:
    # Azure with no key or subscription: blob soft delete is unknown, ssc-provider is judged
    # from the URL alone.
    def run(*extra: str) -> tuple[int, dict[str, Any]]:
        got = run_gccheck("check", "--hosting", "shared-cloud-ssc", "--bucket", URLS["azure"],
                          "--format", "json", "--timeout", "2", *extra)
        results = {r["id"]: r for r in json.loads(got.out)["targets"][0]["results"]}
        return got.code, results["ssc-provider"]

    code, result = run()
    assert (code, result["status"]) == (1, "fail")
    assert "not offered on Azure Blob Storage" in result["summary"]
    code, result = run("--matrix", str(edited_matrix(tmp_path, ["aws", "gcp", "azure"])))
    assert result["status"] == "pass"
    assert code == 3  # now only the unverified blob soft delete stands between it and ready


def test_cli_minio_on_ssc_fails_with_the_reason() -> None:
    got = run_gccheck("check", "--hosting", "dedicated-cloud-ssc", "--format", "json",
                      "--timeout", "2", "--bucket",
                      f"s3://AK:SK@127.0.0.1:{closed_port()}/wandb?region=us-east-1")
    report = json.loads(got.out)
    result = {r["id"]: r for r in report["targets"][0]["results"]}["ssc-provider"]
    assert got.code == 1
    assert report["targets"][0]["provider"] == "s3-compatible"
    assert result["summary"] == ("the secure storage connector is not offered on S3-compatible "
                                 "(MinIO and others) (only on AWS S3, Google Cloud Storage)")


# ---- CoreWeave goes through the S3 probe ------------------------------------------------------


def test_coreweave_url_reads_as_coreweave_on_s3() -> None:
    bucket = parse_bucket_url("cw://AK:SK@cwobject.com/wandb/files?tls=true")
    assert (bucket.provider, bucket.endpoint_url, bucket.bucket) == (
        "coreweave", "https://cwobject.com", "wandb")
    probe = ProbeRegistry().for_provider("coreweave")
    assert type(probe).__module__ == "gccheck.probes.s3"


def test_coreweave_bucket_checked_through_the_s3_probe(moto_server: S3Server) -> None:
    from support.constants import TEST_KEY, TEST_SECRET

    name = make_bucket(moto_server, "Enabled", prefix="cw")
    # tls=false only because the local server speaks http; CoreWeave itself is https.
    url = (f"cw://{TEST_KEY}:{TEST_SECRET.replace('/', '%2F').replace('+', '%2B')}@"
           f"{moto_server.host}:{moto_server.port}/{name}?tls=false&region=us-east-1")
    got = run_gccheck("check", "--hosting", "on-prem", "--bucket", url, "--format", "json",
                      env={"GORILLA_ARTIFACT_GC_ENABLED": "true"})
    report = json.loads(got.out)
    results = {r["id"]: r for r in report["targets"][0]["results"]}
    assert report["targets"][0]["provider"] == "coreweave"
    assert results["bucket-versioning"]["status"] == "pass"
    assert "object-lock-retention" in results  # the S3 advisories apply to CoreWeave
