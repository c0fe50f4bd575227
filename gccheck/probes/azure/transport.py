"""How the Azure SDKs reach the network: loaded up front, bodies bounded, retries gccheck's."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from gccheck.net import SDK_IMPORT_LOCK, Deadline, cap_requests_body, with_retries
from gccheck.probes.azure.answers import MGMT, headers_of, status_of
from gccheck.probes.interface import ProbeOptions


def load_sdk(plane: str, identity: bool) -> None:
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


def transport(timeout: float, verify: bool | str) -> Any:
    """azure-core's requests transport, each answer's body read at once and at most MAX_BODY
    (azure-core would read any body whole before a policy or hook sees it)."""
    from azure.core.pipeline.transport import RequestsTransport

    built = RequestsTransport(connection_timeout=timeout, read_timeout=timeout,
                              connection_verify=verify)
    built.open()  # builds its session, so that the hook goes first on it
    built.session.hooks["response"].insert(0, cap_requests_body)
    return built


def submit(options: ProbeOptions, call: Callable[[], Any], deadline: Deadline,
           failed: list[BaseException]) -> Future[Any]:
    """`call` on the pool, retried on 429/5xx within the deadline (failures kept in `failed`).

    The SDKs' own retries are off (retry_total=0): they would turn a dead endpoint into
    minutes.
    """
    return options.pool.submit(with_retries(call, deadline, failed, status_of, headers_of))
