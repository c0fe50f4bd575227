"""Local stand-ins for Google Cloud Storage and Azure, all on 127.0.0.1.

* the GCS emulator (gcp-storage-emulator, in this process, real HTTP);
* a small HTTP server that answers the way GCS does when a permission is missing (403);
* Azurite (the Azure blob emulator, a Node.js process the tests start and stop);
* a small HTTPS server (test CA from trustme) that answers Azure Resource Manager's storage
  calls with ARM-shaped JSON, including a 403 AuthorizationFailed;
* a stand-in `az` command, so the real CLI's DefaultAzureCredential gets a token offline.

Test modules wrap these context managers in fixtures of the scope they need. Closed and
silent ports are in ports.py, the recording proxy in recording_proxy.py.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from support.constants import REPO
from support.run import missing_tool

# ---- plain HTTP(S) servers ---------------------------------------------------------------

# (method, path with query) -> (status, JSON body)
Handler = Callable[[str, str, dict[str, str]], tuple[int, Any]]


@dataclass
class JsonServer:
    """A threaded HTTP(S) server whose answers come from `handler`; it records each request."""

    url: str
    requests: list[tuple[str, str]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)


@contextmanager
def json_server(handler: Handler, tls: ssl.SSLContext | None = None) -> Iterator[JsonServer]:
    state = JsonServer(url="")

    class Answer(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            state.requests.append((self.command, self.path))
            state.headers.append({k.lower(): v for k, v in self.headers.items()})
            status, body = handler(self.command, self.path, dict(self.headers.items()))
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    state.url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


# ---- Google Cloud Storage ------------------------------------------------------------------


@dataclass(frozen=True)
class GcsEmulator:
    endpoint: str

    def bucket(self, name: str, **settings: Any) -> str:
        """Create a bucket, then PATCH its settings (the emulator ignores them at creation).

        settings are GCS JSON API fields: versioning={"enabled": True}, lifecycle={"rule": [...]},
        retentionPolicy={...}, softDeletePolicy={...}.
        """
        import requests

        created = requests.post(f"{self.endpoint}/storage/v1/b", params={"project": "test"},
                                json={"name": name}, timeout=5)
        created.raise_for_status()
        if settings:
            patched = requests.patch(f"{self.endpoint}/storage/v1/b/{name}", json=settings,
                                     timeout=5)
            patched.raise_for_status()
        return name


@contextmanager
def gcs_emulator() -> Iterator[GcsEmulator]:
    from gcp_storage_emulator.server import create_server

    server = create_server("127.0.0.1", 0, in_memory=True)
    server.start()
    try:
        # Port 0 picks a free port; the emulator has no public accessor for it.
        host, port = server._api._httpd.server_address[:2]
        yield GcsEmulator(f"http://{host}:{port}")
    finally:
        server.stop()


def gcs_forbidden(method: str, path: str, headers: dict[str, str]) -> tuple[int, Any]:
    """GCS's answer to a bucket GET by a principal without storage.buckets.get."""
    message = ("wandb-reader@example-project.iam.gserviceaccount.com does not have "
               "storage.buckets.get access to the Google Cloud Storage bucket. Permission "
               "'storage.buckets.get' denied on resource (or it may not exist).")
    return 403, {"error": {"code": 403, "message": message,
                           "errors": [{"message": message, "domain": "global",
                                       "reason": "forbidden"}]}}


# ---- Azure: Azurite ------------------------------------------------------------------------


