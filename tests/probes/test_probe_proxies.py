"""A proxy from the shell is named with the endpoint the answers came from (issue 15, item 1).

The SDKs send their requests through HTTP_PROXY/HTTPS_PROXY/ALL_PROXY unless NO_PROXY covers
the host; a proxy may answer whatever it likes. A proxy is a legitimate part of many networks,
so gccheck keeps using it, but the report names it (masked) beside the endpoint. Here a
recording "proxy" on 127.0.0.1 answers in the endpoint's place; the endpoints' own names
(*.internal.example) do not resolve, so an answer can only have come through it.
"""

from __future__ import annotations

import json
from pathlib import Path

from support.faults import scripted_server
from support.run import run_gccheck

MINIO = "http://minio.internal.example:9000"
ENABLED = (200, {"Content-Type": "application/xml"},
           b"<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>")


def _detail(out: str, rule: str) -> str:
    results = json.loads(out)["targets"][0]["results"]
    return str(next(r for r in results if r["id"] == rule)["detail"])


def _s3_answers(method: str, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str],
                                                                          bytes]:
    if "versioning" in path:
        return ENABLED
    code = "NoSuchLifecycleConfiguration" if "lifecycle" in path else \
        "ObjectLockConfigurationNotFoundError"
    return 404, {"Content-Type": "application/xml"}, \
        f"<Error><Code>{code}</Code><Message>none</Message></Error>".encode()


def _minio_env(tmp_path: Path) -> Path:
    env_file = tmp_path / "minio.env"
    env_file.write_text(f"BUCKET=s3://AKIDEXAMPLE:sekretsekret@{MINIO[7:]}/wandb\n"
                        "GORILLA_ARTIFACT_GC_ENABLED=true\n")
    return env_file


def test_an_env_files_s3_endpoint_names_the_shells_proxy(tmp_path: Path) -> None:
    with scripted_server(_s3_answers) as proxy:
        proxy_url = proxy.url.replace("http://", "http://puser:proxypass99@")
        run = run_gccheck("check", "--hosting", "on-prem", "--env-file", str(_minio_env(tmp_path)),
                          "--format", "json", "--timeout", "5",
                          env={"HTTP_PROXY": proxy_url})
        received = list(proxy.requests)
    assert "Traceback" not in run.err, run.err
    assert any(path.startswith(f"{MINIO}/wandb") for _, path in received), received
    detail = _detail(run.out, "bucket-versioning")
    assert f"answers from {MINIO} (" in detail, detail
    assert f"via proxy http://***:***@{proxy.url[7:]} (HTTP_PROXY)" in detail, detail
    assert "proxypass99" not in run.out + run.err


def test_the_process_environments_s3_endpoint_names_the_lower_case_proxy() -> None:
    with scripted_server(_s3_answers) as proxy:
        run = run_gccheck("check", "--hosting", "on-prem", "--format", "json", "--timeout", "5",
                          env={"BUCKET": f"s3://AKIDEXAMPLE:sekretsekret@{MINIO[7:]}/wandb",
                               "GORILLA_ARTIFACT_GC_ENABLED": "true",
                               "http_proxy": proxy.url})
        received = list(proxy.requests)
    assert received, "the proxy got nothing"
    detail = _detail(run.out, "bucket-versioning")
    assert f"via proxy {proxy.url} (http_proxy)" in detail, detail


def test_no_proxy_covering_the_host_names_no_proxy(tmp_path: Path) -> None:
    with scripted_server(_s3_answers) as proxy:
        run = run_gccheck("check", "--hosting", "on-prem", "--env-file", str(_minio_env(tmp_path)),
                          "--format", "json", "--timeout", "3",
                          env={"HTTP_PROXY": proxy.url, "NO_PROXY": "localhost,.internal.example"})
        received = list(proxy.requests)
    assert received == [], received
    detail = _detail(run.out, "bucket-versioning")
    assert f"answers from {MINIO} (" in detail, detail
    assert "via proxy" not in run.out, detail


