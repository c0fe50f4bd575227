"""What every provider's planned facts share: the bucket, the resources linked to it, and the
two kinds of "not known yet".

A value the configuration *sets* from something known only after apply is unknown (never a
guess). A block the configuration does *not* set ends as the provider's default, even when the
plan marks it computed (`after_unknown`): that is "not configured".
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gccheck.model import Unavailable, UnavailableKind
from gccheck.neutral import neutralise
from gccheck.terraform.document import Instance
from gccheck.terraform.links import Configuration
from gccheck.terraform.values import Key, Planned, path_text

AFTER_APPLY = "known only after apply"


class Known(str, enum.Enum):
    """How much the plan says about a value."""

    KNOWN = "known"
    AFTER_APPLY = "after-apply"  # set by the configuration, value known only after apply
    DEFAULT = "default"  # not set by the configuration: the provider's default


@dataclass(frozen=True)
class Related:
    """The resources linked to one bucket, by type, and those of its types left unlinked."""

    linked: Mapping[str, tuple[Instance, ...]] = field(default_factory=dict)
    # Resources of a type that could not be linked to any bucket, with why.
    unlinked: Mapping[str, tuple[tuple[Instance, str], ...]] = field(default_factory=dict)

    def active(self, type_: str) -> list[Instance]:
        """Linked resources of `type_` that exist after apply."""
        return [i for i in self.linked.get(type_, ()) if i.action != "delete"]

    def deleted(self, type_: str) -> list[Instance]:
        return [i for i in self.linked.get(type_, ()) if i.action == "delete"]

    def unlinked_reason(self, type_: str) -> Unavailable | None:
        """Unknown when a resource of `type_` may describe this bucket but could not be linked."""
        loose = self.unlinked.get(type_, ())
        if not loose:
            return None
        instance, why = loose[0]
        more = f" (and {len(loose) - 1} more)" if len(loose) > 1 else ""
        return Unavailable(UnavailableKind.ERROR, neutralise(
            f"{instance.address}{more} could not be linked to a bucket: {why}; it may configure "
            "this one: check it after apply, or link it by a resource reference"))


@dataclass(frozen=True)
class Facts:
    """A bucket and what reading its facts needs."""

    bucket: Instance
    related: Related
    config: Configuration

    def state(self, instance: Instance, *path: Key) -> tuple[Known, Planned]:
        """The planned value at `path` of `instance`, and whether it is known."""
        value = instance.after.at(*path)
        if not value.has_unknown:
            return Known.KNOWN, value
        if self._sets(instance, path):
            return Known.AFTER_APPLY, value
        return Known.DEFAULT, value

    def _sets(self, instance: Instance, path: Sequence[Key]) -> bool:
        # The configuration sets the value at `path` or a block above it that is unknown as a
        # whole; a nested block the configuration leaves out is the provider's default.
        for cut in range(len(path), 0, -1):
            if self.config.sets(instance, *path[:cut]):
                return cut == len(path) or instance.after.at(*path[:cut]).is_unknown
        return False

    def after_apply(self, instance: Instance, *path: Key) -> Unavailable:
        """The unknown for a configured value that Terraform learns only when it applies."""
        expression = self.config.expression(instance, *path)
        refs = expression.get("references") if isinstance(expression, Mapping) else None
        shown = [r for r in refs or () if isinstance(r, str)]
        # Terraform lists a traversal and its prefixes: keep the longest forms.
        shown = [r for r in shown if not any(o.startswith((r + ".", r + "[")) for o in shown)]
        via = f" (from {', '.join(shown[:3])})" if shown else ""
        return Unavailable(UnavailableKind.ERROR, neutralise(
            f"{AFTER_APPLY}: {instance.address} {path_text(path)}{via}; "
            "run the check again on the state after apply, or on the live bucket"))


def number(value: Planned) -> float | None:
    """A known, non-zero number (providers write 0 for an unset optional number)."""
    raw = value.value
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or value.is_unknown:
        return None
    return float(raw) if raw else None


def days_text(days: float) -> str:
    return f"{days:g} day{'s' if days != 1 else ''}"
