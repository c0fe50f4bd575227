"""`gccheck explain` on a terminal fits its width, its shell fixes wrapped so that they still
run when pasted; a pipe or a file gets every line whole."""

from __future__ import annotations

import re
import shlex

import pytest
from support.run import clean_env, run_gccheck, run_on_a_tty

from gccheck.catalog import load_catalog
from gccheck.commands import load
from gccheck.formats.layout import _COMMENT, SHELL

IDS = [*load(None).requirements, *load(None).advisories]


def _commands(check_id: str) -> list[str]:
    """The shell commands of a check's fixes in catalog.yaml, without trailing comments."""
    entry = load_catalog()[check_id]
    lines = [line for ways in entry.fix.values() for text in ways.values()
             for line in text.splitlines() if SHELL.match(line)]
    return [_COMMENT.split(line, maxsplit=1)[0].strip() for line in lines]


def _words(line: str) -> list[str] | None:
    try:
        return shlex.split(line)
    except ValueError:  # YAML or prose with an odd quote
        return None


@pytest.mark.parametrize("check_id", IDS)
def test_explain_fits_an_80_column_terminal_and_its_fixes_still_run(check_id: str) -> None:
    code, out, err = run_on_a_tty("explain", check_id, stream="stdout",
                                  env=clean_env({"COLUMNS": "80"}))
    assert code == 0, err
    text = out.replace("\r\n", "\n")
    assert [line for line in text.splitlines() if len(line) > 80] == []
    # What the shell reads when the lines are pasted: a backslash-newline joins two lines.
    pasted = [_words(line) for line in text.replace("\\\n", "").splitlines()]
    for command in _commands(check_id):
        assert _words(command) in pasted, command


def test_explain_without_an_id_fits_an_80_column_terminal() -> None:
    code, out, err = run_on_a_tty("explain", stream="stdout", env=clean_env({"COLUMNS": "80"}))
    assert code == 0, err
    lines = out.replace("\r\n", "\n").splitlines()
    assert [line for line in lines if len(line) > 80] == []
    # An id at column 2; a title too long for the line continues under the title.
    assert [line.split()[0] for line in lines if re.match(r"  \S", line)] == IDS


def test_a_pipe_gets_every_fix_line_whole() -> None:
    run = run_gccheck("explain", "bucket-versioning", env={"COLUMNS": "80"})
    assert run.code == 0, run.err
    command = ("aws s3api put-bucket-versioning --endpoint-url {endpoint} --bucket {bucket} "
               "--versioning-configuration Status=Enabled")
    assert "        " + command in run.out.splitlines()
