"""`--chart`: a chart rendered by the real Helm engine, judged like the workloads it makes.

The test chart (tests/fixtures/charts/wandb-trap) has the shape of operator-wandb 0.20-0.32: an
envFrom list built from a dict (so the ConfigMap that sets GC "false" comes after the Secret
that holds global.extraEnv), two more server workloads (api, glue), a tpl'd value, a default
size map, and workloads that carry GORILLA_* but do not run the server. It renders through the
Helm SDK (helm-python-sdk) and through a stand-in `helm` binary on PATH that drives the same
SDK (no real helm binary can be installed here). The same objects are then served by the fake
Kubernetes API for `--workload auto`: the verdicts agree.
"""

from __future__ import annotations

import base64
import shutil
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml
from support.constants import REPO
from support.helm_stand_in import install_stand_in
from support.k8s_api import KubeAPI, KubeServer, start, write_kubeconfig

from gccheck.errors import InputError
from gccheck.matrix import load_matrix
from gccheck.model import Settings, Status
from gccheck.rules import RULES, Context, evaluate
from gccheck.sources.chart.knowledge import (
    chart_of_label,
    load_knowledge,
    parse_version,
)
from gccheck.sources.chart.render import INSTALL_HINT, merge_values, render_chart
from gccheck.sources.chart.source import RenderedChartSource, rendered_settings
from gccheck.sources.kubernetes.workload import WorkloadSource

CHART = REPO / "tests" / "fixtures" / "charts" / "wandb-trap"
GC = "GORILLA_ARTIFACT_GC_ENABLED"
MATRIX = load_matrix(None, RULES)
NO_BINARY: dict[str, str] = {"PATH": ""}
SEPARATE_PODS = {"global": {"api": {"enabled": True}, "glue": {"enabled": True},
                            "extraEnv": {GC: "true"}}}

@pytest.fixture
def helm_on_path(tmp_path: Path) -> Iterator[dict[str, str]]:
    """An environment whose PATH has only the stand-in `helm`; its calls are logged."""
    yield install_stand_in(tmp_path)


