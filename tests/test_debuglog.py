"""--debug writes nothing a server sent raw, and nothing without bound (issue 15, item 2): every
debug record, message and traceback alike, is redacted, neutralised and capped
(gccheck/debuglog.py)."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote

import pytest
from support.cloud_servers import account_key
from support.faults import scripted_server
from support.run import run_gccheck

from gccheck.debuglog import RECORD_LIMIT, configure, debug
from gccheck.masking import Redactor

TITLE, CLEAR = "\x1b]0;pwned\x07", "\x1b[2J"
C1 = "\x9b31m\x85\x90"
BIDI = "\u202e\u2066\u200f\u2028"
KEY = account_key("debug-log")
# What a terminal must never get raw: C0 controls but newline and tab, DEL, C1, and the
# invisible and reordering characters neutralise escapes.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
# Each record is cut at RECORD_LIMIT characters; a run here writes under twenty records (the
# 200 KB code made 1.2 MB of stderr without the cap).
BOUND = 20 * RECORD_LIMIT


def _assert_safe(stderr: str) -> None:
    assert RAW.findall(stderr) == []
    assert len(stderr) < BOUND, len(stderr)
    assert "gccheck debug:" in stderr


def test_s3_a_hostile_error_code_under_debug() -> None:
    # XML 1.0 holds C1 controls and bidi overrides (not ESC): botocore logs the body it parsed.
    code = f"{C1}{BIDI}Denied" + "A" * 200_000
    body = f"<Error><Code>{code}</Code><Message>{code}</Message></Error>".encode()
    with scripted_server(lambda *_: (400, {"Content-Type": "application/xml"}, body)) as server:
        run = run_gccheck("check", "--hosting", "on-prem", "--timeout", "5", "--debug",
                          "--bucket", f"s3://AKIDEBUGLOG:debug-log-secret@{server.url[7:]}/wandb",
                          env={"GORILLA_ARTIFACT_GC_ENABLED": "true"})
    assert run.code == 3, run.err[-2000:]
    _assert_safe(run.err)
    assert "debug-log-secret" not in run.err + run.out
    assert "\\x9b31m" in run.err and "\\u202e" in run.err  # shown, escaped
    assert "more characters of this record cut" in run.err


def test_azure_a_hostile_error_code_header_under_debug() -> None:
    header = f"{TITLE}{CLEAR}{C1}Denied{'C' * 3000}"

    def script(method: str, path: str, _: dict[str, str]) -> Any:
        return 403, {"x-ms-error-code": header, "x-ms-request-id": "1",
                     "Content-Type": "application/xml"}, f"<Error>{TITLE}{'B' * 50_000}".encode()

    with scripted_server(script) as server:
        run = run_gccheck("check", "--hosting", "on-prem", "--timeout", "5", "--debug",
                          "--bucket", f"az://:{quote(KEY, safe='')}@acct/wandb",
                          "--azure-blob-endpoint", server.url,
                          env={"GORILLA_ARTIFACT_GC_ENABLED": "true"})
    assert run.code == 3, run.err[-2000:]
    _assert_safe(run.err)
    assert KEY not in run.err + run.out
    assert "\\x1b]0;pwned\\x07" in run.err  # the SDK's own log lines, escaped


def test_a_record_and_its_traceback_are_neutralised_and_capped(
        fresh_logging: Any, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gccheck.debuglog._enabled", False)  # put back after the test
    redactor = Redactor()
    redactor.add("hunter2-secret")
    configure(redactor)
    try:
        raise ValueError(f"{TITLE}{BIDI}hunter2-secret" + "E" * 50_000)
    except ValueError:
        debug("gccheck.test", "server said %s", f"{CLEAR}{C1}" + "M" * 50_000, exc_info=True)
    logging.getLogger("azure.core").warning("%s", TITLE)
    err = capsys.readouterr().err
    assert RAW.findall(err) == []
    assert "hunter2-secret" not in err
    records = [r for r in err.split("gccheck debug: ") if r]
    assert len(records) == 2
    assert all(len(r) < RECORD_LIMIT + 200 for r in records), [len(r) for r in records]
    assert "\\x1b[2J" in records[0] and "more characters of this record cut" in records[0]
    assert "\\x1b]0;pwned\\x07" in records[1]
