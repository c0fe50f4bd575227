"""Real local servers that misbehave in one specific way, for fault tests (127.0.0.1 only).

Each also records the requests it receives (method, path), for read-only proofs.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

S3_ERROR = ('<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
            "<Message>{message}</Message></Error>")

MODES = ("500", "503", "slowdown", "429", "garbage", "html", "truncated", "redirect", "slow")


class _Handler(BaseHTTPRequestHandler):
    server: _FaultHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _any(self) -> None:
        self.server.requests.append((self.command, self.path))
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        mode = self.server.mode
        if mode == "500":
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
        else:
            raise AssertionError(mode)

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = do_PATCH = _any


class _FaultHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, mode: str, delay: float) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = mode
        self.delay = delay
        self.requests: list[tuple[str, str]] = []


@contextmanager
def fault_server(mode: str, delay: float = 5.0, tls_dir: Path | None = None
                 ) -> Iterator[_FaultHTTPServer]:
    """Serve `mode` on 127.0.0.1; with `tls_dir`, over HTTPS with an untrusted certificate."""
    server = _FaultHTTPServer(mode, delay)
    if tls_dir is not None:
        import trustme

        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
