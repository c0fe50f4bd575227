"""The CLI over hostile files: exit code 2, one line on stderr, bounded time and memory."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from support.constants import FIXTURES
from support.run import clean_env, run_gccheck


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


def unclosed_quote(path: Path) -> Path:
    # Issue 15: each line rescanned the value from its opening quote (10k lines took 12 s).
    path.write_text('GORILLA_ARTIFACT_GC_ENABLED="true\n' + "SOME_NAME=some value\n" * 30_000)
    return path


def dense_yaml(path: Path) -> Path:
    # 300 KB, 100,000 YAML values: under the byte bound, over the values bound.
    path.write_text("global:\n  extraEnv: {}\nx: [" + "1," * 100_000 + "1]\n")
    return path


HOSTILE: dict[str, Callable[[Path], Path]] = {
    "binary": binary_junk, "nested": deeply_nested, "anchors": anchor_bomb, "50MB": huge,
    "utf8": invalid_utf8, "directory": directory, "unclosed-quote": unclosed_quote,
}
# A valid values file, for the case where the hostile one is merged after it (-f a -f b).
_GOOD_VALUES = str(FIXTURES / "values" / "operator-aws.yaml")


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


def _many_env_values(path: Path, count: int) -> Path:
    path.write_text("global:\n  extraEnv:\n" + "".join(
        f"    SETTING_{i}: \"v{i}\"\n" for i in range(count)))
    return path


def test_large_values_files_merge_in_linear_time(tmp_path: Path) -> None:
    # Issue 15: merging forgot a key's old provenance by scanning every known path, so two
    # 270 KB files took 150 s. 3 x 24,000 values (within the bounds) take about a second now;
    # the generous timeout is what the quadratic merge (minutes) could not meet.
    files = [str(_many_env_values(tmp_path / f"{n}.yaml", 24_000)) for n in "abc"]
    proc = subprocess.run(
        [sys.executable, "-m", "gccheck", "check", "--hosting", "on-prem", "--values",
         files[0], "--values", files[1], "--values", files[2], "--format", "json"],
        capture_output=True, text=True, env=clean_env(), timeout=20)
    assert proc.returncode == 1, proc.stderr  # read whole: GC is off
    assert "GORILLA_ARTIFACT_GC_ENABLED" in proc.stdout


@pytest.mark.parametrize("option, size, bound", [
    ("--env-file", 2 * 1024 * 1024 + 1, "larger than 2 MiB"),
    ("--values", 1024 * 1024 + 1, "larger than 1 MiB"),
])
def test_oversized_settings_files_are_refused_before_parsing(
        tmp_path: Path, option: str, size: int, bound: str) -> None:
    path = tmp_path / "big"
    path.write_text("# " + "x" * (size - 3) + "\n")
    code, out, err, _ = run_measured(["check", "--hosting", "on-prem", option, str(path)])
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and bound in err, err


def test_values_file_with_too_many_values_is_refused(tmp_path: Path) -> None:
    code, out, err, _ = run_measured(["check", "--hosting", "on-prem", "--values",
                                      str(dense_yaml(tmp_path / "dense.yaml"))])
    assert code == 2, (out, err)
    assert "more than 50,000 YAML values" in err and err.count("\n") == 1, err


def test_a_hostile_bucket_url_is_refused_in_linear_time(tmp_path: Path) -> None:
    # Issue 15: masking the URL for the error rescanned the rest of the text from every '://'
    # (20 KB of 'a://' took 30 s). 200 KB now take milliseconds; the timeout is generous.
    env = tmp_path / "wandb.env"
    env.write_text("GORILLA_ARTIFACT_GC_ENABLED=true\nBUCKET=" + "a://" * 50_000 + "\n")
    proc = subprocess.run([sys.executable, "-m", "gccheck", "check", "--hosting", "on-prem",
                           "--env-file", str(env)], capture_output=True, text=True,
                          env=clean_env(), timeout=20)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr


_REDACT_HOSTILE = """
import sys
from gccheck.masking import Redactor
redactor = Redactor(["a-learnt-secret-value"])
for text in ["a://" * 50_000, "secret" * 50_000, "-----BEGIN PRIVATE KEY-----" * 20_000,
             "-----BEGIN" + " PRIVATE" * 50_000, "s3://" + "a." * 50_000 + "://k:a-learnt@h",
             "%2D%2D%2D%2D%2DBEGIN" * 20_000 + "PRIVATE"]:
    redactor.redact(text)
print("done")
"""


def test_the_redactor_is_linear_on_hostile_text() -> None:
    # Every line gccheck writes passes through the redactor; each of these took tens of
    # seconds to minutes (a regex retried from every '://', 'secret' or BEGIN, plain or
    # URL-encoded).
    proc = subprocess.run([sys.executable, "-c", _REDACT_HOSTILE], capture_output=True,
                          text=True, env=clean_env(), timeout=20)
    assert proc.stdout == "done\n", proc.stderr


@pytest.mark.parametrize("option", ["--values", "--chart-values"])
def test_many_values_files_are_bounded_together(tmp_path: Path, option: str) -> None:
    """Each file under its own bound, but 18 of them (7 MB) took 5.6 s and 263 MB: one
    deployment's files are bounded together, before any is parsed."""
    from gccheck.sources.values_files import MAX_VALUES_TOTAL_BYTES

    files = []
    for i in range(3):
        path = tmp_path / f"v{i}.yaml"
        path.write_text("global:\n  extraEnv:\n" + "".join(
            f"    K{i}_{n:07d}: 'x'\n" for n in range(MAX_VALUES_TOTAL_BYTES // 3 // 20 + 50)))
        files += ["--values", str(path)]
    args = ["check", "--hosting", "on-prem", *files]
    if option == "--chart-values":
        args += ["--chart", str(FIXTURES / "charts" / "wandb-trap")]
    run = run_gccheck(*args, timeout=60)
    assert run.code == 2, run.err
    assert "values files:" in run.err and "together, more than 2 MiB" in run.err, run.err
    assert run.err.count("\n") == 1
