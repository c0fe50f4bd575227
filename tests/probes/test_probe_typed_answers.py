"""Each fact's fields are typed strictly: an answer of the wrong type or out of the API's
range is a malformed answer for THAT fact (unknown, naming the field), never a pass or warn,
and the other facts keep their verdicts (issue 15).

A string "true" is truthy, "30" compares as a count, -5 days prints as a retention: read as
values, they turned hostile answers into verdicts. Scripted servers on 127.0.0.1 answer.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from support.constants import TEST_KEY, TEST_SECRET
from support.faults import scripted_server
from support.run import run_gccheck

XML = {"Content-Type": "application/xml"}


def _results(out: str) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in json.loads(out)["targets"][0]["results"]}


# ---- GCS ---------------------------------------------------------------------------------


def _gcs(condition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    bucket = json.dumps({"kind": "storage#bucket", "name": "wandb-files",
                         "versioning": {"enabled": True},
                         "lifecycle": {"rule": [{"action": {"type": "Delete"},
                                                 "condition": condition}]}}).encode()
    with scripted_server(lambda *_: (200, {"Content-Type": "application/json"}, bucket)) as s:
        run = run_gccheck("check", "--hosting", "on-prem", "--bucket", "gs://wandb-files",
                          "--format", "json", "--timeout", "5",
                          env={"GORILLA_ARTIFACT_GC_ENABLED": "true",
                               "STORAGE_EMULATOR_HOST": s.url})
    assert "Traceback" not in run.err, run.err
    return _results(run.out)


@pytest.mark.parametrize(("condition", "field"), [
    ({"isLive": "true", "daysSinceNoncurrentTime": "30"}, "condition.isLive"),
    ({"isLive": "false", "age": 30}, "condition.isLive"),
    ({"isLive": False, "daysSinceNoncurrentTime": "30"}, "condition.daysSinceNoncurrentTime"),
    ({"age": -1}, "condition.age"),
    ({"age": True}, "condition.age"),
    ({"numNewerVersions": 1.5}, "condition.numNewerVersions"),
    ({"matchesPrefix": "wandb/"}, "condition.matchesPrefix"),
])
def test_gcs_lifecycle_fields_of_the_wrong_type_are_malformed(condition: dict[str, Any],
                                                              field: str) -> None:
    results = _gcs(condition)
    for rule in ("lifecycle-expires-current", "noncurrent-never-expire"):
        assert results[rule]["status"] == "unknown", results[rule]
        assert "malformed answer" in results[rule]["summary"], results[rule]
        assert f"lifecycle rule 1.{field}" in results[rule]["summary"], results[rule]
    assert results["bucket-versioning"]["status"] == "pass", results["bucket-versioning"]


def test_gcs_lifecycle_real_types_keep_their_verdicts() -> None:
    results = _gcs({"isLive": False, "daysSinceNoncurrentTime": 30})
    assert results["noncurrent-never-expire"]["status"] == "pass", results
    assert results["lifecycle-expires-current"]["status"] == "pass", results


# ---- Azure data plane --------------------------------------------------------------------

AZURE_KEY = "a2V5LWZvci10ZXN0cy1vbmx5LW5vdC1hLXJlYWwtb25lLTAwMDAwMDAwMDAwMDA="


def _azure(enabled: str, days: str) -> dict[str, dict[str, Any]]:
    service = ("<?xml version='1.0' encoding='utf-8'?><StorageServiceProperties>"
               f"<DeleteRetentionPolicy><Enabled>{enabled}</Enabled><Days>{days}</Days>"
               "</DeleteRetentionPolicy></StorageServiceProperties>").encode()
    answered = {"x-ms-request-id": "1", "x-ms-version": "2021-08-06"}

    def script(method: str, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str],
                                                                         bytes]:
        if "restype=service" in path:
            return 200, {**XML, **answered}, service
        return 200, {**answered, "x-ms-has-immutability-policy": "false",
                     "x-ms-has-legal-hold": "false"}, b""

    with scripted_server(script) as s:
        run = run_gccheck("check", "--hosting", "on-prem", "--format", "json", "--timeout", "5",
                          "--bucket", f"az://:{quote(AZURE_KEY, safe='')}@acct/wandb",
                          "--azure-blob-endpoint", s.url,
                          env={"GORILLA_ARTIFACT_GC_ENABLED": "true"})
    assert "Traceback" not in run.err, run.err
    return _results(run.out)


@pytest.mark.parametrize(("enabled", "days", "field"), [
    ("true", "-5", "DeleteRetentionPolicy.Days is '-5'"),
    ("true", "0", "DeleteRetentionPolicy.Days is '0'"),
    ("true", "366", "DeleteRetentionPolicy.Days is '366'"),
    ("true", "abc", "DeleteRetentionPolicy.Days is 'abc'"),
    ("TRUE", "7", "DeleteRetentionPolicy.Enabled is 'TRUE'"),
    ("yes", "7", "DeleteRetentionPolicy.Enabled is 'yes'"),
])
def test_azure_delete_retention_out_of_type_or_range_is_malformed(enabled: str, days: str,
                                                                  field: str) -> None:
    results = _azure(enabled, days)
    soft_delete = results["blob-soft-delete"]
    assert soft_delete["status"] == "unknown", soft_delete
    assert "malformed answer from " in soft_delete["summary"], soft_delete
    assert field in soft_delete["summary"], soft_delete
    # The container's answer is a fact of its own.
    assert results["immutability-policy"]["status"] == "pass", results


def test_azure_delete_retention_in_range_passes() -> None:
    soft_delete = _azure("true", "365")["blob-soft-delete"]
    assert soft_delete["status"] == "pass" and "365 days" in soft_delete["summary"], soft_delete


def test_azure_mgmt_model_days_out_of_range_are_malformed() -> None:
    """The management plane reads the SDK's typed model (JSON): the same range holds."""
    from types import SimpleNamespace

    from gccheck.net import MalformedAnswer
    from gccheck.probes.azure.answers import soft_delete

    for enabled, days in ((True, -5), (True, 0), (True, 366), ("true", 7), (True, True)):
        with pytest.raises(MalformedAnswer, match="deleteRetentionPolicy"):
            soft_delete(SimpleNamespace(enabled=enabled, days=days), "deleteRetentionPolicy")
    assert soft_delete(SimpleNamespace(enabled=True, days=7), "p").days == 7
    assert not soft_delete(SimpleNamespace(enabled=False, days=-5), "p").enabled


