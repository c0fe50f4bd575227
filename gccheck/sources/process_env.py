"""The settings of the process gccheck runs in (the default; in a Helm hook, the hook's env)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gccheck.model import Setting, Settings
from gccheck.sources.interface import storage_settings

ORIGIN = "process environment"


@dataclass(frozen=True)
class ProcessEnvSource:
    environ: Mapping[str, str]

    def read(self) -> Settings:
        # AWS_ENDPOINT_URL_S3 and the like here are the deployment's (the hook's) own settings.
        values = {k: Setting(k, v, ORIGIN) for k, v in self.environ.items()}
        return Settings(
            description=ORIGIN,
            values=values,
            fix_missing="export {name}={value}   # in the environment W&B Server runs with",
            storage=storage_settings(values),
        )


@dataclass(frozen=True)
class InlineEnvSource:
    """A mapping given directly (a fleet file's `env:`)."""

    environ: Mapping[str, str]
    description: str = "inline env"

    def read(self) -> Settings:
        values = {k: Setting(k, v, self.description) for k, v in self.environ.items()}
        return Settings(
            description=self.description,
            values=values,
            fix_missing="set {name}={value} in the W&B server's environment",
            storage=storage_settings(values),
        )
