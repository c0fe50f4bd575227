"""Python warnings (an SDK's, quoting a server's answer) are masked and neutralised like
every other line gccheck prints (issue 15 item 11)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator

import pytest
from support.faults import scripted_server
from support.run import clean_env, run_gccheck

from gccheck.debuglog import route_warnings
from gccheck.masking import Redactor

SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYzEXAMPLEKEY"
# What a hostile server puts in a lifecycle rule's action type: a terminal title change, a
# screen clear, a NUL, and the deployment's secret key echoed back.
HOSTILE = f"\x1b]0;owned\x07\x1b[2J\x00{SECRET}"


def _hostile_bucket(method: str, path: str, headers: dict[str, str]
                    ) -> tuple[int, dict[str, str], bytes]:
    """A GCS bucket whose lifecycle rule has a hostile action type."""
    if method != "GET":
        return 501, {}, b""
    body = json.dumps({
        "kind": "storage#bucket", "name": "wandb-hostile", "versioning": {"enabled": True},
        "lifecycle": {"rule": [{"action": {"type": HOSTILE}, "condition": {"age": 1}}]},
    }).encode()
    return 200, {"Content-Type": "application/json"}, body


@pytest.fixture
def hostile_gcs() -> Iterator[str]:
    with scripted_server(_hostile_bucket) as server:
        yield server.url


def _clean(stderr: str) -> None:
    assert SECRET not in stderr and SECRET[:12] not in stderr
    assert "\x1b" not in stderr and "\x07" not in stderr and "\x00" not in stderr


def test_a_hostile_lifecycle_rule_reaches_no_output_raw(hostile_gcs: str) -> None:
    """google-cloud-storage warned with the rule's text (UserWarning: Unknown lifecycle rule
    type ...) on stderr; the probe now reads rules itself, and neither stream shows it raw."""
    run = run_gccheck("check", "--hosting", "on-prem", "--bucket", "gs://wandb-hostile",
                      env={"STORAGE_EMULATOR_HOST": hostile_gcs,
                           "GORILLA_ARTIFACT_GC_ENABLED": "true",
                           "AWS_SECRET_ACCESS_KEY": SECRET})
    assert "gc-env-var" in run.out and run.code == 0, (run.out, run.err)
    _clean(run.err)
    _clean(run.out)


# A real `gccheck check` whose judging warns, as an SDK would, with a server's text.
_WARNING_RUN = f"""
import sys, warnings
import gccheck.rules
real = gccheck.rules.evaluate
def warning_evaluate(ctx):
    warnings.warn("server said " + {HOSTILE!r}, UserWarning, stacklevel=1)
    return real(ctx)
gccheck.rules.evaluate = warning_evaluate
import gccheck.engine.evaluate
gccheck.engine.evaluate.evaluate = warning_evaluate
from gccheck.cli import main
sys.argv = ["gccheck", "check", "--hosting", "shared-cloud"]
main()
"""


def test_a_warning_during_a_real_run_is_masked_and_neutralised() -> None:
    run = subprocess.run([sys.executable, "-c", _WARNING_RUN], capture_output=True, text=True,
                         timeout=60, env=clean_env({"AWS_SECRET_ACCESS_KEY": SECRET}))
    assert run.returncode == 0, run.stderr
    warned = [line for line in run.stderr.splitlines() if "server said" in line]
    assert len(warned) == 1, run.stderr
    assert warned[0].startswith("gccheck: warning: UserWarning: server said \\x1b]0;owned")
    _clean(run.stderr)


def test_a_warning_from_a_worker_thread_goes_through_the_hook(
        capsys: pytest.CaptureFixture[str]) -> None:
    redactor = Redactor()
    redactor.add(SECRET)
    restore = route_warnings(redactor)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            thread = threading.Thread(target=lambda: warnings.warn(
                f"server said {HOSTILE}\nsecond line", UserWarning, stacklevel=1))
            thread.start()
            thread.join()
            # catch_warnings saved the hook it found (ours) and puts it back on exit.
    finally:
        restore()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gccheck: warning: UserWarning: server said")
    _clean(err)
    assert warnings.showwarning is not None and warnings.showwarning.__module__ == "warnings"
