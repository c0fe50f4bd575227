"""Text and bodies from servers: neutralised, capped, and where they came from."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gccheck.masking import mask_url
from gccheck.net.failures import MAX_BODY, BodyTooLarge
from gccheck.net.proxies import proxy_for, via_proxy
from gccheck.neutral import neutralise


def answers_from(url: str, origin: str, *, botocore: bool = False) -> str:
    """The note that names where a bucket's answers came from, masked and neutralised, and
    the proxy the requests went through, if any (`botocore`: see `proxy_for`)."""
    return (f"answers from {neutralise(mask_url(url), 200)} ({neutralise(origin, 200)})"
            + via_proxy(proxy_for(url, botocore=botocore)))


# ---- bounded answers ---------------------------------------------------------------------


def read_capped(chunks: Iterable[bytes], limit: int = MAX_BODY) -> bytes:
    """The body from `chunks`, or BodyTooLarge as soon as it passes `limit` bytes."""
    body = bytearray()
    for chunk in chunks:
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge(limit)
    return bytes(body)


def declared_too_large(headers: Mapping[str, str], limit: int = MAX_BODY) -> bool:
    """Whether Content-Length already says the body is over `limit`."""
    try:
        return int(str(headers.get("Content-Length", "")).strip()) > limit
    except ValueError:
        return False


def cap_requests_body(response: Any, *args: Any, **kwargs: Any) -> Any:
    """A `requests` response hook: read the body now, at most MAX_BODY, before anyone else.

    Registered first on a session (GCS, and the Azure SDKs' transport), it runs before
    requests itself would read the whole body into memory; read errors keep requests' own
    exception types, as `Response.content` raises them.
    """
    if response._content is False:  # not read yet (requests' own marker)
        try:
            if declared_too_large(response.headers):
                raise BodyTooLarge()
            response._content = read_capped(response.iter_content(65536))
        except BodyTooLarge:
            response.close()  # the rest stays unread: the connection is not reused
            raise
        response._content_consumed = True
    return response
