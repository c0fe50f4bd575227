"""Shared fixtures. The helpers they wrap live in tests/support/ (one home per kind); test
files import those from there (`from support.s3 import S3Server`), never from this file."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from support import s3
from support.k8s_api import KubeAPI, KubeServer, start
from support.ports import silent_port
from support.run import Run, clean_env
from support.s3 import S3Server


@pytest.fixture(scope="session")
def moto_server() -> Iterator[S3Server]:
    """A moto S3 server on 127.0.0.1 for the whole session."""
    with s3.moto_server() as server:
        yield server


@pytest.fixture
def iam_moto_server() -> Iterator[S3Server]:
    """A moto server in its own process that enforces IAM after the first 100 requests."""
    with s3.iam_moto_server() as server:
        yield server


@pytest.fixture
def silent_server() -> Iterator[tuple[str, int]]:
    """(host, port) of a TCP server on 127.0.0.1 that accepts connections and never answers."""
    with silent_port() as port:
        yield "127.0.0.1", port


@pytest.fixture
def kube() -> Iterator[KubeServer]:
    """The fake Kubernetes API (support/k8s_api.py), empty: tests add objects to `kube.api`."""
    server = start(KubeAPI())
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fresh_logging() -> Iterator[None]:
    """In-process runs share the root logger: a handler an earlier `--debug` run left behind
    writes to a stream that is closed by now ("--- Logging error ---")."""
    import logging

    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    root.handlers[:] = []
    root.setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)


@pytest.fixture
def gccheck_inproc(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """Run the CLI in this process (fast); env replaces the process environment."""
    from gccheck.cli import main

    def invoke(*args: str, env: Mapping[str, str] | None = None) -> Run:
        import logging

        # Each run starts as a fresh process would: no handler from an earlier --debug run
        # (it would write into a closed capture stream).
        root = logging.getLogger()
        root.handlers[:] = []
        root.setLevel(logging.WARNING)
        for key in list(os.environ):
            monkeypatch.delenv(key)
        for key, value in clean_env(env).items():
            monkeypatch.setenv(key, value)
        with pytest.raises(SystemExit) as exited:
            main(list(args))
        captured = capsys.readouterr()
        return Run(int(exited.value.code or 0), captured.out, captured.err)

    return invoke
