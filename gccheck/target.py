"""What the user asked to check: one deployment (from `check` flags or a fleet file entry)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar


@dataclass(frozen=True)
class ProcessEnv:
    """Settings from the environment gccheck itself runs in (the default)."""

    key: ClassVar[str] = "process environment"


@dataclass(frozen=True)
class InlineEnv:
    """Settings given as a NAME: value mapping (a fleet file's `env`)."""

    key: ClassVar[str] = "env"
    env: Mapping[str, str] = field(repr=False)


@dataclass(frozen=True)
class EnvFile:
    """Settings from a dotenv file."""

    key: ClassVar[str] = "env-file"
    path: str


@dataclass(frozen=True)
class ValuesFiles:
    """Settings from W&B Helm values files or WeightsAndBiases resources, merged in order."""

    key: ClassVar[str] = "values"
    paths: tuple[str, ...]


@dataclass(frozen=True)
class Workload:
    """Settings from a live Deployment/StatefulSet, read through the Kubernetes API."""

    key: ClassVar[str] = "workload"
    ref: str
    kubeconfig: str | None = None
    context: str | None = None


@dataclass(frozen=True)
class TerraformPlan:
    """Settings and bucket facts from a Terraform plan or state (`terraform show -json`):
    nothing is asked of the cloud; `TargetSpec.bucket` names W&B's bucket in the plan."""

    key: ClassVar[str] = "terraform-plan"
    path: str


@dataclass(frozen=True)
class RenderedChart:
    """Settings of the W&B server workloads a Helm chart renders (by Helm itself) with its
    values files, as one release in one namespace."""

    key: ClassVar[str] = "chart"
    chart: str  # a chart directory or a packaged .tgz
    values: tuple[str, ...] = ()
    release: str = "wandb"
    namespace: str = "default"


# Where a deployment's settings come from: one choice, never several.
SettingsChoice = (ProcessEnv | InlineEnv | EnvFile | ValuesFiles | Workload | TerraformPlan
                  | RenderedChart)
PROCESS_ENV = ProcessEnv()


@dataclass(frozen=True)
class TargetSpec:
    """One deployment to check. Field names match the options table (gccheck.options)."""

    name: str
    hosting: str
    source: SettingsChoice = PROCESS_ENV
    # A bucket URL; with a TerraformPlan source, a resource address or a name in the plan.
    bucket: str | None = None
    endpoint_url: str | None = None
    aws_profile: str | None = None
    azure_subscription: str | None = None
    azure_resource_group: str | None = None
    azure_plane: str | None = None
    azure_blob_endpoint: str | None = None
    azure_arm_endpoint: str | None = None
    timeout: float = 10.0

    @property
    def reads_live(self) -> bool:
        """Whether reading the settings needs the network (a live workload)."""
        return isinstance(self.source, Workload)

    @property
    def reads_plan(self) -> bool:
        """Whether the bucket's facts come from a Terraform plan rather than the cloud."""
        return isinstance(self.source, TerraformPlan)
