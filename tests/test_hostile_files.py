"""The CLI over hostile files: exit code 2, one line on stderr, bounded time and memory."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import clean_env


def binary_junk(path: Path) -> Path:
    path.write_bytes(bytes(range(256)) * 64)
    return path


def deeply_nested(path: Path) -> Path:
    path.write_text("a: " + "[" * 50_000 + "]" * 50_000 + "\n")
    return path


def anchor_bomb(path: Path) -> Path:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        previous = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    path.write_text("\n".join(lines) + "\n")
    return path


def huge(path: Path) -> Path:
    with path.open("wb") as handle:
        chunk = b"# padding padding padding padding padding padding padding padding\n" * 16384
        while handle.tell() < 50 * 1024 * 1024:
            handle.write(chunk)
    return path


def invalid_utf8(path: Path) -> Path:
    path.write_bytes(b"GORILLA_ARTIFACT_GC_ENABLED=true\nversion: \xff\xfe\xfa\n")
    return path


def directory(path: Path) -> Path:
    path.mkdir()
    return path


HOSTILE: dict[str, Callable[[Path], Path]] = {
    "binary": binary_junk, "nested": deeply_nested, "anchors": anchor_bomb, "50MB": huge,
    "utf8": invalid_utf8, "directory": directory,
}
# A valid values file, for the case where the hostile one is merged after it (-f a -f b).
_GOOD_VALUES = str(Path(__file__).resolve().parent / "fixtures" / "values" / "operator-aws.yaml")


def _fleet_naming(path: str, key: str) -> str:
    """A valid fleet file whose one deployment names the hostile file as its `key`."""
    entry = {"name": "hostile", "hosting": "on-prem", key: path}
    if key == "kubeconfig":
        entry["workload"] = "wandb/deployment/wandb-app"
    fleet = Path(path).parent / f"fleet-{key}.yaml"
    fleet.write_text(json.dumps({"deployments": [entry]}))
    return str(fleet)


# Every option that reads a file; later sources add theirs here.
FILE_OPTIONS: dict[str, Callable[[str], list[str]]] = {
    "env-file": lambda p: ["check", "--hosting", "on-prem", "--env-file", p],
    "matrix": lambda p: ["check", "--hosting", "on-prem", "--matrix", p],
    "matrix-cmd": lambda p: ["matrix", "--matrix", p],
    "values": lambda p: ["check", "--hosting", "on-prem", "--values", p],
    "values-second": lambda p: ["check", "--hosting", "on-prem", "--values", _GOOD_VALUES,
                                "--values", p],
    "audit": lambda p: ["audit", p],
    "audit-values": lambda p: ["audit", _fleet_naming(p, "values")],
    "audit-kubeconfig": lambda p: ["audit", _fleet_naming(p, "kubeconfig")],
    "kubeconfig": lambda p: ["check", "--hosting", "on-prem", "--workload",
                             "wandb/deployment/wandb-app", "--kubeconfig", p, "--timeout", "2"],
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
@pytest.mark.parametrize("option", sorted(FILE_OPTIONS))
def test_hostile_file(tmp_path: Path, option: str, kind: str) -> None:
    path = HOSTILE[kind](tmp_path / f"hostile-{kind}")
    start = time.monotonic()
    code, out, err, peak_kib = run_measured(FILE_OPTIONS[option](str(path)))
    elapsed = time.monotonic() - start
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and err.startswith("gccheck: error:"), err
    assert "Traceback" not in err
    assert elapsed < 20
    assert peak_kib < 300 * 1024


# A fresh wrapper process has one child, so RUSAGE_CHILDREN is exactly gccheck's peak memory.
_WRAPPER = """
import json, resource, subprocess, sys
proc = subprocess.run([sys.executable, "-m", "gccheck", *sys.argv[1:]], capture_output=True,
                      text=True, timeout=60)
print(json.dumps([proc.returncode, proc.stdout, proc.stderr,
                  resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))
"""


def run_measured(args: list[str]) -> tuple[int, str, str, int]:
    wrapper = subprocess.run([sys.executable, "-c", _WRAPPER, *args], capture_output=True,
                             text=True, env=clean_env(), timeout=90, check=True)
    code, out, err, peak = json.loads(wrapper.stdout)
    return code, out, err, peak
