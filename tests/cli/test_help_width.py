"""Every `--help` fits an 80-column terminal (issue 13, item 1): the usage, the description,
the exit codes and every option's help."""

from __future__ import annotations

from typing import Any

import click
import pytest

from gccheck.cli import cli


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command's path under `group`, the group itself first, subgroups included."""
    found = [path]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += _commands(command, (*path, name))
        else:
            found.append((*path, name))
    return found


def test_every_command_is_covered() -> None:
    assert {("check",), ("audit",), ("matrix",), ("explain",), ("demo",)} <= set(_commands(cli))


@pytest.mark.parametrize("command", _commands(cli), ids=lambda c: " ".join(c) or "gccheck")
def test_help_fits_80_columns(gccheck_inproc: Any, command: tuple[str, ...]) -> None:
    run = gccheck_inproc(*command, "--help", env={"COLUMNS": "80"})
    assert run.code == 0 and "Usage:" in run.out
    assert [line for line in run.out.splitlines() if len(line) > 80] == []
