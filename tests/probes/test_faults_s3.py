"""S3 faults from real local servers: every one ends as `unknown` with a specific reason,
within the documented bound (--timeout plus start-up), with no traceback."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from support.constants import GC_ON
from support.faults import fault_server
from support.ports import closed_port
from support.run import run_gccheck

TIMEOUT = 2.0
BOUND = TIMEOUT + 6  # --timeout, plus interpreter and SDK start-up on a loaded CI machine


def check(url: str) -> tuple[int, dict[str, dict[str, str]], str, float]:
    start = time.monotonic()
    run = run_gccheck("check", "--hosting", "on-prem", "--format", "json", "--timeout",
                      str(TIMEOUT), "--bucket", url, env=GC_ON)
    elapsed = time.monotonic() - start
    assert "Traceback" not in run.err, run.err
    results = {r["id"]: r for r in json.loads(run.out)["targets"][0]["results"]}
    return run.code, results, run.err, elapsed


@pytest.mark.parametrize("mode, reason", [
    ("500", "server error"),
    ("503", "server error"),
    ("slowdown", "throttled"),
    ("429", "throttled"),
    ("garbage", "malformed"),
    ("html", "malformed"),
    ("truncated", "malformed"),
    ("redirect", "redirect"),
    ("slow", "no answer"),
    ("404", "HTTP 404 without an S3 error from http://127.0.0.1:"),
])
def test_fault_is_unknown_with_reason(mode: str, reason: str) -> None:
    with fault_server(mode, delay=TIMEOUT + 3) as server:
        host, port = server.server_address[:2]
        code, results, _, elapsed = check(f"s3://AK:SK@{host}:{port}/wandb")
        assert all(method == "GET" for method, _ in server.requests)
    versioning = results["bucket-versioning"]
    assert (code, versioning["status"]) == (3, "unknown"), versioning
    assert reason in versioning["summary"], versioning["summary"]
    assert elapsed < BOUND


def test_retries_are_bounded() -> None:
    with fault_server("500") as server:
        host, port = server.server_address[:2]
        check(f"s3://AK:SK@{host}:{port}/wandb")
        versioning_calls = [p for _, p in server.requests if "versioning" in p]
    assert 1 < len(versioning_calls) <= 3


def test_tls_failure(tmp_path: Path) -> None:
    with fault_server("500", tls_dir=tmp_path) as server:
        host, port = server.server_address[:2]
        code, results, _, elapsed = check(f"s3://AK:SK@{host}:{port}/wandb?tls=true")
    assert (code, results["bucket-versioning"]["status"]) == (3, "unknown")
    assert "TLS" in results["bucket-versioning"]["summary"]
    assert elapsed < BOUND


def test_connection_refused_and_unresolvable_host() -> None:
    code, results, _, elapsed = check(f"s3://AK:SK@127.0.0.1:{closed_port()}/wandb")
    assert (code, results["bucket-versioning"]["status"]) == (3, "unknown")
    assert "could not connect" in results["bucket-versioning"]["summary"]
    assert elapsed < BOUND
    code, results, _, elapsed = check("s3://AK:SK@gccheck-test.invalid:9000/wandb")
    assert (code, results["bucket-versioning"]["status"]) == (3, "unknown")
    assert "DNS lookup failed" in results["bucket-versioning"]["summary"]
    assert elapsed < BOUND
