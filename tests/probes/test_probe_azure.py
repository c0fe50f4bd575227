"""The Azure probe against real local servers.

Data plane: Azurite (started here, skipped with a reason when it is not installed), through the
CLI. Management plane: a local HTTPS server speaking ARM's JSON, with a token credential of our
own injected into the probe (the CLI uses DefaultAzureCredential).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from support.cloud_servers import (
    ArmAccount,
    ArmContainer,
    ArmServer,
    Azurite,
    StaticToken,
    account_key,
    arm_server,
    azurite,
)
from support.constants import GC_ON
from support.ports import closed_port, silent_port
from support.run import run_gccheck

from gccheck.bucket_url import parse_bucket_url
from gccheck.matrix import load_matrix
from gccheck.model import BucketFacts, Setting, Settings, Status, Unavailable, UnavailableKind
from gccheck.probes.azure import DATA, MGMT, Probe, account_url, parse_connection_string
from gccheck.probes.interface import ProbeOptions
from gccheck.rules import RULES, Context, evaluate

ON, OFF = "gcsoftdelon", "gcsoftdeloff"
KEYS = {ON: account_key("on"), OFF: account_key("off")}
MATRIX = load_matrix(None, RULES)


# ---- data plane: Azurite -------------------------------------------------------------------


@pytest.fixture(scope="module")
def blob() -> Iterator[Azurite]:
    with azurite(KEYS) as server:
        for account in KEYS:
            server.bucket(account, soft_delete_days=7 if account == ON else None)
        yield server


def check(gccheck_inproc: Any, blob: Azurite, *args: str,
          env: dict[str, str] | None = None) -> tuple[int, dict[str, dict[str, Any]]]:
    run = gccheck_inproc("check", "--format", "json", "--azure-blob-endpoint", blob.endpoint,
                         *args, env={**GC_ON, **(env or {})})
    report = json.loads(run.out)
    return run.code, {r["id"]: r for r in report["targets"][0]["results"]}


def test_data_plane_enabled_passes(blob: Azurite, gccheck_inproc: Any) -> None:
    code, results = check(gccheck_inproc, blob, "--hosting", "on-prem",
                          "--bucket", blob.url(ON, "wandb"))
    result = results["blob-soft-delete"]
    assert (code, result["status"]) == (0, "pass")
    assert "7 days" in result["summary"]
    assert "plane: data (Blob service), account key from the bucket URL" \
        in result["detail"]
    assert results["bucket-versioning"]["status"] == "not-required"
    assert results["immutability-policy"]["status"] == "pass"


def test_data_plane_disabled_fails_with_the_fix(blob: Azurite, gccheck_inproc: Any) -> None:
    code, results = check(gccheck_inproc, blob, "--hosting", "customer-managed-cloud",
                          "--bucket", blob.url(OFF, "wandb"))
    result = results["blob-soft-delete"]
    assert (code, result["status"]) == (1, "fail")
    assert "disabled" in result["summary"] and OFF in result["summary"]
    assert result["remediation"] == (
        f"az storage account blob-service-properties update --account-name {OFF} "
        "--enable-delete-retention true --delete-retention-days 7")


def test_data_plane_wrong_key_is_unknown(blob: Azurite, gccheck_inproc: Any) -> None:
    code, results = check(gccheck_inproc, blob, "--hosting", "on-prem",
                          "--bucket", blob.url(ON, "wandb", key=account_key("wrong")))
    result = results["blob-soft-delete"]
    assert (code, result["status"]) == (3, "unknown")
    assert "rejected the account key" in result["summary"]


def test_key_from_azure_storage_key(blob: Azurite, gccheck_inproc: Any) -> None:
    code, results = check(gccheck_inproc, blob, "--hosting", "on-prem",
                          "--bucket", f"az://{ON}/wandb/files",
                          env={"AZURE_STORAGE_KEY": KEYS[ON]})
    assert (code, results["blob-soft-delete"]["status"]) == (0, "pass")
    assert "account key from AZURE_STORAGE_KEY" in results["blob-soft-delete"]["detail"]


def test_key_and_endpoint_from_a_connection_string(blob: Azurite, gccheck_inproc: Any) -> None:
    connection = (f"DefaultEndpointsProtocol=http;AccountName={OFF};AccountKey={KEYS[OFF]};"
                  f"BlobEndpoint={blob.endpoint}/{OFF};")
    run = gccheck_inproc("check", "--format", "json", "--hosting", "on-prem",
                         "--bucket", f"az://{OFF}/wandb",
                         env={**GC_ON, "AZURE_STORAGE_CONNECTION_STRING": connection})
    result = {r["id"]: r for r in json.loads(run.out)["targets"][0]["results"]}["blob-soft-delete"]
    assert (run.code, result["status"]) == (1, "fail")
    assert "AZURE_STORAGE_CONNECTION_STRING" in result["detail"]


def test_missing_container_fails(blob: Azurite, gccheck_inproc: Any) -> None:
    code, results = check(gccheck_inproc, blob, "--hosting", "on-prem",
                          "--bucket", blob.url(ON, "no-such-container"))
    assert (code, results["blob-soft-delete"]["status"]) == (1, "fail")
    assert "container no-such-container does not exist" in results["blob-soft-delete"]["summary"]


def test_forced_data_plane_without_a_key_is_unknown(gccheck_inproc: Any) -> None:
    run = gccheck_inproc("check", "--format", "json", "--hosting", "on-prem",
                         "--bucket", "az://wandbacct/wandb", "--azure-plane", "data",
                         "--azure-subscription", "00000000-0000-0000-0000-000000000001",
                         env=GC_ON)
    result = {r["id"]: r for r in json.loads(run.out)["targets"][0]["results"]}["blob-soft-delete"]
    assert (run.code, result["status"]) == (3, "unknown")
    assert "needs the account key" in result["summary"]


def test_neither_key_nor_subscription_says_what_to_give(gccheck_inproc: Any) -> None:
    run = gccheck_inproc("check", "--format", "json", "--hosting", "on-prem",
                         "--bucket", "az://wandbacct/wandb", env=GC_ON)
    result = {r["id"]: r for r in json.loads(run.out)["targets"][0]["results"]}["blob-soft-delete"]
    assert result["status"] == "unknown"
    assert "AZURE_STORAGE_KEY" in result["summary"]
    assert "--azure-subscription" in result["summary"]


@pytest.mark.parametrize("dead", ["closed", "silent"])
def test_dead_blob_endpoint_is_unknown_within_the_timeout(dead: str) -> None:
    url = f"az://:{quote(KEYS[ON], safe='')}@{ON}/wandb"

    def run(port: int) -> tuple[float, Any]:
        started = time.monotonic()
        got = run_gccheck("check", "--hosting", "on-prem", "--bucket", url, "--format", "json",
                          "--timeout", "2", "--azure-blob-endpoint", f"http://127.0.0.1:{port}",
                          env=GC_ON)
        return time.monotonic() - started, got

    if dead == "closed":
        elapsed, got = run(closed_port())
    else:
        with silent_port() as port:
            elapsed, got = run(port)
    result = {r["id"]: r for r in json.loads(got.out)["targets"][0]["results"]}["blob-soft-delete"]
    assert (got.code, result["status"]) == (3, "unknown")
    assert ("could not connect" if dead == "closed" else "within 2 s") in result["summary"]
    assert elapsed < 4, elapsed


# ---- management plane: a local ARM over HTTPS -----------------------------------------------


@pytest.fixture(scope="module")
def arm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArmServer]:
    with arm_server(tmp_path_factory.mktemp("arm")) as server:
        yield server


@pytest.fixture
def accounts(arm: ArmServer) -> ArmServer:
    arm.state.accounts.clear()
    arm.state.accounts.update({
        "wandbon": ArmAccount(group="rg-wandb", soft_delete_days=14, versioning=True,
                              container_soft_delete_days=3),
        "wandboff": ArmAccount(group="rg-wandb", soft_delete_days=None),
        "wandbdenied": ArmAccount(group="rg-wandb", deny_blob_service=True),
        "wandbhold": ArmAccount(group="rg-legal", containers={
            "wandb": ArmContainer(legal_hold=True, immutability_policy=True)}),
    })
    arm.state.deny_list = False
    arm.server.requests.clear()
    return arm


def mgmt(arm: ArmServer, url: str, credential: StaticToken | None = None,
         **options: Any) -> tuple[BucketFacts, dict[str, tuple[Status, str, str]]]:
    """Probe through the ARM server and judge the facts as `gccheck check` does."""
    bucket = parse_bucket_url(url)
    settings = Settings("test env", {})
    probe = Probe(credential=credential or StaticToken(), verify=arm.ca_path)
    facts = probe.probe(bucket, settings, ProbeOptions(**{
        "timeout": 3, "azure_subscription": arm.state.subscription,
        "azure_arm_endpoint": arm.url, **options}))
    ctx = Context(MATRIX, MATRIX.hosting_types["on-prem"], settings, bucket, facts)
    return facts, {r.id: (r.status, r.summary, r.detail) for r in evaluate(ctx)}


def test_mgmt_enabled_passes_with_information(accounts: ArmServer) -> None:
    token = StaticToken()
    _, results = mgmt(accounts, "az://wandbon/wandb", token)
    status, summary, detail = results["blob-soft-delete"]
    assert status is Status.PASS and "14 days" in summary
    assert "plane: management (Azure Resource Manager)" in detail
    assert "resource group: rg-wandb (found in the subscription)" in detail
    assert "blob versioning: on" in detail
    assert "container soft delete: on (3 days)" in detail
    assert results["immutability-policy"][0] is Status.PASS
    # Read-only, on the endpoint given, with a token for that endpoint.
    assert {method for method, _ in accounts.server.requests} == {"GET"}
    assert token.scopes == [(f"{accounts.url}/.default",)]
    # The account list was followed to its second page.
    assert any("page=2" in path for _, path in accounts.server.requests)


def test_mgmt_disabled_fails(accounts: ArmServer) -> None:
    _, results = mgmt(accounts, "az://wandboff/wandb")
    status, summary, detail = results["blob-soft-delete"]
    assert status is Status.FAIL and "disabled" in summary
    assert "container soft delete: off" in detail and "blob versioning: off" in detail


def test_mgmt_denied_names_the_permission(accounts: ArmServer) -> None:
    facts, results = mgmt(accounts, "az://wandbdenied/wandb")
    assert isinstance(facts.blob_soft_delete, Unavailable)
    assert facts.blob_soft_delete.kind is UnavailableKind.DENIED
    status, summary, detail = results["blob-soft-delete"]
    assert status is Status.UNKNOWN
    assert "AuthorizationFailed" in summary
    assert "missing permission: Microsoft.Storage/storageAccounts/blobServices/read" in detail


def test_mgmt_account_not_in_subscription_fails(accounts: ArmServer) -> None:
    facts, results = mgmt(accounts, "az://notmine/wandb")
    assert facts.missing
    status, summary, _ = results["blob-soft-delete"]
    assert status is Status.FAIL
    assert "storage account notmine does not exist in subscription" in summary
    assert summary.endswith("or these credentials cannot see it (listing needs "
                            "Microsoft.Storage/storageAccounts/read on the subscription; "
                            "--azure-resource-group skips the listing)")


def test_mgmt_missing_container_fails(accounts: ArmServer) -> None:
    _, results = mgmt(accounts, "az://wandbon/nothere")
    status, summary, _ = results["blob-soft-delete"]
    assert status is Status.FAIL and "container nothere does not exist" in summary


def test_mgmt_legal_hold_warns(accounts: ArmServer) -> None:
    _, results = mgmt(accounts, "az://wandbhold/wandb")
    status, summary, _ = results["immutability-policy"]
    assert status is Status.WARN
    assert "immutability policy" in summary and "legal hold" in summary


def test_mgmt_list_denied_then_resource_group_given(accounts: ArmServer) -> None:
    accounts.state.deny_list = True
    _, results = mgmt(accounts, "az://wandbon/wandb")
    status, summary, detail = results["blob-soft-delete"]
    assert status is Status.UNKNOWN and "--azure-resource-group" in summary
    assert "missing permission: Microsoft.Storage/storageAccounts/read" in detail
    accounts.server.requests.clear()
    _, results = mgmt(accounts, "az://wandbon/wandb", azure_resource_group="rg-wandb")
    assert results["blob-soft-delete"][0] is Status.PASS
    assert not any(path.split("?")[0].endswith("/storageAccounts")
                   for _, path in accounts.server.requests)


def test_mgmt_unknown_resource_group_fails(accounts: ArmServer) -> None:
    _, results = mgmt(accounts, "az://wandbon/wandb", azure_resource_group="rg-nope")
    status, summary, _ = results["blob-soft-delete"]
    assert status is Status.FAIL and "resource group rg-nope does not exist" in summary


def test_mgmt_without_identity_is_unknown(accounts: ArmServer) -> None:
    _, results = mgmt(accounts, "az://wandbon/wandb", StaticToken(fail=True))
    status, summary, _ = results["blob-soft-delete"]
    assert status is Status.UNKNOWN and "no Azure credentials" in summary


def test_mgmt_rejected_token_is_unknown(accounts: ArmServer) -> None:
    _, results = mgmt(accounts, "az://wandbon/wandb", StaticToken(token="expired"))
    status, summary, _ = results["blob-soft-delete"]
    assert status is Status.UNKNOWN and "rejected the access token" in summary


def test_mgmt_refuses_plain_http(accounts: ArmServer) -> None:
    _, results = mgmt(accounts, "az://wandbon/wandb",
                      azure_arm_endpoint=accounts.url.replace("https://", "http://"))
    status, summary, _ = results["blob-soft-delete"]
    assert status is Status.UNKNOWN and "not https" in summary


def test_mgmt_untrusted_certificate_is_unknown(accounts: ArmServer) -> None:
    facts = Probe(credential=StaticToken(), verify=True).probe(
        parse_bucket_url("az://wandbon/wandb"), Settings("test env", {}),
        ProbeOptions(timeout=3, azure_subscription=accounts.state.subscription,
                     azure_arm_endpoint=accounts.url))
    assert isinstance(facts.blob_soft_delete, Unavailable)
    assert "TLS handshake" in facts.blob_soft_delete.reason


@pytest.mark.parametrize("dead", ["closed", "silent"])
def test_dead_arm_endpoint_is_unknown_within_the_timeout(arm: ArmServer, dead: str) -> None:
    def probe(port: int) -> tuple[float, BucketFacts]:
        started = time.monotonic()
        facts = Probe(credential=StaticToken(), verify=arm.ca_path).probe(
            parse_bucket_url("az://wandbon/wandb"), Settings("test env", {}),
            ProbeOptions(timeout=2, azure_subscription=arm.state.subscription,
                         azure_arm_endpoint=f"https://127.0.0.1:{port}"))
        return time.monotonic() - started, facts

    if dead == "closed":
        elapsed, facts = probe(closed_port())
    else:
        with silent_port() as port:
            elapsed, facts = probe(port)
    assert isinstance(facts.blob_soft_delete, Unavailable)
    expected = UnavailableKind.UNREACHABLE if dead == "closed" else UnavailableKind.TIMEOUT
    assert facts.blob_soft_delete.kind is expected, facts.blob_soft_delete
    assert elapsed < 4, elapsed


class SlowToken(StaticToken):
    """An identity that takes longer than the timeout (IMDS or az CLI on a bad day)."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        time.sleep(4)
        return super().get_token(*scopes, **kwargs)


