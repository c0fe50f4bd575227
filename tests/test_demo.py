"""`gccheck demo` on an 80-column terminal: every line fits, and the closing tally adds up."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import clean_env, run_on_a_tty

SGR = re.compile(r"\x1b\[[0-9;]*m")


def test_the_demo_fits_an_80_column_terminal(tmp_path: Path) -> None:
    code, out, err = run_on_a_tty("demo", stream="stdout", env=clean_env({"COLUMNS": "80"}),
                                  cwd=tmp_path)
    assert code == 0, err
    lines = SGR.sub("", out).replace("\r\n", "\n").splitlines()
    assert [line for line in lines if len(line) > 80] == []
    assert sum("-> exit code" in line for line in lines) >= 5
    assert (tmp_path / "gccheck-demo-report.html").exists()
    # The closing audit's counts partition the deployments it checked.
    said = " ".join(err.split())
    found = re.search(r"(\d+) deployments: (\d+) ready, (?:(\d+) ready with advisories, )?"
                      r"(\d+) not ready, (\d+) unverified", said)
    assert found, err
    total, *parts = (int(n or 0) for n in found.groups())
    assert sum(parts) == total
