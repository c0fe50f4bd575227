"""A rendered chart as a settings source (`--chart CHART`): what W&B will really run.

The chart is rendered with Helm itself (render.py); its Deployments and StatefulSets that run
the W&B server (charts.yaml: operator-wandb's app, and when enabled api and glue) go through
the same kubelet-semantics resolver as `--workload`, against the ConfigMaps and Secrets the
release renders. A reference to an object the release does not render (a Secret created apart
from the chart) cannot be read: its values are unknown, with the hint to run `--workload` after
install or to pass the value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gccheck.errors import InputError
from gccheck.model import Settings
from gccheck.neutral import neutralise
from gccheck.sources.chart.knowledge import ServerWorkload, load_knowledge, parse_version
from gccheck.sources.chart.render import chart_metadata, render_chart
from gccheck.sources.kubernetes.resolver import Fetched, Fixes
from gccheck.sources.kubernetes.workload import Found, servers_settings
from gccheck.sources.values_files import check_values_files

WORKLOAD_KINDS = ("Deployment", "StatefulSet")


@dataclass(frozen=True)
class RenderedChartSource:
    """A chart rendered with its values files as one Helm release."""

    chart: str
    values: tuple[str, ...] = ()
    release: str = "wandb"
    namespace: str = "default"
    timeout: float = 10.0
    # The environment the `helm` binary is looked up in (PATH); None: the process's.
    environ: Mapping[str, str] | None = field(default=None, repr=False)

    def read(self) -> Settings:
        check_values_files(self.values)
        manifests = render_chart(self.chart, self.values, self.release, self.namespace,
                                 self.timeout, environ=self.environ)
        meta = chart_metadata(self.chart)
        return rendered_settings(manifests, str(meta.get("name") or ""),
                                 str(meta.get("version") or ""), self.release, self.namespace)


@dataclass(frozen=True)
class RenderedObjects:
    """The ConfigMaps and Secrets a release renders: an ObjectSource for the resolver."""

    objects: Mapping[tuple[str, str, str], Mapping[str, Any]]

    @classmethod
    def of(cls, manifests: Sequence[Mapping[str, Any]], namespace: str) -> RenderedObjects:
        found: dict[tuple[str, str, str], Mapping[str, Any]] = {}
        for doc in manifests:
            meta = _map(doc.get("metadata"))
            if doc.get("kind") in ("ConfigMap", "Secret") and meta.get("name"):
                found[(str(doc["kind"]), str(meta.get("namespace") or namespace),
                       str(meta["name"]))] = _as_stored(doc)
        return cls(found)

    def fetch(self, kind: str, namespace: str, name: str) -> Fetched:
        obj = self.objects.get((kind, namespace, name))
        if obj is not None:
            return Fetched(obj)
        # Not `missing`: the object may well exist in the cluster, the chart just does not make it.
        return Fetched(None, f"{kind} {neutralise(namespace)}/{neutralise(name)} is not rendered "
                             "by the release (it must exist in the cluster): run --workload auto "
                             "after install to read it, or give the value in the values files")


@dataclass(frozen=True)
class ChartFixes:
    """Fixes for a rendered chart: change the values; for a workload a known trap bites, the
    trap's way out."""

    trap_fix: str | None

    def env(self) -> str:
        return self.trap_fix or ('set {name}: "{value}" under global.extraEnv in the values '
                                 "file (operator-wandb), or in the workload's env values")

    def key(self, kind: str, name: str, key: str) -> str:
        if self.trap_fix:
            return self.trap_fix
        return (f"{kind} {neutralise(name)} (rendered by the chart) sets key {neutralise(key)}: "
                'change the values that render it, or set {name}: "{value}" under '
                "global.extraEnv in the values file")


def rendered_settings(manifests: Sequence[Mapping[str, Any]], chart: str, version: str,
                      release: str, namespace: str) -> Settings:
    """Settings of every W&B server workload a rendered release runs."""
    knowledge = load_knowledge()
    found: list[tuple[ServerWorkload, Mapping[str, Any]]] = []
    for doc in manifests:
        meta = _map(doc.get("metadata"))
        if doc.get("kind") not in WORKLOAD_KINDS or "helm.sh/hook" in _map(meta.get("annotations")):
            continue
        server = knowledge.server_of(_map(meta.get("labels")), release)
        if server is not None:
            found.append((server, doc))
    if not found:
        looked = "; ".join(s.selector() for s in knowledge.servers)
        raise InputError(f"--chart {neutralise(chart or 'chart')}: the release renders no "
                         f"workload that runs the W&B server (looked for labels {looked})")
    found.sort(key=lambda item: not item[0].bucket)  # the app first: it gives the bucket
    objects = RenderedObjects.of(manifests, namespace)
    parsed = parse_version(version)

    def fixes_for(item: Found) -> Fixes:
        trap_fix = None
        if parsed is not None:
            for trap, roles in knowledge.traps_for(chart, parsed):
                if item.server.role in roles:
                    trap_fix = trap.text(trap.fix, version, neutralise(release),
                                         (item.server.role,))
        return ChartFixes(trap_fix)

    settings = servers_settings(objects, found, namespace, fixes_for, (chart, version), release)
    shown = neutralise(f"{chart} {version}".strip(), 120)
    return Settings(
        description=f"chart {shown} rendered as release {neutralise(release)} in namespace "
                    f"{neutralise(namespace)}: {settings.description}",
        values=settings.values, fix_missing=settings.fix_missing, secrets=settings.secrets,
        storage=settings.storage, unread=settings.unread, workloads=settings.workloads,
        notes=settings.notes)


def _as_stored(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    """The object as the API server stores it: a key rendered empty (`KEY:`, YAML null, as
    `{{ default "" .Values.x }}` renders) holds an empty value (the Go types' nil), never the
    text "None"."""
    out = dict(doc)
    for part in ("data", "stringData"):
        if isinstance(doc.get(part), Mapping):
            out[part] = {k: "" if v is None else v for k, v in doc[part].items()}
    return out


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
