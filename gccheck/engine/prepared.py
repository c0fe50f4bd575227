"""Prepare a target: read its settings, learn its secrets, parse its bucket URL.

Everything here happens before the network is asked about the bucket (a live workload's
settings are read through the Kubernetes API, on the target's worker); bad input raises
InputError. A Terraform plan is read whole here: its settings, W&B's bucket in it, and the
bucket's planned facts, which the engine then uses instead of a probe (`Prepared.planned`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from gccheck.bucket_url import BucketLocation, parse_bucket_url, validate_endpoint_url
from gccheck.debuglog import debug
from gccheck.errors import InputError
from gccheck.masking import Redactor
from gccheck.matrix import HostingType, Matrix
from gccheck.model import BucketFacts, Settings
from gccheck.probes import uses_aws_profile
from gccheck.sources import source_for
from gccheck.target import EnvFile, RenderedChart, TargetSpec, TerraformPlan, ValuesFiles


class PlannedFacts(Protocol):
    """A bucket's facts known without asking the cloud (a Terraform plan), with fixes and
    provenance in the terms of where they were read."""

    def facts(self) -> BucketFacts:
        """The bucket's facts, as a probe would report them."""
        ...

    def fix(self, check_id: str) -> str | None:
        """The fix for a failing or warning check (None: keep the catalog's)."""
        ...

    def source(self, check_id: str) -> str | None:
        """Where the fact `check_id` judges was read (None: keep the rule's)."""
        ...

    @property
    def note(self) -> str:
        """One line for the report: where the facts come from."""
        ...


@dataclass(frozen=True)
class Prepared:
    """A target with its settings read and its bucket parsed: ready for the network (or,
    with `planned`, for judging: its facts are known already)."""

    spec: TargetSpec
    hosting: HostingType
    settings: Settings
    bucket: BucketLocation | None
    planned: PlannedFacts | None = None


class SettingsCache:
    """Settings read once per file-based source in one run: fleet entries that share a values
    file, an env file or a chart share what was read from it (Settings are frozen). Without
    it, 64 entries naming one 340 KB values file took 40 s and 866 MB."""

    def __init__(self) -> None:
        self._read: dict[object, Settings] = {}

    def read(self, spec: TargetSpec, environ: Mapping[str, str]) -> tuple[Settings, bool]:
        """The target's settings, and whether they were read just now (not shared)."""
        choice = spec.source
        if not isinstance(choice, EnvFile | ValuesFiles | RenderedChart):
            return source_for(spec, environ).read(), True
        key = (choice, spec.timeout)
        if key in self._read:
            return self._read[key], False
        settings = self._read[key] = source_for(spec, environ).read()
        return settings, True


