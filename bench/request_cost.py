"""What one S3 call costs the client in CPU: botocore vs a minimal signed request.

Explains the fleet benchmark: at 3,000 calls, the client's CPU per call, not the 50 ms of
latency, sets the wall time once enough calls are in flight. Both clients send the same
SigV4-signed GetBucketVersioning to bench/servers.py's stub (no added latency), from 1 and from
96 threads (the fleet benchmark's 3 x --concurrency 32). The minimal client (http.client,
hashlib/hmac, ElementTree: stdlib only) is a measurement, not part of gccheck: it shows the
floor a leaner S3 probe could reach.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import hmac
import http.client
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from common import machine, server, table

KEY, SECRET, REGION = "AKIABENCH00000000000", "benchsecret0000000000000000000000000000", "us-east-1"
EMPTY = hashlib.sha256(b"").hexdigest()
NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


class MinimalS3:
    """GET ?versioning with SigV4 over one keep-alive connection per thread."""

    def __init__(self, port: int) -> None:
        self.host = f"127.0.0.1:{port}"
        self.port = port
        self.local = threading.local()
        self._keys: dict[str, bytes] = {}

    def _key(self, day: str) -> bytes:
        key = self._keys.get(day)
        if key is None:
            k = hmac.new(f"AWS4{SECRET}".encode(), day.encode(), hashlib.sha256).digest()
            for part in (REGION, "s3", "aws4_request"):
                k = hmac.new(k, part.encode(), hashlib.sha256).digest()
            self._keys[day] = key = k
        return key

    def versioning(self, bucket: str) -> str:
        now = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        path = f"/{bucket}"
        canonical = (f"GET\n{path}\nversioning=\nhost:{self.host}\nx-amz-content-sha256:{EMPTY}\n"
                     f"x-amz-date:{now}\n\nhost;x-amz-content-sha256;x-amz-date\n{EMPTY}")
        scope = f"{now[:8]}/{REGION}/s3/aws4_request"
        to_sign = (f"AWS4-HMAC-SHA256\n{now}\n{scope}\n"
                   f"{hashlib.sha256(canonical.encode()).hexdigest()}")
        signature = hmac.new(self._key(now[:8]), to_sign.encode(), hashlib.sha256).hexdigest()
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", f"{path}?versioning", headers={
            "x-amz-date": now, "x-amz-content-sha256": EMPTY,
            "Authorization": f"AWS4-HMAC-SHA256 Credential={KEY}/{scope}, "
                             "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
                             f"Signature={signature}"})
        response = conn.getresponse()
        body = response.read()
        status = ET.fromstring(body).findtext(f"{NS}Status")
        return status or "never"


def measure(call: Callable[[int], object], threads: int, calls: int) -> tuple[float, float]:
    """(CPU ms per call, wall ms per call) for `calls` calls from `threads` threads."""
    call(0)  # connect, warm caches
    wall, cpu = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(call, range(calls)))
    return ((time.process_time() - cpu) / calls * 1000,
            (time.perf_counter() - wall) / calls * 1000)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3, help="ignored; one pass per case")
    args = parser.parse_args()
    import boto3
    from botocore.config import Config

    rows = []
    with server("stub") as port:
        client = boto3.session.Session().client(
            "s3", endpoint_url=f"http://127.0.0.1:{port}", region_name=REGION,
            aws_access_key_id=KEY, aws_secret_access_key=SECRET,
            config=Config(max_pool_connections=128,
                          retries={"total_max_attempts": 3, "mode": "standard"}))
        minimal = MinimalS3(port)
        assert minimal.versioning("w-0-enabled") == "Enabled"
        for threads in (1, 96):
            for name, call in (
                    ("botocore client.get_bucket_versioning",
                     lambda i: client.get_bucket_versioning(Bucket=f"w-{i}-enabled")),
                    ("minimal SigV4 GET (http.client + ElementTree)",
                     lambda i: minimal.versioning(f"w-{i}-enabled"))):
                cpu, wall = measure(call, threads, args.calls)
                rows.append([name, threads, f"{cpu:.2f} ms", f"{wall:.2f} ms",
                             f"{cpu * 3000 / 1000:.1f} s"])
    print(f"## client CPU per S3 call ({args.calls} calls per case, stub on 127.0.0.1, no added "
          f"latency; {machine()})\n")
    print(table(["client", "threads", "CPU per call", "wall per call",
                 "CPU for 3,000 calls"], rows))
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
