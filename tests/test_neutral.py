"""neutralise: outside text made safe for a terminal, XML and a one-line report field."""

from __future__ import annotations

import unicodedata
import xml.etree.ElementTree as ET

import pytest

from gccheck.neutral import DEFAULT_LIMIT, is_safe, neutralise


@pytest.mark.parametrize("hostile, shown", [
    ("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"),
    ("\x1b[2J", "\\x1b[2J"),
    ("a\x00b", "a\\x00b"),
    ("\x9b31m", "\\x9b31m"),
    ("ab\u202ecd", "ab\\u202ecd"),
    ("name\udcff", "name\\udcff"),
    ("a\nb", "a\\x0ab"),
])
def test_control_characters_are_shown_escaped(hostile: str, shown: str) -> None:
    assert neutralise(hostile) == shown
    assert is_safe(neutralise(hostile))
    assert not is_safe(hostile)


def test_multiline_keeps_newlines_and_tabs_only() -> None:
    assert neutralise("a:\n\tb\x1b", multiline=True) == "a:\n\tb\\x1b"


def test_long_text_is_cut_and_says_so() -> None:
    text = neutralise("C" * 200_000)
    assert len(text) < DEFAULT_LIMIT + 40
    assert text.endswith(f"({200_000 - DEFAULT_LIMIT} more characters)")


def test_every_result_is_valid_xml_text() -> None:
    hostile = "".join(chr(c) for c in range(0x00, 0xA0)) + "\ufffe\uffff\ud800"
    element = ET.Element("failure", message=neutralise(hostile, None))
    ET.fromstring(ET.tostring(element))  # raises on a character XML 1.0 cannot hold


@pytest.mark.parametrize("hidden", [
    "\u2028", "\u2029",  # line and paragraph separators: a line break on some terminals
    "\u200b", "\u200c", "\u200d", "\u200e", "\u200f",  # zero-width, LRM, RLM
    "\u061c", "\u2060", "\u2061", "\u2062", "\u2063", "\u2064", "\ufeff",
    "\U000e0041",  # a tag character: invisible
])
def test_invisible_and_line_breaking_characters_are_shown_escaped(hidden: str) -> None:
    shown = f"a\\u{ord(hidden):04x}b" if ord(hidden) < 0x10000 else f"a\\U{ord(hidden):08x}b"
    assert neutralise(f"a{hidden}b") == shown
    assert neutralise(f"a{hidden}b", multiline=True) == shown
    assert not is_safe(f"a{hidden}b")
    assert is_safe(neutralise(f"a{hidden}b"))


def test_every_format_character_and_separator_is_escaped() -> None:
    """The spelled-out list in neutral.py against this Python's Unicode database: every Cf,
    Zl and Zp character is escaped, in one-line and multiline text alike."""
    missed = [f"U+{code:04X}" for code in range(0x110000)
              if unicodedata.category(chr(code)) in ("Cf", "Zl", "Zp")
              and (is_safe(chr(code)) or is_safe(chr(code), multiline=True))]
    assert missed == []


@pytest.mark.parametrize("text", [
    "配置文件 値.yaml", "Grüße, café", "Привет мир", "مرحبا بالعالم", "שלום עולם",
    "नमस्ते दुनिया", "สวัสดีชาวโลก", "안녕하세요", "e\u0301 (combining acute)", "a b\u00a0c\u3000d",
])
def test_letters_of_every_script_and_spaces_are_kept(text: str) -> None:
    assert neutralise(text) == text
    assert is_safe(text)
