"""What the live cloud says about a bucket. Probes report facts; rules judge them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from gccheck.bucket_url import BucketLocation
from gccheck.concurrency import DaemonPool
from gccheck.model import BucketFacts, Settings

# The Azure planes --azure-plane may force (the options table offers these).
AZURE_PLANES = ("mgmt", "data")


@dataclass(frozen=True)
class ProbeOptions:
    """How to reach the cloud, shared by every probe."""

    # Seconds: the connect and read timeout of every request, and how long gccheck waits for
    # one bucket's answers in all.
    timeout: float = 10.0
    pool: DaemonPool = field(default_factory=lambda: DaemonPool(8), compare=False, repr=False)
    aws_profile: str | None = None
    azure_subscription: str | None = None
    azure_resource_group: str | None = None
    azure_plane: str | None = None  # one of AZURE_PLANES, or None (choose)
    azure_blob_endpoint: str | None = None
    azure_arm_endpoint: str | None = None


class BucketProbe(Protocol):
    """Reads a bucket's settings through a provider's SDK, which it imports lazily.

    Must not raise for anything the cloud answers or fails to answer: errors become
    `Unavailable` facts. Must send read requests only.
    """

    def probe(self, bucket: BucketLocation, settings: Settings,
              options: ProbeOptions) -> BucketFacts: ...