def values_file(tmp_path: Path, values: Mapping[str, Any], name: str = "values.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(dict(values)))
    return str(path)


def read(tmp_path: Path, *values: Mapping[str, Any], chart: Path = CHART,
         environ: Mapping[str, str] = NO_BINARY, release: str = "wandb",
         namespace: str = "default") -> Settings:
    files = tuple(values_file(tmp_path, v, f"values-{i}.yaml") for i, v in enumerate(values))
    return RenderedChartSource(str(chart), files, release, namespace, 30.0,
                               environ=dict(environ)).read()


def gc_result(settings: Settings) -> tuple[Status, str, str, str]:
    ctx = Context(MATRIX, MATRIX.hosting_types["on-prem"], settings, None, None)
    result = next(r for r in evaluate(ctx) if r.id == "gc-env-var")
    return result.status, result.summary, result.detail, result.remediation or ""


def chart_copy(tmp_path: Path, version: str, name: str = "operator-wandb") -> Path:
    copy = tmp_path / "chart"
    shutil.copytree(CHART, copy)
    text = (copy / "Chart.yaml").read_text().replace("version: 0.32.1", f"version: {version}")
    text = text.replace("name: operator-wandb", f"name: {name}")
    (copy / "Chart.yaml").write_text(text)
    return copy


# ---- the trap, and what the chart itself adds --------------------------------------------------

def test_the_configmap_after_the_secret_turns_gc_off_in_glue_and_api(tmp_path: Path) -> None:
    settings = read(tmp_path, SEPARATE_PODS)
    assert [w.label for w in settings.workloads] == [
        "Deployment/wandb-app container app", "Deployment/wandb-api container api",
        "StatefulSet/wandb-glue container glue"]  # weave, the CronJob, the hook Job: not judged
    status, summary, detail, fix = gc_result(settings)
    assert status is Status.FAIL
    assert summary == (
        f'{GC} needs "true" in every W&B server container; 2 of 3 do not: '
        f"Deployment/wandb-api container api: 'false' (from ConfigMap "
        f"default/wandb-gorilla-configmap: key {GC} (envFrom of Deployment default/wandb-api "
        "container api, after Secret default/wandb-global-secret)); "
        "StatefulSet/wandb-glue container glue: 'false' (from ConfigMap "
        f"default/wandb-gorilla-configmap: key {GC} (envFrom of StatefulSet default/wandb-glue "
        "container glue, after Secret default/wandb-global-secret))")
    # the chart version is in the table: a note, and the fix names the way out
    assert settings.notes == (detail,)
    assert detail.startswith("known chart trap gorilla-configmap-forces-gc-off: operator-wandb "
                             "0.32.1 renders wandb-gorilla-configmap with")
    assert "(in Deployment/wandb-api container api, StatefulSet/wandb-glue container glue)" in detail
    assert "upgrade operator-wandb to 0.33.0 or later" in fix
    assert "in the api container's own env, which beats every envFrom source" in fix
    # the bucket comes from the app container
    assert settings.get("BUCKET") == "s3://wandb-files"
    assert settings.description.startswith("chart operator-wandb 0.32.1 rendered as release "
                                           "wandb in namespace default: Deployment default/")


def test_the_workloads_own_env_beats_envfrom(tmp_path: Path) -> None:
    own = {"api": {"env": {GC: "true"}}, "glue": {"env": {GC: "true"}}}
    settings = read(tmp_path, SEPARATE_PODS, own)
    status, summary, detail, _ = gc_result(settings)
    assert status is Status.PASS, summary
    assert detail == "" and settings.notes == ()  # the trap does not bite


def test_app_only_settings_pass_when_no_other_server_runs(tmp_path: Path) -> None:
    # weave gets "false" from the same ConfigMap, the CronJob and hook Job set "false": not the
    # W&B server, so not judged.
    settings = read(tmp_path, {"global": {"extraEnv": {GC: "true"}}})
    assert [w.label for w in settings.workloads] == ["Deployment/wandb-app container app"]
    assert gc_result(settings)[0] is Status.PASS


def test_a_tpl_value_is_judged_as_rendered(tmp_path: Path) -> None:
    templated = {"global": {"size": "large", "gcEnabled": True,
                            "extraEnv": {GC: "{{ .Values.global.gcEnabled }}"}}}
    settings = read(tmp_path, templated)
    assert settings.get(GC) == "true"
    assert gc_result(settings)[0] is Status.PASS


def test_chart_defaults_count(tmp_path: Path) -> None:
    # No values at all: the default size (small) gives the app GC on.
    settings = read(tmp_path)
    assert settings.values[GC].origin == "Deployment default/wandb-app container app: env"
    assert gc_result(settings)[0] is Status.PASS
    status, summary, _, _ = gc_result(read(tmp_path, {"global": {"size": "large"}}))
    assert status is Status.FAIL and summary.startswith(f"{GC} is not set in the chart ")


def test_values_files_merge_as_helm_f_does(tmp_path: Path, helm_on_path: dict[str, str]) -> None:
    first = {"global": {"api": {"enabled": True}, "extraEnv": {GC: "true"},
                        "bucket": {"name": "first"}}}
    second = {"global": {"bucket": {"name": "second"}}, "api": {"env": {GC: "true"}}}
    for environ in (NO_BINARY, helm_on_path):
        settings = read(tmp_path, first, second, environ=environ)
        assert settings.get("BUCKET") == "s3://second"  # the later file wins the key ...
        assert [w.label for w in settings.workloads][1] == "Deployment/wandb-api container api"
        assert gc_result(settings)[0] is Status.PASS  # ... and the rest of the earlier is kept
    assert merge_values({"a": {"b": 1, "c": [1]}, "d": 1}, {"a": {"c": [2]}, "d": None}) == {
        "a": {"b": 1, "c": [2]}, "d": None}


def test_an_object_the_release_does_not_render_is_unknown(tmp_path: Path) -> None:
    settings = read(tmp_path, {"global": {"bucket": {"secret": {"secretName": "bucket-keys"}}}})
    bucket = settings.setting("BUCKET")
    assert bucket is not None and bucket.value is None
    assert bucket.unresolved == (
        "Secret default/bucket-keys is not rendered by the release (it must exist in the "
        "cluster): run --workload auto after install to read it, or give the value in the "
        "values files")


# ---- both engines, and a packaged chart ---------------------------------------------------------

def test_the_binary_is_used_when_on_path(tmp_path: Path, helm_on_path: dict[str, str]) -> None:
    values = values_file(tmp_path, SEPARATE_PODS)
    by_binary = render_chart(str(CHART), [values], "rel", "team", 30.0, environ=helm_on_path)
    log = Path(helm_on_path["HELM_STAND_IN_LOG"]).read_text()
    assert log == f"template rel {CHART} --namespace team --values {values}\n"
    by_sdk = render_chart(str(CHART), [values], "rel", "team", 30.0, environ=NO_BINARY)
    assert sorted(map(str, by_binary)) == sorted(map(str, by_sdk))
    assert any(d["kind"] == "StatefulSet" and d["metadata"]["name"] == "rel-glue"
               for d in by_binary)


def test_a_packaged_chart_renders_the_same(tmp_path: Path, helm_on_path: dict[str, str]) -> None:
    packaged = helm.package(CHART, destination=tmp_path)
    assert packaged.endswith("operator-wandb-0.32.1.tgz")
    for environ in (NO_BINARY, helm_on_path):
        settings = read(tmp_path, SEPARATE_PODS, chart=Path(packaged), environ=environ)
        assert gc_result(settings)[0] is Status.FAIL
        assert settings.notes and "operator-wandb 0.32.1" in settings.notes[0]


def test_without_helm_the_hint_says_how_to_get_it(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "helm_python", None)  # not installed
    with pytest.raises(InputError) as caught:
        read(tmp_path)
    assert str(caught.value) == INSTALL_HINT
    assert "pip install 'gccheck[helm]'" in INSTALL_HINT and "helm binary" in INSTALL_HINT


SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.mark.parametrize("engine", ["sdk", "binary"])
def test_a_chart_that_fails_to_render_quotes_helm_with_secrets_masked(
        tmp_path: Path, helm_on_path: dict[str, str], engine: str) -> None:
    broken = chart_copy(tmp_path, "0.32.1")
    (broken / "templates" / "fail.yaml").write_text(
        '{{ fail (printf "bucket keys rejected: %s" .Values.global.bucket.secretKey) }}\n')
    environ = helm_on_path if engine == "binary" else NO_BINARY
    with pytest.raises(InputError) as caught:
        read(tmp_path, {"global": {"bucket": {"secretKey": SECRET_KEY}}}, chart=broken,
             environ=environ)
    message = str(caught.value)
    assert message.startswith(f"--chart {broken}: Helm cannot render it: ")
    assert "bucket keys rejected: ***" in message and SECRET_KEY not in message


def test_a_helm_that_hangs_is_bounded(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "helm").write_text(f"#!{sys.executable}\nimport time\ntime.sleep(30)\n")
    (bin_dir / "helm").chmod(0o755)
    with pytest.raises(InputError, match=r"helm template did not finish within 0.5 s"):
        render_chart(str(CHART), [], "wandb", "default", 0.5, environ={"PATH": str(bin_dir)})


def test_a_missing_values_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^--values .*nope.yaml: no such file$"):
        render_chart(str(CHART), [str(tmp_path / "nope.yaml")], "wandb", "default", 30.0,
                     environ=NO_BINARY)


def test_bad_chart_paths(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"--chart .*nope: no such file or directory"):
        read(tmp_path, chart=tmp_path / "nope")
    with pytest.raises(InputError, match=r"no Chart.yaml in this directory"):
        read(tmp_path, chart=tmp_path)
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InputError, match=r"expected a chart directory or a packaged chart"):
        read(tmp_path, chart=tmp_path / "notes.txt")


