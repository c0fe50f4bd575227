"""neutralise: outside text made safe for a terminal, XML and a one-line report field."""

from __future__ import annotations

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
