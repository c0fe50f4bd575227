"""`gccheck check --chart` and the fleet keys chart, release-name and namespace, end to end
through the real CLI.

The chart is gccheck's own test chart (tests/fixtures/charts/wandb-trap: the shape of
operator-wandb 0.20-0.32, numbered 0.32.1), rendered by the real Helm engine: the Helm SDK
(helm-python-sdk) when no `helm` is on PATH, else the stand-in `helm` of helm_stand_in.py,
which drives the same SDK. The bucket is a versioned bucket of a local S3 server (moto), named
in the chart's values with its keys (the MinIO URL form), so that only the GC setting decides
the verdict and the keys, rendered into a ConfigMap, are seen never to be shown.
"""

from __future__ import annotations

import json
import shutil
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.constants import FIXTURES, TEST_SECRET
from support.helm_stand_in import install_stand_in
from support.run import Run, run_gccheck
from support.s3 import S3Server, make_bucket

from gccheck.sources.chart.render import INSTALL_HINT

CHART = FIXTURES / "charts" / "wandb-trap"
GC = "GORILLA_ARTIFACT_GC_ENABLED"
CHECK = ("check", "--hosting", "on-prem")
NO_BINARY = {"PATH": "/nonexistent"}  # no `helm` to find: the Helm SDK renders
SEPARATE_PODS = {"global": {"api": {"enabled": True}, "glue": {"enabled": True},
                            "extraEnv": {GC: "true"}}}
OWN_ENV = {"api": {"env": {GC: "true"}}, "glue": {"env": {GC: "true"}}}
APP_ONLY = {"global": {"extraEnv": {GC: "true"}}}
TRAP_NOTE = ("note: known chart trap gorilla-configmap-forces-gc-off: operator-wandb 0.32.1 "
             "renders wandb-gorilla-configmap with GORILLA_ARTIFACT_GC_ENABLED \"false\"")
Invoke = Callable[..., Run]


def failing(kind: str, name: str, container: str, release: str = "wandb",
            namespace: str = "default") -> str:
    """How gc-env-var names a workload the trap bites: the value and where it came from."""
    return (f"{kind}/{release}-{name} container {container}: 'false' (from ConfigMap "
            f"{namespace}/{release}-gorilla-configmap: key {GC} (envFrom of {kind} "
            f"{namespace}/{release}-{name} container {container}, after Secret "
            f"{namespace}/{release}-global-secret))")


def bucket_values(server: S3Server) -> dict[str, Any]:
    """Values that render BUCKET as a keyed URL of a fresh versioned bucket on `server`."""
    url = server.url(make_bucket(server, "Enabled"))
    return {"global": {"bucket": {"name": url.removeprefix("s3://")}}}


