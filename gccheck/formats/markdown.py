"""Markdown for CI job summaries (GitHub's $GITHUB_STEP_SUMMARY and the like).

Every text the report carries is shown as itself: URLs and ids go in code spans, other text
has the characters CommonMark (and GitHub's tables, strikethrough and math) would read as
markup backslash-escaped, and fixes go in a fence longer than any backtick run inside them.
A masked URL such as `s3://***:***@host/b` is never emphasis.
"""

from __future__ import annotations

import re

from gccheck.formats.text import ICONS, verdict
from gccheck.model import Kind, Report, Status, TargetReport

# Markup anywhere in a line: escapes, code, emphasis, links, raw HTML, table cells,
# strikethrough (GFM), math (GitHub); `_` only at a word's edge (inside a word it is plain);
# `&` only where it would start an entity; `#` where it could close a heading.
_INLINE = re.compile(r"[\\`*\[\]<>|~$]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])"
                     r"|&(?=#|[A-Za-z0-9]+;)|(?:(?<=\s)|^)#")
# What starts a block at the beginning of a line: a list item, a quote, a setext underline, a
# numbered item ("1." or "1)").
_BLOCK_START = re.compile(r"^(?:[-+=>]|\d+(?=[.)]))")


def text(value: str) -> str:
    """`value` as Markdown that renders as exactly `value` (one line)."""
    value = " ".join(value.split("\n")).lstrip()
    escaped = _INLINE.sub(lambda m: "\\" + m.group(0), value)
    start = _BLOCK_START.match(escaped)
    if start:
        end = start.end()
        if escaped[0].isdigit():
            return escaped[:end] + "\\" + escaped[end:]
        return "\\" + escaped
    return escaped


def code(value: str, *, in_table: bool = False) -> str:
    """`value` in a code span that shows it literally, whatever backticks it holds."""
    value = " ".join(value.split("\n"))
    runs = [len(r) for r in re.findall(r"`+", value)]
    ticks = "`" * (max(runs, default=0) + 1)
    # A span that starts or ends with a backtick (or a space at both ends) needs a space of
    # padding, which CommonMark strips again.
    pad = " " if value[:1] == "`" or value[-1:] == "`" or (
        value[:1] == " " and value[-1:] == " ") else ""
    span = f"{ticks}{pad}{value}{pad}{ticks}"
    # GFM splits table cells at every unescaped |, code spans included.
    return span.replace("|", "\\|") if in_table else span


def fence(body: str) -> list[str]:
    """A fenced block holding `body` literally: its fence is longer than any run inside."""
    runs = [len(r) for r in re.findall(r"`{3,}", body)]
    ticks = "`" * max(3, max(runs, default=0) + 1)
    return [ticks, body, ticks]


def _heading(target: TargetReport) -> str:
    where = (f" · {code(target.bucket)} ({text(target.provider or '')})" if target.bucket
             else " · no bucket")
    return f"## {text(target.name)} · {text(target.hosting)}{where}"


class Format:
    def render(self, report: Report, color: bool = False, width: int | None = None) -> str:
        out = ["# gccheck: W&B artifact garbage collection readiness", ""]
        for target in report.targets:
            out += [_heading(target), "",
                    f"**{text(verdict(target, report.strict))}**", "",
                    "| status | check | summary | detail |", "|---|---|---|---|"]
            for r in target.results:
                name = r.id if r.kind is Kind.REQUIREMENT else f"{r.id} (advisory)"
                detail = "; ".join(x for x in (r.detail, f"from {r.source}" if r.source else "")
                                   if x)
                out.append(f"| {ICONS[r.status]} {r.status.value} | {code(name, in_table=True)} "
                           f"| {text(r.summary)} | {text(detail)} |")
            fixes = [r for r in target.results
                     if r.remediation and r.status in (Status.FAIL, Status.WARN)]
            if fixes:
                out += ["", "### Fixes", ""]
                for r in fixes:
                    out += [f"**{text(r.id)}**", "", *fence(r.remediation or ""), ""]
            for note in target.notes:
                out += [f"> {text(note)}", ""]
            out.append("")
        return "\n".join(out).rstrip() + "\n"
