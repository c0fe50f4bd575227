"""gccheck only reads, on GCS and on both Azure planes, and only what the README says it reads.

Every request `gccheck check` and `gccheck audit` send is recorded by a real server in its path:
a recording proxy in front of the GCS emulator and in front of Azurite, and the local ARM
server itself. Each request must be a read (GET/HEAD), must be recognised as a named API
operation, and the set of operations must equal the one the README's Permissions table lists
for that provider/plane (the table is parsed here, so an operation missing from it fails this
test). The README's permission for each operation must be the one the probe names when denied.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from support.cloud_servers import (
    ArmAccount,
    ArmServer,
    Azurite,
    GcsEmulator,
    account_key,
    arm_server,
    azurite,
    fake_azure_cli,
    gcs_emulator,
)
from support.constants import GC_ON, REPO
from support.recording_proxy import recording_proxy
from support.run import run_gccheck

READS = {"GET", "HEAD"}
GCS, AZURE_MGMT, AZURE_DATA = "Google Cloud Storage", "Azure, management plane", "Azure, data plane"


# ---- the README's table ------------------------------------------------------------------------


def permissions_table(readme: str) -> dict[str, dict[str, str]]:
    """provider -> {operation: permission cell}, from the table under "## Permissions".

    A row with an empty provider cell continues the provider above; operations are the
    `backticked` names in the operation cell, outside parentheses.
    """
    section = readme.split("\n## Permissions", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    table: dict[str, dict[str, str]] = {}
    provider = ""
    for row in rows[2:]:  # header and separator
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        assert len(cells) == 4, f"README Permissions row with {len(cells)} cells: {row}"
        provider = cells[0] or provider
        # Parenthesised text is commentary ("(not with `--azure-resource-group`)").
        for operation in re.findall(r"`([^`]+)`", re.sub(r"\([^)]*\)", "", cells[1])):
            table.setdefault(provider, {})[operation] = cells[2]
    return table


TABLE = permissions_table((REPO / "README.md").read_text("utf-8"))


def test_the_table_parses_into_the_providers_checked_here() -> None:
    assert {GCS, AZURE_MGMT, AZURE_DATA} <= set(TABLE), TABLE


# ---- requests -> named operations (the services' REST references) ------------------------------


def gcs_operation(method: str, path: str) -> str:
    parts = urlsplit(path).path.strip("/").split("/")
    if parts[:3] == ["storage", "v1", "b"]:
        rest = parts[3:]
        names = {(): "buckets.list" if method == "GET" else "buckets.insert",
                 ("iam",): "buckets.getIamPolicy", ("iam", "testPermissions"):
                 "buckets.testIamPermissions", ("o",): "objects.list"}
        if len(rest) == 1:
            return {"GET": "buckets.get", "PATCH": "buckets.patch", "PUT": "buckets.update",
                    "DELETE": "buckets.delete"}.get(method, f"{method} bucket")
        if rest and tuple(rest[1:]) in names:
            return names[tuple(rest[1:])]
    return f"unrecognised {method} {path}"


def blob_operation(method: str, path: str) -> str:
    url = urlsplit(path)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    segments = [s for s in url.path.split("/") if s]  # account[/container[/blob]]
    restype, comp = query.get("restype"), query.get("comp")
    if len(segments) == 1 and restype == "service":
        return {"properties": "Get Blob Service Properties" if method == "GET"
                else "Set Blob Service Properties", "stats": "Get Blob Service Stats"}.get(
            comp or "", f"unrecognised {method} {path}")
    if len(segments) == 1 and comp == "list":
        return "List Containers"
    if len(segments) == 2 and restype == "container":
        if comp is None:
            return {"GET": "Get Container Properties", "HEAD": "Get Container Properties",
                    "PUT": "Create Container", "DELETE": "Delete Container"}.get(
                method, f"unrecognised {method} {path}")
        return {"list": "List Blobs", "metadata": "Get Container Metadata",
                "acl": "Get Container ACL", "lease": "Lease Container"}.get(
            comp, f"unrecognised {method} {path}")
    if len(segments) >= 3:
        return {"GET": "Get Blob", "HEAD": "Get Blob Properties", "PUT": "Put Blob",
                "DELETE": "Delete Blob"}.get(method, f"unrecognised {method} {path}")
    return f"unrecognised {method} {path}"


def arm_operation(method: str, path: str) -> str:
    parts = [p.lower() for p in urlsplit(path).path.strip("/").split("/")]
    storage = ["providers", "microsoft.storage", "storageaccounts"]
    if parts[2:] == storage:
        return "StorageAccounts_List"
    if len(parts) >= 7 and parts[2] == "resourcegroups" and parts[4:7] == storage:
        rest = parts[8:]
        if len(parts) == 7:
            return "StorageAccounts_ListByResourceGroup"
        if not rest:
            return "StorageAccounts_GetProperties" if method == "GET" else f"{method} account"
        if rest == ["listkeys"]:
            return "StorageAccounts_ListKeys"
        if rest == ["blobservices", "default"]:
            return ("BlobServices_GetServiceProperties" if method == "GET"
                    else "BlobServices_SetServiceProperties")
        if rest[:3] == ["blobservices", "default", "containers"] and len(rest) == 4:
            return "BlobContainers_Get" if method == "GET" else f"{method} container"
    return f"unrecognised {method} {path}"


def assert_reads_listed(provider: str, requests: list[tuple[str, str]],
                        operation: Callable[[str, str], str], *, complete: bool = True) -> None:
    """Every request is a read and a listed operation; with `complete`, all are used."""
    assert requests, "no request was recorded"
    writes = [r for r in requests if r[0] not in READS]
    assert not writes, f"gccheck sent non-read requests: {writes}"
    used = {operation(method, path) for method, path in requests}
    listed = set(TABLE[provider])
    assert used <= listed, (f"operations missing from the README's Permissions table for "
                            f"{provider}: {sorted(used - listed)}")
    if complete:
        assert used == listed, f"listed in the README but never used: {sorted(listed - used)}"


# ---- GCS ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gcs() -> Iterator[GcsEmulator]:
    with gcs_emulator() as emulator:
        yield emulator


def test_gcs_check_only_gets_the_bucket(gcs: GcsEmulator) -> None:
    from gccheck.probes.gcs import PERMISSION

    name = gcs.bucket("wandb-readonly", versioning={"enabled": True},
                      lifecycle={"rule": [{"action": {"type": "Delete"},
                                           "condition": {"daysSinceNoncurrentTime": 30}}]})
    with recording_proxy(gcs.endpoint, host="upstream") as proxy:
        run = run_gccheck("check", "--hosting", "on-prem", "--format", "json", "--timeout", "5",
                          "--bucket", f"gs://{name}/wandb",
                          env={**GC_ON, "STORAGE_EMULATOR_HOST": proxy.url})
    assert run.code == 0, run  # a complete verdict: the reads were enough
    assert_reads_listed(GCS, proxy.requests, gcs_operation)
    assert PERMISSION in TABLE[GCS]["buckets.get"]


# ---- Azure data plane ----------------------------------------------------------------------------

ACCOUNT = "gcreadonly"


@pytest.fixture(scope="module")
def blob() -> Iterator[Azurite]:
    with azurite({ACCOUNT: account_key("readonly")}) as server:
        server.bucket(ACCOUNT, soft_delete_days=7)
        yield server


def test_azure_data_plane_check_only_reads_properties(blob: Azurite, tmp_path: Path) -> None:
    key = blob.keys[ACCOUNT]
    with recording_proxy(blob.endpoint, host="upstream") as proxy:
        # The key in the URL, and the key and endpoint in a connection string.
        by_url = run_gccheck("check", "--hosting", "on-prem", "--format", "json", "--timeout",
                             "5", "--bucket", f"az://:{quote(key, safe='')}@{ACCOUNT}/wandb",
                             "--azure-blob-endpoint", proxy.url, env=GC_ON)
        connection = (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={key};"
                      f"BlobEndpoint={proxy.url}/{ACCOUNT};")
        by_env = run_gccheck("check", "--hosting", "on-prem", "--format", "json", "--timeout",
                             "5", "--bucket", f"az://{ACCOUNT}/wandb",
                             env={**GC_ON, "AZURE_STORAGE_CONNECTION_STRING": connection})
    for run in (by_url, by_env):
        assert run.code == 0, run
        assert "plane: data" in run.out
    assert_reads_listed(AZURE_DATA, proxy.requests, blob_operation)


# ---- Azure management plane ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def arm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArmServer]:
    with arm_server(tmp_path_factory.mktemp("arm")) as server:
        server.state.accounts["wandbro"] = ArmAccount(group="rg-wandb", soft_delete_days=7)
        yield server


def mgmt_check(arm: ArmServer, home: Path, *args: str) -> dict[str, dict[str, str]]:
    run = run_gccheck("check", "--hosting", "on-prem", "--format", "json", "--timeout", "5",
                      "--bucket", "az://wandbro/wandb", "--azure-plane", "mgmt",
                      "--azure-subscription", arm.state.subscription,
                      "--azure-arm-endpoint", arm.url, *args,
                      env={**GC_ON, **fake_azure_cli(home), "REQUESTS_CA_BUNDLE": arm.ca_path})
    assert run.code == 0, run
    return {r["id"]: r for r in json.loads(run.out)["targets"][0]["results"]}


def test_azure_management_plane_check_only_reads(arm: ArmServer, tmp_path: Path) -> None:
    from gccheck.probes.azure import PERMISSIONS

    arm.server.requests.clear()
    results = mgmt_check(arm, tmp_path)
    assert "plane: management" in results["blob-soft-delete"]["detail"]
    assert_reads_listed(AZURE_MGMT, arm.server.requests, arm_operation)
    # The README names, for each operation, the action the probe names when it is denied.
    for operation, call in (("StorageAccounts_List", "list"),
                            ("BlobServices_GetServiceProperties", "service"),
                            ("BlobContainers_Get", "container")):
        assert f"`{PERMISSIONS[call]}`" in TABLE[AZURE_MGMT][operation], operation

    # Given the resource group, the account search (and its permission) is not needed.
    arm.server.requests.clear()
    mgmt_check(arm, tmp_path, "--azure-resource-group", "rg-wandb")
    assert_reads_listed(AZURE_MGMT, arm.server.requests, arm_operation, complete=False)
    assert "StorageAccounts_List" not in {arm_operation(*r) for r in arm.server.requests}


# ---- the checks above can fail ---------------------------------------------------------------------


def test_an_unlisted_operation_or_a_write_fails_the_proof() -> None:
    with pytest.raises(AssertionError, match="missing from the README"):
        assert_reads_listed(AZURE_MGMT, [("GET", "/subscriptions/s/resourceGroups/g/providers/"
                                          "Microsoft.Storage/storageAccounts/a")], arm_operation)
    with pytest.raises(AssertionError, match="non-read"):
        assert_reads_listed(AZURE_MGMT, [("POST", "/subscriptions/s/resourceGroups/g/providers/"
                                          "Microsoft.Storage/storageAccounts/a/listKeys")],
                            arm_operation)
    with pytest.raises(AssertionError, match="never used"):
        assert_reads_listed(AZURE_DATA, [("GET", "/acct/?restype=service&comp=properties")],
                            blob_operation)
    with pytest.raises(AssertionError, match="missing from the README"):
        assert_reads_listed(GCS, [("GET", "/storage/v1/b/x/iam/testPermissions")], gcs_operation)


# ---- gccheck audit: the same reads, for every deployment ------------------------------------------


def test_audit_only_reads_the_listed_operations(gcs: GcsEmulator, arm: ArmServer,
                                                request: pytest.FixtureRequest,
                                                tmp_path: Path) -> None:
    no_blob = ""
    try:
        blob: Azurite | None = request.getfixturevalue("blob")
    except pytest.skip.Exception as skipped:  # no Azurite: the other planes are still checked
        blob, no_blob = None, str(skipped)
    name = gcs.bucket("wandb-readonly-audit", versioning={"enabled": True})
    with ExitStack() as stack:
        gcs_proxy = stack.enter_context(recording_proxy(gcs.endpoint, host="upstream"))
        deployments: list[dict[str, Any]] = [
            {"name": "gcs", "bucket": f"gs://{name}",
             "env": {"STORAGE_EMULATOR_HOST": gcs_proxy.url}},
            {"name": "azure-mgmt", "bucket": "az://wandbro/wandb", "azure-plane": "mgmt",
             "azure-subscription": arm.state.subscription, "azure-arm-endpoint": arm.url}]
        if blob is not None:
            blob_proxy = stack.enter_context(recording_proxy(blob.endpoint, host="upstream"))
            key = quote(blob.keys[ACCOUNT], safe="")
            deployments.append({"name": "azure-data", "bucket": f"az://:{key}@{ACCOUNT}/wandb",
                                "azure-blob-endpoint": blob_proxy.url})
        fleet = {"defaults": {"hosting": "on-prem", "timeout": 5,
                              "env": {"GORILLA_ARTIFACT_GC_ENABLED": "true"}},
                 "deployments": deployments}
        path = tmp_path / "fleet.yaml"
        path.write_text(json.dumps(fleet))  # JSON is YAML
        arm.server.requests.clear()
        run = run_gccheck("audit", str(path), "--format", "json", "--quiet",
                          env={**fake_azure_cli(tmp_path), "REQUESTS_CA_BUNDLE": arm.ca_path})
    assert run.code == 0, run
    assert [t["name"] for t in json.loads(run.out)["targets"]] == [d["name"] for d in deployments]
    assert_reads_listed(GCS, gcs_proxy.requests, gcs_operation)
    assert_reads_listed(AZURE_MGMT, arm.server.requests, arm_operation)
    if blob is not None:
        assert_reads_listed(AZURE_DATA, blob_proxy.requests, blob_operation)
    else:  # said, not swallowed: the report shows this test skipped, with why
        pytest.skip(f"GCS and the Azure management plane checked; the data plane not: {no_blob}")
