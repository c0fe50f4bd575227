"""Helm values files and WeightsAndBiases resources as settings sources (`--values/-f`)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from support.constants import FIXTURES

from gccheck.bucket_url import parse_bucket_url
from gccheck.errors import InputError
from gccheck.model import Settings
from gccheck.sources.envvars import expand, go_string
from gccheck.sources.helm_values import HelmValuesSource

VALUES = FIXTURES / "values"
GC = "GORILLA_ARTIFACT_GC_ENABLED"


def read(*paths: str | Path) -> Settings:
    return HelmValuesSource(tuple(str(p) for p in paths)).read()


def write(tmp_path: Path, text: str, name: str = "values.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


# ---- the operator-wandb env precedence -----------------------------------------------------

LAYERS = {
    "containers": ("app", "containers", "app", "env"),
    "app.env": ("app", "env"),
    "app.extraEnv": ("app", "extraEnv"),
    "global.env": ("global", "env"),
    "global.extraEnv": ("global", "extraEnv"),
    "sizing": ("app", "sizing", "small", "env"),
}
ORDER = list(LAYERS)


def nested(path: tuple[str, ...], leaf: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = leaf
    for key in reversed(path):
        out = {key: out}
    return out


def deep_merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    for key, value in b.items():
        if isinstance(value, dict) and isinstance(a.get(key), dict):
            deep_merge(a[key], value)
        else:
            a[key] = value
    return a


def values_with(layers: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {"global": {"size": "small"}}
    for layer, value in layers.items():
        deep_merge(data, nested(LAYERS[layer], {GC: value}))
    return data


@pytest.mark.parametrize("higher,lower", [(h, lo) for i, h in enumerate(ORDER)
                                          for lo in ORDER[i + 1:]])
def test_more_specific_env_map_wins(tmp_path: Path, higher: str, lower: str) -> None:
    import yaml

    path = write(tmp_path, yaml.safe_dump(values_with({higher: "true", lower: "no"})))
    setting = read(path).values[GC]
    assert setting.value == "true"
    assert f"{'.'.join(LAYERS[higher])}.{GC}" in setting.origin
    assert "(line " in setting.origin


def test_each_env_map_alone_is_read(tmp_path: Path) -> None:
    import yaml

    for layer in ORDER:
        path = write(tmp_path, yaml.safe_dump(values_with({layer: "true"})))
        assert read(path).get(GC) == "true", layer


def test_empty_value_in_a_higher_map_is_filled_from_a_lower_one(tmp_path: Path) -> None:
    # Sprig's merge keeps the first map's value unless it is empty ("", false, 0).
    path = write(tmp_path, f"""\
        app:
          env:
            {GC}: false
            EMPTY: ""
            WORD: "false"
        global:
          extraEnv:
            {GC}: "true"
            EMPTY: "filled"
            WORD: "true"
        """)
    values = read(path).values
    assert values[GC].value == "true"
    assert "global.extraEnv" in values[GC].origin
    assert values["EMPTY"].value == "filled"
    assert values["WORD"].value == "false"  # a non-empty string is kept
    assert "app.env.WORD" in values["WORD"].origin


def test_lone_false_renders_false(tmp_path: Path) -> None:
    path = write(tmp_path, f"app:\n  env:\n    {GC}: false\n")
    assert read(path).get(GC) == "false"


def test_user_env_beats_the_chart_computed_bucket(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        global:
          bucket: {provider: s3, name: from-the-chart}
          extraEnv:
            BUCKET: "s3://overridden"
        """)
    setting = read(path).values["BUCKET"]
    assert setting.value == "s3://overridden"
    assert "global.extraEnv.BUCKET" in setting.origin


