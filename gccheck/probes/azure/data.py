"""The data plane (azure-storage-blob with the account key or a SAS, as W&B itself runs).

Get Blob Service Properties and Get Container Properties: blob soft delete and the container's
immutability. Blob versioning and container soft delete are not visible here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from gccheck.bucket_url import BucketLocation
from gccheck.model import BucketFacts, DeleteProtection, Settings, SoftDelete, Unavailable
from gccheck.model import UnavailableKind as Kind
from gccheck.net import Deadline, await_answer, read_fact
from gccheck.probes.azure.answers import (
    DATA,
    check_blob_answer,
    classify,
    protection,
    raise_if_missing,
    soft_delete,
    timed_out,
)
from gccheck.probes.azure.credentials import AccountKey, account_key, account_url
from gccheck.probes.azure.transport import submit, transport
from gccheck.probes.interface import ProbeOptions

log = logging.getLogger(__name__)

FACTS = ("blob_soft_delete", "delete_protection")


class BlobClients:
    """BlobServiceClients for the run, one per endpoint, key and timeout."""

    def __init__(self, verify: bool | str) -> None:
        self._verify = verify
        self._clients: dict[tuple[Any, ...], Any] = {}
        self._lock = threading.Lock()

    def get(self, url: str, key: AccountKey, options: ProbeOptions) -> Any:
        cache_key = (url, key.account, key.key, key.sas, options.timeout)
        with self._lock:
            client = self._clients.get(cache_key)
            if client is not None:
                return client
        credential: Any = ({"account_name": key.account, "account_key": key.key} if key.key
                           else key.sas)
        # retry_total=0: the storage SDK's retries would turn a dead endpoint into minutes
        # (gccheck retries itself, within the deadline). Redirects are errors, and every
        # answer is checked before the SDK reads it (check_blob_answer).
        from azure.storage.blob import BlobServiceClient

        client = BlobServiceClient(url, credential=credential, retry_total=0,
                                   transport=transport(options.timeout, self._verify),
                                   connection_timeout=options.timeout,
                                   read_timeout=options.timeout,
                                   connection_verify=self._verify, permit_redirects=False,
                                   raw_response_hook=check_blob_answer)
        with self._lock:
            self._clients.setdefault(cache_key, client)
            return self._clients[cache_key]


def _soft_delete(answer: Any) -> SoftDelete:
    return soft_delete(answer.get("delete_retention_policy"), "DeleteRetentionPolicy")


def _protection(answer: Any) -> DeleteProtection:
    return protection(answer.has_immutability_policy, answer.has_legal_hold,
                      getattr(answer, "immutable_storage_with_versioning_enabled", False))


def probe_data(clients: BlobClients, bucket: BucketLocation, settings: Settings,
               options: ProbeOptions, deadline: Deadline, plane_note: str) -> BucketFacts:
    """Blob soft delete and the container's protection, read with the account key."""
    account, container = bucket.account or "", bucket.bucket
    key = account_key(bucket, settings)
    if key is None:
        return BucketFacts.unavailable(bucket.provider, Unavailable(
            Kind.NO_CREDENTIALS,
            "the data plane needs the account key: az://:<key>@account/container, "
            "AZURE_STORAGE_KEY or AZURE_STORAGE_CONNECTION_STRING"), notes=(plane_note,),
            facts=FACTS)
    url = account_url(account, options.azure_blob_endpoint or key.blob_endpoint)
    endpoint = url.split("?")[0]
    notes = (plane_note,
             "blob versioning and container soft delete: not visible on the data plane "
             "(--azure-plane mgmt shows them)")
    try:
        client = clients.get(url, key, options)
    except Exception as exc:
        log.debug("creating the blob client failed", exc_info=True)
        failure = classify(exc, "client", DATA, endpoint, options.timeout)
        if failure.kind is Kind.ERROR:
            failure = Unavailable(Kind.NO_CREDENTIALS,
                                  f"the account key from {key.origin} could not be used "
                                  f"({type(exc).__name__}): it must be base64")
        return BucketFacts.unavailable(bucket.provider, failure, notes=notes[:1], facts=FACTS)
    calls: dict[str, Callable[[], Any]] = {
        "service": client.get_service_properties,
        "container": lambda: client.get_container_client(container).get_container_properties(),
    }
    failed: dict[str, list[BaseException]] = {name: [] for name in calls}
    futures = {name: submit(options, fn, deadline, failed[name]) for name, fn in calls.items()}
    answers = {name: await_answer(future, deadline) for name, future in futures.items()}
    for name, answer in answers.items():
        raise_if_missing(answer, name, account, container, None, None)

    def fact(name: str, parse: Callable[[Any], Any]) -> Any:
        answer = answers[name]
        if isinstance(answer, TimeoutError):
            if failed[name]:
                return timed_out(failed[name], name, DATA, endpoint, options.timeout)
            return Unavailable(Kind.TIMEOUT,
                               f"no answer from {endpoint} within {options.timeout:g} s")
        if isinstance(answer, BaseException):
            log.debug("%s on %s failed", name, bucket.masked_url, exc_info=answer)
            return classify(answer, name, DATA, endpoint, options.timeout,
                            max(1, len(failed[name])))
        return parse(answer)

    # Each fact on its own: an odd answer to one call never erases another's verdict.
    return BucketFacts(
        provider=bucket.provider,
        blob_soft_delete=read_fact(lambda: fact("service", _soft_delete),
                                   f"blob service properties from {endpoint}"),
        delete_protection=read_fact(lambda: fact("container", _protection),
                                    f"container properties from {endpoint}"),
        notes=notes)
