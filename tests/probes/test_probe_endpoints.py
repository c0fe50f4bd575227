"""Answers come from the endpoint gccheck decided, and the report names it (issue 15, item 1).

The AWS SDK reads AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_S3 and a config profile's endpoint_url
on its own: from a shell whose variables are not the deployment's settings, they would get the
deployment's signed requests while the report says `provider aws`. A recording server stands
where they point; it must get nothing unless the process environment is the settings source.
"""

from __future__ import annotations

import json
from pathlib import Path

from support.constants import TEST_KEY, TEST_SECRET
from support.faults import scripted_server
from support.run import run_gccheck

VERSIONING_ON = (200, {"Content-Type": "application/xml"},
                 b"<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>")
AWS_SETTINGS = {"BUCKET": "s3://wandb-files", "AWS_ACCESS_KEY_ID": TEST_KEY,
                "AWS_SECRET_ACCESS_KEY": TEST_SECRET, "AWS_REGION": "us-east-1",
                "GORILLA_ARTIFACT_GC_ENABLED": "true"}


def _pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()


def _detail(run_out: str) -> str:
    results = json.loads(run_out)["targets"][0]["results"]
    return next(r for r in results if r["id"] == "bucket-versioning")["detail"]


def test_the_shells_aws_endpoint_gets_nothing_when_settings_come_from_a_file(
        tmp_path: Path) -> None:
    env_file = tmp_path / "wandb.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in AWS_SETTINGS.items()))
    with scripted_server(lambda *_: VERSIONING_ON) as server:
        config = tmp_path / "aws-config"
        config.write_text(f"[default]\nendpoint_url = {server.url}\n"
                          f"[profile elsewhere]\nendpoint_url = {server.url}\n")
        run = run_gccheck("check", "--hosting", "on-prem", "--env-file", str(env_file),
                          "--format", "json", "--timeout", "2",
                          env={"AWS_ENDPOINT_URL": server.url,
                               "AWS_ENDPOINT_URL_S3": server.url,
                               "AWS_CONFIG_FILE": str(config), "AWS_PROFILE": "elsewhere"})
        received = list(server.requests)
    assert "Traceback" not in run.err, run.err
    assert received == [], received
    assert json.loads(run.out)["targets"][0]["provider"] == "aws"
    assert "answers from AWS S3 (AWS's endpoint for region us-east-1)" in _detail(run.out)


def test_with_the_process_environment_as_source_its_endpoint_is_used_and_named() -> None:
    with scripted_server(lambda *_: VERSIONING_ON) as server:
        run = run_gccheck("check", "--hosting", "on-prem", "--format", "json", "--timeout", "5",
                          env={**AWS_SETTINGS, "AWS_ENDPOINT_URL_S3": server.url})
        received = list(server.requests)
    assert "Traceback" not in run.err, run.err
    assert received and all(method == "GET" for method, _ in received), received
    detail = _detail(run.out)
    assert f"answers from {server.url} (AWS_ENDPOINT_URL_S3 from process environment" \
        in detail, detail


def test_an_endpoint_with_userinfo_is_masked_in_the_note() -> None:
    with scripted_server(lambda *_: VERSIONING_ON) as server:
        secret_url = server.url.replace("http://", "http://user:hunter2secret@")
        run = run_gccheck("check", "--hosting", "on-prem", "--format", "json", "--timeout", "5",
                          env={**AWS_SETTINGS, "AWS_ENDPOINT_URL": secret_url})
    assert "hunter2secret" not in run.out + run.err
    assert "answers from http://" in _detail(run.out)


def test_the_shells_gcs_endpoint_override_gets_nothing(tmp_path: Path) -> None:
    """google-cloud-storage reads API_ENDPOINT_OVERRIDE itself; gccheck names its endpoint."""
    from support.cloud_servers import json_server

    bucket_json = (200, {"Content-Type": "application/json"},
                   json.dumps({"kind": "storage#bucket", "name": "wandb-files",
                               "versioning": {"enabled": True}}).encode())
    with scripted_server(lambda *_: bucket_json) as server, json_server(
            lambda *_: (200, {"access_token": "t", "expires_in": 3600,
                              "token_type": "Bearer"})) as token:
        user = tmp_path / "service-account.json"
        user.write_text(json.dumps({
            "type": "service_account", "project_id": "p", "private_key_id": "0" * 40,
            "private_key": _pem(), "client_email": "gccheck@p.iam.gserviceaccount.com",
            "client_id": "1" * 21, "token_uri": f"{token.url}/token"}))
        run = run_gccheck("check", "--hosting", "on-prem", "--bucket", "gs://wandb-files",
                          "--format", "json", "--timeout", "2",
                          env={"GORILLA_ARTIFACT_GC_ENABLED": "true",
                               "GOOGLE_APPLICATION_CREDENTIALS": str(user),
                               "API_ENDPOINT_OVERRIDE": server.url})
        received = list(server.requests)
    assert "Traceback" not in run.err, run.err
    assert received == [], received
    assert "answers from https://storage.googleapis.com (Google's endpoint)" in _detail(run.out)


def test_the_azure_data_plane_names_its_endpoint() -> None:
    from urllib.parse import quote

    key = "a2V5LWZvci10ZXN0cy1vbmx5LW5vdC1hLXJlYWwtb25lLTAwMDAwMDAwMDAwMDA="
    with scripted_server(lambda *_: (500, {"x-ms-request-id": "1"}, b"")) as server:
        run = run_gccheck("check", "--hosting", "on-prem", "--format", "json", "--timeout", "2",
                          "--bucket", f"az://:{quote(key, safe='')}@acct/wandb",
                          "--azure-blob-endpoint", server.url,
                          env={"GORILLA_ARTIFACT_GC_ENABLED": "true"})
    results = json.loads(run.out)["targets"][0]["results"]
    detail = next(r for r in results if r["id"] == "blob-soft-delete")["detail"]
    assert f"answers from {server.url}/acct (--azure-blob-endpoint)" in detail, detail
