"""Shared by the benchmarks: start local servers, time commands, print tables. Stdlib only."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
PYTHON = sys.executable


def bench_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A clean environment: no cloud settings of the caller's, no colour.

    PYTHONDONTWRITEBYTECODE is dropped: an installed gccheck has its .pyc files (pip compiles
    them), and a run that compiles every module each time would measure the compiler.
    """
    keep = {k: v for k, v in os.environ.items()
            if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV")}
    keep.update({"AWS_EC2_METADATA_DISABLED": "true", "NO_COLOR": "1",
                 "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
                 "PYTHONPATH": str(REPO)})
    keep.update(extra or {})
    return keep


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds
    cpu: float  # user + system seconds of the child
    peak_rss_mb: float  # the child's own peak resident memory
    code: int
    out: str


def run(argv: Sequence[str], env: Mapping[str, str], timeout: float = 900,
        ok: Sequence[int] = (0, 1, 3)) -> Sample:
    """Run a command once: wall time, CPU time and peak RSS of that child alone (wait4)."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        proc = subprocess.Popen(list(argv), stdout=out, stderr=subprocess.DEVNULL,
                                env=dict(env), cwd=REPO)
        killer = threading.Timer(timeout, proc.kill)  # a bounded wait, without polling
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        wall = time.perf_counter() - started
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode()
    if code not in ok:
        raise RuntimeError(f"{' '.join(argv)} exited {code}")
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, code, text)


def repeat(argv: Sequence[str], env: Mapping[str, str], runs: int, warmup: int = 1,
           ok: Sequence[int] = (0, 1, 3)) -> list[Sample]:
    """`warmup` runs thrown away (they write .pyc files, fill caches), then `runs` kept."""
    for _ in range(warmup):
        run(argv, env, ok=ok)
    return [run(argv, env, ok=ok) for _ in range(runs)]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


@contextmanager
def server(*args: str) -> Iterator[int]:
    """Start `bench/servers.py ARGS` and yield its port; stopped (by pid) afterwards."""
    proc = subprocess.Popen([PYTHON, str(BENCH / "servers.py"), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=bench_env())
    assert proc.stdout is not None
    try:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"bench server {args} did not start")
        yield int(json.loads(line)["port"])
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(out)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (f"{cpu}, {os.cpu_count()} CPUs{mem}; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"
