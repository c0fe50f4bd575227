"""GCS and Azure faults from real local servers, through the real CLI.

Each endpoint gccheck talks to (GCS's JSON API, Azure's Blob service, Azure Resource Manager
with and without the account search) meets each fault: connection refused, an unresolvable
host, an untrusted certificate, a server that never answers, an answer slower than --timeout,
500 and 503 (retried, at most 3 attempts per call), throttling (429 and the service's own
503 with Retry-After), malformed, truncated and beside-the-point bodies, and a redirect.
Every case must end as `unknown` with a reason that names the fault, exit code 3, no
traceback, within the documented bound: --timeout plus STARTUP seconds (the probes give up at
--timeout, retries included; the rest is interpreter and SDK start-up).

The CLI runs happen concurrently (a few at a time) when the module starts, so the module
stays fast; each case is still its own test.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from support.cloud_servers import StaticToken, account_key, fake_azure_cli
from support.constants import GC_ON
from support.faults import fault_server
from support.ports import closed_port, silent_port
from support.run import run_gccheck

from gccheck.bucket_url import parse_bucket_url
from gccheck.model import Setting, Settings, Unavailable, UnavailableKind
from gccheck.probes.interface import ProbeOptions

# Long enough for a retry after Retry-After: 1 on a busy machine; the command's own bound
# (--timeout + its 2 s grace) must also leave room for SDK start-up there.
TIMEOUT = 3.0
# Interpreter and SDK start-up on a loaded 2-core CI machine, with WORKERS runs at once.
STARTUP = 5.0
BOUND = TIMEOUT + STARTUP
WORKERS = 3
MAX_ATTEMPTS = 3  # per call, as the README promises
SUBSCRIPTION = "00000000-0000-0000-0000-000000000001"
KEY = account_key("faults")


@dataclass(frozen=True)
class Plane:
    name: str
    flavor: str  # the fault server's answer shapes (tests/support/faults.py)
    results: tuple[str, ...]  # the results a fault must turn unknown

    def args(self, endpoint: str) -> list[str]:
        if self.name == "gcs":
            return ["--bucket", "gs://wandb-faults"]
        if self.name == "azure-data":
            return ["--bucket", f"az://:{quote(KEY, safe='')}@acct/wandb",
                    "--azure-blob-endpoint", endpoint]
        args = ["--bucket", "az://acct/wandb", "--azure-plane", "mgmt",
                "--azure-subscription", SUBSCRIPTION, "--azure-arm-endpoint", endpoint]
        if self.name == "azure-mgmt-rg":
            args += ["--azure-resource-group", "rg-wandb"]
        return args

    def env(self, endpoint: str, ca_path: str | None, home: Path) -> dict[str, str]:
        if self.name == "gcs":
            return {**GC_ON, "STORAGE_EMULATOR_HOST": endpoint}
        if self.name == "azure-data":
            return dict(GC_ON)
        env = {**GC_ON, **fake_azure_cli(home)}
        if ca_path:
            env["REQUESTS_CA_BUNDLE"] = ca_path  # trust the fault server: faults past TLS
        return env


PLANES = {p.name: p for p in [
    Plane("gcs", "gcs", ("bucket-versioning", "retention-policy")),
    Plane("azure-data", "azure", ("blob-soft-delete", "immutability-policy")),
    # Finds the resource group first (StorageAccounts_List) ...
    Plane("azure-mgmt", "arm", ("blob-soft-delete", "immutability-policy")),
    # ... or is given it and reads the blob service and the container at once.
    Plane("azure-mgmt-rg", "arm", ("blob-soft-delete", "immutability-policy")),
]}

# fault -> what the reason must say (per plane where it differs).
# "after N attempts": how many fit before the deadline depends on the machine's speed.
HTTP_FAULTS: dict[str, dict[str, tuple[str, ...]]] = {
    "500": {"*": ("server error", "HTTP 500", "attempts")},
    "503": {"*": ("server error", "HTTP 503", "attempts")},
    # A load balancer's HTML error page: still a retried server error, not a malformed answer.
    "502html": {"*": ("server error", "HTTP 502", "attempts")},
    # The service's own "back off" (GCS: 503 rateLimitExceeded; Azure: 503 ServerBusy).
    "slowdown": {"gcs": ("server error", "HTTP 503", "Retry-After 1 s", "attempts"),
                 "*": ("throttled", "ServerBusy", "Retry-After 1 s", "attempts")},
    "429": {"*": ("throttled", "HTTP 429", "Retry-After 1 s", "attempts")},
    # A Retry-After past the deadline: give up at once rather than sleep past --timeout.
    "429-long": {"*": ("throttled", "HTTP 429", "Retry-After 30 s")},
    "garbage": {"gcs": ("malformed answer", "not valid JSON"),
                "azure-data": ("malformed answer", "not well-formed XML"),
                "*": ("malformed answer", "not valid JSON")},
    "html": {"*": ("malformed answer", "an HTML page")},
    "truncated": {"*": ("truncated",)},
    "wrongdoc": {"gcs": ("malformed answer", "not a GCS bucket resource"),
                 "azure-data": ("malformed answer", "not the blob service properties"),
                 "*": ("malformed answer", "not an Azure resource or list")},
    "redirect": {"*": ("unexpected redirect (HTTP 302)", "not followed")},
    "slow": {"*": (f"within {TIMEOUT:g} s",)},
}
NETWORK_FAULTS: dict[str, dict[str, tuple[str, ...]]] = {
    "refused": {"*": ("could not connect",)},
    "dns": {"*": ("DNS lookup failed", "gccheck-test.invalid")},
    "tls": {"*": ("TLS handshake", "failed")},
    "silent": {"*": (f"within {TIMEOUT:g} s",)},
}
FAULTS = {**HTTP_FAULTS, **NETWORK_FAULTS}
CASES = [f"{plane}/{fault}" for plane in PLANES for fault in FAULTS]
RETRIED = ("500", "503", "502html", "429", "slowdown")


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str
    elapsed: float
    requests: list[tuple[str, str]]  # what the fault server received
    times: list[float]


@contextmanager
def _endpoint(plane: Plane, fault: str, tls_dir: Path) -> Iterator[tuple[str, str | None, Any]]:
    """(endpoint URL, CA to trust or None, the fault server or None) for one case."""
    if fault in HTTP_FAULTS:
        mode, retry_after = ("429", "30") if fault == "429-long" else (fault, "1")
        with fault_server(mode, delay=TIMEOUT + 3, flavor=plane.flavor, retry_after=retry_after,
                          tls_dir=tls_dir if plane.flavor == "arm" else None) as server:
            yield server.url, server.ca_path, server
    elif fault == "tls":  # HTTPS with a certificate from a CA nobody trusts
        with fault_server("500", flavor=plane.flavor, tls_dir=tls_dir) as server:
            yield server.url, None, server
    elif fault == "refused":
        yield f"https://127.0.0.1:{closed_port()}", None, None
    elif fault == "dns":
        yield "https://gccheck-test.invalid:9443", None, None
    elif fault == "silent":
        with silent_port() as port:
            yield f"https://127.0.0.1:{port}", None, None
    else:
        raise AssertionError(fault)


def run_case(case: str, tmp: Path) -> Outcome:
    plane_name, fault = case.split("/")
    plane = PLANES[plane_name]
    home = tmp / case.replace("/", "-")
    home.mkdir(parents=True, exist_ok=True)
    with _endpoint(plane, fault, home) as (endpoint, ca_path, server):
        started = time.monotonic()
        run = run_gccheck("check", "--hosting", "on-prem", "--format", "json", "--timeout",
                          str(TIMEOUT), *plane.args(endpoint),
                          env=plane.env(endpoint, ca_path, home))
        elapsed = time.monotonic() - started
        requests = list(server.requests) if server else []
        times = list(server.times) if server else []
    return Outcome(run.code, run.out, run.err, elapsed, requests, times)


@pytest.fixture(scope="module")
def outcomes(request: pytest.FixtureRequest,
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Run every selected case up front, WORKERS at a time."""
    selected = [item.callspec.params["case"] for item in request.session.items
                if item.module is request.module and hasattr(item, "callspec")
                and "case" in item.callspec.params]
    tmp = tmp_path_factory.mktemp("faults")
    with ThreadPoolExecutor(WORKERS) as pool:
        futures = {case: pool.submit(run_case, case, tmp) for case in dict.fromkeys(selected)}
        return {case: future.result() for case, future in futures.items()}


