"""Writing what gccheck produces: redacted, to stdout or to a file.

A regular file (or a new one) is replaced atomically: readers never see half a report. Any
other kind of path is written in place or refused, never replaced: run as root, a rename over
`/dev/null` would turn the device into a regular file.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import sys
import tempfile
import threading
from pathlib import Path

from gccheck.errors import InputError
from gccheck.masking import Redactor

# Temporary files being written right now: an interrupt (cli's SIGINT handler) removes them
# before it exits, so Ctrl-C leaves no `.report.html.XXXX.tmp` behind.
_partial: set[str] = set()


def remove_partial() -> None:
    """Delete every temporary report file still being written (called on interrupt)."""
    for tmp in list(_partial):
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def printable(text: str) -> str:
    """`text` with lone surrogates (undecodable bytes of a file or variable name, read with
    surrogateescape) shown escaped as `\\udcff`, the form neutral.neutralise gives them:
    UTF-8 cannot encode them, and writing them raw would fail."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _mode_for(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _cannot_write(target: Path, exc: OSError | str) -> InputError:
    why = exc if isinstance(exc, str) else (exc.strerror or str(exc))
    return InputError(f"--output {printable(str(target))}: cannot write ({why})")


def _temporary(target: Path, folder: Path) -> tuple[int, str]:
    """mkstemp, with the name recorded before an interrupt can come between the two."""
    # Signal handlers run on the main thread only; Windows has no signal masks.
    main = (threading.current_thread() is threading.main_thread()
            and hasattr(signal, "pthread_sigmask"))
    if main:
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
        _partial.add(tmp)
    finally:
        if main:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    return fd, tmp


def write_atomic(path: str | Path, text: str) -> None:
    """Write via a temporary file in the same folder and rename: readers never see half."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = _temporary(target, folder)
    except OSError as exc:
        raise _cannot_write(target, exc) from None
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
            raise _cannot_write(target, exc) from None
        raise
    finally:
        _partial.discard(tmp)


def _write_in_place(target: Path, text: str, *, truncate: bool) -> None:
    """Open and write without creating or replacing anything: a device, a FIFO, or the
    file a symlink names (the link itself stays)."""
    try:
        # No O_CREAT: the path exists; O_NOCTTY: a terminal given as -o must not become ours.
        flags = os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | (os.O_TRUNC if truncate else 0)
        fd = os.open(target, flags)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise _cannot_write(target, exc) from None


def write_report(path: str | Path, text: str) -> None:
    """Write `text` to `path` without ever replacing something that is not a regular file.

    Nothing there, or a regular file: atomic replace. A character device (/dev/null, a
    terminal), a FIFO, or a symlink to an existing file, device or FIFO (/proc/self/fd/1, a
    process substitution's /dev/fd/63): written in place, the link kept. Anything else (a
    directory, a socket, a block device, a symlink to nothing): refused.
    """
    target = Path(path)
    try:
        link = os.lstat(target)
    except FileNotFoundError:
        write_atomic(target, text)
        return
    except OSError as exc:
        raise _cannot_write(target, exc) from None
    if stat.S_ISREG(link.st_mode):
        write_atomic(target, text)
        return
    symlink = stat.S_ISLNK(link.st_mode)
    try:
        mode = os.stat(target).st_mode  # what a symlink points at
    except OSError as exc:
        raise _cannot_write(target, "a symlink to nothing" if symlink else exc) from None
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode) or (symlink and stat.S_ISREG(mode)):
        _write_in_place(target, text, truncate=stat.S_ISREG(mode))
    elif stat.S_ISDIR(mode):
        raise _cannot_write(target, "it is a directory")
    else:
        raise _cannot_write(target, "not a regular file, character device or FIFO")


def emit(text: str, redactor: Redactor, output: str | None = None) -> None:
    """The report goes to stdout or --output, always through the redactor."""
    safe = printable(redactor.redact(text))
    if output and output != "-":
        write_report(output, safe)
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
