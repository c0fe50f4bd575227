"""Bad input never crashes the settings sources: random YAML-shaped values at the places the
charts and the WeightsAndBiases resource are read, and random fleet files, end in settings (then
a verdict) or in gccheck's own InputError, never in another exception."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gccheck.engine import check_prepared, prepare
from gccheck.errors import InputError
from gccheck.fleet import ENTRY_KEYS, Fleet, load_fleet, parse_fleet
from gccheck.masking import Redactor
from gccheck.matrix import Matrix, load_matrix
from gccheck.model import BucketFacts, Unavailable, UnavailableKind
from gccheck.rules import RULES
from gccheck.target import TargetSpec, ValuesFiles

# GCCHECK_FUZZ_EXAMPLES=5000 for a longer hunt than CI's.
FAST = settings(max_examples=int(os.environ.get("GCCHECK_FUZZ_EXAMPLES", "250")), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
MATRIX: Matrix = load_matrix(None, RULES)
GC = "GORILLA_ARTIFACT_GC_ENABLED"

# ---- values: YAML-shaped, with the shapes the readers look for mixed in ------------------------

scalars = (st.none() | st.booleans() | st.integers(-10**20, 10**20)
           | st.floats(allow_nan=True, allow_infinity=True)
           | st.text(max_size=20)
           | st.sampled_from(["", "true", "false", "s3", "gcs", "az", "cw", "minio", "0",
                              "s3://b", "s3://AK:SK@host:9000/b", "gs://b/p", "az://acct/c",
                              "cw://AK:SK@cwobject.com/b", "host:9000", "$(BUCKET)", "{{ x }}",
                              "http://127.0.0.1:1", "a/b/c", "%zz", "@", ":", "..", "\x00",
                              "v1", "apps.wandb.com/v1", "apps.wandb.com/v2", "WeightsAndBiases"]))
keys = st.text(max_size=10) | st.sampled_from([
    "name", "value", "valueFrom", "secretKeyRef", "configMapKeyRef", "key", "optional",
    "provider", "path", "region", "kmsKey", "accessKey", "secretKey", "secret", "secretName",
    "accessKeyName", "secretKeyName", "env", "extraEnv", "bucket", "defaultBucket", "size",
    "sizing", "default", "containers", "app", "global", GC, "BUCKET", "endpoint", "port",
    "url", "tlsEnabled", "forcePathStyle", "externalObjectStore", "managedObjectStore"])
values = st.recursive(
    scalars,
    lambda children: (st.lists(children, max_size=4)
                      | st.dictionaries(keys | st.integers(-3, 3) | st.booleans(), children,
                                        max_size=5)),
    max_leaves=25)

# Where the readers look (operator-wandb, the legacy chart, WeightsAndBiases v1/v2).
OPERATOR_PLACES = [
    ("global", "env"), ("global", "extraEnv"), ("app", "env"), ("app", "extraEnv"),
    ("app", "containers", "app", "env"), ("app", "sizing", "default", "env"),
    ("app", "sizing", "small", "env"), ("app", "size"), ("global", "size"),
    ("global", "bucket"), ("global", "bucket", "provider"), ("global", "bucket", "name"),
    ("global", "bucket", "path"), ("global", "bucket", "accessKey"),
    ("global", "bucket", "secretKey"), ("global", "bucket", "secret"),
    ("global", "bucket", "region"), ("global", "defaultBucket"), ("global",), ("app",),
    ("global", "env", GC), ("global", "extraEnv", GC), ("app", "env", GC),
    ("global", "extraEnv", "BUCKET"),
]
LEGACY_PLACES = [("bucket",), ("bucketRegion",), ("bucketKmsKeyArn",), ("extraEnv",),
                 ("extraEnv", 0), ("extraEnv", 0, "value"), ("extraEnv", 0, "valueFrom")]
V2_PLACES = [
    ("spec",), ("spec", "wandb"), ("spec", "wandb", "retention"),
    ("spec", "wandb", "retention", "artifactGarbageCollection"),
    ("spec", "wandb", "legacyOverrides"), ("spec", "wandb", "legacyOverrides", "global"),
    ("spec", "wandb", "legacyOverrides", "global", "env"),
    ("spec", "wandb", "legacyOverrides", "app", "env"),
    ("spec", "wandb", "legacyOverrides", "api", "env"),
    ("spec", "objectStore"), ("spec", "objectStore", "default"),
    ("spec", "objectStore", "default", "externalObjectStore"),
    ("spec", "objectStore", "default", "externalObjectStore", "bucket"),
    ("spec", "objectStore", "default", "externalObjectStore", "provider"),
    ("spec", "objectStore", "default", "externalObjectStore", "endpoint"),
    ("spec", "objectStore", "default", "externalObjectStore", "accessKey"),
    ("spec", "objectStore", "default", "externalObjectStore", "url"),
    ("spec", "objectStore", "default", "managedObjectStore"), ("metadata",), ("apiVersion",),
    ("kind",),
]


def operator_base() -> dict[str, Any]:
    return {"global": {"bucket": {"provider": "s3", "name": "wandb-bucket", "region": "us-east-1",
                                  "accessKey": "AKIAFUZZ", "secretKey": "fuzz/secret+key"},
                       "extraEnv": {GC: "true"}},
            "app": {"env": {"OTHER": "1"}}}


def legacy_base() -> dict[str, Any]:
    return {"bucket": "s3://wandb-bucket", "extraEnv": [{"name": GC, "value": "true"}]}


def v1_base() -> dict[str, Any]:
    return {"apiVersion": "apps.wandb.com/v1", "kind": "WeightsAndBiases",
            "metadata": {"name": "wandb"}, "spec": {"values": operator_base()}}


def v2_base() -> dict[str, Any]:
    return {"apiVersion": "apps.wandb.com/v2", "kind": "WeightsAndBiases",
            "metadata": {"name": "wandb"},
            "spec": {"wandb": {"retention": {"artifactGarbageCollection": True},
                               "legacyOverrides": {"global": {"env": [
                                   {"name": "X", "value": "1"}]}}},
                     "objectStore": {"default": {"externalObjectStore": {
                         "provider": {"value": "s3"}, "endpoint": {"value": "http://h:9000"},
                         "bucket": {"value": "wandb-bucket"},
                         "accessKey": {"valueFrom": {"secretKeyRef": {"name": "s",
                                                                        "key": "k"}}}}}}}}


BASES = {"operator": (operator_base, OPERATOR_PLACES),
         "legacy": (legacy_base, LEGACY_PLACES),
         "cr-v1": (v1_base, [("spec", "values", *p) for p in OPERATOR_PLACES] + V2_PLACES[:2]),
         "cr-v2": (v2_base, V2_PLACES)}


def put(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    """`data` with `value` at `path`, creating (or replacing) containers on the way."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(head, int):
        items = list(data) if isinstance(data, list) else []
        while len(items) <= head:
            items.append({})
        items[head] = put(items[head], rest, value)
        return items
    mapping = dict(data) if isinstance(data, dict) else {}
    mapping[head] = put(mapping.get(head), rest, value)
    return mapping


