"""Reading `terraform show -json` output: a plan (format_version 1.x) or an applied state.

The file is parsed once and indexed once; only the resource types gccheck judges are kept, so
the time is one `json.loads` plus one pass over the resources (a 100,000-resource plan reads in
seconds, see bench/terraform_plan.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from gccheck.errors import InputError
from gccheck.files import read_bytes
from gccheck.neutral import neutralise
from gccheck.terraform.values import Planned

# A 50,000-resource plan of W&B-sized resources is ~150 MB; a plan ten times the largest real
# one still fits, and json.loads needs several times the file's size in memory.
MAX_PLAN_BYTES = 512 * 1024 * 1024
SUPPORTED_MAJOR = "1"

BUCKET_TYPES = frozenset({"aws_s3_bucket", "google_storage_bucket", "azurerm_storage_account"})
# Resources that describe a bucket from outside it, and the W&B settings resources.
RELATED_TYPES = frozenset({
    "aws_s3_bucket_versioning", "aws_s3_bucket_lifecycle_configuration",
    "aws_s3_bucket_object_lock_configuration", "azurerm_storage_management_policy",
    "azurerm_storage_container", "azurerm_storage_container_immutability_policy",
    "helm_release", "kubernetes_manifest",
})
KEPT_TYPES = BUCKET_TYPES | RELATED_TYPES

_MODULE_STEP = re.compile(r'module\.([A-Za-z0-9_-]+)((?:\[(?:[0-9]+|"(?:[^"\\]|\\.)*")\])?)\.?')


@dataclass(frozen=True)
class Instance:
    """One resource instance as the plan leaves it (or as the state holds it)."""

    address: str  # module.file_storage.aws_s3_bucket.file_storage
    module: str  # module.file_storage ("" for the root module)
    mode: str  # managed or data
    type: str
    name: str
    # create, update, delete, replace, no-op, read, forget; "state" in a state document
    action: str
    after: Planned  # the end state: after/after_unknown/after_sensitive
    before: Planned
    in_prior_state_only: bool = False  # a data source read at plan time

    @property
    def config_address(self) -> str:
        """The address inside its module's configuration (no instance key)."""
        return ("data." if self.mode == "data" else "") + f"{self.type}.{self.name}"


def module_names(module: str) -> tuple[str, ...]:
    """("a", "b") for `module.a[0].module.b`: the path in the configuration."""
    return tuple(m.group(1) for m in _MODULE_STEP.finditer(module))


def module_steps(module: str) -> list[str]:
    """["module.a[0]", "module.b"] for `module.a[0].module.b`."""
    return [f"module.{m.group(1)}{m.group(2)}" for m in _MODULE_STEP.finditer(module)]


def _action(actions: Any, where: str) -> str:
    if actions is None or actions == []:
        return "no-op"
    if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
        raise InputError(f"{where}: change.actions is not a list of names")
    if len(actions) == 2 and set(actions) == {"create", "delete"}:
        return "replace"
    first: str = actions[0]
    return first