def test_slow_identity_is_a_timeout_that_says_so(accounts: ArmServer) -> None:
    started = time.monotonic()
    facts, _ = mgmt(accounts, "az://wandbon/wandb", SlowToken(), timeout=1)
    assert time.monotonic() - started < 2
    assert isinstance(facts.blob_soft_delete, Unavailable)
    assert facts.blob_soft_delete.kind is UnavailableKind.TIMEOUT
    assert "while getting an Azure access token" in facts.blob_soft_delete.reason


def test_cli_management_plane_without_identity_is_unknown_fast(arm: ArmServer,
                                                               tmp_path: Path) -> None:
    # The CLI uses DefaultAzureCredential: with no identity on this machine it must say so,
    # within the timeout.
    started = time.monotonic()
    run = run_gccheck("check", "--hosting", "on-prem", "--bucket", "az://wandbon/wandb",
                      "--format", "json", "--timeout", "2", "--azure-plane", "mgmt",
                      "--azure-subscription", arm.state.subscription,
                      "--azure-arm-endpoint", arm.url,
                      env={**GC_ON, "HOME": str(tmp_path), "REQUESTS_CA_BUNDLE": arm.ca_path})
    elapsed = time.monotonic() - started
    result = {r["id"]: r for r in json.loads(run.out)["targets"][0]["results"]}["blob-soft-delete"]
    assert (run.code, result["status"]) == (3, "unknown")
    assert "credentials" in result["summary"] or "token" in result["summary"]
    assert "plane: management" in result["detail"]
    assert elapsed < 4, elapsed


