"""Azure Blob Storage: blob soft delete (the Blob service deleteRetentionPolicy).

Two ways to read it, both read-only:

* management plane (azure-mgmt-storage, a token from azure-identity's DefaultAzureCredential
  unless one is injected): list the subscription's storage accounts to find the account's
  resource group (skipped with --azure-resource-group), then GET blobServices/default and the
  container. Gives blob soft delete, blob versioning, container soft delete and the
  container's immutability policy / legal hold.
* data plane (azure-storage-blob with the account key, as W&B itself runs): Get Blob Service
  Properties and Get Container Properties. Gives blob soft delete and immutability.

Choice (unless --azure-plane forces one): an account key at hand -> data plane; else a
subscription -> management plane. SDKs are imported on first use.

Faults, on both planes: a 429 or 5xx is retried (at most 3 attempts per call, honouring
Retry-After, never past the deadline); a redirect is not followed; a 2xx answer must be the
document asked for (ARM's JSON resource or list, the Blob service's StorageServiceProperties
and x-ms-request-id), so a proxy's HTML page or a truncated body is `unknown`, never read as
"soft delete disabled".
"""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Any, Protocol
from urllib.parse import urlsplit

from gccheck.bucket_url import BucketLocation
from gccheck.model import (
    BucketFacts,
    DeleteProtection,
    Settings,
    SoftDelete,
    Unavailable,
    UnavailableKind,
)
from gccheck.probes.interface import ProbeOptions
from gccheck.probes.network import (
    MAX_ATTEMPTS,
    RETRIED_STATUS,
    SDK_IMPORT_LOCK,
    MalformedAnswer,
    UnexpectedRedirect,
    answers_from,
    cap_requests_body,
    is_dns_failure,
    read_fact,
    retry_wait,
    server_text,
)

log = logging.getLogger(__name__)
# The SDKs log some answers they cannot parse as warnings with a traceback; without --debug
# (no handler configured) Python would print those to stderr. --debug's handler still shows them.
logging.getLogger("azure").addHandler(logging.NullHandler())

MGMT = "mgmt"
DATA = "data"
# Management-plane call -> the Azure RBAC action it needs (named in `unknown` verdicts).
PERMISSIONS = {
    "list": "Microsoft.Storage/storageAccounts/read",
    "service": "Microsoft.Storage/storageAccounts/blobServices/read",
    "container": "Microsoft.Storage/storageAccounts/blobServices/containers/read",
}
# Data-plane call -> what an account SAS must grant for it (the account key allows everything).
SAS_GRANTS = {
    "service": "account SAS with ss=b, srt=s, sp=r",
    "container": "account SAS with ss=b, srt=c, sp=r",
}
# What the Blob service answers when a SAS does not cover a request.
_SAS_REFUSALS = frozenset({"AuthorizationPermissionMismatch", "AuthorizationResourceTypeMismatch",
                           "AuthorizationServiceMismatch"})
DEFAULT_ARM = "https://management.azure.com"
_THROTTLED_CODES = frozenset({"ServerBusy", "TooManyRequests", "OperationTimedOut"})
_NO_KEY_NOR_SUBSCRIPTION = (
    "no way to read the blob service properties: give the account key (az://:<key>@account/"
    "container, AZURE_STORAGE_KEY or AZURE_STORAGE_CONNECTION_STRING) for the data plane, or "
    "a subscription (--azure-subscription or AZURE_SUBSCRIPTION_ID) for the management plane")
_NO_IDENTITY = ("no Azure credentials found for the management plane (az login, a managed or "
                "workload identity, or AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET)")


