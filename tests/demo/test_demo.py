"""`gccheck demo` on an 80-column terminal: every line fits, and the closing tally adds up."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.run import clean_env, missing_tool, run_on_a_tty

SGR = re.compile(r"\x1b\[[0-9;]*m")


def test_the_demo_fits_an_80_column_terminal(tmp_path: Path) -> None:
    code, out, err = run_on_a_tty("demo", stream="stdout", env=clean_env({"COLUMNS": "80"}),
                                  cwd=tmp_path)
    assert code == 0, err
    lines = SGR.sub("", out).replace("\r\n", "\n").splitlines()
    assert [line for line in lines if len(line) > 80] == []
    assert sum("-> exit code" in line for line in lines) >= 5
    assert (tmp_path / "gccheck-demo-report.html").exists()
    # The closing audit's counts partition the deployments it checked.
    said = " ".join(err.split())
    found = re.search(r"(\d+) deployments: (\d+) ready, (?:(\d+) ready with advisories, )?"
                      r"(\d+) not ready, (\d+) unverified", said)
    assert found, err
    total, *parts = (int(n or 0) for n in found.groups())
    assert sum(parts) == total


def _children_of(pid: int) -> list[int]:
    """The live processes whose parent is `pid` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid ...: comm may hold spaces, so split after its ')'.
            state, ppid = stat.rsplit(")", 1)[1].split()[:2]
            if int(ppid) == pid and state != "Z":
                found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


# The demo's Azure part in a process that handles SIGINT as gccheck does: the real demo runs
# on to its end (and its own clean-up) before a test could time a signal between two cases.
_AZURE_PART = """
import sys, time
from contextlib import ExitStack
from gccheck import cli
from gccheck.demo import azure

cli._catch_interrupts()
stack = ExitStack()
azure.start(stack)
print("started", flush=True)
time.sleep(120)
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_sigint_to_gccheck_alone_stops_the_demos_azurite(tmp_path: Path) -> None:
    """`kill -INT <gccheck>` reaches gccheck only, not its process group: exit 130, and the
    Azurite it started is gone too (the interrupt's os._exit skips the demo's ExitStack)."""
    from gccheck.demo.azure import find_azurite

    if find_azurite() is None or shutil.which("node") is None:
        missing_tool("Azurite or Node.js is not installed")
    proc = subprocess.Popen([sys.executable, "-c", _AZURE_PART], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=clean_env(), cwd=tmp_path,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    azurite: list[int] = []
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"started\n", proc.communicate(timeout=30)[1]
        azurite = _children_of(proc.pid)
        assert azurite, "the demo's Azure part started no child process"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
        assert err.decode().strip().splitlines()[-1] == "gccheck: interrupted"
        deadline = time.monotonic() + 5
        while any(map(_running, azurite)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(map(_running, azurite)), "Azurite outlived an interrupted gccheck"
    finally:
        proc.kill()
        proc.wait()
        for pid in azurite:
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
