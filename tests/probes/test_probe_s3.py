"""The S3 probe against real local servers (moto over HTTP), end to end through the CLI."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from support.constants import GC_ON, NONCURRENT_RULE
from support.ports import closed_port
from support.run import run_gccheck
from support.s3 import S3Server, enforce_iam, iam_user, make_bucket


def check_json(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict]:  # type: ignore[type-arg]
    run = run_gccheck("check", "--format", "json", *args, env=env)
    assert run.err == "" or "error" not in run.err, run.err
    return run.code, json.loads(run.out)


def by_id(report: dict) -> dict[str, dict]:  # type: ignore[type-arg]
    return {r["id"]: r for r in report["targets"][0]["results"]}


@pytest.mark.parametrize("state, status, words, code", [
    ("Enabled", "pass", "enabled", 0),
    ("Suspended", "fail", "suspended", 1),
    (None, "fail", "never enabled", 1),
])
def test_versioning_states(moto_server: S3Server, state: str | None, status: str, words: str,
                           code: int) -> None:
    bucket = make_bucket(moto_server, state, lifecycle=[NONCURRENT_RULE])
    got_code, report = check_json("--hosting", "customer-managed-cloud", "--bucket",
                                  moto_server.url(bucket), env=GC_ON)
    result = by_id(report)["bucket-versioning"]
    assert (result["status"], got_code) == (status, code)
    assert words in result["summary"]
    assert report["targets"][0]["provider"] == "s3-compatible"
    if status == "fail":
        assert "mc version enable" in result["remediation"]


def test_missing_bucket_fails(moto_server: S3Server) -> None:
    code, report = check_json("--hosting", "on-prem", "--bucket",
                              moto_server.url("no-such-bucket-here"), env=GC_ON)
    assert code == 1
    assert "does not exist" in by_id(report)["bucket-versioning"]["summary"]


def test_advisories_from_a_live_bucket(moto_server: S3Server) -> None:
    bucket = make_bucket(moto_server, "Enabled", lock_days=30, lifecycle=[
        {"ID": "expire-all", "Status": "Enabled", "Filter": {"Prefix": ""},
         "Expiration": {"Days": 7}}])
    code, report = check_json("--hosting", "on-prem", "--bucket", moto_server.url(bucket),
                              env=GC_ON)
    results = by_id(report)
    assert code == 0  # advisories do not fail the run...
    assert results["lifecycle-expires-current"]["status"] == "warn"
    assert results["noncurrent-never-expire"]["status"] == "warn"
    assert results["object-lock-retention"]["status"] == "warn"
    assert "30 days" in results["object-lock-retention"]["summary"]
    strict_code, _ = check_json("--hosting", "on-prem", "--bucket", moto_server.url(bucket),
                                "--strict", env=GC_ON)
    assert strict_code == 1  # ...unless --strict


def test_credentials_from_env_with_endpoint_url(moto_server: S3Server) -> None:
    bucket = make_bucket(moto_server, "Enabled", lifecycle=[NONCURRENT_RULE])
    from support.constants import TEST_KEY, TEST_SECRET

    env = {**GC_ON, "AWS_ACCESS_KEY_ID": TEST_KEY, "AWS_SECRET_ACCESS_KEY": TEST_SECRET,
           "AWS_REGION": "us-east-1"}
    code, report = check_json("--hosting", "on-prem", "--bucket", f"s3://{bucket}",
                              "--endpoint-url", moto_server.endpoint, env=env)
    assert code == 0, report



def test_endpoint_and_keys_from_an_env_file(moto_server: S3Server, tmp_path: Path) -> None:
    # Only gccheck reads an env file (boto3 would read AWS_ENDPOINT_URL_S3 from the process
    # environment by itself): the endpoint must travel from the file to the client.
    from support.constants import TEST_KEY, TEST_SECRET

    bucket = make_bucket(moto_server, "Enabled", lifecycle=[NONCURRENT_RULE])
    env_file = tmp_path / "wandb.env"
    env_file.write_text(f"BUCKET=s3://{bucket}\nAWS_ENDPOINT_URL_S3={moto_server.endpoint}\n"
                        f"AWS_ACCESS_KEY_ID={TEST_KEY}\nAWS_SECRET_ACCESS_KEY={TEST_SECRET}\n"
                        "AWS_REGION=us-east-1\nGORILLA_ARTIFACT_GC_ENABLED=true\n")
    code, report = check_json("--hosting", "on-prem", "--env-file", str(env_file))
    assert code == 0, report
    assert by_id(report)["bucket-versioning"]["status"] == "pass"


def test_no_credentials_is_unknown(moto_server: S3Server) -> None:
    bucket = make_bucket(moto_server, "Enabled")
    code, report = check_json("--hosting", "on-prem", "--bucket", f"s3://{bucket}",
                              "--endpoint-url", moto_server.endpoint, env=GC_ON)
    assert code == 3
    assert "no AWS credentials" in by_id(report)["bucket-versioning"]["summary"]


def test_access_denied_is_unknown_and_names_the_permission(iam_moto_server: S3Server) -> None:
    bucket = make_bucket(iam_moto_server, "Enabled")
    key, secret = iam_user(iam_moto_server, "no-versioning",
                           ["s3:GetLifecycleConfiguration", "s3:ListBucket"])
    enforce_iam(iam_moto_server)
    code, report = check_json("--hosting", "on-prem", "--bucket",
                              iam_moto_server.url(bucket, key, secret), env=GC_ON)
    result = by_id(report)["bucket-versioning"]
    assert result["status"] == "unknown", result
    assert "s3:GetBucketVersioning" in result["summary"] + result["detail"]
    assert code == 3


def test_allowed_user_gets_a_complete_verdict(iam_moto_server: S3Server) -> None:
    bucket = make_bucket(iam_moto_server, "Enabled", lifecycle=[NONCURRENT_RULE])
    # moto checks GetObjectLockConfiguration as s3:ListBucket (see FIELD-NOTES).
    key, secret = iam_user(iam_moto_server, "reader", [
        "s3:GetBucketVersioning", "s3:GetLifecycleConfiguration",
        "s3:GetBucketObjectLockConfiguration", "s3:ListBucket"])
    enforce_iam(iam_moto_server)
    code, report = check_json("--hosting", "on-prem", "--bucket",
                              iam_moto_server.url(bucket, key, secret), env=GC_ON)
    assert code == 0
    assert {r["status"] for r in report["targets"][0]["results"]} <= {"pass", "not-required"}


def test_closed_port_is_unknown_quickly() -> None:
    port = closed_port()
    start = time.monotonic()
    code, report = check_json("--hosting", "on-prem", "--timeout", "2", "--bucket",
                              f"s3://AK:SK@127.0.0.1:{port}/wandb", env=GC_ON)
    elapsed = time.monotonic() - start
    result = by_id(report)["bucket-versioning"]
    assert (code, result["status"]) == (3, "unknown")
    assert "could not connect" in result["summary"]
    assert elapsed < 2 + 5  # the documented bound: --timeout plus start-up


def test_silent_server_is_unknown_within_the_timeout(silent_server: tuple[str, int]) -> None:
    host, port = silent_server
    start = time.monotonic()
    code, report = check_json("--hosting", "on-prem", "--timeout", "1", "--bucket",
                              f"s3://AK:SK@{host}:{port}/wandb", env=GC_ON)
    elapsed = time.monotonic() - start
    result = by_id(report)["bucket-versioning"]
    assert (code, result["status"]) == (3, "unknown")
    assert "no answer" in result["summary"] and "1 s" in result["summary"]
    assert elapsed < 1 + 5


def test_unresolvable_host_is_unknown() -> None:
    code, report = check_json("--hosting", "on-prem", "--timeout", "3", "--bucket",
                              "s3://AK:SK@no-such-host.invalid:9000/wandb", env=GC_ON)
    result = by_id(report)["bucket-versioning"]
    assert (code, result["status"]) == (3, "unknown")
    assert "DNS" in result["summary"] or "could not connect" in result["summary"]
