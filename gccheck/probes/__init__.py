"""Probes, one module per provider, imported only when a bucket on that provider is checked."""

from __future__ import annotations

import importlib
import threading

from gccheck.probes.interface import BucketProbe

# provider id -> module with a `Probe` class.
_MODULES = {
    "aws": "gccheck.probes.s3",
    "s3-compatible": "gccheck.probes.s3",
    "coreweave": "gccheck.probes.s3",
    "gcp": "gccheck.probes.gcs",
    "azure": "gccheck.probes.azure",
}


class ProbeRegistry:
    """One probe instance per module for the whole run, so clients can be reused."""

    def __init__(self) -> None:
        self._probes: dict[str, BucketProbe] = {}
        self._lock = threading.Lock()

    def for_provider(self, provider: str) -> BucketProbe | None:
        module = _MODULES.get(provider)
        if module is None:
            return None
        with self._lock:
            if module not in self._probes:
                from gccheck.debuglog import quiet_unless_configured

                quiet_unless_configured()
                self._probes[module] = importlib.import_module(module).Probe()
            return self._probes[module]


def uses_aws_profile(provider: str) -> bool:
    """Whether buckets on `provider` are read with boto3, so --aws-profile applies to them."""
    return _MODULES.get(provider) == "gccheck.probes.s3"
