"""The Helm hook chart (charts/gccheck), rendered and linted by the real Helm v4 engine.

helm-python-sdk bundles Helm as a library: `Chart.load(path).render(values, ...)` is what
`helm template` does (schema validation included) and `lint(path, values)` is `helm lint`.
No cluster: the end-to-end tests take the rendered Job's env and args, resolve them as the
kubelet would (secretKeyRef from a test Secret or the Secret the chart renders, $(VAR)
expansion) and run gccheck with them against a local S3 server.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml
from support.constants import NONCURRENT_RULE, REPO, TEST_KEY, TEST_SECRET
from support.ports import closed_port
from support.run import run_gccheck
from support.s3 import S3Server, make_bucket

CHART = REPO / "charts" / "gccheck"
UMBRELLA = REPO / "examples" / "umbrella"
HOSTING_TYPES = ["shared-cloud", "shared-cloud-ssc", "dedicated-cloud", "dedicated-cloud-ssc",
                 "customer-managed-cloud", "on-prem"]
BASE: dict[str, Any] = {"hosting": "customer-managed-cloud"}

Manifest = dict[str, Any]


# ---- rendering helpers ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chart() -> Iterator[Any]:
    with helm.Chart.load(CHART) as loaded:
        yield loaded


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def render_text(chart: Any, values: Mapping[str, Any], *, name: str = "wandb",
                namespace: str = "wandb", upgrade: bool = False) -> dict[str, str]:
    """Template path -> rendered text, as `helm template` (or an upgrade's render) makes it."""
    rendered: dict[str, str] = chart.render(dict(values), name=name, namespace=namespace,
                                            is_install=not upgrade, is_upgrade=upgrade)
    return rendered


def manifests_of(rendered: Mapping[str, str]) -> list[Manifest]:
    docs: list[Manifest] = []
    for path, text in rendered.items():
        if path.endswith(".txt"):
            continue
        docs.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return docs


def render(chart: Any, values: Mapping[str, Any] | None = None, **kwargs: Any) -> list[Manifest]:
    return manifests_of(render_text(chart, deep_merge(BASE, values or {}), **kwargs))


def after_release(manifest: Manifest) -> bool:
    """Whether it belongs to the check after the release (verify.yaml: post-install hooks)."""
    hooks = manifest["metadata"].get("annotations", {}).get("helm.sh/hook", "")
    return "post-install" in hooks.split(",") and "pre-install" not in hooks.split(",")


def only(manifests: list[Manifest], kind: str) -> Manifest:
    """The one `kind` of the check before the release and the test pod (not verify.yaml's)."""
    found = [m for m in manifests if m["kind"] == kind and not after_release(m)]
    assert len(found) == 1, f"expected one {kind}, got {[m['kind'] for m in manifests]}"
    return found[0]


def job_container(manifests: list[Manifest]) -> dict[str, Any]:
    containers = only(manifests, "Job")["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    container: dict[str, Any] = containers[0]
    return container


def env_entries(manifests: list[Manifest]) -> dict[str, dict[str, Any]]:
    entries = job_container(manifests)["env"]
    names = [e["name"] for e in entries]
    assert len(names) == len(set(names)), f"duplicate env names: {names}"
    return {e["name"]: e for e in entries}


def hook_events(manifest: Manifest) -> set[str]:
    return set(manifest["metadata"]["annotations"]["helm.sh/hook"].split(","))


def hook_weight(manifest: Manifest) -> int:
    return int(manifest["metadata"]["annotations"].get("helm.sh/hook-weight", "0"))


def delete_policies(manifest: Manifest) -> set[str]:
    return set(manifest["metadata"]["annotations"]["helm.sh/hook-delete-policy"].split(","))


def s3_values(server_host: str, bucket: str, **bucket_extra: Any) -> dict[str, Any]:
    return {"global": {"bucket": {"provider": "s3", "name": server_host, "path": bucket,
                                  "region": "us-east-1",
                                  "secret": {"secretName": "wandb-bucket-keys"},
                                  **bucket_extra}}}


# ---- chart files ------------------------------------------------------------------------------


def test_lint_is_clean() -> None:
    ci_values = yaml.safe_load((CHART / "ci" / "default-values.yaml").read_text())
    inline_keys = deep_merge(ci_values, {"global": {"bucket": {
        "provider": "s3", "name": "files", "accessKey": "AK", "secretKey": "SK"}}})
    for values in (ci_values, inline_keys):  # the second renders the key Secret too
        for strict in (False, True):
            report = helm.lint(CHART, values, strict=strict)
            problems = [m for m in report["messages"] if m["severity"] >= 2]
            assert not problems and not report["errors"], report


def test_lint_says_hosting_is_missing() -> None:
    report = helm.lint(CHART)
    assert any("hosting" in error for error in report["errors"]), report


def test_chart_metadata(chart: Any) -> None:
    import gccheck

    meta = chart.metadata
    assert meta["apiVersion"] == "v2"
    assert meta["name"] == "gccheck"
    assert meta["appVersion"] == gccheck.__version__
    image = job_container(render(chart))["image"]
    assert image == f"gccheck:{gccheck.__version__}"


# Keys whose values are Kubernetes objects passed through as they are.
_PASSTHROUGH = {"resources", "podSecurityContext", "securityContext"}


def test_every_values_key_has_a_comment() -> None:
    lines = (CHART / "values.yaml").read_text().splitlines()
    undocumented: list[str] = []
    inside: int | None = None  # indentation of a passthrough key we are inside
    for number, line in enumerate(lines, 1):
        match = re.match(r"^(\s*)([A-Za-z][\w-]*):", line)
        if not match:
            continue
        indent = len(match.group(1))
        if inside is not None and indent > inside:
            continue
        inside = indent if match.group(2) in _PASSTHROUGH else None
        if not lines[number - 2].lstrip().startswith("#"):
            undocumented.append(f"{number}: {line.strip()}")
    assert not undocumented


def test_hosting_types_match_matrix_and_schema() -> None:
    matrix = yaml.safe_load((REPO / "matrix.yaml").read_text())
    schema = json.loads((CHART / "values.schema.json").read_text())
    helpers = (CHART / "templates" / "_helpers.tpl").read_text()
    listed = re.search(r'define "gccheck.hostingTypes" -}}\n(.*)\n', helpers)
    assert listed is not None
    assert sorted(matrix["hosting-types"]) == sorted(HOSTING_TYPES)
    assert schema["properties"]["hosting"]["enum"] == HOSTING_TYPES
    assert listed.group(1).split() == HOSTING_TYPES


# ---- hooks ------------------------------------------------------------------------------------


def test_everything_is_a_hook_and_ordered(chart: Any) -> None:
    manifests = render(chart)
    # Ordinary resources would only be created after the pre-install hooks: everything the
    # Job needs must itself be a hook.
    assert all("helm.sh/hook" in m["metadata"].get("annotations", {}) for m in manifests)
    assert sorted(m["kind"] for m in manifests if not after_release(m)) == [
        "Job", "Pod", "ServiceAccount"]
    job, account, test_pod = (only(manifests, k) for k in ("Job", "ServiceAccount", "Pod"))
    assert hook_events(job) == {"pre-install", "pre-upgrade"}
    assert delete_policies(job) == {"before-hook-creation", "hook-succeeded"}
    assert hook_events(account) == {"pre-install", "pre-upgrade", "post-install", "post-upgrade",
                                    "test"}
    assert delete_policies(account) == {"before-hook-creation", "hook-succeeded"}
    assert hook_weight(account) < hook_weight(job)
    assert hook_events(test_pod) == {"test"}
    assert hook_weight(account) < hook_weight(test_pod)
    # The test pod stays after `helm test` so that --logs can show its report.
    assert delete_policies(test_pod) == {"before-hook-creation"}
    assert job["spec"]["template"]["spec"]["serviceAccountName"] == account["metadata"]["name"]
    # The check before the release never calls the Kubernetes API: no token, no Role.
    assert account["automountServiceAccountToken"] is False
    assert job["spec"]["template"]["spec"]["automountServiceAccountToken"] is False
    assert test_pod["spec"]["automountServiceAccountToken"] is False
    assert not [m for m in manifests if m["kind"] in ("Role", "RoleBinding")
                and not after_release(m)]


# ---- the check after the release: --workload auto on the running release ---------------------

VERIFY_RULES = [
    {"apiGroups": ["apps"], "resources": ["deployments", "statefulsets"], "verbs": ["get", "list"]},
    {"apiGroups": [""], "resources": ["configmaps", "secrets"], "verbs": ["get", "list"]},
]


def test_the_release_is_verified_after_install_and_upgrade(chart: Any) -> None:
    values = deep_merge(s3_values("minio.example.com", "wandb"),
                        {"extraArgs": ["--endpoint-url", "https://minio.example.com"],
                         "global": {"extraEnv": {"GORILLA_ARTIFACT_GC_ENABLED": "true"}}})
    manifests = render(chart, values, namespace="wandb-prod", name="prod")
    verify = [m for m in manifests if after_release(m)]
    assert sorted(m["kind"] for m in verify) == ["Job", "Role", "RoleBinding"]
    role, binding, job = (next(m for m in verify if m["kind"] == k)
                          for k in ("Role", "RoleBinding", "Job"))
    account = only(manifests, "ServiceAccount")
    for manifest in verify:
        assert hook_events(manifest) == {"post-install", "post-upgrade"}
        assert delete_policies(manifest) == {"before-hook-creation", "hook-succeeded"}
        assert manifest["metadata"]["namespace"] == "wandb-prod"
        assert manifest["metadata"]["name"] == "prod-gccheck-verify"
    # the ServiceAccount (-20) and the Role (-20) before the binding (-19) before the Job (-10)
    assert hook_weight(account) <= hook_weight(role) < hook_weight(binding) < hook_weight(job)
    assert role["rules"] == VERIFY_RULES
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                  "name": "prod-gccheck-verify"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account["metadata"]["name"],
                                    "namespace": "wandb-prod"}]
    spec = job["spec"]["template"]["spec"]
    assert job["spec"]["backoffLimit"] == 0 and spec["restartPolicy"] == "Never"
    assert spec["serviceAccountName"] == account["metadata"]["name"]
    assert spec["automountServiceAccountToken"] is True  # it calls the Kubernetes API
    (container,) = spec["containers"]
    assert container["args"] == [
        "check", "--hosting", "customer-managed-cloud", "--name", "prod",
        "--workload", "wandb-prod/auto", "--timeout", "30", "--fail-on", "unknown",
        "--termination-message", "/dev/termination-log",
        "--endpoint-url", "https://minio.example.com"]
    # the settings come from the running workloads (and operator-wandb's own Secrets), not
    # from an environment the chart builds
    assert "env" not in container
    before = only(manifests, "Job")["spec"]["template"]["spec"]["containers"][0]
    assert {k: v for k, v in container.items() if k not in ("args", "env")} == {
        k: v for k, v in before.items() if k not in ("args", "env")}


