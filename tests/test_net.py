"""gccheck.net, the one network layer, with a plain HTTP client (urllib) against real local
servers: what a Kubernetes or any other client gets from it, beside the probes."""

from __future__ import annotations

import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.faults import scripted_server
from support.ports import closed_port, silent_port

from gccheck.model import BucketFacts, Unavailable, UnavailableKind
from gccheck.net import (
    MAX_ATTEMPTS,
    MAX_BODY,
    BodyTooLarge,
    Deadline,
    Failure,
    classify_status,
    classify_transport,
    looks_like_html,
    next_wait,
    read_capped,
    retry_after,
    run_within,
    unavailable,
    with_retries,
)


def _get(url: str, timeout: float = 2.0, context: Any = None) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout, context=context) as answer:
        body: bytes = answer.read()
        return body


def _failure(url: str, **kwargs: Any) -> Failure | None:
    with pytest.raises(Exception) as raised:
        _get(url, **kwargs)
    return classify_transport(raised.value)


# ---- classification of real transport failures ----------------------------------------------


def test_refused_dns_tls_and_timeout_are_told_apart(tmp_path: Path) -> None:
    assert _failure(f"http://127.0.0.1:{closed_port()}/") is Failure.REFUSED
    assert _failure("http://gccheck-test.invalid:9/") is Failure.DNS
    with scripted_server(lambda *_: (200, {}, b"{}"), tls_dir=tmp_path) as server:
        assert _failure(server.url) is Failure.TLS  # a CA nobody trusts
    with silent_port() as port:
        assert _failure(f"http://127.0.0.1:{port}/", timeout=0.3) is Failure.TIMEOUT


