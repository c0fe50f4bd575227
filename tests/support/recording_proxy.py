"""A recording reverse proxy on 127.0.0.1: forwards every request to a real server and
remembers (method, path?query), so tests can prove what gccheck sends."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import urlsplit

from support.constants import REPO

# What the upstream sees as Host: "client" passes the client's Host (the proxy's address) on,
# as a request signature covering Host needs (S3's SigV4); "upstream" names the upstream,
# as a server that builds URLs or routes from Host needs (the GCS emulator, Azurite).
HostPolicy = Literal["client", "upstream"]


@dataclass
class RecordingProxy:
    """A reverse proxy in front of one upstream; `requests` lists (method, path with query)."""

    url: str
    requests: list[tuple[str, str]] = field(default_factory=list)


@contextmanager
def recording_proxy(upstream: str, *, host: HostPolicy) -> Iterator[RecordingProxy]:
    """Forward every request to `upstream` (http://host:port) and record it, then answer as
    the upstream did. Host follows `host`; everything else is passed through unchanged."""
    target = urlsplit(upstream)
    state = RecordingProxy(url="")

    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            state.requests.append((self.command, self.path))
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in ("connection", "proxy-connection")}
            if host == "upstream":
                headers = {k: v for k, v in headers.items() if k.lower() != "host"}
                headers["Host"] = target.netloc
            upstream_conn = http.client.HTTPConnection(target.hostname or "127.0.0.1",
                                                       target.port or 80, timeout=30)
            try:
                upstream_conn.request(self.command, self.path, body=body, headers=headers)
                answer = upstream_conn.getresponse()
                data = answer.read()
                self.send_response(answer.status, answer.reason)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
            finally:
                upstream_conn.close()

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _forward

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def readme_operations(provider_prefix: str) -> set[str]:
    """The API operations the README's Permissions table lists for one provider row group."""
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