# ---- plane choice and endpoints (pure) --------------------------------------------------------


def settings(**values: str) -> Settings:
    return Settings("test env", {k: Setting(k, v, "test env") for k, v in values.items()})


@pytest.mark.parametrize("url, env, options, plane", [
    ("az://:a2V5@acct/wandb", {}, {}, DATA),
    ("az://acct/wandb", {"AZURE_STORAGE_KEY": "a2V5"}, {}, DATA),
    ("az://acct/wandb", {"AZURE_STORAGE_CONNECTION_STRING": "AccountName=acct;AccountKey=a2V5"}, {},
     DATA),
    ("az://acct/wandb", {}, {"azure_subscription": "sub"}, MGMT),
    ("az://acct/wandb", {"AZURE_SUBSCRIPTION_ID": "sub"}, {}, MGMT),
    ("az://:a2V5@acct/wandb", {}, {"azure_subscription": "sub"}, DATA),
    ("az://:a2V5@acct/wandb", {}, {"azure_subscription": "sub", "azure_plane": "mgmt"}, MGMT),
    ("az://acct/wandb", {}, {"azure_plane": "data"}, DATA),
    # A connection string for another account is not this account's key.
    ("az://acct/wandb", {"AZURE_STORAGE_CONNECTION_STRING": "AccountName=other;AccountKey=a2V5"},
     {}, None),
    ("az://acct/wandb", {}, {}, None),
])
def test_plane_choice(url: str, env: dict[str, str], options: dict[str, Any],
                      plane: str | None) -> None:
    chosen, why = Probe.choose_plane(parse_bucket_url(url), settings(**env),
                                     replace(ProbeOptions(), **options))
    assert chosen == plane, why


