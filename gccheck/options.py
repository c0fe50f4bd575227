"""The options of one deployment, declared once: `check`'s flags and the fleet file's keys.

Each option has its key (the fleet key; `--key` on the command line), the TargetSpec field
it sets, its validation, its environment variables and its help. `cli.py` builds click
options from this table and `fleet.py` validates fleet keys with it, so a range, a choice or a
message cannot differ between the two.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gccheck.errors import InputError
from gccheck.masking import describe_value
from gccheck.probes.interface import AZURE_PLANES
from gccheck.suggest import did_you_mean
from gccheck.target import (
    PROCESS_ENV,
    EnvFile,
    InlineEnv,
    RenderedChart,
    SettingsChoice,
    TerraformPlan,
    ValuesFiles,
    Workload,
)

MIN_TIMEOUT, MAX_TIMEOUT = 0.1, 600.0
DEFAULT_TIMEOUT = 10.0


class OptionError(InputError):
    """A bad option value; the message starts with where it was given (`--timeout`, `timeout`)."""


def shown(value: Any) -> str:
    """How a bad value is quoted in an error (short values only: it may be a secret)."""
    if isinstance(value, str):
        return describe_value(value)
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return "nothing" if value is None else f"{type(value).__name__} {value!r}"


# ---- validators: (value as given, where it was given) -> the value TargetSpec holds ----------

Validator = Callable[[Any, str], Any]


def text(value: Any, where: str) -> str:
    """A non-empty string on one line of printable characters, stripped."""
    return _one_line(value, where, lambda ch: ch.isprintable())


def path_text(value: Any, where: str) -> str:
    """A file path: like `text`, but bytes that are not UTF-8 (read by Python as lone
    surrogates) are allowed: such a file exists, and its name is shown escaped."""
    return _one_line(value, where, lambda ch: ch.isprintable() or "\udc80" <= ch <= "\udcff")


def _one_line(value: Any, where: str, printable: Callable[[str], bool]) -> str:
    if not isinstance(value, str) or not value.strip():
        raise OptionError(f"{where}: expected a non-empty string, got {shown(value)}")
    if any(ch in value for ch in "\r\n\x00"):
        raise OptionError(f"{where}: must be on one line")
    if not all(printable(ch) for ch in value):
        # Tabs, NEL, ANSI escapes would reach the terminal and the HTML report as they are.
        raise OptionError(f"{where}: must not contain control characters")
    return value.strip()


def url(value: Any, where: str) -> str:
    """An http(s) URL with a host."""
    from gccheck.bucket_url import validate_endpoint_url

    try:
        return validate_endpoint_url(text(value, where), where)
    except InputError as exc:
        raise OptionError(str(exc)) from None


def seconds(value: Any, where: str) -> float:
    """A number of seconds within MIN_TIMEOUT..MAX_TIMEOUT (a string from the command line)."""
    number = value
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            number = float(value)
    if isinstance(number, bool) or not isinstance(number, int | float):
        raise OptionError(f"{where}: expected a number of seconds, got {shown(value)}")
    if not math.isfinite(number):
        # Every comparison with NaN is false: a range check alone would let it through.
        raise OptionError(f"{where}: {shown(value) if isinstance(value, str) else value} is not "
                          "a number of seconds")
    if not MIN_TIMEOUT <= number <= MAX_TIMEOUT:
        raise OptionError(f"{where}: {number:g} is outside {MIN_TIMEOUT:g}..{MAX_TIMEOUT:g} "
                          "seconds")
    return float(number)


def one_of(choices: Sequence[str]) -> Validator:
    def check(value: Any, where: str) -> str:
        if value not in choices:
            hint = did_you_mean(value, choices) if isinstance(value, str) else ""
            raise OptionError(f"{where}: expected one of {', '.join(choices)}, got "
                              f"{shown(value)}{hint}")
        return str(value)
    return check


def _env_value(value: Any, where: str) -> str:
    # YAML reads `true` and `10` as bool and int; the server sees the strings "true" and "10".
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return value
    raise OptionError(f"{where}: expected a string value, got {shown(value)}")


def env_map(value: Any, where: str) -> dict[str, str]:
    """NAME: value pairs; YAML's booleans and numbers become the strings the server sees."""
    if not isinstance(value, Mapping):
        raise OptionError(f"{where}: expected a mapping of NAME: value, got {shown(value)}")
    out: dict[str, str] = {}
    for name, item in value.items():
        if not isinstance(name, str) or not name or any(ch in name for ch in "=\n\x00 "):
            raise OptionError(f"{where}: {shown(name)} is not a variable name")
        out[name] = _env_value(item, f"{where} {name}")
    return out


