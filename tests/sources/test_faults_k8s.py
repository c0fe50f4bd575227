"""Kubernetes API faults from real local servers, through the real `kubernetes` client.

`check --workload`: every fault ends in exit code 2 with one specific line (nothing can be judged
without the workload), or in exit code 3 with the affected value `unknown` when the workload was
read and only a ConfigMap/Secret failed; within --timeout plus start-up, with no traceback.
`audit`: the faulty deployments are `unknown` with the same reason, the others unaffected.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from support.constants import NONCURRENT_RULE
from support.faults import endless, fault_server, scripted_server
from support.k8s_api import KubeServer, config_map, deployment, write_kubeconfig
from support.ports import closed_port
from support.run import Run, run_gccheck
from support.s3 import S3Server, make_bucket

TIMEOUT = 1.5
BOUND = TIMEOUT + 3  # --timeout, plus the client's start-up (in-process: no interpreter start)
GC = "GORILLA_ARTIFACT_GC_ENABLED"
WORKLOAD = "wandb/deployment/wandb-app"
# mode of tests/support/faults.py -> what the one line must say
FAULTS = {
    "500": "server error from the Kubernetes API at {url} (HTTP 500 Internal Server Error) "
           "after 3 attempts",
    "503": "server error from the Kubernetes API at {url} (HTTP 503 Service Unavailable) "
           "after 3 attempts",
    "slowdown": "(HTTP 503 Service Unavailable, Retry-After 0.3 s) after 3 attempts",
    "502html": "(HTTP 502 Bad Gateway) after 3 attempts",
    "429": "throttled by the Kubernetes API at {url} (HTTP 429, Retry-After 0.3 s) after 3 "
           "attempts",
    "garbage": "malformed answer from the Kubernetes API at {url}: expected a Deployment as "
               "JSON, got a body that is not JSON (36 bytes)",
    "html": "malformed answer from the Kubernetes API at {url}: an HTML page, not the API's "
            "answer",
    "truncated": "truncated answer from the Kubernetes API at {url} (the connection broke "
                 "mid-body)",
    "wrongdoc": "malformed answer from the Kubernetes API at {url}: expected a Deployment, got "
                "JSON without a kind",
    "redirect": "unexpected redirect (HTTP 302 to http://elsewhere.invalid) from the Kubernetes "
                "API at {url}, not followed",
    "slow": "no answer from the Kubernetes API at {url} within 1.5 s",
}


# In-process runs share the root logger (conftest.fresh_logging).
pytestmark = pytest.mark.usefixtures("fresh_logging")


def kubeconfig_for(tmp_path: Path, url: str, name: str = "kc",
                   ca: str | None = None) -> Path:
    path = write_kubeconfig(tmp_path / name, url)
    if ca:
        path.write_text(path.read_text().replace(f"server: {url}",
                                                  f"server: {url}\n    certificate-authority: {ca}"))
    return path


def check(run: Callable[..., Run], kubeconfig: Path, workload: str = WORKLOAD,
          timeout: float = TIMEOUT) -> tuple[Run, float]:
    start_time = time.monotonic()
    result = run("check", "--hosting", "on-prem", "--workload", workload, "--kubeconfig",
                 str(kubeconfig), "--timeout", str(timeout), "--format", "json")
    return result, time.monotonic() - start_time


def one_line_error(result: Run, reason: str) -> None:
    assert result.code == 2, (result.out, result.err)
    assert result.out == ""
    assert result.err.count("\n") == 1 and result.err.startswith("gccheck: error: "), result.err
    assert "Traceback" not in result.err
    assert reason in result.err, result.err


# ---- check: the API endpoint misbehaves ------------------------------------------------------


@pytest.mark.parametrize("mode", sorted(FAULTS))
def test_check_fault_is_one_specific_line(tmp_path: Path, gccheck_inproc: Any, mode: str) -> None:
    with fault_server(mode, delay=TIMEOUT + 2, flavor="k8s", retry_after="0.3") as server:
        result, elapsed = check(gccheck_inproc, kubeconfig_for(tmp_path, server.url))
        requests = list(server.requests)
    one_line_error(result, FAULTS[mode].format(url=server.url))
    assert elapsed < BOUND
    assert requests and all(method == "GET" for method, _ in requests)
    # Retried only where a retry can help, and never more than 3 times.
    retried = mode in ("500", "503", "slowdown", "502html", "429")
    assert len(requests) == (3 if retried else 1), requests


def test_retries_wait_and_honour_retry_after(tmp_path: Path, gccheck_inproc: Any) -> None:
    with fault_server("429", flavor="k8s", retry_after="0.8") as server:
        result, elapsed = check(gccheck_inproc, kubeconfig_for(tmp_path, server.url))
        times = list(server.times)
    one_line_error(result, "(HTTP 429, Retry-After 0.8 s) after 2 attempts")
    # 0.8 s asked for; a third attempt would come after --timeout 1.5: it stops and says so.
    assert len(times) == 2 and times[1] - times[0] >= 0.8
    assert elapsed < TIMEOUT + 1


def test_retry_after_beyond_the_timeout_is_not_waited_for(tmp_path: Path,
                                                         gccheck_inproc: Any) -> None:
    with fault_server("429", flavor="k8s", retry_after="120") as server:
        result, elapsed = check(gccheck_inproc, kubeconfig_for(tmp_path, server.url))
        count = len(server.requests)
    one_line_error(result, "throttled by the Kubernetes API")
    assert "Retry-After 120 s" in result.err and "attempts" not in result.err
    assert count == 1 and elapsed < 1


def test_auto_lists_are_retried_and_bounded_too(tmp_path: Path, gccheck_inproc: Any) -> None:
    with fault_server("503", flavor="k8s", retry_after="0.1") as server:
        result, elapsed = check(gccheck_inproc, kubeconfig_for(tmp_path, server.url), "auto")
        paths = [path for _, path in server.requests]
    one_line_error(result, "--workload auto: cannot list deployments in namespace wandb: server "
                           "error from the Kubernetes API")
    assert len(paths) == 3 and all("/deployments?labelSelector=" in p for p in paths)
    assert elapsed < BOUND


def test_tls_failure(tmp_path: Path, gccheck_inproc: Any) -> None:
    with fault_server("500", tls_dir=tmp_path, flavor="k8s") as server:
        result, elapsed = check(gccheck_inproc, kubeconfig_for(tmp_path, server.url))
        assert server.ca_path is not None
        # The same server with its CA trusted is reached: the failure was the certificate.
        trusted, _ = check(gccheck_inproc, kubeconfig_for(tmp_path, server.url, "trusted",
                                                          ca=server.ca_path))
    one_line_error(result, f"TLS handshake with the Kubernetes API at {server.url} failed "
                           "(certificate not trusted?)")
    assert elapsed < BOUND
    one_line_error(trusted, "HTTP 500 Internal Server Error")


def test_connection_refused_and_unresolvable_host(tmp_path: Path, gccheck_inproc: Any) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    result, elapsed = check(gccheck_inproc, kubeconfig_for(tmp_path, url))
    one_line_error(result, f"could not connect to the Kubernetes API at {url}")
    assert elapsed < 1
    result, elapsed = check(gccheck_inproc,
                            kubeconfig_for(tmp_path, "https://gccheck-test.invalid:6443"))
    one_line_error(result, "DNS lookup failed for the Kubernetes API at "
                           "https://gccheck-test.invalid:6443")
    assert elapsed < BOUND


def test_accepts_and_never_answers(tmp_path: Path, gccheck_inproc: Any,
                                   silent_server: tuple[str, int]) -> None:
    host, port = silent_server
    url = f"http://{host}:{port}"
    result, elapsed = check(gccheck_inproc, kubeconfig_for(tmp_path, url))
    one_line_error(result, f"no answer from the Kubernetes API at {url} within 1.5 s")
    assert TIMEOUT - 0.1 < elapsed < BOUND
    result, elapsed = check(gccheck_inproc, kubeconfig_for(tmp_path, url), "auto")
    one_line_error(result, "within 1.5 s")
    assert elapsed < BOUND


def test_real_cli_no_traceback(tmp_path: Path) -> None:
    """The same through the installed entry point, in a fresh process."""
    with fault_server("garbage", flavor="k8s") as server:
        result = run_gccheck("check", "--hosting", "on-prem", "--workload", "auto",
                             "--kubeconfig", str(kubeconfig_for(tmp_path, server.url)),
                             "--timeout", str(TIMEOUT), "--debug")
    assert result.code == 2
    assert "Traceback" not in result.err
    assert result.err.splitlines()[-1].startswith("gccheck: error: malformed answer from the "
                                                  "Kubernetes API")


# ---- check: the workload was read, a ConfigMap or Secret fails ----------------------------------


def _app_reading_a_config_map(kube: KubeServer) -> None:
    kube.api.add(config_map("wandb-flags", {GC: "true"}))
    kube.api.add(deployment("wandb-app", containers=[{"name": "app", "env": [
        {"name": GC, "valueFrom": {"configMapKeyRef": {"name": "wandb-flags", "key": GC}}}]}]))


@pytest.mark.parametrize("status, reason", [
    (503, "cannot read ConfigMap wandb/wandb-flags: server error from the Kubernetes API at "
          "{url} (HTTP 503 Service Unavailable, Retry-After 0.1 s) after 3 attempts"),
    (429, "cannot read ConfigMap wandb/wandb-flags: throttled by the Kubernetes API at {url} "
          "(HTTP 429, Retry-After 0.1 s) after 3 attempts"),
])
def test_failing_config_map_makes_its_value_unknown(tmp_path: Path, gccheck_inproc: Any,
                                                    kube: KubeServer, status: int,
                                                    reason: str) -> None:
    _app_reading_a_config_map(kube)
    kube.api.failures["configmaps"] = status
    kube.api.retry_after = "0.1"
    # A longer --timeout: on a loaded machine all 3 attempts must still fit (a retry is not
    # made when its wait would pass the deadline, and the reason would then say 2 attempts).
    result, elapsed = check(gccheck_inproc, kubeconfig_for(tmp_path, kube.url), timeout=6)
    assert result.code == 3, result.err
    gc = {r["id"]: r for r in json.loads(result.out)["targets"][0]["results"]}["gc-env-var"]
    assert gc["status"] == "unknown"
    assert reason.format(url=kube.url) in json.dumps(gc), gc
    assert kube.api.operations().count("get configmaps") == 3
    assert elapsed < 6 + 3


def test_config_map_slower_than_the_timeout_is_unknown(tmp_path: Path, gccheck_inproc: Any,
                                                       kube: KubeServer) -> None:
    _app_reading_a_config_map(kube)
    kube.api.delay = 0.9  # the workload arrives in time, its ConfigMap does not
    result, elapsed = check(gccheck_inproc, kubeconfig_for(tmp_path, kube.url))
    assert result.code == 3, result.err
    gc = {r["id"]: r for r in json.loads(result.out)["targets"][0]["results"]}["gc-env-var"]
    assert gc["status"] == "unknown" and "within 1.5 s" in json.dumps(gc)
    assert elapsed < BOUND


# ---- audit: faulty clusters are unknown, the others are not affected ---------------------------


def test_audit_faulty_clusters_are_unknown_others_unaffected(
        tmp_path: Path, moto_server: S3Server, kube: KubeServer,
        silent_server: tuple[str, int]) -> None:
    versioned = make_bucket(moto_server, "Enabled", lifecycle=[NONCURRENT_RULE])
    kube.api.add(deployment("wandb-app", containers=[{"name": "app", "env": [
        {"name": GC, "value": "true"}, {"name": "BUCKET", "value": moto_server.url(versioned)}]}]))
    modes = ["500", "429", "garbage", "truncated", "redirect", "slow"]
    expected: dict[str, str] = {}
    entries: list[dict[str, Any]] = [
        {"name": "healthy-live", "workload": WORKLOAD,
         "kubeconfig": str(kubeconfig_for(tmp_path, kube.url, "healthy"))},
        {"name": "inline", "bucket": moto_server.url(versioned), "env": {GC: "true"}}]
    with ExitStack() as stack:
        tls = stack.enter_context(fault_server("500", tls_dir=tmp_path, flavor="k8s"))
        servers = [stack.enter_context(fault_server(m, delay=TIMEOUT + 2, flavor="k8s"))
                   for m in modes]
        for mode, server in zip(modes, servers, strict=True):
            entries.append({"name": f"fault-{mode}", "workload": WORKLOAD,
                            "kubeconfig": str(kubeconfig_for(tmp_path, server.url, mode))})
            # This server asks for 1 s: how many attempts fit in 1.5 s depends on the load.
            expected[f"fault-{mode}"] = FAULTS[mode].format(url=server.url).replace(
                "Retry-After 0.3 s) after 3 attempts", "Retry-After 1 s)")
        others = {"refused": f"http://127.0.0.1:{closed_port()}", "tls": tls.url,
                  "dns": "http://gccheck-test.invalid:6443",
                  "silent": "http://{}:{}".format(*silent_server)}
        reasons = {"refused": "could not connect to {}", "tls": "TLS handshake with {} failed",
                   "dns": "DNS lookup failed for {}", "silent": "no answer from {} within 1.5 s"}
        for label, url in others.items():
            entries.append({"name": f"fault-{label}", "workload": "auto",
                            "kubeconfig": str(kubeconfig_for(tmp_path, url, label))})
            expected[f"fault-{label}"] = reasons[label].format(f"the Kubernetes API at {url}")
        fleet = tmp_path / "fleet.yaml"
        fleet.write_text(json.dumps({"defaults": {"hosting": "on-prem", "timeout": TIMEOUT},
                                     "deployments": entries}))
        started = time.monotonic()
        result = run_gccheck("audit", str(fleet), "--format", "json", "--debug")
        elapsed = time.monotonic() - started
    assert result.code == 3, result.err
    assert "Traceback" not in result.err
    targets = {t["name"]: {r["id"]: r for r in t["results"]} for t in
               json.loads(result.out)["targets"]}
    for name in ("healthy-live", "inline"):
        assert {r["status"] for r in targets[name].values()} <= {"pass", "not-required"}, name
        assert targets[name]["bucket-versioning"]["status"] == "pass"
    for name, reason in expected.items():
        gc = targets[name]["gc-env-var"]
        assert gc["status"] == "unknown", (name, gc)
        assert gc["summary"] == f"settings could not be read: {reason}" or (
            reason in gc["summary"]), (name, gc["summary"], reason)
    # All at once: the slowest fault sets the pace, nobody waits for another.
    assert elapsed < 2 * TIMEOUT + 6



# ---- hostile bodies: endless, or longer than any Kubernetes object (issue 15, item 8) -----------

TOO_LARGE = "an answer over 4 MB, longer than any Kubernetes object (refused unread)"
JSON = {"Content-Type": "application/json"}


class Counted:
    """A body's chunks, counting the bytes the server managed to send."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.chunks, self.sent = chunks, 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            yield chunk
            self.sent += len(chunk)


