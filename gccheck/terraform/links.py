"""Which bucket a resource is about: the plan's `configuration` references, followed.

A separate resource such as `aws_s3_bucket_versioning` names its bucket in an argument
(`bucket = aws_s3_bucket.file_storage.id`), whose value is usually unknown at plan time. The
configuration keeps the expression's references (`"references": ["aws_s3_bucket.file_storage.id",
"aws_s3_bucket.file_storage"]`), module-relative; `var.X` leads to the calling module's argument,
`module.M.OUT` into the child module's output. `local.X` cannot be followed: locals are not in
the plan JSON. When the planned value is known, the literal name decides instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gccheck.terraform.document import Document, Instance, module_names, module_steps

_MAX_HOPS = 32


@dataclass(frozen=True)
class Link:
    """Where a reference leads: resource instances, literal names, and what could not be followed."""

    targets: frozenset[str] = frozenset()  # instance addresses
    names: frozenset[str] = frozenset()  # literal values (bucket names, ids)
    unfollowed: tuple[str, ...] = ()  # "local.bucket (locals are not in the plan JSON)"

    def __or__(self, other: Link) -> Link:
        return Link(self.targets | other.targets, self.names | other.names,
                    tuple(dict.fromkeys(self.unfollowed + other.unfollowed)))


@dataclass
class Configuration:
    """The `configuration` section, indexed by module path on first use."""

    document: Document
    _modules: dict[tuple[str, ...], Mapping[str, Any] | None] = field(default_factory=dict)
    _resources: dict[tuple[str, ...], dict[str, Mapping[str, Any]]] = field(default_factory=dict)
    _by_config: dict[tuple[str, str], list[Instance]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for instance in self.document.instances:
            key = (instance.module, instance.config_address)
            self._by_config.setdefault(key, []).append(instance)

    def module(self, names: tuple[str, ...]) -> Mapping[str, Any] | None:
        """The configuration of the module at `names` (() is the root module)."""
        if names in self._modules:
            return self._modules[names]
        found: Any = self.document.configuration.get("root_module")
        for name in names:
            calls = found.get("module_calls") if isinstance(found, Mapping) else None
            call = calls.get(name) if isinstance(calls, Mapping) else None
            found = call.get("module") if isinstance(call, Mapping) else None
        result = found if isinstance(found, Mapping) else None
        self._modules[names] = result
        return result

    def resource(self, instance: Instance) -> Mapping[str, Any] | None:
        """The configuration block of `instance` (its `expressions`, ...)."""
        names = module_names(instance.module)
        if names not in self._resources:
            module = self.module(names) or {}
            resources = module.get("resources") if isinstance(module, Mapping) else None
            self._resources[names] = {str(r.get("address")): r for r in (
                resources if isinstance(resources, list) else ()) if isinstance(r, Mapping)}
        return self._resources[names].get(instance.config_address)

    def expression(self, instance: Instance, *path: str | int) -> Any:
        """The expression at `path` under the resource's `expressions`; None when not set.

        Nested blocks are lists of objects (`"versioning": [{"enabled": {...}}]`).
        """
        config = self.resource(instance)
        node: Any = config.get("expressions") if config is not None else None
        for key in path:
            if isinstance(node, Mapping) and isinstance(key, str):
                node = node.get(key)
            elif isinstance(node, list) and isinstance(key, int) and key < len(node):
                node = node[key]
            else:
                return None
        return node

    def sets(self, instance: Instance, *path: str | int) -> bool:
        """Whether the configuration writes an expression at `path`; False when the plan has
        no configuration for the resource (a state document)."""
        node = self.expression(instance, *path)
        return node is not None and node != [] and node != {}

    def follow(self, instance: Instance, *path: str | int) -> Link:
        """Where the expression at `path` of `instance`'s configuration leads."""
        expression = self.expression(instance, *path)
        return self._expression(expression, instance.module, instance, 0)

    def _expression(self, expression: Any, module: str, origin: Instance | None,
                    hops: int) -> Link:
        if not isinstance(expression, Mapping):
            return Link()
        if "constant_value" in expression:
            value = expression["constant_value"]
            return Link(names=frozenset({str(value)})) if isinstance(value, str) else Link()
        references = expression.get("references")
        return self._references(references if isinstance(references, list) else (), module,
                                origin, hops)

    def _references(self, references: Iterable[Any], module: str, origin: Instance | None,
                    hops: int) -> Link:
        found = Link()
        refs = [r for r in references if isinstance(r, str)]
        # Terraform lists a traversal and its prefixes; the longest form carries the index.
        for ref in refs:
            if any(other.startswith((ref + ".", ref + "[")) for other in refs):
                continue
            found = found | self._reference(ref, module, origin, hops + 1)
        return found

    def _reference(self, ref: str, module: str, origin: Instance | None, hops: int) -> Link:
        if hops > _MAX_HOPS:
            return Link(unfollowed=(f"{ref} (more than {_MAX_HOPS} hops)",))
        parts = ref.split(".")
        head = parts[0]
        if head == "local":
            return Link(unfollowed=(f"{_in(module)}{ref} (locals are not in the plan JSON)",))
        if head == "var" and len(parts) > 1:
            return self._variable(parts[1], module, hops)
        if head == "module" and len(parts) > 2:
            return self._output(parts[1], parts[2], module, hops)
        if head in ("each", "count", "path", "terraform", "self"):
            return Link()
        if head == "data" and len(parts) > 2:
            return self._resource("data", parts[1], parts[2], module, origin)
        if len(parts) >= 2:
            return self._resource("managed", head, parts[1], module, origin)
        return Link()

    def _resource(self, mode: str, type_: str, name_key: str, module: str,
                  origin: Instance | None) -> Link:
        name, _, key = name_key.partition("[")
        config_address = ("data." if mode == "data" else "") + f"{type_}.{name}"
        candidates = self._by_config.get((module, config_address), [])
        if key:
            wanted = f"{config_address}[{key}"
            candidates = [c for c in candidates if c.address.endswith(wanted)]
        elif len(candidates) > 1 and origin is not None:
            # Both under one count/for_each: the instance with the same key.
            suffix = origin.address[len(origin.address.rstrip("]").rsplit("[", 1)[0]):]
            same = [c for c in candidates if suffix and c.address.endswith(suffix)]
            candidates = same or candidates
        return Link(targets=frozenset(c.address for c in candidates))

    def _variable(self, variable: str, module: str, hops: int) -> Link:
        steps = module_steps(module)
        if not steps:
            value = self.document.variables.get(variable)
            literal = value.get("value") if isinstance(value, Mapping) else None
            if isinstance(literal, str):
                return Link(names=frozenset({literal}))
            return Link(unfollowed=(f"var.{variable} (no known value in the plan)",))
        parent = ".".join(steps[:-1])
        call_name = module_names(steps[-1])[0]
        parent_config = self.module(module_names(parent)) or {}
        calls = parent_config.get("module_calls") if isinstance(parent_config, Mapping) else None
        call = calls.get(call_name) if isinstance(calls, Mapping) else None
        expressions = call.get("expressions") if isinstance(call, Mapping) else None
        expression = expressions.get(variable) if isinstance(expressions, Mapping) else None
        if expression is None:
            # Not passed: the variable's default, which the child's configuration may hold.
            child = self.module(module_names(module)) or {}
            variables = child.get("variables") if isinstance(child, Mapping) else None
            declared = variables.get(variable) if isinstance(variables, Mapping) else None
            default = declared.get("default") if isinstance(declared, Mapping) else None
            if isinstance(default, str):
                return Link(names=frozenset({default}))
            return Link(unfollowed=(f"{_in(module)}var.{variable} (not set by its caller)",))
        return self._expression(expression, parent, None, hops)

    def _output(self, call_key: str, output: str, module: str, hops: int) -> Link:
        call_name, _, key = call_key.partition("[")
        prefix = f"{module}." if module else ""
        child = f"{prefix}module.{call_name}"
        if key:
            child += f"[{key}"
        elif child not in self.document.modules:
            keyed = [m for m in self.document.modules if m.startswith(child + "[")
                     and "." not in m[len(child):].split("]", 1)[-1]]
            if len(keyed) == 1:
                child = keyed[0]
        config = self.module(module_names(child)) or {}
        outputs = config.get("outputs") if isinstance(config, Mapping) else None
        declared = outputs.get(output) if isinstance(outputs, Mapping) else None
        if not isinstance(declared, Mapping):
            return Link(unfollowed=(f"{_in(module)}module.{call_key}.{output} (no such output "
                                    "in the plan's configuration)",))
        return self._expression(declared.get("expression"), child, None, hops)


def _in(module: str) -> str:
    return f"{module}: " if module else ""
