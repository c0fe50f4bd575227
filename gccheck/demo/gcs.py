"""Demo part: Google Cloud Storage, through the GCS emulator (gcp-storage-emulator) in-process."""

from __future__ import annotations

import json
import urllib.request
from contextlib import ExitStack
from typing import Any

from gccheck.demo import DemoCase, DemoSkipped
from gccheck.target import InlineEnv, TargetSpec

TITLE = "Google Cloud Storage (the GCS emulator, gcp-storage-emulator)"
NONCURRENT = {"action": {"type": "Delete"}, "condition": {"daysSinceNoncurrentTime": 30}}


def _server(stack: ExitStack) -> str:
    try:
        from gcp_storage_emulator.server import create_server
    except ImportError:
        raise DemoSkipped("gcp-storage-emulator is not installed: pip install 'gccheck[demo]'") \
            from None
    # Port 0: the OS picks a free port (a busy fixed port would hang the emulator's thread).
    server = create_server("127.0.0.1", 0, in_memory=True)
    server.start()
    stack.callback(server.stop)
    httpd = getattr(getattr(server, "_api", None), "_httpd", None)
    if httpd is None:
        raise DemoSkipped("cannot tell which port the GCS emulator listens on (its internals "
                          "changed)")
    host, port = httpd.server_address[:2]
    return f"http://{host}:{port}"


def _send(method: str, url: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as answer:
        answer.read()


def start(stack: ExitStack) -> list[DemoCase]:
    endpoint = _server(stack)

    def bucket(name: str, **settings: Any) -> str:
        # The emulator ignores settings given at creation: create, then patch.
        _send("POST", f"{endpoint}/storage/v1/b?project=demo", {"name": name})
        if settings:
            _send("PATCH", f"{endpoint}/storage/v1/b/{name}", settings)
        return f"gs://{name}"

    on = {"enabled": True}
    good = bucket("wandb-gcs-versioned", versioning=on, lifecycle={"rule": [NONCURRENT]})
    unversioned = bucket("wandb-gcs-unversioned")
    hazard = bucket("wandb-gcs-lifecycle-hazard", versioning=on, lifecycle={"rule": [
        {"action": {"type": "Delete"}, "condition": {"age": 30}}, NONCURRENT]})
    retained = bucket("wandb-gcs-retention", versioning=on, lifecycle={"rule": [NONCURRENT]},
                      retentionPolicy={"retentionPeriod": str(90 * 86400)})
    env = {"GORILLA_ARTIFACT_GC_ENABLED": "true", "STORAGE_EMULATOR_HOST": endpoint}

    def case(name: str, hosting: str, url: str, lesson: str,
             gc_env: dict[str, str] | None = None) -> DemoCase:
        return DemoCase(TargetSpec(name=name, hosting=hosting, bucket=url,
                                   source=InlineEnv(env if gc_env is None else gc_env), timeout=5.0), lesson)

    no_gc_var = {"STORAGE_EMULATOR_HOST": endpoint}
    return [
        case("gcs-ready", "customer-managed-cloud", good,
             "A versioned GCS bucket with a rule for noncurrent versions; the detail shows GCS "
             "soft delete as information."),
        case("gcs-unversioned", "customer-managed-cloud", unversioned,
             "GCS buckets start unversioned: GC needs 'gcloud storage buckets update "
             "--versioning'."),
        case("gcs-lifecycle-hazard", "on-prem", hazard,
             "A Delete rule on age without isLive=false also deletes live objects W&B uses."),
        case("gcs-retention", "on-prem", retained,
             "A bucket retention policy keeps GC from freeing space for 90 days."),
        case("gcs-ssc", "dedicated-cloud-ssc", good,
             "The secure storage connector is offered on GCP: only versioning is needed, not "
             "the env var.", gc_env=no_gc_var),
    ]
