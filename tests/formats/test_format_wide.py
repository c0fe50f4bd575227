"""Lines fit the terminal by display width, not by code points (issue 13, item 1): a wide
(CJK) character takes two columns, a combining mark none, in a values-file path, a server's
error code, and the fixes that quote them."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from support.run import clean_env, run_on_a_tty

from gccheck.formats import get_format
from gccheck.formats.layout import display_width, wrap, wrap_fix
from gccheck.model import Kind, Report, Result, Status, TargetReport

SGR = re.compile(r"\x1b\[[0-9;]*m")
WIDE_DIR = "配置文件目录配置文件目录配置文件目录"
WIDE_CODE = "存储桶访问被拒绝存储桶访问被拒绝存储桶访问被拒绝存储桶访问被拒绝存储桶访问被拒绝"


def _columns(line: str) -> int:
    """Columns a terminal uses for `line`, measured here apart from gccheck's own measure."""
    return sum(0 if unicodedata.combining(c) else
               2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in SGR.sub("", line))


def test_display_width_counts_columns() -> None:
    assert display_width("abc") == 3
    assert display_width("配置") == 4
    assert display_width("ＡＢ") == 4  # fullwidth
    assert display_width("e\u0301") == 1  # e + combining acute
    assert display_width("値.yaml") == 7


def test_wrap_and_fixes_measure_display_width() -> None:
    text = f"from /tmp/{WIDE_DIR}/値.yaml: app.env.GORILLA_ARTIFACT_GC_ENABLED {WIDE_CODE}"
    for width in range(24, 100):
        lines = wrap(text, width, "  ", "    ")
        assert max(_columns(line) for line in lines) <= width, (width, lines)
        assert "".join("".join(lines).split()) == "".join(text.split())
        fix = wrap_fix(f"helm upgrade wandb -f /tmp/{WIDE_DIR}/値.yaml", width, "      ")
        assert max(_columns(line) for line in fix) <= max(width, 6 + 4 + 10 + 2), (width, fix)


def _server_report() -> Report:
    code = f"S3 answered {WIDE_CODE} ({WIDE_DIR}) to GetBucketVersioning"
    return Report((TargetReport(
        "生产环境", "on-prem", "s3-compatible", f"s3://minio.corp.internal:9000/{WIDE_DIR}", (
            Result("bucket-versioning", Kind.REQUIREMENT, Status.UNKNOWN, code, detail=code),
            Result("lifecycle-expires-current", Kind.ADVISORY, Status.WARN, code,
                   remediation=f"aws s3api get-bucket-lifecycle-configuration --bucket {WIDE_DIR}"),
        ), notes=(code,)),
    ), "1")


@pytest.mark.parametrize("width", range(40, 121))
def test_server_text_of_wide_characters_fits(width: int) -> None:
    text = get_format("table").render(_server_report(), color=True, width=width)
    too_wide = [line for line in text.splitlines() if _columns(line) > width]
    assert too_wide == []
    assert WIDE_CODE[:4] in text


def test_a_wide_values_path_on_an_80_column_terminal(tmp_path: Path) -> None:
    folder = tmp_path / WIDE_DIR
    folder.mkdir()
    values = folder / "値.yaml"
    values.write_text('app:\n  env:\n    GORILLA_ARTIFACT_GC_ENABLED: "false"\n')
    code, out, _ = run_on_a_tty(
        "check", "--hosting", "on-prem", "--values", str(values),
        # A closed port: the bucket checks say unknown at once; the values file is the point.
        "--bucket", "s3://AK:SK@127.0.0.1:9/wandb", "--endpoint-url", "http://127.0.0.1:9",
        stream="stdout", env=clean_env({"COLUMNS": "80", "NO_COLOR": "1"}))
    assert code == 1, out
    lines = out.replace("\r\n", "\n").splitlines()
    assert WIDE_DIR in out and "Fixes:" in out
    assert [line for line in lines if _columns(line) > 80] == []


def test_a_line_separator_in_server_text_does_not_split_the_table() -> None:
    """U+2028 and U+2029 break a line on some terminals: shown escaped, every row stays one."""
    code = "Access\u2028Denied\u2029\u200bby\u200fserver"
    report = Report((TargetReport("prod", "on-prem", "s3-compatible", "s3://minio:9000/wandb", (
        Result("bucket-versioning", Kind.REQUIREMENT, Status.UNKNOWN, code, detail=code),
    )),), "1")
    for width in (None, 80):
        text = get_format("table").render(report, width=width)
        assert not re.search("[\u2028\u2029\u200b\u200f]", text)
        assert "Access\\u2028Denied\\u2029\\u200bby\\u200fserver" in "".join(text.split())