def _hostile(body: str) -> tuple[int, dict[str, str], bytes | Iterable[bytes]]:
    """A ConfigMap answer: endless (as a 200 or a 503), or a valid one of 5 MB, with or
    without its length declared."""
    huge = json.dumps(config_map("wandb-flags", {GC: "true", "pad": "x" * (5 << 20)})).encode()
    if body == "endless":
        return 200, JSON, Counted(endless())
    if body == "endless-503":
        return 503, JSON, Counted(endless())
    if body == "huge":
        return 200, JSON, huge
    return 200, JSON, Counted([huge[i:i + 65536] for i in range(0, len(huge), 65536)])


@pytest.mark.parametrize("body", ["endless", "endless-503", "huge", "huge-undeclared"])
def test_config_map_with_a_hostile_body_is_unknown_within_the_timeout(
        tmp_path: Path, gccheck_inproc: Any, body: str) -> None:
    app = deployment("wandb-app", containers=[{"name": "app", "env": [
        {"name": GC, "valueFrom": {"configMapKeyRef": {"name": "wandb-flags", "key": GC}}}]}])
    answers: list[Any] = []

    def script(method: str, path: str, _: dict[str, str]) -> Any:
        if "/configmaps/" not in path:
            return 200, JSON, json.dumps(app).encode()
        answers.append(_hostile(body))
        return answers[-1]

    with scripted_server(script) as server:
        result, elapsed = check(gccheck_inproc, kubeconfig_for(tmp_path, server.url))
    assert result.code == 3, result.err
    gc = {r["id"]: r for r in json.loads(result.out)["targets"][0]["results"]}["gc-env-var"]
    assert gc["status"] == "unknown", gc
    assert (f"malformed answer from the Kubernetes API at {server.url}: {TOO_LARGE}"
            in json.dumps(gc)), gc
    assert elapsed < BOUND
    # Refused after the first few MB (socket buffers aside), not read to the end: the endless
    # bodies stop by themselves only after 512 MB.
    assert all(getattr(b, "sent", 0) < 64 << 20 for _, _, b in answers), answers


