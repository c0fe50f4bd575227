"""One self-contained HTML page: a summary bar, a deployments x checks grid, then the fixes.

No scripts, fonts, images or links to anything outside the file: it reads the same opened from
disk, mailed, or served with a strict Content-Security-Policy. Colour is never the only signal
(every cell also says its status in words).
"""

from __future__ import annotations

import datetime as dt
import re
from html import escape

from gccheck.formats import text
from gccheck.model import Kind, Report, Result, Status, TargetReport, Verdict

# 's3://***:***@host/bucket' -> 's3://host/bucket' (what the grid has room for).
_MASKED_KEYS = re.compile(r"://\*\*\*(?::\*\*\*)?@")
_MARKS = {
    Status.PASS: "✓",
    Status.FAIL: "✗",
    Status.UNKNOWN: "?",
    Status.WARN: "!",
    Status.NOT_REQUIRED: "–",
}
_WORDS = {
    Status.PASS: "pass",
    Status.FAIL: "fail",
    Status.UNKNOWN: "unknown",
    Status.WARN: "warn",
    Status.NOT_REQUIRED: "not required",
}

_CSS = """
:root{--fg:#1f2328;--muted:#656d76;--bg:#fff;--line:#d0d7de;--head:#f6f8fa;
--pass:#1a7f37;--pass-bg:#dafbe1;--fail:#cf222e;--fail-bg:#ffebe9;--unknown:#9a6700;
--unknown-bg:#fff8c5;--warn:#bc4c00;--warn-bg:#fff1e5;--na:#8c959f;--na-bg:#f6f8fa}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;
--line:#30363d;--head:#161b22;--pass:#3fb950;--pass-bg:#12261e;--fail:#f85149;--fail-bg:#2d1214;
--unknown:#d29922;--unknown-bg:#272115;--warn:#db6d28;--warn-bg:#2b1a10;--na:#6e7681;
--na-bg:#161b22}}
*{box-sizing:border-box}
body{margin:0;padding:24px 32px 48px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:0}
.meta{color:var(--muted);margin:0 0 20px}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
.summary{display:flex;flex-wrap:wrap;gap:10px;align-items:center;margin-bottom:8px}
.count{padding:4px 12px;border-radius:999px;font-weight:600;border:1px solid transparent}
.count.ready{color:var(--pass);background:var(--pass-bg)}
.count.not-ready{color:var(--fail);background:var(--fail-bg)}
.count.unverified{color:var(--unknown);background:var(--unknown-bg)}
.count.ready-with-advisories{color:var(--warn);background:var(--warn-bg)}
.bar{display:flex;height:12px;border-radius:6px;overflow:hidden;background:var(--na-bg);
margin:0 0 28px;max-width:960px}
.bar span{display:block;height:100%}
.bar .ready{background:var(--pass)}.bar .not-ready{background:var(--fail)}
.bar .unverified{background:var(--unknown)}.bar .ready-with-advisories{background:var(--warn)}
.wrap{overflow-x:auto;border:1px solid var(--line);border-radius:8px;margin-bottom:32px}
table{border-collapse:separate;border-spacing:0;width:100%}
th,td{padding:7px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
thead th{position:sticky;top:0;background:var(--head);font-weight:600;font-size:12.5px;
z-index:1;vertical-align:bottom}
thead th.req,thead th.adv{max-width:120px;overflow-wrap:anywhere}
thead th.adv{color:var(--muted);font-weight:500}
tbody tr:last-child>*{border-bottom:0}
tbody th{font-weight:600;white-space:nowrap}
tbody th a{color:inherit}
tbody th .sub{display:block;font-weight:400;color:var(--muted);font-size:12px;max-width:340px;
overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
thead tr.groups th{font-size:11px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);
border-bottom:0;padding-bottom:0}
th.first-adv,td.first-adv{border-left:2px solid var(--line)}
td.cell{white-space:nowrap;font-weight:600;text-align:center;vertical-align:middle}
td.cell.pass{color:var(--pass);background:var(--pass-bg)}
td.cell.fail{color:var(--fail);background:var(--fail-bg)}
td.cell.unknown{color:var(--unknown);background:var(--unknown-bg)}
td.cell.warn{color:var(--warn);background:var(--warn-bg)}
td.cell.not-required,td.cell.none{color:var(--na);font-weight:400;font-size:12px}
td.verdict{font-weight:600;white-space:nowrap;vertical-align:middle}
.v-ready{color:var(--pass)}.v-ready-with-advisories{color:var(--warn)}
.v-not-ready{color:var(--fail)}.v-unverified{color:var(--unknown)}
.target{border:1px solid var(--line);border-left:4px solid var(--line);border-radius:8px;
padding:14px 18px;margin:0 0 14px}
.target.t-not-ready{border-left-color:var(--fail)}
.target.t-unverified{border-left-color:var(--unknown)}
.target.t-ready,.target.t-ready-with-advisories{border-left-color:var(--warn)}
.target .verdict{font-weight:600;margin:4px 0}
.target .where{color:var(--muted);margin:0 0 10px;font-size:12.5px}
.item{margin:10px 0 0;padding:0}
.badge{display:inline-block;min-width:70px;text-align:center;padding:1px 8px;border-radius:4px;
font-size:12px;font-weight:600;margin-right:6px}
.badge.fail{color:var(--fail);background:var(--fail-bg)}
.badge.unknown{color:var(--unknown);background:var(--unknown-bg)}
.badge.warn{color:var(--warn);background:var(--warn-bg)}
.item .detail{color:var(--muted);margin:2px 0 0 82px;font-size:12.5px}
pre.fix{margin:6px 0 0 82px;padding:8px 12px;background:var(--head);border:1px solid var(--line);
border-radius:6px;white-space:pre-wrap;overflow-wrap:anywhere}
.fix-label{margin:6px 0 0 82px;font-size:12px;color:var(--muted)}
.note{color:var(--muted);font-size:12.5px;margin:8px 0 0}
footer{color:var(--muted);font-size:12px;margin-top:32px}
@media print{thead th{position:static}.wrap{overflow:visible}}
"""


