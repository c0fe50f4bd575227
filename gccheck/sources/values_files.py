"""Values files: loaded safely, merged like `helm -f a -f b`, every key traced to file and line."""

from __future__ import annotations

import contextlib
import copy
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from gccheck.errors import InputError
from gccheck.files import load_yaml_document, read_text

Path = tuple[str, ...]
# Deeper than any real values file; stops recursive YAML aliases (&a [*a]) early.
_MAX_DEPTH = 64
# A values file holds hundreds of values; YAML aliases can make a few lines stand for billions
# (an "alias bomb"), which copying, merging or printing would then expand.
MAX_VALUES = 250_000
# operator-wandb's own values.yaml is 120 KB and a few thousand values. Every step below is
# linear; these bounds keep the worst case (parse, line index, merge) under a second a file.
MAX_VALUES_FILE_BYTES = 1024 * 1024
MAX_VALUES_FILE_NODES = 50_000
# All the files of one deployment together (`-f a -f b ...`): each file's bound alone lets
# many files add up to seconds and hundreds of MB (18 files of 387 KB took 5.6 s, 263 MB).
MAX_VALUES_FILES = 32
MAX_VALUES_TOTAL_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class ValuesDoc:
    """One values layer: a file, or the spec.values of a WeightsAndBiases resource."""

    file: str
    data: Mapping[str, Any]
    prefix: Path = ()  # ("spec", "values") for a WeightsAndBiases v1 resource
    lines: Mapping[Path, int] = field(default_factory=dict, repr=False)

    def where(self, path: Sequence[str]) -> str:
        """`values.yaml: global.extraEnv.X (line 12)`: what an operator needs to find it."""
        full = (*self.prefix, *path)
        line = self.lines.get(full)
        return f"{self.file}: {'.'.join(full)}" + (f" (line {line})" if line else "")

    def line(self, path: Sequence[str]) -> int | None:
        return self.lines.get((*self.prefix, *path))


def check_values_files(paths: Sequence[str]) -> None:
    """InputError when one deployment's values files are too many or too large together (a
    file that cannot be read is left to its loader, which names what is wrong)."""
    if len(paths) > MAX_VALUES_FILES:
        raise InputError(f"values files: {len(paths)} given, at most {MAX_VALUES_FILES} for "
                         "one deployment")
    total = 0
    for path in paths:
        with contextlib.suppress(OSError):
            total += os.stat(path).st_size
    if total > MAX_VALUES_TOTAL_BYTES:
        raise InputError(f"values files: {total // 1024} KiB together, more than "
                         f"{MAX_VALUES_TOTAL_BYTES // (1024 * 1024)} MiB (the most gccheck "
                         "reads for one deployment)")


def load_document(path: str) -> tuple[Mapping[str, Any], dict[Path, int]]:
    """A values file's top-level mapping and the line of every key; InputError otherwise."""
    data, root = load_yaml_document(path, "values file", MAX_VALUES_FILE_BYTES,
                                    MAX_VALUES_FILE_NODES)
    if data is None:
        return {}, {}
    if not isinstance(data, Mapping):
        if isinstance(data, str) and _looks_like_dotenv(path):
            raise InputError(f"values file {path}: looks like a dotenv file (KEY=VALUE lines), "
                             "not Helm values: give it with --env-file")
        raise InputError(f"values file {path}: line 1: expected a mapping of keys, got a "
                         f"{_kind(data)}")
    check_expanded_size(data, f"values file {path}")
    return data, line_index(root)


def _looks_like_dotenv(path: str) -> bool:
    from gccheck.sources.dotenv import parse_dotenv

    try:
        return bool(parse_dotenv(read_text(path, "values file", MAX_VALUES_FILE_BYTES), path))
    except InputError:
        return False


def check_expanded_size(data: Any, what: str, limit: int = MAX_VALUES) -> int:
    """How many values `data` holds with every YAML alias expanded; InputError beyond `limit`
    or _MAX_DEPTH. Each shared (aliased) node is sized once, so a bomb is measured, not
    expanded."""
    sizes: dict[int, int] = {}

    def size(node: Any, depth: int) -> int:
        if not isinstance(node, dict | list):
            return 1
        known = sizes.get(id(node))
        if known is not None:
            return known
        if depth > _MAX_DEPTH:
            raise InputError(f"{what}: nested too deeply (or a recursive alias)")
        total = 1
        for child in node.values() if isinstance(node, dict) else node:
            total += size(child, depth + 1)
            if total > limit:
                raise InputError(f"{what}: more than {limit} values once its YAML aliases are "
                                 "expanded (an alias bomb?)")
        sizes[id(node)] = total
        return total

    return size(data, 0)


def _kind(value: Any) -> str:
    return "list" if isinstance(value, list) else type(value).__name__


