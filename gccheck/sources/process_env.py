"""The settings of the process gccheck runs in (the default; in a Helm hook, the hook's env)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gccheck.model import Setting, Settings

ORIGIN = "process environment"


@dataclass(frozen=True)
class ProcessEnvSource:
    environ: Mapping[str, str]

    def read(self) -> Settings:
        return Settings(
            description=ORIGIN,
            values={k: Setting(k, v, ORIGIN) for k, v in self.environ.items()},
            fix_missing="export {name}={value}   # in the environment W&B Server runs with",
        )


@dataclass(frozen=True)
class InlineEnvSource:
    """A mapping given directly (a fleet file's `env:`)."""

    environ: Mapping[str, str]
    description: str = "inline env"

    def read(self) -> Settings:
        return Settings(
            description=self.description,
            values={k: Setting(k, v, self.description) for k, v in self.environ.items()},
            fix_missing="set {name}={value} in the W&B server's environment",
        )
