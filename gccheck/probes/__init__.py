"""Probes, one module per provider, imported only when a bucket on that provider is checked."""

from __future__ import annotations

import functools
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


def unknown_aws_profile(name: str) -> str | None:
    """A one-line error when the AWS config and credentials files lack profile `name`.

    Read locally (no network), so a misspelt profile is an input error before anything is
    sent, as awscli treats it, rather than an `unknown` verdict per bucket.
    """
    import os

    return _unknown_aws_profile(name, os.environ.get("AWS_CONFIG_FILE"),
                                os.environ.get("AWS_SHARED_CREDENTIALS_FILE"))


@functools.lru_cache(maxsize=32)
def _unknown_aws_profile(name: str, config_file: str | None,
                         credentials_file: str | None) -> str | None:
    import botocore.exceptions
    import botocore.session

    try:
        profiles = botocore.session.Session().available_profiles
    except botocore.exceptions.BotoCoreError as exc:  # e.g. an unparsable config file
        return f"cannot read the AWS config files: {exc}"
    if name in profiles:
        return None
    return (f"AWS profile {name!r} is not defined in the AWS config or credentials files"
            + (f" (defined: {', '.join(sorted(profiles))})" if profiles else ""))

