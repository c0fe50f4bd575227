"""The W&B environment as a plan sets it: `helm_release` values and `set` entries, or a
`kubernetes_manifest` holding a WeightsAndBiases resource, read with the `--values` logic.

W&B's modules pass `other_wandb_env` into the operator-wandb values (`global.extraEnv`) of a
WeightsAndBiases spec, which terraform-helm-wandb hands to its `wandb-cr` chart as one string:
`set { name = "spec", value = yamlencode(var.spec), type = "string" }`. The chart renders an
apps.wandb.com/v1 resource whose `spec` is that YAML.

A value the plan marks sensitive or knows only after apply is never read: the settings it
could hold are unresolved, saying which.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import yaml

from gccheck.errors import InputError
from gccheck.model import Setting, Settings
from gccheck.neutral import neutralise
from gccheck.sources import wandb_cr
from gccheck.sources.helm_values import settings_from_values
from gccheck.sources.values_files import MergedValues, ValuesDoc, check_expanded_size
from gccheck.terraform.document import Instance
from gccheck.terraform.values import Planned

GC_VARIABLE = wandb_cr.GC_VARIABLE
UNKNOWN = "\x00terraform-unknown\x00"
SENSITIVE = "\x00terraform-sensitive\x00"
REASONS = {UNKNOWN: "known only after apply", SENSITIVE: "sensitive in the plan"}
# The maps a variable can come from; one that is not known hides every variable.
_ENV_MAPS = (("global",), ("app",), ("global", "extraEnv"), ("global", "env"), ("app", "env"),
             ("app", "extraEnv"), ("extraEnv",))
_BUCKET_BLOCKS = (("global", "bucket"), ("global", "defaultBucket"), ("bucket",))
_CHART_KEYS = ("global", "app", "bucket", "extraEnv", "bucketRegion", "bucketKmsKeyArn")
_ESCAPED_DOT = re.compile(r"(?<!\\)\.")

FIX_MODULE = ("set it in the W&B module's other_wandb_env (module \"wandb\", from "
              "terraform-aws-wandb, terraform-google-wandb or terraform-azurerm-wandb), then "
              "terraform apply:\n  other_wandb_env = {\n    {name} = \"{value}\"\n  }")


def wandb_resources(instances: tuple[Instance, ...]) -> list[Instance]:
    """The resources that deploy W&B: a W&B chart's helm_release or a WeightsAndBiases
    kubernetes_manifest, not being destroyed."""
    found = []
    for instance in instances:
        if instance.mode != "managed" or instance.action == "delete":
            continue
        if instance.type == "helm_release":
            chart = instance.after.at("chart").text() or ""
            if "wandb" in chart.rsplit("/", 1)[-1] and chart != "operator":
                found.append(instance)
        elif (instance.type == "kubernetes_manifest"
              and instance.after.at("manifest", "kind").value == wandb_cr.KIND):
            found.append(instance)
    return found


def read_settings(path: str, instances: tuple[Instance, ...]) -> Settings:
    """The W&B app's environment as the plan sets it; InputError for values that do not parse
    (their message names the resource address, shown escaped)."""
    try:
        return _read(path, instances)
    except InputError as exc:
        raise InputError(neutralise(str(exc))) from None


def _read(path: str, instances: tuple[Instance, ...]) -> Settings:
    found = wandb_resources(instances)
    where = f"Terraform plan {neutralise(path, 200)}"
    if not found:
        return _opaque(f"{where} (no W&B release in it)", f"{where} deploys no W&B "
                       "(no helm_release of a W&B chart, no WeightsAndBiases kubernetes_manifest):"
                       " check the W&B settings in a run of their own (--values or --workload)",
                       where)
    if len(found) > 1:
        raise InputError(f"{where}: several W&B deployments ({', '.join(i.address for i in found)})"
                         ": check them one plan at a time, or give the settings with --values")
    resource = found[0]
    description = f"{where}: {resource.address}"
    if resource.type == "kubernetes_manifest":
        return _from_manifest(resource, description)
    return _from_release(resource, description)


def _is_marker(value: Any) -> bool:
    return isinstance(value, str) and value in REASONS


def _why(marker: Any) -> str:
    return REASONS.get(marker, "not readable") if isinstance(marker, str) else "not readable"


def _marked(value: Planned, depth: int = 0) -> Any:
    """The value with unknown and sensitive parts replaced by markers."""
    if value.is_unknown:
        return UNKNOWN
    if value.is_sensitive:
        return SENSITIVE
    if depth > 64:
        raise InputError("Terraform plan: a value nested too deeply")
    if isinstance(value.value, Mapping):
        # An unknown attribute is left out of `after` and marked in `after_unknown` only.
        keys = dict.fromkeys([*value.value, *(value.unknown if isinstance(
            value.unknown, Mapping) else ())])
        return {str(k): _marked(value.at(str(k)), depth + 1) for k in keys}
    if isinstance(value.value, list):
        return [_marked(value.at(i), depth + 1) for i in range(len(value.value))]
    return value.value


def _yaml(text: Any, what: str) -> Any:
    if _is_marker(text):
        return text
    if not isinstance(text, str):
        return text
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (yaml.YAMLError, RecursionError):
        raise InputError(f"{what}: not valid YAML") from None
    check_expanded_size(data, what)
    return data


def _set_value(entry: Mapping[str, Any]) -> Any:
    # Helm's --set typing: "true"/"false" and integers are typed unless type = "string".
    value = entry.get("value")
    if _is_marker(value) or entry.get("type") == "string" or not isinstance(value, str):
        return value
    if value in ("true", "false"):
        return value == "true"
    return int(value) if re.fullmatch(r"-?[0-9]+", value) else value


def _set_layer(entries: list[Any], sensitive: bool) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for entry in entries:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            continue
        keys = [k.replace("\\.", ".") for k in _ESCAPED_DOT.split(entry["name"])]
        node = data
        for key in keys[:-1]:
            child = node.get(key)
            node[key] = child if isinstance(child, dict) else {}
            node = node[key]
        node[keys[-1]] = SENSITIVE if sensitive else _set_value(entry)
    return data


def _from_release(resource: Instance, description: str) -> Settings:
    after = resource.after
    address = resource.address
    layers: list[ValuesDoc] = []
    values = _marked(after.at("values"))
    if _is_marker(values):
        return _opaque(description, f"{address} values are {_why(values)}")
    for i, text in enumerate(values if isinstance(values, list) else []):
        data = _yaml(text, f"{address} values[{i}]")
        if _is_marker(data):
            return _opaque(description, f"{address} values[{i}] is {_why(data)}")
        if isinstance(data, Mapping):
            layers.append(ValuesDoc(address, data, (f"values[{i}]",)))
    for key, sensitive in (("set", False), ("set_sensitive", True)):
        planned = after.at(key)
        # set_sensitive hides its values, not its names: every value is read as sensitive.
        entries = UNKNOWN if planned.is_unknown else planned.value if sensitive else _marked(
            planned)
        if _is_marker(entries):
            return _opaque(description, f"{address} {key} is {_why(entries)}")
        if isinstance(entries, list) and entries:
            layers.append(ValuesDoc(address, _set_layer(entries, sensitive), (key,)))
    merged = MergedValues()
    for layer in layers:
        merged.add(layer)
    spec = merged.get(("spec",))
    if spec is not None:
        # The wandb-cr chart: its `spec` value is the WeightsAndBiases spec, as YAML text.
        doc = merged.doc_for(("spec",))
        at = doc.where(("spec",)) if doc else f"{address}: spec"
        parsed = _yaml(spec, at)
        if _is_marker(parsed):
            return _opaque(description, f"{at} (the W&B spec) is {_why(parsed)}")
        if not isinstance(parsed, Mapping):
            raise InputError(f"{at}: the W&B spec is not a mapping")
        prefix = (*(doc.prefix if doc else ()), "spec", "values")
        spec_values = parsed.get("values")
        if _is_marker(spec_values):
            return _opaque(description, f"{at}.values is {_why(spec_values)}")
        if not isinstance(spec_values, Mapping):
            raise InputError(f"{at}: the W&B spec has no values mapping")
        layer = ValuesDoc(address, spec_values, prefix)
        merged, layers = MergedValues(), [layer]
        merged.add(layer)
    fix = FIX_MODULE if spec is not None else _fix_set(resource)
    return _settings(merged, layers, description, fix)


def _from_manifest(resource: Instance, description: str) -> Settings:
    manifest = _marked(resource.after.at("manifest"))
    address = resource.address
    if not isinstance(manifest, Mapping):
        return _opaque(description, f"{address} manifest is "
                       f"{REASONS.get(str(manifest), 'not a mapping')}")
    spec = manifest.get("spec")
    if _is_marker(spec):
        return _opaque(description, f"{address} manifest.spec is {_why(spec)}")
    cr = wandb_cr.classify(manifest, f"{address} manifest")
    assert cr is not None
    if cr.version == "v2":
        return _unmark(wandb_cr.read_v2(cr, address, {}), description, _fix_manifest(
            resource, ("spec", "wandb", "retention"), "artifactGarbageCollection = true"))
    values = cr.spec.get("values")
    if _is_marker(values):
        return _opaque(description, f"{address} manifest.spec.values is {_why(values)}")
    layer = ValuesDoc(address, wandb_cr.v1_values(cr, address, {}), ("manifest", "spec",
                                                                       "values"))
    merged = MergedValues()
    merged.add(layer)
    return _settings(merged, [layer], description, _fix_manifest(
        resource, ("spec", "values", "global", "extraEnv"), '{name} = "{value}"'))


def _contains(node: Any, depth: int = 0) -> str | None:
    """The first marker inside `node`."""
    if isinstance(node, str) and node in REASONS:
        return node
    if depth > 64:
        return None
    children = node.values() if isinstance(node, Mapping) else node if isinstance(
        node, list) else ()
    for child in children:
        found = _contains(child, depth + 1)
        if found:
            return found
    return None


def _settings(merged: MergedValues, layers: list[ValuesDoc], description: str,
              fix: str) -> Settings:
    hidden: dict[str, str] = {}
    for path in _BUCKET_BLOCKS + _ENV_MAPS:
        value = merged.get(path)
        marker = _contains(value)
        if marker is None:
            continue
        doc = merged.doc_for(path)
        where = doc.where(path) if doc else ".".join(path)
        parent = merged.get(path[:-1]) if len(path) > 1 else merged.data
        if path in _BUCKET_BLOCKS and isinstance(parent, dict):
            # The chart derives BUCKET from the whole block: one unknown part hides it.
            parent.pop(path[-1], None)
            hidden.setdefault("BUCKET", f"{where} is partly {_why(marker)}")
        elif _is_marker(value) and isinstance(parent, dict):
            parent[path[-1]] = {}
            hidden.setdefault("*", f"{where} is {_why(marker)}")
    if not any(key in merged.data for key in _CHART_KEYS):
        # A W&B chart given no W&B values: the chart's defaults, which set no variable.
        merged.data["global"] = {}
    if not layers:
        layers = [ValuesDoc(description, {}, ())]
    settings = settings_from_values(merged, layers)
    values = dict(settings.values)
    for name, reason in hidden.items():
        if name != "*" and name not in values:
            values[name] = Setting(name, None, description, unresolved=reason)
    if "*" in hidden and GC_VARIABLE not in values:
        values[GC_VARIABLE] = Setting(GC_VARIABLE, None, description, unresolved=hidden["*"])
    return _unmark(replace(settings, values=values), description, fix)


def _fix_set(resource: Instance) -> str:
    """For a helm_release of the operator-wandb chart of one's own: a `set` entry."""
    return neutralise(
        f"add to {resource.address} (resource \"helm_release\" \"{resource.name}\"), then "
        "terraform apply:\n  set {\n    name  = \"global.extraEnv.{name}\"\n"
        "    value = \"{value}\"\n  }", None, multiline=True)


