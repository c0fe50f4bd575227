"""Each fact fails on its own: one odd answer (an advisory's) never erases another verdict.

Hostile answers come from real local servers (tests/support/faults.py's scripted server); the probes
run in this process. Also: every SDK exception name the probes use exists in the SDK.
"""

from __future__ import annotations

import ast
import importlib
import json
from typing import Any
from urllib.parse import quote

import pytest
from support.constants import REPO
from support.faults import scripted_server

from gccheck.bucket_url import parse_bucket_url
from gccheck.model import (
    BucketFacts,
    DeleteProtection,
    Setting,
    Settings,
    SoftDelete,
    Unavailable,
    VersioningState,
)
from gccheck.probes.interface import ProbeOptions

PROBES = REPO / "gccheck" / "probes"
XML = {"Content-Type": "application/xml"}
VERSIONING_ON = b"<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>"
NO_LOCK = (b"<Error><Code>ObjectLockConfigurationNotFoundError</Code><Message>none</Message>"
           b"</Error>")


# ---- every SDK name the probes reference exists ----------------------------------------------


def _sdk_references() -> list[tuple[str, str, str]]:
    """(file, module, name) for each `from SDK import name` and `alias.Name` of an SDK module
    in gccheck/probes, at any depth (the SDKs are imported inside functions)."""
    found: list[tuple[str, str, str]] = []
    for path in sorted(PROBES.rglob("*.py")):
        tree = ast.parse(path.read_text())
        aliases: dict[str, str] = {}  # local name -> module it is bound to
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                    and not node.module.startswith(("gccheck", "__future__")):
                for alias in node.names:
                    found.append((path.name, node.module, alias.name))
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    aliases[alias.asname or alias.name.split(".")[0]] = (
                        alias.name if alias.asname else alias.name.split(".")[0])
        stored = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
                  and isinstance(n.ctx, ast.Store)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id in aliases and node.value.id not in stored:
                found.append((path.name, aliases[node.value.id], node.attr))
    return found


def _resolve(dotted: str) -> Any:
    try:
        return importlib.import_module(dotted)
    except ImportError:
        parent, _, name = dotted.rpartition(".")
        return getattr(_resolve(parent), name)


def test_every_sdk_name_the_probes_use_exists() -> None:
    references = _sdk_references()
    # The walk finds the exception names that once were wrong, and the SDKs' modules.
    assert ("s3.py", "botocore.exceptions", "ClientError") in references or any(
        module.startswith("botocore") for _, module, _ in references)
    missing = []
    for file, module, name in references:
        if module.split(".")[0] in ("logging", "json", "time", "os", "threading", "socket",
                                    "functools", "ipaddress", "xml", "importlib"):
            continue
        target = _resolve(module)
        if not hasattr(target, name):
            try:
                importlib.import_module(f"{module}.{name}")
            except ImportError:
                missing.append(f"{file}: {module}.{name}")
    assert not missing, missing


# ---- S3 --------------------------------------------------------------------------------------


def _s3(answers: dict[str, tuple[int, bytes]], query: str = "") -> BucketFacts:
    from gccheck.probes.s3 import Probe

    def script(method: str, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str],
                                                                             bytes]:
        for word, (status, body) in answers.items():
            if word in path:
                return status, XML, body
        return 404, XML, b"<Error><Code>NoSuchKey</Code></Error>"

    with scripted_server(script) as server:
        bucket = parse_bucket_url(f"s3://AK:SK@{server.url.split('//')[1]}/wandb{query}")
        return Probe().probe(bucket, Settings("test"), ProbeOptions(timeout=5))


def test_s3_a_bad_lifecycle_date_keeps_the_versioning_verdict() -> None:
    facts = _s3({"versioning": (200, VERSIONING_ON),
                 "lifecycle": (200, b"<LifecycleConfiguration><Rule><ID>r</ID><Status>Enabled"
                                    b"</Status><Expiration><Date>not-a-date</Date></Expiration>"
                                    b"</Rule></LifecycleConfiguration>"),
                 "object-lock": (404, NO_LOCK)})
    assert facts.versioning is VersioningState.ENABLED
    assert isinstance(facts.lifecycle, Unavailable)
    assert "malformed" in facts.lifecycle.reason
    assert facts.delete_protection == DeleteProtection(False, "object lock is not configured")


def test_s3_odd_field_types_keep_the_other_facts() -> None:
    facts = _s3({"versioning": (200, VERSIONING_ON),
                 "lifecycle": (200, b"<LifecycleConfiguration><Rule><ID>r</ID><Status>Enabled"
                                    b"</Status><NoncurrentVersionExpiration><NoncurrentDays>soon"
                                    b"</NoncurrentDays></NoncurrentVersionExpiration></Rule>"
                                    b"</LifecycleConfiguration>"),
                 "object-lock": (200, b"<ObjectLockConfiguration><ObjectLockEnabled>Enabled"
                                      b"</ObjectLockEnabled><Rule><DefaultRetention><Mode>"
                                      b"GOVERNANCE</Mode><Days>many</Days></DefaultRetention>"
                                      b"</Rule></ObjectLockConfiguration>")})
    assert facts.versioning is VersioningState.ENABLED
    assert isinstance(facts.lifecycle, Unavailable)
    assert isinstance(facts.delete_protection, Unavailable)


