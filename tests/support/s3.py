"""Local S3 (moto) servers: in this process, or in its own process enforcing IAM; buckets in
a given state and IAM users with given actions."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from support.constants import TEST_KEY, TEST_SECRET
from support.ports import closed_port


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


@contextmanager
def moto_server() -> Iterator[S3Server]:
    """A moto S3 server on 127.0.0.1, in a thread of this process."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Server(f"http://{host}:{port}", host, port)
    finally:
        server.stop()


@contextmanager
def iam_moto_server() -> Iterator[S3Server]:
    """A moto server in its own process that enforces IAM after the first 100 requests.

    Setup (buckets, IAM users, policies, access keys) must fit in those 100 requests; after
    that every request is checked against the calling IAM user's inline policies.
    """
    port = closed_port()
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