def test_workload_with_an_endless_body_is_one_line_within_the_timeout(
        tmp_path: Path, gccheck_inproc: Any) -> None:
    bodies: list[Counted] = []

    def script(method: str, path: str, _: dict[str, str]) -> Any:
        bodies.append(Counted(endless()))
        return 200, JSON, bodies[-1]

    with scripted_server(script) as server:
        result, elapsed = check(gccheck_inproc, kubeconfig_for(tmp_path, server.url))
    one_line_error(result, f"malformed answer from the Kubernetes API at {server.url}: "
                           f"{TOO_LARGE}")
    assert elapsed < BOUND
    assert len(bodies) == 1 and bodies[0].sent < 64 << 20


def test_config_map_sent_a_byte_at_a_time_is_unknown_at_the_timeout(
        tmp_path: Path, gccheck_inproc: Any) -> None:
    """Each byte comes well within the socket's timeout; the whole answer would take 8 s."""
    app = deployment("wandb-app", containers=[{"name": "app", "env": [
        {"name": GC, "valueFrom": {"configMapKeyRef": {"name": "wandb-flags", "key": GC}}}]}])
    flags = json.dumps(config_map("wandb-flags", {GC: "true"})).encode()
    flags = flags[:-1] + b" " * (160 - len(flags)) + b"}"

    def drip() -> Iterator[bytes]:
        for index in range(len(flags)):
            time.sleep(0.05)
            yield flags[index:index + 1]

    def script(method: str, path: str, _: dict[str, str]) -> Any:
        if "/configmaps/" not in path:
            return 200, JSON, json.dumps(app).encode()
        return 200, JSON, drip()

    with scripted_server(script) as server:
        result, elapsed = check(gccheck_inproc, kubeconfig_for(tmp_path, server.url))
    assert result.code == 3, result.err
    gc = {r["id"]: r for r in json.loads(result.out)["targets"][0]["results"]}["gc-env-var"]
    assert gc["status"] == "unknown", gc
    assert f"no answer from the Kubernetes API at {server.url} within 1.5 s" in json.dumps(gc)
    assert elapsed < BOUND