def test_a_release_without_a_server_workload_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"renders no workload that runs the W&B server"):
        rendered_settings([{"kind": "ConfigMap", "metadata": {"name": "x"}}], "other", "1.0.0",
                          "wandb", "default")


# ---- the chart table -----------------------------------------------------------------------------

def test_chart_versions_in_and_out_of_the_trap() -> None:
    (trap,) = load_knowledge().traps
    assert trap.affected_roles((0, 19, 4)) == ()
    assert trap.affected_roles((0, 20, 0)) == ("glue",)  # api runs apart from 0.23.0
    assert trap.affected_roles((0, 22, 9)) == ("glue",)
    assert trap.affected_roles((0, 23, 0)) == ("glue", "api")
    assert trap.affected_roles((0, 32, 10)) == ("glue", "api")
    assert trap.affected_roles((0, 33, 0)) == ()
    assert load_knowledge().traps_for("wandb", (0, 25, 0)) == []  # another chart
    assert parse_version("0.32.9-PR445-2d2adda6") == (0, 32, 9)
    assert parse_version("main") is None
    assert chart_of_label("operator-wandb-0.32.9") == ("operator-wandb", (0, 32, 9))
    assert chart_of_label("api-0.7.2") == ("api", (0, 7, 2))
    assert chart_of_label("nothing") is None


