"""An installed, non-editable copy of gccheck finds its own matrix.yaml and catalog."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from support.constants import REPO


def test_wheel_ships_matrix_and_works_from_site_packages(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path / "dist"), str(REPO)], check=True, timeout=300)
    wheel = next((tmp_path / "dist").glob("gccheck-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "gccheck/matrix.yaml" in names and "gccheck/catalog.yaml" in names
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read("gccheck/matrix.yaml") == (REPO / "matrix.yaml").read_bytes()
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                    str(site), str(wheel)], check=True, timeout=300)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "NO_COLOR": "1"}
    probe = subprocess.run(
        [sys.executable, "-c", "import gccheck, gccheck.matrix as m; "
         "print(gccheck.__file__); print(m.default_matrix_path())"],
        capture_output=True, text=True, env=env, cwd=elsewhere, check=True)
    module_file, matrix_path = probe.stdout.split()
    assert module_file.startswith(str(site)) and matrix_path.startswith(str(site))
    run = subprocess.run([sys.executable, "-m", "gccheck", "matrix", "--format", "json"],
                         capture_output=True, text=True, env=env, cwd=elsewhere)
    assert run.returncode == 0 and "customer-managed-cloud" in run.stdout
    explain = subprocess.run([sys.executable, "-m", "gccheck", "explain", "gc-env-var"],
                             capture_output=True, text=True, env=env, cwd=elsewhere)
    assert explain.returncode == 0 and "extraEnv" in explain.stdout
