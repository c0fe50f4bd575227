"""Hostile answer bodies: endless, or huge but valid (issue 15, item 8).

A bucket's settings are kilobytes. Every probe refuses a body over 1 MB, as a malformed answer
(`unknown`), before its SDK reads it whole: so an endless body cannot take the memory of the
pod (the hook chart allows 256 Mi), and a huge valid document cannot take seconds to parse
past --timeout. Real local servers (tests/support/faults.py's scripted server); the probes run in this
process, and once through the CLI in a subprocess whose peak memory is measured.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from support.cloud_servers import StaticToken, account_key
from support.faults import endless, scripted_server
from support.run import clean_env

from gccheck.bucket_url import parse_bucket_url
from gccheck.model import BucketFacts, Setting, Settings, Unavailable
from gccheck.probes.interface import ProbeOptions

TIMEOUT = 3.0
GRACE = 1.0
HUGE = 30 << 20  # a valid document of 30 MB: read whole, it would be believed
KEY = account_key("bodies")
SUBSCRIPTION = "00000000-0000-0000-0000-000000000002"

S3_ON = b"<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>"
AZURE_ON = (b"<?xml version='1.0' encoding='utf-8'?><StorageServiceProperties>"
            b"<DeleteRetentionPolicy><Enabled>true</Enabled><Days>7</Days>"
            b"</DeleteRetentionPolicy></StorageServiceProperties>")
ARM_ID = (f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Storage/"
          "storageAccounts/acct/blobServices/default")


def _padded_xml(document: bytes) -> bytes:
    """`document` with a comment that makes it HUGE bytes long: still valid XML."""
    head, _, tail = document.rpartition(b"</")
    return head + b"<!--" + b"x" * HUGE + b"-->" + b"</" + tail


def _json_resource(kind: str) -> dict[str, Any]:
    if kind == "gcs":
        return {"kind": "storage#bucket", "name": "wandb", "versioning": {"enabled": True}}
    return {"id": ARM_ID, "name": "default",
            "properties": {"deleteRetentionPolicy": {"enabled": True, "days": 7}}}


def _padded_json(kind: str) -> bytes:
    return json.dumps({**_json_resource(kind), "labels": {"pad": "x" * HUGE}}).encode()


def _answer(provider: str, body: str) -> Any:
    """A script: the provider's settings document, endless, huge but valid, or normal."""
    xml = {"Content-Type": "application/xml", "x-ms-request-id": "1"}
    jsn = {"Content-Type": "application/json"}
    headers = jsn if provider in ("gcs", "arm") else xml

    def document() -> bytes:
        if provider == "s3":
            return S3_ON
        if provider == "azure":
            return AZURE_ON
        return json.dumps(_json_resource(provider)).encode()

    def script(method: str, path: str, _: dict[str, str]) -> tuple[int, dict[str, str],
                                                                   bytes | Iterable[bytes]]:
        if provider == "azure" and "restype=container" in path:  # container properties
            return 200, {"x-ms-request-id": "1", "ETag": '"1"',
                         "Last-Modified": "Wed, 02 Dec 2026 10:00:00 GMT"}, b""
        if provider == "arm" and "/containers/" in path:
            return 200, jsn, json.dumps({"id": ARM_ID + "/containers/wandb",
                                         "properties": {}}).encode()
        if body == "endless":
            return 200, headers, endless()
        if body == "endless-declared":  # says how long it is: refused without reading
            return 200, {**headers, "Content-Length": str(10 << 30)}, endless()
        if body == "huge":
            return 200, headers, (_padded_json(provider) if provider in ("gcs", "arm")
                                  else _padded_xml(document()))
        return 200, headers, document()

    return script


def _probe(provider: str, url: str, ca_path: str | None) -> BucketFacts:
    from gccheck.probes import azure, gcs, s3

    if provider == "s3":
        return s3.Probe().probe(parse_bucket_url(f"s3://AK:SK@{url.split('//')[1]}/wandb"),
                                Settings("test"), ProbeOptions(timeout=TIMEOUT))
    if provider == "gcs":
        settings = Settings("test", {"STORAGE_EMULATOR_HOST": Setting(
            "STORAGE_EMULATOR_HOST", url, "test")})
        return gcs.Probe().probe(parse_bucket_url("gs://wandb"), settings,
                                 ProbeOptions(timeout=TIMEOUT))
    if provider == "azure":
        return azure.Probe().probe(
            parse_bucket_url(f"az://:{quote(KEY, safe='')}@acct/wandb"), Settings("test"),
            ProbeOptions(timeout=TIMEOUT, azure_blob_endpoint=url))
    return azure.Probe(credential=StaticToken(), verify=ca_path or True).probe(
        parse_bucket_url("az://acct/wandb"), Settings("test"),
        ProbeOptions(timeout=TIMEOUT, azure_plane="mgmt", azure_subscription=SUBSCRIPTION,
                     azure_resource_group="rg", azure_arm_endpoint=url))


