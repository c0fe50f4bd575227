"""What the user asked to check: one deployment (from `check` flags or a fleet file entry)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class TargetSpec:
    """One deployment to check. Field names match the fleet file's keys (with - for _)."""

    name: str
    hosting: str
    bucket: str | None = None
    env: Mapping[str, str] | None = field(default=None, repr=False)
    env_file: str | None = None
    values: tuple[str, ...] = ()
    workload: str | None = None
    kubeconfig: str | None = None
    context: str | None = None
    endpoint_url: str | None = None
    aws_profile: str | None = None
    azure_subscription: str | None = None
    azure_resource_group: str | None = None
    azure_plane: str | None = None
    azure_blob_endpoint: str | None = None
    azure_arm_endpoint: str | None = None
    timeout: float = 10.0
