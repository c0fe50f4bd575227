"""What Azure's answers mean: checks of 2xx answers, error classification, missing resources.

Both planes: a 2xx answer must be the document asked for (ARM's JSON resource or list, the
Blob service's StorageServiceProperties and x-ms-request-id), a redirect is never followed,
and every failure becomes an `Unavailable` fact in the words of `gccheck.net`.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from gccheck.model import DeleteProtection, SoftDelete, Unavailable, UnavailableKind
from gccheck.net import (
    Failure,
    MalformedAnswer,
    UnexpectedRedirect,
    classify_transport,
    looks_like_html,
    retry_after,
    server_text,
    strict_bool,
    timed_out_after,
    unavailable,
    whole_number,
    xml_bool,
)

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
_THROTTLED_CODES = frozenset({"ServerBusy", "TooManyRequests", "OperationTimedOut"})
NO_IDENTITY = ("no Azure credentials found for the management plane (az login, a managed or "
               "workload identity, or AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET)")


class Missing(Exception):
    """The account or container does not exist (message says which)."""


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
        if looks_like_html(body, response.headers.get("Content-Type", "")):
            raise MalformedAnswer("an HTML page, not the blob service properties")
        try:
            root = ET.fromstring(body)
        except ET.ParseError:
            raise MalformedAnswer("not well-formed XML (truncated?)") from None
        if root.tag.rsplit("}", 1)[-1] != "StorageServiceProperties":
            raise MalformedAnswer("an XML document that is not the blob service properties")
        # The answer feeds the blob soft delete fact only: an odd field makes it unknown.
        _check_delete_retention_xml(root)
    if not response.headers.get("x-ms-request-id"):
        raise MalformedAnswer("not an answer from the Blob service (no x-ms-request-id)")


# Azure's delete retention policies keep deleted blobs 1 to 365 days (Set Blob Service
# Properties, DeleteRetentionPolicy.Days; ARM's deleteRetentionPolicy.days, the same range).
RETENTION_DAYS = (1, 365)


def soft_delete(policy: Any, field: str) -> SoftDelete:
    """The blob soft delete fact from an SDK's DeleteRetentionPolicy model, typed strictly:
    `enabled` a boolean, `days` (when given) a whole number within RETENTION_DAYS; anything
    else is MalformedAnswer naming `field`, never a retention."""
    if policy is None:
        return SoftDelete(False, None)
    enabled = strict_bool(policy.enabled, f"{field}.enabled")
    if not enabled:
        return SoftDelete(False, None)
    if policy.days is None:
        return SoftDelete(True, None)
    return SoftDelete(True, float(whole_number(policy.days, f"{field}.days", *RETENTION_DAYS)))


def _check_delete_retention_xml(root: Any) -> None:
    """The raw StorageServiceProperties' DeleteRetentionPolicy, as the REST API documents it
    (`<Enabled>true|false</Enabled>`, `<Days>` 1..365): the SDK reads `TRUE` as true and
    `-5` as a retention."""
    def child(node: Any, name: str) -> Any:
        return next((c for c in node if c.tag.rsplit("}", 1)[-1] == name), None)

    policy = child(root, "DeleteRetentionPolicy")
    if policy is None:
        return
    enabled = child(policy, "Enabled")
    if enabled is not None:
        xml_bool(enabled.text, "DeleteRetentionPolicy.Enabled")
    days = child(policy, "Days")
    if days is not None:
        whole_number(days.text or "", "DeleteRetentionPolicy.Days", *RETENTION_DAYS, xml=True)


def check_arm_answer(response: Any) -> None:
    """Management plane: a 2xx must be an ARM resource (id + properties) or a list (value)."""
    status = response.status_code
    if 300 <= status < 400:
        raise UnexpectedRedirect(status)
    if not 200 <= status < 300:
        return
    body = response.body() or b""
    if looks_like_html(body, response.headers.get("Content-Type", "")):
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


def error_code(exc: Any) -> str:
    """The error code Azure sent (SDK field, error body or x-ms-error-code), neutralised."""
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


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of an azure-core error that carries one (retries look at it)."""
    from azure.core.exceptions import HttpResponseError, IncompleteReadError

    if isinstance(exc, HttpResponseError) and not isinstance(exc, IncompleteReadError):
        status = exc.status_code
        return status if isinstance(status, int) else None
    return None


def headers_of(exc: BaseException) -> Any:
    return getattr(getattr(exc, "response", None), "headers", None)


def _is_error_status(exc: BaseException) -> bool:
    """An HTTP error status, whatever its body (a proxy's 502 page is still a 502)."""
    status = getattr(exc, "status_code", None)
    return isinstance(status, int) and status >= 400


