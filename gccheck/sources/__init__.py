"""Settings sources, one module per place W&B settings live."""

from __future__ import annotations

from collections.abc import Mapping

from gccheck.errors import InputError
from gccheck.sources.interface import SettingsSource
from gccheck.target import TargetSpec


def source_for(spec: TargetSpec, environ: Mapping[str, str]) -> SettingsSource:
    """The one source a target names; the process environment when it names none."""
    given = [k for k, v in (("env", spec.env), ("env-file", spec.env_file),
                            ("values", spec.values), ("workload", spec.workload)) if v]
    if len(given) > 1:
        raise InputError(f"{spec.name}: give only one of env, env-file, values, workload "
                         f"(got {', '.join(given)})")
    if spec.env_file:
        from gccheck.sources.dotenv import DotenvSource

        return DotenvSource(spec.env_file)
    if spec.env is not None:
        from gccheck.sources.process_env import InlineEnvSource

        return InlineEnvSource(spec.env)
    if spec.values:
        from gccheck.sources.helm_values import HelmValuesSource

        # A fleet file may give one path as a string rather than a list.
        paths = (spec.values,) if isinstance(spec.values, str) else tuple(spec.values)
        return HelmValuesSource(paths)
    if spec.workload:
        from gccheck.sources.kubernetes.workload import WorkloadSource

        # The environment is passed on for KUBECONFIG and in-cluster detection: the client
        # library would read KUBECONFIG only once, when it is imported.
        return WorkloadSource(spec.workload, kubeconfig=spec.kubeconfig, context=spec.context,
                              timeout=spec.timeout, environ=dict(environ))
    from gccheck.sources.process_env import ProcessEnvSource

    return ProcessEnvSource(environ)
