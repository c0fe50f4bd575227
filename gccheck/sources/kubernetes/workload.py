"""Settings of a live W&B workload (`--workload [NAMESPACE/]KIND/NAME[:CONTAINER]` or `auto`).

Reads a Deployment or StatefulSet through the Kubernetes API (api), picks the W&B container and
builds its environment the way the kubelet does (resolver): `envFrom` ConfigMaps and Secrets,
then `env` with `valueFrom` configMapKeyRef / secretKeyRef / fieldRef, `$(VAR)` expanded.

What stops the check (InputError, exit 2): a workload spec gccheck cannot parse, no kubeconfig,
a cluster it cannot reach or that refuses the credentials, a workload that does not exist or
may not be read, no W&B workload found by `auto`. What becomes `unknown`: a value gccheck may
not read (a Secret without `get secrets`), a ConfigMap or key that does not exist (the pod
could not start with it), a value known only inside the pod (fieldRef status.hostIP).

`auto` looks for the W&B app by the labels the charts set (gccheck/charts.yaml): operator-wandb's
`app` service (wandb-base `selectorLabels`: app.kubernetes.io/name=app, .../instance=<release>)
and the legacy wandb chart (app.kubernetes.io/name=wandb, app.kubernetes.io/component=local);
then every other workload of that release that runs the W&B server (operator-wandb's separate
`api` and `glue` pods). Each one's server container is judged (Settings.workloads); the app's
gives the bucket.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from gccheck.errors import InputError
from gccheck.model import Setting, Settings, Unread, WorkloadEnv
from gccheck.neutral import neutralise
from gccheck.sources.chart.knowledge import ServerWorkload, load_knowledge, trap_notes
from gccheck.sources.chart_bucket import without_keys
from gccheck.sources.envvars import UNKNOWN_MARK
from gccheck.sources.interface import DERIVED_ENDPOINT, storage_settings
from gccheck.sources.kubernetes.resolver import (
    Fixes,
    ObjectSource,
    as_list,
    as_mapping,
    container_env,
)

KINDS = {
    "deployment": "Deployment", "deployments": "Deployment", "deploy": "Deployment",
    "deployment.apps": "Deployment",
    "statefulset": "StatefulSet", "statefulsets": "StatefulSet", "sts": "StatefulSet",
    "statefulset.apps": "StatefulSet",
}
APP_CONTAINER_NAMES = ("app", "wandb", "local", "api")
APP_IMAGES = ("wandb/local", "wandb/megabinary")
SYNTAX = "[NAMESPACE/]KIND/NAME[:CONTAINER] (KIND: deployment or statefulset), or auto"


@dataclass(frozen=True)
class WorkloadRef:
    namespace: str | None
    kind: str  # "Deployment", "StatefulSet" or "auto"
    name: str | None
    container: str | None = None


def parse_workload(text: str) -> WorkloadRef:
    """Parse `[NAMESPACE/]KIND/NAME[:CONTAINER]`, `auto` or `NAMESPACE/auto`."""
    spec = text.strip()
    parts = spec.split("/")
    if parts[-1] == "auto" and len(parts) <= 2:
        return WorkloadRef(parts[0] if len(parts) == 2 and parts[0] else None, "auto", None)
    if len(parts) not in (2, 3) or not all(parts):
        raise InputError(f"--workload {text!r}: expected {SYNTAX}")
    namespace = parts[0] if len(parts) == 3 else None
    kind_text, rest = parts[-2], parts[-1]
    name, _, container = rest.partition(":")
    kind = KINDS.get(kind_text.lower())
    if kind is None:
        raise InputError(f"--workload {text!r}: unknown kind {kind_text!r}; expected {SYNTAX}")
    if not name or (":" in rest and not container):
        raise InputError(f"--workload {text!r}: expected {SYNTAX}")
    return WorkloadRef(namespace, kind, name, container or None)


@dataclass(frozen=True)
class WorkloadSource:
    """A live Deployment/StatefulSet, read through the Kubernetes API."""

    workload: str
    kubeconfig: str | None = None
    context: str | None = None
    timeout: float = 10.0
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)

    def read(self) -> Settings:
        from gccheck.sources.kubernetes.api import Kube

        ref = parse_workload(self.workload)
        kube = Kube.connect(self.kubeconfig, self.context, self.environ, self.timeout)
        try:
            namespace = ref.namespace or kube.namespace
            if ref.kind == "auto":
                return servers_settings(kube, find_servers(kube, namespace), namespace,
                                        lambda found: _kubectl_fixes(kube, found))
            obj = kube.get_workload(ref.kind, namespace, ref.name or "")
            return workload_settings(kube, obj, ref.container)
        finally:
            kube.close()


class WorkloadLister(Protocol):
    """Lists workloads by label (api.Kube)."""

    def list_workloads(self, kind: str, namespace: str, selector: str,
                       purpose: str) -> list[Mapping[str, Any]]: ...


def find_auto(kube: WorkloadLister, namespace: str) -> Mapping[str, Any]:
    """The one W&B app workload in the namespace, found by the charts' labels."""
    found: dict[str, Mapping[str, Any]] = {}
    selectors = [s.selector() for s in load_knowledge().servers if s.bucket]
    for kind in ("Deployment", "StatefulSet"):
        for selector in selectors:
            for item in kube.list_workloads(kind, namespace, selector, "--workload auto"):
                found[f"{kind.lower()}/{neutralise(str(_meta(item).get('name')))}"] = item
    if len(found) == 1:
        return next(iter(found.values()))
    namespace = neutralise(namespace)
    if not found:
        raise InputError(f"--workload auto: no W&B app workload in namespace {namespace} "
                         "(looked for labels app.kubernetes.io/name=app, or =wandb with "
                         "app.kubernetes.io/component=local); pass "
                         f"--workload {namespace}/deployment/NAME")
    raise InputError(f"--workload auto: several W&B app workloads in namespace {namespace} "
                     f"({', '.join(sorted(found))}); pick one with --workload "
                     f"{namespace}/KIND/NAME")