def classify(exc: BaseException, call: str, plane: str, endpoint: str,
             timeout: float, attempts: int = 1) -> Unavailable:
    """Turn an azure-core / azure-identity exception into a fact that says why."""
    from azure.core import exceptions as aex

    permission = PERMISSIONS.get(call) if plane == MGMT else None
    if isinstance(exc, UnexpectedRedirect):
        return unavailable(Failure.REDIRECT, endpoint, timeout, detail=f"HTTP {exc.status}")
    if isinstance(exc, MalformedAnswer):
        return unavailable(Failure.MALFORMED, endpoint, timeout, detail=str(exc))
    if isinstance(exc, aex.IncompleteReadError):
        return unavailable(Failure.TRUNCATED, endpoint, timeout)
    if isinstance(exc, aex.DecodeError) and not _is_error_status(exc):
        return unavailable(Failure.MALFORMED, endpoint, timeout)
    if isinstance(exc, aex.ClientAuthenticationError) and getattr(exc, "response", None) is None:
        # Raised before any request left: by the token credential, or while signing with a
        # key that is not base64.
        if plane == MGMT:
            return Unavailable(UnavailableKind.NO_CREDENTIALS, NO_IDENTITY)
        return Unavailable(UnavailableKind.NO_CREDENTIALS,
                           "the account key could not be used to sign requests (it must be the "
                           "base64 key from the portal or az storage account keys list)")
    if isinstance(exc, aex.HttpResponseError):
        return _http_error(exc, call, plane, endpoint, timeout, attempts, permission)
    if isinstance(exc, aex.ServiceRequestError) and (
            "non-TLS" in str(exc) or ("https" in str(exc).lower()
                                      and "bearer" in str(exc).lower())):
        return Unavailable(UnavailableKind.ERROR,
                           f"{endpoint} is not https: Azure tokens are only sent over TLS")
    failure = classify_transport(exc)  # refused, DNS, TLS, timeout, wherever azure-core wraps it
    if failure is not None:
        return unavailable(failure, endpoint, timeout)
    if isinstance(exc, aex.ServiceRequestError):
        return unavailable(Failure.REFUSED, endpoint, timeout)
    if isinstance(exc, aex.ServiceResponseError):
        return unavailable(Failure.BROKEN, endpoint, timeout)
    # A body the SDK could not parse (answers are checked first; this is the fallback).
    if isinstance(exc, json.JSONDecodeError | UnicodeDecodeError | aex.DeserializationError):
        return unavailable(Failure.MALFORMED, endpoint, timeout)
    return Unavailable(UnavailableKind.ERROR, f"{call} failed ({type(exc).__name__})")


def _http_error(exc: Any, call: str, plane: str, endpoint: str, timeout: float,
                attempts: int, permission: str | None) -> Unavailable:
    status = exc.status_code
    code = error_code(exc)
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
    wait = retry_after(headers_of(exc))
    detail = f"HTTP {status} {code}".rstrip() + (f", Retry-After {wait:g} s"
                                                 if wait is not None else "")
    if status == 429 or code in _THROTTLED_CODES:
        return unavailable(Failure.THROTTLED, endpoint, timeout, detail=detail, attempts=attempts)
    if status is not None and status >= 500:
        return unavailable(Failure.SERVER_ERROR, endpoint, timeout, detail=detail,
                           attempts=attempts)
    if status is not None and 300 <= status < 400:
        return unavailable(Failure.REDIRECT, endpoint, timeout, detail=f"HTTP {status}")
    return Unavailable(UnavailableKind.ERROR,
                       f"unexpected answer from {endpoint} (HTTP {status} {code})".rstrip())


def timed_out(failed: list[BaseException], call: str, plane: str, endpoint: str,
              timeout: float) -> Unavailable:
    """The deadline passed during a retry: say what the attempts got, not just "no answer"."""
    return timed_out_after(classify(failed[-1], call, plane, endpoint, timeout, len(failed)),
                           timeout)


def raise_if_missing(answer: Any, call: str, account: str, container: str,
                     group: str | None, subscription: str | None) -> None:
    """Raise Missing when `answer` is a 404 that says the account or container is absent."""
    from azure.core.exceptions import HttpResponseError

    if not isinstance(answer, HttpResponseError) or answer.status_code != 404:
        return
    code = error_code(answer)
    if code == "ContainerNotFound" or (call == "container" and code in ("", "ResourceNotFound")):
        raise Missing(f"container {container} does not exist in storage account {account}")
    if code == "ResourceGroupNotFound":
        raise Missing(f"resource group {group} does not exist in subscription {subscription}")
    if code in ("ResourceNotFound", "StorageAccountNotFound", "ParentResourceNotFound"):
        where = f" in resource group {group}" if group else ""
        raise Missing(f"storage account {account} does not exist{where}")


def on_off(enabled: Any, days: Any = None) -> str:
    if not enabled:
        return "off"
    return f"on ({days} days)" if days else "on"


def protection(has_policy: Any, has_hold: Any, version_level: Any) -> DeleteProtection:
    """The container's delete protection, from either plane's flags."""
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