def expected_words(plane: str, fault: str) -> tuple[str, ...]:
    words = FAULTS[fault]
    return words.get(plane, words["*"])


@pytest.mark.parametrize("case", CASES)
def test_fault_ends_unknown_with_its_reason(case: str, outcomes: dict[str, Outcome]) -> None:
    plane_name, fault = case.split("/")
    plane = PLANES[plane_name]
    got = outcomes[case]
    assert "Traceback" not in got.err, got.err
    assert got.code == 3, (got.code, got.err)
    results = {r["id"]: r for r in json.loads(got.out)["targets"][0]["results"]}
    for rid in plane.results:
        assert results.get(rid, {}).get("status") == "unknown", results
    summary = results[plane.results[0]]["summary"]
    for word in expected_words(plane_name, fault):
        assert word in summary, (word, summary)
    if fault in RETRIED:
        attempts = re.search(r"after (\d) attempts", summary)
        assert attempts and 2 <= int(attempts.group(1)) <= MAX_ATTEMPTS, summary
    assert got.elapsed < BOUND, got.elapsed
    # Reads only, even when the answers are strange.
    assert {method for method, _ in got.requests} <= {"GET", "HEAD"}, got.requests


@pytest.mark.parametrize("case", [c for c in CASES if c.split("/")[1] in ("500", "503", "502html")])
def test_server_errors_are_retried_a_bounded_number_of_times(
        case: str, outcomes: dict[str, Outcome]) -> None:
    per_call = Counter(path for _, path in outcomes[case].requests)
    assert per_call, "the fault server was never asked"
    for path, count in per_call.items():
        assert 1 < count <= MAX_ATTEMPTS, (path, count)


