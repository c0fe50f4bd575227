"""Real local servers that misbehave in one specific way, for fault tests (127.0.0.1 only).

Each also records the requests it receives (method, path), for read-only proofs.

`flavor` picks the shape of the answers: "s3" (XML errors, the default), "gcs" (the JSON API's
error objects), "azure" (the Blob service's XML errors with x-ms-error-code), "arm" (Azure
Resource Manager's JSON errors) or "k8s" (the Kubernetes API's `Status` objects). Modes mean the
same thing in every flavor.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

S3_ERROR = ('<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
            "<Message>{message}</Message></Error>")

MODES = ("500", "503", "slowdown", "429", "garbage", "html", "truncated", "redirect", "slow")
# Modes beyond the S3 set: "wrongdoc" is a 2xx in the right content type that is not the
# document asked for (a health check's {"status": "ok"}, another XML document); "502html" is
# a load balancer's error page in front of the service; "404" an empty 404 (not S3 at all).
EXTRA_MODES = ("wrongdoc", "502html", "404")
FLAVORS = ("s3", "gcs", "azure", "arm", "k8s")

_CONTENT_TYPE = {"s3": "application/xml", "gcs": "application/json; charset=UTF-8",
                 "azure": "application/xml", "arm": "application/json; charset=utf-8",
                 "k8s": "application/json"}


def _error(flavor: str, status: int, code: str, message: str) -> tuple[bytes, dict[str, str]]:
    """An error body and headers the way each service shapes them."""
    if flavor == "gcs":
        body = {"error": {"code": status, "message": message,
                          "errors": [{"message": message, "domain": "global", "reason": code}]}}
        return json.dumps(body).encode(), {}
    if flavor == "arm":
        return json.dumps({"error": {"code": code, "message": message}}).encode(), {}
    if flavor == "k8s":
        return json.dumps({"kind": "Status", "apiVersion": "v1", "metadata": {},
                           "status": "Failure", "message": message, "reason": code,
                           "code": status}).encode(), {}
    xml = S3_ERROR.format(code=code, message=message).encode()
    return xml, ({"x-ms-error-code": code} if flavor == "azure" else {})


# What each flavor's bodies look like when cut short, or when well-formed but beside the point.
_TRUNCATED = {"s3": b"<?xml version='1.0'?><VersioningConfiguration><Sta",
              "gcs": b'{"kind": "storage#bucket", "name": "wandb", "versioning": {"enab',
              "azure": b"<?xml version='1.0' encoding='utf-8'?><StorageServiceProperties><Dele",
              "arm": b'{"id": "/subscriptions/x", "properties": {"deleteRetentionPol',
              "k8s": b'{"kind": "Deployment", "apiVersion": "apps/v1", "metadata": {"nam'}
_WRONG_DOC = {"s3": b"<?xml version='1.0'?><Status>ok</Status>",
              "gcs": b'{"status": "ok"}',
              "azure": b"<?xml version='1.0' encoding='utf-8'?><Status>ok</Status>",
              "arm": b'{"status": "ok"}',
              "k8s": b'{"status": "ok"}'}


class _Handler(BaseHTTPRequestHandler):
    server: _FaultHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        if "Content-Type" not in (headers or {}):
            self.send_header("Content-Type", _CONTENT_TYPE[self.server.flavor])
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _any(self) -> None:
        self.server.requests.append((self.command, self.path))
        self.server.times.append(time.monotonic())
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        mode = self.server.mode
        if self.server.flavor != "s3":
            self._other_flavor(mode)
        elif mode == "500":
            self._send(500, S3_ERROR.format(code="InternalError", message="boom").encode())
        elif mode == "503":
            self._send(503, S3_ERROR.format(code="ServiceUnavailable", message="down").encode())
        elif mode == "slowdown":
            self._send(503, S3_ERROR.format(code="SlowDown", message="slow down").encode())
        elif mode == "429":
            self._send(429, b'{"error": {"code": 429, "message": "rate limited"}}',
                       {"Retry-After": "1", "Content-Type": "application/json"})
        elif mode == "garbage":
            self._send(200, b"\x00\xffthis is not xml <<<")
        elif mode == "html":
            self._send(200, b"<html><body>Welcome to the proxy</body></html>",
                       {"Content-Type": "text/html"})
        elif mode == "truncated":
            self._send(200, b"<?xml version='1.0'?><VersioningConfiguration><Sta",
                       {"Content-Length": "4096"})
            self.close_connection = True
        elif mode == "redirect":
            self._send(302, b"", {"Location": "http://elsewhere.invalid/"})
        elif mode == "slow":
            time.sleep(self.server.delay)
            self._send(500, b"too late")
        elif mode == "404":  # not S3 at all: another service on the port, or a proxy
            self._send(404, b"")
        else:
            raise AssertionError(mode)

    def _other_flavor(self, mode: str) -> None:
        flavor = self.server.flavor
        retry_after = {"Retry-After": self.server.retry_after}
        if mode == "500":
            self._send(500, *_error(flavor, 500, "InternalError", "boom"))
        elif mode == "503":
            self._send(503, *_error(flavor, 503, "ServiceUnavailable", "down"))
        elif mode == "slowdown":  # the service's own way of saying "back off"
            code = {"gcs": "rateLimitExceeded", "azure": "ServerBusy", "arm": "ServerBusy",
                    "k8s": "ServiceUnavailable"}
            body, headers = _error(flavor, 503, code[flavor], "slow down")
            self._send(503, body, {**headers, **retry_after})
        elif mode == "429":
            body, headers = _error(flavor, 429, "TooManyRequests", "rate limited")
            self._send(429, body, {**headers, **retry_after})
        elif mode == "garbage":
            self._send(200, b"\x00\xffthis is neither json nor xml <<< {")
        elif mode == "html":
            self._send(200, b"<html><body>Welcome to the proxy</body></html>",
                       {"Content-Type": "text/html"})
        elif mode == "truncated":
            self._send(200, _TRUNCATED[flavor], {"Content-Length": "4096"})
            self.close_connection = True
        elif mode == "wrongdoc":
            self._send(200, _WRONG_DOC[flavor])
        elif mode == "502html":
            self._send(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>",
                       {"Content-Type": "text/html"})
        elif mode == "redirect":
            self._send(302, b"", {"Location": "http://elsewhere.invalid/"})
        elif mode == "slow":
            time.sleep(self.server.delay)
            self._send(500, b"too late")
        else:
            raise AssertionError(mode)

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = do_PATCH = _any


class _FaultHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, mode: str, delay: float, flavor: str = "s3",
                 retry_after: str = "1") -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = mode
        self.delay = delay
        self.flavor = flavor
        self.retry_after = retry_after
        self.requests: list[tuple[str, str]] = []
        self.times: list[float] = []  # time.monotonic() of each request, in order
        self.ca_path: str | None = None  # with TLS: the CA that signed the certificate
        self.url = ""

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (its timeout) before a slow answer is expected here.
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError | ssl.SSLError):
            super().handle_error(request, client_address)


@contextmanager
def fault_server(mode: str, delay: float = 5.0, tls_dir: Path | None = None,
                 flavor: str = "s3", retry_after: str = "1") -> Iterator[_FaultHTTPServer]:
    """Serve `mode` on 127.0.0.1, shaped like `flavor`.

    With `tls_dir`, over HTTPS with a certificate from a fresh test CA: untrusted, unless the
    client is given `server.ca_path` (written into tls_dir) to trust.
    """
    assert flavor in FLAVORS, flavor
    assert mode in MODES + EXTRA_MODES, mode
    server = _FaultHTTPServer(mode, delay, flavor, retry_after)
    host, port = server.server_address[:2]
    server.url = f"http://{host}:{port}"
    with _serving(server, tls_dir, "fault"):
        yield server


@contextmanager
def _serving(server: Any, tls_dir: Path | None, name: str) -> Iterator[None]:
    """Serve on a daemon thread (over HTTPS with a fresh test CA, written to
    `server.ca_path`, when `tls_dir` is given) until the block ends."""
    if tls_dir is not None:
        import trustme

        ca = trustme.CA()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        server.ca_path = str(tls_dir / f"{name}-ca-{server.server_address[1]}.pem")
        ca.cert_pem.write_to_path(server.ca_path)
        server.url = server.url.replace("http://", "https://")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


# ---- scripted servers: any answer a test writes -------------------------------------------

# (method, path with query, request headers) -> (status, headers, body). The body may be an
# iterable of chunks: it is then sent as it is produced (an endless generator never ends).
Script = Callable[[str, str, dict[str, str]], tuple[int, dict[str, str], "bytes | Iterable[bytes]"]]


class _ScriptedServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, script: Script) -> None:
        super().__init__(("127.0.0.1", 0), _ScriptedHandler)
        self.script = script
        self.requests: list[tuple[str, str]] = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.ca_path: str | None = None

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up mid-body is what these tests provoke


class _ScriptedHandler(BaseHTTPRequestHandler):
    server: _ScriptedServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _any(self) -> None:
        self.server.requests.append((self.command, self.path))
        status, headers, body = self.server.script(self.command, self.path,
                                                   dict(self.headers.items()))
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if isinstance(body, bytes):
            if "Content-Length" not in headers:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if "Content-Length" not in headers:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        for chunk in body:
            self.wfile.write(chunk)

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = do_PATCH = _any


@contextmanager
def scripted_server(script: Script, tls_dir: Path | None = None) -> Iterator[_ScriptedServer]:
    """Serve whatever `script` answers, on 127.0.0.1; requests are recorded.

    With `tls_dir`, over HTTPS with a certificate from a fresh test CA, whose file is
    `server.ca_path`.
    """
    server = _ScriptedServer(script)
    with _serving(server, tls_dir, "scripted"):
        yield server


def endless(chunk: bytes = b"x" * 65536, stop_after: int = 512 << 20) -> Iterator[bytes]:
    """A body that does not end (for a client), sent as fast as the client reads it.

    It stops after `stop_after` bytes all the same, so that a client without a bound (the
    test of a fix, run without the fix) cannot take the test machine's memory.
    """
    sent = 0
    while sent < stop_after:
        yield chunk
        sent += len(chunk)