# ---- the kubeconfig's exec credential plugin ---------------------------------------------------


def _exec_kubeconfig(tmp_path: Path, url: str, script: str) -> Path:
    """A kubeconfig whose user gets its token from an exec plugin running `script`."""
    import sys

    import yaml

    path = kubeconfig_for(tmp_path, url)
    config = yaml.safe_load(path.read_text())
    config["users"][0]["user"] = {"exec": {
        "apiVersion": "client.authentication.k8s.io/v1beta1", "command": sys.executable,
        "args": ["-c", script], "interactiveMode": "Never"}}
    path.write_text(yaml.safe_dump(config))
    return path


def test_exec_plugin_token_is_used(tmp_path: Path, gccheck_inproc: Any, kube: KubeServer) -> None:
    kube.api.add(deployment("wandb-app", containers=[{"name": "app", "env": [
        {"name": GC, "value": "true"}]}]))
    credential = json.dumps({"apiVersion": "client.authentication.k8s.io/v1beta1",
                             "kind": "ExecCredential", "status": {"token": kube.api.token}})
    result, _ = check(gccheck_inproc, _exec_kubeconfig(tmp_path, kube.url,
                                                       f"print({credential!r})"))
    assert result.code == 3, result.err  # read; only the bucket is unknown (none given)
    gc = next(r for r in json.loads(result.out)["targets"][0]["results"]
              if r["id"] == "gc-env-var")
    assert gc["status"] == "pass"