def _required(provider: str, facts: BucketFacts) -> Any:
    return facts.versioning if provider in ("s3", "gcs") else facts.blob_soft_delete


@pytest.fixture(params=["s3", "gcs", "azure", "arm"])
def provider(request: pytest.FixtureRequest) -> Iterator[str]:
    yield request.param


def test_a_normal_answer_still_reads(provider: str, tmp_path: Path) -> None:
    with scripted_server(_answer(provider, "normal"),
                         tmp_path if provider == "arm" else None) as server:
        facts = _probe(provider, server.url, server.ca_path)
    assert not isinstance(_required(provider, facts), Unavailable), facts


@pytest.mark.parametrize("body", ["endless", "endless-declared", "huge"])
def test_a_hostile_body_is_unknown_within_the_timeout(provider: str, body: str,
                                                      tmp_path: Path) -> None:
    with scripted_server(_answer(provider, body),
                         tmp_path if provider == "arm" else None) as server:
        started = time.monotonic()
        facts = _probe(provider, server.url, server.ca_path)
        elapsed = time.monotonic() - started
    fact = _required(provider, facts)
    assert isinstance(fact, Unavailable), fact
    assert "over 1024 KB" in fact.reason, fact
    assert elapsed < TIMEOUT + GRACE, elapsed


# ---- memory, measured in a subprocess through the CLI ----------------------------------------

_MEASURE = """
import resource, runpy, sys
sys.argv = ["gccheck", *sys.argv[1:]]
try:
    runpy.run_module("gccheck", run_name="__main__")
except SystemExit:
    pass
print("MAXRSS_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""


def _peak_kb(bucket: str, env: dict[str, str]) -> tuple[int, str]:
    run = subprocess.run([sys.executable, "-c", _MEASURE, "check", "--hosting", "on-prem",
                          "--format", "json", "--timeout", str(TIMEOUT), "--bucket", bucket],
                         capture_output=True, text=True, timeout=60,
                         env=clean_env({"GORILLA_ARTIFACT_GC_ENABLED": "true", **env}))
    assert "Traceback" not in run.stderr, run.stderr
    peak = int(run.stderr.rsplit("MAXRSS_KB", 1)[1].split()[0])
    return peak, run.stdout


@pytest.mark.parametrize("case", ["s3", "gcs"])
def test_memory_stays_bounded(case: str) -> None:
    """An endless S3 body and a huge GCS JSON answer cost less than 100 MB over a normal run."""
    body = "endless" if case == "s3" else "huge"
    peaks = {}
    for kind in ("normal", body):
        with scripted_server(_answer(case, kind)) as server:
            if case == "s3":
                peak, out = _peak_kb(f"s3://AK:SK@{server.url.split('//')[1]}/wandb", {})
            else:
                peak, out = _peak_kb("gs://wandb", {"STORAGE_EMULATOR_HOST": server.url})
        peaks[kind] = peak
        status = json.loads(out)["targets"][0]["results"]
        versioning = next(r for r in status if r["id"] == "bucket-versioning")
        assert versioning["status"] == ("pass" if kind == "normal" else "unknown"), versioning
    assert peaks[body] - peaks["normal"] < 100 * 1024, peaks


def test_an_endless_token_answer_is_bounded_too(tmp_path: Path) -> None:
    """A key file's token_uri is an endpoint too: its body is bounded like the bucket's."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from gccheck.probes import gcs

    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    with scripted_server(lambda *_: (200, {"Content-Type": "application/json"},
                                     endless())) as token, \
            scripted_server(_answer("gcs", "normal")) as storage:
        key_file = tmp_path / "service-account.json"
        key_file.write_text(json.dumps({
            "type": "service_account", "project_id": "p", "private_key_id": "0" * 40,
            "private_key": pem, "client_email": "gccheck@p.iam.gserviceaccount.com",
            "client_id": "1" * 21, "token_uri": f"{token.url}/token"}))
        settings = Settings("test", {"GOOGLE_APPLICATION_CREDENTIALS": Setting(
            "GOOGLE_APPLICATION_CREDENTIALS", str(key_file), "test")})
        started = time.monotonic()
        facts = gcs.Probe().probe(parse_bucket_url("gs://wandb", endpoint_url=storage.url),
                                  settings, ProbeOptions(timeout=TIMEOUT))
        elapsed = time.monotonic() - started
        asked_storage = list(storage.requests)
    assert isinstance(facts.versioning, Unavailable), facts
    assert "over 1024 KB" in facts.versioning.reason, facts.versioning
    assert asked_storage == []  # no token, no bucket request
    assert elapsed < TIMEOUT + GRACE, elapsed