def find_servers(kube: WorkloadLister,
                 namespace: str) -> list[tuple[ServerWorkload, Mapping[str, Any]]]:
    """Every workload that runs the W&B server in the release of the namespace's one app: the
    app first, then the others of its chart and release (charts.yaml), found by their labels."""
    app = find_auto(kube, namespace)
    knowledge = load_knowledge()
    labels = as_mapping(_meta(app).get("labels"))
    server = knowledge.server_of(labels)
    assert server is not None  # find_auto lists by these very labels
    instance = labels.get("app.kubernetes.io/instance")
    found = [(server, app)]
    for other in knowledge.servers:
        if other.bucket or other.chart != server.chart:
            continue
        for kind in ("Deployment", "StatefulSet"):
            selector = other.selector(str(instance) if instance else None)
            found += [(other, item) for item in kube.list_workloads(kind, namespace, selector,
                                                                     "--workload auto")]
    return found


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return as_mapping(obj.get("metadata"))


def _containers(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    pod = as_mapping(as_mapping(as_mapping(obj.get("spec")).get("template")).get("spec"))
    return [c for c in as_list(pod.get("containers")) if isinstance(c, Mapping)]


def _image_repository(image: str) -> str:
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)
    if ":" in last[-1]:
        name = name.rsplit(":", 1)[0]
    return name


def pick_container(obj: Mapping[str, Any], wanted: str | None,
                   label: str) -> tuple[Mapping[str, Any], str]:
    """The container to read, and why it was picked (shown in the report)."""
    containers = _containers(obj)
    names = [neutralise(str(c.get("name")), 63) for c in containers]
    if wanted is not None:
        for c in containers:
            if c.get("name") == wanted:
                return c, "as asked"
        raise InputError(f"{label} has no container {neutralise(repr(wanted))} (containers: "
                         f"{', '.join(names) or 'none'})")
    if len(containers) == 1:
        return containers[0], "its only container"
    for name in APP_CONTAINER_NAMES:
        for c in containers:
            if c.get("name") == name:
                return c, "the W&B app container, by name; others: " + ", ".join(
                    n for n in names if n != name)
    for c in containers:
        repo = _image_repository(str(c.get("image", "")))
        if any(repo == image or repo.endswith("/" + image) for image in APP_IMAGES):
            return c, f"the W&B app container, by image {neutralise(repo)}"
    if not containers:
        raise InputError(f"{label} has no containers")
    raise InputError(f"{label} has containers {', '.join(names)} and none looks like the W&B "
                     "app (named app or wandb, image wandb/local): pick one with "
                     "--workload ...:CONTAINER")