def judge(paths: tuple[str, ...]) -> None:
    """Read the files the way `check --values` does, then judge them (no network: the bucket's
    facts are 'unavailable')."""
    spec = TargetSpec(name="fuzz", hosting="customer-managed-cloud", source=ValuesFiles(paths),
                      timeout=1)
    try:
        prepared = prepare(spec, MATRIX, {}, Redactor())
    except InputError as error:
        assert "\n" not in str(error) and str(error)
        return
    for setting in prepared.settings.values.values():
        assert setting.value is None or isinstance(setting.value, str)
        assert isinstance(setting.origin, str)
    report = check_prepared(prepared, MATRIX, _NoNetwork(), None)  # type: ignore[arg-type]
    assert {r.id for r in report.results} >= set(MATRIX.requirements)


class _NoNetwork:
    """A probe registry whose every probe reports that it could not look."""

    def for_provider(self, provider: str) -> Any:
        return self

    def probe(self, bucket: Any, settings: Any, options: Any) -> BucketFacts:
        missing = Unavailable(UnavailableKind.ERROR, "not probed (fuzz test)")
        return BucketFacts(provider=bucket.provider, versioning=missing,
                           blob_soft_delete=missing, lifecycle=missing,
                           delete_protection=missing)


@FAST
@given(st.sampled_from(sorted(BASES)), st.data())
def test_values_and_resources_never_crash(tmp_path_factory: pytest.TempPathFactory, base: str,
                                          data: st.DataObject) -> None:
    make, places = BASES[base]
    doc: Any = make()
    for _ in range(data.draw(st.integers(1, 3))):
        doc = put(doc, data.draw(st.sampled_from(places)), data.draw(values))
    path = tmp_path_factory.mktemp("values") / "values.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    judge((str(path),))