def find_azurite() -> str | None:
    """AZURITE, then azurite on PATH, then <repo>/.tools (where .ci/run installs it)."""
    for candidate in (os.environ.get("AZURITE"), shutil.which("azurite"),
                      str(REPO / ".tools" / "node_modules" / ".bin" / "azurite")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def account_key(seed: str) -> str:
    """A base64 account key, as Azure gives them."""
    return base64.b64encode((seed * 64)[:64].encode()).decode()


@dataclass(frozen=True)
class Azurite:
    endpoint: str  # http://127.0.0.1:PORT (accounts are the first path segment)
    keys: dict[str, str]

    def client(self, account: str) -> Any:
        from azure.storage.blob import BlobServiceClient

        return BlobServiceClient(f"{self.endpoint}/{account}", credential={
            "account_name": account, "account_key": self.keys[account]}, retry_total=0)

    def bucket(self, account: str, container: str = "wandb", *,
               soft_delete_days: int | None = None) -> str:
        """Create `container` in `account`; with soft_delete_days, turn the account's blob
        soft delete on (what GC needs). Returns the container's name."""
        client = self.client(account)
        client.create_container(container)
        if soft_delete_days is not None:
            from azure.storage.blob import RetentionPolicy

            client.set_service_properties(delete_retention_policy=RetentionPolicy(
                enabled=True, days=soft_delete_days))
        return container

    def url(self, account: str, container: str, key: str | None = None) -> str:
        """az://:KEY@account/container with the key URL-encoded, as W&B documents it."""
        return f"az://:{quote(key or self.keys[account], safe='')}@{account}/{container}"


@contextmanager
def azurite(keys: dict[str, str]) -> Iterator[Azurite]:
    """Start Azurite with these accounts (AZURITE_ACCOUNTS); skip the test if it is absent."""
    from gccheck.demo.azure import launch_azurite, stop_process

    exe = find_azurite()
    if exe is None:
        missing_tool("Azurite not found: set AZURITE, put azurite on PATH, or run "
                     "'npm install --prefix .tools azurite@3.35.0' (as .ci/run does)")
    if shutil.which("node") is None and not os.environ.get("AZURITE"):
        missing_tool("Azurite needs Node.js, which is not on PATH")
    proc, endpoint, seen = launch_azurite(exe, keys)
    try:
        if endpoint is None:
            pytest.fail("Azurite did not start: " + " | ".join(seen))
        yield Azurite(endpoint, dict(keys))
    finally:
        stop_process(proc)


# ---- Azure: Resource Manager ---------------------------------------------------------------


@dataclass
class ArmContainer:
    immutability_policy: bool = False
    legal_hold: bool = False
    version_level_immutability: bool = False


@dataclass
class ArmAccount:
    group: str
    soft_delete_days: int | None = 7  # None: blob soft delete off
    versioning: bool = False
    container_soft_delete_days: int | None = None
    containers: dict[str, ArmContainer] = field(default_factory=lambda: {"wandb": ArmContainer()})
    deny_blob_service: bool = False


@dataclass
class ArmState:
    """What the fake ARM knows; tests change it between calls."""

    subscription: str = "00000000-0000-0000-0000-000000000001"
    accounts: dict[str, ArmAccount] = field(default_factory=dict)
    deny_list: bool = False
    # Put the accounts on a second page, to prove nextLink is followed.
    paged: bool = True
    token: str = "test-arm-token"
    # A role assignment: None allows every action; otherwise a call needing an action outside
    # the set gets ARM's 403 AuthorizationFailed naming that action.
    allowed_actions: set[str] | None = None


# The RBAC action ARM checks for each storage call gccheck may make (Azure's REST reference).
ACTION_LIST_ACCOUNTS = "Microsoft.Storage/storageAccounts/read"
ACTION_BLOB_SERVICE = "Microsoft.Storage/storageAccounts/blobServices/read"
ACTION_CONTAINER = "Microsoft.Storage/storageAccounts/blobServices/containers/read"


def _arm_error(status: int, code: str, message: str) -> tuple[int, Any]:
    return status, {"error": {"code": code, "message": message}}


def _denied(action: str, scope: str) -> tuple[int, Any]:
    client = "5f1e0c5e-1111-2222-3333-444455556666"
    return _arm_error(403, "AuthorizationFailed",
                      f"The client '{client}' with object id '{client}' does not have "
                      f"authorization to perform action '{action}' over scope '{scope}' or the "
                      "scope is invalid. If access was recently granted, please refresh your "
                      "credentials.")


def arm_handler(state: ArmState) -> Handler:
    """ARM-shaped answers for the storage calls gccheck makes (GET only)."""

    def account_json(name: str, account: ArmAccount) -> dict[str, Any]:
        return {
            "id": f"/subscriptions/{state.subscription}/resourceGroups/{account.group}/providers/"
                  f"Microsoft.Storage/storageAccounts/{name}",
            "name": name, "type": "Microsoft.Storage/storageAccounts", "location": "eastus",
            "kind": "StorageV2", "sku": {"name": "Standard_LRS", "tier": "Standard"},
            "properties": {"provisioningState": "Succeeded",
                           "primaryEndpoints": {"blob": f"https://{name}.blob.core.windows.net/"}},
        }

    def allowed(action: str) -> bool:
        return state.allowed_actions is None or action in state.allowed_actions

    def handle(method: str, path: str, headers: dict[str, str]) -> tuple[int, Any]:
        if method != "GET":
            return _arm_error(405, "MethodNotAllowed", "gccheck must only read")
        auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        if auth != f"Bearer {state.token}":
            return _arm_error(401, "InvalidAuthenticationToken",
                              "The access token is invalid.")
        route = urlsplit(path)
        parts = route.path.strip("/").split("/")
        lowered = [p.lower() for p in parts]
        if len(parts) < 2 or lowered[0] != "subscriptions":
            return _arm_error(404, "NotFound", "no such route")
        if parts[1] != state.subscription:
            return _arm_error(404, "SubscriptionNotFound",
                              f"The subscription '{parts[1]}' could not be found.")
        # /subscriptions/S/providers/Microsoft.Storage/storageAccounts[?page=2]
        if lowered[2:] == ["providers", "microsoft.storage", "storageaccounts"]:
            scope = f"/subscriptions/{state.subscription}"
            if state.deny_list or not allowed(ACTION_LIST_ACCOUNTS):
                return _denied(ACTION_LIST_ACCOUNTS, scope)
            accounts = [account_json(n, a) for n, a in state.accounts.items()]
            if state.paged and "page=2" not in route.query:
                base = path.split("?")[0]
                other = account_json("someoneelse", ArmAccount(group="other-rg"))
                return 200, {"value": [other], "nextLink": f"{_self_url(headers)}{base}"
                             "?api-version=2023-05-01&page=2"}
            return 200, {"value": accounts}
        # /subscriptions/S/resourceGroups/G/providers/Microsoft.Storage/storageAccounts/A/...
        if len(parts) >= 8 and lowered[2] == "resourcegroups":
            group, name = parts[3], parts[7]
            account = state.accounts.get(name)
            if not any(a.group == group for a in state.accounts.values()):
                return _arm_error(404, "ResourceGroupNotFound",
                                  f"Resource group '{group}' could not be found.")
            if account is None or account.group != group:
                return _arm_error(404, "ResourceNotFound",
                                  f"The Resource 'Microsoft.Storage/storageAccounts/{name}' under "
                                  f"resource group '{group}' was not found. For more details "
                                  "please go to https://aka.ms/ARMResourceNotFoundFix")
            base = route.path
            rest = lowered[8:]
            if rest == ["blobservices", "default"]:
                if account.deny_blob_service or not allowed(ACTION_BLOB_SERVICE):
                    return _denied(ACTION_BLOB_SERVICE, base)
                return 200, _blob_service_json(base, account)
            if rest[:3] == ["blobservices", "default", "containers"] and len(rest) == 4:
                if not allowed(ACTION_CONTAINER):
                    return _denied(ACTION_CONTAINER, base)
                container = account.containers.get(parts[11])
                if container is None:
                    return _arm_error(404, "ContainerNotFound",
                                      "The specified container does not exist.")
                return 200, _container_json(base, parts[11], container)
        return _arm_error(404, "NotFound", "no such route")

    return handle


def _self_url(headers: dict[str, str]) -> str:
    host = {k.lower(): v for k, v in headers.items()}.get("host", "127.0.0.1")
    return f"https://{host}"


def _blob_service_json(resource_id: str, account: ArmAccount) -> dict[str, Any]:
    soft = ({"enabled": True, "days": account.soft_delete_days, "allowPermanentDelete": False}
            if account.soft_delete_days else {"enabled": False, "allowPermanentDelete": False})
    container = ({"enabled": True, "days": account.container_soft_delete_days}
                 if account.container_soft_delete_days else {"enabled": False})
    return {"id": resource_id, "name": "default",
            "type": "Microsoft.Storage/storageAccounts/blobServices",
            "sku": {"name": "Standard_LRS", "tier": "Standard"},
            "properties": {"cors": {"corsRules": []}, "deleteRetentionPolicy": soft,
                           "isVersioningEnabled": account.versioning,
                           "containerDeleteRetentionPolicy": container}}


def _container_json(resource_id: str, name: str, container: ArmContainer) -> dict[str, Any]:
    return {"id": resource_id, "name": name,
            "type": "Microsoft.Storage/storageAccounts/blobServices/containers",
            "etag": "\"0x8DC0000000000000\"",
            "properties": {"publicAccess": "None", "leaseStatus": "Unlocked",
                           "leaseState": "Available", "deleted": False,
                           "remainingRetentionDays": 0,
                           "lastModifiedTime": "2024-01-01T00:00:00.0000000Z",
                           "hasImmutabilityPolicy": container.immutability_policy,
                           "hasLegalHold": container.legal_hold,
                           "immutableStorageWithVersioning": {
                               "enabled": container.version_level_immutability}}}


@dataclass
class ArmServer:
    url: str
    ca_path: str
    state: ArmState
    server: JsonServer


@contextmanager
def arm_server(tmp_dir: Path) -> Iterator[ArmServer]:
    """HTTPS (Azure tokens are only sent over TLS) with a test CA written to tmp_dir."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    ca_path = tmp_dir / "arm-test-ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    state = ArmState()
    with json_server(arm_handler(state), tls=context) as server:
        yield ArmServer(server.url, str(ca_path), state, server)


class StaticToken:
    """A TokenCredential of our own: hands out one fixed token and records the scopes."""

    def __init__(self, token: str = "test-arm-token", fail: bool = False) -> None:
        self.token = token
        self.fail = fail
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken
        from azure.core.exceptions import ClientAuthenticationError

        self.scopes.append(scopes)
        if self.fail:
            raise ClientAuthenticationError("no identity available")
        return AccessToken(self.token, int(time.time()) + 3600)


def fake_azure_cli(directory: Path, token: str = "test-arm-token") -> dict[str, str]:
    """An `az` stand-in that prints an access token, as `az account get-access-token` does.

    Returns the environment for the real CLI: PATH with it first, and AZURE_TOKEN_CREDENTIALS
    so that DefaultAzureCredential asks only the Azure CLI (never a CI machine's managed
    identity, which would send a real token to a local server).
    """
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "az"
    answer = json.dumps({"accessToken": token, "expires_on": int(time.time()) + 3600,
                         "tokenType": "Bearer"})
    script.write_text(f"#!/bin/sh\necho '{answer}'\n")
    script.chmod(0o755)
    return {"PATH": f"{directory}{os.pathsep}{os.environ.get('PATH', '')}",
            "AZURE_TOKEN_CREDENTIALS": "AzureCliCredential", "HOME": str(directory)}
