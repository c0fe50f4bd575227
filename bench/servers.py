"""Local servers for the benchmarks, all on 127.0.0.1 (stdlib only, asyncio).

  python bench/servers.py stub               an S3 endpoint answering the three bucket calls
  python bench/servers.py proxy PORT DELAY   an HTTP proxy to 127.0.0.1:PORT adding DELAY s
                                             to every request (a cloud round trip)
  python bench/servers.py moto BUCKET        moto's S3 server with BUCKET versioned and a
                                             rule expiring noncurrent versions (needs moto)

Each prints `{"port": N}` on its first line of stdout once it listens, then serves until
killed. The stub exists because moto serves a few hundred requests a second on a small
machine: at 3,000 requests the benchmark would measure moto, not gccheck. It answers
GetBucketVersioning, GetBucketLifecycleConfiguration and GetObjectLockConfiguration with the
documents AWS sends (and AWS's error documents), from the bucket's name:
`...-enabled` (versioned, noncurrent versions expire), `...-suspended`, anything else: never
versioned, no lifecycle rules. No object lock anywhere. Signatures are not checked.
"""

from __future__ import annotations

import asyncio
import json
import sys
from urllib.parse import urlsplit

NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'
DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
LIFECYCLE = (f"{DECL}<LifecycleConfiguration {NS}><Rule><ID>expire-noncurrent</ID><Filter/>"
             "<Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>30"
             "</NoncurrentDays></NoncurrentVersionExpiration></Rule></LifecycleConfiguration>")


def _error(code: str, message: str, bucket: str) -> tuple[int, str]:
    return 404, (f"{DECL}<Error><Code>{code}</Code><Message>{message}</Message>"
                 f"<BucketName>{bucket}</BucketName><RequestId>BENCH</RequestId></Error>")


def answer(method: str, target: str) -> tuple[int, str]:
    """(status, XML body) for one request."""
    url = urlsplit(target)
    bucket = url.path.strip("/").split("/", 1)[0]
    query = url.query.split("&")[0].split("=")[0]
    if method != "GET" or not bucket:
        return 405, f"{DECL}<Error><Code>MethodNotAllowed</Code></Error>"
    if query == "versioning":
        for state in ("Enabled", "Suspended"):
            if bucket.endswith(f"-{state.lower()}"):
                return 200, (f"{DECL}<VersioningConfiguration {NS}><Status>{state}</Status>"
                             "</VersioningConfiguration>")
        return 200, f"{DECL}<VersioningConfiguration {NS}/>"
    if query == "lifecycle":
        if bucket.endswith("-enabled"):
            return 200, LIFECYCLE
        return _error("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist",
                      bucket)
    if query == "object-lock":
        return _error("ObjectLockConfigurationNotFoundError",
                      "Object Lock configuration does not exist for this bucket", bucket)
    return 400, f"{DECL}<Error><Code>NotImplemented</Code></Error>"


async def _read_head(reader: asyncio.StreamReader) -> bytes | None:
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        return None


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip() or 0)
    return 0


async def _stub_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await _read_head(reader)
            if head is None:
                break
            length = _content_length(head)
            if length:
                await reader.readexactly(length)
            method, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
            status, body = answer(method, target)
            data = body.encode()
            reason = {200: "OK", 404: "Not Found"}.get(status, "Error")
            writer.write(f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/xml\r\n"
                         f"Content-Length: {len(data)}\r\nx-amz-request-id: BENCH\r\n\r\n"
                         .encode() + data)
            await writer.drain()
    finally:
        writer.close()


async def _proxy_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                        upstream_port: int, delay: float) -> None:
    up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
    try:
        while True:
            head = await _read_head(reader)
            if head is None:
                break
            body = await reader.readexactly(_content_length(head))
            await asyncio.sleep(delay)  # the round trip to a far-away cloud
            up_writer.write(head + body)
            await up_writer.drain()
            answer_head = await _read_head(up_reader)
            if answer_head is None:
                break
            answer_body = await up_reader.readexactly(_content_length(answer_head))
            writer.write(answer_head + answer_body)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        up_writer.close()
        writer.close()


async def _serve(handler: object) -> None:
    server = await asyncio.start_server(handler, "127.0.0.1", 0, backlog=4096)  # type: ignore[arg-type]
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write(json.dumps({"port": port}) + "\n")
    sys.stdout.flush()
    async with server:
        await server.serve_forever()


def _moto(bucket: str) -> None:
    import logging
    import threading

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    s3 = boto3.client("s3", endpoint_url=f"http://{host}:{port}", region_name="us-east-1",
                      aws_access_key_id="AKIASETUP", aws_secret_access_key="setup")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "expire-noncurrent", "Status": "Enabled", "Filter": {},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}]})
    sys.stdout.write(json.dumps({"port": port}) + "\n")
    sys.stdout.flush()
    threading.Event().wait()  # until killed


def main(argv: list[str]) -> None:
    if argv[:1] == ["moto"] and len(argv) == 2:
        _moto(argv[1])
    elif argv[:1] == ["stub"]:
        asyncio.run(_serve(_stub_client))
    elif argv[:1] == ["proxy"] and len(argv) == 3:
        upstream, delay = int(argv[1]), float(argv[2])

        async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            await _proxy_client(r, w, upstream, delay)

        asyncio.run(_serve(handler))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
