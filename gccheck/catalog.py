"""Explanations, fixes and permissions for each requirement and advisory (catalog.yaml)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

ANY = "any"


@dataclass(frozen=True)
class Entry:
    id: str
    what: str
    why: str
    # provider (or "any") -> {"cli": ..., "terraform": ..., "helm": ...}
    fix: Mapping[str, Mapping[str, str]]
    permissions: Mapping[str, tuple[str, ...]]

    def fix_for(self, provider: str | None, **where: str | None) -> str | None:
        """The CLI fix for this provider with the bucket's names filled in."""
        ways = self.fix.get(provider or ANY) or self.fix.get(ANY)
        if not ways or "cli" not in ways:
            return None
        return fill(ways["cli"], **where)


_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def fill(template: str, **where: str | None) -> str:
    """Fill {bucket}, {endpoint}, ...; unknown placeholders and other braces (JSON) stay."""
    return _PLACEHOLDER.sub(lambda m: where.get(m.group(1)) or m.group(0), template)


@cache
def load_catalog() -> Mapping[str, Entry]:
    """The shipped catalog; it is package data, so errors in it are bugs, tested in CI."""
    text = resources.files("gccheck").joinpath("catalog.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return {
        cid: Entry(
            id=cid,
            what=body["what"],
            why=body["why"],
            fix={p: dict(ways) for p, ways in body.get("fix", {}).items()},
            permissions={p: tuple(v) for p, v in body.get("permissions", {}).items()},
        )
        for cid, body in data.items()
    }
