"""Running the real CLI as a user would: in a subprocess, or with one stream on a terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

from support.constants import REPO


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def missing_tool(reason: str) -> NoReturn:
    """Skip a test whose outside tool (Azurite, Chromium) is absent; fail it under
    GCCHECK_REQUIRE_TOOLS=1, which .ci/run sets after installing them, so that a broken
    install cannot turn CI green by skipping."""
    if os.environ.get("GCCHECK_REQUIRE_TOOLS") == "1":
        pytest.fail(f"{reason} (GCCHECK_REQUIRE_TOOLS=1: it should have been installed)")
    pytest.skip(reason)


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A process environment without the caller's cloud settings, plus `extra`."""
    keep = {k: v for k, v in os.environ.items()
            if k in ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR", "PYTHONPATH",
                     "VIRTUAL_ENV")}
    keep.update({"AWS_EC2_METADATA_DISABLED": "true", "NO_COLOR": "1",
                 "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"})
    keep.update(extra or {})
    return keep


def run_gccheck(*args: str, env: Mapping[str, str] | None = None, cwd: str | Path | None = None,
                timeout: float = 60) -> Run:
    """Run the real CLI in a subprocess, as a user would."""
    proc = subprocess.run([sys.executable, "-m", "gccheck", *args], capture_output=True,
                          text=True, env=clean_env(env), cwd=cwd, timeout=timeout)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def run_on_a_tty(*args: str, stream: str, env: Mapping[str, str] | None = None,
                 cwd: str | Path | None = None) -> tuple[int, str, str]:
    """Run the CLI with `stream` ("stdout" or "stderr") on a pseudo-terminal, the other a
    pipe; returns (exit code, stdout, stderr)."""
    import pty
    import select
    import time

    master, slave = pty.openpty()
    other = subprocess.PIPE
    proc = subprocess.Popen([sys.executable, "-m", "gccheck", *args],
                            stdout=slave if stream == "stdout" else other,
                            stderr=slave if stream == "stderr" else other,
                            env=dict(env) if env is not None else clean_env(),
                            cwd=REPO if cwd is None else cwd)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the other side closed
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    piped = (proc.communicate(timeout=30)[0 if stream == "stderr" else 1] or b"").decode()
    os.close(master)
    on_tty = b"".join(chunks).decode()
    return (proc.returncode, on_tty, piped) if stream == "stdout" else (
        proc.returncode, piped, on_tty)
