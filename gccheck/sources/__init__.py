"""Settings sources, one module per place W&B settings live."""

from __future__ import annotations

from collections.abc import Mapping

from gccheck.sources.interface import SettingsSource
from gccheck.target import (
    EnvFile,
    InlineEnv,
    RenderedChart,
    TargetSpec,
    TerraformPlan,
    ValuesFiles,
    Workload,
)


def source_for(spec: TargetSpec, environ: Mapping[str, str]) -> SettingsSource:
    """The source the target's settings choice names (the process environment by default)."""
    choice = spec.source
    if isinstance(choice, EnvFile):
        from gccheck.sources.dotenv import DotenvSource

        return DotenvSource(choice.path)
    if isinstance(choice, InlineEnv):
        from gccheck.sources.process_env import InlineEnvSource

        return InlineEnvSource(choice.env)
    if isinstance(choice, ValuesFiles):
        from gccheck.sources.helm_values import HelmValuesSource

        return HelmValuesSource(choice.paths)
    if isinstance(choice, Workload):
        from gccheck.sources.kubernetes.workload import WorkloadSource

        # The environment is passed on for KUBECONFIG and in-cluster detection: the client
        # library would read KUBECONFIG only once, when it is imported.
        return WorkloadSource(choice.ref, kubeconfig=choice.kubeconfig, context=choice.context,
                              timeout=spec.timeout, environ=dict(environ))
    if isinstance(choice, TerraformPlan):
        from gccheck.terraform.plan import load_plan
        from gccheck.terraform.target import PlanSettingsSource

        return PlanSettingsSource(load_plan(choice.path))
    if isinstance(choice, RenderedChart):
        from gccheck.sources.chart.source import RenderedChartSource

        # The environment is passed on for PATH: the user's `helm` binary is used when found.
        return RenderedChartSource(choice.chart, choice.values, choice.release,
                                   choice.namespace, spec.timeout, environ=dict(environ))
    from gccheck.sources.process_env import ProcessEnvSource

    return ProcessEnvSource(environ)
