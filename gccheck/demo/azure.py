"""Demo part: Azure Blob Storage through Azurite, the blob emulator (a Node.js program).

Runs where Node.js and Azurite are present (AZURITE, azurite on PATH, or .tools/ in a checkout,
where `npm install --prefix .tools azurite@3.35.0` puts it); otherwise says why it was skipped.
"""

from __future__ import annotations

import base64
import os
import queue
import secrets
import shutil
import subprocess
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import quote

from gccheck import children
from gccheck.demo import DemoCase, DemoSkipped
from gccheck.target import InlineEnv, TargetSpec

TITLE = "Azure Blob Storage (Azurite, the Azure blob emulator)"
ON, OFF = "wandbsoftdelete", "wandbnosoftdelete"
_INSTALL = "npm install --prefix .tools azurite@3.35.0 (or set AZURITE to its path)"


def find_azurite() -> str | None:
    """AZURITE, then azurite on PATH, then .tools/ in this checkout or the current directory."""
    here = Path(__file__).resolve().parent.parent.parent
    for candidate in (os.environ.get("AZURITE"), shutil.which("azurite"),
                      str(here / ".tools" / "node_modules" / ".bin" / "azurite"),
                      str(Path.cwd() / ".tools" / "node_modules" / ".bin" / "azurite")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def stop_process(proc: subprocess.Popen[str]) -> None:
    """Stop a process `launch_azurite` started: SIGTERM, then SIGKILL after 5 seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
    children.stopped(proc)


def launch_azurite(exe: str, keys: dict[str, str], wait: float = 30.0
                   ) -> tuple[subprocess.Popen[str], str | None, list[str]]:
    """Start Azurite on 127.0.0.1 with these accounts (AZURITE_ACCOUNTS).

    Returns the process, its blob endpoint (None if it did not start within `wait` seconds)
    and its last lines of output; the caller stops the process (`stop_process`).
    """
    env = dict(os.environ)
    env["AZURITE_ACCOUNTS"] = ";".join(f"{name}:{key}" for name, key in keys.items())
    # --skipApiVersionCheck: current azure-storage-blob sends an API version Azurite refuses.
    proc = subprocess.Popen(
        [exe, "--skipApiVersionCheck", "--inMemoryPersistence", "--disableTelemetry", "--loose",
         "--silent", "--blobHost", "127.0.0.1", "--blobPort", "0", "--queuePort", "0",
         "--tablePort", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    children.started(proc)  # an interrupt (os._exit) stops it too
    lines: queue.Queue[str | None] = queue.Queue()

    def drain() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=drain, daemon=True).start()
    deadline = time.monotonic() + wait
    seen: list[str] = []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        if line.strip():
            seen.append(line.rstrip())
        if "Blob service is successfully listening at" in line:
            return proc, line.rsplit(" ", 1)[-1].strip().rstrip("/"), seen[-5:]
    return proc, None, seen[-5:]


def _server(stack: ExitStack, keys: dict[str, str]) -> str:
    exe = find_azurite()
    if shutil.which("node") is None:
        raise DemoSkipped("Node.js is not installed, and Azurite runs on it"
                          + ("" if exe else f"; then {_INSTALL}"))
    if exe is None:
        raise DemoSkipped(f"Azurite is not installed: {_INSTALL}")
    proc, endpoint, seen = launch_azurite(exe, keys)
    stack.callback(stop_process, proc)
    if endpoint is None:
        raise DemoSkipped(f"Azurite did not start ({seen[-1] if seen else 'no output'})")
    return endpoint


def start(stack: ExitStack) -> list[DemoCase]:
    from azure.storage.blob import BlobServiceClient, RetentionPolicy

    keys = {name: base64.b64encode(secrets.token_bytes(64)).decode() for name in (ON, OFF)}
    endpoint = _server(stack, keys)
    for name, key in keys.items():
        client = BlobServiceClient(f"{endpoint}/{name}", retry_total=0,
                                   credential={"account_name": name, "account_key": key})
        client.create_container("wandb")
        client.set_service_properties(delete_retention_policy=RetentionPolicy(
            enabled=name == ON, days=7 if name == ON else None))

    def url(account: str) -> str:
        return f"az://:{quote(keys[account], safe='')}@{account}/wandb"

    gc_on = {"GORILLA_ARTIFACT_GC_ENABLED": "true"}

    def case(name: str, hosting: str, bucket: str, lesson: str,
             env: dict[str, str] | None = None) -> DemoCase:
        return DemoCase(TargetSpec(name=name, hosting=hosting, bucket=bucket,
                                   source=InlineEnv(gc_on if env is None else env),
                                   azure_blob_endpoint=endpoint, timeout=5.0), lesson)

    return [
        case("azure-ready", "customer-managed-cloud", url(ON),
             "Blob soft delete is Azure's versioning: on, with 7 days retention. The key in the "
             "URL means the data plane, as W&B itself uses it."),
        case("azure-no-soft-delete", "on-prem", url(OFF),
             "Blob soft delete is off: the fix is one az command (container soft delete would "
             "not count)."),
        case("azure-key-from-env", "on-prem", f"az://{ON}/wandb",
             "The key can also come from AZURE_STORAGE_KEY, as in W&B's own settings.",
             env={**gc_on, "AZURE_STORAGE_KEY": keys[ON]}),
        case("azure-ssc", "dedicated-cloud-ssc", url(ON),
             "matrix.yaml does not list Azure for the secure storage connector.", env={}),
    ]