def test_s3_a_hostile_region_is_one_clear_reason_not_a_crash() -> None:
    facts = _s3({"versioning": (200, VERSIONING_ON)}, query="?region=evil.com/x")
    assert isinstance(facts.versioning, Unavailable)
    assert "not a valid AWS region name" in facts.versioning.reason


def test_s3_a_bad_answer_through_the_cli_keeps_the_required_verdict() -> None:
    """End to end: the report passes versioning although the lifecycle answer is broken."""
    from support.run import run_gccheck

    def script(method: str, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str],
                                                                             bytes]:
        if "versioning" in path:
            return 200, XML, VERSIONING_ON
        if "lifecycle" in path:
            return 200, XML, (b"<LifecycleConfiguration><Rule><Expiration><Date>x</Date>"
                              b"</Expiration></Rule></LifecycleConfiguration>")
        return 404, XML, NO_LOCK

    with scripted_server(script) as server:
        run = run_gccheck("check", "--hosting", "on-prem", "--format", "json", "--timeout", "5",
                          "--bucket", f"s3://AK:SK@{server.url.split('//')[1]}/wandb",
                          env={"GORILLA_ARTIFACT_GC_ENABLED": "true"})
    assert "Traceback" not in run.err, run.err
    results = {r["id"]: r for r in json.loads(run.out)["targets"][0]["results"]}
    assert results["bucket-versioning"]["status"] == "pass", results["bucket-versioning"]
    assert run.code == 0, run


# ---- GCS -------------------------------------------------------------------------------------


def _gcs(resource: dict[str, Any]) -> BucketFacts:
    from gccheck.probes.gcs import Probe

    body = json.dumps({"kind": "storage#bucket", "name": "wandb", "id": "wandb",
                       **resource}).encode()
    with scripted_server(lambda *_: (200, {"Content-Type": "application/json"}, body)) as server:
        settings = Settings("test", {"STORAGE_EMULATOR_HOST": Setting(
            "STORAGE_EMULATOR_HOST", server.url, "test")})
        return Probe().probe(parse_bucket_url("gs://wandb"), settings, ProbeOptions(timeout=5))


def test_gcs_odd_lifecycle_and_retention_keep_the_versioning_verdict() -> None:
    facts = _gcs({"versioning": {"enabled": True},
                  "lifecycle": {"rule": [{"action": "Delete", "condition": ["age", 1]}]},
                  "retentionPolicy": {"retentionPeriod": "forever"},
                  "softDeletePolicy": {"retentionDurationSeconds": "a while"}})
    assert facts.versioning is VersioningState.ENABLED
    assert isinstance(facts.lifecycle, Unavailable)
    assert isinstance(facts.delete_protection, Unavailable)
    assert any("soft delete policy: not readable" in note for note in facts.notes)


def test_gcs_a_string_false_is_not_versioning_enabled() -> None:
    facts = _gcs({"versioning": {"enabled": "false"}})
    assert isinstance(facts.versioning, Unavailable)
    assert "not a boolean" in facts.versioning.reason
    assert facts.lifecycle == ()


# ---- Azure (data plane) ----------------------------------------------------------------------

_KEY = "a2V5LWZvci10ZXN0cy1vbmx5LW5vdC1hLXJlYWwtb25lLTAwMDAwMDAwMDAwMDA="


@pytest.mark.parametrize("broken", ["service", "container"])
def test_azure_one_odd_answer_keeps_the_other_fact(broken: str) -> None:
    from gccheck.probes.azure import Probe

    service = (b"<?xml version='1.0' encoding='utf-8'?><StorageServiceProperties>"
               b"<DeleteRetentionPolicy><Enabled>true</Enabled><Days>7</Days>"
               b"</DeleteRetentionPolicy></StorageServiceProperties>")
    odd_service = service.replace(b"<Days>7</Days>", b"<Days>a week</Days>")

    def script(method: str, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str],
                                                                             bytes]:
        common = {"x-ms-request-id": "1", "x-ms-version": "2021-08-06"}
        if "restype=service" in path:
            return 200, {**common, "Content-Type": "application/xml"}, (
                odd_service if broken == "service" else service)
        return 200, {**common, "ETag": '"1"', "Last-Modified": "Wed, 02 Dec 2026 10:00:00 GMT",
                     "x-ms-has-immutability-policy": "maybe" if broken == "container"
                     else "false", "x-ms-has-legal-hold": "false"}, b""

    with scripted_server(script) as server:
        facts = Probe().probe(parse_bucket_url(f"az://:{quote(_KEY, safe='')}@acct/wandb"),
                              Settings("test"),
                              ProbeOptions(timeout=5, azure_blob_endpoint=server.url))
    if broken == "service":
        assert isinstance(facts.blob_soft_delete, Unavailable)
        assert isinstance(facts.delete_protection, DeleteProtection)
    else:
        assert facts.blob_soft_delete == SoftDelete(True, 7.0)
        assert isinstance(facts.delete_protection, Unavailable)