def test_out_of_range_and_unknown_versions(tmp_path: Path) -> None:
    # The render still says fail (the ConfigMap still wins): only the note depends on the table.
    fixed = read(tmp_path, SEPARATE_PODS, chart=chart_copy(tmp_path / "a", "0.33.0"))
    assert gc_result(fixed)[0] is Status.FAIL and fixed.notes == ()
    # A chart the table does not know (a fork, renamed): the trap is recognised by its object.
    unknown = read(tmp_path, SEPARATE_PODS, chart=chart_copy(tmp_path / "b", "0.32.1", "fork"))
    assert gc_result(unknown)[0] is Status.FAIL
    (note,) = unknown.notes
    assert "0.20.0 to before 0.33.0 (recognised by its ConfigMap" in note


# ---- the same objects, live: --workload auto agrees -------------------------------------------

def served(manifests: list[dict[str, Any]], namespace: str) -> KubeAPI:
    """The rendered objects as the API server would hold them after `helm install`."""
    api = KubeAPI()
    for doc in manifests:
        if doc["kind"] not in ("Deployment", "StatefulSet", "ConfigMap", "Secret"):
            continue
        obj = {**doc, "metadata": {**doc["metadata"], "namespace": namespace}}
        if doc["kind"] == "Secret":  # the API server stores stringData as base64 data
            obj = {k: v for k, v in obj.items() if k != "stringData"}
            obj["data"] = {**(doc.get("data") or {}), **{
                k: base64.b64encode(str(v).encode()).decode()
                for k, v in (doc.get("stringData") or {}).items()}}
        api.add(obj)
    return api


