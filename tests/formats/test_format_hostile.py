"""Text from outside reaches no format raw: escapes, NUL, undecodable bytes and 200 KB texts
are shown escaped and capped in every format, and JUnit stays XML (issue 15, items 2, 10)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from support.run import run_gccheck

from gccheck.formats import AUDIT_FORMATS, get_format
from gccheck.model import Kind, Report, Result, Status, TargetReport

TITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J"
HUGE = "C" * 200_000
HOSTILE = f"{TITLE}x{CLEAR}y\x00z\udcff\x9b31m\u202e"
# Raw characters no output may carry: C0 controls but newline and tab, DEL, C1 controls,
# surrogates and the bidirectional overrides.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def _hostile_report() -> Report:
    def result(rid: str, kind: Kind, status: Status) -> Result:
        return Result(rid + HOSTILE, kind, status, summary=HOSTILE + HUGE,
                      detail=HOSTILE + HUGE, remediation=f"export A=1\n{HOSTILE}\n{HUGE}",
                      source=HOSTILE + HUGE)

    return Report(targets=(
        TargetReport("prod" + HOSTILE, "on-prem" + TITLE, "aws" + CLEAR,
                     "s3://b/" + HOSTILE + HUGE, (
                         result("gc-env-var", Kind.REQUIREMENT, Status.FAIL),
                         result("bucket-versioning", Kind.REQUIREMENT, Status.UNKNOWN),
                         result("noncurrent-never-expire", Kind.ADVISORY, Status.WARN),
                     ), notes=(HOSTILE + HUGE,)),
    ), version="1" + TITLE, strict=True, generated_at=1.0)


@pytest.mark.parametrize("fmt", AUDIT_FORMATS)
def test_no_format_writes_a_raw_control_character_or_a_whole_huge_text(fmt: str) -> None:
    text = get_format(fmt).render(_hostile_report())
    assert RAW.findall(text) == []
    text.encode("utf-8")  # no lone surrogate left to fail on
    # Each field is capped (2 KB, a fix 8 KB): the 200 KB texts, in eight fields, are cut.
    assert len(text) < 120_000
    assert HUGE[:10_000] not in text
    if fmt != "prometheus":  # metrics carry names and ids only
        assert "more characters)" in text
    # The escapes are shown, not dropped: an operator sees that something odd came in.
    assert "\\x1b]0;pwned\\x07" in text.replace("\\\\", "\\")
    assert "\\udcff" in text.replace("\\\\", "\\")


def test_junit_of_a_hostile_report_is_xml() -> None:
    text = get_format("junit").render(_hostile_report())
    root = ET.fromstring(text.encode("utf-8"))
    case = root.find("testsuite/testcase")
    assert case is not None and case.get("classname", "").startswith("gccheck.prod\\x1b]0;")


def test_the_raw_format_is_never_what_get_format_gives() -> None:
    # Formats reached by name render the neutralised report, so no format can forget it.
    from gccheck.formats.table import Format

    assert TITLE in Format().render(_hostile_report())  # the class alone is not the path
    assert TITLE not in get_format("table").render(_hostile_report())


GC_TYPO = "GORILLA_ARTIFACT_GC_ENABLE"


@pytest.mark.parametrize("fmt", ["table", "json", "markdown", "junit"])
@pytest.mark.parametrize("name, shown", [
    (GC_TYPO + "\udcff", GC_TYPO + "\\udcff"),  # an undecodable byte in a variable's name
    (GC_TYPO + "\x1b", GC_TYPO + "\\x1b"),  # an escape: close enough to be suggested
])
def test_hostile_names_from_the_environment_are_shown_escaped(tmp_path: Path, fmt: str,
                                                              name: str, shown: str) -> None:
    # A near-miss of the GC variable is named in the report ("did you mean ...").
    out = tmp_path / "report"
    run = run_gccheck("check", "--hosting", "on-prem", "--format", fmt, "-o", str(out),
                      env={name: "true"})
    assert run.code == 1, run.err
    text = out.read_text(encoding="utf-8")
    assert RAW.findall(text) == []
    assert shown in text.replace("\\\\", "\\")
    if fmt == "junit":
        ET.fromstring(text.encode("utf-8"))
    stdout = run_gccheck("check", "--hosting", "on-prem", "--format", fmt, env={name: "true"})
    assert stdout.code == 1 and RAW.findall(stdout.out) == []
