"""Load and validate matrix.yaml, the hosting matrix as data."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gccheck.errors import InputError
from gccheck.files import load_yaml
from gccheck.neutral import neutralise
from gccheck.suggest import did_you_mean

# In an installed wheel the file sits inside the package; in a checkout, at the repo root.
_PACKAGED = Path(__file__).resolve().parent / "matrix.yaml"
_CHECKOUT = Path(__file__).resolve().parent.parent / "matrix.yaml"


@dataclass(frozen=True)
class Provider:
    id: str
    title: str


@dataclass(frozen=True)
class Check:
    """A requirement or an advisory: an id, what it is, and which rule judges it."""

    id: str
    title: str
    check: str
    providers: frozenset[str] | None = None  # None: applies whatever the bucket's provider
    variable: str | None = None
    near_misses: tuple[str, ...] = ()
    column: str | None = None

    def applies_to(self, provider: str | None) -> bool:
        return self.providers is None or provider is None or provider in self.providers


@dataclass(frozen=True)
class HostingType:
    id: str
    title: str
    requires: tuple[str, ...]


@dataclass(frozen=True)
class Matrix:
    source: str
    providers: Mapping[str, Provider]
    ssc_providers: frozenset[str]
    requirements: Mapping[str, Check]
    advisories: Mapping[str, Check]
    hosting_types: Mapping[str, HostingType]

    def provider_title(self, provider: str) -> str:
        """The provider's title; its id when a custom matrix does not list it."""
        known = self.providers.get(provider)
        return known.title if known else provider

    def hosting_type(self, name: str, where: str = "--hosting") -> HostingType:
        """The hosting type called `name`; an InputError naming the closest one otherwise."""
        if name not in self.hosting_types:
            raise InputError(f"{where}: unknown hosting type {neutralise(name, 60)!r}"
                             f"{did_you_mean(name, self.hosting_types)} "
                             f"(one of: {', '.join(self.hosting_types)})")
        return self.hosting_types[name]

    def check(self, check_id: str) -> Check:
        """The requirement or advisory `check_id`; an InputError naming the closest otherwise."""
        found = self.requirements.get(check_id) or self.advisories.get(check_id)
        if found is None:
            known = [*self.requirements, *self.advisories]
            raise InputError(f"unknown requirement or advisory {neutralise(check_id, 60)!r}"
                             f"{did_you_mean(check_id, known)} (one of: {', '.join(known)})")
        return found


def default_matrix_path() -> Path:
    """The matrix.yaml shipped with gccheck."""
    return _PACKAGED if _PACKAGED.is_file() else _CHECKOUT


class _Reader:
    """Walks the parsed YAML, naming the file and key in every error."""

    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, key: str, problem: str) -> InputError:
        return InputError(f"matrix {self.source}: {key}: {problem}")

    def mapping(self, value: Any, key: str, allowed: Collection[str],
                required: Collection[str] = ()) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(key, "expected a mapping")
        for name in value:
            if name not in allowed:
                raise self.error(f"{key}.{name}", f"unknown key (allowed: {', '.join(allowed)})")
        for name in required:
            if name not in value:
                raise self.error(f"{key}.{name}", "missing")
        return value

    def text(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, "expected a non-empty string")
        return value

    def names(self, value: Any, key: str, known: Collection[str], what: str) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.error(key, "expected a list")
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise self.error(f"{key}[{i}]", "expected a string")
            if item not in known:
                raise self.error(f"{key}[{i}]", f"unknown {what} {item!r}")
        return tuple(value)

    def table(self, value: Any, key: str) -> dict[str, Any]:
        if not isinstance(value, dict) or not value:
            raise self.error(key, "expected a non-empty mapping")
        for name in value:
            if not isinstance(name, str):
                raise self.error(f"{key}.{name}", "ids must be strings")
        return value


_CHECK_KEYS = ("title", "check", "providers", "variable", "near-misses", "column")


def _checks(reader: _Reader, value: Any, key: str, providers: Collection[str],
            known_checks: Collection[str]) -> dict[str, Check]:
    out: dict[str, Check] = {}
    for cid, body in reader.table(value, key).items():
        where = f"{key}.{cid}"
        body = reader.mapping(body, where, _CHECK_KEYS, ("title", "check"))
        check = reader.text(body["check"], f"{where}.check")
        if check not in known_checks:
            raise reader.error(f"{where}.check", f"unknown check {check!r} "
                                                 f"(known: {', '.join(sorted(known_checks))})")
        scope = body.get("providers")
        variable = body.get("variable")
        if check == "env-true" and variable is None:
            raise reader.error(f"{where}.variable", "missing (env-true checks need it)")
        out[cid] = Check(
            id=cid,
            title=reader.text(body["title"], f"{where}.title"),
            check=check,
            providers=(frozenset(reader.names(scope, f"{where}.providers", providers, "provider"))
                       if scope is not None else None),
            variable=reader.text(variable, f"{where}.variable") if variable is not None else None,
            near_misses=tuple(reader.text(v, f"{where}.near-misses[{i}]") for i, v in
                              enumerate(_list(reader, body.get("near-misses", []),
                                              f"{where}.near-misses"))),
            column=reader.text(body["column"], f"{where}.column") if "column" in body else None,
        )
    return out


def _list(reader: _Reader, value: Any, key: str) -> list[Any]:
    if not isinstance(value, list):
        raise reader.error(key, "expected a list")
    return value


def load_matrix(path: str | Path | None, known_checks: Collection[str]) -> Matrix:
    """Read and validate a matrix file (the shipped one when `path` is None).

    `known_checks` are the rule names the file may refer to. Raises InputError naming the
    file and the offending key.
    """
    file = Path(path) if path is not None else default_matrix_path()
    source = str(path) if path is not None else "matrix.yaml"
    reader = _Reader(source)
    data = load_yaml(file, "matrix")
    top = reader.mapping(data, "(top level)", ("version", "providers", "secure-storage-connector",
                                               "requirements", "advisories", "hosting-types"),
                         ("version", "providers", "requirements", "hosting-types"))
    if top["version"] != 1:
        raise reader.error("version", f"unsupported version {top['version']!r} (expected 1)")
    providers: dict[str, Provider] = {}
    for pid, body in reader.table(top["providers"], "providers").items():
        body = reader.mapping(body, f"providers.{pid}", ("title",), ("title",))
        providers[pid] = Provider(pid, reader.text(body["title"], f"providers.{pid}.title"))
    ssc = reader.mapping(top.get("secure-storage-connector", {"providers": []}),
                         "secure-storage-connector", ("providers",), ("providers",))
    ssc_providers = reader.names(ssc["providers"], "secure-storage-connector.providers",
                                 providers, "provider")
    requirements = _checks(reader, top["requirements"], "requirements", providers, known_checks)
    advisories = (_checks(reader, top["advisories"], "advisories", providers, known_checks)
                  if top.get("advisories") else {})
    clash = set(requirements) & set(advisories)
    if clash:
        raise reader.error(f"advisories.{sorted(clash)[0]}", "id already used by a requirement")
    hosting: dict[str, HostingType] = {}
    for hid, body in reader.table(top["hosting-types"], "hosting-types").items():
        where = f"hosting-types.{hid}"
        body = reader.mapping(body, where, ("title", "requires"), ("title", "requires"))
        hosting[hid] = HostingType(
            hid, reader.text(body["title"], f"{where}.title"),
            reader.names(body["requires"], f"{where}.requires", requirements, "requirement"))
    return Matrix(source, providers, frozenset(ssc_providers), requirements, advisories, hosting)