def workload(value: Any, where: str) -> str:
    """`[NS/]KIND/NAME[:CONTAINER]` or `auto`: the syntax only (the cluster is asked later)."""
    ref = text(value, where)
    from gccheck.sources.kubernetes.workload import parse_workload

    try:
        parse_workload(ref)
    except InputError as exc:
        raise OptionError(f"{where}: {str(exc).removeprefix('--workload ')}") from None
    return ref


# Helm's release names (pkg/chartutil/validate_name.go: a DNS-1123 subdomain of at most 53
# characters, room for the suffixes charts add) and Kubernetes namespaces (a DNS-1123 label).
_RELEASE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def release_name(value: Any, where: str) -> str:
    """A Helm release name, as `helm install` accepts it."""
    name = text(value, where)
    if len(name) > 53 or not _RELEASE.fullmatch(name):
        raise OptionError(f"{where}: {shown(name)} is not a Helm release name (lowercase "
                          "letters, digits, '-' and '.', at most 53 characters)")
    return name


def namespace(value: Any, where: str) -> str:
    """A Kubernetes namespace name (a DNS-1123 label)."""
    name = text(value, where)
    if len(name) > 63 or not _LABEL.fullmatch(name):
        raise OptionError(f"{where}: {shown(name)} is not a Kubernetes namespace name "
                          "(lowercase letters, digits and '-', at most 63 characters)")
    return name


# ---- the table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """One option of a deployment, as a `check` flag and as a fleet key."""

    key: str  # fleet key; the flag is --key
    field: str  # the TargetSpec field it sets ("source": part of the settings source)
    check: Validator  # one value (each one, for `many`)
    help: str
    metavar: str | None = None
    extra_envvars: tuple[str, ...] = ()
    many: bool = False  # a list of values (one string too, in a fleet file)
    path: bool = False  # relative paths in a fleet file are relative to its folder
    flag: bool = True  # also a `check` flag (every option is a fleet key)
    short: str | None = None

    @property
    def envvars(self) -> tuple[str, ...]:
        """GCCHECK_<KEY>, then any other variable that sets the same thing."""
        return (f"GCCHECK_{self.key.upper().replace('-', '_')}", *self.extra_envvars)

    def parse(self, value: Any, where: str) -> Any:
        """The validated value of this option as given at `where` (a fleet file's form)."""
        if not self.many:
            return self.check(value, where)
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not items:
            raise OptionError(f"{where}: expected a file or a list of files, got {shown(value)}")
        return tuple(self.check(item, f"{where}[{i}]") for i, item in enumerate(items))


# Every format shows the name whole and keys on it (JUnit classnames, Prometheus labels, the
# HTML grid): far longer names would be cut where reports cap a field, and two would collide.
MAX_NAME_LENGTH = 200


def deployment_name(value: Any, where: str) -> str:
    """A deployment's name: one printable line of at most MAX_NAME_LENGTH characters."""
    name = text(value, where)
    if len(name) > MAX_NAME_LENGTH:
        raise OptionError(f"{where}: {len(name)} characters, at most {MAX_NAME_LENGTH}")
    return name


NAME = Option("name", "name", deployment_name, "Name of the deployment in the report.")
HOSTING = Option("hosting", "hosting", text, "Hosting type: {hosting}.", metavar="TYPE")
TIMEOUT = Option("timeout", "timeout", seconds,
                 f"Connect/read timeout of each request, and the longest wait for one bucket "
                 f"({MIN_TIMEOUT:g} to {MAX_TIMEOUT:g}).", metavar="SECONDS")

