"""Read-only, proven for Kubernetes: every request gccheck sends to the API server during
`check --workload NS/KIND/NAME`, `check --workload auto` and an `audit` with workload entries is
recorded by the (local) API server itself. Each must be a GET that RBAC authorizes as `get` or
`list` (a `watch` is a GET too, and is not allowed), and the set of operations must be exactly
the one the README's Permissions table lists for Kubernetes, and the one the shipped Role
grants (policies/kubernetes-role.yaml)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from support.constants import REPO, TEST_KEY, TEST_SECRET
from support.k8s_api import KubeAPI, KubeServer, role_grants, start, wandb_install, write_kubeconfig
from support.recording_proxy import readme_operations
from support.run import run_gccheck
from support.s3 import S3Server, make_bucket

# What the code under test sends today; a new operation must be added here, to the README and,
# if it is needed, to the Role, which is the point of this test.
OPERATIONS = {"get deployments", "get statefulsets", "list deployments", "list statefulsets",
              "get configmaps", "get secrets"}


@pytest.fixture(scope="module")
def kube(moto_server: S3Server, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[KubeServer]:
    """The API server after gccheck's runs: its record holds every request they sent."""
    server = start(KubeAPI())
    wandb_install(server.api, f"{moto_server.host}:{moto_server.port}",
                  make_bucket(moto_server, "Enabled"), TEST_KEY, TEST_SECRET)
    try:
        run_everything(server, tmp_path_factory.mktemp("readonly-k8s"))
        yield server
    finally:
        server.stop()


def run_everything(kube: KubeServer, tmp_path: Path) -> None:
    """Run check (by name, a StatefulSet, auto in both namespaces) and an audit of the same."""
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", kube.url)
    workloads = ["wandb/deployment/wandb-app", "legacy/statefulset/wandb", "auto", "legacy/auto"]
    for workload in workloads:
        run = run_gccheck("check", "--hosting", "on-prem", "--workload", workload,
                          "--kubeconfig", str(kubeconfig), "--timeout", "10", "--format", "json")
        assert run.code == 0, (workload, run.out, run.err)
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(yaml.safe_dump({
        "defaults": {"hosting": "on-prem", "kubeconfig": "kubeconfig", "timeout": 10},
        "deployments": [{"name": f"d{i}", "workload": w} for i, w in enumerate(workloads)]}))
    run = run_gccheck("audit", str(fleet), "--format", "json", "--quiet")
    assert run.code == 0, (run.out, run.err)


def test_only_gets_and_lists_are_sent(kube: KubeServer) -> None:
    with kube.api.lock:
        calls = list(kube.api.calls)
    assert calls and all(method == "GET" for method, _ in calls), calls
    for _, path in calls:
        query = parse_qs(urlsplit(path).query)
        # A list carries a label selector and nothing else: no watch, no resourceVersion games.
        assert set(query) <= {"labelSelector"}, path
    assert set(kube.api.operations()) == OPERATIONS


def test_operations_are_the_ones_the_readme_lists(kube: KubeServer) -> None:
    seen = set(kube.api.operations())
    listed = readme_operations("Kubernetes")
    assert seen == listed, f"sent but not in README: {seen - listed}; listed but not sent: " \
                           f"{listed - seen}"
    # The shipped Role grants exactly what the README lists.
    role = role_grants(REPO / "policies" / "kubernetes-role.yaml")
    assert {f"{verb} {resource}" for verb, _, resource in role} == listed


def test_a_write_would_be_seen() -> None:
    """The recorder is not blind: a write reaches it and is named as one (and refused)."""
    import urllib.error
    import urllib.request

    kube = start(KubeAPI())
    request = urllib.request.Request(f"{kube.url}/api/v1/namespaces/wandb/configmaps/x",
                                     data=json.dumps({}).encode(), method="PATCH")
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 405
    finally:
        kube.stop()
    ops = kube.api.operations()
    assert ops == ["PATCH /api/v1/namespaces/wandb/configmaps/x"]
    assert not set(ops) <= OPERATIONS
