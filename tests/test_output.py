"""--output never replaces what is not a regular file (issue 15 item 3), and no name that is not
valid UTF-8 can crash the writing of a report (issue 15 item 10).

We run as root, where a rename over a device node succeeds: the device tests use nodes made
with mknod in tmp_path (the real /dev/null is only checked once the rest holds).
"""

from __future__ import annotations

import os
import re
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from support.run import clean_env, run_gccheck

from gccheck.output import printable


def _env_file(tmp_path: Path, name: str = "wandb.env") -> Path:
    path = tmp_path / name
    path.write_text("GORILLA_ARTIFACT_GC_ENABLED=true\n")
    return path


def _check(gccheck_inproc: Any, tmp_path: Path, out: Path | str) -> Any:
    # No bucket: gc-env-var passes, the bucket items are unknown (exit 3), nothing is sent.
    return gccheck_inproc("check", "--hosting", "on-prem", "--env-file",
                          str(_env_file(tmp_path)), "--output", str(out))


def _device(tmp_path: Path, name: str, minor: int) -> Path:
    path = tmp_path / name
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, minor))
    except (PermissionError, AttributeError) as exc:
        pytest.skip(f"cannot make a device node here ({exc})")
    return path


def _left(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in tmp_path.iterdir())


def test_a_character_device_is_written_into_not_replaced(tmp_path: Path,
                                                         gccheck_inproc: Any) -> None:
    null = _device(tmp_path, "null", 3)
    run = _check(gccheck_inproc, tmp_path, null)
    assert run.code == 3, run.err
    assert stat.S_ISCHR(os.lstat(null).st_mode)
    assert os.major(os.lstat(null).st_rdev) == 1 and os.minor(os.lstat(null).st_rdev) == 3
    assert _left(tmp_path) == ["null", "wandb.env"]  # no temporary file either


def test_a_full_device_is_one_line_and_exit_2(tmp_path: Path, gccheck_inproc: Any) -> None:
    full = _device(tmp_path, "full", 7)
    run = _check(gccheck_inproc, tmp_path, full)
    assert run.code == 2
    assert run.err.count("\n") == 1 and "No space left on device" in run.err
    assert run.err.startswith(f"gccheck: error: --output {full}: cannot write")
    assert stat.S_ISCHR(os.lstat(full).st_mode)
    assert _left(tmp_path) == ["full", "wandb.env"]


def test_the_real_dev_null_stays_a_device(tmp_path: Path, gccheck_inproc: Any) -> None:
    run = _check(gccheck_inproc, tmp_path, "/dev/null")
    assert run.code == 3, run.err
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)


def test_a_fifo_is_written_into(tmp_path: Path, gccheck_inproc: Any) -> None:
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    received: list[str] = []

    def read() -> None:
        with open(fifo, encoding="utf-8") as handle:
            received.append(handle.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    run = _check(gccheck_inproc, tmp_path, fifo)
    reader.join(timeout=10)
    assert run.code == 3, run.err
    assert received and "gc-env-var" in received[0]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert _left(tmp_path) == ["report.fifo", "wandb.env"]


def test_a_symlink_is_kept_and_its_file_written(tmp_path: Path, gccheck_inproc: Any) -> None:
    real = tmp_path / "real.txt"
    real.write_text("the previous report, longer than the new one " * 100)
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    run = _check(gccheck_inproc, tmp_path, link)
    assert run.code == 3, run.err
    assert link.is_symlink() and os.readlink(link) == str(real)
    text = real.read_text()
    assert "gc-env-var" in text and "the previous report" not in text
    assert _left(tmp_path) == ["link.txt", "real.txt", "wandb.env"]


def test_a_symlink_to_a_device_is_kept(tmp_path: Path, gccheck_inproc: Any) -> None:
    link = tmp_path / "out"
    link.symlink_to(_device(tmp_path, "null", 3))
    run = _check(gccheck_inproc, tmp_path, link)
    assert run.code == 3, run.err
    assert link.is_symlink() and stat.S_ISCHR(os.lstat(tmp_path / "null").st_mode)


def test_a_symlink_to_our_own_stdout_is_kept(tmp_path: Path) -> None:
    """-o a link to /proc/self/fd/1: the report reaches the process's stdout, the link stays."""
    link = tmp_path / "stdout"
    link.symlink_to("/proc/self/fd/1")
    env_file = _env_file(tmp_path)
    run = run_gccheck("check", "--hosting", "on-prem", "--env-file", str(env_file),
                      "--output", str(link))
    assert run.code == 3, run.err
    assert "gc-env-var" in run.out
    assert link.is_symlink() and os.readlink(link) == "/proc/self/fd/1"


@pytest.mark.parametrize("kind", ["directory", "dangling symlink", "socket"])
def test_what_cannot_take_a_report_is_refused(tmp_path: Path, gccheck_inproc: Any,
                                              kind: str) -> None:
    target = tmp_path / "out"
    holder: list[socket.socket] = []
    if kind == "directory":
        target.mkdir()
    elif kind == "dangling symlink":
        target.symlink_to(tmp_path / "nothing")
    else:
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(target))
        holder.append(sock)
    before = os.lstat(target)
    try:
        run = _check(gccheck_inproc, tmp_path, target)
    finally:
        for sock in holder:
            sock.close()
    assert run.code == 2
    assert run.err.count("\n") == 1 and run.err.startswith(f"gccheck: error: --output {target}")
    after = os.lstat(target)
    assert stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode)
    assert after.st_ino == before.st_ino
    assert _left(tmp_path) == ["out", "wandb.env"]


# ---- names that are not UTF-8 (issue 15 item 10) -------------------------------------------


def test_printable_escapes_lone_surrogates_only() -> None:
    assert printable("a\udcffb · ✓") == "a\\udcffb · ✓"


def _run_bytes(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    # Bytes out: the report must be valid UTF-8 on its own, not thanks to a lenient decoder.
    return subprocess.run([sys.executable, "-m", "gccheck", *args], capture_output=True,
                          env=env, timeout=60)


def test_an_env_file_path_that_is_not_utf8_with_output(tmp_path: Path) -> None:
    env_file = tmp_path / "wandb\udcff.env"  # the byte 0xff in the file name
    env_file.write_text("GORILLA_ARTIFACTS_GC_BATCH_SIZE=10\n")
    out = tmp_path / "report.txt"
    proc = _run_bytes(["check", "--hosting", "on-prem", "--env-file", str(env_file),
                       "--output", str(out)], clean_env())
    assert proc.returncode == 1, proc.stderr
    assert b"internal error" not in proc.stderr
    text = out.read_bytes().decode("utf-8")
    assert "GORILLA_ARTIFACT_GC_ENABLED is not set" in text
    assert re.search(r"wandb\\(udcff|xff)\.env", text), text


def test_a_variable_name_that_is_not_utf8_with_output(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    term = tmp_path / "termination-log"
    proc = _run_bytes(["check", "--hosting", "on-prem", "--format", "json", "--output",
                       str(out), "--termination-message", str(term)],
                      clean_env({"GORILLA_ARTIFACT_GC_ENABLE\udcff": "true"}))
    assert proc.returncode == 1, proc.stderr
    assert b"internal error" not in proc.stderr
    text = out.read_bytes().decode("utf-8")
    assert "did you mean GORILLA_ARTIFACT_GC_ENABLE" in text
    assert "\\udcff" in text or "\\xff" in text
    term.read_bytes().decode("utf-8")
