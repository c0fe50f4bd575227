"""The W&B operator's `WeightsAndBiases` custom resource, as a file given to `--values`.

apps.wandb.com/v1 carries operator-wandb Helm values under `spec.values`: they are read like a
values file (see helm_values).

apps.wandb.com/v2 is typed (wandb/operator `api/v2/weightsandbiases_types.go` and its
`legacy-overrides` design notes, read in the public repository). For an application's env,
highest first:
  1. spec.wandb.legacyOverrides.<application>.env   (a list of Kubernetes EnvVar)
  2. spec.wandb.legacyOverrides.global.env
  3. the server manifest's env, where GORILLA_ARTIFACT_GC_ENABLED comes from the first-class
     field spec.wandb.retention.artifactGarbageCollection
Within one list the last entry of a name wins. Which v2 application runs artifact GC is not
documented, so per-application overrides count only when they agree (else: unknown). The
bucket is spec.objectStore.<instance, default "default">.externalObjectStore, whose fields are
`{value: ...}` or `{valueFrom: {secretKeyRef: ...}}` (or the older `{name, key}`); gccheck
assembles the bucket URL from them in W&B's documented forms (the operator's own `url` wins).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, quote, urlsplit

from gccheck.errors import InputError
from gccheck.masking import describe_value
from gccheck.model import Setting, Settings
from gccheck.sources.envvars import EnvEntry, go_string, resolve
from gccheck.sources.interface import DERIVED_ENDPOINT, DERIVED_REGION, storage_settings
from gccheck.sources.values_files import LIST_LEAF, Path, yaml_snippet
from gccheck.url_parts import endpoint_scheme, parse_bool

GROUP = "apps.wandb.com"
KIND = "WeightsAndBiases"
GC_VARIABLE = "GORILLA_ARTIFACT_GC_ENABLED"
SECRET_HINT = "only in the cluster; use --workload to read it there"


@dataclass(frozen=True)
class CustomResource:
    version: str  # "v1" or "v2"
    name: str
    body: Mapping[str, Any]
    spec: Mapping[str, Any]


def classify(data: Mapping[str, Any], path: str) -> CustomResource | None:
    """The WeightsAndBiases resource in `data`, None for plain values; InputError for any other
    Kubernetes object or an apiVersion gccheck does not read."""
    api, kind = data.get("apiVersion"), data.get("kind")
    if api is None and kind is None:
        return None
    if not isinstance(api, str) or not isinstance(kind, str):
        raise InputError(f"values file {path}: apiVersion and kind must be strings")
    if kind.endswith("List") and isinstance(data.get("items"), list):
        return _from_list(data["items"], path)
    group, _, version = api.rpartition("/")
    if kind != KIND or group != GROUP:
        hint = (" (to read a live workload, use --workload)"
                if kind in ("Deployment", "StatefulSet", "Pod") else "")
        raise InputError(f"values file {path}: a {kind} ({api}), not W&B Helm values or a "
                         f"{KIND} resource{hint}")
    if version not in ("v1", "v2"):
        raise InputError(f"values file {path}: {KIND} {api} is not a version gccheck reads "
                         f"({GROUP}/v1 or {GROUP}/v2)")
    spec = data.get("spec")
    if not isinstance(spec, Mapping):
        raise InputError(f"values file {path}: {KIND} without a spec mapping")
    metadata = data.get("metadata")
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    return CustomResource(version, str(name or "wandb"), data, spec)


def _from_list(items: list[Any], path: str) -> CustomResource:
    found = [i for i in items if isinstance(i, Mapping) and i.get("kind") == KIND]
    if len(found) != 1:
        raise InputError(f"values file {path}: a list with {len(found)} {KIND} resources; "
                         "save the one to check on its own")
    resource = classify(found[0], path)
    assert resource is not None
    return resource


def v1_values(resource: CustomResource, path: str, lines: Mapping[Path, int]) -> Mapping[str, Any]:
    """The Helm values of a v1 resource (spec.values)."""
    values = resource.spec.get("values")
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        line = lines.get(("spec", "values"))
        at = f"line {line}: " if line else ""
        raise InputError(f"values file {path}: {at}spec.values must be a mapping of Helm values")
    return values


# ---- v2 -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Where:
    """Names places in the file: `wandb-cr.yaml: spec.wandb.retention (line 9)`."""

    file: str
    lines: Mapping[Path, int]

    def __call__(self, *path: str) -> str:
        line = self.lines.get(tuple(path))
        return f"{self.file}: {'.'.join(path)}" + (f" (line {line})" if line else "")

    def fix(self, path: Path, leaf: str, verb: str = "change") -> str:
        line = self.lines.get(path)
        at = f" (line {line})" if line and verb == "change" else ""
        return (f"{verb} in {self.file}{at}, then kubectl apply -f {self.file}:\n"
                + yaml_snippet(path, leaf))


def read_v2(resource: CustomResource, path: str, lines: Mapping[Path, int]) -> Settings:
    """Settings of an apps.wandb.com/v2 resource: env overrides, the GC field, the bucket."""
    where = _Where(path, lines)
    wandb = _mapping(resource.spec, "wandb", where, ("spec",))
    entries: list[EnvEntry] = []
    secrets: list[str] = []
    entries += _retention(wandb, where)
    derived: dict[str, Setting] = {}  # "endpoint", "region": what the object store says
    bucket_entries, bucket_secrets = _object_store(resource.spec, where, derived)
    entries += bucket_entries
    secrets += bucket_secrets
    overrides = _mapping(wandb, "legacyOverrides", where, ("spec", "wandb"))
    entries += _env_list(overrides, "global", where)
    entries += _per_application(overrides, where)
    gc_fix = ("set spec.wandb.retention.artifactGarbageCollection: true (the operator turns it "
              f"into {GC_VARIABLE}), or for any variable add to "
              "spec.wandb.legacyOverrides.global.env:\n")
    values = resolve(entries)
    return Settings(
        description=f"{KIND} resource {path} ({GROUP}/v2)",
        values=values,
        fix_missing=gc_fix + where.fix(("spec", "wandb", "legacyOverrides", "global", "env"),
                                       LIST_LEAF, "add"),
        secrets=tuple(secrets),
        storage=storage_settings(values, derived.get("endpoint"), derived.get("region")))


def _mapping(parent: Mapping[str, Any], key: str, where: _Where, at: Path) -> Mapping[str, Any]:
    value = parent.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InputError(f"values file {where(*at, key)}: expected a mapping")
    return value


def _retention(wandb: Mapping[str, Any], where: _Where) -> list[EnvEntry]:
    retention = _mapping(wandb, "retention", where, ("spec", "wandb"))
    if "artifactGarbageCollection" not in retention:
        return []
    path = ("spec", "wandb", "retention", "artifactGarbageCollection")
    value = retention["artifactGarbageCollection"]
    if value is not None and not isinstance(value, bool):
        # A switch: bool() would read "false" or {enabled: false} as true, and guessing what
        # the operator makes of them could pass a deployment whose GC is off.
        raise InputError(f"values file {where(*path)}: expected true or false, got "
                         f"{type(value).__name__}")
    return [EnvEntry(GC_VARIABLE, go_string(bool(value)),
                     where(*path), where.fix(path[:-1], "artifactGarbageCollection: {value}"),
                     expand=False)]


def _env_list(overrides: Mapping[str, Any], key: str, where: _Where) -> list[EnvEntry]:
    section = _mapping(overrides, key, where, ("spec", "wandb", "legacyOverrides"))
    items = section.get("env")
    base = ("spec", "wandb", "legacyOverrides", key, "env")
    if items is None:
        return []
    if not isinstance(items, list):
        raise InputError(f"values file {where(*base)}: expected a list of {{name, value}}")
    entries = []
    for i, item in enumerate(items):
        at = (*base, str(i))
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            raise InputError(f"values file {where(*at)}: expected {{name: ..., value: ...}}")
        name = item["name"]
        origin = f"{where(*at)} {name}"
        fix = where.fix(base, LIST_LEAF)
        if "valueFrom" in item:
            entries.append(EnvEntry(name, None, origin, fix,
                                    unresolved=f"valueFrom in the resource: {SECRET_HINT}"))
        else:
            value = item.get("value")
            entries.append(EnvEntry(name, "" if value is None else go_string(value), origin, fix))
    return entries


def _per_application(overrides: Mapping[str, Any], where: _Where) -> list[EnvEntry]:
    """Per-application env overrides, merged across applications where they agree."""
    by_name: dict[str, list[tuple[str, EnvEntry]]] = {}
    for app in sorted((k for k in overrides if k != "global"), key=str):
        final: dict[str, EnvEntry] = {}
        for entry in _env_list(overrides, str(app), where):
            final[entry.name] = entry  # the last entry of a name wins
        for name, entry in final.items():
            by_name.setdefault(name, []).append((str(app), entry))
    merged = []
    for name, found in by_name.items():
        values = {(e.value, e.unresolved) for _, e in found}
        first = found[0][1]
        if len(values) == 1:
            merged.append(first)
            continue
        apps = ", ".join(app for app, _ in found)
        merged.append(EnvEntry(name, None, f"{where.file}: spec.wandb.legacyOverrides ({apps})",
                               first.fix, unresolved=f"set differently for the applications "
                               f"{apps}; which one runs artifact GC is not documented"))
    return merged


# ---- object store -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    value: str | None = None
    unresolved: str | None = None


def _field(store: Mapping[str, Any], key: str, where: _Where, at: Path) -> _Field:
    """A ValueOrSecret: {value}, {valueFrom: {secretKeyRef}}, the older {name, key}, or a bare
    scalar."""
    raw = store.get(key)
    if raw is None:
        return _Field()
    value = raw.get("value") if isinstance(raw, Mapping) else raw
    if isinstance(value, Mapping | list):
        inner = (*at, key, "value") if isinstance(raw, Mapping) else (*at, key)
        raise InputError(f"values file {where(*inner)}: expected a string, got a "
                         f"{'list' if isinstance(value, list) else 'mapping'}")
    if not isinstance(raw, Mapping):
        return _Field(go_string(raw))
    if raw.get("value") not in (None, ""):
        return _Field(go_string(raw["value"]))
    source = raw.get("valueFrom")
    ref = source.get("secretKeyRef") if isinstance(source, Mapping) else None
    if not isinstance(ref, Mapping) and raw.get("name"):
        ref = raw
    if isinstance(ref, Mapping):
        return _Field(unresolved=f"from Secret {ref.get('name')} key {ref.get('key')}, "
                                 f"{SECRET_HINT}")
    return _Field()


def _object_store(spec: Mapping[str, Any], where: _Where,
                  derived: dict[str, Setting]) -> tuple[list[EnvEntry], list[str]]:
    stores = _mapping(spec, "objectStore", where, ("spec",))
    if not stores:
        return [], []
    instance = "default" if "default" in stores else sorted(stores, key=str)[0]
    entry = stores[instance]
    at = ("spec", "objectStore", str(instance))
    if not isinstance(entry, Mapping):
        raise InputError(f"values file {where(*at)}: expected a mapping")
    if isinstance(entry.get("externalObjectStore"), Mapping):
        return _external_store(entry["externalObjectStore"], where, (*at, "externalObjectStore"),
                               derived)
    if entry.get("managedObjectStore") is not None:
        return [EnvEntry("BUCKET", None, where(*at, "managedObjectStore"),
                         unresolved="the operator runs this object store in the cluster; its URL "
                                    "is known only there: use --workload, or --bucket")], []
    return [], []


def _external_store(store: Mapping[str, Any], where: _Where, at: Path,
                    derived: dict[str, Setting]) -> tuple[list[EnvEntry], list[str]]:
    origin = where(*at)
    fields = {key: _field(store, key, where, at) for key in (
        "provider", "endpoint", "port", "accessKey", "secretKey", "bucket", "path", "region",
        "tlsEnabled", "forcePathStyle", "url")}
    for key in ("tlsEnabled", "forcePathStyle"):
        value = fields[key].value
        try:
            parse_bool(value)
        except ValueError:
            raise InputError(f"values file {where(*at, key)}: expected true or false, got "
                             f"{describe_value(value or '')}") from None
    # The URL's own keys are learned by the run's redactor when BUCKET is read; the URL
    # itself is not a secret.
    secrets = [f.value for k, f in fields.items() if f.value and k in ("accessKey", "secretKey")]
    entries: list[EnvEntry] = []
    if fields["region"].value:
        derived["region"] = Setting(DERIVED_REGION, fields["region"].value, where(*at, "region"))
    if fields["url"].value:
        return [*entries, EnvEntry("BUCKET", fields["url"].value, where(*at, "url"),
                                   expand=False)], secrets
    if fields["bucket"].unresolved or not fields["bucket"].value:
        why = fields["bucket"].unresolved or "no bucket is set"
        return [*entries, EnvEntry("BUCKET", None, origin, unresolved=f"bucket {why}")], secrets
    provider = (fields["provider"].value or "s3").lower()
    if provider in ("gcs", "gs"):
        entries.append(EnvEntry("BUCKET", _join("gs://", fields), origin, expand=False))
    elif provider in ("azure", "az"):
        entries += _azure_store(fields, origin, where(*at, "endpoint"))
    elif provider == "s3":
        entries += _s3_store(fields, origin, where(*at, "endpoint"), derived)
    else:
        raise InputError(f"values file {where(*at, 'provider')}: provider {provider!r} is not "
                         "one gccheck reads (s3, gcs, azure)")
    return entries, secrets


def _join(prefix: str, fields: Mapping[str, _Field]) -> str:
    path = (fields["path"].value or "").strip("/")
    bucket = fields["bucket"].value or ""
    return f"{prefix}{bucket}/{path}" if path else f"{prefix}{bucket}"


def _keys(fields: Mapping[str, _Field]) -> tuple[str, str] | str | None:
    """(key, secret), None when there are none, or why they cannot be known."""
    access, secret = fields["accessKey"], fields["secretKey"]
    if access.unresolved or secret.unresolved:
        return access.unresolved or secret.unresolved or ""
    if access.value and secret.value:
        return access.value, secret.value
    return None


def _s3_store(fields: Mapping[str, _Field], origin: str, at_endpoint: str,
              derived: dict[str, Setting]) -> list[EnvEntry]:
    keys = _keys(fields)
    endpoint = fields["endpoint"].value
    query = _s3_query(fields, endpoint)
    note = (f" (keys {keys}: left out, gccheck uses its own credentials)"
            if isinstance(keys, str) else "")
    if not endpoint:
        userinfo = (f"{quote(keys[0], safe='')}:{quote(keys[1], safe='')}@"
                    if isinstance(keys, tuple) else "")
        return [EnvEntry("BUCKET", _join(f"s3://{userinfo}", fields) + query, origin + note,
                         expand=False)]
    hostport, secure = _endpoint(endpoint, fields, at_endpoint)
    if isinstance(keys, tuple):
        userinfo = f"{quote(keys[0], safe='')}:{quote(keys[1], safe='')}@"
        return [EnvEntry("BUCKET", _join(f"s3://{userinfo}{hostport}/", fields) + query, origin,
                         expand=False)]
    # Without keys gccheck's URL grammar has no endpoint form: name the endpoint apart.
    url = f"{'https' if secure else 'http'}://{hostport}"
    derived["endpoint"] = Setting(DERIVED_ENDPOINT, url, f"{origin}: endpoint (derived by gccheck)")
    return [EnvEntry("BUCKET", _join(f"s3://{hostport}/", fields) + query, origin + note,
                     expand=False)]


def _split_endpoint(endpoint: str, at_endpoint: str) -> tuple[SplitResult, int | None]:
    """The endpoint (a URL or host[:port]) and its port; InputError when it is neither."""
    try:
        parts = urlsplit(endpoint if "://" in endpoint else f"//{endpoint}")
        return parts, parts.port
    except ValueError:
        raise InputError(f"values file {at_endpoint}: expected a URL or HOST[:PORT], got "
                         f"{describe_value(endpoint)}") from None


def _endpoint(endpoint: str, fields: Mapping[str, _Field], at_endpoint: str) -> tuple[str, bool]:
    parts, parsed_port = _split_endpoint(endpoint, at_endpoint)
    hostport = parts.netloc or endpoint
    port = fields["port"].value
    if port and parsed_port is None:
        hostport = f"{hostport}:{port}"
    tls = _flag(fields["tlsEnabled"].value)
    if tls is None and parts.scheme:
        tls = parts.scheme.lower() == "https"
    # No scheme and no tlsEnabled: the bucket URL parser's rule (https for AWS, CoreWeave).
    secure = endpoint_scheme(parts.hostname or "", tls) == "https"
    return hostport, secure


def _flag(value: str | None) -> bool | None:
    # Checked in _external_store: a value parse_bool cannot read never gets here.
    try:
        return parse_bool(value)
    except ValueError:
        return None


def _s3_query(fields: Mapping[str, _Field], endpoint: str | None) -> str:
    params = []
    if fields["region"].value:
        params.append(f"region={quote(fields['region'].value, safe='')}")
    if endpoint:
        tls = _flag(fields["tlsEnabled"].value)
        if tls is None and "://" in endpoint:
            tls = endpoint.lower().startswith("https://")
        if tls is not None:
            params.append(f"tls={'true' if tls else 'false'}")
    if _flag(fields["forcePathStyle"].value):
        params.append("forcePathStyle=true")
    return "?" + "&".join(params) if params else ""


def _azure_store(fields: Mapping[str, _Field], origin: str, at_endpoint: str) -> list[EnvEntry]:
    # W&B's Azure URL needs the storage account: read from the endpoint's host
    # (https://ACCOUNT.blob.core.windows.net) or taken as given when it is a bare name.
    endpoint = fields["endpoint"].value or ""
    host = _split_endpoint(endpoint, at_endpoint)[0].hostname or ""
    account = host.split(".", 1)[0]
    entries: list[EnvEntry] = []
    if not account:
        entries.append(EnvEntry("BUCKET", None, origin, unresolved="an Azure object store needs "
                                "the storage account, which gccheck reads from endpoint"))
    else:
        entries.append(EnvEntry("BUCKET", _join(f"az://{account}/", fields), origin,
                                expand=False))
    key = fields["secretKey"] if (fields["secretKey"].value or fields["secretKey"].unresolved) \
        else fields["accessKey"]
    if key.value or key.unresolved:
        entries.append(EnvEntry("AZURE_STORAGE_KEY", key.value, origin, unresolved=key.unresolved,
                                expand=False))
    return entries

