"""Azure credentials and endpoints: the management plane's token, the data plane's key.

The account key (or SAS) W&B itself would use, found in the bucket URL, AZURE_STORAGE_KEY or a
connection string; the account's blob endpoint; the subscription; and wrappers around a token
credential (cache the token for the run, mark the stage while one is fetched).
"""

from __future__ import annotations

import ipaddress
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from gccheck.bucket_url import BucketLocation
from gccheck.model import Settings
from gccheck.probes.interface import ProbeOptions


class TokenCredential(Protocol):
    """What the management plane needs: azure-identity's credentials, or a test's own."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any: ...


class Stage:
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


class ObservedCredential:
    """Marks the stage while a token is fetched (DefaultAzureCredential can be slow)."""

    def __init__(self, inner: TokenCredential, stage: Stage) -> None:
        self._inner = inner
        self._stage = stage

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        self._stage.fetching(+1)
        try:
            return self._inner.get_token(*scopes, **kwargs)
        finally:
            self._stage.fetching(-1)


class CachingCredential:
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


def subscription_of(settings: Settings, options: ProbeOptions) -> str | None:
    """The subscription for the management plane: --azure-subscription, else the settings'."""
    value = options.azure_subscription or settings.get("AZURE_SUBSCRIPTION_ID")
    return value.strip() if value and value.strip() else None
