"""S3 on the wire: what botocore receives is bounded and checked before botocore parses it.

Each answer's body is read at once and at most MAX_BODY (botocore would read any body whole);
a 2xx answer must be a well-formed XML document, never an HTML page; a redirect from a custom
endpoint is an error; and what each attempt got is recorded, so that a timeout can say it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from gccheck.model import Unavailable, UnavailableKind
from gccheck.net import (
    BodyTooLarge,
    MalformedAnswer,
    UnexpectedRedirect,
    declared_too_large,
    looks_like_html,
    read_capped,
    server_text,
)

THROTTLED = {"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded",
             "TooManyRequests", "429"}


# Operations whose 2xx answer must be a well-formed XML document; anything else (a captive
# portal's HTML page, a truncated body) must not be read as "versioning never enabled".
_XML_ANSWERS = {"GetBucketVersioning", "GetBucketLifecycleConfiguration",
                "GetObjectLockConfiguration"}
# Per worker thread: what the attempts of the call in flight got, for timeout messages.
attempts_in_flight = threading.local()


def _require_xml_document(body: bytes, content_type: str) -> None:
    import xml.etree.ElementTree as ET

    if looks_like_html(body, content_type):
        raise MalformedAnswer("an HTML page, not an S3 document")
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        raise MalformedAnswer("not well-formed XML (truncated?)") from None
    if root.tag.rsplit("}", 1)[-1].lower() in ("html", "body"):
        raise MalformedAnswer("an HTML page, not an S3 document")


def _document_checker(custom_endpoint: bool) -> Callable[..., None]:
    def check(operation_model: Any, response_dict: dict[str, Any], **_: Any) -> None:
        status = response_dict.get("status_code", 0)
        if custom_endpoint and 300 <= status < 400:
            # botocore's region redirector would chase it with HEAD requests: stop here.
            raise UnexpectedRedirect(status)
        if operation_model.name in _XML_ANSWERS and 200 <= status < 300:
            _require_xml_document(response_dict.get("body") or b"",
                                  str(response_dict.get("headers", {}).get("content-type", "")))

    return check


def _record_attempt(attempts: int, response: Any = None, caught_exception: Any = None,
                    **_: Any) -> None:
    record: list[str] | None = getattr(attempts_in_flight, "record", None)
    if record is None:
        return
    if caught_exception is not None:
        record.append(type(caught_exception).__name__)
    elif response is not None:
        http, parsed = response
        code = server_text((parsed or {}).get("Error", {}).get("Code", ""))
        if http.status_code >= 300:
            record.append(f"HTTP {http.status_code} {code}".strip())


class _CappedHttpSession:
    """botocore's HTTP session, with each answer's body read at once and at most MAX_BODY.

    botocore would read any body whole (`AWSResponse.content`) before a handler sees it: an
    endless body would take all memory, a huge valid document seconds to parse.
    """

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def send(self, request: Any) -> Any:
        from botocore import exceptions as bex
        from urllib3 import exceptions as uex

        # Streamed, so that botocore's session leaves the body unread (it reads any other
        # answer whole); this operation's answer is still parsed from `content` below.
        request.stream_output = True
        response = self._inner.send(request)
        try:
            if declared_too_large(response.headers):
                raise BodyTooLarge()
            response._content = read_capped(response.raw.stream(65536, decode_content=True))
        except BodyTooLarge:
            response.raw.close()  # the rest stays unread: the connection is not reused
            raise
        except uex.ReadTimeoutError as exc:
            raise bex.ReadTimeoutError(endpoint_url=request.url, error=exc) from None
        except uex.ProtocolError:
            raise MalformedAnswer("truncated (the connection broke mid-body)") from None
        except uex.DecodeError:
            raise MalformedAnswer("a body that does not decode as its Content-Encoding "
                                  "says") from None
        return response


def _register_document_check(client: Any, custom_endpoint: bool) -> None:
    """Check answers before botocore's 200-error handler, which would turn a malformed answer
    into a retried "HTTP 500" and hide what was wrong."""
    from botocore import handlers

    events = client.meta.events
    builtin = getattr(handlers, "_handle_200_error", None)
    if builtin is not None:
        events.unregister("before-parse.s3.*", builtin)
    events.register_first("before-parse.s3.*", _document_checker(custom_endpoint))
    if builtin is not None:
        events.register_first("before-parse.s3.*", builtin)


def guard(client: Any, custom_endpoint: bool) -> None:
    """Bound and check every answer `client` gets, and record what each attempt got."""
    # botocore's HTTP session (a private attribute: no public hook runs before the body is
    # read) gets the capped reader.
    endpoint = client._endpoint
    endpoint.http_session = _CappedHttpSession(endpoint.http_session)
    _register_document_check(client, custom_endpoint)
    client.meta.events.register("needs-retry.s3.*", _record_attempt, unique_id="gccheck")


def timed_out(endpoint: str, timeout: float, seen: list[str]) -> Unavailable:
    """The deadline passed; say what the attempts so far got, if anything."""
    if not seen:
        return Unavailable(UnavailableKind.TIMEOUT, f"no answer from {endpoint} within {timeout:g} s")
    last = seen[-1]
    if any(code in last for code in THROTTLED):
        return Unavailable(UnavailableKind.UNREACHABLE, f"throttled by the endpoint ({last}); "
                                                        f"gave up after {timeout:g} s of retries")
    return Unavailable(UnavailableKind.TIMEOUT, f"no usable answer from {endpoint} within "
                                                f"{timeout:g} s (last attempt: {last})")