class TokenCredential(Protocol):
    """What the management plane needs: azure-identity's credentials, or a test's own."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any: ...


class _Missing(Exception):
    """The account or container does not exist (message says which)."""


def _looks_like_html(body: bytes, content_type: str) -> bool:
    start = body.lstrip()[:200].lower()
    return "html" in content_type.lower() or start.startswith((b"<!doctype html", b"<html"))


def check_blob_answer(pipeline_response: Any) -> None:
    """Data plane raw_response_hook: runs before the SDK follows a redirect or parses a body.

    A 2xx must come from the Blob service (which always sends x-ms-request-id) and, for Get
    Blob Service Properties, be a StorageServiceProperties document.
    """
    import xml.etree.ElementTree as ET

    response = pipeline_response.http_response
    status = response.status_code
    if 300 <= status < 400:
        raise UnexpectedRedirect(status)
    if not 200 <= status < 300:
        return
    query = urlsplit(pipeline_response.http_request.url).query
    if "comp=properties" in query and "restype=service" in query:
        body = response.body() or b""
        if _looks_like_html(body, response.headers.get("Content-Type", "")):
            raise MalformedAnswer("an HTML page, not the blob service properties")
        try:
            root = ET.fromstring(body)
        except ET.ParseError:
            raise MalformedAnswer("not well-formed XML (truncated?)") from None
        if root.tag.rsplit("}", 1)[-1] != "StorageServiceProperties":
            raise MalformedAnswer("an XML document that is not the blob service properties")
    if not response.headers.get("x-ms-request-id"):
        raise MalformedAnswer("not an answer from the Blob service (no x-ms-request-id)")


def check_arm_answer(response: Any) -> None:
    """Management plane: a 2xx must be an ARM resource (id + properties) or a list (value)."""
    status = response.status_code
    if 300 <= status < 400:
        raise UnexpectedRedirect(status)
    if not 200 <= status < 300:
        return
    body = response.body() or b""
    if _looks_like_html(body, response.headers.get("Content-Type", "")):
        raise MalformedAnswer("an HTML page, not an Azure Resource Manager answer")
    try:
        document = json.loads(body)
    except ValueError:
        raise MalformedAnswer("not valid JSON (truncated?)") from None
    if not isinstance(document, dict) or not (
            isinstance(document.get("value"), list)
            or (isinstance(document.get("id"), str)
                and isinstance(document.get("properties"), dict))):
        raise MalformedAnswer("JSON that is not an Azure resource or list")


class _Stage:
    """What a call is doing, so a timeout can say what was slow.

    Token fetches are counted, not saved and restored: two calls may fetch at once.
    """

    def __init__(self, now: str) -> None:
        self.now = now
        self._fetching = 0
        self._lock = threading.Lock()

    def fetching(self, delta: int) -> None:
        with self._lock:
            self._fetching += delta

    def describe(self) -> str:
        with self._lock:
            return "getting an Azure access token" if self._fetching else self.now


class _ObservedCredential:
    """Marks the stage while a token is fetched (DefaultAzureCredential can be slow)."""

    def __init__(self, inner: TokenCredential, stage: _Stage) -> None:
        self._inner = inner
        self._stage = stage

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        self._stage.fetching(+1)
        try:
            return self._inner.get_token(*scopes, **kwargs)
        finally:
            self._stage.fetching(-1)


class _CachingCredential:
    """Keeps tokens for the run: some credentials (the Azure CLI one) fetch anew each time."""

    def __init__(self, inner: TokenCredential) -> None:
        self._inner = inner
        self._tokens: dict[tuple[str, ...], Any] = {}
        self._lock = threading.Lock()

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        with self._lock:
            token = self._tokens.get(scopes)
        if token is not None and token.expires_on - 300 > time.time() and not kwargs.get("claims"):
            return token
        token = self._inner.get_token(*scopes, **kwargs)
        with self._lock:
            self._tokens[scopes] = token
        return token


# ---- data plane: which key, which endpoint ---------------------------------------------------


@dataclass(frozen=True)
class AccountKey:
    """Shared key (or SAS) for the data plane, and where it came from (never the value)."""

    account: str
    key: str | None
    sas: str | None
    origin: str
    blob_endpoint: str | None = None  # from a connection string


def parse_connection_string(text: str) -> dict[str, str]:
    """Key=Value;... with case-insensitive keys; values may contain '=' (base64)."""
    parts: dict[str, str] = {}
    for piece in text.strip().split(";"):
        if "=" in piece:
            name, _, value = piece.partition("=")
            parts[name.strip().lower()] = value.strip()
    return parts


_DEV_ACCOUNT = "devstoreaccount1"


def account_key(bucket: BucketLocation, settings: Settings) -> AccountKey | None:
    """The key W&B would use: in the URL, AZURE_STORAGE_KEY, or a connection string."""
    account = bucket.account or ""
    if bucket.secret_key:
        return AccountKey(account, bucket.secret_key, None, "the bucket URL")
    key = settings.get("AZURE_STORAGE_KEY")
    if key and key.strip():
        return AccountKey(account, key.strip(), None, "AZURE_STORAGE_KEY")
    text = settings.get("AZURE_STORAGE_CONNECTION_STRING")
    if text and text.strip():
        parts = parse_connection_string(text)
        named = parts.get("accountname", _DEV_ACCOUNT if parts.get(
            "usedevelopmentstorage", "").lower() == "true" else "")
        if not named and parts.get("blobendpoint"):
            # A SAS connection string names no account: its blob endpoint does.
            named = _account_of_endpoint(parts["blobendpoint"])
        if named.lower() != account.lower():
            return None  # a connection string for another account: not W&B's key for this one
        endpoint = parts.get("blobendpoint")
        if not endpoint and parts.get("endpointsuffix"):
            scheme = parts.get("defaultendpointsprotocol", "https")
            endpoint = f"{scheme}://{account}.blob.{parts['endpointsuffix']}"
        sas = parts.get("sharedaccesssignature")
        if parts.get("accountkey") or sas:
            return AccountKey(account, parts.get("accountkey"), sas,
                              "AZURE_STORAGE_CONNECTION_STRING", endpoint)
    return None


def _is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


def _account_of_endpoint(endpoint: str) -> str:
    """The account a blob endpoint belongs to: the first path segment of a local (Azurite)
    endpoint, else the first DNS label (account.blob.core.windows.net)."""
    parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
    host = parts.hostname or ""
    if _is_local(host):
        return parts.path.strip("/").split("/")[0]
    return host.split(".")[0]


def account_url(account: str, endpoint: str | None) -> str:
    """The account's blob endpoint.

    `endpoint` may hold {account}; an IP or localhost endpoint without a path gets the account
    as its path (Azurite's form); anything else is the account's blob endpoint as is.
    """
    if not endpoint:
        return f"https://{account}.blob.core.windows.net"
    endpoint = endpoint.strip().rstrip("/")
    if "{account}" in endpoint:
        return endpoint.replace("{account}", account)
    if "://" not in endpoint:
        # A bare DNS suffix (blob.core.chinacloudapi.cn) or host:port.
        host = endpoint.split("/")[0].rsplit(":", 1)[0]
        if _is_local(host):
            endpoint = f"http://{endpoint}"
        else:
            return f"https://{account}.{endpoint}"
    parts = urlsplit(endpoint)
    if _is_local(parts.hostname or "") and not parts.path.strip("/"):
        return f"{endpoint}/{account}"
    return endpoint


# ---- error handling ----------------------------------------------------------------------


def _error_code(exc: Any) -> str:
    code = getattr(exc, "error_code", None)
    if not code:
        error = getattr(exc, "error", None)
        code = getattr(error, "code", None)
    if not code:
        response = getattr(exc, "response", None)
        headers = getattr(response, "headers", None) or {}
        code = headers.get("x-ms-error-code")
    # The storage SDK gives an enum member: its value is the code Azure sent.
    return server_text(getattr(code, "value", code) or "")


def retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked to wait (retry-after-ms, x-ms-retry-after-ms or Retry-After)."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    for name, scale in (("retry-after-ms", 0.001), ("x-ms-retry-after-ms", 0.001),
                        ("Retry-After", 1.0)):
        try:
            seconds = float(str(headers.get(name, "")).strip()) * scale
        except ValueError:
            continue  # absent, or an HTTP date: use the backoff
        if 0 <= seconds < 86400:
            return seconds
    return None


def _is_error_status(exc: BaseException) -> bool:
    """An HTTP error status, whatever its body (a proxy's 502 page is still a 502)."""
    status = getattr(exc, "status_code", None)
    return isinstance(status, int) and status >= 400


def _retryable(exc: BaseException) -> bool:
    from azure.core.exceptions import HttpResponseError, IncompleteReadError

    return (isinstance(exc, HttpResponseError) and not isinstance(exc, IncompleteReadError)
            and exc.status_code in RETRIED_STATUS)


def classify(exc: BaseException, call: str, plane: str, endpoint: str,
             timeout: float, attempts: int = 1) -> Unavailable:
    """Turn an azure-core / azure-identity exception into a fact that says why."""
    from azure.core import exceptions as aex

    permission = PERMISSIONS.get(call) if plane == MGMT else None
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    if isinstance(exc, UnexpectedRedirect):
        return Unavailable(UnavailableKind.ERROR,
                           f"unexpected redirect (HTTP {exc.status}) from {endpoint}, not "
                           "followed: is the endpoint right?")
    if isinstance(exc, MalformedAnswer):
        return Unavailable(UnavailableKind.ERROR, f"malformed answer from {endpoint}: {exc}")
    if isinstance(exc, aex.IncompleteReadError):
        return Unavailable(UnavailableKind.ERROR,
                           f"truncated answer from {endpoint} (the connection broke mid-body)")
    if isinstance(exc, aex.DecodeError) and not _is_error_status(exc):
        return Unavailable(UnavailableKind.ERROR, f"malformed answer from {endpoint}")
    if isinstance(exc, aex.ClientAuthenticationError) and getattr(exc, "response", None) is None:
        # Raised before any request left: by the token credential, or while signing with a
        # key that is not base64.
        if plane == MGMT:
            return Unavailable(UnavailableKind.NO_CREDENTIALS, _NO_IDENTITY)
        return Unavailable(UnavailableKind.NO_CREDENTIALS,
                           "the account key could not be used to sign requests (it must be the "
                           "base64 key from the portal or az storage account keys list)")
    if isinstance(exc, aex.HttpResponseError):
        status = exc.status_code
        code = _error_code(exc)
        # Azure answers a wrong key with AuthenticationFailed; Azurite with AuthorizationFailure;
        # both say "failed to authenticate".
        if plane == DATA and (code in ("AuthenticationFailed", "InvalidAuthenticationInfo")
                              or "failed to authenticate" in str(exc.message).lower()):
            return Unavailable(UnavailableKind.NO_CREDENTIALS,
                               f"the storage account rejected the account key ({code or status})")
        if status == 401:
            return Unavailable(UnavailableKind.NO_CREDENTIALS,
                               f"Azure rejected the access token ({code or 'HTTP 401'})")
        if status == 403:
            if plane == MGMT:
                return Unavailable(UnavailableKind.DENIED,
                                   f"access denied ({code or 'HTTP 403'}): {permission} is not "
                                   "allowed", permission)
            if code in _SAS_REFUSALS and call in SAS_GRANTS:
                return Unavailable(UnavailableKind.DENIED,
                                   f"the SAS does not allow this request ({code}): it needs an "
                                   f"{SAS_GRANTS[call]}", SAS_GRANTS[call])
            return Unavailable(UnavailableKind.DENIED,
                               f"the storage account refused the request ({code or 'HTTP 403'}): "
                               "a firewall or network rule, or a SAS without this permission?")
        wait = retry_after(exc)
        waited = f", Retry-After {wait:g} s" if wait is not None else ""
        if status == 429 or code in _THROTTLED_CODES:
            return Unavailable(UnavailableKind.UNREACHABLE,
                               f"throttled by {endpoint} (HTTP {status} {code}".rstrip()
                               + f"{waited}){tries}")
        if status is not None and status >= 500:
            return Unavailable(UnavailableKind.UNREACHABLE,
                               f"server error from {endpoint} (HTTP {status} {code}".rstrip()
                               + f"{waited}){tries}")
        if status is not None and 300 <= status < 400:
            return Unavailable(UnavailableKind.ERROR,
                               f"unexpected redirect (HTTP {status}) from {endpoint}, not "
                               "followed: is the endpoint right?")
        return Unavailable(UnavailableKind.ERROR,
                           f"unexpected answer from {endpoint} (HTTP {status} {code})".rstrip())
    if isinstance(exc, aex.ServiceRequestTimeoutError | aex.ServiceResponseTimeoutError):
        return Unavailable(UnavailableKind.TIMEOUT, f"no answer from {endpoint} within "
                                                    f"{timeout:g} s")
    if isinstance(exc, aex.ServiceRequestError):
        text = str(exc)
        if "non-TLS" in text or ("https" in text.lower() and "bearer" in text.lower()):
            return Unavailable(UnavailableKind.ERROR,
                               f"{endpoint} is not https: Azure tokens are only sent over TLS")
        if "SSL" in text or "CERTIFICATE" in text.upper():
            return Unavailable(UnavailableKind.UNREACHABLE,
                               f"TLS handshake with {endpoint} failed (certificate not trusted?)")
        if is_dns_failure(exc):
            return Unavailable(UnavailableKind.UNREACHABLE, f"DNS lookup failed for {endpoint}")
        if "timed out" in text.lower() or "timeout" in text.lower():
            return Unavailable(UnavailableKind.TIMEOUT,
                               f"no answer from {endpoint} within {timeout:g} s")
        return Unavailable(UnavailableKind.UNREACHABLE, f"could not connect to {endpoint}")
    if isinstance(exc, aex.ServiceResponseError):
        if "timed out" in str(exc).lower():
            return Unavailable(UnavailableKind.TIMEOUT,
                               f"no answer from {endpoint} within {timeout:g} s")
        return Unavailable(UnavailableKind.UNREACHABLE,
                           f"the connection to {endpoint} broke before an answer")
    # A body the SDK could not parse (answers are checked first; this is the fallback).
    if isinstance(exc, json.JSONDecodeError | UnicodeDecodeError | aex.DeserializationError):
        return Unavailable(UnavailableKind.ERROR, f"malformed answer from {endpoint}")
    return Unavailable(UnavailableKind.ERROR, f"{call} failed ({type(exc).__name__})")


# ---- facts -------------------------------------------------------------------------------


def _on_off(enabled: Any, days: Any = None) -> str:
    if not enabled:
        return "off"
    return f"on ({days} days)" if days else "on"


def _service_notes(service: Any) -> tuple[str, ...]:
    policy = service.container_delete_retention_policy
    return (f"blob versioning: {_on_off(service.is_versioning_enabled)}",
            "container soft delete: " + _on_off(policy is not None and policy.enabled,
                                                 policy.days if policy else None))


def _protection(has_policy: Any, has_hold: Any, version_level: Any) -> DeleteProtection:
    found = []
    if has_policy:
        found.append("container immutability policy")
    if has_hold:
        found.append("legal hold on the container")
    if version_level:
        found.append("version-level immutability enabled on the container")
    if found:
        return DeleteProtection(True, " and ".join(found))
    return DeleteProtection(False, "no immutability policy or legal hold on the container")


def _resource_group(resource_id: str) -> str | None:
    parts = resource_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    if "resourcegroups" in lowered:
        index = lowered.index("resourcegroups")
        if index + 1 < len(parts):
            return parts[index + 1]
    return None


class _Deadline:
    def __init__(self, timeout: float) -> None:
        self.end = time.monotonic() + timeout

    def left(self) -> float:
        return max(0.0, self.end - time.monotonic())


def _with_retries(call: Callable[[], Any], deadline: _Deadline,
                  failed: list[BaseException]) -> Callable[[], Any]:
    """`call`, retried on 429/5xx: at most MAX_ATTEMPTS, never waiting past the deadline.

    Failed attempts are appended to `failed`, so a timeout can say what they got.
    """
    def run() -> Any:
        while True:
            try:
                return call()
            except Exception as exc:
                if not _retryable(exc):
                    raise
                failed.append(exc)
                if len(failed) >= MAX_ATTEMPTS:
                    raise
                wait = retry_wait(len(failed), retry_after(exc))
                if wait >= deadline.left():  # an answer after the deadline is no answer
                    raise
                time.sleep(wait)

    return run


def _wait(future: Future[Any], deadline: _Deadline) -> Any:
    """The call's answer, or the exception it raised (TimeoutError at the deadline)."""
    try:
        return future.result(timeout=deadline.left())
    except TimeoutError:
        return TimeoutError()
    except BaseException as exc:
        return exc


def _transport(timeout: float, verify: bool | str) -> Any:
    """azure-core's requests transport, each answer's body read at once and at most MAX_BODY
    (azure-core would read any body whole before a policy or hook sees it)."""
    from azure.core.pipeline.transport import RequestsTransport

    transport = RequestsTransport(connection_timeout=timeout, read_timeout=timeout,
                                  connection_verify=verify)
    transport.open()  # builds its session, so that the hook goes first on it
    transport.session.hooks["response"].insert(0, cap_requests_body)
    return transport


def _arm_answer_check() -> Any:
    """A pipeline policy that runs check_arm_answer on every answer."""
    from azure.core.pipeline.policies import SansIOHTTPPolicy

    class ArmAnswerCheck(SansIOHTTPPolicy):  # type: ignore[type-arg]
        def on_response(self, request: Any, response: Any) -> None:
            check_arm_answer(response.http_response)

    return ArmAnswerCheck()


class Probe:
    """Reads blob soft delete on one plane; reuses credentials and data-plane clients.

    `credential`: the token credential for the management plane (default: azure-identity's
    DefaultAzureCredential, created on first use). `verify`: TLS verification for both planes
    (a CA bundle path; default True, which also honours REQUESTS_CA_BUNDLE).
    """

    def __init__(self, credential: TokenCredential | None = None,
                 verify: bool | str = True) -> None:
        self._credential = _CachingCredential(credential) if credential is not None else None
        self._verify = verify
        self._blob_clients: dict[tuple[Any, ...], Any] = {}
        self._lock = threading.Lock()

    # -- plane choice

    @staticmethod
    def choose_plane(bucket: BucketLocation, settings: Settings,
                     options: ProbeOptions) -> tuple[str | None, str]:
        """(plane, why it was chosen), or (None, why neither can run)."""
        key = account_key(bucket, settings)
        subscription = _subscription(settings, options)
        if options.azure_plane in (MGMT, DATA):
            return options.azure_plane, "forced by --azure-plane"
        if key is not None:
            return DATA, f"account key from {key.origin}"
        if subscription:
            return MGMT, f"subscription {subscription}; no account key at hand"
        return None, _NO_KEY_NOR_SUBSCRIPTION

    def probe(self, bucket: BucketLocation, settings: Settings,
              options: ProbeOptions) -> BucketFacts:
        plane, why = self.choose_plane(bucket, settings, options)
        if plane is None:
            return _unavailable(bucket, Unavailable(UnavailableKind.NO_CREDENTIALS, why))
        _load_sdk(plane, identity=self._credential is None)
        if plane == MGMT:
            with SDK_IMPORT_LOCK:  # DefaultAzureCredential imports its chain as it is built
                self._token_credential()
        # The deadline starts once the SDK is loaded: loading it is start-up (slow on a busy
        # machine), not waiting for Azure; getting a token and every request count.
        deadline = _Deadline(options.timeout)
        name = "management (Azure Resource Manager)" if plane == MGMT else "data (Blob service)"
        note = f"plane: {name}, {why}"
        log.debug("Azure %s: %s", bucket.masked_url, note)
        try:
            if plane == MGMT:
                facts = self._probe_mgmt(bucket, settings, options, deadline, note)
            else:
                facts = self._probe_data(bucket, settings, options, deadline, note)
        except _Missing as missing:
            facts = BucketFacts(provider=bucket.provider, missing=True,
                                missing_reason=str(missing), notes=(note,))
        source = _answers_from(plane, bucket, settings, options)
        return replace(facts, notes=(source, *facts.notes)) if source else facts

    # -- management plane

    def _token_credential(self) -> TokenCredential:
        with self._lock:
            if self._credential is None:
                from azure.identity import DefaultAzureCredential

                self._credential = _CachingCredential(DefaultAzureCredential())
            return self._credential

    def _mgmt_client(self, subscription: str, options: ProbeOptions, stage: _Stage) -> Any:
        from azure.core.pipeline import policies
        from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy, ARMHttpLoggingPolicy
        from azure.mgmt.storage import StorageManagementClient

        credential = _ObservedCredential(self._token_credential(), stage)
        base_url = (options.azure_arm_endpoint or DEFAULT_ARM).rstrip("/")
        scope = f"{base_url}/.default"
        # The SDK's default pipeline also holds a policy that registers resource providers (a
        # POST) on a 409: gccheck only reads, so it builds the pipeline without it. No retries:
        # the default policy retries a dead endpoint for many seconds.
        pipeline = [
            policies.RequestIdPolicy(),
            policies.HeadersPolicy(),
            policies.UserAgentPolicy(sdk_moniker="gccheck"),
            policies.ProxyPolicy(),
            policies.ContentDecodePolicy(),
            # Redirects are errors (see check_arm_answer); retries are gccheck's own.
            policies.RedirectPolicy(permit_redirects=False),
            policies.RetryPolicy(retry_total=0),
            ARMChallengeAuthenticationPolicy(credential, scope),
            policies.CustomHookPolicy(),
            policies.NetworkTraceLoggingPolicy(),
            policies.DistributedTracingPolicy(),
            policies.SensitiveHeaderCleanupPolicy(),
            ARMHttpLoggingPolicy(),
            _arm_answer_check(),  # last: sees each answer before the policies above
        ]
        return StorageManagementClient(credential, subscription, base_url=base_url,
                                       credential_scopes=[scope], policies=pipeline,
                                       transport=_transport(options.timeout, self._verify),
                                       retry_total=0, connection_timeout=options.timeout,
                                       read_timeout=options.timeout,
                                       connection_verify=self._verify)

    def _probe_mgmt(self, bucket: BucketLocation, settings: Settings, options: ProbeOptions,
                    deadline: _Deadline, plane_note: str) -> BucketFacts:
        account, container = bucket.account or "", bucket.bucket
        subscription = _subscription(settings, options)
        endpoint = (options.azure_arm_endpoint or DEFAULT_ARM).rstrip("/")
        if not subscription:
            return _unavailable(bucket, Unavailable(
                UnavailableKind.NO_CREDENTIALS, "the management plane needs the subscription: "
                "--azure-subscription or AZURE_SUBSCRIPTION_ID"), (plane_note,))
        stage = _Stage(f"waiting for {endpoint}")
        try:
            client = self._mgmt_client(subscription, options, stage)
        except Exception as exc:
            log.debug("creating the management client failed", exc_info=True)
            return _unavailable(bucket, classify(exc, "client", MGMT, endpoint, options.timeout),
                                (plane_note,))

        failed: dict[str, list[BaseException]] = {"list": [], "service": [], "container": []}

        def timed_out(call: str) -> Unavailable:
            if failed[call]:
                return _timed_out_after(failed[call], call, MGMT, endpoint, options.timeout)
            return Unavailable(UnavailableKind.TIMEOUT,
                               f"no answer within {options.timeout:g} s while {stage.describe()}")

        group = options.azure_resource_group or settings.get("AZURE_RESOURCE_GROUP")
        group_note = f"resource group: {group} (given)"
        if not group:
            def find() -> str | None:
                stage.now = f"listing the storage accounts of subscription {subscription}"
                for found in client.storage_accounts.list():
                    if (found.name or "").lower() == account.lower():
                        return _resource_group(found.id or "")
                # Issue 3 asks for `fail` here; a role scoped to one resource group would see
                # the same empty list, so the reason says how to tell the two apart.
                raise _Missing(f"storage account {account} does not exist in subscription "
                               f"{subscription}, or these credentials cannot see it (listing "
                               f"needs {PERMISSIONS['list']} on the subscription; "
                               "--azure-resource-group skips the listing)")

            answer = _wait(options.pool.submit(_with_retries(find, deadline, failed["list"])),
                           deadline)
            if isinstance(answer, _Missing):
                raise answer
            if isinstance(answer, TimeoutError):
                return _unavailable(bucket, timed_out("list"), (plane_note,))
            if isinstance(answer, BaseException):
                log.debug("listing storage accounts failed", exc_info=answer)
                failure = classify(answer, "list", MGMT, endpoint, options.timeout,
                                   max(1, len(failed["list"])))
                if failure.kind is UnavailableKind.DENIED:
                    failure = Unavailable(failure.kind, failure.reason + " (or pass "
                                          "--azure-resource-group to skip the search)",
                                          failure.permission)
                return _unavailable(bucket, failure, (plane_note,))
            if not answer:
                return _unavailable(bucket, Unavailable(
                    UnavailableKind.ERROR, f"no resource group in the id of account {account}"),
                    (plane_note,))
            group = str(answer)
            group_note = f"resource group: {server_text(group)} (found in the subscription)"
        stage.now = f"reading the blob service and container from {endpoint}"
        calls: dict[str, Callable[[], Any]] = {
            "service": lambda: client.blob_services.get_service_properties(group, account),
            "container": lambda: client.blob_containers.get(group, account, container),
        }
        futures = {name: options.pool.submit(_with_retries(fn, deadline, failed[name]))
                   for name, fn in calls.items()}
        answers = {name: _wait(future, deadline) for name, future in futures.items()}
        for name, answer in answers.items():
            _raise_if_missing(answer, name, account, container, group, subscription)

        def fact(name: str, parse: Callable[[Any], Any]) -> Any:
            answer = answers[name]
            if isinstance(answer, TimeoutError):
                return timed_out(name)
            if isinstance(answer, BaseException):
                log.debug("%s on %s failed", name, bucket.masked_url, exc_info=answer)
                return classify(answer, name, MGMT, endpoint, options.timeout,
                                max(1, len(failed[name])))
            return parse(answer)

        notes = [plane_note, group_note]
        service = answers["service"]
        if not isinstance(service, BaseException):
            extra = read_fact(lambda: _service_notes(service), f"blob service from {endpoint}")
            notes.extend(extra if isinstance(extra, tuple) else ())

        def soft_delete(answer: Any) -> SoftDelete:
            policy = answer.delete_retention_policy
            enabled = bool(policy is not None and policy.enabled)
            return SoftDelete(enabled, float(policy.days) if enabled and policy.days else None)

        def protection(answer: Any) -> DeleteProtection:
            worm = answer.immutable_storage_with_versioning
            return _protection(answer.has_immutability_policy, answer.has_legal_hold,
                               worm is not None and worm.enabled)

        # Each fact on its own: an odd answer to one call never erases another's verdict.
        return BucketFacts(
            provider=bucket.provider,
            blob_soft_delete=read_fact(lambda: fact("service", soft_delete),
                                       f"blob service from {endpoint}"),
            delete_protection=read_fact(lambda: fact("container", protection),
                                        f"container from {endpoint}"),
            notes=tuple(notes))

    # -- data plane

    def _blob_client(self, url: str, key: AccountKey, options: ProbeOptions) -> Any:
        cache_key = (url, key.account, key.key, key.sas, options.timeout)
        with self._lock:
            client = self._blob_clients.get(cache_key)
            if client is not None:
                return client
        credential: Any = ({"account_name": key.account, "account_key": key.key} if key.key
                           else key.sas)
        # retry_total=0: the storage SDK's retries would turn a dead endpoint into minutes
        # (gccheck retries itself, within the deadline). Redirects are errors, and every
        # answer is checked before the SDK reads it (check_blob_answer).
        from azure.storage.blob import BlobServiceClient

        client = BlobServiceClient(url, credential=credential, retry_total=0,
                                   transport=_transport(options.timeout, self._verify),
                                   connection_timeout=options.timeout,
                                   read_timeout=options.timeout,
                                   connection_verify=self._verify, permit_redirects=False,
                                   raw_response_hook=check_blob_answer)
        with self._lock:
            self._blob_clients.setdefault(cache_key, client)
            return self._blob_clients[cache_key]

    def _probe_data(self, bucket: BucketLocation, settings: Settings, options: ProbeOptions,
                    deadline: _Deadline, plane_note: str) -> BucketFacts:
        account, container = bucket.account or "", bucket.bucket
        key = account_key(bucket, settings)
        if key is None:
            return _unavailable(bucket, Unavailable(
                UnavailableKind.NO_CREDENTIALS,
                "the data plane needs the account key: az://:<key>@account/container, "
                "AZURE_STORAGE_KEY or AZURE_STORAGE_CONNECTION_STRING"), (plane_note,))
        url = account_url(account, options.azure_blob_endpoint or key.blob_endpoint)
        endpoint = url.split("?")[0]
        notes = (plane_note,
                 "blob versioning and container soft delete: not visible on the data plane "
                 "(--azure-plane mgmt shows them)")
        try:
            client = self._blob_client(url, key, options)
        except Exception as exc:
            log.debug("creating the blob client failed", exc_info=True)
            failure = classify(exc, "client", DATA, endpoint, options.timeout)
            if failure.kind is UnavailableKind.ERROR:
                failure = Unavailable(UnavailableKind.NO_CREDENTIALS,
                                      f"the account key from {key.origin} could not be used "
                                      f"({type(exc).__name__}): it must be base64")
            return _unavailable(bucket, failure, notes[:1])
        calls: dict[str, Callable[[], Any]] = {
            "service": client.get_service_properties,
            "container": lambda: client.get_container_client(container)
            .get_container_properties(),
        }
        failed: dict[str, list[BaseException]] = {name: [] for name in calls}
        futures = {name: options.pool.submit(_with_retries(fn, deadline, failed[name]))
                   for name, fn in calls.items()}
        answers = {name: _wait(future, deadline) for name, future in futures.items()}
        for name, answer in answers.items():
            _raise_if_missing(answer, name, account, container, None, None)

        def fact(name: str, parse: Callable[[Any], Any]) -> Any:
            answer = answers[name]
            if isinstance(answer, TimeoutError):
                if failed[name]:
                    return _timed_out_after(failed[name], name, DATA, endpoint,
                                            options.timeout)
                return Unavailable(UnavailableKind.TIMEOUT,
                                   f"no answer from {endpoint} within {options.timeout:g} s")
            if isinstance(answer, BaseException):
                log.debug("%s on %s failed", name, bucket.masked_url, exc_info=answer)
                return classify(answer, name, DATA, endpoint, options.timeout,
                                max(1, len(failed[name])))
            return parse(answer)

        def soft_delete(answer: Any) -> SoftDelete:
            policy = answer.get("delete_retention_policy")
            enabled = bool(policy is not None and policy.enabled)
            return SoftDelete(enabled, float(policy.days) if enabled and policy.days else None)

        def protection(answer: Any) -> DeleteProtection:
            return _protection(answer.has_immutability_policy, answer.has_legal_hold,
                               getattr(answer, "immutable_storage_with_versioning_enabled", False))

        # Each fact on its own: an odd answer to one call never erases another's verdict.
        return BucketFacts(
            provider=bucket.provider,
            blob_soft_delete=read_fact(lambda: fact("service", soft_delete),
                                       f"blob service properties from {endpoint}"),
            delete_protection=read_fact(lambda: fact("container", protection),
                                        f"container properties from {endpoint}"),
            notes=notes)


def _load_sdk(plane: str, identity: bool) -> None:
    """Everything a client needs, imported before the deadline starts and under the shared
    lock; building a client then imports nothing more (its transport is loaded lazily by
    azure-core otherwise), so no request waits on another thread's imports."""
    with SDK_IMPORT_LOCK:
        from azure.core.pipeline.transport import RequestsTransport  # noqa: F401

        if plane == MGMT:
            import azure.mgmt.core.policies
            import azure.mgmt.storage

            if identity:
                import azure.identity
        else:
            import azure.storage.blob  # noqa: F401


def _answers_from(plane: str, bucket: BucketLocation, settings: Settings,
                  options: ProbeOptions) -> str | None:
    """The note that names the endpoint the plane's answers come from, and who named it."""
    if plane == MGMT:
        if options.azure_arm_endpoint:
            return answers_from(options.azure_arm_endpoint.rstrip("/"), "--azure-arm-endpoint")
        return answers_from(DEFAULT_ARM, "Azure Resource Manager's endpoint")
    key = account_key(bucket, settings)
    if key is None:
        return None
    url = account_url(bucket.account or "", options.azure_blob_endpoint or key.blob_endpoint)
    if options.azure_blob_endpoint:
        origin = "--azure-blob-endpoint"
    elif key.blob_endpoint:
        origin = f"the endpoint in {key.origin}"
    else:
        origin = "the account's Azure endpoint"
    return answers_from(url.split("?")[0], origin)


def _subscription(settings: Settings, options: ProbeOptions) -> str | None:
    value = options.azure_subscription or settings.get("AZURE_SUBSCRIPTION_ID")
    return value.strip() if value and value.strip() else None


def _raise_if_missing(answer: Any, call: str, account: str, container: str,
                      group: str | None, subscription: str | None) -> None:
    from azure.core.exceptions import HttpResponseError

    if not isinstance(answer, HttpResponseError) or answer.status_code != 404:
        return
    code = _error_code(answer)
    if code == "ContainerNotFound" or (call == "container" and code in ("", "ResourceNotFound")):
        raise _Missing(f"container {container} does not exist in storage account {account}")
    if code == "ResourceGroupNotFound":
        raise _Missing(f"resource group {group} does not exist in subscription {subscription}")
    if code in ("ResourceNotFound", "StorageAccountNotFound", "ParentResourceNotFound"):
        where = f" in resource group {group}" if group else ""
        raise _Missing(f"storage account {account} does not exist{where}")


def _timed_out_after(failed: list[BaseException], call: str, plane: str, endpoint: str,
                     timeout: float) -> Unavailable:
    """The deadline passed during a retry: say what the attempts got, not just "no answer"."""
    said = classify(failed[-1], call, plane, endpoint, timeout, len(failed))
    return Unavailable(said.kind, f"{said.reason}; gave up at the {timeout:g} s deadline",
                       said.permission)


def _unavailable(bucket: BucketLocation, failure: Unavailable,
                 notes: tuple[str, ...] = ()) -> BucketFacts:
    return BucketFacts(provider=bucket.provider, blob_soft_delete=failure,
                       delete_protection=failure, notes=notes)