def _fix_manifest(resource: Instance, path: tuple[str, ...], entry: str) -> str:
    """For a kubernetes_manifest: where the variable goes in the manifest's HCL."""
    return neutralise(
        f"set it in {resource.address} (resource \"kubernetes_manifest\" "
        f"\"{resource.name}\"), then terraform apply: in manifest.{'.'.join(path)}, "
        f"{entry}", None)


def _unmark(settings: Settings, description: str, fix: str) -> Settings:
    """Settings whose value holds a marker become unresolved; fixes speak Terraform."""
    values: dict[str, Setting] = {}
    for name, setting in settings.values.items():
        marker = next((m for m in REASONS if setting.value and m in setting.value), None)
        if marker is not None:
            setting = Setting(name, None, setting.origin, unresolved=_why(marker))
        values[name] = replace(setting, fix=fix if setting.fix else None)
    secrets = tuple(s for s in settings.secrets if not any(m in s for m in REASONS))
    return Settings(description=description, values=values, fix_missing=fix,
                    secrets=secrets)


def _opaque(description: str, reason: str, origin: str | None = None) -> Settings:
    """Settings that cannot be read at all: the GC variable unresolved, saying why. Its
    origin is the attribute that hides it (what the reason starts with) unless given."""
    if origin is None:
        origin = reason.split(" is ", 1)[0].split(" are ", 1)[0]
    setting = Setting(GC_VARIABLE, None, neutralise(origin), unresolved=neutralise(reason))
    return Settings(description=description, values={GC_VARIABLE: setting},
                    fix_missing=FIX_MODULE)
