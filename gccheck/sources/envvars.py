"""Container environment semantics shared by the Kubernetes-shaped sources.

How Kubernetes builds a container's environment (kubelet `makeEnvironmentVariables`):
`envFrom` sources first, in order (a later source beats an earlier one), then `env` in order
(an entry beats `envFrom` and any earlier entry of the same name). A literal `value` may
reference `$(VAR)`: it is expanded against the variables defined *before* it (`envFrom` and
earlier entries); `$$` is a literal `$`; a reference to an undefined variable stays as
written. Values taken from `valueFrom` and from `envFrom` are never expanded.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from gccheck.model import Setting

# Stands for a referenced variable whose value cannot be known (a Secret we may not read).
UNKNOWN_MARK = "\x00"


@dataclass(frozen=True)
class EnvEntry:
    """One `env` entry, in the order the container lists it."""

    name: str
    value: str | None  # the literal value (before $(VAR) expansion); None with `unresolved`
    origin: str
    fix: str | None = None
    unresolved: str | None = None
    # Literal `value:` entries are expanded; values read through valueFrom are not.
    expand: bool = True


def go_string(value: object) -> str:
    """A YAML scalar as Helm's `toString` prints it: true, 1, 0.5, 1e+06.

    Helm reads values through JSON, so every number is a float64 and prints as Go's `%v`.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _go_float(float(value))
    return str(value)


def _go_float(value: float) -> str:
    # Go's %v for float64: shortest digits, exponent form when the exponent is < -4 or >= 6
    # (strconv 'g' with precision -1), with a sign and at least two exponent digits.
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    number = Decimal(repr(value)).normalize()
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    point = len(digits) + exponent - 1
    if number.is_zero():
        return "0"
    if -4 <= point < 6:
        return f"{number:f}"
    mantissa = str(digits[0]) + ("." + "".join(map(str, digits[1:])) if len(digits) > 1 else "")
    return f"{'-' if sign else ''}{mantissa}e{'-' if point < 0 else '+'}{abs(point):02d}"


def expand(text: str, lookup: Callable[[str], str | None]) -> str:
    """Expand $(VAR) in `text` exactly like Kubernetes (third_party/forked/golang/expansion).

    `lookup` returns a variable's value or None when it is not defined (the reference then
    stays as written).
    """
    out: list[str] = []
    checkpoint = 0
    cursor = 0
    while cursor < len(text):
        if text[cursor] == "$" and cursor + 1 < len(text):
            out.append(text[checkpoint:cursor])
            read, is_var, advance = _read_variable(text[cursor + 1:])
            if is_var:
                found = lookup(read)
                out.append(found if found is not None else f"$({read})")
            else:
                out.append(read)
            cursor += advance
            checkpoint = cursor + 1
        cursor += 1
    return "".join(out) + text[checkpoint:]


def _read_variable(rest: str) -> tuple[str, bool, int]:
    if rest[0] == "$":  # "$$" is an escaped "$"
        return "$", False, 1
    if rest[0] == "(":
        close = rest.find(")", 1)
        if close >= 0:
            return rest[1:close], True, close + 1
        return "$(", False, 1  # an unterminated reference is kept as written
    return "$" + rest[0], False, 1


def resolve(entries: Iterable[EnvEntry], base: Mapping[str, Setting] | None = None,
            partial: dict[str, tuple[str, str]] | None = None) -> dict[str, Setting]:
    """The environment the entries produce over `base` (the `envFrom` variables).

    A value that references a variable we cannot read is unresolved too, naming why; its
    expansion so far (the unknown parts marked with UNKNOWN_MARK) and why goes to
    `partial`, so that a caller may still use what is known (a bucket URL whose keys alone are
    unknown).
    """
    env: dict[str, Setting] = dict(base or {})
    for entry in entries:
        env[entry.name] = _resolve_one(entry, env, partial)
    return env


def _resolve_one(entry: EnvEntry, env: Mapping[str, Setting],
                 partial: dict[str, tuple[str, str]] | None) -> Setting:
    if partial is not None:
        partial.pop(entry.name, None)
    if entry.unresolved is not None or entry.value is None:
        return Setting(entry.name, None, entry.origin, unresolved=entry.unresolved or "unknown",
                       fix=entry.fix)
    if not entry.expand:
        return Setting(entry.name, entry.value, entry.origin, fix=entry.fix)
    missing: list[Setting] = []

    def lookup(name: str) -> str | None:
        setting = env.get(name)
        if setting is None:
            return None
        if setting.unresolved is not None or setting.value is None:
            missing.append(setting)
            return UNKNOWN_MARK
        return setting.value

    value = expand(entry.value, lookup)
    if not missing:
        return Setting(entry.name, value, entry.origin, fix=entry.fix)
    first = missing[0]
    if partial is not None:
        partial[entry.name] = (value, first.unresolved or "unknown")
    return Setting(entry.name, None, entry.origin, fix=entry.fix,
                   unresolved=f"it uses $({first.name}), which cannot be read: {first.unresolved}")
