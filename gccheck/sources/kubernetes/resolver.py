"""A container's environment as the kubelet builds it, from the ConfigMaps and Secrets of any
provider: the live API (`api.Kube`), or the manifests a chart renders.

kubelet `makeEnvironmentVariables` (pkg/kubelet/kubelet_pods.go): every `envFrom` source in
order, a later source beating an earlier one (with its `prefix`); then `env` in order, an entry
beating `envFrom` and any earlier entry of its name (ordering and `$(VAR)` expansion: see
`gccheck.sources.envvars`). `configMapKeyRef` / `secretKeyRef` read one key; a reference to an
object or key that is missing leaves the variable unset when it is `optional`, and otherwise
keeps the pod from starting (CreateContainerConfigError): gccheck says `unknown`, naming why.

Every value carries its provenance: the object and key that supplied it, how (envFrom of which
container, or a key reference), and for a key that two envFrom sources define, the earlier
source it beat ("..., after Secret ns/wandb-global-secret"). Names and keys from the provider
are shown neutralised (gccheck.neutral); values are kept as they are (they are used).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from gccheck.masking import is_flag_word
from gccheck.model import Setting
from gccheck.neutral import neutralise
from gccheck.sources.envvars import EnvEntry, resolve

REFERENCES = (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret"))
SOURCES = (("configMapRef", "ConfigMap"), ("secretRef", "Secret"))


def env_name_ok(name: str) -> bool:
    """Whether the kubelet takes `name` from an envFrom source (validation.IsEnvVarName, as
    relaxed in Kubernetes 1.30: printable ASCII but '='); other keys are skipped."""
    return bool(name) and all(" " <= ch <= "~" for ch in name) and "=" not in name


@dataclass(frozen=True)
class Fetched:
    """A ConfigMap or Secret as its provider has it, or why it could not be had."""

    data: Mapping[str, Any] | None
    problem: str | None = None
    missing: bool = False  # does not exist: fine when the reference is optional


class ObjectSource(Protocol):
    """Where a container's ConfigMaps and Secrets come from."""

    def fetch(self, kind: str, namespace: str, name: str) -> Fetched:
        """The object of `kind` ("ConfigMap" or "Secret"), or why it cannot be read."""
        ...


class Fixes(Protocol):
    """How to change a value where it is set; {name} and {value} are filled in later."""

    def env(self) -> str:
        """Set a variable in the container's own `env`."""
        ...

    def key(self, kind: str, name: str, key: str) -> str:
        """Change one key of a ConfigMap or Secret."""
        ...


@dataclass(frozen=True)
class ContainerEnv:
    """What one container's environment resolves to."""

    values: Mapping[str, Setting]
    # name -> (its value expanded with unknown parts marked, why they are unknown): for a value
    # that uses a variable gccheck could not read (see envvars.resolve).
    partial: Mapping[str, tuple[str, str]]
    # envFrom sources that could not be read, each with why: any variable may come from them.
    unread: tuple[str, ...]
    # Values read from Secrets (not flag words): for the run's redactor, never printed.
    secrets: tuple[str, ...]


def container_env(container: Mapping[str, Any], objects: ObjectSource, namespace: str,
                  label: str, fixes: Fixes | None = None) -> ContainerEnv:
    """The environment the kubelet gives `container` of a pod in `namespace`.

    `label` names the container in origins ("Deployment ns/app container app").
    """
    reader = _Reader(objects, namespace, neutralise(namespace), fixes)
    base = _env_from(reader, container, label)
    entries = [e for e in (_env_entry(reader, item, f"{label}: env")
                           for item in as_list(container.get("env")) if isinstance(item, Mapping))
               if e is not None]
    partial: dict[str, tuple[str, str]] = {}
    values = resolve(entries, base, partial)
    return ContainerEnv(values, partial, tuple(reader.unread),
                        tuple(dict.fromkeys(reader.secrets)))


