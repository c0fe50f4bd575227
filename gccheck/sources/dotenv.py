"""Settings from a dotenv file: KEY=VALUE lines, quotes, # comments, `export ` prefix."""

from __future__ import annotations

import re
from dataclasses import dataclass

from gccheck.errors import InputError
from gccheck.files import read_text
from gccheck.model import Setting, Settings
from gccheck.sources.interface import storage_settings

_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.\-]*)\s*=\s*(.*)$", re.S)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), text, flags=re.S)


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
            body = raw[1:]
            # A quoted value may span lines (PEM keys); find its closing quote.
            while True:
                end = _closing_quote(body, quote)
                if end >= 0 or i >= len(lines):
                    break
                body += "\n" + lines[i]
                i += 1
            if end < 0:
                raise InputError(f"env file {name}: line {number}: unterminated {quote} quote")
            rest = body[end + 1:].strip()
            if rest and not rest.startswith("#"):
                raise InputError(f"env file {name}: line {number}: text after the closing quote")
            value = body[:end]
            value = _unescape(value) if quote == '"' else value
        else:
            # An unquoted value ends at " #" (an inline comment).
            value = re.split(r"\s+#", raw, maxsplit=1)[0].strip()
        out[key] = (value, number)
    return out


def _closing_quote(body: str, quote: str) -> int:
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and quote == '"':
            i += 2
            continue
        if ch == quote:
            return i
        i += 1
    return -1


@dataclass(frozen=True)
class DotenvSource:
    path: str

    def read(self) -> Settings:
        parsed = parse_dotenv(read_text(self.path, "env file"), self.path)
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