def test_the_gcs_emulator_names_the_shells_proxy() -> None:
    bucket = (200, {"Content-Type": "application/json"},
              json.dumps({"kind": "storage#bucket", "name": "wandb-files",
                          "versioning": {"enabled": True}}).encode())
    emulator = "http://gcs.internal.example:4443"
    with scripted_server(lambda *_: bucket) as proxy:
        run = run_gccheck("check", "--hosting", "on-prem", "--bucket", "gs://wandb-files",
                          "--format", "json", "--timeout", "5",
                          env={"GORILLA_ARTIFACT_GC_ENABLED": "true",
                               "STORAGE_EMULATOR_HOST": emulator, "ALL_PROXY": proxy.url})
        received = list(proxy.requests)
    assert "Traceback" not in run.err, run.err
    assert any(path.startswith(emulator) for _, path in received), received
    detail = _detail(run.out, "bucket-versioning")
    assert f"answers from {emulator} (" in detail, detail
    assert f"via proxy {proxy.url} (ALL_PROXY)" in detail, detail


def test_the_azure_data_plane_names_the_shells_proxy() -> None:
    from urllib.parse import quote

    key = "a2V5LWZvci10ZXN0cy1vbmx5LW5vdC1hLXJlYWwtb25lLTAwMDAwMDAwMDAwMDA="
    blob = "http://azure.internal.example:10000"
    with scripted_server(lambda *_: (500, {"x-ms-request-id": "1"}, b"")) as proxy:
        run = run_gccheck("check", "--hosting", "on-prem", "--format", "json", "--timeout", "2",
                          "--bucket", f"az://:{quote(key, safe='')}@acct/wandb",
                          "--azure-blob-endpoint", blob,
                          env={"GORILLA_ARTIFACT_GC_ENABLED": "true", "HTTP_PROXY": proxy.url})
        received = list(proxy.requests)
    assert any(path.startswith(blob) for _, path in received), received
    detail = _detail(run.out, "blob-soft-delete")
    assert f"answers from {blob} (--azure-blob-endpoint) via proxy {proxy.url} " \
        "(HTTP_PROXY)" in detail, detail


def test_a_no_proxy_range_botocore_ignores_still_names_the_proxy() -> None:
    """botocore matches NO_PROXY by name only (urllib's proxy_bypass): a CIDR range that
    requests would honour does not keep S3's requests from the proxy, and the note says so."""
    with scripted_server(_s3_answers) as endpoint, scripted_server(_s3_answers) as proxy:
        run = run_gccheck("check", "--hosting", "on-prem", "--format", "json", "--timeout", "5",
                          env={"BUCKET": f"s3://AKIDEXAMPLE:sekretsekret@{endpoint.url[7:]}/wandb",
                               "GORILLA_ARTIFACT_GC_ENABLED": "true",
                               "HTTP_PROXY": proxy.url, "NO_PROXY": "127.0.0.0/8"})
        proxied, direct = list(proxy.requests), list(endpoint.requests)
    assert proxied and not direct, (proxied, direct)
    detail = _detail(run.out, "bucket-versioning")
    assert f"via proxy {proxy.url} (HTTP_PROXY)" in detail, detail


def test_a_fleet_entrys_endpoint_url_names_the_shells_proxy(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text("version: 1\ndeployments:\n  - name: lab\n    hosting: on-prem\n"
                     "    bucket: s3://AKIDEXAMPLE:sekretsekret@lab/wandb\n"
                     f"    endpoint-url: {MINIO}\n"
                     "    env:\n      GORILLA_ARTIFACT_GC_ENABLED: 'true'\n")
    with scripted_server(_s3_answers) as proxy:
        run = run_gccheck("audit", str(fleet), "--format", "json", "-q",
                          env={"HTTP_PROXY": proxy.url})
        received = list(proxy.requests)
    assert "Traceback" not in run.err, run.err
    assert any(path.startswith(MINIO) for _, path in received), received
    detail = _detail(run.out, "bucket-versioning")
    assert f"answers from {MINIO} (" in detail and f"via proxy {proxy.url} (HTTP_PROXY)" \
        in detail, detail
