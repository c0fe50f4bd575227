"""Settings from W&B Helm values files (`--values/-f`, repeatable) or a WeightsAndBiases resource.

Two charts are recognised:

operator-wandb (current). Every service is an alias of the `wandb-base` library chart, whose
`_containers.tpl` builds a container's env (read in wandb/helm-charts):

    {{- $_ = set $container "env" (merge (default (dict) ($container.env))
          (default (dict) ($.root.Values.env)) $.root.Values.extraEnv
          $.root.Values.global.env $.root.Values.global.extraEnv) }}
    ...
    {{- if hasKey $container.env $envVar.name }}
      {{- $envTpls = without $envTpls $envVar }}

so for the W&B app (`app:` in the values, container `app`) the first of these that sets a
name wins: `app.containers.app.env`, `app.env`, `app.extraEnv`, `global.env`,
`global.extraEnv`, then `app.sizing.<size>.env` (size: `app.size`, else `global.size`, whose
chart default is `small`), then `app.sizing.default.env`; the chart's own computed variables
(BUCKET, from `global.bucket`) come only when no map sets the name. Sprig's `merge` keeps the
first map's value *unless it is empty* ("", false, 0): `app.env.X: false` with
`global.extraEnv.X: "true"` renders X="true". gccheck reproduces that quirk.

What this model follows: operator-wandb 0.33.0 and later, the app container only. Versions
0.20.0 to 0.32.x render env differently (a ConfigMap that forces GC off in the api and glue
pods, no `tpl`); variables the chart sets itself are not modelled; a value that holds a template
(`{{ ... }}`) is rendered by the chart's `tpl` in current charts and is left unknown. `--chart`
renders the real chart for all of that; the report's notes say so (MODEL_NOTE).

wandb (legacy). `bucket` is the BUCKET URL, `bucketRegion` / `bucketKmsKeyArn` give AWS_REGION
/ AWS_S3_KMS_ID (`bucketRegion | default .Release.Namespace`: the chart's default is us-east-1,
but an empty or removed one renders the release namespace), and `extraEnv` is a list of
`{name, value}` written with `toYaml` after the chart's own env, so it beats it (Kubernetes
keeps the last entry of a name) and is not templated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gccheck.errors import InputError
from gccheck.model import Setting, Settings
from gccheck.sources import wandb_cr
from gccheck.sources.chart_bucket import ChartBucket, chart_url, pick_bucket, without_keys
from gccheck.sources.envvars import EnvEntry, go_string, resolve
from gccheck.sources.interface import DERIVED_ENDPOINT, storage_settings
from gccheck.sources.values_files import (
    LIST_LEAF,
    MAP_LEAF,
    MergedValues,
    ValuesDoc,
    check_values_files,
    load_document,
    yaml_snippet,
)
from gccheck.url_parts import split_credentials, split_userinfo

SERVICE = "app"  # the W&B app service of operator-wandb
CONTAINER = "app"
VALUE_FROM_HINT = "the value exists only in the cluster; use --workload to read it there"
DEFAULT_NAMESPACE = "default"  # what helm uses without --namespace
DEFAULT_SIZE = "small"  # operator-wandb's values.yaml: global.size
TEMPLATE_REASON = ("holds a template ({{ ... }}): rendered by the chart's tpl in current charts "
                   "(operator-wandb 0.33+; 0.32 and earlier keep it as written); run with "
                   "--chart CHART to know")
MODEL_NOTE = ("values read as operator-wandb 0.33+ renders them for the app container; "
              "chart-set variables and versions 0.20-0.32 (which force GC off in the api and "
              "glue pods) are not modelled: use --chart CHART for exactness")
LEGACY_NOTE = ("values read as the legacy wandb chart renders them; variables the chart sets "
               "itself are not modelled: use --chart CHART for exactness")


@dataclass(frozen=True)
class HelmValuesSource:
    """W&B Helm values files merged in order, or one WeightsAndBiases resource."""

    paths: tuple[str, ...]
    # The release namespace helm would install into (--namespace): the legacy chart renders it.
    namespace: str = DEFAULT_NAMESPACE

    def read(self) -> Settings:
        check_values_files(self.paths)
        layers: list[ValuesDoc] = []
        for path in self.paths:
            data, lines = load_document(path)
            resource = wandb_cr.classify(data, path)
            if resource is not None and resource.version == "v2":
                if len(self.paths) > 1:
                    raise InputError(f"values file {path}: a WeightsAndBiases apps.wandb.com/v2 "
                                     "resource cannot be merged with other files; give it alone")
                return wandb_cr.read_v2(resource, path, lines)
            if resource is not None:
                layers.append(ValuesDoc(path, wandb_cr.v1_values(resource, path, lines),
                                        ("spec", "values"), lines))
            else:
                layers.append(ValuesDoc(path, data, (), lines))
        merged = MergedValues()
        for layer in layers:
            merged.add(layer)
        return settings_from_values(merged, layers, namespace=self.namespace)


def settings_from_values(merged: MergedValues, layers: Sequence[ValuesDoc], *,
                         namespace: str = DEFAULT_NAMESPACE) -> Settings:
    """Recognise the chart the merged values are for and derive the app's environment
    (`namespace`: the release's, which the legacy chart renders as a default region)."""
    names = ", ".join(dict.fromkeys(layer.file for layer in layers))
    data = merged.data
    if not data:
        raise InputError(f"values file {names}: empty; expected W&B Helm values "
                         "(operator-wandb: global, app; wandb: bucket, extraEnv)")
    if "global" in data or SERVICE in data:
        return _operator_settings(merged, layers, names)
    if any(key in data for key in ("bucket", "extraEnv", "bucketRegion", "bucketKmsKeyArn")):
        return _legacy_settings(merged, layers, names, namespace)
    top = ", ".join(sorted(data)[:5])
    raise InputError(f"values file {names}: unknown shape (top-level keys: {top}); expected "
                     "operator-wandb values (global:, app:), wandb chart values (bucket:, "
                     "extraEnv:) or a WeightsAndBiases resource")


# ---- operator-wandb ---------------------------------------------------------------------------


def _operator_layers(merged: MergedValues) -> list[tuple[str, ...]]:
    """The env maps of the app container, highest precedence first."""
    layers: list[tuple[str, ...]] = [
        (SERVICE, "containers", CONTAINER, "env"), (SERVICE, "env"), (SERVICE, "extraEnv"),
        ("global", "env"), ("global", "extraEnv")]
    # wandb-base: coalesce .Values.size .Values.global.size. The chart's global.size is "small"
    # unless the values set it (an empty one chooses no size) or a null removes it.
    size = merged.get((SERVICE, "size")) or merged.get(("global", "size"))
    if size is None and not merged.removed(("global", "size")):
        size = DEFAULT_SIZE
    if isinstance(size, str) and size:
        layers.append((SERVICE, "sizing", size, "env"))
    layers.append((SERVICE, "sizing", "default", "env"))
    return layers


def _empty(value: Any) -> bool:
    # What sprig's `merge` (mergo) treats as empty, and so fills from a lower map.
    return value is None or value is False or value == "" or (
        isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0) or (
        isinstance(value, (dict, list)) and not value)


def _checked_map(merged: MergedValues, path: tuple[str, ...]) -> Mapping[str, Any]:
    value = merged.get(path)
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return value
    doc = merged.doc_for(path)
    where = doc.where(path) if doc else ".".join(path)
    hint = (" (a list of {name, value} is the legacy wandb chart's form)"
            if isinstance(value, list) else "")
    raise InputError(f"values file {where}: expected a mapping of NAME: value{hint}")


def _winners(merged: MergedValues) -> dict[str, tuple[Any, tuple[str, ...]]]:
    """name -> (value, layer path) as the chart's `merge` of the env maps decides."""
    chosen: dict[str, tuple[Any, tuple[str, ...]]] = {}
    for layer in _operator_layers(merged):
        for name, value in _checked_map(merged, layer).items():
            if value is None:
                continue
            if name not in chosen or _empty(chosen[name][0]):
                chosen[name] = (value, layer)
    return chosen


def _operator_settings(merged: MergedValues, layers: Sequence[ValuesDoc], names: str) -> Settings:
    _check_mapping(merged, ("global",))
    _check_mapping(merged, (SERVICE,))
    last = layers[-1]
    chart: list[EnvEntry] = []
    secrets: list[str] = []
    endpoint: Setting | None = None
    bucket = pick_bucket(merged.get(("global",)) or {})
    if bucket is not None:
        chart, secrets, endpoint = _bucket_entries(bucket, merged)
    user: list[EnvEntry] = []
    for name, (value, layer) in sorted(_winners(merged).items()):
        user.append(_map_entry(merged, layer, name, value))
    # The container lists the chart's variables first, then the maps' (Go sorts map keys);
    # a name set by a map is dropped from the chart's list.
    taken = {entry.name for entry in user}
    entries = [e for e in chart if e.name not in taken] + user
    cr = last.prefix == ("spec", "values")
    values = resolve(entries)
    return Settings(
        description=f"{'WeightsAndBiases resource' if cr else 'operator-wandb values'} {names}",
        values=values,
        fix_missing=_fix_text(last, ("global", "extraEnv"), MAP_LEAF, "add"),
        secrets=tuple(secrets), storage=storage_settings(values, endpoint=endpoint),
        notes=(MODEL_NOTE,))


def _check_mapping(merged: MergedValues, path: tuple[str, ...]) -> None:
    value = merged.get(path)
    if value is not None and not isinstance(value, Mapping):
        doc = merged.doc_for(path)
        where = doc.where(path) if doc else ".".join(path)
        raise InputError(f"values file {where}: expected a mapping")


def _fix_text(doc: ValuesDoc, path: Sequence[str], leaf: str, verb: str,
              line_of: Sequence[str] | None = None) -> str:
    """Where to change a variable: a ready-to-paste snippet and how to apply it."""
    full = (*doc.prefix, *path)
    line = doc.line(line_of) if line_of is not None else None
    at = f" (line {line})" if line else ""
    apply = (f"kubectl apply -f {doc.file}" if doc.prefix else
             f"helm upgrade with -f {doc.file}")
    return f"{verb} in {doc.file}{at}, then {apply}:\n{yaml_snippet(full, leaf)}"


def _map_entry(merged: MergedValues, layer: tuple[str, ...], name: str, value: Any) -> EnvEntry:
    path = (*layer, name)
    doc = merged.doc_for(path)
    assert doc is not None
    origin = doc.where(path)
    fix = _fix_text(doc, layer, MAP_LEAF, "change", path)
    if isinstance(value, Mapping):
        if "valueFrom" in value:
            return EnvEntry(name, None, origin, fix, unresolved=_value_from_reason(value))
        if "value" in value:
            text = go_string(value["value"])
            if "{{" in text:
                return EnvEntry(name, None, origin, fix, unresolved=TEMPLATE_REASON)
            return EnvEntry(name, text, origin, fix)
        raise InputError(f"values file {origin}: expected a value or {{valueFrom: ...}}")
    if isinstance(value, list):
        raise InputError(f"values file {origin}: expected a value, got a list")
    text = go_string(value)
    if "{{" in text:
        return EnvEntry(name, None, origin, fix, unresolved=TEMPLATE_REASON)
    return EnvEntry(name, text, origin, fix)


def _value_from_reason(body: Mapping[str, Any]) -> str:
    source = body.get("valueFrom")
    kinds = {"secretKeyRef": "Secret", "configMapKeyRef": "ConfigMap"}
    if isinstance(source, Mapping):
        for key, kind in kinds.items():
            ref = source.get(key)
            if isinstance(ref, Mapping):
                return (f"valueFrom {key} ({kind} {ref.get('name')}, key {ref.get('key')}) in "
                        f"a values file: {VALUE_FROM_HINT}")
        if source:
            return f"valueFrom {next(iter(source))} in a values file: {VALUE_FROM_HINT}"
    return f"valueFrom in a values file: {VALUE_FROM_HINT}"


def _bucket_entries(bucket: ChartBucket, merged: MergedValues
                    ) -> tuple[list[EnvEntry], list[str], Setting | None]:
    """BUCKET and its companions as the chart computes them (its envTpls and bucket ConfigMap),
    the keys, and the S3 endpoint gccheck derives when it leaves out keys kept in a Secret."""
    block = tuple(bucket.block.split("."))
    doc = merged.doc_for((*block, "name"))
    assert doc is not None
    # The file that names the bucket; with several -f files the block may be merged from more.
    where = doc.where((*block, "name"))
    if not bucket.provider_set:
        # _bucket.tpl takes the provider from the block that names the bucket; global.bucket
        # has no default provider, so no scheme matches and the URL stays "".
        return [EnvEntry("BUCKET", None, where, unresolved=(
            f"{bucket.block}.name is set but {bucket.block}.provider is not: operator-wandb "
            f"then renders BUCKET=\"\" (no bucket); set {bucket.block}.provider to s3, gcs, az "
            "or cw"))], [], None
    if bucket.scheme is None:
        raise InputError(f"values file {doc.where((*block, 'provider'))}: provider "
                         f"{bucket.provider!r} is not one operator-wandb renders (s3, gcs, az, "
                         "cw): the chart would give W&B an empty BUCKET")
    fix = None  # bucket settings are judged by the bucket checks, which carry their own fixes
    entries: list[EnvEntry] = []
    endpoint_setting: Setting | None = None
    secrets = [s for s in (bucket.access_key, bucket.secret_key) if s]
    if bucket.uses_keys and bucket.secret_name:
        # With secret.secretName the chart reads BUCKET_ACCESS_KEY / BUCKET_SECRET_KEY from that
        # Secret and writes no <release>-bucket Secret: inline keys are then not used at all.
        url, endpoint = without_keys(chart_url(bucket, ("k", "k")))
        ignored = (f"; the inline {bucket.block}.accessKey/secretKey are not used"
                   if bucket.access_key or bucket.secret_key else "")
        note = (f"the keys are in Secret {bucket.secret_name} (keys {bucket.access_key_name}, "
                f"{bucket.secret_key_name}), only in the cluster: left out, gccheck uses its own "
                f"credentials; pass --bucket with the keys, or run --workload after install, to "
                f"use the same keys{ignored}")
        entries.append(EnvEntry("BUCKET", url, f"{where} ({note})", fix, expand=False))
        if endpoint is not None:
            endpoint_setting = Setting(
                DERIVED_ENDPOINT, endpoint, f"{where}: derived by gccheck from the bucket name "
                f"(read {endpoint} as the S3 endpoint)")
    else:
        keys = (bucket.access_key, bucket.secret_key) if bucket.keys_inline else None
        entries.append(EnvEntry("BUCKET", chart_url(bucket, keys), where, fix, expand=False))
    for name, key, value in (("AWS_REGION", "region", bucket.region),
                             ("AWS_S3_KMS_ID", "kmsKey", bucket.kms_key)):
        if value:
            entries.append(EnvEntry(name, value, doc.where((*block, key)), expand=False))
    if bucket.provider == "az":
        entries.append(_azure_key(bucket, doc, block))
    return entries, secrets, endpoint_setting


def _azure_key(bucket: ChartBucket, doc: ValuesDoc, block: tuple[str, ...]) -> EnvEntry:
    # AZURE_STORAGE_KEY: secretKeyRef to the bucket Secret, key accessKeyName (optional).
    if bucket.secret_name:
        return EnvEntry("AZURE_STORAGE_KEY", None, doc.where(("global", "bucket", "secret")),
                        unresolved=f"in Secret {bucket.secret_name} key "
                                   f"{bucket.access_key_name}: {VALUE_FROM_HINT}")
    return EnvEntry("AZURE_STORAGE_KEY", bucket.access_key or None,
                    doc.where((*block, "accessKey")), expand=False,
                    unresolved=None if bucket.access_key else "no accessKey in the values")


# ---- wandb (legacy) ---------------------------------------------------------------------------


def _legacy_settings(merged: MergedValues, layers: Sequence[ValuesDoc], names: str,
                     namespace: str) -> Settings:
    entries: list[EnvEntry] = []
    url = merged.get(("bucket",))
    if url is not None and not isinstance(url, (str, int, float)):
        raise InputError(f"values file {_where(merged, ('bucket',))}: expected the bucket URL "
                         "as a string (the wandb chart's form)")
    if url:
        doc = merged.doc_for(("bucket",))
        assert doc is not None
        entries.append(EnvEntry("BUCKET", str(url), doc.where(("bucket",)), expand=False))
        entries.append(_legacy_region(merged, namespace))
        kms = merged.get(("bucketKmsKeyArn",))
        if kms:
            entries.append(EnvEntry("AWS_S3_KMS_ID", go_string(kms),
                                    _where(merged, ("bucketKmsKeyArn",)), expand=False))
    entries += _legacy_extra_env(merged)
    values = resolve(entries)
    return Settings(
        description=f"wandb chart values {names}", values=values, storage=storage_settings(values),
        fix_missing=_fix_text(layers[-1], ("extraEnv",), LIST_LEAF, "add"),
        secrets=tuple(_url_secrets(str(url)) if url else ()), notes=(LEGACY_NOTE,))


def _legacy_region(merged: MergedValues, namespace: str) -> EnvEntry:
    """AWS_REGION: `{{ .Values.bucketRegion | default .Release.Namespace }}`, where the chart's
    values.yaml sets bucketRegion: us-east-1; an empty or removed (null) one is the namespace."""
    path = ("bucketRegion",)
    region = merged.get(path)
    if region is None and not merged.removed(path):
        return EnvEntry("AWS_REGION", "us-east-1", "wandb chart default bucketRegion",
                        expand=False)
    if region is not None and not _empty(region):
        return EnvEntry("AWS_REGION", go_string(region), _where(merged, path), expand=False)
    how = "is removed" if region is None else "is empty"
    origin = (f"{_where(merged, path) if region is not None else 'bucketRegion'} {how}: the wandb "
              f"chart renders the release namespace {namespace!r} "
              "(bucketRegion | default .Release.Namespace)")
    return EnvEntry("AWS_REGION", namespace, origin, expand=False)


def _where(merged: MergedValues, path: tuple[str, ...]) -> str:
    doc = merged.doc_for(path)
    return doc.where(path) if doc else ".".join(path)


def _legacy_extra_env(merged: MergedValues) -> list[EnvEntry]:
    items = merged.get(("extraEnv",))
    if items is None:
        return []
    if not isinstance(items, list):
        raise InputError(f"values file {_where(merged, ('extraEnv',))}: expected a list of "
                         "{name, value} (the wandb chart's form)")
    doc = merged.doc_for(("extraEnv",))
    assert doc is not None
    entries = []
    for i, item in enumerate(items):
        path = ("extraEnv", str(i))
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            raise InputError(f"values file {doc.where(path)}: expected {{name: ..., value: ...}}")
        name = item["name"]
        origin = f"{doc.where(path)} {name}"
        fix = _fix_text(doc, ("extraEnv",), LIST_LEAF, "change", path)
        if "valueFrom" in item:
            entries.append(EnvEntry(name, None, origin, fix, unresolved=_value_from_reason(item)))
        else:
            value = item.get("value")
            if value is not None and not isinstance(value, str):
                # The chart writes the list with toYaml, so `value: true` reaches the API server
                # as a boolean, and it rejects the Deployment (EnvVar.value is a string): these
                # values cannot install, so there is nothing to judge. An input error (exit 2)
                # says so at once; an `unknown` would let a broken file pass as unverified.
                if isinstance(value, (Mapping, list)):
                    raise InputError(f"values file {origin}: expected a string value, got a "
                                     f"{'mapping' if isinstance(value, Mapping) else 'list'}")
                kind = ("boolean" if isinstance(value, bool) else "number"
                        if isinstance(value, (int, float)) else type(value).__name__)
                raise InputError(
                    f"values file {origin}: value {go_string(value)} is a YAML {kind}, but a "
                    "Kubernetes env value must be a string: the API server rejects the "
                    f"Deployment; quote it (value: \"{go_string(value)}\")")
            entries.append(EnvEntry(name, "" if value is None else value, origin, fix))
    return entries


def _url_secrets(url: str) -> list[str]:
    """The keys inside a bucket URL, plain and decoded, for the run's redactor (split as the
    bucket URL parser splits them)."""
    from urllib.parse import unquote

    parts = split_userinfo(url.strip())
    if parts is None or not parts.userinfo:
        return []
    pieces = split_credentials(parts.userinfo) or (parts.userinfo,)
    return [p for piece in pieces for p in {piece, unquote(piece)} if p]
