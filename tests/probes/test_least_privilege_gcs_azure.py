"""The shipped GCP and Azure roles hold exactly what gccheck uses, and that is enough.

* policies/gcp-custom-role.yaml and policies/azure-custom-role.json list exactly the permissions
  the probes name (their constants) and the catalog documents, no more, no fewer.
* Azure management plane: the local ARM server enforces a role assignment (403
  AuthorizationFailed naming the action, as ARM does). With exactly the shipped role every
  verdict is complete; without any one of its actions, the result that needs it turns
  `unknown` and names that action.
* Azure data plane: Azurite enforces account SAS grants. With exactly the grants the probe
  names every verdict is complete; without one, the result that needs it is `unknown` and
  names the grant.

GCP has no IAM emulator (the GCS emulator grants everything): its proof is the single call,
recorded in test_readonly_gcs_azure.py, and the permission the probe names when denied.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.cloud_servers import (
    ArmAccount,
    ArmServer,
    Azurite,
    account_key,
    arm_server,
    azurite,
    fake_azure_cli,
)
from support.constants import GC_ON, REPO
from support.run import run_gccheck

from gccheck.catalog import load_catalog
from gccheck.probes import azure, gcs

GCP_ROLE = yaml.safe_load((REPO / "policies" / "gcp-custom-role.yaml").read_text("utf-8"))
AZURE_ROLE = json.loads((REPO / "policies" / "azure-custom-role.json").read_text("utf-8"))
ACTIONS: list[str] = AZURE_ROLE["Actions"]
COMPLETE = {"pass", "not-required"}


def catalog_permissions(provider: str) -> set[str]:
    return {p for entry in load_catalog().values() for p in entry.permissions.get(provider, ())}


# ---- the files ---------------------------------------------------------------------------------


def test_gcp_role_holds_exactly_the_permission_the_probe_uses() -> None:
    assert set(GCP_ROLE) <= {"title", "description", "stage", "includedPermissions", "etag"}
    assert GCP_ROLE["title"] and GCP_ROLE["description"] and GCP_ROLE["stage"] == "GA"
    permissions = GCP_ROLE["includedPermissions"]
    assert len(permissions) == len(set(permissions))
    assert set(permissions) == {gcs.PERMISSION} == catalog_permissions("gcp")


def test_azure_role_holds_exactly_the_management_actions_the_probe_uses() -> None:
    assert AZURE_ROLE["IsCustom"] is True and AZURE_ROLE["Name"] and AZURE_ROLE["Description"]
    assert len(ACTIONS) == len(set(ACTIONS))
    named_in_catalog = {action for text in catalog_permissions("azure")
                        for action in re.findall(r"Microsoft\.[\w./]+", text)}
    assert set(ACTIONS) == set(azure.PERMISSIONS.values()) == named_in_catalog
    assert all(action.endswith("/read") for action in ACTIONS)  # reads only
    # Management plane only: the data plane is reached with the account key or a SAS.
    assert AZURE_ROLE["DataActions"] == [] and AZURE_ROLE["NotDataActions"] == []
    assert AZURE_ROLE["NotActions"] == []
    scopes = AZURE_ROLE["AssignableScopes"]
    assert scopes and all(re.fullmatch(r"/subscriptions/[0-9a-f-]{36}(/.*)?", s) for s in scopes)


# ---- Azure management plane: the ARM server enforces the role --------------------------------------

# Which results need which action (the account search comes first and needs its own).
NEEDED_BY = {
    azure.PERMISSIONS["list"]: ("blob-soft-delete", "immutability-policy"),
    azure.PERMISSIONS["service"]: ("blob-soft-delete",),
    azure.PERMISSIONS["container"]: ("immutability-policy",),
}


@pytest.fixture(scope="module")
def arm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArmServer]:
    with arm_server(tmp_path_factory.mktemp("arm")) as server:
        server.state.accounts["wandblp"] = ArmAccount(group="rg-wandb", soft_delete_days=7)
        yield server


def mgmt_results(arm: ArmServer, home: Path, allowed: set[str],
                 *args: str) -> dict[str, dict[str, str]]:
    arm.state.allowed_actions = allowed
    run = run_gccheck("check", "--hosting", "on-prem", "--format", "json", "--timeout", "5",
                      "--bucket", "az://wandblp/wandb", "--azure-plane", "mgmt",
                      "--azure-subscription", arm.state.subscription,
                      "--azure-arm-endpoint", arm.url, *args,
                      env={**GC_ON, **fake_azure_cli(home), "REQUESTS_CA_BUNDLE": arm.ca_path})
    assert "Traceback" not in run.err, run.err
    return {r["id"]: r for r in json.loads(run.out)["targets"][0]["results"]}


def test_exact_azure_role_gives_complete_verdicts(arm: ArmServer, tmp_path: Path) -> None:
    got = mgmt_results(arm, tmp_path, set(ACTIONS))
    assert {r["status"] for r in got.values()} <= COMPLETE, got
    assert "immutability-policy" in got


@pytest.mark.parametrize("removed", sorted(NEEDED_BY))
def test_each_removed_action_turns_its_result_unknown_naming_it(arm: ArmServer, tmp_path: Path,
                                                                removed: str) -> None:
    got = mgmt_results(arm, tmp_path, set(ACTIONS) - {removed})
    for rid in NEEDED_BY[removed]:
        assert got[rid]["status"] == "unknown", got[rid]
        assert removed in got[rid]["summary"], got[rid]
        assert f"missing permission: {removed}" in got[rid]["detail"], got[rid]
    others = {rid: r["status"] for rid, r in got.items() if rid not in NEEDED_BY[removed]}
    assert set(others.values()) <= COMPLETE, others


def test_with_the_resource_group_given_the_account_search_action_is_not_needed(
        arm: ArmServer, tmp_path: Path) -> None:
    got = mgmt_results(arm, tmp_path, set(ACTIONS) - {azure.PERMISSIONS["list"]},
                       "--azure-resource-group", "rg-wandb")
    assert {r["status"] for r in got.values()} <= COMPLETE, got


# ---- Azure data plane: Azurite enforces account SAS grants -----------------------------------------

ACCOUNT = "gcleastpriv"
# A SAS grant -> the result that needs it. "sp=r" is taken away by granting list instead
# (a SAS must grant something).
SAS_NEEDED_BY = {
    "srt=s": ("blob-soft-delete", azure.SAS_GRANTS["service"]),
    "srt=c": ("immutability-policy", azure.SAS_GRANTS["container"]),
    "sp=r": ("blob-soft-delete", azure.SAS_GRANTS["service"]),
}


@pytest.fixture(scope="module")
def blob() -> Iterator[Azurite]:
    with azurite({ACCOUNT: account_key("leastpriv")}) as server:
        server.bucket(ACCOUNT, soft_delete_days=7)
        yield server


def sas_results(blob: Azurite, *, service: bool = True, container: bool = True,
                permission: str = "r") -> dict[str, dict[str, Any]]:
    from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas

    sas = generate_account_sas(
        ACCOUNT, blob.keys[ACCOUNT], ResourceTypes(service=service, container=container),
        AccountSasPermissions.from_string(permission),
        datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1))
    # A SAS connection string, as the portal gives it: no account name, no key.
    connection = f"BlobEndpoint={blob.endpoint}/{ACCOUNT};SharedAccessSignature={sas}"
    run = run_gccheck("check", "--hosting", "on-prem", "--format", "json", "--timeout", "5",
                      "--bucket", f"az://{ACCOUNT}/wandb",
                      env={**GC_ON, "AZURE_STORAGE_CONNECTION_STRING": connection})
    assert "Traceback" not in run.err, run.err
    return {r["id"]: r for r in json.loads(run.out)["targets"][0]["results"]}


def test_exact_sas_gives_complete_verdicts(blob: Azurite) -> None:
    got = sas_results(blob)
    assert {r["status"] for r in got.values()} <= COMPLETE, got
    assert "plane: data" in got["blob-soft-delete"]["detail"]
    assert "immutability-policy" in got


@pytest.mark.parametrize("removed", sorted(SAS_NEEDED_BY))
def test_each_removed_sas_grant_turns_its_result_unknown_naming_it(blob: Azurite,
                                                                   removed: str) -> None:
    got = sas_results(blob, service=removed != "srt=s", container=removed != "srt=c",
                      permission="l" if removed == "sp=r" else "r")
    rid, grant = SAS_NEEDED_BY[removed]
    assert got[rid]["status"] == "unknown", got[rid]
    assert grant in got[rid]["summary"] and removed.split("=")[1] in grant
    assert f"missing permission: {grant}" in got[rid]["detail"], got[rid]
    if removed != "sp=r":  # without read, nothing can be read
        others = {k: r["status"] for k, r in got.items() if k != rid}
        assert set(others.values()) <= COMPLETE, others
