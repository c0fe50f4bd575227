"""The fleet file of `gccheck audit`: many deployments, validated before any network call.

    version: 1                     # optional
    defaults:                      # optional: applied to every deployment that does not set it
      hosting: customer-managed-cloud
      env: {GORILLA_ARTIFACT_GC_ENABLED: "true"}
    deployments:
      - name: prod-us
        bucket: s3://wandb-prod-us
      - name: lab
        hosting: on-prem
        env-file: lab.env

Keys are the options of gccheck.options, as `check` names them without '--' (docs/audit.md has
the reference). `env` maps are
merged (the deployment's names win). The settings sources (env, env-file, values, workload,
terraform-plan, chart) are one choice: a deployment that names one does not inherit another
from `defaults`. With a chart, `values` are the chart's values: a deployment that gives only
`values` renders the chart of `defaults` with them; `release-name` and `namespace` go with a
chart (in `defaults`, they apply to the deployments that render one). Relative paths are read
relative to the fleet file's folder.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gccheck.bucket_url import parse_bucket_url
from gccheck.errors import InputError
from gccheck.files import load_yaml
from gccheck.matrix import Matrix
from gccheck.options import (
    BY_KEY,
    CHART_KEYS,
    FLEET_KEYS,
    SOURCE_KEYS,
    OptionError,
    settings_source,
    shown,
    spec_fields,
)
from gccheck.suggest import did_you_mean
from gccheck.target import TargetSpec

TOP_KEYS = ("version", "defaults", "deployments")
ENTRY_KEYS = FLEET_KEYS
MAX_DEPLOYMENTS = 100_000


class _EntryError(Exception):
    """A problem inside one entry; the loader adds which entry it is."""


@dataclass(frozen=True)
class Fleet:
    """The deployments of a fleet file, in file order, ready for the audit."""

    source: str
    specs: tuple[TargetSpec, ...]


def _check_keys(raw: Mapping[Any, Any], allowed: tuple[str, ...]) -> None:
    for key in raw:
        if key not in allowed:
            hint = did_you_mean(key, allowed) if isinstance(key, str) else ""
            raise _EntryError(f"unknown key {repr(key) if isinstance(key, str) else shown(key)}"
                              f"{hint}; known keys: {', '.join(allowed)}")


def _fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Validated values of the keys other than name and hosting, by fleet key."""
    try:
        return {key: BY_KEY[key].parse(value, key) for key, value in raw.items()
                if key not in ("name", "hosting")}
    except OptionError as exc:
        raise _EntryError(str(exc)) from None


def _resolve(path: str, base: Path) -> str:
    try:
        p = Path(path).expanduser()
    except RuntimeError:  # ~user that does not exist, or no home directory
        raise _EntryError(f"{path}: cannot expand '~' (no such user or home directory)") from None
    return str(p if p.is_absolute() else base / p)


