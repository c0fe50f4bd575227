"""A table for terminals (tabulate), fixes listed under it. Colour only when asked."""

from __future__ import annotations

from tabulate import tabulate

from gccheck.formats.text import heading, verdict
from gccheck.model import Kind, Report, Status, Verdict

_TONES = {
    Verdict.READY: "32;1",
    Verdict.READY_WITH_ADVISORIES: "32;1",
    Verdict.NOT_READY: "31;1",
    Verdict.UNVERIFIED: "33;1",
}
_COLORS = {
    Status.PASS: "32",
    Status.FAIL: "31;1",
    Status.UNKNOWN: "33;1",
    Status.WARN: "33",
    Status.NOT_REQUIRED: "2",
}


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


class Format:
    def render(self, report: Report, color: bool = False, width: int | None = None) -> str:
        blocks = []
        for target in report.targets:
            lines = [_paint(heading(target), "1", color)]
            rows = []
            for kind in (Kind.REQUIREMENT, Kind.ADVISORY):
                for r in (x for x in target.results if x.kind is kind):
                    rows.append([_paint(r.status.value, _COLORS[r.status], color),
                                 r.id if kind is Kind.REQUIREMENT else f"{r.id} (advisory)",
                                 r.summary])
            lines.append(tabulate(rows, headers=["status", "check", "summary"],
                                  tablefmt="simple", disable_numparse=True))
            details = [(r.id, part) for r in target.results
                       for part in (r.detail, f"from {r.source}" if r.source else "") if part]
            details += [("note", n) for n in target.notes]
            if details:
                lines.append("\nDetails:")
                lines.extend(f"  {cid}: {text}" for cid, text in details)
            fixes = [r for r in target.results if r.remediation and r.status in
                     (Status.FAIL, Status.WARN)]
            if fixes:
                lines.append("\nFixes:")
                for r in fixes:
                    body = (r.remediation or "").replace("\n", "\n      ")
                    lines.append(f"  {r.id}:\n      {body}")
            tone = _TONES[target.verdict(report.strict)]
            lines.append("\n" + _paint(verdict(target, report.strict), tone, color))
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks) + "\n"