def test_the_check_after_the_release_can_be_turned_off(chart: Any) -> None:
    manifests = render(chart, {"verify": {"enabled": False}})
    assert not [m for m in manifests if after_release(m)]
    assert sorted(m["kind"] for m in manifests) == ["Job", "Pod", "ServiceAccount"]
    assert render(chart, {"enabled": False, "verify": {"enabled": True}}) == []


def test_job_runs_once_and_reports_its_verdict(chart: Any) -> None:
    manifests = render(chart)
    job = only(manifests, "Job")
    assert job["spec"]["backoffLimit"] == 0
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    container = job_container(manifests)
    assert container["terminationMessagePolicy"] == "FallbackToLogsOnError"
    assert container["terminationMessagePath"] == "/dev/termination-log"
    args = container["args"]
    assert args[0] == "check"
    assert args[args.index("--termination-message") + 1] == "/dev/termination-log"
    assert args[args.index("--hosting") + 1] == "customer-managed-cloud"
    assert args[args.index("--name") + 1] == "wandb"
    assert "command" not in container  # the image's entrypoint is gccheck


@pytest.mark.parametrize(("timeout", "grace", "deadline"), [(30, 120, 150), (600, 120, 720),
                                                             (1, 0, 1), (45, 15, 60)])
def test_deadline_follows_timeout(chart: Any, timeout: int, grace: int, deadline: int) -> None:
    manifests = render(chart, {"timeoutSeconds": timeout, "startupGraceSeconds": grace})
    assert only(manifests, "Job")["spec"]["activeDeadlineSeconds"] == deadline
    assert only(manifests, "Pod")["spec"]["activeDeadlineSeconds"] == deadline
    args = job_container(manifests)["args"]
    assert args[args.index("--timeout") + 1] == str(timeout)


