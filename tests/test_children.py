"""gccheck.children: what the SIGINT handler does to the child processes gccheck started."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gccheck import children

# A child that ignores SIGTERM, as a server busy shutting down may: only SIGKILL ends it.
STUBBORN = ("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "print('ready', flush=True); time.sleep(60)")


def _start(code: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    return proc


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs Linux /proc")
def test_a_child_that_ignores_sigterm_is_killed_after_the_grace() -> None:
    proc = _start(STUBBORN)
    children.started(proc)
    try:
        children.stop_all(grace=0.3)
        # stop_all reaped it: no process, not even a zombie, is left under its pid.
        assert not Path(f"/proc/{proc.pid}").exists()
    finally:
        children.stopped(proc)
        proc.kill()


def test_a_reaped_child_is_never_signalled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Once reaped, its pid may belong to another process: stop_all leaves it alone."""
    proc = _start("import time; print('ready', flush=True); time.sleep(60)")
    children.started(proc)
    proc.terminate()
    proc.wait(timeout=10)
    sent: list[tuple[int, int]] = []
    monkeypatch.setattr(children.os, "kill", lambda pid, signum: sent.append((pid, signum)))
    try:
        children.stop_all(grace=0.3)
    finally:
        children.stopped(proc)
    assert sent == []
    assert proc not in children._running