def test_exec_plugin_that_hangs_is_given_up_on_at_the_timeout(tmp_path: Path, gccheck_inproc: Any,
                                                              kube: KubeServer) -> None:
    # A plugin waiting for a login that never comes (it would sleep on for 8 s).
    result, elapsed = check(gccheck_inproc, _exec_kubeconfig(tmp_path, kube.url,
                                                             "import time; time.sleep(8)"))
    one_line_error(result, "kubeconfig: its credentials were not ready within 1.5 s (an exec "
                           "plugin or token refresh waiting for a login or the network?")
    assert elapsed < BOUND
    assert list(kube.api.requests) == []


# ---- a proxy from the shell (issue 15, item 1) ------------------------------------------------


def test_the_shells_proxy_is_named_with_the_api_server(tmp_path: Path) -> None:
    """The kubernetes client sends the kubeconfig's token through HTTP(S)_PROXY: every message
    names the proxy beside the API server (the server's name does not resolve: only the proxy
    can answer)."""
    api = "http://k8s.internal.example:6443"
    with fault_server("500", flavor="k8s", retry_after="0.1") as proxy:
        result = run_gccheck("check", "--hosting", "on-prem", "--workload", WORKLOAD,
                             "--kubeconfig", str(kubeconfig_for(tmp_path, api)),
                             "--timeout", "5", "--format", "json",
                             env={"HTTP_PROXY": proxy.url.replace("http://", "http://u:pw9@")})
        paths = [path for _, path in proxy.requests]
    one_line_error(result, f"server error from the Kubernetes API at {api} via proxy "
                           f"http://***:***@{proxy.url[7:]} (HTTP_PROXY) (HTTP 500")
    assert paths and all(path.startswith(api) for path in paths), paths
    assert "pw9" not in result.err