def _e(text: str) -> str:
    return escape(text, quote=True)


def _columns(report: Report, kind: Kind) -> list[str]:
    seen: dict[str, None] = {}
    for target in report.targets:
        for r in target.results:
            if r.kind is kind:
                seen.setdefault(r.id, None)
    return list(seen)


def _cell(result: Result | None, check_id: str, first_advisory: bool) -> str:
    edge = " first-adv" if first_advisory else ""
    if result is None:
        return (f'<td class="cell none{edge}" data-check="{_e(check_id)}" data-status="" '
                'title="does not apply to this bucket">·</td>')
    status = result.status.value
    tip = result.summary + (f" ({result.detail})" if result.detail else "")
    return (f'<td class="cell {status}{edge}" data-check="{_e(check_id)}" data-status="{status}" '
            f'title="{_e(tip)}">{_MARKS[result.status]} {_WORDS[result.status]}</td>')


def _needs_attention(target: TargetReport) -> bool:
    return any(r.status in (Status.FAIL, Status.UNKNOWN, Status.WARN) for r in target.results)


def _details(index: int, target: TargetReport, strict: bool) -> str:
    tone = target.verdict(strict).value
    where = f"{target.hosting} · " + (f"{target.bucket} ({target.provider})" if target.bucket
                                      else "no bucket")
    out = [f'<section class="target t-{tone}" id="d-{index}" data-deployment="{_e(target.name)}">',
           f"<h2>{_e(target.name)}</h2>",
           f'<p class="verdict v-{tone}">{_e(text.verdict(target, strict))}</p>',
           f'<p class="where">{_e(where)}</p>']
    order = {Status.FAIL: 0, Status.UNKNOWN: 1, Status.WARN: 2}
    items = sorted((r for r in target.results if r.status in order),
                   key=lambda r: (order[r.status], r.kind is Kind.ADVISORY))
    for r in items:
        status = r.status.value
        label = r.id if r.kind is Kind.REQUIREMENT else f"{r.id} (advisory)"
        out.append(f'<div class="item {status}" data-check="{_e(r.id)}" data-status="{status}">'
                   f'<span class="badge {status}">{_WORDS[r.status]}</span>'
                   f"<code>{_e(label)}</code> {_e(r.summary)}")
        extra = "; ".join(x for x in (r.detail, f"from {r.source}" if r.source else "") if x)
        if extra:
            out.append(f'<div class="detail">{_e(extra)}</div>')
        if r.remediation and r.status in (Status.FAIL, Status.WARN):
            out.append('<div class="fix-label">Fix:</div>'
                       f'<pre class="fix">{_e(r.remediation)}</pre>')
        out.append("</div>")
    out.extend(f'<p class="note">Note: {_e(n)}</p>' for n in target.notes)
    out.append("</section>")
    return "\n".join(out)