def test_values_print_like_helm_tostring(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        global:
          extraEnv:
            A_BOOL: true
            AN_INT: 8
            A_BIG_INT: 1000000
            A_FLOAT: 0.25
        """)
    values = read(path).values
    assert [values[k].value for k in ("A_BOOL", "AN_INT", "A_BIG_INT", "A_FLOAT")] == [
        "true", "8", "1e+06", "0.25"]


def test_value_from_in_a_values_file_is_unresolved_with_a_hint() -> None:
    setting = read(VALUES / "operator-valuefrom.yaml").values[GC]
    assert setting.value is None
    assert "wandb-flags" in (setting.unresolved or "")
    assert "--workload" in (setting.unresolved or "")


def test_value_map_with_value_key(tmp_path: Path) -> None:
    path = write(tmp_path, f"global:\n  extraEnv:\n    {GC}:\n      value: true\n")
    assert read(path).get(GC) == "true"


def test_dollar_references_expand_like_kubernetes(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        global:
          bucket: {provider: gcs, name: acme}
          extraEnv:
            COPY: "$(BUCKET)/x"
            ESCAPED: "$$(BUCKET)"
            UNDEFINED: "$(NOPE)"
        """)
    values = read(path).values
    assert values["COPY"].value == "gs://acme/x"
    assert values["ESCAPED"].value == "$(BUCKET)"
    assert values["UNDEFINED"].value == "$(NOPE)"


def test_fix_is_a_snippet_for_the_winning_map(tmp_path: Path) -> None:
    path = write(tmp_path, f'app:\n  env:\n    {GC}: "false"\n')
    settings = read(path)
    fix = settings.values[GC].fix or ""
    assert f"{path} (line 3)" in fix
    assert fix.endswith('app:\n  env:\n    {name}: "{value}"')
    assert settings.fix_missing.endswith('global:\n  extraEnv:\n    {name}: "{value}"')
    assert "helm upgrade" in settings.fix_missing


# ---- the bucket ---------------------------------------------------------------------------

def bucket_values(tmp_path: Path, block: str, provider: str, path: str = "",
                  keys: bool = False) -> Path:
    lines = [f"global:\n  {block}:\n    provider: {provider}\n    name: store1\n"]
    if path:
        lines.append(f"    path: {path}\n")
    if keys:
        lines.append("    accessKey: AKIAEXAMPLEKEY0001\n    secretKey: secret0000example\n")
    if block == "defaultBucket":
        lines.append("  bucket:\n    name: ''\n    provider: az\n")
    return write(tmp_path, "".join(lines))


@pytest.mark.parametrize("block", ["bucket", "defaultBucket"])
@pytest.mark.parametrize("provider,expected", [
    ("s3", "s3://store1"), ("gcs", "gs://store1"), ("az", "az://store1"), ("cw", "cw://store1")])
def test_bucket_url_per_provider_and_block(tmp_path: Path, block: str, provider: str,
                                           expected: str) -> None:
    settings = read(bucket_values(tmp_path, block, provider))
    assert settings.get("BUCKET") == expected
    assert f"global.{block}" in settings.values["BUCKET"].origin
    with_path = read(bucket_values(tmp_path, block, provider, path="team/files"))
    assert with_path.get("BUCKET") == f"{expected}/team/files"


@pytest.mark.parametrize("provider,expected", [
    ("s3", "s3://AKIAEXAMPLEKEY0001:secret0000example@store1/p"),
    ("cw", "cw://AKIAEXAMPLEKEY0001:secret0000example@store1/p"),
    ("gcs", "gs://store1/p"),  # the chart puts keys in the URL for s3 and cw only
])
def test_inline_keys_go_into_the_url(tmp_path: Path, provider: str, expected: str) -> None:
    settings = read(bucket_values(tmp_path, "bucket", provider, path="p", keys=True))
    assert settings.get("BUCKET") == expected
    assert set(settings.secrets) == {"AKIAEXAMPLEKEY0001", "secret0000example"}


def test_default_bucket_is_used_only_when_bucket_name_is_empty() -> None:
    settings = read(VALUES / "operator-gcs-default.yaml")
    assert settings.get("BUCKET") == "gs://acme-wandb/instance-1"
    assert settings.get(GC) == "false"
    assert "global.env." + GC in settings.values[GC].origin