@pytest.mark.parametrize("case", [c for c in CASES if c.split("/")[1] in ("429", "slowdown")])
def test_throttling_waits_for_retry_after_within_the_deadline(
        case: str, outcomes: dict[str, Outcome]) -> None:
    got = outcomes[case]
    by_call: dict[str, list[float]] = {}
    for (_, path), when in zip(got.requests, got.times, strict=True):
        by_call.setdefault(path, []).append(when)
    assert by_call, "the fault server was never asked"
    first = min(got.times)
    assert any(len(times) >= 2 for times in by_call.values()), by_call
    for path, times in by_call.items():
        assert len(times) <= MAX_ATTEMPTS, (path, len(times))
        if len(times) == 1:
            # A call made after the others' retries (the data plane asks one thing after
            # another) may have no room left for a retry after Retry-After: 1: then it must
            # have started within about a second of the deadline (which starts just before
            # the first request), not been given up on early.
            assert times[0] - first >= TIMEOUT - 1.5, (path, times[0] - first)
            continue
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        assert min(gaps) >= 0.9, f"Retry-After: 1 was not honoured: {gaps}"
        assert times[-1] - first < TIMEOUT


@pytest.mark.parametrize("case", [c for c in CASES if c.split("/")[1] in ("429-long", "redirect")])
def test_no_retry_past_the_deadline_and_no_redirect_followed(
        case: str, outcomes: dict[str, Outcome]) -> None:
    got = outcomes[case]
    per_call = Counter(path for _, path in got.requests)
    assert per_call and set(per_call.values()) == {1}, per_call
    # Giving up on a 30 s Retry-After is immediate, not a wait until the deadline.
    assert got.elapsed < TIMEOUT + STARTUP - 1


# ---- the deadline itself, without CLI start-up ------------------------------------------------


def _probe(plane: str, endpoint: str, timeout: float, ca_path: str | None) -> Any:
    """Run one plane's probe in this process (no CLI start-up in the measurement)."""
    from gccheck.probes import azure, gcs

    if plane == "gcs":
        settings = Settings("test", {"STORAGE_EMULATOR_HOST": Setting(
            "STORAGE_EMULATOR_HOST", endpoint, "test")})
        return gcs.Probe().probe(parse_bucket_url("gs://wandb-faults"), settings,
                                 ProbeOptions(timeout=timeout))
    options: dict[str, Any] = {"timeout": timeout}
    url = "az://acct/wandb"
    if plane == "azure-data":
        options["azure_blob_endpoint"] = endpoint
        url = f"az://:{quote(KEY, safe='')}@acct/wandb"
    else:
        options.update(azure_plane="mgmt", azure_subscription=SUBSCRIPTION,
                       azure_arm_endpoint=endpoint)
        if plane == "azure-mgmt-rg":
            options["azure_resource_group"] = "rg-wandb"
    probe = azure.Probe(credential=StaticToken(), verify=ca_path or True)
    return probe.probe(parse_bucket_url(url), Settings("test", {}), ProbeOptions(**options))