# ---- S3 ----------------------------------------------------------------------------------


def _s3(versioning: str, rule: str) -> dict[str, dict[str, Any]]:
    def script(method: str, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str],
                                                                         bytes]:
        if "versioning" in path:
            return 200, XML, (f"<VersioningConfiguration><Status>{versioning}</Status>"
                              "</VersioningConfiguration>").encode()
        if "lifecycle" in path:
            return 200, XML, f"<LifecycleConfiguration>{rule}</LifecycleConfiguration>".encode()
        return 404, XML, b"<Error><Code>ObjectLockConfigurationNotFoundError</Code></Error>"

    with scripted_server(script) as s:
        run = run_gccheck("check", "--hosting", "on-prem", "--format", "json", "--timeout", "5",
                          env={"BUCKET": "s3://wandb-files", "AWS_ACCESS_KEY_ID": TEST_KEY,
                               "AWS_SECRET_ACCESS_KEY": TEST_SECRET, "AWS_REGION": "us-east-1",
                               "GORILLA_ARTIFACT_GC_ENABLED": "true",
                               "AWS_ENDPOINT_URL_S3": s.url})
    assert "Traceback" not in run.err, run.err
    return _results(run.out)


def _rule(status: str = "Enabled", days: str = "30") -> str:
    return (f"<Rule><ID>r</ID><Status>{status}</Status><Filter><Prefix></Prefix></Filter>"
            f"<NoncurrentVersionExpiration><NoncurrentDays>{days}</NoncurrentDays>"
            "</NoncurrentVersionExpiration></Rule>")


@pytest.mark.parametrize(("days", "said"), [
    ("-5", "NoncurrentDays is -5"), ("0", "NoncurrentDays is 0"),
    ("abc", "could not parse")])
def test_s3_lifecycle_days_out_of_range_are_malformed(days: str, said: str) -> None:
    results = _s3("Enabled", _rule(days=days))
    for rule in ("lifecycle-expires-current", "noncurrent-never-expire"):
        assert results[rule]["status"] == "unknown", results[rule]
        assert said in results[rule]["summary"], results[rule]
    assert results["bucket-versioning"]["status"] == "pass", results


def test_s3_rule_status_other_than_enabled_or_disabled_is_malformed() -> None:
    results = _s3("Enabled", _rule(status="enabled"))
    assert results["noncurrent-never-expire"]["status"] == "unknown", results
    assert "Status is 'enabled', not Enabled or Disabled" in \
        results["noncurrent-never-expire"]["summary"]


def test_s3_versioning_status_other_than_enabled_or_suspended_is_malformed() -> None:
    results = _s3("enabled", _rule())
    versioning = results["bucket-versioning"]
    assert versioning["status"] == "unknown", versioning
    assert "versioning Status is 'enabled', not Enabled or Suspended" in versioning["summary"]
    assert results["noncurrent-never-expire"]["status"] == "pass", results
