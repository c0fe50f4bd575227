"""Fitting text to a terminal's width: table columns, wrapped lines, and fixes that stay
runnable when a line is split (shell lines continue with a backslash).

Every function takes `width=None` to mean "not a terminal": the text is left whole, so a pipe,
a file or a CI log gets every command on one line.
"""

from __future__ import annotations

import re
import textwrap
import unicodedata
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

# Columns narrower than this are not useful; below it a table is allowed to overflow. (It is
# also above a short header plus the two spaces tabulate pads headers with.)
MIN_COLUMN = 10
GAP = 2  # tabulate's "simple" format puts two spaces between columns

# The first word of the lines gccheck's fixes run in a shell (catalog.yaml, the sources'
# `export`); only these are split with a backslash continuation.
SHELL = re.compile(r"^\s*(export|aws|gcloud|gsutil|az|kubectl|mc|helm)\s")
# A shell comment after a command: whitespace, '#', whitespace.
_COMMENT = re.compile(r"\s+#\s")


def display_width(text: str) -> int:
    """How many terminal columns `text` takes: East Asian wide and fullwidth characters two,
    combining marks and zero-width characters none, everything else one. Every wrap and fit
    in the formats measures with this (and tabulate too, see table.py), never with len()."""
    if text.isascii():
        return len(text)
    return sum(_char_width(char) for char in text)


def _char_width(char: str) -> int:
    if unicodedata.combining(char) or unicodedata.category(char) in _ZERO_WIDTH:
        return 0
    return 2 if unicodedata.east_asian_width(char) in "WF" else 1


# Enclosing and non-spacing marks (some have combining class 0) and format characters.
_ZERO_WIDTH = ("Mn", "Me", "Cf")


class _Wrapper(textwrap.TextWrapper):
    """textwrap's wrapper measuring display width: a line of wide characters takes twice
    the columns len() says. (max_lines and placeholder are not used here.)"""

    def _handle_long_word(self, reversed_chunks: list[str], cur_line: list[str],
                          cur_len: int, width: int) -> None:
        room = width - cur_len if width >= 1 else 1
        chunk = reversed_chunks[-1]
        cut, used = 0, 0
        for char in chunk:
            # Always something on an empty line, or the loop would never end.
            if used + _char_width(char) > room and (cut or cur_line):
                break
            used += _char_width(char)
            cut += 1
        if cut:
            cur_line.append(chunk[:cut])
            reversed_chunks[-1] = chunk[cut:]

    def _wrap_chunks(self, chunks: list[str]) -> list[str]:
        lines: list[str] = []
        chunks.reverse()
        while chunks:
            cur_line: list[str] = []
            cur_len = 0
            indent = self.subsequent_indent if lines else self.initial_indent
            width = self.width - display_width(indent)
            if self.drop_whitespace and chunks[-1].strip() == "" and lines:
                del chunks[-1]
            while chunks:
                size = display_width(chunks[-1])
                if cur_len + size > width:
                    break
                cur_line.append(chunks.pop())
                cur_len += size
            if chunks and display_width(chunks[-1]) > width:
                self._handle_long_word(chunks, cur_line, cur_len, width)
                if not chunks[-1]:
                    chunks.pop()
            if self.drop_whitespace and cur_line and cur_line[-1].strip() == "":
                del cur_line[-1]
            if cur_line:
                lines.append(indent + "".join(cur_line))
        return lines


def tabulate(rows: Sequence[Sequence[str]], **options: Any) -> str:
    """`tabulate.tabulate`, measuring cells with `display_width`.

    tabulate counts code points unless the optional wcwidth package is installed (then it
    measures with that, which may disagree with `display_width` on a character or two): its
    measure is the module's `wcwidth.wcswidth`, so it is pointed at ours, here where the
    formats call it, and the columns it pads and wraps are the ones `fit_columns` planned.
    """
    import tabulate as module

    module.wcwidth = _MEASURE  # type: ignore[attr-defined]
    module.WIDE_CHARS_MODE = True
    return module.tabulate(rows, **options)


# Stands in for the wcwidth module, the only part of it tabulate uses.
_MEASURE = SimpleNamespace(wcswidth=display_width)


