"""Reading user-supplied files: size-bounded, UTF-8, YAML loaded safely, errors on one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from gccheck.errors import InputError

# Configuration files are small; anything bigger is a mistake (or an attack).
MAX_FILE_BYTES = 4 * 1024 * 1024


def read_text(path: str | Path, what: str, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The file's text, or an InputError naming the file and what is wrong with it."""
    p = Path(path)
    try:
        if p.is_dir():
            raise InputError(f"{what} {p}: is a directory, expected a file")
        with p.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError(f"{what} {p}: no such file") from None
    except PermissionError:
        raise InputError(f"{what} {p}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{what} {p}: cannot read ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise InputError(f"{what} {p}: larger than {max_bytes // (1024 * 1024)} MiB")
    if b"\x00" in data:
        raise InputError(f"{what} {p}: binary file (contains NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"{what} {p}: line {line}: not valid UTF-8") from None


def load_yaml(path: str | Path, what: str) -> Any:
    """Parse a YAML file with the safe loader; errors name the file and line."""
    text = read_text(path, what)
    try:
        # libyaml's safe loader when PyYAML has it: the same documents, several times faster.
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise InputError(f"{what} {path}: {where}not valid YAML ({problem})") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{what} {path}: not valid YAML ({exc})") from None
    except RecursionError:
        raise InputError(f"{what} {path}: nested too deeply") from None