@pytest.mark.parametrize("endpoint, expected", [
    (None, "https://acct.blob.core.windows.net"),
    ("http://127.0.0.1:10000", "http://127.0.0.1:10000/acct"),
    ("127.0.0.1:10000", "http://127.0.0.1:10000/acct"),
    ("http://localhost:10000/acct", "http://localhost:10000/acct"),
    ("https://{account}.blob.core.chinacloudapi.cn", "https://acct.blob.core.chinacloudapi.cn"),
    ("blob.core.usgovcloudapi.net", "https://acct.blob.core.usgovcloudapi.net"),
    ("https://acct.privatelink.example.com/", "https://acct.privatelink.example.com"),
])
def test_account_url(endpoint: str | None, expected: str) -> None:
    assert account_url("acct", endpoint) == expected


def test_connection_string_values_keep_their_padding() -> None:
    parsed = parse_connection_string("AccountName=a;AccountKey=abc==;EndpointSuffix=core.x")
    assert parsed == {"accountname": "a", "accountkey": "abc==", "endpointsuffix": "core.x"}


# ---- secrets -----------------------------------------------------------------------------

SECRET_KEY = account_key("topsecret+/")


@pytest.mark.parametrize("fmt", ["table", "json", "markdown", "junit"])
def test_account_keys_never_printed(blob: Azurite, tmp_path: Path, fmt: str) -> None:
    connection = (f"DefaultEndpointsProtocol=http;AccountName={ON};AccountKey={SECRET_KEY};"
                  f"BlobEndpoint={blob.endpoint}/{ON};")
    env_key = tmp_path / "key.env"
    env_key.write_text(f"BUCKET=az://{ON}/wandb\nAZURE_STORAGE_KEY={SECRET_KEY}\n"
                       "GORILLA_ARTIFACT_GC_ENABLED=true\n")
    env_conn = tmp_path / "conn.env"
    env_conn.write_text(f"BUCKET=az://{ON}/wandb\nAZURE_STORAGE_CONNECTION_STRING=\"{connection}\"\n"
                        "GORILLA_ARTIFACT_GC_ENABLED=true\n")
    common = ("--hosting", "on-prem", "--format", fmt, "--timeout", "3")
    runs = [
        run_gccheck("check", *common, "--bucket", f"az://:{quote(SECRET_KEY, safe='')}@{ON}/wandb",
                    "--azure-blob-endpoint", blob.endpoint, "--debug", env=GC_ON),
        run_gccheck("check", *common, "--env-file", str(env_key),
                    "--azure-blob-endpoint", blob.endpoint),
        run_gccheck("check", *common, "--env-file", str(env_conn), "--debug"),
        run_gccheck("check", *common, "--bucket", f"az://{ON}/wandb", env={
            **GC_ON, "AZURE_STORAGE_CONNECTION_STRING": connection}),
    ]
    for run in runs:
        # The key is wrong for Azurite: an unknown verdict that must not echo the key.
        assert run.code == 3, run
        text = run.out + run.err
        assert "blob-soft-delete" in text
        for secret in (SECRET_KEY, quote(SECRET_KEY, safe=""), quote(SECRET_KEY),
                       SECRET_KEY.rstrip("=")):
            assert secret not in text


