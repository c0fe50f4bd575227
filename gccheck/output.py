"""Writing what gccheck produces: redacted, to stdout or atomically to a file."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

from gccheck.errors import InputError
from gccheck.masking import Redactor


def _mode_for(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_atomic(path: str | Path, text: str) -> None:
    """Write via a temporary file in the same folder and rename: readers never see half."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise InputError(f"--output {target}: cannot write ({exc.strerror or exc})") from None
    try:
        # mkstemp makes the file 0600; give it the mode a plain open() would have (or the
        # replaced file's), so that e.g. node_exporter can read a .prom file.
        os.chmod(tmp, _mode_for(target))
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise InputError(f"--output {target}: cannot write ({exc.strerror or exc})") from None
        raise


def emit(text: str, redactor: Redactor, output: str | None = None) -> None:
    """The report goes to stdout or --output, always through the redactor."""
    safe = redactor.redact(text)
    if output and output != "-":
        write_atomic(output, safe)
    else:
        sys.stdout.write(safe)
        sys.stdout.flush()


def use_color(output: str | None) -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set (no-color.org)."""
    if output and output != "-":
        return False
    if "NO_COLOR" in os.environ and os.environ["NO_COLOR"] != "":
        return False
    return sys.stdout.isatty()
