"""How a report is shown."""

from __future__ import annotations

from typing import Protocol

from gccheck.model import Report


class ReportFormat(Protocol):
    """Turns a report into text. Output passes through the run's Redactor afterwards.

    `width` is the terminal's width when the text goes to one (formats that lay text out in
    lines fit it), None for a pipe or a file (the full text, unwrapped).
    """

    def render(self, report: Report, color: bool = False, width: int | None = None) -> str: ...
