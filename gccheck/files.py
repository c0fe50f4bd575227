"""Reading user-supplied files: size-bounded, UTF-8, YAML loaded safely, errors on one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from gccheck.errors import InputError
from gccheck.neutral import neutralise

# Configuration files are small; anything bigger is a mistake (or an attack).
MAX_FILE_BYTES = 4 * 1024 * 1024

# libyaml's safe loader when PyYAML has it: the same documents, several times faster.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _size(count: int) -> str:
    if count >= 1024 * 1024 and count % (1024 * 1024) == 0:
        return f"{count // (1024 * 1024)} MiB"
    return f"{count // 1024} KiB"


def read_bytes(path: str | Path, what: str, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The file's bytes (at most `max_bytes`), or an InputError naming the file (shown
    neutralised) and what is wrong with it."""
    p = Path(path)
    shown = neutralise(str(p), 200)
    try:
        if p.is_dir():
            raise InputError(f"{what} {shown}: is a directory, expected a file")
        with p.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError(f"{what} {shown}: no such file") from None
    except PermissionError:
        raise InputError(f"{what} {shown}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{what} {shown}: cannot read ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise InputError(f"{what} {shown}: larger than {_size(max_bytes)} (the most gccheck "
                         f"reads as a {what})")
    return data


def read_text(path: str | Path, what: str, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The file's text, or an InputError naming the file and what is wrong with it."""
    data = read_bytes(path, what, max_bytes)
    shown = neutralise(str(path), 200)
    if b"\x00" in data:
        raise InputError(f"{what} {shown}: binary file (contains NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"{what} {shown}: line {line}: not valid UTF-8") from None


def _where(text: str, mark: yaml.Mark | None) -> str:
    """`line N: `, 1-based and within the file: libyaml puts the end of the stream on the line
    after the last one (`line 2` for a one-line file), so that is named as the end of file."""
    if mark is None:
        return ""
    lines = max(1, len(text.splitlines()))
    if mark.index >= len(text.rstrip()) or mark.line >= lines:
        return f"line {min(mark.line + 1, lines)} (end of file): "
    return f"line {mark.line + 1}: "


_NODE_EVENTS = (yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent,
                yaml.AliasEvent)


def _count_nodes(text: str, limit: int, where: str) -> None:
    # libyaml's events cost about a tenth of building nodes (each scalar's tag is resolved in
    # Python): counting them first stops a dense file before it costs seconds.
    loader = _LOADER(text)
    try:
        count = 0
        while loader.check_event():
            if isinstance(loader.get_event(), _NODE_EVENTS):  # type: ignore[no-untyped-call]
                count += 1
                if count > limit:
                    raise InputError(f"{where}: more than {limit:,} YAML values (the most "
                                     "gccheck reads in one file)")
    finally:
        loader.dispose()


def parse_yaml(text: str, where: str,
               max_nodes: int | None = None) -> tuple[Any, yaml.Node | None]:
    """The document in `text` and its node tree (for line numbers), from one parse; errors are
    InputErrors that start with `where` and name the line. `max_nodes` bounds the work."""
    loader = _LOADER(text)
    try:
        if max_nodes is not None:
            _count_nodes(text, max_nodes, where)
        node = loader.get_single_node()
        return (loader.construct_document(node) if node is not None else None), node
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise InputError(f"{where}: {_where(text, mark)}not valid YAML ({problem})") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{where}: not valid YAML ({exc})") from None
    except RecursionError:
        raise InputError(f"{where}: nested too deeply") from None
    finally:
        loader.dispose()


def load_yaml_document(path: str | Path, what: str, max_bytes: int = MAX_FILE_BYTES,
                       max_nodes: int | None = None) -> tuple[Any, yaml.Node | None]:
    """A YAML file's document and node tree, parsed once with the safe loader."""
    return parse_yaml(read_text(path, what, max_bytes), f"{what} {path}", max_nodes)


def load_yaml(path: str | Path, what: str, max_bytes: int = MAX_FILE_BYTES) -> Any:
    """Parse a YAML file with the safe loader; errors name the file and line."""
    return load_yaml_document(path, what, max_bytes)[0]
