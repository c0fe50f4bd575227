"""The demo's last step: one audit over every demo case, written as an HTML report."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gccheck.audit import audit
from gccheck.errors import InputError
from gccheck.formats import get_format, terminal_width
from gccheck.formats.layout import wrap
from gccheck.formats.text import tally_words
from gccheck.masking import Redactor
from gccheck.matrix import Matrix
from gccheck.output import emit

if TYPE_CHECKING:
    from gccheck.demo import DemoCase

REPORT_NAME = "gccheck-demo-report.html"


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def run(cases: Sequence[DemoCase], matrix: Matrix, redactor: Redactor,
        folder: Path | None = None) -> Path | None:
    """Audit every case at once (as `gccheck audit` would) and write the HTML report.

    The report goes to the current folder, or to the temp folder when that is not writable.
    Returns where it was written (None when there was nothing to audit).
    """
    if not cases:
        return None
    _say("== Fleet audit: every demo deployment at once (gccheck audit) ==")
    report = audit([c.spec for c in cases], matrix, {}, redactor)
    html = get_format("html").render(report)
    where = (folder or Path.cwd()) / REPORT_NAME
    try:
        emit(html, redactor, str(where))
    except InputError:
        where = Path(tempfile.gettempdir()) / REPORT_NAME
        emit(html, redactor, str(where))
    summary = f"{tally_words(report.tally())} (exit code {report.exit_code()})."
    _say("\n".join(wrap(summary, terminal_width(None, sys.stderr), "   ", "  ")))
    _say(f"   HTML report: {where}\n   Open it in a browser: file://{where}\n")
    return where
