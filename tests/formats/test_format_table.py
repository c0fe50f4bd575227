"""The table fits the terminal it is shown on and keeps every line whole elsewhere (issue 13,
item 1); a fix split to fit still runs when pasted."""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata

import pytest
from support.run import clean_env, run_gccheck, run_on_a_tty
from support.s3 import S3Server, make_bucket

from gccheck.catalog import fill, load_catalog
from gccheck.formats import get_format
from gccheck.formats.layout import SHELL, wrap_fix
from gccheck.model import Kind, Report, Result, Status, TargetReport

SGR = re.compile(r"\x1b\[[0-9;]*m")
DID_YOU_MEAN = ("GORILLA_ARTIFACT_GC_ENABLED is not set in the process environment; did you mean "
                "GORILLA_ARTIFACTS_GC_ENABLED (set to 'true' in process environment)? W&B reads "
                "only GORILLA_ARTIFACT_GC_ENABLED")
LONG_FIX = ("aws s3api put-bucket-versioning --endpoint-url http://minio.corp.internal:9000 "
            "--bucket wandb-files-production --versioning-configuration Status=Enabled")


def _width(line: str) -> int:
    """Columns a terminal uses for `line` (wide East Asian characters take two)."""
    plain = SGR.sub("", line)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in plain)


def _report() -> Report:
    return Report((TargetReport(
        "prod", "on-prem", "s3-compatible",
        "s3://***:***@minio.corp.internal:9000/wandb-files-production/some/long/path/prefix", (
            Result("gc-env-var", Kind.REQUIREMENT, Status.FAIL, DID_YOU_MEAN,
                   remediation="export GORILLA_ARTIFACT_GC_ENABLED=true   # in the environment "
                               "W&B Server runs with", source="process environment"),
            Result("bucket-versioning", Kind.REQUIREMENT, Status.FAIL,
                   "versioning is suspended on wandb-files-production", remediation=LONG_FIX,
                   detail="answered by http://minio.corp.internal:9000 " * 3),
            Result("lifecycle-expires-current", Kind.ADVISORY, Status.WARN,
                   "rule 'expire-everything-after-a-very-long-time' expires current objects"),
        ), notes=("how an ambiguous URL was read: " + "the host is minio.corp.internal " * 4,)),
    ), "1")


@pytest.mark.parametrize("width", [80, 60])
def test_every_line_fits_the_terminal_width(width: int) -> None:
    text = get_format("table").render(_report(), color=True, width=width)
    assert [line for line in text.splitlines() if _width(line) > width] == []
    assert "did you mean" in text and "GORILLA_ARTIFACTS_GC_ENABLED" in text


def test_any_terminal_from_32_columns_up_is_fitted() -> None:
    from test_format_hostile import _hostile_report

    for report in (_report(), _hostile_report()):
        for width in range(32, 161):
            text = get_format("table").render(report, color=True, width=width)
            too_wide = [line for line in text.splitlines() if _width(line) > width]
            assert too_wide == [], (width, too_wide[:3])


def test_without_a_terminal_every_line_is_whole() -> None:
    text = get_format("table").render(_report())
    assert any(DID_YOU_MEAN in line for line in text.splitlines())
    assert any(line.strip() == LONG_FIX for line in text.splitlines())


def _catalog_fixes() -> list[str]:
    where = {"bucket": "wandb-files-production", "endpoint": "http://minio.corp.internal:9000",
             "account": "wandbstorageaccount", "container": "wandb-files", "variable": "X"}
    return [fill(ways["cli"], **where) for entry in load_catalog().values()
            for ways in entry.fix.values() if "cli" in ways]


def _words(script: str) -> str:
    """The words bash sees in each command of `script` (comments dropped)."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    lines, continued = [], False
    for line in script.split("\n"):
        # The command word becomes `args`, so bash prints the words instead of running them.
        starts = not continued and line.strip() and not line.lstrip().startswith("#")
        lines.append("args " + line.lstrip() if starts else line)
        continued = line.endswith("\\")
    run = subprocess.run([bash, "-c", "args() { printf '<%s>' \"$@\"; echo; }\n"
                          + "\n".join(lines)], capture_output=True, text=True, check=True)
    return run.stdout


@pytest.mark.parametrize("width", [80, 50])
def test_a_split_fix_runs_as_the_whole_one(width: int) -> None:
    fixes = _catalog_fixes()
    assert any(len(f) > 120 for f in fixes)  # the catalog has long ones to split
    for fix in fixes:
        for line in fix.split("\n"):
            split = wrap_fix(line, width, "")
            assert max(len(x) for x in split) <= width, split
            if SHELL.match(line):  # prose fixes only wrap
                assert _words("\n".join(split)) == _words(line), split


# ---- on a real terminal, and through a pipe ------------------------------------------------


def _check_args(server: S3Server) -> list[str]:
    bucket = make_bucket(server, "Suspended")
    return ["check", "--hosting", "on-prem", "--bucket", server.url(bucket)]


TYPO = {"GORILLA_ARTIFACTS_GC_ENABLED": "true"}


def test_check_on_an_80_column_terminal(moto_server: S3Server) -> None:
    args = _check_args(moto_server)
    code, out, _ = run_on_a_tty(*args, stream="stdout",
                                env=clean_env({**TYPO, "COLUMNS": "80", "NO_COLOR": ""}))
    assert code == 1, out
    lines = out.replace("\r\n", "\n").splitlines()
    words = " ".join(SGR.sub("", out).split())
    assert "did you mean GORILLA_ARTIFACTS_GC_ENABLED" in words and "Fixes:" in out
    assert [line for line in lines if _width(line) > 80] == []
    piped = run_gccheck(*args, env=TYPO)
    assert piped.code == 1
    assert max(len(line) for line in piped.out.splitlines()) > 80  # the whole text, unwrapped
    assert any("did you mean GORILLA_ARTIFACTS_GC_ENABLED" in line and "W&B reads only" in line
               for line in piped.out.splitlines())


def test_matrix_on_an_80_column_terminal() -> None:
    code, out, _ = run_on_a_tty("matrix", stream="stdout", env=clean_env({"COLUMNS": "80"}))
    assert code == 0
    lines = out.replace("\r\n", "\n").splitlines()
    assert [line for line in lines if _width(line) > 80] == []
    assert "customer-managed-cloud" in out and "GORILLA_ARTIFACT_GC_ENABLED=true" in out
    piped = run_gccheck("matrix")
    assert piped.out.startswith("hosting type") and max(map(len, piped.out.splitlines())) > 80