@FAST
@given(st.lists(st.sampled_from(sorted(BASES)), min_size=2, max_size=3), st.data())
def test_merged_values_files_never_crash(tmp_path_factory: pytest.TempPathFactory,
                                         bases: list[str], data: st.DataObject) -> None:
    folder = tmp_path_factory.mktemp("merge")
    paths = []
    for i, base in enumerate(bases):
        make, places = BASES[base]
        doc = put(make(), data.draw(st.sampled_from(places)), data.draw(values))
        if data.draw(st.booleans()):
            doc = put(doc, data.draw(st.sampled_from(places)), None)  # null removes a key
        (folder / f"{i}.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True))
        paths.append(str(folder / f"{i}.yaml"))
    judge(tuple(paths))


@FAST
@given(st.text(max_size=300) | st.binary(max_size=300).map(
    lambda b: b.decode("latin-1")))
@example("a: &a [*a]\n")
@example("global: &g {bucket: *g}\n")
@example("global: {extraEnv: {X: &x [*x, *x]}}\n")
@example("apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nspec: &s {wandb: *s}\n")
@example("- 1\n- 2\n")
@example("global: !!python/object/apply:os.system ['true']\n")
def test_values_text_never_crashes(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    path = tmp_path_factory.mktemp("text") / "values.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    judge((str(path),))


# ---- the fleet file ---------------------------------------------------------------------------

fleet_values = values | st.sampled_from([
    "customer-managed-cloud", "on-prem", "shared-cloud", "auto", "wandb/auto",
    "wandb/deployment/wandb-app", "sts/x:app", "deployment/", "s3://bucket",
    "s3://AK:SK@h:1/b", "gs://b", "az://a/c", "http://127.0.0.1:9000", "https://x", "mgmt",
    "data", 0.05, 10, 601, "10s", "~nosuchuser/kubeconfig", "a" * 5000, "/", ".", "values.yaml",
    ["values.yaml", "other.yaml"], {GC: True}, {"": "x"}, {"A B": 1}])
GOOD = {  # a valid value for each key, so that entries get past the first check
    "hosting": st.sampled_from(sorted(MATRIX.hosting_types)),
    "bucket": st.sampled_from(["s3://wandb-bucket", "gs://wandb-bucket", "az://acct/c"]),
    "env": st.just({GC: "true"}), "env-file": st.just("lab.env"),
    "values": st.sampled_from(["values.yaml", ["values.yaml", "values.yaml"]]),
    "workload": st.sampled_from(["auto", "wandb/deployment/wandb-app"]),
    "kubeconfig": st.just("kubeconfig"), "context": st.just("prod"),
    "endpoint-url": st.just("http://127.0.0.1:9000"), "aws-profile": st.just("prod"),
    "azure-subscription": st.just("sub"), "azure-resource-group": st.just("rg"),
    "azure-plane": st.sampled_from(["mgmt", "data"]),
    "azure-blob-endpoint": st.just("http://127.0.0.1:10000/devstoreaccount1"),
    "azure-arm-endpoint": st.just("https://127.0.0.1:1"), "timeout": st.floats(0.1, 600),
}


@st.composite
def entries(draw: st.DrawFn, named: bool = True) -> dict[str, Any]:
    """A valid entry (some optional keys), then 0-2 keys set to anything at all."""
    entry: dict[Any, Any] = {"name": draw(st.text(min_size=1, max_size=8))} if named else {}
    entry["hosting"] = draw(GOOD["hosting"])
    for key in draw(st.lists(st.sampled_from(sorted(GOOD)), max_size=3, unique=True)):
        entry[key] = draw(GOOD[key])
    for _ in range(draw(st.integers(0, 2))):
        key = draw(st.sampled_from([*ENTRY_KEYS, "env_file", "junk"]) | keys)
        entry[key] = draw(fleet_values)
    if draw(st.booleans()):  # a file name that is no file name
        key = draw(st.sampled_from(["env-file", "values", "kubeconfig"]))
        entry[key] = draw(paths)
        if key == "kubeconfig":
            entry.setdefault("workload", "auto")
    return entry


paths = st.text(max_size=30) | st.sampled_from([
    "~nosuchuser/kubeconfig", "~", "a" * 5000, "x/" * 3000, "/", ".", "..", "lab.env/",
    "/dev/null", "/proc/self/mem", "values.yaml\x00"]) | st.lists(st.sampled_from([
        "~nosuchuser/v.yaml", "a" * 300, "/"]), min_size=1, max_size=2)


fleets = st.fixed_dictionaries(
    {"deployments": st.lists(entries() | values, max_size=4) | values},
    optional={"version": st.sampled_from([1, 2, "1"]) | values,
              "defaults": entries(named=False) | values, "extra": values})


@FAST
@given(fleets)
@example({"deployments": [{"name": "a", "hosting": "on-prem", "workload": "auto",
                           "kubeconfig": "~nosuchuser/kubeconfig"}]})
@example({"deployments": [{"name": "a", "hosting": "on-prem", "values": "a" * 5000}]})
@example({"deployments": [{"name": "a", "hosting": "on-prem", "workload": "auto",
                           "kubeconfig": "a" * 5000}]})
def test_fleet_loader_never_crashes(tmp_path_factory: pytest.TempPathFactory,
                                    data: dict[str, Any]) -> None:
    folder = tmp_path_factory.mktemp("fleet")
    (folder / "values.yaml").write_text(yaml.safe_dump(operator_base()))
    (folder / "kubeconfig").write_text("apiVersion: v1\nkind: Config\n")
    (folder / "lab.env").write_text(f"{GC}=true\n")
    try:
        fleet = parse_fleet(data, "fuzz.yaml", MATRIX, base=folder)
    except InputError as error:
        assert str(error).startswith("fleet file fuzz.yaml: ") and "\n" not in str(error)
        return
    assert isinstance(fleet, Fleet) and fleet.specs
    for spec in fleet.specs:
        assert spec.hosting in MATRIX.hosting_types
        assert 0.1 <= spec.timeout <= 600 and not math.isnan(spec.timeout)


@FAST
@given(fleets)
def test_fleet_file_round_trip_never_crashes(tmp_path_factory: pytest.TempPathFactory,
                                             data: dict[str, Any]) -> None:
    """The same through the file loader (libyaml, then the messages of the pure loader)."""
    folder = tmp_path_factory.mktemp("fleetfile")
    path = folder / "fleet.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    try:
        load_fleet(path, MATRIX)
    except InputError as error:
        assert "\n" not in str(error)


@FAST
@given(st.text(max_size=300))
@example("deployments: &d [{name: a, hosting: on-prem, env: {X: *d}}]\n")
@example("deployments:\n- &e {name: a, hosting: on-prem}\n- *e\n")
@example("defaults: &d {env: *d}\ndeployments: [{name: a, hosting: on-prem}]\n")
def test_fleet_text_never_crashes(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    path = tmp_path_factory.mktemp("fleettext") / "fleet.yaml"
    path.write_text(text)
    try:
        load_fleet(path, MATRIX)
    except InputError as error:
        assert "\n" not in str(error)


def test_the_strategies_reach_the_readers(tmp_path: Path) -> None:
    """Not vacuous: the bases themselves read into settings with the GC variable."""
    for name, (make, _) in BASES.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(make()))
        spec = TargetSpec(name="x", hosting="on-prem", source=ValuesFiles((str(path),)))
        prepared = prepare(spec, MATRIX, {}, Redactor())
        assert prepared.settings.get(GC) == "true", name


# ---- the live workload: whatever the API answers ------------------------------------------------

class _FakeKube:
    """Answers every ConfigMap/Secret read with the same drawn object (or a failure)."""

    namespace = "wandb"

    def __init__(self, answer: Any) -> None:
        self.answer = answer

    def fetch(self, kind: str, namespace: str, name: str) -> Any:
        from gccheck.sources.kubernetes.resolver import Fetched

        if isinstance(self.answer, dict):
            return Fetched(self.answer)
        return Fetched(None, f"{kind} {namespace}/{name}: forbidden", missing=bool(self.answer))


env_item = st.fixed_dictionaries({"name": st.sampled_from([GC, "BUCKET", "X"]) | values}, optional={
    "value": st.sampled_from(["true", "s3://AK:SK@h:9/wandb-bucket", "$(X)", "$$(X)"]) | values,
    "valueFrom": values | st.fixed_dictionaries({}, optional={
        "configMapKeyRef": values | st.fixed_dictionaries({"name": values, "key": values},
                                                          optional={"optional": values}),
        "secretKeyRef": values | st.fixed_dictionaries({"name": values, "key": values},
                                                       optional={"optional": values}),
        "fieldRef": values | st.fixed_dictionaries({"fieldPath": values})})})
container = st.fixed_dictionaries({}, optional={
    "name": st.sampled_from(["app", "wandb", "proxy"]) | values,
    "image": st.sampled_from(["wandb/local:1", "r.io:5000/wandb/megabinary@sha256:x"]) | values,
    "env": st.lists(env_item | values, max_size=4) | values,
    "envFrom": st.lists(st.fixed_dictionaries({}, optional={
        "prefix": values, "configMapRef": values | st.fixed_dictionaries({"name": values}),
        "secretRef": values | st.fixed_dictionaries({"name": values})}) | values,
        max_size=3) | values})
def _nest(key: str, inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """{key: inner}, or anything at all in its place."""
    return st.fixed_dictionaries({key: inner}) | values


workload = st.fixed_dictionaries({
    "kind": st.sampled_from(["Deployment", "StatefulSet"]) | values,
    "metadata": st.fixed_dictionaries({}, optional={
        "name": values, "namespace": values, "labels": values, "annotations": values,
        "ownerReferences": values}) | values,
    "spec": _nest("template", _nest("spec", _nest(
        "containers", st.lists(container | values, max_size=3) | values)))})
answers = (st.fixed_dictionaries({"kind": st.just("Secret")}, optional={
    "data": st.dictionaries(st.sampled_from([GC, "k", "url", "ACCESS_KEY"]) | keys,
                            st.sampled_from(["dHJ1ZQ==", "not base64!", "", "/w=="]) | values,
                            max_size=4) | values}) | st.booleans())


@FAST
@given(workload, answers, st.none() | st.sampled_from(["app", "proxy", "nope"]))
def test_workload_reader_never_crashes(obj: dict[str, Any], answer: Any,
                                       wanted: str | None) -> None:
    from gccheck.sources.kubernetes.workload import workload_settings

    try:
        found = workload_settings(_FakeKube(answer), obj, wanted)  # type: ignore[arg-type]
    except InputError as error:
        assert "\n" not in str(error)
        return
    for name in found.values:
        setting = found.values[name]
        assert setting.value is None or isinstance(setting.value, str)