@dataclass(frozen=True)
class KubectlFixes:
    """Fixes for a live workload: kubectl commands, and a note when something manages it.

    Every name is as shown (neutralised)."""

    workload: str  # "deployment/wandb-app"
    namespace: str
    container: str
    managed_note: str

    def env(self) -> str:
        return (f"kubectl set env {self.workload} -n {self.namespace} -c {self.container} "
                f"{{name}}={{value}}{self.managed_note}")

    def key(self, kind: str, name: str, key: str) -> str:
        name, key = neutralise(name), neutralise(key)
        restart = f"\nkubectl rollout restart {self.workload} -n {self.namespace}"
        if kind == "ConfigMap":
            return (f"kubectl patch configmap {name} -n {self.namespace} --type merge -p "
                    f"'{{\"data\":{{\"{key}\":\"{{value}}\"}}}}'{restart}{self.managed_note}")
        return (f"set key {key} of Secret {self.namespace}/{name} to {{value}} (kubectl edit "
                f"secret {name} -n {self.namespace}){restart}{self.managed_note}")


class NamespacedObjects(ObjectSource, Protocol):
    """A provider of ConfigMaps and Secrets with a default namespace (api.Kube)."""

    namespace: str


def workload_settings(kube: NamespacedObjects, obj: Mapping[str, Any],
                      wanted: str | None) -> Settings:
    """The environment of the chosen container of a workload, with provenance."""
    meta = _meta(obj)
    kind = neutralise(str(obj.get("kind") or "Deployment"), 63)
    namespace = str(meta.get("namespace") or kube.namespace)  # asked for: kept as it is
    shown_namespace, name = neutralise(namespace), neutralise(str(meta.get("name")))
    label = f"{kind} {shown_namespace}/{name}"
    container, why = pick_container(obj, wanted, label)
    cname = neutralise(str(container.get("name")), 63)
    fixes = KubectlFixes(f"{kind.lower()}/{name}", shown_namespace, cname,
                         _managed_note(meta, kind))
    return container_settings(container, kube, namespace, f"{label} container {cname}", why,
                              fixes)


def container_settings(container: Mapping[str, Any], objects: ObjectSource, namespace: str,
                       label: str, why: str, fixes: Fixes | None) -> Settings:
    """The Settings of one container (`label`, chosen because `why`): its environment as the
    kubelet builds it, the bucket settings in it, and what could not be read."""
    env = container_env(container, objects, namespace, label, fixes)
    values = dict(env.values)
    endpoint = _rescue_bucket(values, env.partial)
    unread = Unread(f"{label}: envFrom", "; ".join(env.unread)) if env.unread else None
    return Settings(description=f"{label} ({why})", values=values,
                    fix_missing=fixes.env() if fixes else Settings.fix_missing,
                    secrets=env.secrets, storage=storage_settings(values, endpoint=endpoint),
                    unread=unread)


def _managed_note(meta: Mapping[str, Any], kind: str) -> str:
    labels = as_mapping(meta.get("labels"))
    annotations = as_mapping(meta.get("annotations"))
    owners = [o for o in as_list(meta.get("ownerReferences")) if isinstance(o, Mapping)]
    release = annotations.get("meta.helm.sh/release-name")
    if release or labels.get("app.kubernetes.io/managed-by") == "Helm":
        name = f" (release {neutralise(str(release))})" if release else ""
        return (f"\n# this {kind} is managed by Helm{name}: the next upgrade undoes a manual "
                "change; set the variable in the release's values too (operator-wandb: "
                "global.extraEnv, or spec.values.global.extraEnv of the WeightsAndBiases "
                "resource)")
    if owners:
        owner = owners[0]
        return (f"\n# this {kind} is owned by {neutralise(str(owner.get('kind')), 63)} "
                f"{neutralise(str(owner.get('name')))}: change "
                "it there, or the change is undone")
    return ""


