"""The GCS probe against real local servers: the GCS emulator over HTTP, and a small HTTP server
that answers 403 the way GCS does (the emulator has no IAM). End to end through the CLI."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from support.cloud_servers import GcsEmulator, gcs_emulator, gcs_forbidden, json_server
from support.constants import GC_ON
from support.ports import closed_port, silent_port
from support.run import Run, run_gccheck

from gccheck.bucket_url import parse_bucket_url
from gccheck.model import Setting, Settings, Unavailable, UnavailableKind
from gccheck.probes.gcs import Probe
from gccheck.probes.gcs_answers import lifecycle_rule
from gccheck.probes.interface import ProbeOptions

NONCURRENT = {"action": {"type": "Delete"}, "condition": {"daysSinceNoncurrentTime": 30}}
_names = iter(range(1, 1_000_000))


@pytest.fixture(scope="module")
def gcs() -> Iterator[GcsEmulator]:
    with gcs_emulator() as emulator:
        yield emulator


def new_bucket(gcs: GcsEmulator, **settings: Any) -> str:
    return gcs.bucket(f"wandb-{next(_names)}-gcs", **settings)


def check(gccheck_inproc: Any, endpoint: str, *args: str,
          env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    run: Run = gccheck_inproc("check", "--format", "json", *args,
                              env={**GC_ON, "STORAGE_EMULATOR_HOST": endpoint, **(env or {})})
    return run.code, json.loads(run.out)


def by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in report["targets"][0]["results"]}


@pytest.mark.parametrize("versioning, status, words, code", [
    (True, "pass", "enabled", 0),
    (False, "fail", "disabled", 1),
])
def test_versioning(gcs: GcsEmulator, gccheck_inproc: Any, versioning: bool, status: str,
                    words: str, code: int) -> None:
    name = new_bucket(gcs, versioning={"enabled": versioning},
                      lifecycle={"rule": [NONCURRENT]})
    got, report = check(gccheck_inproc, gcs.endpoint, "--hosting", "on-prem",
                        "--bucket", f"gs://{name}/wandb")
    result = by_id(report)["bucket-versioning"]
    assert (result["status"], got) == (status, code)
    assert words in result["summary"] and name in result["summary"]
    assert report["targets"][0]["provider"] == "gcp"
    assert "soft delete policy: 7 days" in result["detail"]  # the emulator's default, as GCS
    if status == "fail":
        assert result["remediation"] == f"gcloud storage buckets update gs://{name} --versioning"


def test_missing_bucket_fails(gcs: GcsEmulator, gccheck_inproc: Any) -> None:
    code, report = check(gccheck_inproc, gcs.endpoint, "--hosting", "customer-managed-cloud",
                         "--bucket", "gs://no-such-bucket-anywhere")
    assert code == 1
    result = by_id(report)["bucket-versioning"]
    assert result["status"] == "fail"
    assert "does not exist" in result["summary"]


def test_emulator_host_variable_reaches_the_emulator(gcs: GcsEmulator) -> None:
    # STORAGE_EMULATOR_HOST: anonymous credentials, the endpoint named in the detail.
    name = new_bucket(gcs, versioning={"enabled": True})
    run = run_gccheck("check", "--hosting", "on-prem", "--bucket", f"gs://{name}",
                      "--format", "json", env={**GC_ON, "STORAGE_EMULATOR_HOST":
                                               gcs.endpoint.removeprefix("http://")})
    result = by_id(json.loads(run.out))["bucket-versioning"]
    assert result["status"] == "pass", run
    assert f"answers from {gcs.endpoint} (STORAGE_EMULATOR_HOST from " in result["detail"]


def test_endpoint_url_flag_sends_a_token_to_that_endpoint(gcs: GcsEmulator,
                                                          tmp_path: Path) -> None:
    # --endpoint-url is a GCS endpoint that needs real credentials (a private GCS endpoint):
    # a service-account key whose token endpoint is local, and STORAGE_EMULATOR_HOST at a
    # closed port, so a pass proves the flag won and the token was fetched and sent.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    name = new_bucket(gcs, versioning={"enabled": True})
    with json_server(lambda method, path, headers: (
            200, {"access_token": "local-test-token", "expires_in": 3600,
                  "token_type": "Bearer"})) as token:
        key_file = tmp_path / "service-account.json"
        key_file.write_text(json.dumps({
            "type": "service_account", "project_id": "p", "private_key_id": "0" * 40,
            "private_key": pem, "client_email": FAKE_EMAIL, "client_id": "1" * 21,
            "token_uri": f"{token.url}/token"}))
        run = run_gccheck("check", "--hosting", "on-prem", "--bucket", f"gs://{name}",
                          "--endpoint-url", gcs.endpoint, "--format", "json",
                          env={**GC_ON, "GOOGLE_APPLICATION_CREDENTIALS": str(key_file),
                               "STORAGE_EMULATOR_HOST": f"127.0.0.1:{closed_port()}"})
        token_requests = list(token.requests)
    result = by_id(json.loads(run.out))["bucket-versioning"]
    assert result["status"] == "pass", run
    assert f"answers from {gcs.endpoint} (--endpoint-url)" in result["detail"]
    assert token_requests == [("POST", "/token")]


def test_advisories(gcs: GcsEmulator, gccheck_inproc: Any) -> None:
    name = new_bucket(gcs, versioning={"enabled": True},
                      lifecycle={"rule": [{"action": {"type": "Delete"}, "condition": {"age": 30}}]},
                      retentionPolicy={"retentionPeriod": "2592000", "isLocked": True},
                      softDeletePolicy={"retentionDurationSeconds": "0"})
    code, report = check(gccheck_inproc, gcs.endpoint, "--hosting", "on-prem",
                         "--bucket", f"gs://{name}")
    results = by_id(report)
    assert code == 0  # advisories warn without failing the run
    assert results["lifecycle-expires-current"]["status"] == "warn"
    assert "age=30" in results["lifecycle-expires-current"]["summary"]
    # The age rule also removes noncurrent versions (conditions apply to both).
    assert results["noncurrent-never-expire"]["status"] == "pass"
    assert results["retention-policy"]["status"] == "warn"
    assert "30 days (locked)" in results["retention-policy"]["summary"]
    assert "soft delete policy: off" in results["bucket-versioning"]["detail"]


def test_clean_bucket_advisories_pass(gcs: GcsEmulator, gccheck_inproc: Any) -> None:
    name = new_bucket(gcs, versioning={"enabled": True}, lifecycle={"rule": [
        {"action": {"type": "Delete"}, "condition": {"age": 30, "isLive": False}},
        {"action": {"type": "SetStorageClass", "storageClass": "NEARLINE"},
         "condition": {"age": 90}}]})
    _, report = check(gccheck_inproc, gcs.endpoint, "--hosting", "on-prem",
                      "--bucket", f"gs://{name}")
    results = by_id(report)
    assert results["lifecycle-expires-current"]["status"] == "pass"
    assert results["noncurrent-never-expire"]["status"] == "pass"
    assert results["retention-policy"]["status"] == "pass"


def test_no_noncurrent_rule_warns(gcs: GcsEmulator, gccheck_inproc: Any) -> None:
    name = new_bucket(gcs, versioning={"enabled": True})
    _, report = check(gccheck_inproc, gcs.endpoint, "--hosting", "on-prem",
                      "--bucket", f"gs://{name}")
    assert by_id(report)["noncurrent-never-expire"]["status"] == "warn"


@pytest.mark.parametrize("condition, current, noncurrent", [
    ({"age": 30}, True, True),
    ({"createdBefore": "2024-01-01"}, True, True),
    ({"age": 30, "isLive": False}, False, True),
    ({"isLive": True, "age": 1}, True, False),
    ({"daysSinceNoncurrentTime": 7}, False, True),
    ({"numNewerVersions": 3}, False, True),
    ({"age": 30, "numNewerVersions": 1}, False, True),  # conditions are ANDed
    ({"matchesPrefix": ["tmp/"]}, True, True),
])
def test_lifecycle_rule_reading(condition: dict[str, Any], current: bool,
                                noncurrent: bool) -> None:
    rule = lifecycle_rule(0, {"action": {"type": "Delete"}, "condition": condition})
    assert (rule.expires_current, rule.expires_noncurrent) == (current, noncurrent)
    moved = lifecycle_rule(0, {"action": {"type": "SetStorageClass"}, "condition": condition})
    assert not moved.expires_current and not moved.expires_noncurrent


def test_permission_denied_names_the_permission(gccheck_inproc: Any) -> None:
    with json_server(gcs_forbidden) as server:
        code, report = check(gccheck_inproc, server.url, "--hosting", "on-prem",
                             "--bucket", "gs://wandb-denied")
    assert code == 3  # unknown, not fail
    result = by_id(report)["bucket-versioning"]
    assert result["status"] == "unknown"
    assert "storage.buckets.get" in result["summary"]
    assert result["detail"] == ("missing permission: storage.buckets.get; answers from "
                                f"{server.url} (STORAGE_EMULATOR_HOST from process environment)")
    assert by_id(report)["retention-policy"]["status"] == "unknown"
    # One read-only call: the bucket GET.
    assert [(m, p.split("?")[0]) for m, p in server.requests] == [
        ("GET", "/storage/v1/b/wandb-denied")]


def test_probe_takes_the_endpoint_from_the_settings() -> None:
    # An env file's STORAGE_EMULATOR_HOST counts, as it is what the deployment is told.
    with json_server(gcs_forbidden) as server:
        settings = Settings("env file", {"STORAGE_EMULATOR_HOST": Setting(
            "STORAGE_EMULATOR_HOST", server.url, "env file")})
        facts = Probe().probe(parse_bucket_url("gs://wandb-denied"), settings,
                              ProbeOptions(timeout=3))
    assert isinstance(facts.versioning, Unavailable)
    assert facts.versioning.kind is UnavailableKind.DENIED
    assert facts.versioning.permission == "storage.buckets.get"
    assert facts.delete_protection == facts.versioning


def test_closed_port_is_unknown_within_the_timeout() -> None:
    started = time.monotonic()
    run = run_gccheck("check", "--hosting", "on-prem", "--bucket", "gs://wandb-dead",
                      "--timeout", "2", "--format", "json",
                      env={**GC_ON, "STORAGE_EMULATOR_HOST": f"127.0.0.1:{closed_port()}"})
    elapsed = time.monotonic() - started
    result = by_id(json.loads(run.out))["bucket-versioning"]
    assert run.code == 3
    assert result["status"] == "unknown"
    assert "could not connect" in result["summary"]
    assert elapsed < 4, elapsed


def test_silent_endpoint_times_out_within_the_timeout() -> None:
    with silent_port() as port:
        started = time.monotonic()
        run = run_gccheck("check", "--hosting", "on-prem", "--bucket", "gs://wandb-slow",
                          "--timeout", "2", "--format", "json",
                          env={**GC_ON, "STORAGE_EMULATOR_HOST": f"127.0.0.1:{port}"})
        elapsed = time.monotonic() - started
    result = by_id(json.loads(run.out))["bucket-versioning"]
    assert (run.code, result["status"]) == (3, "unknown")
    assert "within 2 s" in result["summary"]
    assert elapsed < 4, elapsed


def test_without_credentials_is_unknown(tmp_path: Path) -> None:
    # No key, no GOOGLE_APPLICATION_CREDENTIALS, no gcloud config, no emulator: ADC finds
    # nothing (or the metadata server does not answer) within the timeout.
    started = time.monotonic()
    run = run_gccheck("check", "--hosting", "on-prem", "--bucket", "gs://wandb-nocreds",
                      "--timeout", "2", "--format", "json",
                      env={**GC_ON, "HOME": str(tmp_path),
                           "CLOUDSDK_CONFIG": str(tmp_path / "gcloud")})
    elapsed = time.monotonic() - started
    result = by_id(json.loads(run.out))["bucket-versioning"]
    assert (run.code, result["status"]) == (3, "unknown")
    assert "credentials" in result["summary"]
    assert elapsed < 4, elapsed


# ---- secrets -----------------------------------------------------------------------------

FAKE_PEM_BODY = "MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQCgccheckFAKESECRET0123456789"
FAKE_PEM = f"-----BEGIN PRIVATE KEY-----\n{FAKE_PEM_BODY}\n-----END PRIVATE KEY-----\n"
FAKE_EMAIL = "wandb-gc@example-project.iam.gserviceaccount.com"


@pytest.mark.parametrize("fmt", ["table", "json", "markdown", "junit"])
def test_private_key_never_printed(gcs: GcsEmulator, tmp_path: Path, fmt: str) -> None:
    url = f"gs://{quote(FAKE_EMAIL, safe='')}:{quote(FAKE_PEM, safe='')}@wandb-secret-bucket"
    env_file = tmp_path / "wandb.env"
    env_file.write_text(f"BUCKET={url}\nGORILLA_ARTIFACT_GC_ENABLED=true\n")
    runs = [
        run_gccheck("check", "--hosting", "on-prem", "--bucket", url, "--format", fmt,
                    "--timeout", "2", "--debug",
                    env={**GC_ON, "STORAGE_EMULATOR_HOST": gcs.endpoint}),
        run_gccheck("check", "--hosting", "on-prem", "--env-file", str(env_file),
                    "--format", fmt, "--timeout", "2",
                    env={"STORAGE_EMULATOR_HOST": gcs.endpoint}),
    ]
    for run in runs:
        assert run.code == 3, run  # the key cannot be read: unknown, not a crash
        text = run.out + run.err
        assert "bucket-versioning" in text
        for secret in (FAKE_PEM_BODY, quote(FAKE_PEM, safe=""), quote(FAKE_PEM_BODY, safe=""),
                       quote(FAKE_PEM), FAKE_PEM.strip()):
            assert secret not in text
    assert "could not be read" in runs[1].out


# ---- explain -------------------------------------------------------------------------------


def test_explain_gives_the_gcs_fix() -> None:
    run = run_gccheck("explain", "bucket-versioning")
    assert run.code == 0
    assert "gcloud storage buckets update gs://{bucket} --versioning" in run.out
    assert "versioning { enabled = true }" in run.out
    assert "Google Cloud Storage:\n    - storage.buckets.get" in run.out


# ---- demo ----------------------------------------------------------------------------------


def test_demo_part_cases_end_as_their_lessons_say() -> None:
    from contextlib import ExitStack

    from gccheck.demo import gcs as demo_gcs
    from gccheck.engine import prepare, run
    from gccheck.masking import Redactor
    from gccheck.matrix import load_matrix
    from gccheck.rules import RULES

    matrix = load_matrix(None, RULES)
    with ExitStack() as stack:
        cases = demo_gcs.start(stack)
        prepared = [prepare(c.spec, matrix, {}, Redactor()) for c in cases]
        report = run(prepared, matrix)
    codes = {t.name: t.exit_code() for t in report.targets}
    assert codes == {"gcs-ready": 0, "gcs-unversioned": 1, "gcs-lifecycle-hazard": 0,
                     "gcs-retention": 0, "gcs-ssc": 0}
    warned = {t.name: [r.id for r in t.results if r.status.value == "warn"]
              for t in report.targets}
    assert warned["gcs-lifecycle-hazard"] == ["lifecycle-expires-current"]
    assert warned["gcs-retention"] == ["retention-policy"]


def test_explain_keeps_the_gcs_hints() -> None:
    # The hints after '#' are part of the fix, not YAML comments.
    lifecycle = run_gccheck("explain", "lifecycle-expires-current").out
    assert '"isLive": false' in lifecycle and 'with_state   = "ARCHIVED"' in lifecycle
    noncurrent = run_gccheck("explain", "noncurrent-never-expire").out
    assert '"daysSinceNoncurrentTime":30' in noncurrent
    assert "not possible once the policy is locked" in run_gccheck("explain",
                                                                   "retention-policy").out