class Format:
    def render(self, report: Report, color: bool = False, width: int | None = None) -> str:
        requirements = _columns(report, Kind.REQUIREMENT)
        advisories = _columns(report, Kind.ADVISORY)
        verdicts = report.verdicts()
        tally = report.tally()
        when = (dt.datetime.fromtimestamp(report.generated_at, dt.timezone.utc)
                .strftime("%Y-%m-%d %H:%M UTC") if report.generated_at else "")
        total = len(report.targets)
        title = f"gccheck: {total} deployment{'s' if total != 1 else ''}"

        out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
               '<meta name="viewport" content="width=device-width, initial-scale=1">',
               '<meta name="color-scheme" content="light dark">',
               f"<title>{_e(title)} · W&amp;B artifact GC readiness</title>",
               f"<style>{_CSS}</style>", "</head>", "<body>",
               "<header><h1>W&amp;B artifact garbage collection readiness</h1>",
               f'<p class="meta">{total} deployment{"s" if total != 1 else ""}'
               + (f" · {_e(when)}" if when else "") + f" · gccheck {_e(report.version)}"
               + (" · strict: advisories that warn count as failures" if report.strict else "")
               + "</p></header>"]
        # The counts partition the fleet (they add up to the total); "ready with advisories"
        # is shown only when there is one.
        shown = [v for v in Verdict if v is not Verdict.READY_WITH_ADVISORIES or tally[v]]
        out.append('<div class="summary" id="summary">')
        out.extend(f'<span class="count {v.value}" data-count="{v.value}">{tally[v]} {v.words}'
                   "</span>" for v in shown)
        out.append("</div>")
        aria = ", ".join(f"{tally[v]} {v.words}" for v in shown)
        out.append(f'<div class="bar" role="img" aria-label="{_e(aria)}">')
        out.extend(f'<span class="{v.value}" style="flex-grow:{tally[v]}"></span>'
                   for v in shown if tally[v])
        out.append("</div>")

        out.append('<div class="wrap"><table class="grid" id="grid"><thead>'
                   '<tr class="groups"><th colspan="2"></th>'
                   f'<th colspan="{len(requirements)}">requirements</th>'
                   + (f'<th colspan="{len(advisories)}" class="first-adv">advisories</th>'
                      if advisories else "") + "</tr><tr>"
                   '<th scope="col">deployment</th><th scope="col">verdict</th>')
        out.extend(f'<th scope="col" class="req" data-check="{_e(c)}">{_e(c)}</th>'
                   for c in requirements)
        out.extend(f'<th scope="col" class="adv{" first-adv" if i == 0 else ""}" '
                   f'data-check="{_e(c)}" title="advisory">{_e(c)}</th>'
                   for i, c in enumerate(advisories))
        out.append("</tr></thead><tbody>")
        for index, (target, verdict) in enumerate(zip(report.targets, verdicts, strict=True)):
            by_id = {r.id: r for r in target.results}
            name = _e(target.name)
            link = f'<a href="#d-{index}">{name}</a>' if _needs_attention(target) else name
            where = _e(target.hosting + (f" · {target.bucket}" if target.bucket
                                         else " · no bucket"))
            # The narrow column shows host and bucket; the masked keys stay in the tooltip.
            short = _MASKED_KEYS.sub("://", where)
            row = [f'<tr data-deployment="{name}" data-verdict="{verdict.words}">'
                   f'<th scope="row">{link}<span class="sub" title="{where}">{short}</span></th>'
                   f'<td class="verdict v-{verdict.value}">{verdict.words}</td>']
            row.extend(_cell(by_id.get(c), c, False) for c in requirements)
            row.extend(_cell(by_id.get(c), c, i == 0) for i, c in enumerate(advisories))
            row.append("</tr>")
            out.append("".join(row))
        out.append("</tbody></table></div>")

        attention = [(i, t) for i, t in enumerate(report.targets) if _needs_attention(t)]
        if attention:
            out.append('<h2 style="margin:0 0 12px">What to fix</h2>')
            out.extend(_details(i, t, report.strict) for i, t in attention)
        else:
            out.append("<p>Nothing to fix: every deployment meets the requirements.</p>")
        out.append("<footer>Statuses: pass, fail (GC will not work until fixed), unknown "
                   "(gccheck could not verify it), warn (advisory), not required. Run "
                   "<code>gccheck explain ID</code> for what a check means.</footer>")
        out += ["</body>", "</html>"]
        return "\n".join(out) + "\n"