def test_aws_bucket_region_and_kms_key() -> None:
    settings = read(VALUES / "operator-aws.yaml")
    assert settings.get("BUCKET") == "s3://acme-wandb-files"
    assert settings.get("AWS_REGION") == "eu-west-1"
    assert settings.get("AWS_S3_KMS_ID", ) == "arn:aws:kms:eu-west-1:123456789012:key/1111-2222"
    assert settings.get(GC) == "true"
    assert settings.description.startswith("operator-wandb values")


def test_minio_host_and_path_with_keys_reads_as_endpoint_and_bucket() -> None:
    settings = read(VALUES / "operator-minio.yaml")
    url = settings.get("BUCKET") or ""
    assert url == "s3://AKIAMINIOEXAMPLE01:minio/Secret+Key0000000000000000@" \
                  "minio.corp.internal:9000/wandb"
    location = parse_bucket_url(url)
    assert (location.endpoint_url, location.bucket) == ("http://minio.corp.internal:9000", "wandb")
    assert location.secret_key == "minio/Secret+Key0000000000000000"


def test_keys_in_a_cluster_secret_are_left_out_and_the_endpoint_kept() -> None:
    settings = read(VALUES / "operator-minio-secret.yaml")
    bucket = settings.values["BUCKET"]
    assert bucket.value == "s3://storage.corp.internal/wandb"
    assert "wandb-minio-keys" in bucket.origin and "own credentials" in bucket.origin
    assert settings.storage.endpoint is not None
    endpoint = settings.storage.endpoint.value
    assert endpoint == "http://storage.corp.internal"
    location = parse_bucket_url(bucket.value, endpoint_url=endpoint)
    assert (location.bucket, location.access_key) == ("wandb", None)