def test_explain_gives_the_azure_fix() -> None:
    run = run_gccheck("explain", "blob-soft-delete")
    assert run.code == 0
    assert ("az storage account blob-service-properties update --account-name {account} "
            "--enable-delete-retention true --delete-retention-days 7") in run.out
    assert "delete_retention_policy { days = 7 }" in run.out
    assert "management plane: Microsoft.Storage/storageAccounts/blobServices/read" in run.out
    assert "data plane: the storage account key" in run.out
    hold = run_gccheck("explain", "immutability-policy").out
    assert "az storage container legal-hold show" in hold
    assert "Microsoft.Storage/storageAccounts/blobServices/containers/read" in hold


# ---- demo ----------------------------------------------------------------------------------


def test_demo_part_cases_end_as_their_lessons_say(blob: Azurite) -> None:
    # `blob` only makes sure Azurite is installed (else skipped); the part starts its own.
    from contextlib import ExitStack

    from gccheck.demo import azure as demo_azure
    from gccheck.engine import prepare, run
    from gccheck.masking import Redactor

    with ExitStack() as stack:
        cases = demo_azure.start(stack)
        prepared = [prepare(c.spec, MATRIX, {}, Redactor()) for c in cases]
        report = run(prepared, MATRIX)
    codes = {t.name: t.exit_code() for t in report.targets}
    assert codes == {"azure-ready": 0, "azure-no-soft-delete": 1, "azure-key-from-env": 0,
                     "azure-ssc": 1}


def test_demo_says_why_the_azure_part_is_skipped(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    from contextlib import ExitStack

    from gccheck.demo import DemoSkipped
    from gccheck.demo import azure as demo_azure

    monkeypatch.setenv("PATH", str(tmp_path))  # no node, no azurite on PATH
    monkeypatch.delenv("AZURITE", raising=False)
    with ExitStack() as stack, pytest.raises(DemoSkipped, match=r"Node\.js is not installed"):
        demo_azure.start(stack)
