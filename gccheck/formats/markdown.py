"""Markdown for CI job summaries (GitHub's $GITHUB_STEP_SUMMARY and the like)."""

from __future__ import annotations

from gccheck.formats.text import ICONS, heading, verdict
from gccheck.model import Report, Status


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


class Format:
    def render(self, report: Report, color: bool = False, width: int | None = None) -> str:
        out = ["# gccheck: W&B artifact garbage collection readiness", ""]
        for target in report.targets:
            out += [f"## {_cell(heading(target))}", "",
                    f"**{verdict(target, report.strict)}**", "",
                    "| status | check | summary | detail |", "|---|---|---|---|"]
            for r in target.results:
                name = r.id if r.kind.value == "requirement" else f"{r.id} (advisory)"
                detail = "; ".join(x for x in (r.detail, f"from {r.source}" if r.source else "")
                                   if x)
                out.append(f"| {ICONS[r.status]} {r.status.value} | `{name}` "
                           f"| {_cell(r.summary)} | {_cell(detail)} |")
            fixes = [r for r in target.results
                     if r.remediation and r.status in (Status.FAIL, Status.WARN)]
            if fixes:
                out += ["", "### Fixes", ""]
                for r in fixes:
                    out += [f"**{r.id}**", "", "```", r.remediation or "", "```", ""]
            for note in target.notes:
                out += [f"> {note}", ""]
            out.append("")
        return "\n".join(out).rstrip() + "\n"
