"""Busy processes on every CPU, for the tests whose promise is "also under load"."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

# Spins until killed, or for at most 120 s should the test process die without cleaning up.
_SPIN = "import time\nend = time.monotonic() + 120\nwhile time.monotonic() < end: pass\n"


@contextmanager
def busy_cpus(extra: int = 1) -> Iterator[int]:
    """Run one spinning process per CPU (plus `extra`) for the duration of the block."""
    count = (os.cpu_count() or 1) + extra
    procs = [subprocess.Popen([sys.executable, "-c", _SPIN]) for _ in range(count)]
    try:
        yield count
    finally:
        for proc in procs:
            proc.kill()
        for proc in procs:
            proc.wait()
