"""What gccheck knows about W&B's Helm charts (charts.yaml): which workloads run the W&B
server, and chart versions known to break GC.

Used by the rendered chart source (`--chart`) and by `--workload auto`: both find the server
workloads by the same labels and look the chart version up in the same table.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from gccheck.model import WorkloadEnv
from gccheck.neutral import neutralise


@dataclass(frozen=True)
class ServerWorkload:
    """A kind of workload that runs the W&B server, as a chart labels it."""

    role: str  # "app", "api", "glue"
    chart: str  # "operator-wandb", "wandb"
    labels: Mapping[str, str]
    containers: tuple[str, ...]
    bucket: bool  # its container gives the bucket

    def matches(self, labels: Mapping[str, Any], release: str | None = None) -> bool:
        """Whether a workload with these labels is one of this kind (of `release`, if given)."""
        if release is not None and labels.get("app.kubernetes.io/instance") not in (None,
                                                                                      release):
            return False
        return all(labels.get(key) == value for key, value in self.labels.items())

    def selector(self, instance: str | None = None) -> str:
        """The label selector that lists them (of one release when `instance` is given)."""
        terms = [f"{key}={value}" for key, value in self.labels.items()]
        if instance:
            terms.append(f"app.kubernetes.io/instance={instance}")
        return ",".join(terms)


Version = tuple[int, int, int]


@dataclass(frozen=True)
class Trap:
    """Chart versions that break GC, and the way out."""

    id: str
    chart: str
    first: Version  # inclusive
    before: Version  # exclusive
    roles: Mapping[str, Version]  # affected role -> first version it is affected in
    variable: str
    object: str  # "ConfigMap {release}-gorilla-configmap"
    what: str
    fix: str

    def affected_roles(self, version: Version) -> tuple[str, ...]:
        """The roles the trap affects in `version` (none when out of range)."""
        if not self.first <= version < self.before:
            return ()
        return tuple(role for role, since in self.roles.items() if version >= since)

    def object_name(self, release: str) -> str:
        return self.object.split(" ", 1)[1].replace("{release}", release)

    def text(self, template: str, version: str, release: str, roles: tuple[str, ...]) -> str:
        env_values = " and ".join(f"{role}.env.{self.variable}" for role in roles)
        return (template.replace("{version}", version).replace("{release}", release)
                .replace("{roles}", "/".join(roles)).replace("{env-values}", env_values))


@dataclass(frozen=True)
class ChartKnowledge:
    servers: tuple[ServerWorkload, ...]
    traps: tuple[Trap, ...]
    chart_variables: Mapping[str, str]  # name -> what it is

    def server_of(self, labels: Mapping[str, Any],
                  release: str | None = None) -> ServerWorkload | None:
        """The kind of server workload these labels name, if any."""
        return next((s for s in self.servers if s.matches(labels, release)), None)

    def traps_for(self, chart: str, version: Version) -> list[tuple[Trap, tuple[str, ...]]]:
        """The traps that apply to `chart` at `version`, each with the roles it affects."""
        found = []
        for trap in self.traps:
            roles = trap.affected_roles(version) if trap.chart == chart else ()
            if roles:
                found.append((trap, roles))
        return found


_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$")


def parse_version(text: str) -> Version | None:
    """A chart's SemVer version as (major, minor, patch); None when it is not one.

    A pre-release (0.32.9-PR445-...) counts as its release: the chart's PR builds carry the
    templates of the version they are numbered for."""
    match = _VERSION.match(text.strip())
    if match is None:
        return None
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def show_version(version: Version) -> str:
    return ".".join(str(part) for part in version)


def chart_of_label(label: str) -> tuple[str, Version] | None:
    """The chart and version a `helm.sh/chart` label names ("operator-wandb-0.32.9")."""
    match = re.match(r"^(.+?)-(v?\d+\.\d+\.\d+(?:[-+].*)?)$", label.strip())
    if match is None:
        return None
    version = parse_version(match.group(2))
    return (match.group(1), version) if version is not None else None


def _version(value: Any, where: str) -> Version:
    version = parse_version(str(value))
    if version is None:
        raise ValueError(f"charts.yaml: {where}: not a version: {value!r}")
    return version


@functools.cache
def load_knowledge() -> ChartKnowledge:
    """The shipped table; it is package data, so errors in it are bugs, tested in CI."""
    text = resources.files("gccheck").joinpath("charts.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    servers = tuple(
        ServerWorkload(role=str(item["role"]), chart=str(item["chart"]),
                       labels={str(k): str(v) for k, v in item["labels"].items()},
                       containers=tuple(str(c) for c in item["containers"]),
                       bucket=bool(item.get("bucket", False)))
        for item in data["server-workloads"])
    traps = tuple(
        Trap(id=str(item["id"]), chart=str(item["chart"]),
             first=_version(item["from"], f"traps.{item['id']}.from"),
             before=_version(item["before"], f"traps.{item['id']}.before"),
             roles={str(role): _version(since, f"traps.{item['id']}.roles.{role}")
                    for role, since in item["roles"].items()},
             variable=str(item["variable"]), object=str(item["object"]),
             what=" ".join(str(item["what"]).split()), fix=" ".join(str(item["fix"]).split()))
        for item in data["traps"])
    known = {s.role for s in servers}
    for trap in traps:
        unknown = set(trap.roles) - known
        if unknown:
            raise ValueError(f"charts.yaml: traps.{trap.id}.roles: unknown roles {unknown}")
    variables = {str(k): " ".join(str(v).split())
                 for k, v in (data.get("chart-variables") or {}).items()}
    return ChartKnowledge(servers, traps, variables)


def trap_notes(knowledge: ChartKnowledge, judged: list[tuple[str, WorkloadEnv, Mapping[str, Any]]],
               namespace: str, chart: tuple[str, str] | None = None,
               release: str | None = None) -> tuple[str, ...]:
    """A note for each known trap that bites here, with the way out.

    `judged`: (role, its environment, the workload object) for every server workload. A trap
    bites a workload of an affected role whose variable comes from the trap's object. The chart
    version is `chart`'s (a rendered chart's Chart.yaml), else what a workload's
    `helm.sh/chart` label names; without one (operator-wandb labels its workloads with their
    subchart's name) a trap is recognised by its object alone, and the note says so.
    """
    if release is None:
        release = next((str(_labels(obj).get("app.kubernetes.io/instance"))
                        for _, _, obj in judged
                        if _labels(obj).get("app.kubernetes.io/instance")), None)
    notes = []
    for trap in knowledge.traps:
        version = _version_of(trap.chart, chart, judged)
        roles = (trap.affected_roles(version) if version is not None else tuple(trap.roles))
        if not roles or release is None:
            continue
        kind, _, _ = trap.object.partition(" ")
        source = f"{kind} {neutralise(namespace)}/{neutralise(trap.object_name(release))}:"
        bitten = []
        for role, env, _ in judged:
            setting = env.setting(trap.variable)
            if (role in roles and setting is not None and setting.origin.startswith(source)
                    and (setting.value or "").strip().lower() != "true"):
                bitten.append(env.label)
        if not bitten:
            continue
        shown = show_version(version) if version is not None else (
            f"{show_version(trap.first)} to before {show_version(trap.before)} (recognised by "
            "its ConfigMap: the workloads' labels do not name the chart version)")
        bitten_roles = tuple(dict.fromkeys(role for role, env, _ in judged
                                           if env.label in bitten))
        what = trap.text(trap.what, shown, neutralise(release), bitten_roles)
        fix = trap.text(trap.fix, shown, neutralise(release), bitten_roles)
        notes.append(f"known chart trap {trap.id}: {what} (in {', '.join(bitten)}); "
                     f"the way out: {fix}")
    return tuple(notes)


def _labels(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    labels = meta.get("labels") if isinstance(meta, Mapping) else None
    return labels if isinstance(labels, Mapping) else {}


def _version_of(chart_name: str, chart: tuple[str, str] | None,
                judged: list[tuple[str, WorkloadEnv, Mapping[str, Any]]]) -> Version | None:
    if chart is not None:
        return parse_version(chart[1]) if chart[0] == chart_name else None
    for _, _, obj in judged:
        named = chart_of_label(str(_labels(obj).get("helm.sh/chart") or ""))
        if named is not None and named[0] == chart_name:
            return named[1]
    return None