@pytest.mark.parametrize("fail_on", ["fail", "unknown", "never"])
def test_fail_on_maps_to_the_flag(chart: Any, fail_on: str) -> None:
    args = job_container(render(chart, {"failOn": fail_on}))["args"]
    assert args.count("--fail-on") == 1
    assert args[args.index("--fail-on") + 1] == fail_on


def test_fail_on_defaults_to_unknown(chart: Any) -> None:
    args = job_container(render(chart))["args"]
    assert args[args.index("--fail-on") + 1] == "unknown"


def test_test_pod_runs_the_same_check(chart: Any) -> None:
    values = deep_merge(s3_values("minio.example.com", "wandb"),
                        {"global": {"extraEnv": {"GORILLA_ARTIFACT_GC_ENABLED": "true"}}})
    manifests = render(chart, values)
    pod_spec = only(manifests, "Pod")["spec"]
    job_spec = only(manifests, "Job")["spec"]["template"]["spec"]
    assert pod_spec["containers"] == job_spec["containers"]
    assert pod_spec["restartPolicy"] == "Never"


# ---- values -----------------------------------------------------------------------------------


@pytest.mark.parametrize("hosting", HOSTING_TYPES)
def test_every_hosting_type_renders(chart: Any, hosting: str) -> None:
    args = job_container(render(chart, {"hosting": hosting}))["args"]
    assert args[args.index("--hosting") + 1] == hosting


@pytest.mark.parametrize(("values", "message"), [
    ({}, "hosting"),
    ({"hosting": ""}, "hosting"),
    ({"hosting": "self-managed"}, "hosting"),
    ({"hosting": 3}, "hosting"),
    ({"hosting": "on-prem", "failOn": "warn"}, "failOn"),
    ({"hosting": "on-prem", "timeoutSeconds": 0}, "timeoutSeconds"),
    ({"hosting": "on-prem", "timeoutSeconds": 601}, "timeoutSeconds"),
    ({"hosting": "on-prem", "failon": "fail"}, "failon"),
    ({"hosting": "on-prem", "global": {"extraEnv": {"X": ["a"]}}}, "extraEnv"),
    ({"hosting": "on-prem", "verify": {"enabled": "yes"}}, "enabled"),
    ({"hosting": "on-prem", "verify": {"enable": True}}, "enable"),
])
def test_schema_rejects(chart: Any, values: dict[str, Any], message: str) -> None:
    with pytest.raises(helm.HelmValuesError, match=message):
        chart.render(values, name="wandb", namespace="wandb")


@pytest.fixture(scope="module")
def chart_without_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The chart as `helm install --skip-schema-validation` sees it."""
    copy = tmp_path_factory.mktemp("noschema") / "gccheck"
    shutil.copytree(CHART, copy)
    (copy / "values.schema.json").unlink()
    with helm.Chart.load(copy) as loaded:
        yield loaded


@pytest.mark.parametrize(("hosting", "message"), [
    ("", r"set `hosting` \(in an umbrella chart `gccheck.hosting`\)"),
    ("self-managed", r'hosting "self-managed" is not a hosting type; use one of: shared-cloud'),
])
def test_templates_fail_clearly_without_schema(chart_without_schema: Any, hosting: str,
                                               message: str) -> None:
    with pytest.raises(helm.HelmRenderError, match=message):
        chart_without_schema.render({"hosting": hosting}, name="wandb", namespace="wandb")


def test_disabled_renders_nothing(chart: Any) -> None:
    assert render(chart, {"enabled": False}) == []


def test_pod_options_pass_through(chart: Any) -> None:
    values = {
        "image": {"repository": "registry.example.com/gccheck", "tag": "9.9.9",
                  "pullPolicy": "Always"},
        "imagePullSecrets": [{"name": "regcred"}],
        "extraArgs": ["--endpoint-url", "https://minio.example.com", "--strict"],
        "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "wandb",
                         "effect": "NoSchedule"}],
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [
                {"key": "pool", "operator": "In", "values": ["system"]}]}]}}},
        "podLabels": {"azure.workload.identity/use": "true"},
        "podAnnotations": {"example.com/owner": "platform"},
    }
    manifests = render(chart, values)
    job = only(manifests, "Job")
    spec = job["spec"]["template"]["spec"]
    container = spec["containers"][0]
    assert container["image"] == "registry.example.com/gccheck:9.9.9"
    assert container["imagePullPolicy"] == "Always"
    assert spec["imagePullSecrets"] == [{"name": "regcred"}]
    assert container["args"][-3:] == ["--endpoint-url", "https://minio.example.com", "--strict"]
    assert container["resources"] == {"limits": {"cpu": "1", "memory": "1Gi"},
                                      "requests": {"cpu": "50m", "memory": "128Mi"}}
    assert spec["nodeSelector"] == values["nodeSelector"]
    assert spec["tolerations"] == values["tolerations"]
    assert spec["affinity"] == values["affinity"]
    pod_meta = job["spec"]["template"]["metadata"]
    assert pod_meta["labels"]["azure.workload.identity/use"] == "true"
    assert pod_meta["annotations"] == values["podAnnotations"]
    assert only(manifests, "Pod")["metadata"]["labels"]["azure.workload.identity/use"] == "true"


@pytest.mark.parametrize(("account", "expected_name", "created"), [
    ({}, "wandb-gccheck", True),
    ({"name": "gc-checker"}, "gc-checker", True),
    ({"create": False}, "default", False),
    ({"create": False, "name": "wandb-app"}, "wandb-app", False),
])
def test_service_account(chart: Any, account: dict[str, Any], expected_name: str,
                         created: bool) -> None:
    annotations = {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/gccheck"}
    manifests = render(chart, {"serviceAccount": {**account, "annotations": annotations}})
    assert only(manifests, "Job")["spec"]["template"]["spec"]["serviceAccountName"] == expected_name
    accounts = [m for m in manifests if m["kind"] == "ServiceAccount"]
    assert len(accounts) == int(created)
    if created:
        assert accounts[0]["metadata"]["name"] == expected_name
        assert accounts[0]["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == \
            annotations["eks.amazonaws.com/role-arn"]


def test_security_context(chart: Any) -> None:
    manifests = render(chart)
    for spec in (only(manifests, "Job")["spec"]["template"]["spec"], only(manifests, "Pod")["spec"]):
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True
        assert pod["runAsUser"] == 65532
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
        container = spec["containers"][0]
        ctx = container["securityContext"]
        assert ctx["runAsNonRoot"] is True
        assert ctx["readOnlyRootFilesystem"] is True
        assert ctx["allowPrivilegeEscalation"] is False
        assert ctx["capabilities"] == {"drop": ["ALL"]}
        assert ctx["seccompProfile"] == {"type": "RuntimeDefault"}
        # The read-only root filesystem needs a writable /tmp.
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert "emptyDir" in volumes[mounts["/tmp"]]


# ---- the environment W&B's app would get ------------------------------------------------------

# operator-wandb's precedence, most specific first: the first map that sets a name wins.
LEVELS = ["app.containers.app.env", "app.env", "app.extraEnv", "global.env", "global.extraEnv"]


def env_values(settings: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Values that set each level's env map ({level: {NAME: value}})."""
    values: dict[str, Any] = {}
    for level, env in settings.items():
        node = values
        *parents, leaf = level.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = dict(env)
    return values


