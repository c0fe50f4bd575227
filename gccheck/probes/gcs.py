"""Google Cloud Storage through google-cloud-storage.

One read-only call, the bucket GET (`storage.buckets.get`), gives every fact: versioning,
lifecycle rules, the retention policy, the default event-based hold and the soft delete
policy. The SDK is imported on first use.

Faults: a 429 or 5xx is retried (at most 3 attempts, honouring Retry-After, never past the
deadline); a redirect is not followed; a 2xx answer must be a bucket resource, so a proxy's
HTML page or a truncated body is `unknown`, never read as "versioning disabled".

Credentials: the service account key in the URL (gs://EMAIL:URL-ENCODED-PEM@bucket), else
GOOGLE_APPLICATION_CREDENTIALS from the settings source, else Application Default
Credentials. Endpoint: --endpoint-url, else STORAGE_EMULATOR_HOST (settings, then process
environment), with anonymous credentials as the SDK does for emulators.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass, replace
from typing import Any

from gccheck.bucket_url import BucketLocation
from gccheck.model import (
    BucketFacts,
    Settings,
    Unavailable,
    UnavailableKind,
)
from gccheck.net import (
    SDK_IMPORT_LOCK,
    Deadline,
    Failure,
    MalformedAnswer,
    UnexpectedRedirect,
    answers_from,
    await_answer,
    cap_requests_body,
    classify_transport,
    looks_like_html,
    read_fact,
    retry_after,
    timed_out_after,
    unavailable,
    with_retries,
)
from gccheck.probes.gcs_answers import bucket_notes, lifecycle_facts, retention_facts, versioning_state
from gccheck.probes.interface import ProbeOptions

log = logging.getLogger(__name__)
# Without --debug (no handler configured) Python would print the SDKs' warnings to stderr;
# --debug's handler still shows them.
logging.getLogger("google").addHandler(logging.NullHandler())

# The facts GCS has (no blob soft delete).
FACTS = ("versioning", "lifecycle", "delete_protection")
PERMISSION = "storage.buckets.get"
READ_ONLY_SCOPE = "https://www.googleapis.com/auth/devstorage.read_only"
DEFAULT_ENDPOINT = "https://storage.googleapis.com"
_NO_CREDENTIALS = ("no Google credentials found (a key in the bucket URL, "
                   "GOOGLE_APPLICATION_CREDENTIALS, workload identity, or "
                   "gcloud auth application-default login)")

# Conditions that only noncurrent versions can meet: a rule that has one cannot delete
# live objects (conditions in one GCS rule are ANDed).
_NONCURRENT_ONLY = ("daysSinceNoncurrentTime", "noncurrentTimeBefore", "numNewerVersions")


class _Missing(Exception):
    """The bucket does not exist."""


class _BadCredentials(Exception):
    """Credentials were given but cannot be used; the message never quotes them."""


def check_answer(response: Any, *args: Any, **kwargs: Any) -> Any:
    """A requests response hook: stop redirects and answers that are not a bucket.

    Runs before requests follows a redirect and before the SDK parses the body.
    """
    status = response.status_code
    if 300 <= status < 400:
        raise UnexpectedRedirect(status)
    if 200 <= status < 300:
        _require_bucket_resource(response.content, response.headers.get("Content-Type", ""))
    return response


def _require_bucket_resource(body: bytes, content_type: str) -> None:
    if looks_like_html(body, content_type):
        raise MalformedAnswer("an HTML page, not a GCS bucket resource")
    try:
        document = json.loads(body)
    except ValueError:
        raise MalformedAnswer("not valid JSON (truncated?)") from None
    if not isinstance(document, dict) or document.get("kind") != "storage#bucket":
        raise MalformedAnswer("JSON that is not a GCS bucket resource (no kind storage#bucket)")


@dataclass(frozen=True)
class _Endpoint:
    url: str | None  # None: Google's (storage.googleapis.com)
    emulator: bool  # STORAGE_EMULATOR_HOST: anonymous unless the URL holds a key
    origin: str = "Google's endpoint"  # who named it, for the report

    @property
    def label(self) -> str:
        return self.url or DEFAULT_ENDPOINT


def _endpoint(bucket: BucketLocation, settings: Settings) -> _Endpoint:
    if bucket.endpoint_url:
        return _Endpoint(_with_scheme(bucket.endpoint_url), emulator=False,
                         origin="--endpoint-url")
    setting = settings.values.get("STORAGE_EMULATOR_HOST")
    if setting is not None and setting.value and setting.value.strip():
        return _Endpoint(_with_scheme(setting.value.strip()), emulator=True,
                         origin=f"STORAGE_EMULATOR_HOST from {setting.origin}")
    # The emulator's variable keeps working from the shell too (named in the report).
    emulator = os.environ.get("STORAGE_EMULATOR_HOST")
    if emulator and emulator.strip():
        return _Endpoint(_with_scheme(emulator.strip()), emulator=True,
                         origin="STORAGE_EMULATOR_HOST from the process environment")
    return _Endpoint(None, emulator=False)


def _with_scheme(url: str) -> str:
    # STORAGE_EMULATOR_HOST is often given as host:port.
    url = url.rstrip("/")
    return url if "://" in url else f"http://{url}"


class _Stage:
    """What the worker is doing, so a timeout can say what was slow."""

    def __init__(self) -> None:
        self.now = "starting"


def classify(exc: BaseException, endpoint: str, timeout: float,
             attempts: int = 1) -> Unavailable:
    """Turn an SDK, google-auth or requests exception into a fact that says why."""
    import requests
    from google.api_core import exceptions as gex
    from google.auth import exceptions as aex

    if isinstance(exc, UnexpectedRedirect | requests.exceptions.TooManyRedirects):
        status = getattr(exc, "status", None)
        return unavailable(Failure.REDIRECT, endpoint, timeout,
                           detail=f"HTTP {status}" if status else "")
    if isinstance(exc, MalformedAnswer):
        return unavailable(Failure.MALFORMED, endpoint, timeout, detail=str(exc))
    if isinstance(exc, requests.exceptions.ChunkedEncodingError
                  | requests.exceptions.ContentDecodingError):
        return unavailable(Failure.MALFORMED, endpoint, timeout,
                           detail="truncated (the connection broke mid-body)")
    if isinstance(exc, gex.Forbidden):
        return Unavailable(UnavailableKind.DENIED,
                           f"access denied: {PERMISSION} is not allowed on this bucket (GCS "
                           "also answers 403 for a bucket that does not exist)", PERMISSION)
    if isinstance(exc, gex.Unauthorized):
        return Unavailable(UnavailableKind.NO_CREDENTIALS,
                           "the request was not authenticated (HTTP 401): the credentials "
                           "are missing, expired or rejected")
    if isinstance(exc, gex.GoogleAPICallError):
        asked = retry_after(getattr(getattr(exc, "response", None), "headers", None))
        detail = f"HTTP {exc.code}" + (f", Retry-After {asked:g} s" if asked is not None else "")
        failure = (Failure.THROTTLED if isinstance(exc, gex.TooManyRequests)
                   else Failure.SERVER_ERROR if isinstance(exc, gex.ServerError) else None)
        if failure is not None:
            return unavailable(failure, endpoint, timeout, detail=detail, attempts=attempts)
        return Unavailable(UnavailableKind.ERROR,
                           f"unexpected answer from {endpoint} (HTTP {exc.code})")
    if isinstance(exc, aex.DefaultCredentialsError):
        return Unavailable(UnavailableKind.NO_CREDENTIALS, _NO_CREDENTIALS)
    if isinstance(exc, aex.RefreshError):
        return Unavailable(UnavailableKind.NO_CREDENTIALS,
                           "getting a Google access token failed: the service account key "
                           "was rejected or the token endpoint could not be reached")
    if isinstance(exc, aex.TransportError):
        return Unavailable(UnavailableKind.UNREACHABLE,
                           "could not reach Google's token or metadata endpoint")
    if isinstance(exc, _BadCredentials):
        return Unavailable(UnavailableKind.NO_CREDENTIALS, str(exc))
    failure = classify_transport(exc)  # refused, DNS, TLS, timeout, wherever requests wraps it
    if failure is not None:
        return unavailable(failure, endpoint, timeout)
    if isinstance(exc, requests.exceptions.ConnectionError):
        return unavailable(Failure.REFUSED, endpoint, timeout)
    if isinstance(exc, json.JSONDecodeError):  # a body the SDK could not parse
        return unavailable(Failure.MALFORMED, endpoint, timeout)
    return Unavailable(UnavailableKind.ERROR,
                       f"reading the bucket failed ({type(exc).__name__})")


def _status(exc: BaseException) -> int | None:
    code = getattr(exc, "code", None)
    return code if isinstance(code, int) else None


def _headers(exc: BaseException) -> Any:
    return getattr(getattr(exc, "response", None), "headers", None)


class Probe:
    """Reads a GCS bucket's metadata; reuses clients across targets."""

    def __init__(self) -> None:
        self._clients: dict[tuple[Any, ...], Any] = {}
        self._lock = threading.Lock()

    def _credentials(self, bucket: BucketLocation, settings: Settings,
                     endpoint: _Endpoint) -> Any:
        """Credentials for this bucket, or None to let the SDK choose (emulator: anonymous)."""
        if bucket.access_key and bucket.secret_key:
            from google.oauth2 import service_account

            info = {"type": "service_account", "client_email": bucket.access_key,
                    "private_key": bucket.secret_key,
                    "token_uri": "https://oauth2.googleapis.com/token"}
            try:
                return service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                    info, scopes=[READ_ONLY_SCOPE])
            except Exception as exc:  # never quote the message: it may hold the key
                raise _BadCredentials(
                    "the service account key in the bucket URL could not be read "
                    f"({type(exc).__name__}): it must be the service account's PEM private "
                    "key, URL-encoded, after the client email and a colon") from None
        if endpoint.emulator:
            from google.auth.credentials import AnonymousCredentials

            return AnonymousCredentials()  # type: ignore[no-untyped-call]
        import google.auth

        key_file = settings.get("GOOGLE_APPLICATION_CREDENTIALS")
        if key_file and key_file.strip() and os.path.isfile(key_file.strip()):
            try:
                credentials, _project = google.auth.load_credentials_from_file(  # type: ignore[no-untyped-call]
                    key_file.strip(), scopes=[READ_ONLY_SCOPE])
            except Exception as exc:
                raise _BadCredentials("the GOOGLE_APPLICATION_CREDENTIALS file could not be "
                                      f"used ({type(exc).__name__})") from None
            return credentials
        credentials, _project = google.auth.default(scopes=[READ_ONLY_SCOPE])
        return credentials

    def _client(self, bucket: BucketLocation, settings: Settings, endpoint: _Endpoint) -> Any:
        key = (endpoint, bucket.access_key, bucket.secret_key,
               settings.get("GOOGLE_APPLICATION_CREDENTIALS"))
        with self._lock:
            client = self._clients.get(key)
        if client is not None:
            return client
        import requests
        from google.auth.transport.requests import AuthorizedSession, Request
        from google.cloud import storage

        credentials = self._credentials(bucket, settings, endpoint)
        log.debug("GCS client: endpoint %s, credentials %s", endpoint.url or DEFAULT_ENDPOINT,
                  type(credentials).__name__)
        # Always explicit: the SDK would otherwise read STORAGE_EMULATOR_HOST or
        # API_ENDPOINT_OVERRIDE from the process environment itself, behind the report's back.
        options = {"api_endpoint": endpoint.label}
        # Our own session, so that answers are checked before the SDK reads them and a
        # redirect (to another host, or to a login page) is never followed.
        # Token requests too (a key file's token_uri may point anywhere) read bounded bodies.
        token_session = requests.Session()
        token_session.hooks["response"].insert(0, cap_requests_body)
        session = AuthorizedSession(  # type: ignore[no-untyped-call]
            credentials, auth_request=Request(token_session))
        session.max_redirects = 0
        # First the body, capped, before requests would read it whole; then its check.
        session.hooks["response"][:0] = [cap_requests_body, check_answer]
        # project=None: a bucket GET needs no project, and looking one up may touch the network.
        client = storage.Client(project=None, credentials=credentials, client_options=options,
                                _http=session)
        with self._lock:
            self._clients.setdefault(key, client)
            return self._clients[key]

    def probe(self, bucket: BucketLocation, settings: Settings,
              options: ProbeOptions) -> BucketFacts:
        endpoint = _endpoint(bucket, settings)
        facts = self._probe(bucket, settings, options, endpoint)
        return replace(facts, notes=(answers_from(endpoint.label, endpoint.origin),
                                     *facts.notes))

    def _probe(self, bucket: BucketLocation, settings: Settings, options: ProbeOptions,
               endpoint: _Endpoint) -> BucketFacts:
        # The deadline starts once the SDK is loaded: loading it is start-up (slow on a busy
        # machine), not waiting for Google; finding credentials and the request count.
        with SDK_IMPORT_LOCK:
            import google.auth.transport.requests
            import google.cloud.storage  # noqa: F401

        deadline = Deadline(options.timeout)
        stage = _Stage()
        attempts: list[BaseException] = []  # the retried attempts of the call, for messages

        def get_bucket() -> Any:
            from google.api_core import exceptions as gex

            stage.now = "looking for Google credentials"
            client = self._client(bucket, settings, endpoint)
            stage.now = f"waiting for {endpoint.label}"
            try:
                # retry=None: the SDK's default policy can spend minutes on a dead endpoint;
                # gccheck retries instead, bounded by attempts and the deadline.
                return client.get_bucket(bucket.bucket,
                                         timeout=(options.timeout, options.timeout), retry=None)
            except gex.NotFound:
                raise _Missing() from None

        def waiting(seconds: float, failure: BaseException) -> None:
            stage.now = (f"waiting {seconds:g} s to retry {endpoint.label} (attempt "
                         f"{len(attempts)} got HTTP {_status(failure)})")

        future = options.pool.submit(with_retries(get_bucket, deadline, attempts, _status,
                                                  _headers, waiting))
        answer = await_answer(future, deadline)
        if isinstance(answer, _Missing):
            return BucketFacts(provider=bucket.provider, missing=True,
                               missing_reason=f"bucket {bucket.bucket} does not exist"
                               + (f" at {endpoint.url}" if endpoint.url else ""))
        if isinstance(answer, TimeoutError):
            failure = Unavailable(UnavailableKind.TIMEOUT,
                                  f"no answer within {options.timeout:g} s while {stage.now}")
            if attempts:
                failure = timed_out_after(classify(attempts[-1], endpoint.label,
                                                   options.timeout, len(attempts)),
                                          options.timeout)
            return BucketFacts.unavailable(bucket.provider, failure, facts=FACTS)
        if isinstance(answer, BaseException):
            log.debug("GCS bucket GET for %s failed", bucket.masked_url, exc_info=answer)
            return BucketFacts.unavailable(
                bucket.provider, classify(answer, endpoint.label, options.timeout,
                                          max(1, len(attempts))), facts=FACTS)
        # Each fact on its own: an odd field never erases another fact's verdict.
        where = f"the bucket resource from {endpoint.label}"
        notes = read_fact(lambda: bucket_notes(answer), where)
        return BucketFacts(
            provider=bucket.provider,
            versioning=read_fact(lambda: versioning_state(answer), where),
            lifecycle=read_fact(lambda: lifecycle_facts(answer), where),
            delete_protection=read_fact(lambda: retention_facts(answer), where),
            notes=notes if isinstance(notes, tuple) else ())
