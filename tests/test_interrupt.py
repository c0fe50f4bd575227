"""Ctrl-C during an audit: stops promptly with exit code 130, no traceback, no half-written
--output file."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import clean_env


def test_ctrl_c_during_an_audit(tmp_path: Path, silent_server: tuple[str, int]) -> None:
    host, port = silent_server
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(json.dumps({
        "defaults": {"hosting": "on-prem", "env": {"GORILLA_ARTIFACT_GC_ENABLED": "true"}},
        "deployments": [{"name": f"d{i}", "bucket": f"s3://AK:SK@{host}:{port}/bucket{i}"}
                        for i in range(20)]}))
    out = tmp_path / "report.html"
    proc = subprocess.Popen([sys.executable, "-m", "gccheck", "audit", str(fleet), "--format",
                             "html", "--output", str(out), "--timeout", "30"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=clean_env())
    time.sleep(2.5)  # well into the probes: every request hangs on the silent server
    assert proc.poll() is None
    start = time.monotonic()
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=15)
    elapsed = time.monotonic() - start
    assert proc.returncode == 130, (stdout, stderr)
    assert "Traceback" not in stderr and "interrupted" in stderr
    assert elapsed < 3
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [fleet]  # no temporary file left behind either