def plain(level: str) -> str:
    return f"from {level}"


def secret_ref(level: str) -> dict[str, Any]:
    return {"valueFrom": {"secretKeyRef": {"name": level.replace(".", "-").lower(), "key": "k"}}}


def expected_entry(name: str, value: Any) -> dict[str, Any]:
    return {"name": name, **value} if isinstance(value, dict) else {"name": name, "value": value}


SUBSETS = [combo for size in range(1, len(LEVELS) + 1)
           for combo in itertools.combinations(LEVELS, size)]


@pytest.mark.parametrize("kind", ["plain", "valueFrom"])
@pytest.mark.parametrize("levels", SUBSETS, ids=["+".join(s) for s in SUBSETS])
def test_env_precedence_every_combination(chart: Any, levels: tuple[str, ...], kind: str) -> None:
    make = plain if kind == "plain" else secret_ref
    values = env_values({level: {"GORILLA_ARTIFACT_GC_ENABLED": make(level),
                                 f"ONLY_{i}": f"v{i}"} for i, level in enumerate(levels)})
    env = env_entries(render(chart, values))
    winner = levels[0]  # LEVELS order is most specific first
    assert env["GORILLA_ARTIFACT_GC_ENABLED"] == expected_entry(
        "GORILLA_ARTIFACT_GC_ENABLED", make(winner))
    for i in range(len(levels)):  # names set once come through from any level
        assert env[f"ONLY_{i}"]["value"] == f"v{i}"


@pytest.mark.parametrize(("specific", "general"), [
    (plain("app.env"), secret_ref("global.extraEnv")),
    (secret_ref("app.env"), plain("global.extraEnv")),
])
def test_env_precedence_mixed_forms(chart: Any, specific: Any, general: Any) -> None:
    values = env_values({"app.env": {"GORILLA_ARTIFACT_GC_ENABLED": specific},
                         "global.extraEnv": {"GORILLA_ARTIFACT_GC_ENABLED": general}})
    env = env_entries(render(chart, values))
    assert env["GORILLA_ARTIFACT_GC_ENABLED"] == expected_entry("GORILLA_ARTIFACT_GC_ENABLED",
                                                                specific)


@pytest.mark.parametrize(("empty", "expected"), [("", "true"), (False, "true"), (None, "true")])
def test_empty_value_counts_as_unset_like_operator_wandb(chart: Any, empty: Any,
                                                         expected: str) -> None:
    # operator-wandb merges the maps with sprig `merge`, which fills empty values from the
    # next map: the hook must see what W&B sees, quirk included.
    values = env_values({"app.env": {"GORILLA_ARTIFACT_GC_ENABLED": empty},
                         "global.extraEnv": {"GORILLA_ARTIFACT_GC_ENABLED": "true"}})
    assert env_entries(render(chart, values))["GORILLA_ARTIFACT_GC_ENABLED"]["value"] == expected


@pytest.mark.parametrize(("value", "rendered"), [(True, "true"), (1, "1"), ("yes", "yes")])
def test_env_values_become_strings(chart: Any, value: Any, rendered: str) -> None:
    values = env_values({"global.extraEnv": {"GORILLA_ARTIFACT_GC_ENABLED": value}})
    assert env_entries(render(chart, values))["GORILLA_ARTIFACT_GC_ENABLED"]["value"] == rendered


def test_env_values_are_templated_like_operator_wandb(chart: Any) -> None:
    values = env_values({"global.extraEnv": {"GORILLA_HOST_NAME": "{{ .Release.Name }}-app"}})
    assert env_entries(render(chart, values, name="prod"))["GORILLA_HOST_NAME"]["value"] == "prod-app"


# ---- the bucket -------------------------------------------------------------------------------

_KEYS = "$(BUCKET_ACCESS_KEY):$(BUCKET_SECRET_KEY)@"


