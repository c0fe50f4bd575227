"""Output formats, one module per format, imported only when chosen.

Every report reaches a format through `get_format` (or `render`), which hands it the report
neutralised (`Report.neutralised`): no format ever sees a control character, an undecodable
byte or an unbounded text from a server, a file or the environment.
"""

from __future__ import annotations

import importlib
import shutil
import sys
from typing import TextIO

from gccheck.formats.interface import ReportFormat
from gccheck.model import Report

# name -> module with a `Format` class. `check` offers the first four; `audit` all of them.
FORMATS = {
    "table": "gccheck.formats.table",
    "json": "gccheck.formats.json",
    "markdown": "gccheck.formats.markdown",
    "junit": "gccheck.formats.junit",
    "html": "gccheck.formats.html",
    "prometheus": "gccheck.formats.prometheus",
}
CHECK_FORMATS = ("table", "json", "markdown", "junit")
AUDIT_FORMATS = tuple(FORMATS)


class _Neutralised:
    """A format that renders the neutralised report, whatever it is given."""

    def __init__(self, inner: ReportFormat) -> None:
        self.inner = inner

    def render(self, report: Report, color: bool = False, width: int | None = None) -> str:
        return self.inner.render(report.neutralised(), color=color, width=width)


def get_format(name: str) -> ReportFormat:
    """The format called `name`, rendering neutralised reports only."""
    formatter: ReportFormat = importlib.import_module(FORMATS[name]).Format()
    return _Neutralised(formatter)


def terminal_width(output: str | None, stream: TextIO | None = None) -> int | None:
    """The width to fit when the text goes to a terminal (`stream`, default stdout; COLUMNS
    wins, as `shutil.get_terminal_size` reads it); None for --output, a pipe or a file."""
    if output and output != "-":
        return None
    try:
        tty = (stream or sys.stdout).isatty()
    except (AttributeError, ValueError):  # closed or replaced
        tty = False
    return shutil.get_terminal_size().columns if tty else None


def render(name: str, report: Report, output: str | None) -> str:
    """The report as format `name` for where it goes: colour and the terminal's width for a
    terminal table, the full text for --output, a pipe or a file."""
    from gccheck.output import use_color

    return get_format(name).render(report, color=name == "table" and use_color(output),
                                   width=terminal_width(output))