@pytest.mark.parametrize("plane", PLANES)
def test_the_probe_returns_at_its_deadline(plane: str, tmp_path: Path) -> None:
    """A silent endpoint, and one whose 500s come slowly (so that a retry would end past the
    deadline), cost the probe --timeout at most."""
    timeout = 1.0
    tls_dir = tmp_path if PLANES[plane].flavor == "arm" else None
    for fault in ("silent", "slow 500s"):
        with ExitStack() as stack:
            if fault == "silent":
                port = stack.enter_context(silent_port())
                endpoint, ca_path = f"https://127.0.0.1:{port}", None
            else:
                server = stack.enter_context(fault_server(
                    "slow", delay=0.6, flavor=PLANES[plane].flavor, tls_dir=tls_dir))
                endpoint, ca_path = server.url, server.ca_path
            started = time.monotonic()
            facts = _probe(plane, endpoint, timeout, ca_path)
            elapsed = time.monotonic() - started
        fact = facts.versioning if plane == "gcs" else facts.blob_soft_delete
        assert isinstance(fact, Unavailable), fact
        assert fact.kind in (UnavailableKind.TIMEOUT, UnavailableKind.UNREACHABLE), fact
        assert elapsed < timeout + 0.5, (fault, elapsed)


# ---- in an audit, the other deployments are unaffected ----------------------------------------------


def test_faulty_deployments_do_not_change_or_delay_a_healthy_one(tmp_path: Path) -> None:
    from support.cloud_servers import gcs_emulator

    with ExitStack() as stack:
        gcs = stack.enter_context(gcs_emulator())
        healthy = gcs.bucket("wandb-healthy", versioning={"enabled": True})
        port = stack.enter_context(silent_port())
        busy = stack.enter_context(fault_server("503", flavor="azure"))
        slow_arm = stack.enter_context(fault_server("slow", delay=TIMEOUT + 3, flavor="arm",
                                                    tls_dir=tmp_path))
        fleet = {"defaults": {"hosting": "on-prem", "timeout": TIMEOUT, "env": GC_ON},
                 "deployments": [
                     {"name": "healthy", "bucket": f"gs://{healthy}",
                      "env": {"STORAGE_EMULATOR_HOST": gcs.endpoint}},
                     {"name": "gcs-silent", "bucket": "gs://wandb-faults",
                      "env": {"STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{port}"}},
                     {"name": "azure-busy", "bucket": f"az://:{quote(KEY, safe='')}@acct/wandb",
                      "azure-blob-endpoint": busy.url},
                     {"name": "azure-slow-arm", "bucket": "az://acct/wandb",
                      "azure-plane": "mgmt", "azure-subscription": SUBSCRIPTION,
                      "azure-resource-group": "rg-wandb", "azure-arm-endpoint": slow_arm.url}]}
        path = tmp_path / "fleet.yaml"
        path.write_text(json.dumps(fleet))
        started = time.monotonic()
        run = run_gccheck("audit", str(path), "--format", "json", "--quiet",
                          env={**fake_azure_cli(tmp_path / "az"),
                               "REQUESTS_CA_BUNDLE": str(slow_arm.ca_path)})
        elapsed = time.monotonic() - started
    assert "Traceback" not in run.err, run.err
    assert run.code == 3, run  # the worst deployment: unknown
    targets = {t["name"]: {r["id"]: r for r in t["results"]}
               for t in json.loads(run.out)["targets"]}
    assert targets["healthy"]["bucket-versioning"]["status"] == "pass"
    assert f"within {TIMEOUT:g} s" in targets["gcs-silent"]["bucket-versioning"]["summary"]
    assert "server error" in targets["azure-busy"]["blob-soft-delete"]["summary"]
    assert f"within {TIMEOUT:g} s" in targets["azure-slow-arm"]["blob-soft-delete"]["summary"]
    # Concurrently: the whole audit takes one deadline, not one per faulty deployment.
    assert elapsed < BOUND, elapsed