def line_index(root: yaml.Node | None) -> dict[Path, int]:
    """Line numbers of keys (and list items) by path, from the parsed file's node tree."""
    lines: dict[Path, int] = {}
    _index(root, (), lines, 0, set())
    return lines


def _index(node: yaml.Node | None, path: Path, lines: dict[Path, int], depth: int,
           seen: set[int]) -> None:
    # An alias is the node it names, again: index it once, at its anchor.
    if node is None or depth > _MAX_DEPTH or id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                here = (*path, str(key.value))
                lines.setdefault(here, key.start_mark.line + 1)
                _index(value, here, lines, depth + 1, seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            here = (*path, str(i))
            lines.setdefault(here, item.start_mark.line + 1)
            _index(item, here, lines, depth + 1, seen)


@dataclass
class _Trace:
    """Which layer set a path: a trie over the merged values, so that replacing or removing a
    subtree forgets its traces in one step (a flat dict of paths made merging quadratic)."""

    doc: ValuesDoc | None = None
    children: dict[str, _Trace] = field(default_factory=dict)


@dataclass
class MergedValues:
    """Values merged like Helm merges `-f` files: maps deep-merge, later files win, lists and
    scalars are replaced, and a null removes the key (as it removes a chart default)."""

    data: dict[str, Any] = field(default_factory=dict)
    # The layer that last set a path; a path with no layer belongs to its nearest parent's.
    _trace: _Trace = field(default_factory=_Trace, repr=False)
    # Paths a null removed and no later file set again: Helm then drops the chart's default
    # too, which a chart default the model knows (global.size, bucketRegion) must respect.
    _removed: set[tuple[str, ...]] = field(default_factory=set, repr=False)

    def add(self, doc: ValuesDoc) -> None:
        try:
            self._merge(self.data, doc.data, doc, self._trace, 0, ())
        except RecursionError:
            raise InputError(f"values file {doc.file}: nested too deeply") from None

    def _merge(self, dst: dict[str, Any], src: Mapping[str, Any], doc: ValuesDoc, trace: _Trace,
               depth: int, at: tuple[str, ...]) -> None:
        if depth > _MAX_DEPTH:
            raise InputError(f"values file {doc.file}: nested too deeply (or a recursive alias)")
        for key, value in src.items():
            name = str(key)
            if value is None:
                dst.pop(name, None)
                trace.children.pop(name, None)
                if depth < 8:  # only shallow chart defaults are modelled; keeps the set small
                    self._removed.add((*at, name))
                continue
            self._removed.discard((*at, name))
            if isinstance(value, Mapping):
                # A new map is merged into an empty one, so that its nulls remove chart defaults
                # here too (Helm coalesces every -f file with the chart's values).
                if not isinstance(dst.get(name), dict):
                    dst[name] = {}
                    trace.children[name] = _Trace(doc)
                child = trace.children.setdefault(name, _Trace())
                self._merge(dst[name], value, doc, child, depth + 1, (*at, name))
                continue
            dst[name] = _plain(value, doc, depth + 1)
            trace.children[name] = _Trace(doc)

    def removed(self, path: Sequence[str]) -> bool:
        """Whether a null removed `path` (and so the chart's default for it)."""
        return tuple(path) in self._removed

    def doc_for(self, path: Sequence[str]) -> ValuesDoc | None:
        """The layer the value at `path` came from."""
        trace: _Trace | None = self._trace
        found: ValuesDoc | None = None
        for key in path:
            trace = trace.children.get(key) if trace is not None else None
            if trace is None:
                break
            found = trace.doc or found
        return found

    def get(self, path: Sequence[str]) -> Any:
        node: Any = self.data
        for key in path:
            if not isinstance(node, Mapping):
                return None
            node = node.get(key)
        return node


def _plain(value: Any, doc: ValuesDoc, depth: int) -> Any:
    """A deep copy with string keys (YAML allows `1:` or `true:` as keys; Helm sees strings)."""
    if depth > _MAX_DEPTH:
        raise InputError(f"values file {doc.file}: nested too deeply (or a recursive alias)")
    if isinstance(value, Mapping):
        return {str(k): _plain(v, doc, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, doc, depth + 1) for v in value]
    return copy.copy(value)


def yaml_snippet(path: Sequence[str], leaf: str) -> str:
    """`global:\\n  extraEnv:\\n    {name}: "{value}"` for path (global, extraEnv)."""
    lines = [f"{'  ' * depth}{key}:" for depth, key in enumerate(path)]
    indent = "  " * len(path)
    lines += [indent + part for part in leaf.split("\n")]
    return "\n".join(lines)


MAP_LEAF = '{name}: "{value}"'
LIST_LEAF = '- name: {name}\n  value: "{value}"'
