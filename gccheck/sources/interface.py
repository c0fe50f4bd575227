"""Where a deployment's settings come from."""

from __future__ import annotations

from typing import Protocol

from gccheck.model import Settings


class SettingsSource(Protocol):
    """Reads the environment the W&B app container would get.

    `read` raises InputError for bad input (a file that does not parse, ...); values that
    exist but cannot be resolved become `Setting(unresolved=...)`, never guesses.
    """

    def read(self) -> Settings: ...