def _text(entry: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    """A string field of a resource entry; InputError when it is missing or not a string."""
    value = entry.get(key, default)
    if value is None and default is not None:
        value = default
    if not isinstance(value, str):
        raise InputError(f"{where}: {key} is not a string")
    return value


@dataclass(frozen=True)
class Document:
    """A parsed plan or state, indexed for the resource types gccheck reads."""

    path: str
    kind: str  # "plan" or "state"
    format_version: str
    terraform_version: str
    instances: tuple[Instance, ...]
    modules: frozenset[str]  # every module instance address seen ("" is the root)
    configuration: Mapping[str, Any] = field(default_factory=dict, repr=False)
    variables: Mapping[str, Any] = field(default_factory=dict, repr=False)
    # Why the plan may not show every change: it errored, or it defers some (`complete`).
    incomplete: str = ""


def read_document(path: str) -> Document:
    """Parse and index `path`; InputError with one line for anything that is not a plan/state."""
    data = _parse(path)
    what = f"Terraform plan {neutralise(path, 200)}"
    if not isinstance(data, dict):
        raise InputError(f"{what}: expected a JSON object (the output of terraform show -json), "
                         f"got a {type(data).__name__}")
    version = data.get("format_version")
    if version is None:
        hint = (" (this looks like a raw terraform.tfstate file: run terraform show -json to "
                "convert it)" if "resources" in data and "version" in data else "")
        raise InputError(f"{what}: no format_version: not the output of terraform show -json"
                         f"{hint}")
    if not isinstance(version, str) or version.split(".")[0] != SUPPORTED_MAJOR:
        raise InputError(f"{what}: format_version {neutralise(str(version), 40)} is not "
                         f"supported (gccheck reads {SUPPORTED_MAJOR}.x, written by Terraform "
                         "0.12 and later)")
    terraform = str(data.get("terraform_version") or "unknown")
    if "planned_values" in data or "resource_changes" in data:
        return _plan(path, data, version, terraform)
    if "values" in data or set(data) <= {"format_version", "terraform_version"}:
        return _state(path, data, version, terraform)
    raise InputError(f"{what}: neither a plan (planned_values, resource_changes) nor a state "
                     "(values): run terraform show -json tfplan")


def _parse(path: str) -> Any:
    shown = neutralise(path, 200)
    raw = read_bytes(path, "Terraform plan", MAX_PLAN_BYTES)
    if raw[:2] == b"PK":  # a zip archive
        raise InputError(f"Terraform plan {shown}: a binary plan file (tfplan); give the JSON "
                         "of terraform show -json tfplan")
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(f"Terraform plan {shown}: line {exc.lineno}: not valid JSON "
                         f"({exc.msg})") from None
    except UnicodeDecodeError:
        raise InputError(f"Terraform plan {shown}: not valid UTF-8") from None
    except RecursionError:
        raise InputError(f"Terraform plan {shown}: nested too deeply") from None


def _plan(path: str, data: Mapping[str, Any], version: str, terraform: str) -> Document:
    kept: list[Instance] = []
    modules: set[str] = {""}
    seen: set[str] = set()
    changes = data.get("resource_changes")
    changes = [] if changes is None else changes
    if not isinstance(changes, list):
        raise InputError(f"Terraform plan {neutralise(path, 200)}: resource_changes is not a list")
    for index, change in enumerate(changes):
        if not isinstance(change, dict):
            continue
        module = change.get("module_address") or ""
        if isinstance(module, str):
            modules.add(module)
        type_ = change.get("type")
        if not isinstance(type_, str) or type_ not in KEPT_TYPES or change.get("deposed"):
            continue
        body = change.get("change")
        where = f"Terraform plan {neutralise(path, 200)}: resource_changes[{index}]"
        if not isinstance(body, dict):
            raise InputError(f"{where}: change is not an object")
        action = _action(body.get("actions"), where)
        before = Planned(body.get("before"), None, body.get("before_sensitive"))
        # A forgotten object (a `removed` block) keeps its state; Terraform stops managing it.
        after = before if action == "forget" else Planned(
            body.get("after"), body.get("after_unknown"), body.get("after_sensitive"))
        instance = Instance(
            address=_text(change, "address", where), module=_text(change, "module_address",
                                                                  where, ""),
            mode=_text(change, "mode", where, "managed"), type=type_,
            name=_text(change, "name", where), action=action, after=after, before=before)
        kept.append(instance)
        seen.add(instance.address)
    # Data sources read at plan time are only in prior_state; a managed resource found only
    # there is one this plan no longer manages (removed from the configuration, `removed {}`).
    prior = data.get("prior_state")
    if isinstance(prior, dict):
        for resource, module in _state_resources(prior.get("values")):
            modules.add(module)
            if _kept(resource) and resource.get("address") not in seen:
                kept.append(_from_state(resource, module, prior_only=True))
    variables = data.get("variables")
    configuration = data.get("configuration")
    return Document(path, "plan", version, terraform, tuple(kept), frozenset(modules),
                    configuration if isinstance(configuration, dict) else {},
                    variables if isinstance(variables, dict) else {},
                    incomplete=_incomplete(data))


def _incomplete(data: Mapping[str, Any]) -> str:
    if data.get("errored") is True:
        return "the plan errored (errored: true), so it may not show every change"
    if data.get("complete") is False:
        return ("the plan is not complete (complete: false: some changes are deferred to a "
                "later plan)")
    return ""


def _state(path: str, data: Mapping[str, Any], version: str, terraform: str) -> Document:
    kept: list[Instance] = []
    modules: set[str] = {""}
    for resource, module in _state_resources(data.get("values")):
        modules.add(module)
        if _kept(resource):
            kept.append(_from_state(resource, module, prior_only=False))
    return Document(path, "state", version, terraform, tuple(kept), frozenset(modules))


def _state_resources(values: Any) -> Iterator[tuple[dict[str, Any], str]]:
    """Every resource of a values representation with its module address, nested modules too."""
    if not isinstance(values, dict):
        return
    pending: list[tuple[Any, int]] = [(values.get("root_module"), 0)]
    while pending:
        module, depth = pending.pop()
        if not isinstance(module, dict) or depth > 64:
            continue
        address = module.get("address") if isinstance(module.get("address"), str) else ""
        resources = module.get("resources")
        for resource in resources if isinstance(resources, list) else ():
            if isinstance(resource, dict):
                yield resource, str(address)
        children = module.get("child_modules")
        pending.extend((child, depth + 1) for child in (
            children if isinstance(children, list) else ()))


def _kept(resource: Mapping[str, Any]) -> bool:
    type_ = resource.get("type")
    return isinstance(type_, str) and type_ in KEPT_TYPES


def _from_state(resource: Mapping[str, Any], module: str, prior_only: bool) -> Instance:
    values = Planned(resource.get("values"), None, resource.get("sensitive_values"))
    where = f"resource {neutralise(str(resource.get('address')), 200)}"
    mode = _text(resource, "mode", where, "managed")
    return Instance(
        address=_text(resource, "address", where), module=module, mode=mode,
        type=str(resource.get("type")), name=_text(resource, "name", where),
        action=("read" if mode == "data" else "no-op") if prior_only else "state",
        after=values, before=values, in_prior_state_only=prior_only)
