"""The Azure probe: picks a plane, runs it within the deadline, names where answers came from."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace

from gccheck.bucket_url import BucketLocation
from gccheck.model import BucketFacts, Settings, Unavailable, UnavailableKind
from gccheck.net import SDK_IMPORT_LOCK, Deadline, answers_from
from gccheck.probes.azure.answers import DATA, MGMT, Missing
from gccheck.probes.azure.credentials import (
    CachingCredential,
    TokenCredential,
    account_key,
    account_url,
    subscription_of,
)
from gccheck.probes.azure.data import BlobClients, probe_data
from gccheck.probes.azure.mgmt import DEFAULT_ARM, FACTS, probe_mgmt
from gccheck.probes.azure.transport import load_sdk
from gccheck.probes.interface import ProbeOptions

log = logging.getLogger(__name__)

_NO_KEY_NOR_SUBSCRIPTION = (
    "no way to read the blob service properties: give the account key (az://:<key>@account/"
    "container, AZURE_STORAGE_KEY or AZURE_STORAGE_CONNECTION_STRING) for the data plane, or "
    "a subscription (--azure-subscription or AZURE_SUBSCRIPTION_ID) for the management plane")


class Probe:
    """Reads blob soft delete on one plane; reuses credentials and data-plane clients.

    `credential`: the token credential for the management plane (default: azure-identity's
    DefaultAzureCredential, created on first use). `verify`: TLS verification for both planes
    (a CA bundle path; default True, which also honours REQUESTS_CA_BUNDLE).
    """

    def __init__(self, credential: TokenCredential | None = None,
                 verify: bool | str = True) -> None:
        self._credential = CachingCredential(credential) if credential is not None else None
        self._verify = verify
        self._blob_clients = BlobClients(verify)
        self._lock = threading.Lock()

    @staticmethod
    def choose_plane(bucket: BucketLocation, settings: Settings,
                     options: ProbeOptions) -> tuple[str | None, str]:
        """(plane, why it was chosen), or (None, why neither can run)."""
        key = account_key(bucket, settings)
        subscription = subscription_of(settings, options)
        if options.azure_plane in (MGMT, DATA):
            return options.azure_plane, "forced by --azure-plane"
        if key is not None:
            return DATA, f"account key from {key.origin}"
        if subscription:
            return MGMT, f"subscription {subscription}; no account key at hand"
        return None, _NO_KEY_NOR_SUBSCRIPTION

    def probe(self, bucket: BucketLocation, settings: Settings,
              options: ProbeOptions) -> BucketFacts:
        """What one plane says about the container's account (see the package docstring)."""
        plane, why = self.choose_plane(bucket, settings, options)
        if plane is None:
            return BucketFacts.unavailable(
                bucket.provider, Unavailable(UnavailableKind.NO_CREDENTIALS, why), facts=FACTS)
        load_sdk(plane, identity=self._credential is None)
        if plane == MGMT:
            with SDK_IMPORT_LOCK:  # DefaultAzureCredential imports its chain as it is built
                self._token_credential()
        # The deadline starts once the SDK is loaded: loading it is start-up (slow on a busy
        # machine), not waiting for Azure; getting a token and every request count.
        deadline = Deadline(options.timeout)
        name = "management (Azure Resource Manager)" if plane == MGMT else "data (Blob service)"
        note = f"plane: {name}, {why}"
        log.debug("Azure %s: %s", bucket.masked_url, note)
        try:
            if plane == MGMT:
                facts = probe_mgmt(self._token_credential(), self._verify, bucket, settings,
                                   options, deadline, note)
            else:
                facts = probe_data(self._blob_clients, bucket, settings, options, deadline,
                                   note)
        except Missing as missing:
            facts = BucketFacts(provider=bucket.provider, missing=True,
                                missing_reason=str(missing), notes=(note,))
        source = _answers_from(plane, bucket, settings, options)
        return replace(facts, notes=(source, *facts.notes)) if source else facts

    def _token_credential(self) -> TokenCredential:
        with self._lock:
            if self._credential is None:
                from azure.identity import DefaultAzureCredential

                self._credential = CachingCredential(DefaultAzureCredential())
            return self._credential


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