TARGET_OPTIONS: tuple[Option, ...] = (
    NAME,
    HOSTING,
    Option("bucket", "bucket", text,
           "W&B bucket URL (default: BUCKET from the settings source); with --terraform-plan, "
           "the bucket's resource address or name in the plan.", metavar="URL"),
    Option("env", "source", env_map, "The server's environment as NAME: value pairs.",
           flag=False),
    Option("env-file", "source", path_text,
           "Read settings from a dotenv file instead of the process environment.",
           metavar="PATH", path=True),
    Option("values", "source", path_text,
           "W&B Helm values file or WeightsAndBiases resource (repeatable, merged in order "
           "like helm -f); with --chart, the values the chart is rendered with.",
           metavar="FILE", many=True, path=True, short="-f"),
    Option("workload", "source", workload,
           "Read settings from a live Deployment/StatefulSet ('auto' finds W&B's).",
           metavar="[NS/]KIND/NAME[:CONTAINER]"),
    Option("terraform-plan", "source", path_text,
           "Check a Terraform plan or state (terraform show -json) before apply: settings and "
           "bucket from the plan, no cloud call; --bucket names W&B's bucket in it (address or "
           "name).", metavar="PLAN.json", path=True),
    Option("chart", "source", path_text,
           "Render this Helm chart (a directory or a packaged .tgz) with the --values files, "
           "using Helm itself, and judge every W&B server workload it renders.",
           metavar="CHART", path=True),
    Option("release-name", "source", release_name,
           f"Release name the chart is rendered as (with --chart; default "
           f"{RenderedChart.release!r}).", metavar="NAME"),
    Option("namespace", "source", namespace,
           f"Namespace the chart is rendered in (with --chart; default "
           f"{RenderedChart.namespace!r}).", metavar="NS"),
    Option("kubeconfig", "source", path_text,
           "Kubeconfig for --workload (default: KUBECONFIG, ~/.kube/config, in-cluster).",
           metavar="PATH", path=True),
    Option("context", "source", text, "Kubeconfig context for --workload.", metavar="NAME"),
    Option("endpoint-url", "endpoint_url", url,
           "S3 endpoint (MinIO, ...); also settles how s3://AK:SK@x/y is read.", metavar="URL"),
    Option("aws-profile", "aws_profile", text,
           "AWS profile for S3 buckets without keys in the URL.", metavar="NAME"),
    Option("azure-subscription", "azure_subscription", text,
           "Azure subscription: enables the management-plane check.", metavar="ID",
           extra_envvars=("AZURE_SUBSCRIPTION_ID",)),
    Option("azure-resource-group", "azure_resource_group", text,
           "Resource group of the storage account (skips the search).", metavar="NAME"),
    Option("azure-plane", "azure_plane", one_of(AZURE_PLANES),
           f"Force the Azure {' or '.join(AZURE_PLANES)} plane (default: choose).",
           metavar="|".join(AZURE_PLANES)),
    Option("azure-blob-endpoint", "azure_blob_endpoint", url,
           "Blob endpoint (sovereign clouds, Azurite).", metavar="URL"),
    Option("azure-arm-endpoint", "azure_arm_endpoint", url,
           "Azure Resource Manager endpoint (sovereign clouds).", metavar="URL"),
    TIMEOUT,
)
BY_KEY: Mapping[str, Option] = {option.key: option for option in TARGET_OPTIONS}
FLEET_KEYS = tuple(option.key for option in TARGET_OPTIONS)
# The settings sources: one choice per deployment (kubeconfig and context go with workload;
# release-name and namespace go with chart, and so do the values files when a chart is given).
SOURCE_KEYS = ("env", "env-file", "values", "workload", "terraform-plan", "chart")
CHART_KEYS = ("release-name", "namespace")


def named(key: str, cli: bool) -> str:
    """A key as the user wrote it: `--env-file` on the command line, `env-file` in a file."""
    return f"--{key}" if cli else key


def settings_source(given: Mapping[str, Any], *, cli: bool) -> SettingsChoice:
    """The one settings source among validated values by key (with a chart, the values files
    are its values); OptionError for more than one, or for release-name/namespace without a
    chart."""
    rendered = given.get("chart") is not None
    chosen = [key for key in SOURCE_KEYS if given.get(key) not in (None, ())
              and not (rendered and key == "values")]  # values files: the chart's values
    if len(chosen) > 1:
        offered = [named(k, cli) for k in SOURCE_KEYS if BY_KEY[k].flag or not cli]
        raise OptionError(f"give only one settings source of {', '.join(offered)} "
                          f"(got {', '.join(named(k, cli) for k in chosen)})")
    if not rendered:
        for key in CHART_KEYS:
            if given.get(key) is not None:
                what = ("release the chart is rendered as" if key == "release-name"
                        else "namespace the chart is rendered in")
                raise OptionError(f"{named(key, cli)} needs {named('chart', cli)} (the {what})")
    if not chosen:
        return PROCESS_ENV
    value = given[chosen[0]]
    if chosen[0] == "env":
        return InlineEnv(value)
    if chosen[0] == "env-file":
        return EnvFile(value)
    if chosen[0] == "values":
        return ValuesFiles(tuple(value))
    if chosen[0] == "chart":
        return RenderedChart(value, tuple(given.get("values") or ()),
                             given.get("release-name") or RenderedChart.release,
                             given.get("namespace") or RenderedChart.namespace)
    if chosen[0] == "terraform-plan":
        # The cloud options (--aws-profile, AZURE_SUBSCRIPTION_ID from CI's environment) are
        # left unused: the plan is read alone.
        return TerraformPlan(value)
    return Workload(value, kubeconfig=given.get("kubeconfig"), context=given.get("context"))


def spec_fields(given: Mapping[str, Any], *, cli: bool) -> dict[str, Any]:
    """TargetSpec's keyword arguments from validated values by key (name and hosting too)."""
    fields = {BY_KEY[key].field: value for key, value in given.items()
              if BY_KEY[key].field != "source" and value is not None}
    fields["source"] = settings_source(given, cli=cli)
    return fields