def merged(*parts: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            out[key] = (merged(out[key], value) if isinstance(value, Mapping)
                        and isinstance(out.get(key), Mapping) else value)
    return out


def values_file(where: Path, *parts: Mapping[str, Any], name: str = "values.yaml") -> str:
    path = where / name
    path.write_text(yaml.safe_dump(merged(*parts)))
    return str(path)


def gc_of(run: Run) -> dict[str, Any]:
    (target,) = json.loads(run.out)["targets"]
    result: dict[str, Any] = next(r for r in target["results"] if r["id"] == "gc-env-var")
    return result


# ---- the trap, and the ways out ----------------------------------------------------------------

def test_the_trap_fails_naming_each_workload_the_value_and_the_object(
        tmp_path: Path, moto_server: S3Server, gccheck_inproc: Invoke) -> None:
    values = values_file(tmp_path, SEPARATE_PODS, bucket_values(moto_server))
    run = gccheck_inproc(*CHECK, "--chart", str(CHART), "--values", values, env=NO_BINARY)
    assert run.code == 1, run.out + run.err
    text = " ".join(run.out.split())  # the table wraps nothing, but keep it robust
    assert failing("Deployment", "api", "api") in text
    assert failing("StatefulSet", "glue", "glue") in text
    assert "2 of 3 do not" in text  # the app is judged too, and passes
    assert TRAP_NOTE in text  # the report's note ...
    # ... and the fix names both ways out, per workload.
    assert ('upgrade operator-wandb to 0.33.0 or later; or set GORILLA_ARTIFACT_GC_ENABLED '
            '"true" in the api container\'s own env, which beats every envFrom source: values '
            f'api.env.{GC}: "true"') in text
    assert f'values glue.env.{GC}: "true"' in text
    assert "NOT READY: gc-env-var fails" in text
    assert "pass          bucket-versioning" in run.out  # the rendered bucket was probed
    assert "bucket from ConfigMap default/wandb-bucket-configmap: key BUCKET" in text
    assert TEST_SECRET not in run.out + run.err


def test_the_variable_in_each_workloads_own_env_passes(
        tmp_path: Path, moto_server: S3Server, gccheck_inproc: Invoke) -> None:
    values = values_file(tmp_path, SEPARATE_PODS, OWN_ENV, bucket_values(moto_server))
    run = gccheck_inproc(*CHECK, "--chart", str(CHART), "--values", values, "--format", "json",
                         env=NO_BINARY)
    assert run.code == 0, run.out + run.err
    result = gc_of(run)
    assert result["status"] == "pass" and result["detail"] == ""
    assert not any("chart trap" in n for n in json.loads(run.out)["targets"][0]["notes"])


def test_app_only_passes(tmp_path: Path, moto_server: S3Server, gccheck_inproc: Invoke) -> None:
    # The same ConfigMap reaches weave, a CronJob and a hook Job: none runs the W&B server.
    values = values_file(tmp_path, APP_ONLY, bucket_values(moto_server))
    run = gccheck_inproc(*CHECK, "--chart", str(CHART), "-f", values, env=NO_BINARY)
    assert run.code == 0, run.out + run.err
    assert "READY" in run.out and "chart trap" not in run.out


def test_values_files_merge_in_order_as_helm_f_does(
        tmp_path: Path, moto_server: S3Server, gccheck_inproc: Invoke) -> None:
    first = values_file(tmp_path, SEPARATE_PODS, bucket_values(moto_server), name="a.yaml")
    second = values_file(tmp_path, OWN_ENV, name="b.yaml")
    run = gccheck_inproc(*CHECK, "--chart", str(CHART), "-f", first, "-f", second,
                         env=NO_BINARY)
    assert run.code == 0, run.out + run.err  # the second file's env, the first's bucket
    run = gccheck_inproc(*CHECK, "--chart", str(CHART), "-f", first, env=NO_BINARY)
    assert run.code == 1, run.out + run.err


# ---- formats -------------------------------------------------------------------------------------

def test_json_keeps_schema_1_and_carries_the_note(
        tmp_path: Path, moto_server: S3Server, gccheck_inproc: Invoke) -> None:
    parts = (SEPARATE_PODS, bucket_values(moto_server))
    run = gccheck_inproc(*CHECK, "--chart", str(CHART), "--values",
                         values_file(tmp_path, *parts), "--format", "json", env=NO_BINARY)
    assert run.code == 1, run.err
    report = json.loads(run.out)
    # The same shape as any other source's report: schema 1, no key added or removed.
    env_file = tmp_path / "server.env"
    env_file.write_text(f"{GC}=true\n")
    other = json.loads(gccheck_inproc(*CHECK, "--env-file", str(env_file), "--bucket",
                                      moto_server.url(make_bucket(moto_server, "Enabled")),
                                      "--format", "json").out)
    assert report["schema"] == other["schema"] == 1
    assert set(report) == set(other)
    (target,), (other_target,) = report["targets"], other["targets"]
    assert set(target) == set(other_target)
    assert {k for r in target["results"] for k in r} == {
        k for r in other_target["results"] for k in r}
    assert target["verdict"] == "not-ready" and target["ready"] is False
    assert any(n.startswith(TRAP_NOTE.removeprefix("note: ")) for n in target["notes"])
    result = gc_of(run)
    assert result["status"] == "fail"
    assert failing("Deployment", "api", "api") in result["summary"]
    assert "upgrade operator-wandb to 0.33.0 or later" in result["remediation"]
    assert TEST_SECRET not in run.out


def test_markdown_and_junit_show_the_failure(
        tmp_path: Path, moto_server: S3Server, gccheck_inproc: Invoke) -> None:
    values = values_file(tmp_path, SEPARATE_PODS, bucket_values(moto_server))
    markdown = gccheck_inproc(*CHECK, "--chart", str(CHART), "-f", values, "--format",
                              "markdown", env=NO_BINARY)
    assert markdown.code == 1, markdown.err
    assert failing("StatefulSet", "glue", "glue") in markdown.out
    assert "known chart trap gorilla-configmap-forces-gc-off" in markdown.out
    junit = gccheck_inproc(*CHECK, "--chart", str(CHART), "-f", values, "--format", "junit",
                           env=NO_BINARY)
    assert junit.code == 1, junit.err
    root = ET.fromstring(junit.out)
    failed = {case.get("name"): case for case in root.iter("testcase")
              if case.find("failure") is not None}
    assert any("gc-env-var" in (name or "") for name in failed), junit.out
    assert failing("Deployment", "api", "api") in junit.out
    assert TEST_SECRET not in markdown.out + junit.out


# ---- the release and its namespace ------------------------------------------------------------

def test_release_name_and_namespace_change_the_rendered_names(
        tmp_path: Path, moto_server: S3Server, gccheck_inproc: Invoke) -> None:
    values = values_file(tmp_path, SEPARATE_PODS, bucket_values(moto_server))
    run = gccheck_inproc(*CHECK, "--chart", str(CHART), "-f", values, "--release-name", "prod",
                         "--namespace", "team-a", env=NO_BINARY)
    assert run.code == 1, run.out + run.err
    text = " ".join(run.out.split())
    assert failing("Deployment", "api", "api", "prod", "team-a") in text
    assert failing("StatefulSet", "glue", "glue", "prod", "team-a") in text
    assert "operator-wandb 0.32.1 renders prod-gorilla-configmap" in text
    assert "wandb-gorilla-configmap" not in text
    # The same through the options' environment variables.
    again = gccheck_inproc(*CHECK, env={**NO_BINARY, "GCCHECK_CHART": str(CHART),
                                        "GCCHECK_VALUES": values,
                                        "GCCHECK_RELEASE_NAME": "prod",
                                        "GCCHECK_NAMESPACE": "team-a"})
    assert again.code == 1 and again.out == run.out


# ---- Helm: the binary, the SDK, none, a chart it cannot render ------------------------------------

def test_the_helm_binary_on_path_gives_the_same_verdict(
        tmp_path: Path, moto_server: S3Server) -> None:
    values = values_file(tmp_path, SEPARATE_PODS, bucket_values(moto_server))
    args = (*CHECK, "--chart", str(CHART), "-f", values, "--format", "json")
    by_sdk = run_gccheck(*args, env=NO_BINARY)
    binary_env = install_stand_in(tmp_path)
    by_binary = run_gccheck(*args, env=binary_env)
    assert by_binary.code == by_sdk.code == 1, by_binary.err + by_sdk.err
    log = Path(binary_env["HELM_STAND_IN_LOG"]).read_text()
    assert log == f"template wandb {CHART} --namespace default --values {values}\n"
    results = [json.loads(run.out)["targets"][0] for run in (by_sdk, by_binary)]
    assert results[0]["results"] == results[1]["results"]
    assert results[0]["notes"] == results[1]["notes"]


def test_a_packaged_chart_is_rendered_alike(tmp_path: Path, moto_server: S3Server,
                                            gccheck_inproc: Invoke) -> None:
    import helm_python as helm

    packaged = helm.package(CHART, destination=tmp_path)
    values = values_file(tmp_path, SEPARATE_PODS, bucket_values(moto_server))
    run = gccheck_inproc(*CHECK, "--chart", packaged, "-f", values, env=NO_BINARY)
    assert run.code == 1, run.err
    assert failing("StatefulSet", "glue", "glue") in " ".join(run.out.split())


def test_without_helm_exit_2_with_the_install_hint(
        tmp_path: Path, gccheck_inproc: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "helm_python", None)  # the SDK is not installed
    run = gccheck_inproc(*CHECK, "--chart", str(CHART), env=NO_BINARY)
    assert run.code == 2
    assert run.err == f"gccheck: error: {INSTALL_HINT}\n"
    assert "pip install 'gccheck[helm]'" in run.err


SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.mark.parametrize("engine", ["sdk", "binary"])
def test_a_chart_that_fails_to_render_is_exit_2_quoting_helm_secrets_masked(
        tmp_path: Path, engine: str) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(CHART, broken)
    (broken / "templates" / "fail.yaml").write_text(
        '{{ fail (printf "bucket keys rejected: %s" .Values.global.bucket.secretKey) }}\n')
    values = values_file(tmp_path, {"global": {"bucket": {"secretKey": SECRET_KEY}}})
    env = install_stand_in(tmp_path) if engine == "binary" else NO_BINARY
    run = run_gccheck(*CHECK, "--chart", str(broken), "-f", values, env=env)
    assert run.code == 2, run.out + run.err
    assert run.err.count("\n") == 1 and "Traceback" not in run.err
    assert run.err.startswith(f"gccheck: error: --chart {broken}: Helm cannot render it: ")
    assert "bucket keys rejected: ***" in run.err
    assert SECRET_KEY not in run.out + run.err


# ---- a fleet file ----------------------------------------------------------------------------------

def test_a_fleet_of_charts_is_audited_with_paths_relative_to_the_fleet_file(
        tmp_path: Path, moto_server: S3Server) -> None:
    fleet_dir = tmp_path / "fleet"
    (fleet_dir / "charts").mkdir(parents=True)
    shutil.copytree(CHART, fleet_dir / "charts" / "operator-wandb")
    bucket = bucket_values(moto_server)
    values_file(fleet_dir, SEPARATE_PODS, bucket, name="separate.yaml")
    values_file(fleet_dir, OWN_ENV, name="own-env.yaml")
    values_file(fleet_dir, APP_ONLY, bucket, name="app-only.yaml")
    (fleet_dir / "fleet.yaml").write_text(yaml.safe_dump({"defaults": {
        "hosting": "on-prem", "chart": "charts/operator-wandb", "namespace": "wandb"},
        "deployments": [
            {"name": "trap", "values": "separate.yaml"},
            {"name": "fixed", "values": ["separate.yaml", "own-env.yaml"]},
            {"name": "app-only", "values": "app-only.yaml", "release-name": "prod"}]}))
    run = run_gccheck("audit", "fleet/fleet.yaml", "--format", "json", "--quiet",
                      env=NO_BINARY, cwd=tmp_path)
    assert run.code == 1, run.out + run.err
    targets = {t["name"]: t for t in json.loads(run.out)["targets"]}
    assert {name: t["ready"] for name, t in targets.items()} == {
        "trap": False, "fixed": True, "app-only": True}
    gc = {name: next(r for r in t["results"] if r["id"] == "gc-env-var")
          for name, t in targets.items()}
    assert failing("Deployment", "api", "api", namespace="wandb") in gc["trap"]["summary"]
    assert any("chart trap" in n for n in targets["trap"]["notes"])
    assert "Deployment wandb/prod-app container app" in gc["app-only"]["source"]
    assert TEST_SECRET not in run.out + run.err


def test_a_fleet_chart_that_fails_to_render_names_the_deployment(tmp_path: Path) -> None:
    (tmp_path / "fleet.yaml").write_text(yaml.safe_dump({"deployments": [
        {"name": "gone", "hosting": "on-prem", "chart": "charts/missing"}]}))
    run = run_gccheck("audit", str(tmp_path / "fleet.yaml"), env=NO_BINARY)
    assert run.code == 2
    assert run.err == (f"gccheck: error: deployment 'gone': --chart {tmp_path}/charts/missing: "
                       "no such file or directory\n")


# ---- what real charts render: empty keys, binary Secrets, the pod's own namespace ---------------

def test_empty_and_binary_secret_values_and_the_pods_namespace(
        tmp_path: Path, moto_server: S3Server, gccheck_inproc: Invoke) -> None:
    # operator-wandb 0.32 renders `SLACK_SECRET: {{ default "" ... }}` (YAML null) in a Secret,
    # and gives the app GORILLA_CUSTOMER_SECRET_STORE_K8S_CONFIG_NAMESPACE from metadata.namespace.
    chart = tmp_path / "chart"
    shutil.copytree(CHART, chart)
    (chart / "templates" / "extra.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-extra-secret\n"
        "data:\n  SLACK_SECRET: {{ default \"\" .Values.global.slackSecret }}\n"
        "  REDIS_PASSWORD: //5wYXNzLWJ5dGVz\n")  # b"\xff\xfepass-bytes": not UTF-8
    servers = chart / "templates" / "servers.yaml"
    servers.write_text(servers.read_text().replace(
        "{{- $extra := list }}",
        '{{- $extra := list (dict "name" "GORILLA_CUSTOMER_SECRET_STORE_K8S_CONFIG_NAMESPACE" '
        '"valueFrom" (dict "fieldRef" (dict "fieldPath" "metadata.namespace"))) }}'))
    extra = {"api": {"envFrom": {"{{ .Release.Name }}-extra-secret": "secretRef"}}}
    values = values_file(tmp_path, SEPARATE_PODS, extra, bucket_values(moto_server))
    run = gccheck_inproc(*CHECK, "--chart", str(chart), "-f", values, "--namespace", "team-a",
                         env=NO_BINARY)
    assert run.code == 1, run.out + run.err  # no internal error: the trap, as before
    text = " ".join(run.out.split())
    assert failing("Deployment", "api", "api", namespace="team-a") in text  # not "***/wandb-api"
    assert "bucket from ConfigMap team-a/wandb-bucket-configmap" in text
    assert "pass-bytes" not in run.out and TEST_SECRET not in run.out


def test_a_key_rendered_empty_holds_an_empty_value(tmp_path: Path) -> None:
    from gccheck.sources.chart.source import RenderedChartSource

    chart = tmp_path / "chart"
    shutil.copytree(CHART, chart)
    (chart / "templates" / "extra.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-extra-secret\n"
        "data:\n  SLACK_SECRET:\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n"
        "  name: {{ .Release.Name }}-extra-configmap\ndata:\n  EMPTY_SETTING:\n")
    extra = {"api": {"envFrom": {"{{ .Release.Name }}-extra-secret": "secretRef",
                                 "{{ .Release.Name }}-extra-configmap": "configMapRef"}}}
    values = values_file(tmp_path, SEPARATE_PODS, extra)
    settings = RenderedChartSource(str(chart), (values,), environ=NO_BINARY).read()
    api = next(w for w in settings.workloads if w.label.endswith("container api"))
    # As the API server stores them (the Go types' nil), not the text "None" (or its base64).
    assert api.values["SLACK_SECRET"].value == "" and api.values["EMPTY_SETTING"].value == ""
