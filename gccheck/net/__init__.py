"""The one network layer: deadlines, bounded retries, failure classification, bounded bodies.

Every probe (S3, GCS, Azure) uses it, and a plain HTTP client can too (the Kubernetes API
client is meant to): nothing here imports an SDK.

* `Deadline`: one wall-clock bound for a whole read, however many calls and retries it takes;
  `await_answer` waits for a submitted call until then, `run_within` runs one on its own thread.
* Retries: `RETRIED_STATUS` (429 and 5xx) only, at most `MAX_ATTEMPTS`, `retry_wait` apart
  (0.2 s, then 0.4 s, unless `retry_after(headers)` asks for longer), never waiting past the
  deadline (`next_wait`); `with_retries` wraps a call that raises for its status.
* Classification: `Failure` names what went wrong on the way (refused, DNS, TLS, timeout,
  throttled, 5xx, redirect, an HTML page instead of the API, malformed, truncated);
  `classify_transport(exc)` finds it in any exception chain (socket, ssl, urllib3, requests,
  http.client, SDK wrappers), `classify_status(status)` in a status code, and `unavailable()`
  turns it into the `Unavailable` fact with the wording every probe shares.
* Bodies: at most `MAX_BODY` bytes are read (`read_capped`, `cap_requests_body`); a longer
  answer is `BodyTooLarge`, a malformed answer.
* Text from servers: `server_text` (neutralised, cut), `answers_from` (the endpoint note).
* Proxies: `proxy_for(url)` decides, as the HTTP clients do, which proxy from the
  environment (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, minus NO_PROXY) a request to `url` goes
  through; `answers_from` and the Kubernetes client name it.
"""

from gccheck.net.bodies import answers_from, cap_requests_body, declared_too_large, read_capped
from gccheck.net.deadline import SDK_IMPORT_LOCK, Deadline, await_answer, run_within
from gccheck.net.failures import (
    MAX_BODY,
    SERVER_TEXT_LIMIT,
    BodyTooLarge,
    Failure,
    MalformedAnswer,
    UnexpectedRedirect,
    classify_status,
    classify_transport,
    is_dns_failure,
    looks_like_html,
    read_fact,
    server_text,
    strict_bool,
    timed_out_after,
    unavailable,
    whole_number,
    xml_bool,
)
from gccheck.net.proxies import Proxy, proxy_for, via_proxy
from gccheck.net.retries import (
    BACKOFF,
    MAX_ATTEMPTS,
    RETRIED_STATUS,
    next_wait,
    retry_after,
    retry_wait,
    with_retries,
)

__all__ = [
    'BACKOFF', 'MAX_ATTEMPTS', 'MAX_BODY', 'RETRIED_STATUS', 'SDK_IMPORT_LOCK', 'SERVER_TEXT_LIMIT',
    'BodyTooLarge', 'Deadline', 'Failure', 'MalformedAnswer', 'Proxy', 'UnexpectedRedirect',
    'answers_from', 'await_answer', 'cap_requests_body', 'classify_status', 'classify_transport',
    'declared_too_large', 'is_dns_failure', 'looks_like_html', 'next_wait', 'proxy_for',
    'read_capped', 'read_fact', 'retry_after', 'retry_wait', 'run_within', 'server_text',
    'strict_bool', 'timed_out_after', 'unavailable', 'via_proxy', 'whole_number', 'with_retries',
    'xml_bool',
]
