"""Words shared by the human-readable formats: headings, verdict lines, the termination line."""

from __future__ import annotations

from gccheck.model import Report, Status, Tally, TargetReport, Verdict

ICONS = {
    Status.PASS: "✅",
    Status.FAIL: "❌",
    Status.UNKNOWN: "❔",
    Status.WARN: "⚠️",
    Status.NOT_REQUIRED: "➖",
}


def verdict_reason(target: TargetReport, strict: bool) -> str:
    """': <summary>' of the first item the verdict names ('' when it is ready)."""
    named = target.judge(strict).named
    if not named:
        return ""
    # The verdict names the ids; the first one's is repeated only when there are more.
    which = f"{named[0].id}: " if len(named) > 1 else ""
    return f": {which}{' '.join(named[0].summary.split())}"


def verdict(target: TargetReport, strict: bool) -> str:
    """One line: READY / NOT READY / UNVERIFIED, and which items make it so."""
    judged = target.judge(strict)
    if judged.verdict is Verdict.NOT_READY:
        failing = [r.id for r in judged.failing]
        return f"NOT READY: {', '.join(failing)} " + ("fails" if len(failing) == 1 else "fail")
    if judged.verdict is Verdict.UNVERIFIED:
        return f"UNVERIFIED: could not check {', '.join(r.id for r in judged.unknown)}"
    if judged.verdict is Verdict.READY_WITH_ADVISORIES:
        return f"READY, with advisories: {', '.join(r.id for r in judged.warned)}"
    return "READY: garbage collection requirements are met"


def tally_words(tally: Tally) -> str:
    """'13 deployments: 4 ready, 4 ready with advisories, 5 not ready, 0 unverified'; the
    advisory count only when there is one, so the numbers always add up to the total."""
    parts = [f"{tally[v]} {v.words}" for v in Verdict
             if v is not Verdict.READY_WITH_ADVISORIES or tally[v]]
    total = tally.total
    return f"{total} deployment{'s' if total != 1 else ''}: {', '.join(parts)}"


def termination_line(report: Report) -> str:
    """The one-line verdict for a Kubernetes termination message (at most 4096 bytes), with
    why the first failing (else unverified) requirement is so: `kubectl describe` may be all
    an operator reads."""
    safe = report.neutralised()
    parts = [f"gccheck {t.name} ({t.hosting}): {verdict(t, safe.strict)}"
             f"{verdict_reason(t, safe.strict)}" for t in safe.targets]
    return "; ".join(parts)[:4000]


def heading(target: TargetReport) -> str:
    where = f" · {target.bucket} ({target.provider})" if target.bucket else " · no bucket"
    return f"{target.name} · {target.hosting}{where}"
