from __future__ import annotations

from pathlib import Path

import pytest

from gccheck.errors import InputError
from gccheck.sources.dotenv import DotenvSource, parse_dotenv


def parse(text: str) -> dict[str, str]:
    return {k: v for k, (v, _) in parse_dotenv(text, ".env").items()}


def test_basic_syntax() -> None:
    text = """
# a comment
export GORILLA_ARTIFACT_GC_ENABLED=true
BUCKET = s3://wandb  # inline comment
PLAIN=a#b
EMPTY=
DQ="line\\nnext \\"quoted\\""
SQ='$literal \\n'
"""
    values = parse(text)
    assert values["GORILLA_ARTIFACT_GC_ENABLED"] == "true"
    assert values["BUCKET"] == "s3://wandb"
    assert values["PLAIN"] == "a#b"
    assert values["EMPTY"] == ""
    assert values["DQ"] == 'line\nnext "quoted"'
    assert values["SQ"] == "$literal \\n"


def test_multiline_quoted_value() -> None:
    values = parse('KEY="-----BEGIN KEY-----\nabc\n-----END KEY-----"\nNEXT=1\n')
    assert values["KEY"] == "-----BEGIN KEY-----\nabc\n-----END KEY-----"
    assert values["NEXT"] == "1"


def test_later_lines_win_and_line_numbers_are_kept() -> None:
    parsed = parse_dotenv("A=1\n\nA=2\n", ".env")
    assert parsed["A"] == ("2", 3)


@pytest.mark.parametrize("text, line", [
    ("A=1\nthis is not valid\n", 2),
    ("A=1\nB='unterminated\n", 2),
    ('X="ok" trailing\n', 1),
    ("1BAD=x\n", 1),
])
def test_bad_lines_name_the_line_not_the_content(text: str, line: int) -> None:
    with pytest.raises(InputError) as error:
        parse_dotenv(text, "prod.env")
    assert f"prod.env: line {line}" in str(error.value)
    for content in ("this is not valid", "trailing", "1BAD"):
        assert content not in str(error.value)


def test_source_records_provenance_and_fix(tmp_path: Path) -> None:
    env = tmp_path / "wandb.env"
    env.write_text("GORILLA_ARTIFACT_GC_ENABLED=false\n")
    settings = DotenvSource(str(env)).read()
    setting = settings.values["GORILLA_ARTIFACT_GC_ENABLED"]
    assert setting.origin == f"env file {env}: line 1"
    assert setting.fix and str(env) in setting.fix
    assert str(env) in settings.fix_missing


def test_missing_and_binary_files_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        DotenvSource(str(tmp_path / "nope.env")).read()
    binary = tmp_path / "bin.env"
    binary.write_bytes(b"\x00\x01\x02")
    with pytest.raises(InputError, match="binary"):
        DotenvSource(str(binary)).read()
    with pytest.raises(InputError, match="directory"):
        DotenvSource(str(tmp_path)).read()
    bad_utf8 = tmp_path / "latin1.env"
    bad_utf8.write_bytes(b"A=1\nB=\xff\xfe\n")
    with pytest.raises(InputError, match="line 2: not valid UTF-8"):
        DotenvSource(str(bad_utf8)).read()


def test_an_unclosed_quote_is_scanned_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Issue 15: each new line rescanned the value from its opening quote, so a quote that
    # never closes cost lines^2 (a 40 KB file took a minute). Count the characters scanned.
    from gccheck.sources import dotenv

    scanned = 0
    real = dotenv._closing_quote

    def counting(text: str, quote: str, *start: int) -> int:
        nonlocal scanned
        scanned += len(text) - (start[0] if start else 0)
        return real(text, quote, *start)

    monkeypatch.setattr(dotenv, "_closing_quote", counting)
    text = 'A="never closed\n' + "NEXT=value\n" * 2_000
    with pytest.raises(InputError, match="line 1: unterminated \" quote"):
        parse_dotenv(text, ".env")
    assert scanned <= len(text)


def test_a_long_run_of_spaces_before_a_value_is_parsed() -> None:
    # `\s+#` backtracked through every space of a run not followed by '#'.
    assert parse("A=x" + " " * 50_000 + "y #comment\n")["A"] == "x" + " " * 50_000 + "y"
