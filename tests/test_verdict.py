"""One verdict: judged once in the model, read by every format, the exit code and the bar."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from io import StringIO

import pytest

from gccheck.formats import get_format
from gccheck.formats.text import tally_words, termination_line, verdict
from gccheck.model import (
    EXIT_FAIL,
    EXIT_READY,
    EXIT_UNKNOWN,
    FailOn,
    Kind,
    Report,
    Result,
    Status,
    Tally,
    TargetReport,
    Verdict,
)
from gccheck.progress import ProgressBar

REQ, ADV = Kind.REQUIREMENT, Kind.ADVISORY


def _target(name: str, required: Status, advisory: Status = Status.PASS) -> TargetReport:
    return TargetReport(name, "on-prem", "aws", "s3://b", (
        Result("gc-env-var", REQ, required, f"{name} env", remediation="export X=true"),
        Result("noncurrent-never-expire", ADV, advisory, f"{name} advisory",
               remediation="aws s3api put-bucket-lifecycle-configuration ..."),
    ))


READY = _target("ready", Status.PASS)
ADVISED = _target("advised", Status.PASS, Status.WARN)
FAILING = _target("failing", Status.FAIL, Status.WARN)
UNKNOWN = _target("unknown", Status.UNKNOWN)
UNKNOWN_ADVISED = _target("unknown-advised", Status.UNKNOWN, Status.WARN)
NOT_REQUIRED = _target("not-required", Status.NOT_REQUIRED, Status.UNKNOWN)


@pytest.mark.parametrize(("target", "strict", "expected"), [
    (READY, False, Verdict.READY),
    (NOT_REQUIRED, False, Verdict.READY),  # an unknown advisory changes nothing
    (ADVISED, False, Verdict.READY_WITH_ADVISORIES),
    (ADVISED, True, Verdict.NOT_READY),
    (FAILING, False, Verdict.NOT_READY),
    (UNKNOWN, False, Verdict.UNVERIFIED),
    (UNKNOWN_ADVISED, False, Verdict.UNVERIFIED),
    (UNKNOWN_ADVISED, True, Verdict.NOT_READY),
])
def test_one_judgement_per_deployment(target: TargetReport, strict: bool,
                                      expected: Verdict) -> None:
    assert target.verdict(strict) is expected
    assert target.exit_code(strict) == expected.exit_code
    assert target.ready(strict) is expected.ready
    # The verdict line says the same thing in words.
    assert verdict(target, strict).split(":")[0].split(",")[0].lower() == (
        "ready" if expected.ready else expected.words)


FLEET = (READY, ADVISED, ADVISED, FAILING, UNKNOWN, UNKNOWN_ADVISED, NOT_REQUIRED)


def test_the_tally_partitions_the_fleet() -> None:
    tally = Report(FLEET, "1").tally()
    assert tally == Tally(ready=2, ready_with_advisories=2, not_ready=1, unverified=2)
    assert tally.total == len(FLEET) == sum(tally[v] for v in Verdict)
    assert tally.all_ready == 4 and tally.worst is Verdict.NOT_READY
    strict = Report(FLEET, "1", strict=True).tally()
    assert strict == Tally(ready=2, ready_with_advisories=0, not_ready=4, unverified=1)
    assert tally_words(tally) == ("7 deployments: 2 ready, 2 ready with advisories, "
                                  "1 not ready, 2 unverified")
    assert tally_words(strict) == "7 deployments: 2 ready, 4 not ready, 1 unverified"


@pytest.mark.parametrize(("targets", "fail_on", "code"), [
    ((), FailOn.UNKNOWN, EXIT_READY),
    ((READY, ADVISED), FailOn.UNKNOWN, EXIT_READY),
    ((READY, UNKNOWN), FailOn.UNKNOWN, EXIT_UNKNOWN),
    ((UNKNOWN, FAILING), FailOn.UNKNOWN, EXIT_FAIL),
    ((READY, UNKNOWN), FailOn.FAIL, EXIT_READY),
    ((UNKNOWN, FAILING), FailOn.FAIL, EXIT_FAIL),
    ((UNKNOWN, FAILING), FailOn.NEVER, EXIT_READY),
])
def test_the_exit_policy_is_one_function_of_the_tally(targets: tuple[TargetReport, ...],
                                                      fail_on: FailOn, code: int) -> None:
    assert Report(targets, "1").exit_code(fail_on) == code


def test_fail_on_from_the_command_line() -> None:
    assert FailOn.of() is FailOn.UNKNOWN
    assert FailOn.of("fail") is FailOn.FAIL
    assert FailOn.of("unknown", warn_only=True) is FailOn.NEVER


def test_the_progress_bar_counts_the_same_verdicts() -> None:
    bar = ProgressBar(len(FLEET), StringIO(), strict=True, interval=0.0)
    for target in FLEET:
        bar.advance(target)
    assert bar.tally == Report(FLEET, "1", strict=True).tally()
    assert (bar.done, bar.failing, bar.unknown) == (7, 4, 1)


def test_every_format_reads_the_same_verdicts() -> None:
    report = Report(FLEET, "1", generated_at=1.0)
    expected = {t.name: t.verdict() for t in FLEET}
    data = json.loads(get_format("json").render(report))
    assert {t["name"]: t["verdict"] for t in data["targets"]} == {
        n: v.value for n, v in expected.items()}
    assert {t["name"]: t["ready"] for t in data["targets"]} == {
        n: v.ready for n, v in expected.items()}
    prom = get_format("prometheus").render(report)
    shown = dict(re.findall(r'gccheck_deployment_ready\{deployment="([^"]+)".*\} (\d)', prom))
    assert shown == {n: str(int(v.ready)) for n, v in expected.items()}
    html = get_format("html").render(report)
    rows = dict(re.findall(r'<tr data-deployment="([^"]+)" data-verdict="([^"]+)"', html))
    assert rows == {n: v.words for n, v in expected.items()}
    suites = ET.fromstring(get_format("junit").render(report)).findall("testsuite")
    failures = {s.get("name", "").split(" (")[0]: s.get("failures") for s in suites}
    assert {n for n, f in failures.items() if f != "0"} == {
        n for n, v in expected.items() if v is Verdict.NOT_READY}
    line = termination_line(report)
    for name, v in expected.items():
        assert f"gccheck {name} (on-prem): {v.words.upper() if not v.ready else 'READY'}" in line


def _counts(html: str) -> dict[str, int]:
    return {key: int(n) for key, n in re.findall(
        r'data-count="([a-z-]+)">(\d+) ', html)}


def test_the_html_summary_counts_add_up_to_the_fleet() -> None:
    html = get_format("html").render(Report(FLEET, "1"))
    counts = _counts(html)
    assert counts == {"ready": 2, "ready-with-advisories": 2, "not-ready": 1, "unverified": 2}
    assert sum(counts.values()) == len(FLEET)
    assert f"{len(FLEET)} deployments" in html
    # Without a ready-with-advisories deployment the three counts still add up.
    plain = _counts(get_format("html").render(Report((READY, FAILING, UNKNOWN_ADVISED), "1")))
    assert plain == {"ready": 1, "not-ready": 1, "unverified": 1}