# What a provider returns is read defensively: a field of an unexpected type is treated as absent.
def as_mapping(value: Any) -> Mapping[str, Any]:
    """`value` if it is a mapping, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def as_list(value: Any) -> list[Any]:
    """`value` if it is a list, else an empty one."""
    return value if isinstance(value, list) else []


@dataclass
class _Reader:
    """Reads objects for one container, gathering the Secret values and unreadable sources."""

    objects: ObjectSource
    namespace: str
    shown_namespace: str  # as shown in origins
    fixes: Fixes | None
    secrets: list[str] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)

    def env_fix(self) -> str | None:
        return self.fixes.env() if self.fixes else None

    def key_fix(self, kind: str, name: str, key: str) -> str | None:
        return self.fixes.key(kind, name, key) if self.fixes else None

    def shown(self, kind: str, name: str) -> str:
        return f"{kind} {self.shown_namespace}/{neutralise(name)}"

    def data_of(self, kind: str, name: str) -> tuple[Mapping[str, str] | None, Fetched]:
        fetched = self.objects.fetch(kind, self.namespace, name)
        if fetched.data is None:
            return None, fetched
        raw = as_mapping(fetched.data.get("data"))
        if kind == "ConfigMap":
            return {str(k): str(v) for k, v in raw.items()}, fetched
        decoded = {}
        for key, value in raw.items():
            try:
                text = base64.b64decode(str(value), validate=True).decode("utf-8",
                                                                          "surrogateescape")
            except (binascii.Error, ValueError):
                continue
            decoded[str(key)] = text
        # A manifest (not an API answer) may give plain values in stringData, which the API
        # server merges over data.
        decoded.update({str(k): str(v) for k, v in as_mapping(fetched.data.get("stringData")).items()})
        self.secrets += [text for text in decoded.values() if not is_flag_word(text)]
        return decoded, fetched


def _env_from(reader: _Reader, container: Mapping[str, Any], label: str) -> dict[str, Setting]:
    """Variables from envFrom sources; a later source beats an earlier one."""
    base: dict[str, Setting] = {}
    supplier: dict[str, str] = {}  # variable -> the source that set it ("Secret ns/name")
    for source in as_list(container.get("envFrom")):
        if not isinstance(source, Mapping):
            continue
        prefix = str(source.get("prefix") or "")
        for field_name, kind in SOURCES:
            ref = source.get(field_name)
            if not isinstance(ref, Mapping):
                continue
            name = str(ref.get("name"))
            data, fetched = reader.data_of(kind, name)
            if data is None:
                if not (fetched.missing and ref.get("optional")):
                    reader.unread.append(f"envFrom {fetched.problem}")
                continue
            obj = reader.shown(kind, name)
            how = f"envFrom of {label}" + (f", prefix {neutralise(prefix)}" if prefix else "")
            for key, value in data.items():
                var = prefix + key
                if not env_name_ok(var):
                    continue  # the kubelet skips it (and says so in an event)
                beaten = supplier.get(var)
                after = f", after {beaten}" if beaten is not None and beaten != obj else ""
                base[var] = Setting(var, value, f"{obj}: key {key} ({how}{after})",
                                    fix=reader.key_fix(kind, name, key))
                supplier[var] = obj
    return base


def _env_entry(reader: _Reader, item: Mapping[str, Any], origin: str) -> EnvEntry | None:
    """One env item; None when an optional reference is missing (the variable is not set)."""
    # The API server admits only valid names; a manifest or a hostile answer may hold others.
    name = neutralise(str(item.get("name")))
    source = item.get("valueFrom")
    if not isinstance(source, Mapping):
        return EnvEntry(name, str(item.get("value") or ""), origin, reader.env_fix())
    for field_name, kind in REFERENCES:
        ref = source.get(field_name)
        if isinstance(ref, Mapping):
            return _key_ref(reader, name, kind, ref)
    field_ref = source.get("fieldRef")
    if isinstance(field_ref, Mapping):
        path = neutralise(str(field_ref.get("fieldPath")), 120)
        if path == "metadata.namespace":
            return EnvEntry(name, reader.namespace, f"{origin} (fieldRef {path})", expand=False)
        return EnvEntry(name, None, f"{origin} (fieldRef {path})",
                        unresolved=f"fieldRef {path} is known only inside the running pod")
    what = neutralise(str(next(iter(source), "valueFrom")), 120)
    return EnvEntry(name, None, origin, unresolved=f"{what} is known only inside the running pod")


def _key_ref(reader: _Reader, name: str, kind: str, ref: Mapping[str, Any]) -> EnvEntry | None:
    obj, key = str(ref.get("name")), str(ref.get("key"))
    where = f"{reader.shown(kind, obj)}: key {neutralise(key)}"
    fix = reader.key_fix(kind, obj, key)
    data, fetched = reader.data_of(kind, obj)
    if data is None:
        if fetched.missing and ref.get("optional"):
            return None
        why = fetched.problem or "unknown"
        if fetched.missing:
            why += " (the pod cannot start without it: CreateContainerConfigError)"
        return EnvEntry(name, None, where, fix, unresolved=why)
    if key not in data:
        if ref.get("optional"):
            return None
        return EnvEntry(name, None, where, fix, unresolved=(
            f"{reader.shown(kind, obj)} has no key {neutralise(key)} (the pod cannot start without "
            "it: CreateContainerConfigError)"))
    return EnvEntry(name, data[key], where, fix, expand=False)
