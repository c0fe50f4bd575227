"""Where a deployment's settings come from, and what every source tells about storage."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from gccheck.model import Setting, Settings, Storage

# Variables that name the S3 endpoint and the region, the more specific first (the AWS SDKs'
# AWS_ENDPOINT_URL_S3 over AWS_ENDPOINT_URL; AWS_REGION over AWS_DEFAULT_REGION).
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")
# The names of storage settings gccheck derives rather than reads.
DERIVED_ENDPOINT = "S3 endpoint"
DERIVED_REGION = "region"


class SettingsSource(Protocol):
    """Reads the environment the W&B app container would get.

    `read` raises InputError for bad input (a file that does not parse, ...); values that
    exist but cannot be resolved become `Setting(unresolved=...)`, never guesses. What the
    source found about storage goes in `Settings.storage` (see `storage_settings`), never in
    an invented variable.
    """

    def read(self) -> Settings: ...


def storage_settings(values: Mapping[str, Setting], endpoint: Setting | None = None,
                     region: Setting | None = None) -> Storage:
    """The storage settings of an environment.

    The deployment's own variables (ENDPOINT_VARIABLES, REGION_VARIABLES) are its settings: a
    specific one beats what the source derived (`endpoint` from a bucket host, `region` from a
    resource's field), which beats a generic one. Empty and unresolved values say nothing.
    """
    return Storage(endpoint=_first(values, ENDPOINT_VARIABLES, endpoint),
                   region=_first(values, REGION_VARIABLES, region))


def _first(values: Mapping[str, Setting], names: tuple[str, str],
           derived: Setting | None) -> Setting | None:
    specific, generic = (_given(values.get(name)) for name in names)
    return specific or _given(derived) or generic


def _given(setting: Setting | None) -> Setting | None:
    return setting if setting is not None and setting.value and setting.value.strip() else None
