"""Words shared by the human-readable formats."""

from __future__ import annotations

from gccheck.model import Kind, Status, TargetReport

ICONS = {
    Status.PASS: "✅",
    Status.FAIL: "❌",
    Status.UNKNOWN: "❔",
    Status.WARN: "⚠️",
    Status.NOT_REQUIRED: "➖",
}


def verdict(target: TargetReport, strict: bool) -> str:
    """One line: READY / NOT READY / UNVERIFIED, and which items make it so."""
    required = [r for r in target.results if r.kind is Kind.REQUIREMENT]
    failing = [r.id for r in required if r.status is Status.FAIL]
    unknown = [r.id for r in required if r.status is Status.UNKNOWN]
    warned = [r.id for r in target.results if r.status is Status.WARN]
    if strict:
        failing += warned
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
