"""A table for terminals (tabulate), fixes listed under it. Colour only when asked.

On a terminal (`width` given) every line fits it: long cells wrap inside their column,
details and notes wrap under their label, and fixes are split so that they still run when
pasted (formats/layout.py). A pipe or a file gets every line whole.
"""

from __future__ import annotations

from gccheck.formats.layout import display_width, fit_columns, tabulate, wrap, wrap_fix
from gccheck.formats.text import heading, verdict
from gccheck.model import Kind, Report, Status, TargetReport, Verdict

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
_HEADERS = ["status", "check", "summary"]
# When the terminal is narrow the summary keeps half as much room again as the check id;
# the status column never wraps.
_SHARES = (0, 2, 3)


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


def _grid(target: TargetReport, color: bool, width: int | None) -> str:
    rows = [(r.status, r.id if r.kind is Kind.REQUIREMENT else f"{r.id} (advisory)", r.summary)
            for kind in (Kind.REQUIREMENT, Kind.ADVISORY)
            for r in target.results if r.kind is kind]
    texts = [(status.value, check, summary) for status, check, summary in rows]
    # tabulate pads a header with two spaces: a column is never narrower than that.
    natural = [max([len(h) + 2, *(display_width(row[i]) for row in texts)])
               for i, h in enumerate(_HEADERS)]
    limits = fit_columns(natural, width, _SHARES)
    cells = [[_paint(status.value, _COLORS[status], color), check, summary]
             for status, check, summary in rows]
    if all(limit is None for limit in limits):
        return tabulate(cells, headers=_HEADERS, tablefmt="simple", disable_numparse=True)
    return tabulate(cells, headers=_HEADERS, tablefmt="simple", disable_numparse=True,
                    maxcolwidths=limits)


class Format:
    def render(self, report: Report, color: bool = False, width: int | None = None) -> str:
        blocks = []
        for target in report.targets:
            lines = [_paint(line, "1", color) for line in wrap(heading(target), width)]
            lines.append(_grid(target, color, width))
            details = [(r.id, part) for r in target.results
                       for part in (r.detail, f"from {r.source}" if r.source else "") if part]
            details += [("note", n) for n in target.notes]
            if details:
                lines.append("\nDetails:")
                for cid, text in details:
                    lines.extend(wrap(f"{cid}: {text}", width, "  ", "    "))
            fixes = [r for r in target.results if r.remediation and r.status in
                     (Status.FAIL, Status.WARN)]
            if fixes:
                lines.append("\nFixes:")
                for r in fixes:
                    lines.extend(wrap(f"{r.id}:", width, "  ", "    "))
                    for fix_line in (r.remediation or "").split("\n"):
                        lines.extend(wrap_fix(fix_line, width, "      "))
            tone = _TONES[target.verdict(report.strict)]
            said = wrap(verdict(target, report.strict), width)
            lines.append("\n" + "\n".join(_paint(line, tone, color) for line in said))
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks) + "\n"
