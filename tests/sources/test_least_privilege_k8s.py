"""Least privilege for Kubernetes, shipped and proven: policies/kubernetes-role.yaml.

The local API server enforces RBAC like kube-apiserver does (tests/support/k8s_api.py `allowed`): a
request whose (verb, API group, resource) the role does not grant gets the real 403 `Status`.
With exactly the shipped role, `check --workload` (by name, a StatefulSet, `auto`) and `audit`
give complete verdicts. Without any one grant, the runs that need it end in `unknown` for what
it would have read, or in one line naming the missing permission, and the others are unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import k8s_api
from support.constants import REPO, TEST_KEY, TEST_SECRET
from support.k8s_api import KubeAPI, KubeServer, start, wandb_install, write_kubeconfig
from support.run import Run
from support.s3 import S3Server, make_bucket

ROLE_FILE = REPO / "policies" / "kubernetes-role.yaml"
Grant = tuple[str, str, str]  # (verb, API group, resource)

# What each run reads; the namespace is the context's (wandb) unless the workload names one.
RUNS = {
    "deployment": "wandb/deployment/wandb-app",
    "statefulset": "legacy/sts/wandb",
    "auto": "wandb/auto",
}


# In-process runs share the root logger (conftest.fresh_logging).
pytestmark = pytest.mark.usefixtures("fresh_logging")


def role_grants() -> set[Grant]:
    return k8s_api.role_grants(ROLE_FILE)


def test_the_role_is_read_only_namespaced_and_bound() -> None:
    docs = [d for d in yaml.safe_load_all(ROLE_FILE.read_text()) if d]
    role = next(d for d in docs if d["kind"] == "Role")
    binding = next(d for d in docs if d["kind"] == "RoleBinding")
    assert {d["kind"] for d in docs} == {"Role", "RoleBinding"}  # no ClusterRole
    assert all(d["apiVersion"] == "rbac.authorization.k8s.io/v1" for d in docs)
    assert role["metadata"]["namespace"] == binding["metadata"]["namespace"] == "wandb"
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                  "name": role["metadata"]["name"]}
    assert binding["subjects"][0]["kind"] == "ServiceAccount"
    grants = role_grants()
    assert {verb for verb, _, _ in grants} <= {"get", "list"}
    assert "*" not in {item for grant in grants for item in grant}
    assert grants == {("get", "apps", "deployments"), ("list", "apps", "deployments"),
                      ("get", "apps", "statefulsets"), ("list", "apps", "statefulsets"),
                      ("get", "", "configmaps"), ("get", "", "secrets")}


@pytest.fixture(scope="module")
def bucket(moto_server: S3Server) -> str:
    return make_bucket(moto_server, "Enabled", lifecycle=[{
        "ID": "expire-noncurrent", "Status": "Enabled", "Filter": {},
        "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}])


@pytest.fixture
def kube(moto_server: S3Server, bucket: str) -> Iterator[KubeServer]:
    server = start(KubeAPI())
    wandb_install(server.api, f"{moto_server.host}:{moto_server.port}", bucket, TEST_KEY,
                  TEST_SECRET)
    try:
        yield server
    finally:
        server.stop()


def check(inproc: Any, kube: KubeServer, kubeconfig: Path, workload: str) -> Run:
    return inproc("check", "--hosting", "customer-managed-cloud", "--workload", workload,
                  "--kubeconfig", str(kubeconfig), "--timeout", "10", "--format", "json")


def results(run: Run) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in json.loads(run.out)["targets"][0]["results"]}


def test_exactly_the_role_gives_complete_verdicts(kube: KubeServer, tmp_path: Path,
                                                  gccheck_inproc: Any) -> None:
    kube.api.allowed = role_grants()
    kubeconfig = write_kubeconfig(tmp_path / "kc", kube.url)
    for label, workload in RUNS.items():
        run = check(gccheck_inproc, kube, kubeconfig, workload)
        assert run.code == 0, (label, run.out, run.err)
        statuses = {r["status"] for r in results(run).values()}
        assert statuses <= {"pass", "not-required"}, (label, statuses)
    # Nothing was refused along the way (a refused optional read would still be a gap).
    used = {op for op in kube.api.operations()}
    assert used == {f"{verb} {resource}" for verb, _, resource in role_grants()}


def test_exactly_the_role_in_an_audit(kube: KubeServer, tmp_path: Path,
                                      gccheck_inproc: Any) -> None:
    kube.api.allowed = role_grants()
    write_kubeconfig(tmp_path / "kc", kube.url)
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(yaml.safe_dump({
        "defaults": {"hosting": "customer-managed-cloud", "kubeconfig": "kc", "timeout": 10},
        "deployments": [{"name": label, "workload": workload}
                        for label, workload in RUNS.items()]}))
    run = gccheck_inproc("audit", str(fleet), "--format", "json", "-q")
    assert run.code == 0, (run.out, run.err)
    assert all(t["ready"] for t in json.loads(run.out)["targets"])


# Without each grant: what each run must then say. "ok" = unchanged (exit 0); a string = exit 2
# with that in its one line; ("unknown", check id, text) = exit 3, that result unknown saying it.
WITHOUT: dict[Grant, dict[str, Any]] = {
    ("get", "apps", "deployments"): {
        "deployment": "cannot read Deployment wandb/wandb-app: forbidden (needs 'get "
                      "deployments' in namespace wandb)",
        "statefulset": "ok", "auto": "ok"},
    ("get", "apps", "statefulsets"): {
        "deployment": "ok",
        "statefulset": "cannot read StatefulSet legacy/wandb: forbidden (needs 'get "
                       "statefulsets' in namespace legacy)",
        "auto": "ok"},
    ("list", "apps", "deployments"): {
        "deployment": "ok", "statefulset": "ok",
        "auto": "--workload auto: cannot list deployments in namespace wandb: forbidden (needs "
                "'list deployments')"},
    ("list", "apps", "statefulsets"): {
        "deployment": "ok", "statefulset": "ok",
        "auto": "--workload auto: cannot list statefulsets in namespace wandb: forbidden (needs "
                "'list statefulsets')"},
    ("get", "", "configmaps"): {
        run: ("unknown", "gc-env-var", "forbidden (needs 'get configmaps' in namespace {ns})")
        for run in RUNS},
    ("get", "", "secrets"): {
        run: ("unknown", "bucket-versioning",
              "forbidden (needs 'get secrets' in namespace {ns})")
        for run in RUNS},
}


@pytest.mark.parametrize("grant", sorted(WITHOUT), ids=lambda g: f"{g[0]}-{g[2]}")
def test_each_grant_is_needed(kube: KubeServer, tmp_path: Path, gccheck_inproc: Any,
                              grant: Grant) -> None:
    assert set(WITHOUT) == role_grants()  # every grant of the shipped role is tested here
    kube.api.allowed = role_grants() - {grant}
    kubeconfig = write_kubeconfig(tmp_path / "kc", kube.url)
    for label, workload in RUNS.items():
        expected = WITHOUT[grant][label]
        run = check(gccheck_inproc, kube, kubeconfig, workload)
        assert "Traceback" not in run.err
        if expected == "ok":
            assert run.code == 0, (label, run.err)
        elif isinstance(expected, str):
            assert run.code == 2, (label, run.out, run.err)
            assert run.err == f"gccheck: error: {expected}\n", (label, run.err)
        else:
            _, check_id, text = expected
            text = text.format(ns=workload.split("/")[0])
            assert run.code == 3, (label, run.out, run.err)
            report = json.loads(run.out)["targets"][0]
            result = {r["id"]: r for r in report["results"]}[check_id]
            assert result["status"] == "unknown", (label, result)
            # The reason is in the result, or in the note on where the bucket came from.
            said = json.dumps(result) + json.dumps(report.get("notes", []))
            assert text in said, (label, said)
            # Everything that does not depend on the missing read is still judged.
            others = {r["id"]: r["status"] for r in report["results"] if r["id"] != check_id
                      and r["kind"] == "requirement"}
            assert "unknown" not in others.values(), (label, others)
