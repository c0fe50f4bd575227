"""Shared fixtures: a real local S3 server (moto) and ways to run the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Credentials for the local servers only.
TEST_KEY = "AKIATESTKEY000000000"
TEST_SECRET = "testsecret/with+slash000000000000000000"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    host: str
    port: int

    def client(self, key: str = TEST_KEY, secret: str = TEST_SECRET) -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=key,
                            aws_secret_access_key=secret, region_name="us-east-1")

    def url(self, bucket: str, key: str = TEST_KEY, secret: str = TEST_SECRET) -> str:
        """A W&B-style S3-compatible bucket URL with keys, as for MinIO."""
        from urllib.parse import quote

        return (f"s3://{quote(key, safe='')}:{quote(secret, safe='')}@{self.host}:{self.port}"
                f"/{bucket}?region=us-east-1")


@pytest.fixture(scope="session")
def moto_server() -> Iterator[S3Server]:
    """A moto S3 server on 127.0.0.1 for the whole session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Server(f"http://{host}:{port}", host, port)
    finally:
        server.stop()


_bucket_counter = iter(range(1, 1_000_000))


def make_bucket(server: S3Server, versioning: str | None = None, *,
                lifecycle: list[dict[str, Any]] | None = None,
                lock_days: int | None = None, prefix: str = "b") -> str:
    """Create a fresh bucket in the given state: versioning 'Enabled', 'Suspended' or None."""
    name = f"{prefix}-{os.getpid()}-{next(_bucket_counter)}"
    client = server.client()
    client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=lock_days is not None)
    if versioning:
        client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning})
    if lifecycle is not None:
        client.put_bucket_lifecycle_configuration(Bucket=name,
                                                  LifecycleConfiguration={"Rules": lifecycle})
    if lock_days is not None:
        client.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": lock_days}}})
    return name


NONCURRENT_RULE = {"ID": "expire-noncurrent", "Status": "Enabled", "Filter": {},
                   "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}


def missing_tool(reason: str) -> NoReturn:
    """Skip a test whose outside tool (Azurite, Chromium) is absent; fail it under
    GCCHECK_REQUIRE_TOOLS=1, which .ci/run sets after installing them, so that a broken
    install cannot turn CI green by skipping."""
    if os.environ.get("GCCHECK_REQUIRE_TOOLS") == "1":
        pytest.fail(f"{reason} (GCCHECK_REQUIRE_TOOLS=1: it should have been installed)")
    pytest.skip(reason)


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A process environment without the caller's cloud settings, plus `extra`."""
    keep = {k: v for k, v in os.environ.items()
            if k in ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR", "PYTHONPATH",
                     "VIRTUAL_ENV")}
    keep.update({"AWS_EC2_METADATA_DISABLED": "true", "NO_COLOR": "1",
                 "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"})
    keep.update(extra or {})
    return keep


def run_gccheck(*args: str, env: Mapping[str, str] | None = None, cwd: str | Path | None = None,
                timeout: float = 60) -> Run:
    """Run the real CLI in a subprocess, as a user would."""
    proc = subprocess.run([sys.executable, "-m", "gccheck", *args], capture_output=True,
                          text=True, env=clean_env(env), cwd=cwd, timeout=timeout)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def run_on_a_tty(*args: str, stream: str, env: Mapping[str, str] | None = None,
                 cwd: str | Path | None = None) -> tuple[int, str, str]:
    """Run the CLI with `stream` ("stdout" or "stderr") on a pseudo-terminal, the other a
    pipe; returns (exit code, stdout, stderr)."""
    import pty
    import select
    import time

    master, slave = pty.openpty()
    other = subprocess.PIPE
    proc = subprocess.Popen([sys.executable, "-m", "gccheck", *args],
                            stdout=slave if stream == "stdout" else other,
                            stderr=slave if stream == "stderr" else other,
                            env=dict(env) if env is not None else clean_env(),
                            cwd=REPO if cwd is None else cwd)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the other side closed
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    piped = (proc.communicate(timeout=30)[0 if stream == "stderr" else 1] or b"").decode()
    os.close(master)
    on_tty = b"".join(chunks).decode()
    return (proc.returncode, on_tty, piped) if stream == "stdout" else (
        proc.returncode, piped, on_tty)


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


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def iam_moto_server() -> Iterator[S3Server]:
    """A moto server in its own process that enforces IAM after the first 100 requests.

    Setup (buckets, IAM users, policies, access keys) must fit in those 100 requests; after
    that every request is checked against the calling IAM user's inline policies.
    """
    import socket
    import time

    port = free_port()
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "100"}
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
                             str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.1)
        yield S3Server(f"http://127.0.0.1:{port}", "127.0.0.1", port)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def enforce_iam(server: S3Server) -> None:
    """Use up the unauthenticated setup requests, so IAM is enforced from now on."""
    from botocore.exceptions import ClientError

    client = server.client()
    for _ in range(200):
        try:
            client.list_buckets()
        except ClientError:
            return  # our setup key is not an IAM user's: enforcement has begun
    raise RuntimeError("moto never started enforcing IAM")


def iam_user(server: S3Server, name: str, actions: list[str]) -> tuple[str, str]:
    """Create an IAM user allowed exactly `actions` on every resource; returns its keys."""
    import json

    import boto3

    iam = boto3.client("iam", endpoint_url=server.endpoint, region_name="us-east-1",
                       aws_access_key_id=TEST_KEY, aws_secret_access_key=TEST_SECRET)
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="gccheck", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


@pytest.fixture
def silent_server() -> Iterator[tuple[str, int]]:
    """A TCP server on 127.0.0.1 that accepts connections and never answers."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in held:
            conn.close()
        listener.close()
