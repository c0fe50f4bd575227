"""Output formats, one module per format, imported only when chosen."""

from __future__ import annotations

import importlib

from gccheck.formats.interface import ReportFormat

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


def get_format(name: str) -> ReportFormat:
    formatter: ReportFormat = importlib.import_module(FORMATS[name]).Format()
    return formatter
