"""How a report is shown."""

from __future__ import annotations

from typing import Protocol

from gccheck.model import Report


class ReportFormat(Protocol):
    """Turns a report into text. Output passes through the run's Redactor afterwards."""

    def render(self, report: Report, color: bool = False) -> str: ...
