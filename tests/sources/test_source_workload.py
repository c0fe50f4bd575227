"""Live workloads as a settings source (`--workload`), through the real `kubernetes` client
talking HTTP to a local server that answers like the Kubernetes API (tests/support/k8s_api.py)."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import pytest
from support.k8s_api import KubeServer, config_map, deployment, secret, write_kubeconfig
from support.run import run_gccheck
from support.s3 import S3Server, make_bucket

from gccheck.errors import InputError
from gccheck.model import Settings
from gccheck.sources.kubernetes.resolver import Fetched, container_env
from gccheck.sources.kubernetes.workload import WorkloadRef, WorkloadSource, parse_workload

GC = "GORILLA_ARTIFACT_GC_ENABLED"
APP_LABELS = {"app.kubernetes.io/name": "app", "app.kubernetes.io/instance": "wandb",
              "app.kubernetes.io/managed-by": "Helm"}


@pytest.fixture
def kubeconfig(kube: KubeServer, tmp_path: Path) -> Path:
    return write_kubeconfig(tmp_path / "kubeconfig", kube.url, extra_contexts={"other": "team"})


def app(env: list[dict[str, Any]] | None = None, env_from: list[dict[str, Any]] | None = None,
        name: str = "wandb-app", **kwargs: Any) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "app", "image": "wandb/local:0.70.0"}
    if env is not None:
        container["env"] = env
    if env_from is not None:
        container["envFrom"] = env_from
    return deployment(name, containers=[container], labels=kwargs.pop("labels", APP_LABELS),
                      **kwargs)


def read(kubeconfig: Path, workload: str = "wandb/deployment/wandb-app", **kwargs: Any) -> Settings:
    return WorkloadSource(workload, kubeconfig=str(kubeconfig), **kwargs).read()


# ---- the workload spec ----------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("wandb/deployment/wandb-app", WorkloadRef("wandb", "Deployment", "wandb-app")),
    ("deploy/wandb-app:app", WorkloadRef(None, "Deployment", "wandb-app", "app")),
    ("ns/STS/db", WorkloadRef("ns", "StatefulSet", "db")),
    ("ns/StatefulSet.apps/db", WorkloadRef("ns", "StatefulSet", "db")),
    ("Deployments/x", WorkloadRef(None, "Deployment", "x")),
    ("auto", WorkloadRef(None, "auto", None)),
    ("wandb/auto", WorkloadRef("wandb", "auto", None)),
])
def test_parse_workload(text: str, expected: WorkloadRef) -> None:
    assert parse_workload(text) == expected


@pytest.mark.parametrize("text", ["wandb-app", "a/b/c/d", "pod/x", "ns/deployment/", "deploy/x:",
                                  "/deployment/x"])
def test_parse_workload_rejects(text: str) -> None:
    with pytest.raises(InputError, match="--workload"):
        parse_workload(text)


# ---- Kubernetes env semantics ---------------------------------------------------------------

def test_env_beats_env_from_and_later_env_from_beats_earlier(kube: KubeServer,
                                                             kubeconfig: Path) -> None:
    kube.api.add(config_map("wandb-glue", {GC: "false", "A": "glue", "B": "glue"}))
    kube.api.add(config_map("wandb-app-config", {"A": "app", "C": "app"}))
    kube.api.add(secret("wandb-flags", {"B": "from-secret"}))
    kube.api.add(app(
        env=[{"name": GC, "value": "true"}],
        env_from=[{"configMapRef": {"name": "wandb-glue"}},
                  {"configMapRef": {"name": "wandb-app-config"}},
                  {"secretRef": {"name": "wandb-flags"}},
                  {"configMapRef": {"name": "wandb-app-config"}, "prefix": "P_"}]))
    settings = read(kubeconfig)
    values = settings.values
    assert values[GC].value == "true"
    assert values[GC].origin == "Deployment wandb/wandb-app container app: env"
    assert (values["A"].value, values["B"].value, values["C"].value) == ("app", "from-secret", "app")
    assert values["A"].origin.startswith("ConfigMap wandb/wandb-app-config: key A (envFrom")
    # provenance names the earlier source a later one beat
    assert values["A"].origin.endswith(", after ConfigMap wandb/wandb-glue)")
    assert values["B"].origin == ("Secret wandb/wandb-flags: key B (envFrom of Deployment "
                                  "wandb/wandb-app container app, after ConfigMap wandb/wandb-glue)")
    assert "after" not in values["C"].origin  # the same ConfigMap twice beats nothing
    assert values["P_C"].value == "app" and "prefix P_" in values["P_C"].origin
    assert settings.description == ("Deployment wandb/wandb-app container app (its only "
                                     "container)")


def test_key_refs(kube: KubeServer, kubeconfig: Path) -> None:
    kube.api.add(config_map("wandb-glue", {"gc": "true"}))
    kube.api.add(secret("wandb-bucket", {"url": "s3://AKIAKEY:sekret@bucket"}))
    kube.api.add(app(env=[
        {"name": GC, "valueFrom": {"configMapKeyRef": {"name": "wandb-glue", "key": "gc"}}},
        {"name": "BUCKET", "valueFrom": {"secretKeyRef": {"name": "wandb-bucket", "key": "url"}}},
        {"name": "OPT_GONE", "valueFrom": {"configMapKeyRef": {"name": "nope", "key": "k",
                                                                  "optional": True}}},
        {"name": "OPT_KEY", "valueFrom": {"secretKeyRef": {"name": "wandb-bucket", "key": "k",
                                                            "optional": True}}},
        {"name": "MISSING", "valueFrom": {"configMapKeyRef": {"name": "nope", "key": "k"}}},
        {"name": "NO_KEY", "valueFrom": {"configMapKeyRef": {"name": "wandb-glue", "key": "k"}}},
        {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}},
    ]))
    settings = read(kubeconfig)
    values = settings.values
    assert values[GC].value == "true" and values[GC].origin == "ConfigMap wandb/wandb-glue: key gc"
    assert "kubectl patch configmap wandb-glue -n wandb" in (values[GC].fix or "")
    assert values["BUCKET"].value == "s3://AKIAKEY:sekret@bucket"
    assert "OPT_GONE" not in values and "OPT_KEY" not in values
    assert values["MISSING"].unresolved == ("ConfigMap wandb/nope not found (the pod cannot "
                                            "start without it: CreateContainerConfigError)")
    assert "has no key k" in (values["NO_KEY"].unresolved or "")
    assert values["NS"].value == "wandb"
    assert "status.hostIP" in (values["IP"].unresolved or "")
    assert settings.secrets == ("s3://AKIAKEY:sekret@bucket",)


def test_forbidden_secret_is_unknown_naming_the_permission(kube: KubeServer,
                                                           kubeconfig: Path) -> None:
    kube.api.add(secret("wandb-flags", {"gc": "true"}))
    kube.api.forbid("secrets", "wandb")
    kube.api.add(app(env=[{"name": GC, "valueFrom": {"secretKeyRef": {"name": "wandb-flags",
                                                                       "key": "gc"}}}]))
    setting = read(kubeconfig).values[GC]
    assert setting.value is None
    assert setting.unresolved == ("cannot read Secret wandb/wandb-flags: forbidden (needs 'get "
                                  "secrets' in namespace wandb)")


def test_unreadable_env_from_makes_absent_variables_unknown(kube: KubeServer,
                                                            kubeconfig: Path) -> None:
    kube.api.forbid("secrets", "wandb", "wandb-global-secret")
    kube.api.add(app(env=[{"name": "HOST", "value": "h"}],
                     env_from=[{"secretRef": {"name": "wandb-global-secret"}},
                               {"secretRef": {"name": "optional-gone", "optional": True}}]))
    settings = read(kubeconfig)
    assert settings.get("HOST") == "h"
    gc = settings.setting(GC)
    assert gc is not None and gc.value is None
    assert "wandb-global-secret: forbidden" in (gc.unresolved or "")
    assert list(settings.values) == ["HOST"]  # only what was found is listed
    # values is a plain mapping of what was found: `in` and `get` agree
    for name in (GC, "HOST"):
        assert (name in settings.values) == (settings.values.get(name) is not None), name


def test_dollar_expansion_follows_the_env_order(kube: KubeServer, kubeconfig: Path) -> None:
    kube.api.add(config_map("wandb-bucket-configmap", {"BUCKET_NAME": "acme", "BUCKET_PATH": "p"}))
    kube.api.add(app(env_from=[{"configMapRef": {"name": "wandb-bucket-configmap"}}], env=[
        {"name": "BUCKET", "value": "gs://$(BUCKET_NAME)/$(BUCKET_PATH)"},
        {"name": "EARLY", "value": "$(LATE)"},
        {"name": "LATE", "value": "x"},
        {"name": "ESCAPED", "value": "$$(LATE)"},
        {"name": "REDEFINED", "value": "1"},
        {"name": "REDEFINED", "value": "$(REDEFINED)2"},
    ]))
    values = read(kubeconfig).values
    assert values["BUCKET"].value == "gs://acme/p"
    assert values["EARLY"].value == "$(LATE)"  # defined after it: stays as written
    assert values["ESCAPED"].value == "$(LATE)"
    assert values["REDEFINED"].value == "12"


def test_bucket_whose_keys_are_forbidden_is_kept_without_keys(kube: KubeServer,
                                                              kubeconfig: Path) -> None:
    # operator-wandb's rendering: keys from a Secret, name and path from a ConfigMap.
    kube.api.add(config_map("wandb-bucket-configmap", {"BUCKET_NAME": "minio.corp:9000",
                                                       "BUCKET_PATH": "wandb"}))
    kube.api.forbid("secrets", "wandb")
    ref = {"name": "wandb-bucket", "optional": True}
    kube.api.add(app(env_from=[{"configMapRef": {"name": "wandb-bucket-configmap"}}], env=[
        {"name": "BUCKET_ACCESS_KEY", "valueFrom": {"secretKeyRef": {**ref, "key": "ACCESS_KEY"}}},
        {"name": "BUCKET_SECRET_KEY", "valueFrom": {"secretKeyRef": {**ref, "key": "SECRET_KEY"}}},
        {"name": "BUCKET", "value": "s3://$(BUCKET_ACCESS_KEY):$(BUCKET_SECRET_KEY)@"
                                    "$(BUCKET_NAME)/$(BUCKET_PATH)"},
        {"name": "OTHER", "value": "$(BUCKET_SECRET_KEY)"},
    ]))
    settings = read(kubeconfig)
    values = settings.values
    assert values["BUCKET"].value == "s3://minio.corp:9000/wandb"
    assert "get secrets" in values["BUCKET"].origin
    # the endpoint is a typed storage setting, not a variable the pod does not have
    endpoint = settings.storage.endpoint
    assert endpoint is not None and endpoint.value == "http://minio.corp:9000"
    assert "derived by gccheck from the bucket host" in endpoint.origin
    assert "AWS_ENDPOINT_URL_S3" not in values
    assert values["OTHER"].value is None
    assert "$(BUCKET_SECRET_KEY)" in (values["OTHER"].unresolved or "")


# ---- the resolver with another provider: a chart's rendered manifests -------------------------

class Manifests:
    """ConfigMaps and Secrets as a chart renders them (no API server): a provider for the
    resolver like the live API."""

    def __init__(self, *objects: dict[str, Any]) -> None:
        self.objects = {(o["kind"], o["metadata"]["name"]): o for o in objects}

    def fetch(self, kind: str, namespace: str, name: str) -> Fetched:
        found = self.objects.get((kind, name))
        if found is None:
            return Fetched(None, f"{kind} {namespace}/{name} is not rendered by the release",
                           missing=True)
        return Fetched(found)


def test_resolver_reads_rendered_manifests_with_provenance() -> None:
    # operator-wandb 0.20-0.32: the gorilla ConfigMap comes after the global Secret and wins.
    rendered = Manifests(
        {"kind": "Secret", "metadata": {"name": "wandb-global-secret"},
         "stringData": {GC: "true", "LICENSE": "license-text"}},
        {"kind": "ConfigMap", "metadata": {"name": "wandb-gorilla-configmap"},
         "data": {GC: "false"}})
    container = {"name": "glue", "envFrom": [
        {"secretRef": {"name": "wandb-global-secret"}},
        {"configMapRef": {"name": "wandb-gorilla-configmap"}},
        {"configMapRef": {"name": "wandb-extra", "optional": True}}],
        "env": [{"name": "KEY", "valueFrom": {"secretKeyRef": {"name": "elsewhere",
                                                                  "key": "k"}}}]}
    env = container_env(container, rendered, "default", "Deployment default/wandb-glue "
                        "container glue")
    assert env.values[GC].value == "false"
    assert env.values[GC].origin == (
        f"ConfigMap default/wandb-gorilla-configmap: key {GC} (envFrom of Deployment "
        "default/wandb-glue container glue, after Secret default/wandb-global-secret)")
    assert env.values[GC].fix is None  # no fixes given: the provider knows its own
    assert env.values["KEY"].unresolved == (
        "Secret default/elsewhere is not rendered by the release (the pod cannot start without "
        "it: CreateContainerConfigError)")
    assert env.unread == ()  # the missing envFrom source is optional
    assert env.secrets == ("license-text",)  # "true" is a flag word, not a secret


# ---- which workload, which container ----------------------------------------------------------

def test_container_choice(kube: KubeServer, kubeconfig: Path) -> None:
    sidecar = {"name": "proxy", "image": "envoyproxy/envoy:v1"}
    named = {"name": "app", "image": "registry.corp/mirror/whatever:1", "env": [
        {"name": GC, "value": "true"}]}
    by_image = {"name": "server", "image": "registry.corp:5000/wandb/local:0.70@sha256:ab",
                "env": [{"name": GC, "value": "image"}]}
    kube.api.add(deployment("by-name", containers=[sidecar, named]))
    kube.api.add(deployment("by-image", containers=[sidecar, by_image]))
    kube.api.add(deployment("unclear", containers=[sidecar, {"name": "x", "image": "y"}]))
    settings = read(kubeconfig, "wandb/deployment/by-name")
    assert settings.get(GC) == "true" and "by name; others: proxy" in settings.description
    settings = read(kubeconfig, "wandb/deploy/by-image")
    assert settings.get(GC) == "image" and "by image registry.corp:5000/wandb/local" in \
        settings.description
    assert read(kubeconfig, "wandb/deployment/unclear:x").description.endswith("(as asked)")
    with pytest.raises(InputError, match=r"containers proxy, x .*:CONTAINER"):
        read(kubeconfig, "wandb/deployment/unclear")
    with pytest.raises(InputError, match=r"has no container 'nope' \(containers: proxy, x\)"):
        read(kubeconfig, "wandb/deployment/unclear:nope")


def test_statefulset_and_namespace_from_the_context(kube: KubeServer, kubeconfig: Path) -> None:
    kube.api.add(app(kind="StatefulSet", env=[{"name": GC, "value": "true"}]))
    team = app(env=[{"name": GC, "value": "team"}])
    team["metadata"]["namespace"] = "team"
    kube.api.add(team)
    assert read(kubeconfig, "STS/wandb-app").get(GC) == "true"  # context namespace: wandb
    assert read(kubeconfig, "deployment/wandb-app", context="other").get(GC) == "team"


def test_auto_finds_the_app_by_its_labels(kube: KubeServer, kubeconfig: Path) -> None:
    kube.api.add(app(env=[{"name": GC, "value": "true"}], name="wandb-app-bc"))
    kube.api.add(deployment("wandb-console", containers=[{"name": "console", "image": "c"}],
                            labels={"app.kubernetes.io/name": "console"}))
    settings = read(kubeconfig, "auto")
    assert settings.get(GC) == "true"
    assert settings.description.startswith("Deployment wandb/wandb-app-bc container app")


def test_auto_judges_every_server_workload_of_the_release(kube: KubeServer,
                                                         kubeconfig: Path) -> None:
    from gccheck.matrix import load_matrix
    from gccheck.rules import RULES, Context, evaluate

    kube.api.add(secret("wandb-global-secret", {GC: "true"}))
    kube.api.add(config_map("wandb-gorilla-configmap", {GC: "false"}))
    kube.api.add(app(env=[{"name": GC, "value": "true"}]))
    env_from = [{"secretRef": {"name": "wandb-global-secret"}},
                {"configMapRef": {"name": "wandb-gorilla-configmap"}}]

    def server(role: str, instance: str = "wandb", **labels: str) -> dict[str, Any]:
        return deployment(f"{instance}-{role}", containers=[
            {"name": "proxy", "image": "envoy"},
            {"name": role, "image": "wandb/megabinary", "envFrom": env_from}],
            labels={"app.kubernetes.io/name": role, "app.kubernetes.io/instance": instance,
                    **labels})

    # a chart whose workloads carry its version: the trap is looked up by it
    kube.api.add(server("glue", **{"helm.sh/chart": "operator-wandb-0.32.9"}))
    kube.api.add(server("api", instance="other"))  # another release
    kube.api.add(server("weave"))  # carries the variable, does not run the server
    settings = read(kubeconfig, "auto")
    assert [w.label for w in settings.workloads] == [
        "Deployment/wandb-app container app", "Deployment/wandb-glue container glue"]
    assert settings.get(GC) == "true"  # the app's: it gives the bucket
    matrix = load_matrix(None, RULES)
    result = next(r for r in evaluate(Context(matrix, matrix.hosting_types["on-prem"], settings,
                                              None, None)) if r.id == "gc-env-var")
    assert result.status.value == "fail"
    assert "Deployment/wandb-glue container glue: 'false' (from ConfigMap " \
        f"wandb/wandb-gorilla-configmap: key {GC} (envFrom of Deployment wandb/wandb-glue " \
        "container glue, after Secret wandb/wandb-global-secret))" in result.summary
    assert "wandb-api" not in result.summary and "weave" not in result.summary
    (note,) = settings.notes
    assert note.startswith("known chart trap gorilla-configmap-forces-gc-off: operator-wandb "
                           "0.32.9 renders wandb-gorilla-configmap")
    assert "kubectl set env deployment/wandb-glue -n wandb -c glue" not in (result.remediation
                                                                           or "")
    assert "kubectl patch configmap wandb-gorilla-configmap" in (result.remediation or "")


def test_auto_finds_the_legacy_chart(kube: KubeServer, kubeconfig: Path) -> None:
    labels = {"app.kubernetes.io/name": "wandb", "app.kubernetes.io/component": "local"}
    kube.api.add(deployment("wandb", containers=[{"name": "wandb", "image": "wandb/local"}],
                            labels=labels))
    kube.api.add(deployment("wandb-mysql", containers=[{"name": "mysql", "image": "mysql"}],
                            labels={**labels, "app.kubernetes.io/component": "mysql"}))
    assert read(kubeconfig, "wandb/auto").description.startswith("Deployment wandb/wandb ")


def test_auto_errors(kube: KubeServer, kubeconfig: Path) -> None:
    with pytest.raises(InputError, match=r"no W&B app workload in namespace wandb"):
        read(kubeconfig, "auto")
    kube.api.add(app(name="one"))
    kube.api.add(app(name="two", kind="StatefulSet"))
    with pytest.raises(InputError, match=r"several .*deployment/one, statefulset/two"):
        read(kubeconfig, "auto")
    kube.api.forbid("deployments", "wandb")
    with pytest.raises(InputError, match=r"cannot list deployments in namespace wandb: "
                                         r"forbidden \(needs 'list deployments'\)"):
        read(kubeconfig, "auto")


# ---- what stops the check -----------------------------------------------------------------

def test_missing_and_forbidden_workloads(kube: KubeServer, kubeconfig: Path) -> None:
    with pytest.raises(InputError, match=r"^Deployment wandb/wandb-app not found$"):
        read(kubeconfig)
    kube.api.add(app())
    kube.api.forbid("deployments", "wandb", "wandb-app")
    with pytest.raises(InputError, match=r"forbidden \(needs 'get deployments' in namespace"):
        read(kubeconfig)


def test_rejected_credentials(kube: KubeServer, tmp_path: Path) -> None:
    config = write_kubeconfig(tmp_path / "kc", kube.url, token="wrong")
    with pytest.raises(InputError, match="refused the credentials"):
        read(config)


def test_unreachable_cluster_fails_fast(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = write_kubeconfig(tmp_path / "kc", f"http://127.0.0.1:{port}")
    started = time.monotonic()
    with pytest.raises(InputError, match=r"could not connect to the Kubernetes API at http://127\.0\.0\.1:\d+$"):
        read(config, timeout=5)
    assert time.monotonic() - started < 1.5


def test_silent_cluster_respects_the_timeout(kube: KubeServer, kubeconfig: Path) -> None:
    kube.api.delay = 3
    started = time.monotonic()
    with pytest.raises(InputError, match=r"no answer from the Kubernetes API at .* within 0\.5 s"):
        read(kubeconfig, timeout=0.5)
    assert time.monotonic() - started < 1.5


def test_slow_config_maps_run_out_of_time_as_unknown(kube: KubeServer, kubeconfig: Path) -> None:
    kube.api.add(config_map("c1", {GC: "true"}))
    kube.api.add(app(env=[{"name": GC, "valueFrom": {"configMapKeyRef": {"name": "c1",
                                                                          "key": GC}}}]))
    kube.api.delay = 0.4
    started = time.monotonic()
    setting = read(kubeconfig, timeout=0.6).values[GC]
    assert time.monotonic() - started < 1.5
    assert setting.value is None and "within 0.6 s" in (setting.unresolved or "")


def test_kubeconfig_problems(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"--kubeconfig .*: no such file"):
        read(tmp_path / "missing")
    with pytest.raises(InputError, match=r"no kubeconfig at .* and not running in a cluster"):
        WorkloadSource("auto", environ={"KUBECONFIG": str(tmp_path / "none")}).read()
    config = write_kubeconfig(tmp_path / "kc", "http://127.0.0.1:1")
    with pytest.raises(InputError, match=r"kubeconfig .*kc: .*nope"):
        read(config, context="nope")


def test_in_cluster_config_is_tried_without_a_kubeconfig(tmp_path: Path) -> None:
    # Outside a pod the service account token is missing: a clear error, not a traceback.
    environ = {"KUBECONFIG": str(tmp_path / "none"), "KUBERNETES_SERVICE_HOST": "127.0.0.1",
               "KUBERNETES_SERVICE_PORT": "1"}
    with pytest.raises(InputError, match=r"^in-cluster Kubernetes config: "):
        WorkloadSource("auto", environ=environ).read()


def test_kubeconfig_from_the_environment(kube: KubeServer, kubeconfig: Path) -> None:
    kube.api.add(app(env=[{"name": GC, "value": "true"}]))
    source = WorkloadSource("auto", environ={"KUBECONFIG": f"/nonexistent:{kubeconfig}"})
    assert source.read().get(GC) == "true"


# ---- secrets never reach the report -----------------------------------------------------------

@pytest.mark.parametrize("fmt", ["table", "json", "markdown", "junit"])
def test_secret_values_never_printed(kube: KubeServer, kubeconfig: Path, moto_server: S3Server,
                                     fmt: str) -> None:
    from support.constants import TEST_KEY, TEST_SECRET

    bucket = make_bucket(moto_server, "Enabled")
    license_text = "license-jwt-0123456789abcdef"
    kube.api.add(secret("wandb-bucket", {"ACCESS_KEY": TEST_KEY, "SECRET_KEY": TEST_SECRET}))
    kube.api.add(secret("wandb-license", {"LICENSE": license_text,
                                          GC.replace("ENABLED", "ENABLE"): license_text}))
    ref = {"name": "wandb-bucket"}
    kube.api.add(app(env_from=[{"secretRef": {"name": "wandb-license"}}], env=[
        {"name": "BUCKET_ACCESS_KEY", "valueFrom": {"secretKeyRef": {**ref, "key": "ACCESS_KEY"}}},
        {"name": "BUCKET_SECRET_KEY", "valueFrom": {"secretKeyRef": {**ref, "key": "SECRET_KEY"}}},
        {"name": "BUCKET", "value": "s3://$(BUCKET_ACCESS_KEY):$(BUCKET_SECRET_KEY)@"
                                    f"{moto_server.host}:{moto_server.port}/{bucket}"},
    ]))
    run = run_gccheck("check", "--hosting", "customer-managed-cloud", "--workload", "auto",
                      "--kubeconfig", str(kubeconfig), "--format", fmt, "--timeout", "5")
    assert run.code == 1, run.err  # the env var is missing; the bucket is fine
    text = run.out + run.err
    assert "versioning is enabled" in text
    assert "did you mean GORILLA_ARTIFACT_GC_ENABLE " in text
    for value in (TEST_SECRET, license_text, TEST_KEY):
        for form in (value, base64.b64encode(value.encode()).decode()):
            assert form not in text, (fmt, form)


# ---- what the API answers is shown neutralised ------------------------------------------------

def test_hostile_names_and_keys_are_neutralised(kube: KubeServer, kubeconfig: Path) -> None:
    esc = "\x1b]0;pwned\x07"
    kube.api.add(config_map("cm", {GC: "true", f"BAD{esc}KEY": "x", "A=B": "y"}))
    kube.api.add(app(env_from=[{"configMapRef": {"name": "cm"}}],
                     env=[{"name": "W", "valueFrom": {"fieldRef": {"fieldPath": f"x{esc}"}}}],
                     labels={}, annotations={"meta.helm.sh/release-name": f"r{esc}"}))
    settings = read(kubeconfig)
    # The kubelet skips envFrom keys that are not environment variable names.
    assert sorted(settings.values) == [GC, "W"]
    shown = [settings.values["W"].origin, settings.values["W"].unresolved or "",
             settings.values[GC].fix or "", settings.fix_missing]
    assert all("\x1b" not in text and "\x07" not in text for text in shown), shown
    assert "x\\x1b]0;pwned\\x07" in settings.values["W"].origin
    assert "release r\\x1b]0;pwned\\x07" in settings.fix_missing
