"""A recording reverse proxy on 127.0.0.1: forwards every request to a real server and
remembers (method, path?query), so tests can prove what gccheck sends."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class _Proxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.requests: list[tuple[str, str]] = []

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class _Handler(BaseHTTPRequestHandler):
    server: _Proxy
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _forward(self) -> None:
        self.server.requests.append((self.command, self.path))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        upstream = http.client.HTTPConnection(self.server.upstream_host,
                                              self.server.upstream_port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
        upstream.request(self.command, self.path, body=body, headers=headers)
        response = upstream.getresponse()
        payload = response.read()
        self.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        upstream.close()

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = do_PATCH = _forward


@contextmanager
def recording_proxy(upstream: str) -> Iterator[_Proxy]:
    proxy = _Proxy(upstream)
    thread = threading.Thread(target=proxy.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.shutdown()
        proxy.server_close()


def readme_operations(provider_prefix: str) -> set[str]:
    """The API operations the README's Permissions table lists for one provider row group."""
    from conftest import REPO

    text = (REPO / "README.md").read_text()
    section = text.split("## Permissions", 1)[1].split("\n## ", 1)[0]
    operations: set[str] = set()
    current = ""
    for line in section.splitlines():
        if not line.startswith("|") or line.startswith("|---") or "API operation" in line:
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        current = cells[0] or current
        if current.startswith(provider_prefix):
            operations.update(part.strip("` ") for part in cells[1].split(",") if "`" in part)
    return operations
