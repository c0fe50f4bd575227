"""boto3 alone: the fleet benchmark's S3 calls with no gccheck around them.

  python bench/boto3_floor.py PORT BUCKETS IN_FLIGHT

Makes the calls gccheck's S3 probe makes for each bucket (versioning, lifecycle, object lock)
to the buckets `bench/fleet.py` writes, through the same endpoint, with one client configured
as the probe's, from IN_FLIGHT threads. No rules, no report: the floor any tool built on
boto3 starts from, measured by fleet.py in the same run as the audit.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

CALLS = ("get_bucket_versioning", "get_bucket_lifecycle_configuration",
         "get_object_lock_configuration")
STATES = ("enabled", "suspended", "never")
KEY, SECRET = "AKIABENCH00000000000", "benchsecret0000000000000000000000000000"


def main() -> int:
    port, buckets, in_flight = (int(a) for a in sys.argv[1:4])
    client = boto3.session.Session().client(
        "s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
        aws_access_key_id=KEY, aws_secret_access_key=SECRET,
        config=Config(connect_timeout=30, read_timeout=30, parameter_validation=False,
                      retries={"total_max_attempts": 3, "mode": "standard"},
                      s3={"addressing_style": "path"}, max_pool_connections=in_flight))

    def call(job: tuple[str, str]) -> bool:
        bucket, name = job
        try:
            getattr(client, name)(Bucket=bucket)
        except ClientError:
            return False
        return True

    jobs = [(f"wandb-{i:04d}-{STATES[i % 3]}", name) for i in range(buckets) for name in CALLS]
    with ThreadPoolExecutor(in_flight) as pool:
        answered = sum(pool.map(call, jobs))
    print(f"{answered} of {len(jobs)} calls answered 2xx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
