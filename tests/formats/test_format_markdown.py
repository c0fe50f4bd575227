"""Markdown: every text survives a real CommonMark renderer as itself (issue 13, item 2)."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from gccheck.formats import get_format
from gccheck.formats.markdown import code, text
from gccheck.model import Kind, Report, Result, Status, TargetReport

BUCKET = "s3://***:***@127.0.0.1:9000/b_*x*_`tick`|pipe"
NAME = "prod_*eu*_ <b>bold</b> [link](http://x) &amp; ~~gone~~ $x$ #1 | end #"
SUMMARY = "versioning is *suspended* on __b__ | see <http://x> & `code` \\* snake_case_"
DETAIL = "1. not a list"
NOTES = ("- not a list", "> not a quote", "# not a heading", "=== not an underline",
         "2) not numbered", "+ plus", "&#42; entity")
FIX = "```\nrm -rf /\n```\n~~~\nexport X=1   # `quoted`"
PLAIN = MarkdownIt("commonmark").enable(["table", "strikethrough"])
ALLOWED = {"text", "code_inline", "softbreak"}


def _report() -> Report:
    return Report((TargetReport(NAME, "on-prem", "s3-compatible", BUCKET, (
        Result("bucket-versioning", Kind.REQUIREMENT, Status.FAIL, SUMMARY, detail=DETAIL,
               remediation=FIX, source="values.yaml: global.*bucket*"),
        Result("gc-env-var", Kind.REQUIREMENT, Status.PASS, "is 'true' ~ fine ~"),
    ), notes=NOTES),), "1")


def _inline_text(token: Token) -> str:
    return "".join(c.content for c in token.children or () if c.type in ALLOWED)


def _markup(token: Token) -> list[str]:
    return [c.type for c in token.children or () if c.type not in ALLOWED]


@pytest.fixture(scope="module")
def tokens() -> list[Token]:
    return PLAIN.parse(get_format("markdown").render(_report()))


def test_every_text_renders_as_itself(tokens: list[Token]) -> None:
    inlines = [_inline_text(t) for t in tokens if t.type == "inline"]
    assert f"{NAME} · on-prem · {BUCKET} (s3-compatible)" in inlines  # the heading
    assert SUMMARY in inlines and "is 'true' ~ fine ~" in inlines
    assert f"{DETAIL}; from values.yaml: global.*bucket*" in inlines
    assert "bucket-versioning" in inlines  # the check id, in a code span
    for note in NOTES:
        assert note in inlines
    fences = [t.content for t in tokens if t.type == "fence"]
    assert fences == [FIX + "\n"]


def test_nothing_becomes_markup(tokens: list[Token]) -> None:
    # Only the verdict and the fix's label are bold; no emphasis, link, HTML or strikethrough
    # comes from the texts.
    kinds = [t.type for t in tokens]
    assert "html_block" not in kinds and "bullet_list_open" not in kinds
    assert "ordered_list_open" not in kinds and "blockquote_open" in kinds
    assert [t.tag for t in tokens if t.type == "heading_open"] == ["h1", "h2", "h3"]
    markup = [_markup(t) for t in tokens if t.type == "inline" and _markup(t)]
    assert markup == [["strong_open", "strong_close"]] * 2
    rows = [t for t in tokens if t.type == "tr_open"]
    cells = [t for t in tokens if t.type in ("td_open", "th_open")]
    assert len(cells) == 4 * len(rows) == 12  # a | in a text splits no cell


@pytest.mark.parametrize("value", ["a`b", "``x``", "`start", "end`", " both ", "|"])
def test_code_spans_hold_any_text(value: str) -> None:
    tokens = PLAIN.parse(code(value))
    assert [c.content for c in tokens[1].children or () if c.type == "code_inline"] == [value]


@pytest.mark.parametrize("value", ["*a*", "_a_", "a_b_c", "\\", "[x](y)", "<i>", "&amp;",
                                   "1. x", "- x", "# x", "x #", "~~x~~", "`x`", "  lead"])
def test_text_renders_as_itself(value: str) -> None:
    tokens = PLAIN.parse(text(value))
    assert _inline_text(tokens[1]) == value.lstrip()
    assert _markup(tokens[1]) == []
