"""Demo part: a local S3-compatible server (moto) with buckets in every state."""

from __future__ import annotations

import logging
import socket
from contextlib import ExitStack
from typing import Any

from gccheck.demo import DemoCase, DemoSkipped
from gccheck.target import InlineEnv, TargetSpec

TITLE = "S3-compatible storage (a local moto server standing in for MinIO)"
_KEY, _SECRET = "demo-access-key", "demo-secret-key"
GC_ON = {"GORILLA_ARTIFACT_GC_ENABLED": "true"}
NONCURRENT = {"ID": "expire-noncurrent", "Status": "Enabled", "Filter": {},
              "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}


def _server(stack: ExitStack) -> tuple[str, int]:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        raise DemoSkipped("moto is not installed: pip install 'gccheck[demo]'") from None
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    stack.callback(server.stop)
    host, port = server.get_host_and_port()
    socket.create_connection((host, port), timeout=5).close()
    return host, port


def start(stack: ExitStack) -> list[DemoCase]:
    import boto3

    host, port = _server(stack)
    client: Any = boto3.client("s3", endpoint_url=f"http://{host}:{port}", region_name="us-east-1",
                               aws_access_key_id=_KEY, aws_secret_access_key=_SECRET)

    def bucket(name: str, versioning: str | None = None, rules: list[Any] | None = None,
               lock_days: int | None = None) -> str:
        client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=lock_days is not None)
        if versioning:
            client.put_bucket_versioning(Bucket=name,
                                         VersioningConfiguration={"Status": versioning})
        if rules:
            client.put_bucket_lifecycle_configuration(Bucket=name,
                                                      LifecycleConfiguration={"Rules": rules})
        if lock_days:
            client.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": lock_days}}})
        return f"s3://{_KEY}:{_SECRET}@{host}:{port}/{name}?region=us-east-1"

    good = bucket("wandb-versioned", "Enabled", [NONCURRENT])
    suspended = bucket("wandb-suspended", "Suspended")
    never = bucket("wandb-never-versioned")
    hazard = bucket("wandb-lifecycle-hazard", "Enabled", [
        {"ID": "expire-everything", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 30}},
        NONCURRENT])
    locked = bucket("wandb-object-lock", "Enabled", [NONCURRENT], lock_days=365)

    def case(name: str, hosting: str, url: str, env: dict[str, str], lesson: str) -> DemoCase:
        return DemoCase(TargetSpec(name=name, hosting=hosting, bucket=url, source=InlineEnv(env),
                                   timeout=5.0), lesson)

    return [
        case("minio-ready", "on-prem", good, GC_ON,
             "Everything W&B needs: GC enabled and a versioned bucket with noncurrent expiry."),
        case("minio-gc-typo", "on-prem", good, {"GORILLA_ARTIFACTS_GC_ENABLED": "true"},
             "The bucket is fine but the env var name has a typo: gccheck says 'did you mean'."),
        case("minio-suspended", "customer-managed-cloud", suspended, GC_ON,
             "Versioning was turned on once and then suspended: GC will not work."),
        case("minio-never-versioned", "customer-managed-cloud", never, GC_ON,
             "The most common state of a fresh install: versioning was never enabled."),
        case("minio-lifecycle-hazard", "customer-managed-cloud", hazard, GC_ON,
             "Ready, but a lifecycle rule expires current objects: an advisory warns."),
        case("minio-object-lock", "on-prem", locked, GC_ON,
             "Ready, but an object lock default retention keeps GC from freeing space for a year."),
        case("minio-ssc", "dedicated-cloud-ssc", good, {},
             "The secure storage connector is offered on AWS and GCP only, not on MinIO."),
        case("shared-cloud", "shared-cloud", never, {},
             "Shared cloud: W&B runs GC itself, nothing is required of you."),
    ]
