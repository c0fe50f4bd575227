"""Words shared by the human-readable formats."""

from __future__ import annotations

from gccheck.model import Kind, Result, Status, TargetReport

ICONS = {
    Status.PASS: "✅",
    Status.FAIL: "❌",
    Status.UNKNOWN: "❔",
    Status.WARN: "⚠️",
    Status.NOT_REQUIRED: "➖",
}


def _judged(target: TargetReport, strict: bool) -> tuple[list[Result], list[Result],
                                                         list[Result]]:
    """(failing, unknown, warned): what the verdict is made of; under strict, warned fail."""
    required = [r for r in target.results if r.kind is Kind.REQUIREMENT]
    failing = [r for r in required if r.status is Status.FAIL]
    unknown = [r for r in required if r.status is Status.UNKNOWN]
    warned = [r for r in target.results if r.status is Status.WARN]
    if strict:
        failing += warned
    return failing, unknown, warned


def verdict_reason(target: TargetReport, strict: bool) -> str:
    """': <summary>' of the first item the verdict names ('' when it is ready)."""
    failing, unknown, _ = _judged(target, strict)
    named = failing or unknown
    if not named:
        return ""
    # The verdict names the ids; the first one's is repeated only when there are more.
    which = f"{named[0].id}: " if len(named) > 1 else ""
    return f": {which}{' '.join(named[0].summary.split())}"


def verdict(target: TargetReport, strict: bool) -> str:
    """One line: READY / NOT READY / UNVERIFIED, and which items make it so."""
    failing_results, unknown_results, warned_results = _judged(target, strict)
    failing = [r.id for r in failing_results]
    unknown = [r.id for r in unknown_results]
    warned = [r.id for r in warned_results]
    if failing:
        return f"NOT READY: {', '.join(failing)} " + ("fails" if len(failing) == 1 else "fail")
    if unknown:
        return f"UNVERIFIED: could not check {', '.join(unknown)}"
    if warned:
        return f"READY, with advisories: {', '.join(warned)}"
    return "READY: garbage collection requirements are met"


def heading(target: TargetReport) -> str:
    where = f" · {target.bucket} ({target.provider})" if target.bucket else " · no bucket"
    return f"{target.name} · {target.hosting}{where}"