def prepare(spec: TargetSpec, matrix: Matrix, environ: Mapping[str, str],
            redactor: Redactor, cache: SettingsCache | None = None) -> Prepared:
    """Read the settings and parse the bucket URL; raises InputError for bad input."""
    hosting = matrix.hosting_type(spec.hosting)
    for where, value in (("--endpoint-url", spec.endpoint_url),
                         ("--azure-blob-endpoint", spec.azure_blob_endpoint),
                         ("--azure-arm-endpoint", spec.azure_arm_endpoint)):
        if value:
            validate_endpoint_url(value, where)
    if isinstance(spec.source, TerraformPlan):
        return _prepare_plan(spec, spec.source, matrix, hosting, redactor)
    settings, fresh = (cache or SettingsCache()).read(spec, environ)
    if fresh:  # shared settings were learnt when they were read
        redactor.add_settings({k: s.value for k, s in settings.values.items()
                               if not s.origin.endswith(_OWN_NAMESPACE)})
        for secret in settings.secrets:
            redactor.add(secret)
    url = spec.bucket or settings.get("BUCKET")
    bucket = None
    if url and url.strip():
        redactor.add_settings({"BUCKET": url})
        _reject_unexpanded(url, settings)
        endpoint = spec.endpoint_url
        if not endpoint and url.strip().partition("://")[0].lower() in ("s3", "cw"):
            # An S3 endpoint is for S3 buckets: a gs:// bucket (and its Google token) must not
            # be sent there.
            setting = settings.storage.endpoint
            if setting is not None and setting.value:
                # Named as the user wrote it, not as --endpoint-url.
                endpoint = validate_endpoint_url(setting.value,
                                                 f"{setting.name} ({setting.origin})")
        bucket = parse_bucket_url(url, endpoint_url=endpoint or None)
        for secret in bucket.secrets:
            redactor.add(secret)
        if spec.aws_profile and uses_aws_profile(bucket.provider):
            from gccheck.probes.s3 import unknown_profile

            problem = unknown_profile(spec.aws_profile)
            if problem:
                raise InputError(f"--aws-profile: {problem}")
    debug(__name__, "%s: settings from %s (%d values); bucket %s", spec.name,
          settings.description, len(settings.values),
          f"{bucket.masked_url} ({bucket.provider}, endpoint "
          f"{bucket.endpoint_url or 'the provider default'})" if bucket else "none")
    return Prepared(spec, hosting, settings, bucket)


def _prepare_plan(spec: TargetSpec, choice: TerraformPlan, matrix: Matrix,
                  hosting: HostingType, redactor: Redactor) -> Prepared:
    """Read the plan once: settings, W&B's bucket (--bucket is an address or a name in the
    plan, never a URL to reach), and its planned facts."""
    from gccheck.terraform.target import prepare as prepare_plan

    if spec.bucket:
        redactor.add_settings({"BUCKET": spec.bucket})  # a name may be given as a keyed URL
    target = prepare_plan(choice.path, spec.bucket)
    redactor.add_settings({k: s.value for k, s in target.settings.values.items()})
    for secret in target.settings.secrets:
        redactor.add(secret)
    debug(__name__, "%s: Terraform plan %s, bucket %s", spec.name, choice.path,
          target.bucket.label)
    # Read now, so that the plan's document is not held while the other targets run.
    planned = target.read([*matrix.requirements, *matrix.advisories])
    return Prepared(spec, hosting, target.settings, target.location, planned)


# A variable the pod reads from its own namespace (a rendered or live workload's fieldRef, which
# W&B's charts give names such as GORILLA_CUSTOMER_SECRET_STORE_K8S_CONFIG_NAMESPACE) holds the
# namespace the report names anyway: learnt as a secret, it would mask every "NS/NAME" shown.
_OWN_NAMESPACE = "(fieldRef metadata.namespace)"

# $(NAME): a Kubernetes dependent-variable reference. The kubelet leaves one to an undefined
# variable as written, so BUCKET=s3://$(BUCKET_ACCESS_KEY):...@ keeps it when the Secret an
# optional secretKeyRef reads is missing: the store would then reject "the credentials".
# Only a whole part of the URL (key, secret, host, path segment) counts: a password such as
# Pa55$(w0rd)Xyz is a password.
_UNEXPANDED = re.compile(r"(?<=[:@/])\$\(([A-Za-z_][A-Za-z0-9_.\-]*)\)(?=[:@/?#]|$)")


def _reject_unexpanded(url: str, settings: Settings) -> None:
    names = list(dict.fromkeys(_UNEXPANDED.findall(url)))
    if not names:
        return
    setting = settings.values.get("BUCKET")
    origin = f" ({setting.origin})" if setting is not None and url == setting.value else ""
    listed = ", ".join(f"$({name})" for name in names)
    raise InputError(f"the bucket URL{origin} still holds {listed}: Kubernetes leaves a "
                     "reference to an undefined variable as written, so the Secret, ConfigMap "
                     f"or key that would set {'it' if len(names) == 1 else 'them'} is missing "
                     "or misnamed (an optional reference?)")