def _rescue_bucket(found: dict[str, Setting],
                   partial: Mapping[str, tuple[str, str]]) -> Setting | None:
    """BUCKET whose keys alone could not be read is still the bucket: use it without keys.

    Returns the S3 endpoint the keys made the URL name (see chart_bucket.without_keys)."""
    setting = found.get("BUCKET")
    if "BUCKET" not in partial or setting is None:
        return None
    expanded, why = partial["BUCKET"]
    url, endpoint = without_keys(expanded)
    if UNKNOWN_MARK in url:
        return None  # more than the keys is unknown
    found["BUCKET"] = Setting("BUCKET", url, f"{setting.origin} (its keys cannot be read: {why}; "
                              "left out, gccheck uses its own credentials)", fix=setting.fix)
    if endpoint is None:
        return None
    return Setting(DERIVED_ENDPOINT, endpoint, f"{setting.origin}: derived by gccheck from the "
                   f"bucket host (read {endpoint} as the S3 endpoint)")


@dataclass(frozen=True)
class Found:
    """A server workload and its server container, as judged."""

    server: ServerWorkload
    obj: Mapping[str, Any]
    kind: str  # shown
    name: str  # shown
    container: Mapping[str, Any]
    container_name: str  # shown

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.name} container {self.container_name}"


def server_container(server: ServerWorkload, obj: Mapping[str, Any],
                     label: str) -> tuple[Mapping[str, Any], str]:
    """The container that runs the W&B server in a server workload: by the names charts.yaml
    gives, else as `pick_container` picks one."""
    for wanted in server.containers:
        for container in _containers(obj):
            if container.get("name") == wanted:
                return container, f"the {server.role} container"
    return pick_container(obj, None, label)


def servers_settings(objects: ObjectSource, found: Sequence[tuple[ServerWorkload, Mapping[str, Any]]],
                     namespace: str, fixes_for: Callable[[Found], Fixes | None],
                     chart: tuple[str, str] | None = None, release: str | None = None) -> Settings:
    """The environment of every W&B server container of a release, each judged on its own
    (Settings.workloads); the bucket workload's (the app's) is `values`.

    `chart` is (name, version) when known (a rendered chart's Chart.yaml); else the version
    comes from the workloads' `helm.sh/chart` labels, if they name the chart."""
    judged: list[tuple[Found, Settings]] = []
    shown_namespace = neutralise(namespace)
    for server, obj in found:
        meta = _meta(obj)
        kind = neutralise(str(obj.get("kind") or "Deployment"), 63)
        name = neutralise(str(meta.get("name")))
        label = f"{kind} {shown_namespace}/{name}"
        container, why = server_container(server, obj, label)
        item = Found(server, obj, kind, name, container,
                     neutralise(str(container.get("name")), 63))
        judged.append((item, container_settings(
            container, objects, namespace, f"{label} container {item.container_name}", why,
            fixes_for(item))))
    main = next((s for f, s in judged if f.server.bucket), judged[0][1])
    workloads = tuple(WorkloadEnv(f.label, s.values, s.fix_missing, s.unread) for f, s in judged)
    others = ", ".join(f.label for f, s in judged if s is not main)
    secrets = tuple(dict.fromkeys(x for _, s in judged for x in s.secrets))
    notes = trap_notes(load_knowledge(), [(f.server.role, w, f.obj)
                                          for (f, _), w in zip(judged, workloads, strict=True)],
                       namespace, chart, release)
    return Settings(description=main.description + (f"; also judged: {others}" if others else ""),
                    values=main.values, fix_missing=main.fix_missing, secrets=secrets,
                    storage=main.storage, unread=main.unread, workloads=workloads, notes=notes)


def _kubectl_fixes(kube: NamespacedObjects, found: Found) -> Fixes:
    meta = _meta(found.obj)
    namespace = str(meta.get("namespace") or kube.namespace)
    return KubectlFixes(f"{found.kind.lower()}/{found.name}", neutralise(namespace),
                        found.container_name, _managed_note(meta, found.kind))