def test_aws_keys_in_a_cluster_secret_need_no_endpoint(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        global:
          bucket:
            provider: s3
            name: acme-files
            secret: {secretName: bucket-keys}
        """)
    settings = read(path)
    assert settings.get("BUCKET") == "s3://acme-files"
    assert "AWS_ENDPOINT_URL_S3" not in settings.values


def test_azure_key_and_coreweave() -> None:
    azure = read(VALUES / "operator-azure.yaml")
    assert azure.get("BUCKET") == "az://acmewandb/wandb-files"
    assert azure.get("AZURE_STORAGE_KEY", ) == \
        "QWNjb3VudEtleU5vdFJlYWwwMDAwMDAwMDAwMDAwMDAwMDAwMA=="
    assert azure.get(GC) == "true"  # a YAML boolean, printed as Helm does
    cw = read(VALUES / "operator-coreweave.yaml")
    location = parse_bucket_url(cw.get("BUCKET") or "")
    assert (location.provider, location.bucket) == ("coreweave", "acme-wandb")


def test_unknown_provider_is_an_input_error(tmp_path: Path) -> None:
    path = write(tmp_path, "global:\n  bucket:\n    provider: gs\n    name: acme\n")
    with pytest.raises(InputError, match=r"line 3.*provider 'gs'"):
        read(path)


# ---- several files ------------------------------------------------------------------------

def test_files_merge_like_helm_and_name_the_file_that_won() -> None:
    base, override = VALUES / "operator-aws.yaml", VALUES / "production-override.yaml"
    settings = read(base, override)
    assert settings.get("BUCKET") == "s3://acme-wandb-files-prod"  # deep-merged bucket map
    assert settings.get("AWS_REGION") == "eu-central-1"
    assert settings.get("AWS_S3_KMS_ID") == "arn:aws:kms:eu-west-1:123456789012:key/1111-2222"
    gc = settings.values[GC]
    assert gc.value == "false"  # app.env in the second file beats global.extraEnv in the first
    assert str(override) in gc.origin and "app.env" in gc.origin
    assert str(override) in (gc.fix or "")
    assert str(override) in settings.fix_missing  # new settings go to the last file
    assert read(override, base).get("BUCKET") == "s3://acme-wandb-files"


def test_lists_are_replaced_and_null_removes_a_key(tmp_path: Path) -> None:
    first = write(tmp_path, f"""\
        global:
          extraEnv:
            {GC}: "true"
            KEEP: "1"
        """, "a.yaml")
    second = write(tmp_path, f"global:\n  extraEnv:\n    {GC}: null\n", "b.yaml")
    settings = read(first, second)
    assert GC not in settings.values
    assert settings.get("KEEP") == "1" and str(first) in settings.values["KEEP"].origin
    legacy_a = write(tmp_path, "bucket: s3://b\nextraEnv:\n  - {name: A, value: '1'}\n"
                               "  - {name: B, value: '2'}\n", "c.yaml")
    legacy_b = write(tmp_path, "extraEnv:\n  - {name: B, value: '3'}\n", "d.yaml")
    merged = read(legacy_a, legacy_b)
    assert "A" not in merged.values and merged.get("B") == "3"


# ---- legacy wandb chart ---------------------------------------------------------------------

def test_legacy_chart_values() -> None:
    settings = read(VALUES / "legacy-wandb.yaml")
    assert settings.description.startswith("wandb chart values")
    assert settings.get("BUCKET", ).startswith("s3://AKIALEGACYEXAMPLE01:")  # type: ignore[union-attr]
    assert settings.get("AWS_REGION") == "us-east-1"
    gc = settings.values[GC]
    assert gc.value == "true"  # the later list entry of a name wins
    assert "extraEnv.1" in gc.origin
    assert "extraEnv:\n  - name: {name}" in settings.fix_missing
    assert "legacy/secret" in settings.secrets


def test_legacy_extra_env_beats_the_chart_bucket(tmp_path: Path) -> None:
    path = write(tmp_path, "bucket: s3://chart\nextraEnv:\n  - name: BUCKET\n    value: s3://mine\n")
    assert read(path).get("BUCKET") == "s3://mine"
    no_region = read(path).values["AWS_REGION"]
    assert no_region.origin == "wandb chart default bucketRegion"


@pytest.mark.parametrize("text,message", [
    ("global:\n  extraEnv:\n    - name: X\n      value: y\n",
     r"global.extraEnv \(line 2\).*legacy wandb chart"),
    ("bucket: s3://x\nextraEnv:\n  X: y\n", r"extraEnv.*list of \{name, value\}"),
    ("global: [1]\n", r"global.*expected a mapping"),
    ("app:\n  env:\n    X: [1, 2]\n", r"app.env.X .*got a list"),
    ("app:\n  env:\n    X: {secret: 1}\n", r"app.env.X .*valueFrom"),
])
def test_wrong_shapes_name_the_key_and_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read(write(tmp_path, text))


# ---- WeightsAndBiases resources -------------------------------------------------------------

def test_cr_v1_reads_spec_values() -> None:
    path = VALUES / "wandb-cr-v1.yaml"
    settings = read(path)
    gc = settings.values[GC]
    assert gc.value == "true"
    assert gc.origin == f"{path}: spec.values.global.extraEnv.{GC} (line 24)"
    assert "kubectl apply -f" in (gc.fix or "")
    assert "spec:\n  values:\n    global:\n      extraEnv:" in settings.fix_missing
    assert settings.get("BUCKET") == "s3://acme-wandb-files"
    assert settings.description.startswith("WeightsAndBiases resource")


def test_cr_v1_merges_with_a_values_file(tmp_path: Path) -> None:
    override = write(tmp_path, f'global:\n  extraEnv:\n    {GC}: "false"\n')
    settings = read(VALUES / "wandb-cr-v1.yaml", override)
    assert settings.get(GC) == "false" and str(override) in settings.values[GC].origin


def test_cr_v2_fields() -> None:
    path = VALUES / "wandb-cr-v2.yaml"
    settings = read(path)
    gc = settings.values[GC]
    assert gc.value == "true"
    assert "spec.wandb.retention.artifactGarbageCollection" in gc.origin
    assert "artifactGarbageCollection: {value}" in (gc.fix or "")
    assert settings.get("GORILLA_CUSTOMER_SECRET_STORE_SOURCE") == "k8s-secretmanager://wandb-secret"
    bucket = settings.values["BUCKET"]
    # keys are Secret references: left out, the endpoint named apart
    assert bucket.value == "s3://minio.corp.internal:9000/wandb?region=us-east-1&tls=true"
    assert "wandb-minio" in bucket.origin
    assert settings.storage.endpoint is not None
    assert settings.storage.endpoint.value == "https://minio.corp.internal:9000"
    location = parse_bucket_url(bucket.value, settings.storage.endpoint.value)
    assert location.bucket == "wandb" and location.provider == "s3-compatible"
    assert "retention" in settings.fix_missing and "legacyOverrides" in settings.fix_missing


def cr_v2(tmp_path: Path, wandb: str = "", store: str = "") -> Path:
    text = ("apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata: {name: w}\n"
            "spec:\n  wandb:\n" + textwrap.indent(textwrap.dedent(wandb), "    ")
            + ("  objectStore:\n" + textwrap.indent(textwrap.dedent(store), "    ")
               if store else ""))
    return write(tmp_path, text, "cr.yaml")


def test_cr_v2_override_precedence(tmp_path: Path) -> None:
    path = cr_v2(tmp_path, f"""\
        retention: {{artifactGarbageCollection: false}}
        legacyOverrides:
          global:
            env:
              - {{name: {GC}, value: "true"}}
              - {{name: OTHER, value: "g"}}
          api:
            env:
              - {{name: OTHER, value: "first"}}
              - {{name: OTHER, value: "api"}}
        """)
    settings = read(path)
    assert settings.get(GC) == "true"  # global override beats the retention field
    assert "legacyOverrides.global.env.0" in settings.values[GC].origin
    assert settings.get("OTHER") == "api"  # per-application beats global; last entry wins


def test_cr_v2_applications_that_disagree_are_unknown(tmp_path: Path) -> None:
    path = cr_v2(tmp_path, f"""\
        legacyOverrides:
          api: {{env: [{{name: {GC}, value: "true"}}]}}
          glue: {{env: [{{name: {GC}, value: "false"}}]}}
        """)
    setting = read(path).values[GC]
    assert setting.value is None and "api, glue" in (setting.unresolved or "")


@pytest.mark.parametrize("store,expected", [
    ("""default:
         externalObjectStore:
           provider: {value: gcs}
           bucket: {value: acme}
           path: {value: w}
     """, "gs://acme/w"),
    ("""default:
         externalObjectStore:
           provider: {value: azure}
           endpoint: {value: "https://acmewandb.blob.core.windows.net"}
           bucket: {value: files}
     """, "az://acmewandb/files"),
    ("""default:
         externalObjectStore:
           bucket: {value: acme}
           region: {value: us-west-2}
     """, "s3://acme?region=us-west-2"),
    ("""default:
         externalObjectStore:
           endpoint: {value: "http://minio:9000"}
           bucket: {value: wandb}
           accessKey: {value: "AK/1"}
           secretKey: {value: "SK+2"}
     """, "s3://AK%2F1:SK%2B2@minio:9000/wandb?tls=false"),
    ("""default:
         externalObjectStore:
           url: {value: "s3://given"}
           bucket: {value: ignored}
     """, "s3://given"),
])
def test_cr_v2_object_store(tmp_path: Path, store: str, expected: str) -> None:
    path = cr_v2(tmp_path, "hostname: h\n", textwrap.dedent(store))
    assert read(path).get("BUCKET") == expected


def test_cr_v2_managed_object_store_is_unknown(tmp_path: Path) -> None:
    path = cr_v2(tmp_path, "hostname: h\n", "default:\n  managedObjectStore: {replicas: 1}\n")
    bucket = read(path).values["BUCKET"]
    assert bucket.value is None and "in the cluster" in (bucket.unresolved or "")


def test_cr_v2_cannot_be_merged(tmp_path: Path) -> None:
    other = write(tmp_path, "global: {}\n", "other.yaml")
    with pytest.raises(InputError, match="cannot be merged"):
        read(other, VALUES / "wandb-cr-v2.yaml")


@pytest.mark.parametrize("name,message", [
    ("not-yaml.yaml", r"values file .*not-yaml.yaml: line \d+: not valid YAML"),
    ("list.yaml", r"list.yaml: line 1: expected a mapping of keys, got a list"),
    ("unknown-shape.yaml", r"unknown-shape.yaml: unknown shape \(top-level keys: image"),
    ("deployment.yaml", r"a Deployment \(apps/v1\).*use --workload"),
])
def test_bad_files(name: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read(VALUES / name)


def test_bad_resources(tmp_path: Path) -> None:
    v3 = write(tmp_path, "apiVersion: apps.wandb.com/v3\nkind: WeightsAndBiases\nspec: {}\n")
    with pytest.raises(InputError, match=r"apps\.wandb\.com/v3 is not a version"):
        read(v3)
    values_list = write(tmp_path, "apiVersion: apps.wandb.com/v1\nkind: WeightsAndBiases\n"
                                  "spec:\n  values: [1]\n", "l.yaml")
    with pytest.raises(InputError, match=r"line 4: spec\.values must be a mapping"):
        read(values_list)
    empty = write(tmp_path, "# nothing\n", "e.yaml")
    with pytest.raises(InputError, match="empty"):
        read(empty)
    listed = write(tmp_path, "apiVersion: v1\nkind: List\nitems:\n"
                             "  - " + (VALUES / "wandb-cr-v1.yaml").read_text()
                             .replace("\n", "\n    ").rstrip() + "\n", "list.yaml")
    assert read(listed).get(GC) == "true"


# ---- the Kubernetes semantics underneath --------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("$(A)", "a"), ("$$(A)", "$(A)"), ("$$$(A)", "$a"), ("$(A)$(B)", "ab"),
    ("$(NOPE)", "$(NOPE)"), ("$()", "$()"), ("x$(A", "x$(A"), ("$", "$"), ("a$b", "a$b"),
    ("$(A)-$$-$(B)", "a-$-b"),
])
def test_expansion_matches_kubernetes(text: str, expected: str) -> None:
    assert expand(text, {"A": "a", "B": "b"}.get) == expected


@pytest.mark.parametrize("value,expected", [
    (True, "true"), (False, "false"), (0, "0"), (9000, "9000"), (100000, "100000"),
    (1234567, "1.234567e+06"), (0.5, "0.5"), (1e-5, "1e-05"), (-2.0, "-2"), ("x", "x")])
def test_go_string(value: object, expected: str) -> None:
    assert go_string(value) == expected


# ---- against the real Helm engine ------------------------------------------------------------

MERGE_CHART = VALUES / "merge-chart"
CHOICES: list[Any] = [None, "true", "", False, "false", 0, 7]


def _sample_layers(seed: int) -> dict[str, Any]:
    import random

    rng = random.Random(seed)
    return {layer: value for layer in ORDER if (value := rng.choice(CHOICES)) is not None}


def test_precedence_matches_helm_rendering(tmp_path: Path) -> None:
    """gccheck's reading of the env maps equals what Helm's sprig `merge` renders (test chart
    merge-chart mirrors wandb-base's merge order), empty-value quirk included."""
    import helm_python as helm  # a test dependency: missing is a failure, not a skip
    import yaml
    cases = [_sample_layers(seed) for seed in range(80)]
    with helm.Chart.load(MERGE_CHART) as chart:
        for layers in cases:
            data: dict[str, Any] = {"global": {"size": "small"}, "app": {}}
            for layer, value in layers.items():
                deep_merge(data, nested(LAYERS[layer], {GC: value, "OTHER": value}))
            rendered = chart.render(data, name="wandb", namespace="wandb")
            manifest = yaml.safe_load(next(iter(rendered.values())))
            expected = (manifest.get("data") or {}).get(GC)
            path = write(tmp_path, yaml.safe_dump(data))
            assert read(path).get(GC) == expected, layers


def test_bucket_without_provider_renders_no_bucket_and_says_so(tmp_path: Path) -> None:
    # operator-wandb's _bucket.tpl: global.bucket has no default provider, no scheme matches,
    # BUCKET="" (issue 12; the mirror test in test_values_model.py checks it on the real chart).
    settings = read(write(tmp_path, "global:\n  bucket:\n    name: acme\n"))
    bucket = settings.values["BUCKET"]
    assert settings.get("BUCKET") is None and bucket.value is None
    assert bucket.unresolved is not None
    assert 'renders BUCKET="" (no bucket)' in bucket.unresolved
    assert "global.bucket.provider" in bucket.unresolved
    default = read(write(tmp_path, "global:\n  defaultBucket:\n    name: acme\n"))
    assert default.get("BUCKET") == "s3://acme"
    assert "no provider" not in default.values["BUCKET"].origin  # the chart defaults it to s3


@pytest.mark.parametrize("value", ['"false"', "{enabled: false}", "0", "[true]"])
def test_cr_v2_gc_switch_that_is_not_a_boolean_is_an_input_error(tmp_path: Path,
                                                                 value: str) -> None:
    text = (VALUES / "wandb-cr-v2.yaml").read_text()
    assert "artifactGarbageCollection: true" in text
    path = tmp_path / "cr.yaml"
    path.write_text(text.replace("artifactGarbageCollection: true",
                                 f"artifactGarbageCollection: {value}"))
    with pytest.raises(InputError, match=r"artifactGarbageCollection \(line 17\): expected true or false"):
        read(path)


@pytest.mark.parametrize("text", [
    "GORILLA_ARTIFACT_GC_ENABLED=true\nBUCKET=s3://wandb-bucket\n",
    "# W&B settings\nexport GORILLA_ARTIFACT_GC_ENABLED=true\n",
    "GORILLA_ARTIFACT_GC_ENABLED=true",
])
def test_a_dotenv_file_given_as_values_says_to_use_env_file(tmp_path: Path, text: str) -> None:
    # Issue 13: it said "expected a mapping of keys, got a str".
    with pytest.raises(InputError) as error:
        read(write(tmp_path, text, "wandb.env"))
    assert str(error.value).endswith("looks like a dotenv file (KEY=VALUE lines), not Helm "
                                     "values: give it with --env-file")


def test_a_plain_string_that_is_no_dotenv_file_keeps_the_mapping_message(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="expected a mapping of keys, got a str"):
        read(write(tmp_path, "just some words\n"))


@pytest.mark.parametrize("text, line", [
    ("global: [1, 2", "line 1 (end of file)"),  # libyaml said line 2 of a one-line file
    ("global: [1, 2\n", "line 1 (end of file)"),
    ('global: "open\n', "line 1 (end of file)"),
    ("a: 1\nglobal: {b: 1\n\n", "line 3 (end of file)"),
    ("global:\n  - b\n c: d\n", "line 3:"),
    ("global: b: c\n", "line 1:"),
])
def test_yaml_errors_name_a_line_within_the_file(tmp_path: Path, text: str, line: str) -> None:
    with pytest.raises(InputError) as error:
        read(write(tmp_path, text))
    assert f"values.yaml: {line}" in str(error.value)
    assert str(error.value).count("line ") == 1
