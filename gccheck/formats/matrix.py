"""`gccheck matrix`: the hosting matrix as W&B's documentation shows it (table, Markdown, JSON).

On a terminal too narrow for the table, each hosting type gets a line (wrapped to the width)
instead; a pipe or a file always gets the table, every line whole.
"""

from __future__ import annotations

import json

from gccheck.formats.layout import display_width, tabulate, wrap
from gccheck.matrix import Matrix

_NOTE = "Azure takes blob soft delete where the other providers take bucket versioning."


def render_matrix(matrix: Matrix, fmt: str, width: int | None = None) -> str:
    """The matrix as `fmt` ("table", "markdown" or "json")."""
    columns: list[str] = []
    for req in matrix.requirements.values():
        column = req.column or req.title
        if column not in columns:
            columns.append(column)
    if fmt == "json":
        data = {
            "hosting-types": {h.id: {"title": h.title, "requires": list(h.requires)}
                              for h in matrix.hosting_types.values()},
            "requirements": {r.id: {"title": r.title, "providers": sorted(r.providers)
                                    if r.providers else None}
                             for r in matrix.requirements.values()},
            "secure-storage-connector": {"providers": sorted(matrix.ssc_providers)},
        }
        return json.dumps(data, indent=2) + "\n"
    rows = []
    for h in matrix.hosting_types.values():
        cells = []
        for column in columns:
            ids = [r.id for r in matrix.requirements.values()
                   if (r.column or r.title) == column and r.id in h.requires]
            cells.append("required" if ids else "")
        rows.append([f"{h.title} ({h.id})", *cells])
    headers = ["hosting type", *columns]
    ssc = ", ".join(matrix.providers[p].title for p in sorted(matrix.ssc_providers))
    footer = [f"Secure storage connector (SSC) offered on: {ssc}.", _NOTE]
    if fmt == "markdown":
        table = tabulate(rows, headers=headers, tablefmt="github")
        return f"{table}\n\n" + "\n".join(footer) + "\n"
    table = tabulate(rows, headers=headers, tablefmt="simple")
    if width is not None and max(display_width(line) for line in table.splitlines()) > width:
        # Too wide for this terminal: one line per hosting type, wrapped, reads better than a
        # table whose every cell wraps.
        lines = []
        for row in rows:
            needed = [column for column, cell in zip(columns, row[1:], strict=True) if cell]
            lines += wrap(f"{row[0]}: {', '.join(needed) or 'nothing'}", width, "", "    ")
        table = "\n".join(["Each hosting type requires:", *lines])
    lines = [line for text in footer for line in wrap(text, width)]
    return f"{table}\n\n" + "\n".join(lines) + "\n"