def _merge(defaults: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    """The entry's values over the defaults; env maps merge; one settings source only."""
    merged = dict(own)
    own_sources = {k for k in SOURCE_KEYS if k in own}
    # The entry's values files are the values of the defaults' chart (one release per entry).
    renders_default_chart = own_sources == {"values"} and "chart" in defaults
    names_source = bool(own_sources - {"env"}) and not renders_default_chart
    for key, value in defaults.items():
        if key in SOURCE_KEYS and key != "env" and (names_source or "env" in own):
            continue
        if key in CHART_KEYS and key not in own and "chart" not in own and (
                names_source or "env" in own or "chart" not in defaults):
            continue  # they go with a chart, and this entry renders none
        if key == "env":
            if names_source:
                continue
            merged["env"] = {**value, **own.get("env", {})}
        elif key not in merged:
            merged[key] = value
    return merged


def _spec(name: str, hosting: str, fields: Mapping[str, Any], base: Path,
          default_timeout: float) -> TargetSpec:
    given: dict[str, Any] = {}
    for key, value in fields.items():
        if BY_KEY[key].path:
            value = (tuple(_resolve(v, base) for v in value) if isinstance(value, tuple)
                     else _resolve(value, base))
        if key == "kubeconfig":
            # Used only when the cluster is asked, during the audit: a missing or unreadable
            # file is an input error, said now, like every other file of the fleet.
            from gccheck.sources.kubernetes.kubeconfig import check_kubeconfig_file

            check_kubeconfig_file(value)
        given[key] = value
    given.setdefault("timeout", default_timeout)
    return TargetSpec(name=name, hosting=hosting, **spec_fields(given, cli=False))


def parse_fleet(data: Any, source: str, matrix: Matrix, *, base: Path | None = None,
                default_timeout: float = 10.0) -> Fleet:
    """Validate a loaded fleet file; raises InputError naming the file and the entry."""
    base = base or Path(".")

    def fail(where: str, problem: str) -> InputError:
        return InputError(f"fleet file {source}: {where}: {problem}")

    if not isinstance(data, Mapping):
        raise InputError(f"fleet file {source}: expected a mapping with a 'deployments:' list, "
                         f"got {shown(data)}")
    try:
        _check_keys(data, TOP_KEYS)
    except _EntryError as exc:
        raise fail("top level", str(exc)) from None
    if "version" in data and data["version"] != 1:
        raise fail("version", f"only version 1 is known, got {shown(data['version'])}")

    raw_defaults = data.get("defaults")
    raw_defaults = {} if raw_defaults is None else raw_defaults
    if not isinstance(raw_defaults, Mapping):
        raise fail("defaults", f"expected a mapping, got {shown(raw_defaults)}")
    try:
        _check_keys(raw_defaults, tuple(k for k in ENTRY_KEYS if k != "name"))
        defaults = _fields(raw_defaults)
        if "hosting" in raw_defaults:
            defaults["hosting"] = _hosting(raw_defaults["hosting"], matrix)
        # release-name and namespace may be set for the deployments that give a chart.
        _one_source({k: v for k, v in defaults.items() if k not in CHART_KEYS})
    except _EntryError as exc:
        raise fail("defaults", str(exc)) from None

    entries = data.get("deployments")
    if not isinstance(entries, list) or not entries:
        raise fail("deployments", "expected a non-empty list of deployments, got "
                   + ("an empty list" if isinstance(entries, list) else shown(entries)))
    if len(entries) > MAX_DEPLOYMENTS:
        raise fail("deployments", f"more than {MAX_DEPLOYMENTS} deployments")

    specs: list[TargetSpec] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(entries, 1):
        label = f"deployment {number}"
        try:
            if not isinstance(raw, Mapping):
                raise _EntryError(f"expected a mapping with at least 'name', got {shown(raw)}")
            if "name" not in raw:
                raise _EntryError("'name' is missing")
            name = _name(raw["name"])
            label = f"deployment {number} ({name!r})"
            _check_keys(raw, ENTRY_KEYS)
            if name in seen:
                raise _EntryError(f"duplicate name: deployment {seen[name]} is also called "
                                  f"{name!r}")
            seen[name] = number
            own = _fields(raw)
            hosting = (_hosting(raw["hosting"], matrix) if "hosting" in raw
                       else defaults.get("hosting"))
            if hosting is None:
                raise _EntryError("'hosting' is missing (set it here or under defaults)")
            merged = _merge({k: v for k, v in defaults.items() if k != "hosting"}, own)
            spec = _spec(name, hosting, merged, base, default_timeout)  # one settings source
            if spec.bucket is not None and not spec.reads_plan:  # a plan's: an address
                # Bad bucket URLs are input errors too, found before anything is sent.
                parse_bucket_url(spec.bucket, endpoint_url=spec.endpoint_url)
            specs.append(spec)
        except _EntryError as exc:
            raise fail(label, str(exc)) from None
        except InputError as exc:
            raise fail(label, str(exc)) from None
    return Fleet(source, tuple(specs))


def _name(value: Any) -> str:
    try:
        name: str = BY_KEY["name"].parse(value, "name")
    except OptionError as exc:
        raise _EntryError(str(exc)) from None
    return name


def _hosting(value: Any, matrix: Matrix) -> str:
    try:
        return matrix.hosting_type(BY_KEY["hosting"].parse(value, "hosting"), "hosting").id
    except InputError as exc:
        raise _EntryError(str(exc)) from None


def _one_source(fields: Mapping[str, Any]) -> None:
    try:
        settings_source(fields, cli=False)
    except OptionError as exc:
        raise _EntryError(str(exc)) from None


def load_fleet(path: str | Path, matrix: Matrix, default_timeout: float = 10.0) -> Fleet:
    """Read and validate a fleet file; relative paths in it are relative to its folder."""
    data = load_yaml(path, "fleet file")
    return parse_fleet(data, str(path), matrix, base=Path(path).resolve().parent,
                       default_timeout=default_timeout)