def test_no_proxy_covering_the_api_server_names_no_proxy(tmp_path: Path) -> None:
    with fault_server("500", flavor="k8s", retry_after="0.1") as server, \
            fault_server("500", flavor="k8s") as proxy:
        result = run_gccheck("check", "--hosting", "on-prem", "--workload", WORKLOAD,
                             "--kubeconfig", str(kubeconfig_for(tmp_path, server.url)),
                             "--timeout", "5", "--format", "json",
                             env={"HTTP_PROXY": proxy.url, "NO_PROXY": "127.0.0.0/8"})
        proxied = list(proxy.requests)
    one_line_error(result, f"server error from the Kubernetes API at {server.url} (HTTP 500")
    assert proxied == [] and "via proxy" not in result.err


def test_a_kubeconfig_proxy_url_is_named(tmp_path: Path, gccheck_inproc: Any) -> None:
    api = "http://k8s.internal.example:6443"
    with fault_server("500", flavor="k8s", retry_after="0.1") as proxy:
        kubeconfig = kubeconfig_for(tmp_path, api)
        kubeconfig.write_text(kubeconfig.read_text().replace(
            f"server: {api}", f"server: {api}\n    proxy-url: {proxy.url}"))
        result, _ = check(gccheck_inproc, kubeconfig)
        paths = [path for _, path in proxy.requests]
    one_line_error(result, f"the Kubernetes API at {api} via proxy {proxy.url} (proxy-url in "
                           "the kubeconfig)")
    assert paths and all(path.startswith(api) for path in paths), paths
