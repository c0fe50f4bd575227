"""Settings from a dotenv file: KEY=VALUE lines, quotes, # comments, `export ` prefix.

Parsing is linear in the file's size: a quote that never closes (or a line of spaces) must cost
one pass, not one pass per line (issue 15: a 40 KB file took 60 s).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gccheck.errors import InputError
from gccheck.files import read_text
from gccheck.model import Setting, Settings
from gccheck.sources.interface import storage_settings

# A dotenv file holds tens of settings; a few thousand lines is already generous. Bigger is a
# mistake (or an attack), refused before any parsing.
MAX_ENV_FILE_BYTES = 2 * 1024 * 1024

_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.\-]*)\s*=\s*(.*)$", re.S)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}
_ESCAPE = re.compile(r"\\(.)", re.S)
# Up to and including a closing '"': the alternatives are disjoint, so no backtracking. A
# backslash at the end of a line escapes the line break, so a line never carries one over.
_DOUBLE_QUOTED = re.compile(r'(?:[^"\\]|\\.)*"', re.S)
# An unquoted value ends at " #" (an inline comment); `\s#`, not `\s+#`, which backtracks
# quadratically through a long run of spaces.
_INLINE_COMMENT = re.compile(r"\s#")


def _unescape(text: str) -> str:
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), text)


def _closing_quote(line: str, quote: str, start: int = 0) -> int:
    """Index of the quote that closes a value in `line` from `start`, or -1."""
    if quote == '"':
        match = _DOUBLE_QUOTED.match(line, start)
        return match.end() - 1 if match else -1
    return line.find(quote, start)


def parse_dotenv(text: str, name: str) -> dict[str, tuple[str, int]]:
    """{KEY: (value, line number)}; later lines win. Raises InputError naming the bad line.

    The error never quotes the line: it may hold a secret.
    """
    out: dict[str, tuple[str, int]] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        number = i + 1
        line = lines[i]
        i += 1
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            raise InputError(f"env file {name}: line {number}: expected KEY=VALUE")
        key, raw = match.group(1), match.group(2).strip()
        if raw[:1] in ("'", '"'):
            quote = raw[0]
            # A quoted value may span lines (PEM keys): each line is scanned once.
            pieces = [raw[1:]]
            end = _closing_quote(pieces[0], quote)
            while end < 0 and i < len(lines):
                pieces.append(lines[i])
                i += 1
                end = _closing_quote(pieces[-1], quote)
            if end < 0:
                raise InputError(f"env file {name}: line {number}: unterminated {quote} quote")
            last = pieces.pop()
            rest = last[end + 1:].strip()
            if rest and not rest.startswith("#"):
                raise InputError(f"env file {name}: line {number}: text after the closing quote")
            value = "\n".join([*pieces, last[:end]])
            value = _unescape(value) if quote == '"' else value
        else:
            comment = _INLINE_COMMENT.search(raw)
            value = (raw[:comment.start()] if comment else raw).strip()
        out[key] = (value, number)
    return out


@dataclass(frozen=True)
class DotenvSource:
    path: str

    def read(self) -> Settings:
        parsed = parse_dotenv(read_text(self.path, "env file", MAX_ENV_FILE_BYTES), self.path)
        origin = f"env file {self.path}"
        values = {
            key: Setting(key, value, f"{origin}: line {line}",
                         fix=f"set {{name}}={{value}} in {self.path} (line {line})")
            for key, (value, line) in parsed.items()
        }
        return Settings(
            description=origin,
            values=values,
            fix_missing=f"add {{name}}={{value}} to {self.path}",
            storage=storage_settings(values),
        )