@pytest.mark.parametrize("values, expected", [
    (SEPARATE_PODS, Status.FAIL),
    ({**SEPARATE_PODS, "api": {"env": {GC: "true"}}, "glue": {"env": {GC: "true"}}}, Status.PASS),
    ({"global": {"size": "large"}}, Status.FAIL),
    ({"global": {"glue": {"enabled": True}, "extraEnv": {GC: "true"}},
      "glue": {"env": {GC: "true"}}}, Status.PASS),
])
def test_rendered_and_live_verdicts_agree(tmp_path: Path, values: Mapping[str, Any],
                                          expected: Status) -> None:
    files = [values_file(tmp_path, values)]
    manifests = render_chart(str(CHART), files, "wandb", "wandb", 30.0, environ=NO_BINARY)
    rendered = RenderedChartSource(str(CHART), tuple(files), "wandb", "wandb", 30.0,
                                   environ=NO_BINARY).read()
    server: KubeServer = start(served(manifests, "wandb"))
    try:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", server.url)
        live = WorkloadSource("wandb/auto", kubeconfig=str(kubeconfig)).read()
    finally:
        server.stop()
    assert [w.label for w in live.workloads] == [w.label for w in rendered.workloads]
    for judged, other in zip(live.workloads, rendered.workloads, strict=True):
        mine, theirs = judged.setting(GC), other.setting(GC)
        assert (mine and (mine.value, mine.origin)) == (theirs and (theirs.value, theirs.origin))
    live_result, rendered_result = gc_result(live), gc_result(rendered)
    assert live_result[0] is rendered_result[0] is expected
    if len(live.workloads) > 1:  # the text names each container, alike
        assert live_result[1] == rendered_result[1]
    assert live.get("BUCKET") == rendered.get("BUCKET") == "s3://wandb-files"
    if expected is Status.FAIL and values is SEPARATE_PODS:
        # live, the version is not on the workloads' labels: the trap is known by its ConfigMap
        (note,) = live.notes
        assert "recognised by its ConfigMap" in note and "operator-wandb 0.32.1" in rendered.notes[0]


# ---- the hook chart's check after the release, on the same objects ------------------------------

HOOK_CHART = REPO / "charts" / "gccheck"


@pytest.mark.parametrize("values, expected", [
    (SEPARATE_PODS, "fail"),
    ({**SEPARATE_PODS, "api": {"env": {GC: "true"}}, "glue": {"env": {GC: "true"}}}, "pass"),
])
def test_the_hook_charts_check_after_the_release_catches_the_trap(
        tmp_path: Path, gccheck_inproc: Any, values: Mapping[str, Any], expected: str) -> None:
    import json

    with helm.Chart.load(HOOK_CHART) as hook:
        rendered = hook.render({"hosting": "on-prem"}, name="wandb", namespace="wandb",
                               is_install=True, is_upgrade=False)
    hook_docs = [doc for path, text in rendered.items() if not path.endswith(".txt")
                 for doc in yaml.safe_load_all(text) if isinstance(doc, dict)]
    verify = [d for d in hook_docs
              if "post-install" in d["metadata"]["annotations"].get("helm.sh/hook", "")
              and d["kind"] in ("Role", "Job")]
    role = next(d for d in verify if d["kind"] == "Role")
    job = next(d for d in verify if d["kind"] == "Job")
    role_file = tmp_path / "role.yaml"
    role_file.write_text(yaml.safe_dump(role))
    from support.k8s_api import role_grants

    api = served(render_chart(str(CHART), [values_file(tmp_path, values)], "wandb", "wandb",
                              30.0, environ=NO_BINARY), "wandb")
    api.allowed = role_grants(role_file)  # exactly what the hook's Role grants
    server = start(api)
    try:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", server.url)
        args = list(job["spec"]["template"]["spec"]["containers"][0]["args"])
        args[args.index("--termination-message") + 1] = str(tmp_path / "termination")
        run = gccheck_inproc(*args, "--kubeconfig", str(kubeconfig), "--format", "json", env={})
    finally:
        server.stop()
    report = json.loads(run.out)
    (target,) = report["targets"]
    gc = next(r for r in target["results"] if r["id"] == "gc-env-var")
    assert gc["status"] == expected, gc
    if expected == "fail":
        assert run.code == 1
        assert "StatefulSet/wandb-glue container glue: 'false' (from ConfigMap " \
            "wandb/wandb-gorilla-configmap" in gc["summary"]
        assert "known chart trap gorilla-configmap-forces-gc-off" in gc["detail"]
