"""Planned attribute values with what Terraform says about them: known, unknown, sensitive.

`terraform show -json` gives each resource's end state three times over, as parallel
structures (Terraform's "JSON Output Format", change representation):

    after            the values known at plan time (unknown ones are absent or null)
    after_unknown    true where a value is known only after apply, mirroring `after`
    after_sensitive  true where a value is sensitive, mirroring `after`

A state document has `values` and `sensitive_values` and nothing unknown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Key = str | int


def _child(node: Any, key: Key) -> Any:
    """node[key] for a JSON mapping or list, None when it has no such member."""
    if isinstance(node, Mapping) and isinstance(key, str):
        return node.get(key)
    if isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
        return node[key]
    return None


def _mark(node: Any, key: Key) -> Any:
    # A `true` covers everything below it.
    return True if node is True else _child(node, key)


def _holds_true(node: Any, depth: int = 0) -> bool:
    if node is True:
        return True
    if depth > 64:
        return True  # deeper than any provider schema: treat as unknown rather than recurse on
    if isinstance(node, Mapping):
        return any(_holds_true(v, depth + 1) for v in node.values())
    if isinstance(node, list):
        return any(_holds_true(v, depth + 1) for v in node)
    return False


@dataclass(frozen=True)
class Planned:
    """One planned value (an attribute, a block, a whole resource) and its markings."""

    value: Any
    unknown: Any = None
    sensitive: Any = None

    def at(self, *path: Key) -> Planned:
        """The member at `path` (`at("versioning", 0, "enabled")`)."""
        value, unknown, sensitive = self.value, self.unknown, self.sensitive
        for key in path:
            value, unknown, sensitive = (_child(value, key), _mark(unknown, key),
                                         _mark(sensitive, key))
        return Planned(value, unknown, sensitive)

    @property
    def is_unknown(self) -> bool:
        """The value itself is known only after apply."""
        return self.unknown is True

    @property
    def has_unknown(self) -> bool:
        """Some part of the value is known only after apply."""
        return _holds_true(self.unknown)

    @property
    def is_sensitive(self) -> bool:
        return self.sensitive is True

    @property
    def has_sensitive(self) -> bool:
        return _holds_true(self.sensitive)

    def blocks(self) -> list[Planned]:
        """The items of a nested block list (`versioning`, `lifecycle_rule`, ...)."""
        if not isinstance(self.value, list):
            return []
        return [self.at(i) for i in range(len(self.value))]

    def first(self) -> Planned:
        """The one item of a MaxItems=1 block, or an empty value when the block is absent."""
        return self.at(0)

    def text(self) -> str | None:
        """The value when it is a known string (numbers and booleans as Terraform prints them)."""
        if self.is_unknown or self.value is None:
            return None
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        if isinstance(self.value, (str, int, float)):
            return str(self.value)
        return None


def path_text(path: Sequence[Key]) -> str:
    """`versioning_configuration[0].status` for ("versioning_configuration", 0, "status")."""
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else key)
    return out
