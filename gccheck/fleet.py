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

Keys are TargetSpec's fields with '-' for '_' (docs/audit.md has the reference). `env` maps are
merged (the deployment's names win). The settings sources (env, env-file, values, workload) are
one choice: a deployment that names one does not inherit another from `defaults`. Relative
paths are read relative to the fleet file's folder.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gccheck.bucket_url import parse_bucket_url
from gccheck.errors import InputError
from gccheck.files import load_yaml, read_text
from gccheck.masking import describe_value
from gccheck.matrix import Matrix
from gccheck.target import TargetSpec

TOP_KEYS = ("version", "defaults", "deployments")
SOURCE_KEYS = ("env", "env-file", "values", "workload")
PATH_KEYS = ("env-file", "values", "kubeconfig")
AZURE_PLANES = ("mgmt", "data")
MIN_TIMEOUT, MAX_TIMEOUT = 0.1, 600.0
MAX_DEPLOYMENTS = 100_000


class _EntryError(Exception):
    """A problem inside one entry; the loader adds which entry it is."""


def _text(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _EntryError(f"{key}: expected a non-empty string, got {_shown(value)}")
    if any(ch in value for ch in "\r\n\x00"):
        raise _EntryError(f"{key}: must be on one line")
    if not value.isprintable():
        # Tabs, NEL, ANSI escapes would reach the terminal and the HTML report as they are.
        raise _EntryError(f"{key}: must not contain control characters")
    return value.strip()


def _shown(value: Any) -> str:
    """How a bad value is quoted in an error (short values only: it may be a secret)."""
    if isinstance(value, str):
        return describe_value(value)
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return "nothing" if value is None else f"{type(value).__name__} {value!r}"


def _url(value: Any, key: str) -> str:
    text = _text(value, key)
    if not text.startswith(("http://", "https://")):
        raise _EntryError(f"{key}: expected an http:// or https:// URL")
    return text


def _env_value(value: Any, key: str) -> str:
    # YAML reads `true` and `10` as bool and int; the server sees the strings "true" and "10".
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return value
    raise _EntryError(f"env {key}: expected a string value, got {_shown(value)}")


def _env(value: Any, key: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise _EntryError(f"{key}: expected a mapping of NAME: value, got {_shown(value)}")
    out: dict[str, str] = {}
    for name, item in value.items():
        if not isinstance(name, str) or not name or any(ch in name for ch in "=\n\x00 "):
            raise _EntryError(f"{key}: {_shown(name)} is not a variable name")
        out[name] = _env_value(item, name)
    return out


def _values(value: Any, key: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise _EntryError(f"{key}: expected a file or a list of files, got {_shown(value)}")
    return tuple(_text(item, f"{key}[{i}]") for i, item in enumerate(items))


def _workload(value: Any, key: str) -> str:
    text = _text(value, key)
    # The syntax is checked here, before the audit; the cluster is only asked during it.
    from gccheck.sources.kubernetes.workload import parse_workload

    try:
        parse_workload(text)
    except InputError as exc:
        raise _EntryError(f"{key}: {str(exc).removeprefix('--workload ')}") from None
    return text


def _timeout(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _EntryError(f"{key}: expected a number of seconds, got {_shown(value)}")
    if not MIN_TIMEOUT <= value <= MAX_TIMEOUT:
        raise _EntryError(f"{key}: {value:g} is outside {MIN_TIMEOUT:g}..{MAX_TIMEOUT:g} seconds")
    return float(value)


def _plane(value: Any, key: str) -> str:
    if value not in AZURE_PLANES:
        raise _EntryError(f"{key}: expected one of {', '.join(AZURE_PLANES)}, got {_shown(value)}")
    return str(value)


# fleet key -> (TargetSpec field, validator). `name` and `hosting` are checked on their own.
_FIELDS: dict[str, tuple[str, Callable[[Any, str], Any]]] = {
    "bucket": ("bucket", _text),
    "env": ("env", _env),
    "env-file": ("env_file", _text),
    "values": ("values", _values),
    "workload": ("workload", _workload),
    "kubeconfig": ("kubeconfig", _text),
    "context": ("context", _text),
    "endpoint-url": ("endpoint_url", _url),
    "aws-profile": ("aws_profile", _text),
    "azure-subscription": ("azure_subscription", _text),
    "azure-resource-group": ("azure_resource_group", _text),
    "azure-plane": ("azure_plane", _plane),
    "azure-blob-endpoint": ("azure_blob_endpoint", _url),
    "azure-arm-endpoint": ("azure_arm_endpoint", _url),
    "timeout": ("timeout", _timeout),
}
ENTRY_KEYS = ("name", "hosting", *_FIELDS)


@dataclass(frozen=True)
class Fleet:
    """The deployments of a fleet file, in file order, ready for the audit."""

    source: str
    specs: tuple[TargetSpec, ...]


def _check_keys(raw: Mapping[Any, Any], allowed: tuple[str, ...]) -> None:
    for key in raw:
        if key not in allowed:
            hint = ""
            if isinstance(key, str) and key.replace("_", "-") in allowed:
                hint = f" (did you mean {key.replace('_', '-')!r}?)"
            raise _EntryError(f"unknown key {_shown(key) if not isinstance(key, str) else repr(key)}"
                              f"{hint}; known keys: {', '.join(allowed)}")


def _fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Validated values of the optional keys, by fleet key."""
    return {key: _FIELDS[key][1](value, key) for key, value in raw.items() if key in _FIELDS}


def _resolve(path: str, base: Path) -> str:
    try:
        p = Path(path).expanduser()
    except RuntimeError:  # ~user that does not exist, or no home directory
        raise _EntryError(f"{path}: cannot expand '~' (no such user or home directory)") from None
    return str(p if p.is_absolute() else base / p)


def _file_kind(path: str, key: str) -> str:
    """'file', 'directory' or 'missing'; an entry error when the name cannot be a file's."""
    try:
        p = Path(path)
        return "directory" if p.is_dir() else "file" if p.is_file() else "missing"
    except (OSError, ValueError) as exc:
        why = getattr(exc, "strerror", None) or "not a valid file name"
        raise _EntryError(f"{key} {describe_value(path, 120)}: {why}") from None


def _merge(defaults: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    """The entry's values over the defaults; env maps merge; one settings source only."""
    merged = dict(own)
    names_source = any(k in own for k in SOURCE_KEYS if k != "env")
    for key, value in defaults.items():
        if key in SOURCE_KEYS and key != "env" and (names_source or "env" in own):
            continue
        if key == "env":
            if names_source:
                continue
            merged["env"] = {**value, **own.get("env", {})}
        elif key not in merged:
            merged[key] = value
    return merged


def _spec(name: str, hosting: str, fields: Mapping[str, Any], base: Path,
          default_timeout: float) -> TargetSpec:
    kwargs: dict[str, Any] = {}
    for key, value in fields.items():
        if key in PATH_KEYS:
            value = (tuple(_resolve(v, base) for v in value) if isinstance(value, tuple)
                     else _resolve(value, base))
        if key == "kubeconfig":
            # Used only when the cluster is asked, during the audit: a missing or unreadable
            # file is an input error, said now, like every other file of the fleet.
            kind = _file_kind(value, key)
            if kind == "directory":
                raise _EntryError(f"kubeconfig {value}: is a directory, expected a file")
            if kind == "missing":
                raise _EntryError(f"kubeconfig {value}: no such file")
            from gccheck.sources.kubernetes.kubeconfig import check_kubeconfig_file

            check_kubeconfig_file(value)
        kwargs[_FIELDS[key][0]] = value
    kwargs.setdefault("timeout", default_timeout)
    return TargetSpec(name=name, hosting=hosting, **kwargs)


def parse_fleet(data: Any, source: str, matrix: Matrix, *, base: Path | None = None,
                default_timeout: float = 10.0) -> Fleet:
    """Validate a loaded fleet file; raises InputError naming the file and the entry."""
    base = base or Path(".")

    def fail(where: str, problem: str) -> InputError:
        return InputError(f"fleet file {source}: {where}: {problem}")

    if not isinstance(data, Mapping):
        raise InputError(f"fleet file {source}: expected a mapping with a 'deployments:' list, "
                         f"got {_shown(data)}")
    try:
        _check_keys(data, TOP_KEYS)
    except _EntryError as exc:
        raise fail("top level", str(exc)) from None
    if "version" in data and data["version"] != 1:
        raise fail("version", f"only version 1 is known, got {_shown(data['version'])}")

    raw_defaults = data.get("defaults")
    raw_defaults = {} if raw_defaults is None else raw_defaults
    if not isinstance(raw_defaults, Mapping):
        raise fail("defaults", f"expected a mapping, got {_shown(raw_defaults)}")
    try:
        _check_keys(raw_defaults, tuple(k for k in ENTRY_KEYS if k != "name"))
        defaults = _fields(raw_defaults)
        if "hosting" in raw_defaults:
            defaults["hosting"] = _hosting(raw_defaults["hosting"], matrix)
        _one_source(defaults)
    except _EntryError as exc:
        raise fail("defaults", str(exc)) from None

    entries = data.get("deployments")
    if not isinstance(entries, list) or not entries:
        raise fail("deployments", "expected a non-empty list of deployments, got "
                   + ("an empty list" if isinstance(entries, list) else _shown(entries)))
    if len(entries) > MAX_DEPLOYMENTS:
        raise fail("deployments", f"more than {MAX_DEPLOYMENTS} deployments")

    specs: list[TargetSpec] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(entries, 1):
        label = f"deployment {number}"
        try:
            if not isinstance(raw, Mapping):
                raise _EntryError(f"expected a mapping with at least 'name', got {_shown(raw)}")
            if "name" not in raw:
                raise _EntryError("'name' is missing")
            name = _text(raw["name"], "name")
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
            _one_source(merged)
            if "bucket" in merged:
                # Bad bucket URLs are input errors too, found before anything is sent.
                parse_bucket_url(merged["bucket"], endpoint_url=merged.get("endpoint-url"))
            specs.append(_spec(name, hosting, merged, base, default_timeout))
        except _EntryError as exc:
            raise fail(label, str(exc)) from None
        except InputError as exc:
            raise fail(label, str(exc)) from None
    return Fleet(source, tuple(specs))


def _hosting(value: Any, matrix: Matrix) -> str:
    text = _text(value, "hosting")
    if text not in matrix.hosting_types:
        raise _EntryError(f"hosting: unknown hosting type {text!r} "
                          f"(one of: {', '.join(matrix.hosting_types)})")
    return text


def _one_source(fields: Mapping[str, Any]) -> None:
    given = [k for k in SOURCE_KEYS if k in fields]
    if len(given) > 1:
        raise _EntryError(f"give only one settings source of {', '.join(SOURCE_KEYS)} "
                          f"(got {', '.join(given)})")


def _load(path: str | Path) -> Any:
    """The fleet file parsed with libyaml when PyYAML has it (1,000 entries: 25 ms, not 250)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", None)
    if loader is None:
        return load_yaml(path, "fleet file")
    text = read_text(path, "fleet file")
    try:
        return yaml.load(text, Loader=loader)
    except (yaml.YAMLError, RecursionError):
        # Parse again with the pure-Python loader: same verdict, and its messages (line,
        # problem) are the ones every other gccheck file error uses.
        return load_yaml(path, "fleet file")


def load_fleet(path: str | Path, matrix: Matrix, default_timeout: float = 10.0) -> Fleet:
    """Read and validate a fleet file; relative paths in it are relative to its folder."""
    data = _load(path)
    return parse_fleet(data, str(path), matrix, base=Path(path).resolve().parent,
                       default_timeout=default_timeout)