@pytest.mark.parametrize(("bucket", "default", "url"), [
    ({"provider": "s3", "name": "files"}, {}, "s3://files"),
    ({"name": "files", "region": "us-east-1"}, {}, "s3://files"),  # no provider: s3
    ({"provider": "s3", "name": "files", "path": "wandb/"}, {}, "s3://files/wandb"),
    ({"provider": "s3", "name": "files", "secret": {"secretName": "keys"}}, {},
     f"s3://{_KEYS}files"),
    ({"provider": "s3", "name": "minio.example.com", "path": "wandb",
      "secret": {"secretName": "keys"}}, {}, f"s3://{_KEYS}minio.example.com/wandb"),
    ({"provider": "cw", "name": "cwobject.com", "path": "wandb",
      "secret": {"secretName": "keys"}}, {}, f"cw://{_KEYS}cwobject.com/wandb"),
    ({"provider": "gcs", "name": "files", "secret": {"secretName": "keys"}}, {}, "gs://files"),
    ({"provider": "az", "name": "account", "path": "container"}, {}, "az://account/container"),
    # No global.bucket.name: operator-wandb falls back to global.defaultBucket.
    ({}, {"provider": "gcs", "name": "managed", "path": "p"}, "gs://managed/p"),
    ({"provider": "az"}, {"name": "managed"}, "s3://managed"),
])
def test_bucket_url_as_operator_wandb_renders_it(chart: Any, bucket: dict[str, Any],
                                                 default: dict[str, Any], url: str) -> None:
    env = env_entries(render(chart, {"global": {"bucket": bucket, "defaultBucket": default}},
                             upgrade=True))
    assert env["BUCKET"] == {"name": "BUCKET", "value": url}


def test_no_bucket_name_no_bucket_variable(chart: Any) -> None:
    assert "BUCKET" not in env_entries(render(chart))


def test_region_and_kms_key(chart: Any) -> None:
    env = env_entries(render(chart, {"global": {"bucket": {
        "provider": "s3", "name": "files", "region": "eu-west-1", "kmsKey": "arn:aws:kms:k"}}}))
    assert env["AWS_REGION"]["value"] == "eu-west-1"
    assert env["AWS_S3_KMS_ID"]["value"] == "arn:aws:kms:k"


def test_keys_are_expanded_before_the_bucket_variable(chart: Any) -> None:
    names = [e["name"] for e in job_container(render(chart, s3_values("h.example.com", "b")))["env"]]
    assert names.index("BUCKET_ACCESS_KEY") < names.index("BUCKET")
    assert names.index("BUCKET_SECRET_KEY") < names.index("BUCKET")


INLINE_KEY, INLINE_SECRET = "AKIAINLINEKEY0000000", "inline/secret+key0000000000000000000000"


def inline_values(**bucket: Any) -> dict[str, Any]:
    return {"global": {"bucket": {"provider": "s3", "name": "files", "accessKey": INLINE_KEY,
                                  "secretKey": INLINE_SECRET, **bucket}}}


def encodings(key: str) -> list[str]:
    return [key, base64.b64encode(key.encode()).decode()]


