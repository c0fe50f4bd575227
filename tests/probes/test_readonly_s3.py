"""Read-only, proven for S3: every request `check` and `audit` send is a read, and the set of
operations is exactly what the README's Permissions table lists."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from support.constants import NONCURRENT_RULE, TEST_KEY, TEST_SECRET
from support.recording_proxy import readme_operations, recording_proxy
from support.run import run_gccheck
from support.s3 import S3Server, make_bucket

# S3 names an operation on a bucket by its subresource.
SUBRESOURCE = {"versioning": "GetBucketVersioning", "lifecycle": "GetBucketLifecycleConfiguration",
               "object-lock": "GetObjectLockConfiguration"}


def operation(method: str, path: str) -> str:
    query = urlsplit(path).query.split("=")[0].split("&")[0]
    return SUBRESOURCE.get(query, f"{method} {path}") if method == "GET" else f"{method} {path}"


def test_check_and_audit_send_only_the_listed_reads(moto_server: S3Server, tmp_path: Path) -> None:
    listed = readme_operations("AWS S3")
    assert listed == set(SUBRESOURCE.values())
    buckets = [make_bucket(moto_server, "Enabled", lifecycle=[NONCURRENT_RULE]),
               make_bucket(moto_server, "Enabled", lock_days=1), make_bucket(moto_server)]
    with recording_proxy(moto_server.endpoint, host="client") as proxy:
        host_port = urlsplit(proxy.url).netloc
        urls = [f"s3://{TEST_KEY}:{TEST_SECRET.replace('/', '%2F').replace('+', '%2B')}"
                f"@{host_port}/{b}" for b in buckets]
        for url in urls:
            run = run_gccheck("check", "--hosting", "on-prem", "--bucket", url, "--format", "json",
                              env={"GORILLA_ARTIFACT_GC_ENABLED": "true"})
            assert run.code in (0, 1), run.err
        fleet = tmp_path / "fleet.yaml"
        fleet.write_text(json.dumps({"deployments": [
            {"name": f"d{i}", "hosting": "customer-managed-cloud", "bucket": url,
             "env": {"GORILLA_ARTIFACT_GC_ENABLED": "true"}} for i, url in enumerate(urls)]}))
        run = run_gccheck("audit", str(fleet), "--format", "json", "--quiet")
        assert run.code == 1, run.err
        seen = {operation(method, path) for method, path in proxy.requests}
    assert proxy.requests and all(method in ("GET", "HEAD") for method, _ in proxy.requests)
    assert seen == listed, seen ^ listed