def fit_columns(natural: Sequence[int], width: int | None,
                shares: Sequence[float] = ()) -> list[int | None]:
    """The widest each column may be so that a row fits `width`; None means "as wide as it
    needs" (no terminal, or the column keeps its natural width). Columns give way in
    proportion to their `shares` (default 1 each; 0 never narrows), so with shares 2 and 3
    the second column ends up about half as wide again as the first."""
    if width is None:
        return [None] * len(natural)
    weights = [shares[i] if i < len(shares) else 1.0 for i in range(len(natural))]
    widths = list(natural)
    available = width - GAP * (len(widths) - 1)
    while sum(widths) > available:
        candidates = [i for i, w in enumerate(widths) if w > MIN_COLUMN and weights[i] > 0]
        if not candidates:
            break
        widest = max(candidates, key=lambda i: widths[i] / weights[i])
        widths[widest] -= 1
    return [w if w < n else None for w, n in zip(widths, natural, strict=True)]


def wrap(text: str, width: int | None, indent: str = "", hanging: str = "  ") -> list[str]:
    """`text` (one line) as lines of at most `width`, continuation lines indented further."""
    if width is None or display_width(indent + text) <= width:
        return [indent + text]
    return _Wrapper(width=max(width, display_width(indent + hanging) + MIN_COLUMN),
                    initial_indent=indent, subsequent_indent=indent + hanging,
                    break_on_hyphens=False).wrap(text) or [indent]


def wrap_fix(line: str, width: int | None, indent: str) -> list[str]:
    """One line of a fix, fitted to `width` so that it still works when pasted: a shell
    command continues with ' \\', its trailing comment moves to the lines after it (as
    comments), and other lines (YAML, prose) wrap with a deeper indent."""
    if width is None or display_width(indent + line) <= width:
        return [indent + line]
    lead = line[:len(line) - len(line.lstrip())]
    if line.lstrip().startswith("#"):
        return wrap(line.lstrip()[1:].strip(), width, indent + lead + "# ", hanging="")
    if not SHELL.match(line):
        return wrap(line.lstrip(), width, indent + lead)
    command, comment = line, ""
    found = _COMMENT.search(line)
    if found:
        command, comment = line[:found.start()], line[found.end():]
    out = _continued(command.strip(), width, indent + lead)
    if comment:
        out += wrap(comment.strip(), width, indent + lead + "# ", hanging="")
    return out


def _continued(command: str, width: int, indent: str) -> list[str]:
    """A shell command split between words, every line but the last ending in ' \\'.

    A word too long for any line (a JSON argument) is cut where the shell joins it back:
    the rest starts at column 0, and a cut inside single quotes closes and reopens them.
    """
    hanging = indent + "    "
    width = max(width, len(hanging) + MIN_COLUMN + 2)
    lines: list[str] = []
    current = indent
    for word in _WORD.findall(command):
        joined = current + (" " if current.strip() else "") + word
        if display_width(joined) + 2 <= width:
            current = joined
            continue
        if current.strip():
            lines.append(current + " \\")
            current = hanging
        if display_width(current + word) + 2 <= width:
            current += word
            continue
        pieces = _cut(word, width - display_width(current), width)
        lines.append(current + pieces[0])
        lines.extend(pieces[1:-1])
        current = pieces[-1]
    return [*lines, current]


# A shell word: unquoted runs, '...' and "..." (with backslash escapes) glued together.
_WORD = re.compile(r"""(?:[^\s'"\\]+|\\.|'[^']*'?|"(?:\\.|[^"\\])*"?)+""")


def _cut(word: str, first: int, width: int) -> list[str]:
    """`word` in pieces that the shell joins back into it: each but the last ends in a
    backslash (after closing a single quote, which the next piece reopens); the first piece
    fits in `first` columns, the others in `width`."""
    pieces: list[str] = []
    piece, room, state, prev, used = "", first, "", "", 0
    for char in word:
        tail = "'\\" if state == "'" else "\\"
        # Never cut after a backslash: it would escape the continuation's own backslash.
        if piece and prev != "\\" and used + _char_width(char) + len(tail) > room:
            pieces.append(piece + tail)
            piece, room = ("'" if state == "'" else ""), width
            used = len(piece)
        piece += char
        used += _char_width(char)
        if not state and char in "'\"" and prev != "\\":
            state = char
        elif char == state and (state == "'" or prev != "\\"):
            state = ""
        prev = char
    return [*pieces, piece]
