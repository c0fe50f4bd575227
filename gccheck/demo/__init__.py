"""`gccheck demo`: real checks against local servers, no cloud account needed.

Each part (one module per provider) starts its local server, creates buckets in known states
and returns the cases to check. The servers stay up until the end, for the closing audit.
"""

from __future__ import annotations

import importlib
import sys
from contextlib import ExitStack
from dataclasses import dataclass

from gccheck.engine import prepare, run
from gccheck.formats import render, terminal_width
from gccheck.formats.layout import wrap
from gccheck.masking import Redactor
from gccheck.matrix import Matrix, load_matrix
from gccheck.rules import RULES
from gccheck.target import TargetSpec

# Parts in the order they run; each module has `TITLE` and `start(stack) -> list[DemoCase]`.
PARTS = ("gccheck.demo.s3", "gccheck.demo.gcs", "gccheck.demo.azure")


class DemoSkipped(Exception):
    """A part that cannot run on this machine (say why in the message)."""


@dataclass(frozen=True)
class DemoCase:
    spec: TargetSpec
    # One sentence on what this case shows.
    lesson: str


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def check_case(case: DemoCase, matrix: Matrix, redactor: Redactor) -> int:
    prepared = prepare(case.spec, matrix, {}, redactor)
    report = run([prepared], matrix, concurrency=1)
    text = render("table", report.redacted(redactor.redact), None)
    sys.stdout.write(redactor.redact(text))
    code = report.exit_code()
    lesson = wrap(f"-> exit code {code}. {case.lesson}", terminal_width(None), "  ", "     ")
    sys.stdout.write("\n".join(lesson) + "\n\n")
    return code


def run_demo(redactor: Redactor) -> int:
    """Run every part and the closing audit; 0 once it has shown them (the demo shows, the
    cases it runs are asserted by the tests)."""
    matrix = load_matrix(None, RULES)
    all_cases: list[DemoCase] = []
    with ExitStack() as stack:
        for module_name in PARTS:
            module = importlib.import_module(module_name)
            _say(f"== {module.TITLE} ==")
            try:
                cases: list[DemoCase] = module.start(stack)
            except DemoSkipped as skipped:
                _say(f"   skipped: {skipped}\n")
                continue
            for case in cases:
                check_case(case, matrix, redactor)
            all_cases.extend(cases)
        finish = importlib.import_module("gccheck.demo.finish")
        finish.run(all_cases, matrix, redactor)
    _say("Demo finished; every local server has been stopped.")
    return 0