@pytest.fixture
def cut_short() -> Iterator[str]:
    """A server that promises 4096 bytes, sends a few and hangs up."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)

    def serve() -> None:
        connection, _ = listener.accept()
        connection.recv(65536)
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 4096\r\n\r\n{\"kind\":")
        connection.close()

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    listener.close()


def test_a_body_cut_short_is_truncated(cut_short: str) -> None:
    assert _failure(cut_short) is Failure.TRUNCATED


def test_no_transport_failure_is_none() -> None:
    assert classify_transport(KeyError("a bug")) is None
    assert classify_transport(BodyTooLarge()) is Failure.MALFORMED


def test_statuses_and_pages() -> None:
    assert classify_status(429) is Failure.THROTTLED
    assert classify_status(503) is Failure.SERVER_ERROR
    assert classify_status(302) is Failure.REDIRECT
    assert classify_status(404) is None
    assert looks_like_html(b"  <!DOCTYPE html><html>", "application/json")
    assert looks_like_html(b"{}", "text/html; charset=utf-8")
    assert not looks_like_html(b'{"kind": "Deployment"}', "application/json")


def test_the_shared_wording() -> None:
    said = unavailable(Failure.THROTTLED, "https://api:6443", 5, detail="HTTP 429", attempts=3)
    assert said == Unavailable(UnavailableKind.UNREACHABLE,
                               "throttled by https://api:6443 (HTTP 429) after 3 attempts")
    assert unavailable(Failure.TIMEOUT, "x", 2.5).reason == "no answer from x within 2.5 s"
    assert unavailable(Failure.SERVER_ERROR, "x", 1, detail="HTTP 500",
                       attempts=None).reason == "server error from x (HTTP 500) after retries"


# ---- retries -------------------------------------------------------------------------------


@pytest.mark.parametrize("headers, seconds", [
    ({"Retry-After": "2"}, 2.0),
    ({"retry-after-ms": "1500"}, 1.5),
    ({"x-ms-retry-after-ms": "250"}, 0.25),
    ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, None),
    ({"Retry-After": "999999"}, None),
    ({}, None),
    (None, None),
])
def test_retry_after(headers: dict[str, str] | None, seconds: float | None) -> None:
    assert retry_after(headers) == seconds


def test_next_wait_is_bounded_by_status_attempts_and_deadline() -> None:
    deadline = Deadline(10)
    assert next_wait(404, 1, None, deadline) is None
    assert next_wait(503, 1, None, deadline) == pytest.approx(0.2)
    assert next_wait(503, 2, {"Retry-After": "1"}, deadline) == 1.0
    assert next_wait(503, MAX_ATTEMPTS, None, deadline) is None
    assert next_wait(429, 1, {"Retry-After": "30"}, deadline) is None  # past the deadline


def test_with_retries_retries_a_plain_client_within_the_deadline() -> None:
    answers = iter([503, 429, 200])

    def script(method: str, path: str, headers: dict[str, str]) -> Any:
        status = next(answers)
        return status, {"Retry-After": "0.1"}, b"{}"

    class Status(Exception):
        def __init__(self, error: urllib.error.HTTPError) -> None:
            self.status, self.headers = error.code, error.headers

    with scripted_server(script) as server:
        def call() -> bytes:
            try:
                return _get(server.url)
            except urllib.error.HTTPError as error:
                raise Status(error) from None

        failed: list[BaseException] = []
        waits: list[float] = []
        body = with_retries(call, Deadline(5), failed, lambda e: getattr(e, "status", None),
                            lambda e: getattr(e, "headers", None),
                            on_wait=lambda seconds, _: waits.append(seconds))()
    assert body == b"{}"
    assert [getattr(f, "status", None) for f in failed] == [503, 429]
    assert len(server.requests) == MAX_ATTEMPTS
    assert waits == [0.2, 0.4]  # the backoff, longer than Retry-After 0.1


# ---- bodies and facts -------------------------------------------------------------------------


def test_read_capped() -> None:
    assert read_capped([b"a" * 10, b"b"]) == b"a" * 10 + b"b"
    with pytest.raises(BodyTooLarge):
        read_capped(iter([b"x" * 65536] * (MAX_BODY // 65536 + 2)))


def test_every_fact_unavailable_is_built_in_one_place() -> None:
    why = Unavailable(UnavailableKind.TIMEOUT, "no answer")
    everything = BucketFacts.unavailable("aws", why, notes=("n",))
    assert (everything.versioning, everything.blob_soft_delete, everything.lifecycle,
            everything.delete_protection, everything.notes) == (why, why, why, why, ("n",))
    azure = BucketFacts.unavailable("azure", why, facts=("blob_soft_delete", "delete_protection"))
    assert azure.versioning is None and azure.blob_soft_delete is why
    with pytest.raises(ValueError):
        BucketFacts.unavailable("aws", why, facts=("versionning",))


def test_run_within_answers_raises_or_gives_up_at_the_deadline() -> None:
    assert run_within(lambda: 42, Deadline(5)) == 42
    with pytest.raises(KeyError):
        run_within(lambda: {}["missing"], Deadline(5))
    release = threading.Event()
    try:
        with pytest.raises(TimeoutError):
            run_within(lambda: release.wait(30), Deadline(0.2))  # a call that would hang
    finally:
        release.set()


def test_proxy_for_follows_the_http_clients_rules() -> None:
    from gccheck.net import Proxy, proxy_for

    proxy = "http://127.0.0.1:3128"
    assert proxy_for("http://minio.example:9000", {"HTTP_PROXY": proxy}) == \
        Proxy(proxy, "HTTP_PROXY")
    # lower case wins; https takes HTTPS_PROXY, else ALL_PROXY (not for botocore)
    assert proxy_for("http://m.example", {"HTTP_PROXY": "http://a:1", "http_proxy": proxy}) == \
        Proxy(proxy, "http_proxy")
    assert proxy_for("https://m.example", {"HTTP_PROXY": proxy}) is None
    assert proxy_for("https://m.example", {"all_proxy": proxy}) == Proxy(proxy, "all_proxy")
    assert proxy_for("https://m.example", {"ALL_PROXY": proxy}, botocore=True) is None
    # NO_PROXY: a domain suffix, host:port, '*', an address in a CIDR range
    for no_proxy in ("example", ".m.example", "m.example:9000", "*"):
        assert proxy_for("http://m.example:9000",
                         {"HTTP_PROXY": proxy, "NO_PROXY": no_proxy}) is None, no_proxy
    assert proxy_for("http://10.1.2.3:9000", {"HTTP_PROXY": proxy, "no_proxy": "10.0.0.0/8"}) \
        is None
    assert proxy_for("http://11.1.2.3:9000", {"HTTP_PROXY": proxy, "no_proxy": "10.0.0.0/8"}) \
        == Proxy(proxy, "HTTP_PROXY")
    # botocore knows no ranges: its requests to 10.1.2.3 go through the proxy
    assert proxy_for("http://10.1.2.3:9000", {"HTTP_PROXY": proxy, "no_proxy": "10.0.0.0/8"},
                     botocore=True) == Proxy(proxy, "HTTP_PROXY")
    assert proxy_for("http://10.1.2.3:9000", {"HTTP_PROXY": proxy, "no_proxy": "10.1.2.3"},
                     botocore=True) is None


def test_answers_from_names_the_proxy_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    from gccheck.net import answers_from

    monkeypatch.setenv("HTTPS_PROXY", "http://user:s3cretproxy@127.0.0.1:3128")
    monkeypatch.delenv("https_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    note = answers_from("https://storage.example", "--endpoint-url")
    assert note == ("answers from https://storage.example (--endpoint-url) via proxy "
                    "http://***:***@127.0.0.1:3128 (HTTPS_PROXY)"), note
