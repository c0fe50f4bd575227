"""Child processes gccheck started (the demo's Azurite): stopped on interrupt too.

cli's SIGINT handler ends gccheck with os._exit, which runs no `finally` and no ExitStack
callback; without this registry `kill -INT` on gccheck during `gccheck demo` would leave
Azurite running (a terminal's Ctrl-C reaches the whole process group, `kill` only gccheck).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from typing import Any

# Processes started and not yet stopped; a plain set: the handler only reads it.
_running: set[subprocess.Popen[Any]] = set()

# How long an interrupt waits for children to end on SIGTERM before it sends SIGKILL.
GRACE = 2.0


def started(proc: subprocess.Popen[Any]) -> None:
    """Record a child process that must not outlive gccheck."""
    _running.add(proc)


def stopped(proc: subprocess.Popen[Any]) -> None:
    """Forget a child process once it has been stopped and reaped."""
    _running.discard(proc)


def _ended(pid: int) -> bool:
    """Reap `pid` if it has ended; True when it is gone (or not ours to wait for)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # reaped already
        return True
    return done == pid


def _signal_all(pids: list[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signum)


def stop_all(grace: float = GRACE) -> None:
    """SIGTERM every recorded child still running, SIGKILL what is left after `grace` seconds.

    Called from the SIGINT handler, so it takes no lock (Popen.terminate and wait may lock,
    and the interrupted main thread may hold that lock): plain os.kill and os.waitpid on the
    pids, bounded in time. A Popen whose returncode is set was reaped; its pid may be reused.
    """
    pids = [proc.pid for proc in list(_running) if proc.returncode is None]
    _signal_all(pids, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while pids and time.monotonic() < deadline:
        pids = [pid for pid in pids if not _ended(pid)]
        if pids:
            time.sleep(0.02)
    _signal_all(pids, signal.SIGKILL)
    deadline = time.monotonic() + 1.0
    while pids and time.monotonic() < deadline:  # reap, so that no zombie is left either
        pids = [pid for pid in pids if not _ended(pid)]
        if pids:
            time.sleep(0.02)
