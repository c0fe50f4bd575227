"""Text from outside (servers, files, environment) made safe to show anywhere.

A server's error code, a key in a values file or a bucket path can carry terminal escapes
(ESC]0;...BEL retitles a terminal, ESC[2J clears it), NUL and other characters that XML 1.0
cannot hold, or hundreds of kilobytes. Every such text passes through `neutralise` where it
enters gccheck, and every report once more before any format renders it.
"""

from __future__ import annotations

import re

# Longest outside text kept in one field; a bucket's error code or a variable name is far
# shorter, so a longer one is hostile or broken.
DEFAULT_LIMIT = 512

# C0 and C1 controls, DEL, lone surrogates (undecodable bytes read with surrogateescape),
# the two non-characters XML forbids, and every Unicode format character (category Cf) and
# line or paragraph separator (Zl, Zp): the bidirectional overrides that reorder what a
# terminal shows (Trojan Source), zero-width and direction marks that hide text, and U+2028,
# which some terminals and editors take as a line break. Spelled out rather than computed from
# unicodedata at import (a scan of every code point costs more than start-up allows);
# tests/test_neutral.py checks this list against the running Python's Unicode database.
_INVISIBLE = ("\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e"
              "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
              "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
              "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f")
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff"
                     + _INVISIBLE + "]")
_UNSAFE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff" + _INVISIBLE + "]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def neutralise(text: str, limit: int | None = DEFAULT_LIMIT, *, multiline: bool = False) -> str:
    """`text` with unsafe characters shown escaped (`\\x1b`) and cut to `limit` characters.

    With `multiline`, newlines and tabs are kept (fix snippets are YAML); otherwise every
    control character is escaped, so the text stays on one line.
    """
    if limit is not None and len(text) > limit:
        text = f"{text[:limit]}... ({len(text) - limit} more characters)"
    pattern = _UNSAFE if multiline else _UNSAFE_LINE
    return pattern.sub(_escaped, text)


def is_safe(text: str, *, multiline: bool = False) -> bool:
    """True when `neutralise` would leave `text`'s characters as they are."""
    return (_UNSAFE if multiline else _UNSAFE_LINE).search(text) is None