def key_refs(env: Mapping[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {variable: env[variable]["valueFrom"]["secretKeyRef"]
            for variable in ("BUCKET_ACCESS_KEY", "BUCKET_SECRET_KEY", "AZURE_STORAGE_KEY")}


def expected_refs(name: str, access: str, secret_key: str) -> dict[str, dict[str, Any]]:
    return {"BUCKET_ACCESS_KEY": {"name": name, "key": access, "optional": True},
            "BUCKET_SECRET_KEY": {"name": name, "key": secret_key, "optional": True},
            "AZURE_STORAGE_KEY": {"name": name, "key": access, "optional": True}}


@pytest.mark.parametrize("upgrade", [False, True], ids=["install", "upgrade"])
@pytest.mark.parametrize(("secret", "name", "access", "secret_key"), [
    ({"secretName": "wandb-bucket-keys"}, "wandb-bucket-keys", "ACCESS_KEY", "SECRET_KEY"),
    ({"secretName": "s", "accessKeyName": "id", "secretKeyName": "pw"}, "s", "id", "pw"),
])
def test_named_secret_is_read_and_inline_keys_never_rendered(
        chart: Any, secret: dict[str, Any], name: str, access: str, secret_key: str,
        upgrade: bool) -> None:
    # With global.bucket.secret.secretName operator-wandb reads the keys from that Secret and
    # ignores inline ones: so does the hook, and it renders no Secret of its own.
    text = render_text(chart, deep_merge(BASE, inline_values(secret=secret)), upgrade=upgrade)
    everything = "\n".join(text.values())
    for key in (INLINE_KEY, INLINE_SECRET):
        for form in encodings(key):
            assert form not in everything
    manifests = manifests_of(text)
    assert "Secret" not in [m["kind"] for m in manifests]
    assert key_refs(env_entries(manifests)) == expected_refs(name, access, secret_key)
    assert env_entries(manifests)["BUCKET"]["value"] == f"s3://{_KEYS}files"


@pytest.mark.parametrize("upgrade", [False, True], ids=["install", "upgrade"])
@pytest.mark.parametrize(("values", "access", "secret_key"), [
    (inline_values(), "ACCESS_KEY", "SECRET_KEY"),
    # operator-wandb names the keys after global.bucket.secret even when the keys are inline.
    (inline_values(secret={"accessKeyName": "id", "secretKeyName": "pw"}), "id", "pw"),
    # No global.bucket.name: operator-wandb takes the keys of global.defaultBucket.
    ({"global": {"defaultBucket": {"provider": "s3", "name": "files", "accessKey": INLINE_KEY,
                                   "secretKey": INLINE_SECRET},
                 "bucket": {"accessKey": "ignored-key", "secretKey": "ignored-secret"}}},
     "ACCESS_KEY", "SECRET_KEY"),
], ids=["global.bucket", "key-names", "defaultBucket"])
def test_inline_keys_only_in_the_hooks_own_secret(chart: Any, values: dict[str, Any],
                                                  access: str, secret_key: str,
                                                  upgrade: bool) -> None:
    # operator-wandb writes inline keys to "<release>-bucket", an ordinary resource: before the
    # first install's hooks it does not exist, before an upgrade's it holds the old keys. The
    # hook writes them to a Secret of its own, and the Job reads them only by reference.
    text = render_text(chart, deep_merge(BASE, values), upgrade=upgrade)
    manifests = manifests_of(text)
    secret = only(manifests, "Secret")
    job = only(manifests, "Job")
    assert secret["metadata"]["name"] == "wandb-gccheck-keys"
    assert secret["metadata"]["namespace"] == "wandb"
    assert secret["data"] == {access: base64.b64encode(INLINE_KEY.encode()).decode(),
                              secret_key: base64.b64encode(INLINE_SECRET.encode()).decode()}
    # A hook of both events, made before the Job and deleted with it.
    assert hook_events(secret) == {"pre-install", "pre-upgrade"}
    assert hook_weight(secret) < hook_weight(job)
    assert delete_policies(secret) == delete_policies(job)
    # The keys, plain or base64, are in that Secret and nowhere else.
    outside = [m for m in manifests if m["kind"] != "Secret"]
    outside_text = json.dumps(outside) + text["gccheck/templates/NOTES.txt"]
    for key in (INLINE_KEY, INLINE_SECRET, "ignored-key", "ignored-secret"):
        for form in encodings(key):
            assert form not in outside_text
    assert INLINE_KEY not in text["gccheck/templates/keys-secret.yaml"]
    # The Job reads that Secret by secretKeyRef only.
    env = env_entries(manifests)
    assert key_refs(env) == expected_refs("wandb-gccheck-keys", access, secret_key)
    assert env["BUCKET"]["value"] == f"s3://{_KEYS}files"
    # `helm test` runs after the release: operator-wandb's Secret exists by then, and the
    # hook's own is gone.
    test_env = {e["name"]: e for e in only(manifests, "Pod")["spec"]["containers"][0]["env"]}
    assert key_refs(test_env) == expected_refs("wandb-bucket", access, secret_key)


def test_hooks_own_secret_like_operator_wandbs_holds_only_the_keys_set(chart: Any) -> None:
    manifests = render(chart, {"global": {"bucket": {"provider": "az", "name": "account",
                                                     "path": "container",
                                                     "accessKey": INLINE_KEY}}})
    assert only(manifests, "Secret")["data"] == {
        "ACCESS_KEY": base64.b64encode(INLINE_KEY.encode()).decode()}
    assert key_refs(env_entries(manifests))["AZURE_STORAGE_KEY"]["name"] == "wandb-gccheck-keys"


@pytest.mark.parametrize("values", [
    {},
    {"global": {"bucket": {"provider": "s3", "name": "files"}}},
    {"global": {"bucket": {"provider": "s3", "name": "files", "accessKey": "",
                           "secretKey": ""}}},
    inline_values(secret={"secretName": "keys"}),
    {"enabled": False, **inline_values()},
])
def test_no_own_secret_without_inline_keys(chart: Any, values: dict[str, Any]) -> None:
    for upgrade in (False, True):
        kinds = [m["kind"] for m in render(chart, values, upgrade=upgrade)]
        assert "Secret" not in kinds


def test_own_secret_name_is_not_operator_wandbs(chart: Any) -> None:
    # A release called like the chart makes the full name the release name: the hook's Secret
    # must still not be "<release>-bucket", which operator-wandb owns.
    for release in ("gccheck", "wandb-gccheck", "x" * 60):
        secret = only(render(chart, inline_values(), name=release), "Secret")
        assert secret["metadata"]["name"] != f"{release}-bucket"
        assert len(secret["metadata"]["name"]) <= 63


def test_env_maps_override_the_bucket(chart: Any) -> None:
    values = deep_merge(s3_values("h.example.com", "b"), {"global": {"extraEnv": {
        "BUCKET": "gs://elsewhere", "AWS_REGION": "eu-north-1"}}})
    env = env_entries(render(chart, values))
    assert env["BUCKET"] == {"name": "BUCKET", "value": "gs://elsewhere"}
    assert env["AWS_REGION"]["value"] == "eu-north-1"


# ---- the umbrella example ---------------------------------------------------------------------

_STUB_TEMPLATE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: wandb-view
data:
  global: {{ toJson .Values.global | quote }}
  app: {{ toJson .Values.app | quote }}
"""


def test_umbrella_example_hands_wandb_settings_to_the_hook(tmp_path: Path) -> None:
    """The example umbrella chart, with a stand-in for operator-wandb (no network here)."""
    umbrella = tmp_path / "umbrella"
    shutil.copytree(UMBRELLA, umbrella)
    shutil.copytree(CHART, umbrella / "charts" / "gccheck")
    stub = umbrella / "charts" / "operator-wandb"
    (stub / "templates").mkdir(parents=True)
    (stub / "Chart.yaml").write_text("apiVersion: v2\nname: operator-wandb\nversion: 0.34.11\n")
    (stub / "values.yaml").write_text("app:\n  env: {}\n  extraEnv: {}\n")
    (stub / "templates" / "view.yaml").write_text(_STUB_TEMPLATE)
    meta = yaml.safe_load((UMBRELLA / "Chart.yaml").read_text())
    deps = {d["name"]: d for d in meta["dependencies"]}
    assert deps["gccheck"]["repository"] == "file://../../charts/gccheck"
    assert deps["gccheck"]["condition"] == "gccheck.enabled"
    assert deps["gccheck"]["version"] == yaml.safe_load((CHART / "Chart.yaml").read_text())["version"]
    assert "operator-wandb" in deps

    values = helm.values_from_yaml((UMBRELLA / "values.yaml").read_text())
    with helm.Chart.load(umbrella) as loaded:
        manifests = manifests_of(loaded.render(values, name="wandb", namespace="wandb",
                                               is_install=True))
        view = only(manifests, "ConfigMap")["data"]
        wandb_global, wandb_app = json.loads(view["global"]), json.loads(view["app"])
        env = env_entries(manifests)
        for name, value in {**wandb_global["extraEnv"], **wandb_app["extraEnv"]}.items():
            assert env[name]["value"] == value
        assert env["GORILLA_ARTIFACT_GC_ENABLED"]["value"] == "true"
        bucket = wandb_global["bucket"]
        assert env["BUCKET"]["value"] == f"s3://{_KEYS}{bucket['name']}"
        assert env["BUCKET_SECRET_KEY"]["valueFrom"]["secretKeyRef"]["name"] == \
            bucket["secret"]["secretName"]
        args = job_container(manifests)["args"]
        assert args[args.index("--hosting") + 1] == values["gccheck"]["hosting"]
        assert job_container(manifests)["image"] == "registry.example.com/gccheck:0.1.0"

        disabled = deep_merge(values, {"gccheck": {"enabled": False}})
        kinds = [m["kind"] for m in manifests_of(loaded.render(disabled, name="wandb"))]
        assert kinds == ["ConfigMap"]


# ---- end to end: the rendered hook, run as the kubelet would run it ---------------------------

_REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def expand(value: str, env: Mapping[str, str]) -> str:
    """Kubernetes $(VAR) expansion: earlier variables only; $$ escapes; unknown stays as is."""
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        return env.get(match.group(1), match.group(0))
    return _REFERENCE.sub(replace, value)


def container_env(entries: list[dict[str, Any]], secrets: Mapping[str, Mapping[str, str]],
                  namespace: str = "wandb") -> dict[str, str]:
    """The process environment the kubelet would give the container."""
    env: dict[str, str] = {}
    for entry in entries:
        if "value" in entry:
            env[entry["name"]] = expand(str(entry["value"]), env)
            continue
        source = entry["valueFrom"]
        if "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            data = secrets.get(ref["name"], {})
            if ref["key"] not in data:
                assert ref.get("optional"), f"pod would not start: no {ref['name']}/{ref['key']}"
                continue
            env[entry["name"]] = data[ref["key"]]
        elif "fieldRef" in source and source["fieldRef"]["fieldPath"] == "metadata.namespace":
            env[entry["name"]] = namespace
        else:
            raise AssertionError(f"no stand-in for {source}")
    return env


def run_rendered_hook(chart: Any, values_file: Path, secrets: Mapping[str, Mapping[str, str]],
                      termination: Path) -> tuple[int, str, str]:
    values = helm.values_from_yaml(values_file.read_text())
    container = job_container(manifests_of(render_text(chart, values)))
    args = [str(a) for a in container["args"]]
    assert args[args.index("--termination-message") + 1] == "/dev/termination-log"
    args[args.index("--termination-message") + 1] = str(termination)
    result = run_gccheck(*args, env=container_env(container["env"], secrets))
    return result.code, result.out, termination.read_text() if termination.exists() else ""


def write_values(path: Path, server: S3Server, bucket: str, *, gc_env: bool = True,
                 fail_on: str = "unknown", host: str | None = None) -> Path:
    values = deep_merge(s3_values(host or f"{server.host}:{server.port}", bucket),
                        {"hosting": "customer-managed-cloud", "failOn": fail_on})
    if gc_env:
        values = deep_merge(values, {"global": {"extraEnv": {"GORILLA_ARTIFACT_GC_ENABLED": "true"}}})
    path.write_text(yaml.safe_dump(values))
    return path


SECRETS = {"wandb-bucket-keys": {"ACCESS_KEY": TEST_KEY, "SECRET_KEY": TEST_SECRET}}


def test_rendered_hook_passes_a_ready_deployment(chart: Any, moto_server: S3Server,
                                                 tmp_path: Path) -> None:
    bucket = make_bucket(moto_server, "Enabled", lifecycle=[NONCURRENT_RULE])
    values = write_values(tmp_path / "values.yaml", moto_server, bucket)
    code, out, verdict = run_rendered_hook(chart, values, SECRETS, tmp_path / "termination-log")
    assert code == 0, out
    assert verdict == "gccheck wandb (customer-managed-cloud): READY: garbage collection " \
                      "requirements are met\n"
    assert TEST_SECRET not in out


def test_rendered_hook_stops_unversioned_bucket(chart: Any, moto_server: S3Server,
                                                tmp_path: Path) -> None:
    bucket = make_bucket(moto_server)  # versioning never enabled
    values = write_values(tmp_path / "values.yaml", moto_server, bucket)
    code, out, verdict = run_rendered_hook(chart, values, SECRETS, tmp_path / "termination-log")
    assert code == 1, out
    assert verdict.count("\n") == 1
    assert verdict.startswith("gccheck wandb (customer-managed-cloud): NOT READY: ")
    assert "bucket-versioning" in verdict
    assert TEST_SECRET not in out + verdict


def test_rendered_hook_stops_when_gc_is_not_enabled(chart: Any, moto_server: S3Server,
                                                    tmp_path: Path) -> None:
    bucket = make_bucket(moto_server, "Enabled", lifecycle=[NONCURRENT_RULE])
    values = write_values(tmp_path / "values.yaml", moto_server, bucket, gc_env=False)
    code, out, verdict = run_rendered_hook(chart, values, SECRETS, tmp_path / "termination-log")
    assert code == 1, out
    assert "NOT READY: gc-env-var fails" in verdict


def test_rendered_hook_names_a_missing_keys_secret(chart: Any, moto_server: S3Server,
                                                   tmp_path: Path) -> None:
    # The values name a Secret that does not exist: the optional references stay unset, the
    # kubelet leaves $(BUCKET_ACCESS_KEY) in BUCKET, and the store would say "bad credentials".
    bucket = make_bucket(moto_server, "Enabled", lifecycle=[NONCURRENT_RULE])
    values = write_values(tmp_path / "values.yaml", moto_server, bucket)
    container = job_container(manifests_of(render_text(
        chart, helm.values_from_yaml(values.read_text()))))
    args = [str(a) for a in container["args"]]
    args[args.index("--termination-message") + 1] = str(tmp_path / "termination-log")
    env = container_env(container["env"], secrets={})
    assert "$(BUCKET_ACCESS_KEY)" in env["BUCKET"]
    result = run_gccheck(*args, env=env)
    assert result.code == 2 and result.out == ""
    # Nothing written to the termination message: the kubelet shows this line instead
    # (FallbackToLogsOnError).
    assert result.err.startswith("gccheck: error: the bucket URL (process environment) still "
                                 "holds $(BUCKET_ACCESS_KEY), $(BUCKET_SECRET_KEY): ")
    assert not (tmp_path / "termination-log").exists()


def rendered_secrets(manifests: list[Manifest]) -> dict[str, dict[str, str]]:
    """The Secrets a render creates, decoded as the kubelet reads them."""
    return {m["metadata"]["name"]: {k: base64.b64decode(v).decode()
                                    for k, v in m.get("data", {}).items()}
            for m in manifests if m["kind"] == "Secret"}


@pytest.mark.parametrize("upgrade", [False, True], ids=["first-install", "upgrade"])
def test_rendered_hook_checks_inline_keys(chart: Any, moto_server: S3Server, tmp_path: Path,
                                          upgrade: bool) -> None:
    # Inline keys, the form operator-wandb documents. On the first install its "wandb-bucket"
    # Secret does not exist yet; on an upgrade it still holds the previous release's keys.
    # Either way the check runs with the keys the release is about to get.
    bucket = make_bucket(moto_server, "Enabled", lifecycle=[NONCURRENT_RULE])
    values = deep_merge(BASE, {"global": {
        "extraEnv": {"GORILLA_ARTIFACT_GC_ENABLED": "true"},
        "bucket": {"provider": "s3", "name": f"{moto_server.host}:{moto_server.port}",
                   "path": bucket, "region": "us-east-1", "accessKey": TEST_KEY,
                   "secretKey": TEST_SECRET}}})
    manifests = manifests_of(render_text(chart, values, upgrade=upgrade))
    cluster = rendered_secrets(manifests)
    if upgrade:
        cluster["wandb-bucket"] = {"ACCESS_KEY": "AKIAOLDKEY0000000000", "SECRET_KEY": "old"}
    container = job_container(manifests)
    env = container_env(container["env"], cluster)
    assert env["BUCKET"] == f"s3://{TEST_KEY}:{TEST_SECRET}@{moto_server.host}:" \
                            f"{moto_server.port}/{bucket}"
    args = [str(a) for a in container["args"]]
    termination = tmp_path / "termination-log"
    args[args.index("--termination-message") + 1] = str(termination)
    result = run_gccheck(*args, env=env)
    assert result.code == 0, result.out + result.err
    assert "READY" in termination.read_text()
    assert TEST_SECRET not in result.out + result.err


@pytest.mark.parametrize(("fail_on", "code"), [("unknown", 3), ("fail", 0), ("never", 0)])
def test_rendered_hook_fail_on_unverified(chart: Any, moto_server: S3Server, tmp_path: Path,
                                          fail_on: str, code: int) -> None:
    # An S3 endpoint nobody listens on: the bucket cannot be checked (unverified, not failed).
    closed = f"127.0.0.1:{closed_port()}"
    values = write_values(tmp_path / "values.yaml", moto_server, "files", fail_on=fail_on,
                          host=closed)
    got, out, verdict = run_rendered_hook(chart, values, SECRETS, tmp_path / "termination-log")
    assert got == code, out
    assert "UNVERIFIED" in verdict


# In a pod /dev/termination-log is a file the kubelet bind-mounts: UID 65532 cannot create a
# temp file in /dev and a rename onto a mount point fails, so gccheck must write it in place.
def test_termination_message_is_written_in_place(chart: Any, moto_server: S3Server,
                                                 tmp_path: Path) -> None:
    bucket = make_bucket(moto_server)
    values = write_values(tmp_path / "values.yaml", moto_server, bucket)
    termination = tmp_path / "termination-log"
    termination.touch()  # the kubelet creates the file before the container starts
    inode = termination.stat().st_ino
    code, _out, verdict = run_rendered_hook(chart, values, SECRETS, termination)
    assert code == 1 and "NOT READY" in verdict
    assert termination.stat().st_ino == inode


# ---- the hook and `gccheck check --values` read the same values the same way ------------------

PARITY_CASES: list[dict[str, Any]] = [
    *(env_values({level: {"GORILLA_ARTIFACT_GC_ENABLED": plain(level)} for level in levels})
      for levels in SUBSETS),
    env_values({"app.env": {"GORILLA_ARTIFACT_GC_ENABLED": ""},
                "global.extraEnv": {"GORILLA_ARTIFACT_GC_ENABLED": "true"}}),
    env_values({"app.extraEnv": {"GORILLA_ARTIFACT_GC_ENABLED": False},
                "global.env": {"GORILLA_ARTIFACT_GC_ENABLED": "true"}}),
    env_values({"app.env": {"GORILLA_ARTIFACT_GC_ENABLED": 0, "GORILLA_ARTIFACTS_GC_ENABLED": 1},
                "global.extraEnv": {"GORILLA_ARTIFACT_GC_ENABLED": True}}),
    {"global": {"bucket": {"provider": "gcs", "name": "files", "path": "w/", "region": "r"}}},
    {"global": {"bucket": {"name": "files"}, "extraEnv": {"BUCKET": "az://acct/container"}}},
    {"global": {"defaultBucket": {"provider": "az", "name": "acct", "path": "container"},
                "bucket": {"path": "ignored"}}},
]


@pytest.mark.parametrize("values", PARITY_CASES, ids=[str(i) for i in range(len(PARITY_CASES))])
def test_hook_env_matches_the_values_reader(chart: Any, values: dict[str, Any],
                                            tmp_path: Path) -> None:
    """What the hook's pod gets equals what `gccheck check --values` derives from the file."""
    from gccheck.sources.helm_values import HelmValuesSource

    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(deep_merge(BASE, values)))
    reader = HelmValuesSource((str(path),)).read()
    pod_env = container_env(job_container(manifests_of(render_text(
        chart, helm.values_from_yaml(path.read_text()))))["env"], secrets={})
    names = {n for n in pod_env if not n.startswith(("BUCKET_", "AZURE_STORAGE_KEY"))}
    assert names, pod_env
    assert {n: reader.get(n) for n in names} == {n: pod_env[n] for n in names}
