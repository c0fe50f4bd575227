"""`--chart` on the real operator-wandb charts (wandb/helm-charts, MIT), rendered by the Helm SDK.

Runs only where a mirror of wandb/helm-charts is at hand (a bare git directory: set
GCCHECK_HELM_CHARTS_MIRROR, default /work/.mirror/wandb+helm-charts/repo); CI has none and skips
it. The charts are read with `git archive` at their release tags into a temporary directory;
their `file://../wandb-base` subchart is copied under charts/ as `helm dependency build` would.
Nothing of the charts is kept.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from collections.abc import Mapping
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import yaml

from gccheck.matrix import load_matrix
from gccheck.model import Settings, Status
from gccheck.rules import RULES, Context, evaluate
from gccheck.sources.chart.source import RenderedChartSource

MIRROR = Path(os.environ.get("GCCHECK_HELM_CHARTS_MIRROR", "/work/.mirror/wandb+helm-charts/repo"))
GC = "GORILLA_ARTIFACT_GC_ENABLED"
MATRIX = load_matrix(None, RULES)
SEPARATE_PODS = {"global": {"api": {"enabled": True}, "glue": {"enabled": True},
                            "extraEnv": {GC: "true"}}}
TEMPLATED = {"global": {"gcEnabled": True, "extraEnv": {GC: "{{ .Values.global.gcEnabled }}"}}}

pytestmark = pytest.mark.skipif(not (MIRROR / "HEAD").is_file() or shutil.which("git") is None,
                                reason="no mirror of wandb/helm-charts here")


def operator_wandb(version: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(MIRROR), "archive", f"operator-wandb-{version}", "charts/operator-wandb",
         "charts/wandb-base"], capture_output=True, check=True, timeout=120).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    chart = into / "charts" / "operator-wandb"
    shutil.copytree(into / "charts" / "wandb-base", chart / "charts" / "wandb-base")
    return chart


def judge(tmp_path: Path, version: str, values: Mapping[str, Any]) -> tuple[Settings, Any]:
    chart = operator_wandb(version, tmp_path / version)
    values_file = tmp_path / "values.yaml"
    values_file.write_text(yaml.safe_dump(dict(values)))
    settings = RenderedChartSource(str(chart), (str(values_file),), "wandb", "default", 120.0,
                                   environ={"PATH": ""}).read()
    ctx = Context(MATRIX, MATRIX.hosting_types["on-prem"], settings, None, None)
    return settings, next(r for r in evaluate(ctx) if r.id == "gc-env-var")


def test_0_32_forces_gc_off_in_the_separate_pods(tmp_path: Path) -> None:
    settings, result = judge(tmp_path, "0.32.9", SEPARATE_PODS)
    assert [w.label for w in settings.workloads] == [
        "Deployment/wandb-app container app", "Deployment/wandb-api container api",
        "Deployment/wandb-glue container glue"]
    assert result.status is Status.FAIL
    assert result.summary.startswith(f'{GC} needs "true" in every W&B server container; 2 of 3 '
                                     "do not: Deployment/wandb-api container api: 'false' (from "
                                     f"ConfigMap default/wandb-gorilla-configmap: key {GC} "
                                     "(envFrom of Deployment default/wandb-api container api, "
                                     "after Secret default/wandb-global-secret))")
    assert "operator-wandb 0.32.9 renders wandb-gorilla-configmap" in result.detail
    assert "upgrade operator-wandb to 0.33.0 or later" in (result.remediation or "")
    assert 'values api.env.GORILLA_ARTIFACT_GC_ENABLED: "true"' in (result.remediation or "")


def test_0_32_the_way_out_the_fix_names_works(tmp_path: Path) -> None:
    own = {**SEPARATE_PODS, "api": {"env": {GC: "true"}}, "glue": {"env": {GC: "true"}}}
    settings, result = judge(tmp_path, "0.32.9", own)
    assert result.status is Status.PASS and settings.notes == ()


def test_0_32_app_only_passes(tmp_path: Path) -> None:
    _, result = judge(tmp_path, "0.32.9", {"global": {"extraEnv": {GC: "true"}}})
    assert result.status is Status.PASS


def test_0_43_passes_in_separate_pods(tmp_path: Path) -> None:
    settings, result = judge(tmp_path, "0.43.8", SEPARATE_PODS)
    assert [w.label for w in settings.workloads] == [
        "Deployment/wandb-app-bc container app", "Deployment/wandb-api container api",
        "Deployment/wandb-glue container glue"]
    assert result.status is Status.PASS and settings.notes == ()


def test_tpl_values_render_in_0_43_and_not_in_0_32(tmp_path: Path) -> None:
    settings, result = judge(tmp_path, "0.43.8", TEMPLATED)
    assert result.status is Status.PASS and settings.get(GC) == "true"
    settings, result = judge(tmp_path, "0.32.9", TEMPLATED)
    assert result.status is Status.FAIL and settings.get(GC) == "{{ .Values.global.gcEnabled }}"


# ---- the same through the real CLI ---------------------------------------------------------------

def cli_gc(tmp_path: Path, version: str, values: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
    """`gccheck check --chart` on the real chart (the Helm SDK renders: no helm on PATH); the
    exit code and the JSON report's only target. The bucket is not reachable here: only
    gc-env-var decides pass or fail (a bucket that cannot be asked is `unknown`, exit 3)."""
    from support.run import run_gccheck

    chart = operator_wandb(version, tmp_path / version)
    values_file = tmp_path / f"values-{version}.yaml"
    bucket = {"provider": "s3", "name": "wandb-files", "region": "us-east-1"}
    values_file.write_text(yaml.safe_dump({**values, "global": {**values["global"],
                                                                "bucket": bucket}}))
    run = run_gccheck("check", "--hosting", "on-prem", "--chart", str(chart), "--values",
                      str(values_file), "--format", "json", "--timeout", "60",
                      env={"PATH": "/nonexistent"}, timeout=180)
    assert run.code in (1, 3), run.err
    (target,) = json.loads(run.out)["targets"]
    return run.code, target


def test_cli_fails_0_32_in_separate_pods_and_passes_0_43(tmp_path: Path) -> None:
    code, target = cli_gc(tmp_path, "0.32.9", SEPARATE_PODS)
    gc = next(r for r in target["results"] if r["id"] == "gc-env-var")
    assert code == 1 and gc["status"] == "fail"
    assert ("Deployment/wandb-glue container glue: 'false' (from ConfigMap "
            "default/wandb-gorilla-configmap") in gc["summary"]  # the namespace is not masked
    assert "upgrade operator-wandb to 0.33.0 or later" in gc["remediation"]
    assert any("operator-wandb 0.32.9 renders wandb-gorilla-configmap" in n
               for n in target["notes"])
    code, target = cli_gc(tmp_path, "0.43.8", SEPARATE_PODS)
    gc = next(r for r in target["results"] if r["id"] == "gc-env-var")
    assert gc["status"] == "pass" and code != 1
    assert not any("chart trap" in n for n in target["notes"])
