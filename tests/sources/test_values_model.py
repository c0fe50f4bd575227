"""The `--values` model without `--chart` (issue 12, item 6): what it gets right, what it leaves
unknown, and what it says it models.

Each case is checked twice: against what operator-wandb's and wandb's templates say (always), and
against the real charts rendered by the Helm SDK where a mirror of wandb/helm-charts is at hand
(class TestAgainstTheRealCharts; CI has no mirror and skips it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import textwrap
from collections.abc import Callable, Mapping
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.run import Run

from gccheck.bucket_url import COREWEAVE_ENDPOINT, parse_bucket_url
from gccheck.errors import InputError
from gccheck.matrix import load_matrix
from gccheck.model import Settings, Status
from gccheck.rules import RULES, Context, evaluate
from gccheck.sources.helm_values import HelmValuesSource

GC = "GORILLA_ARTIFACT_GC_ENABLED"
MATRIX = load_matrix(None, RULES)
AK, SK = "AKIAMODELEXAMPLE0001", "model/Secret+Key000000000000000000"


def write(tmp_path: Path, text: str, name: str = "values.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def read(*paths: Path, namespace: str | None = None) -> Settings:
    names = tuple(str(p) for p in paths)
    source = (HelmValuesSource(names) if namespace is None
              else HelmValuesSource(names, namespace=namespace))
    return source.read()


def gc_result(settings: Settings) -> Any:
    ctx = Context(MATRIX, MATRIX.hosting_types["on-prem"], settings, None, None)
    return next(r for r in evaluate(ctx) if r.id == "gc-env-var")


# ---- 1. no provider: the chart renders BUCKET="" --------------------------------------------

@pytest.mark.parametrize("text,bucket", [
    ("global:\n  bucket: {name: acme}\n", None),
    ("global:\n  defaultBucket: {name: acme}\n", "s3://acme"),  # defaultBucket's default: s3
    ("global:\n  defaultBucket: {name: acme, provider: ''}\n", None),
])
def test_only_default_bucket_has_a_default_provider(tmp_path: Path, text: str,
                                                    bucket: str | None) -> None:
    settings = read(write(tmp_path, text))
    assert settings.get("BUCKET") == bucket
    if bucket is None:
        assert "provider is not" in (settings.values["BUCKET"].unresolved or "")


def test_no_provider_gives_no_bucket_and_the_report_says_why(
        tmp_path: Path, gccheck_inproc: Callable[..., Run]) -> None:
    path = write(tmp_path, f"""\
        global:
          bucket: {{name: acme-files, region: eu-west-1}}
          extraEnv: {{{GC}: "true"}}
        """)
    settings = read(path)
    assert settings.get("BUCKET") is None  # never s3://acme-files
    run = gccheck_inproc("check", "--hosting", "customer-managed-cloud", "--values", str(path),
                         "--format", "json")
    assert run.code != 2, run.err
    target = json.loads(run.out)["targets"][0]
    assert target["bucket"] is None
    versioning = next(r for r in target["results"] if r["id"] == "bucket-versioning")
    assert versioning["status"] == "unknown"
    assert 'renders BUCKET="" (no bucket)' in versioning["summary"]
    assert "global.bucket.provider" in versioning["summary"]


# ---- 2. inline keys and secret.secretName: the Secret wins ---------------------------------

def test_secret_name_beats_inline_keys(tmp_path: Path) -> None:
    path = write(tmp_path, f"""\
        global:
          bucket:
            provider: s3
            name: minio.corp.internal
            path: wandb
            accessKey: {AK}
            secretKey: "{SK}"
            secret: {{secretName: wandb-bucket-keys}}
        """)
    settings = read(path)
    bucket = settings.values["BUCKET"]
    assert bucket.value == "s3://minio.corp.internal/wandb"  # no inline keys in it
    assert AK not in bucket.value and "wandb-bucket-keys" in bucket.origin
    assert "inline global.bucket.accessKey/secretKey are not used" in bucket.origin
    assert "--workload" in bucket.origin  # the hint: how to use the same keys
    assert settings.storage.endpoint is not None  # the MinIO host stays the endpoint
    assert settings.storage.endpoint.value == "http://minio.corp.internal"
    assert {AK, SK} <= set(settings.secrets)  # still redacted wherever they appear


# ---- 3. cw with a path: cw://K:S@NAME/PATH, NAME the bucket ---------------------------------

def test_coreweave_with_a_path_renders_and_reads_as_bucket_and_path(tmp_path: Path) -> None:
    path = write(tmp_path, f"""\
        global:
          bucket: {{provider: cw, name: acme-wandb, path: team/files, accessKey: {AK},
                    secretKey: "{SK}"}}
        """)
    url = read(path).get("BUCKET") or ""
    assert url == f"cw://{AK}:{SK}@acme-wandb/team/files"
    location = parse_bucket_url(url)
    assert (location.provider, location.bucket, location.path, location.endpoint_url) == (
        "coreweave", "acme-wandb", "team/files", COREWEAVE_ENDPOINT)
    assert location.reading is not None and "operator-wandb" in location.reading
    # W&B's documented form keeps its reading: a host with dots is the endpoint.
    documented = parse_bucket_url(f"cw://{AK}:{SK}@cwobject.com/acme-wandb/team")
    assert (documented.bucket, documented.path, documented.endpoint_url) == (
        "acme-wandb", "team", "https://cwobject.com")
    keyless = parse_bucket_url("cw://acme-wandb/team")  # keys in a cluster Secret
    assert (keyless.bucket, keyless.endpoint_url) == ("acme-wandb", COREWEAVE_ENDPOINT)


# ---- 4. the legacy chart's empty bucketRegion is the release namespace ---------------------

@pytest.mark.parametrize("line,namespace,expected", [
    ("bucketRegion: ''\n", None, "default"),
    ("bucketRegion: ''\n", "wandb-prod", "wandb-prod"),
    ("bucketRegion: null\n", "wandb-prod", "wandb-prod"),  # null removes the chart default too
    ("", "wandb-prod", "us-east-1"),  # the chart's values.yaml default
    ("bucketRegion: eu-west-1\n", "wandb-prod", "eu-west-1"),
])
def test_legacy_bucket_region(tmp_path: Path, line: str, namespace: str | None,
                              expected: str) -> None:
    path = write(tmp_path, "bucket: s3://acme-files\n" + line)
    region = read(path, namespace=namespace).values["AWS_REGION"]
    assert region.value == expected
    if expected not in ("us-east-1", "eu-west-1"):
        assert f"release namespace {expected!r}" in region.origin
        assert ".Release.Namespace" in region.origin


def test_a_removed_bucket_region_stays_removed_only_until_set_again(tmp_path: Path) -> None:
    first = write(tmp_path, "bucket: s3://acme-files\nbucketRegion: null\n", "a.yaml")
    second = write(tmp_path, "bucketRegion: ap-south-1\n", "b.yaml")
    assert read(first, second).get("AWS_REGION") == "ap-south-1"
    assert read(second, first).get("AWS_REGION") == "default"


# ---- 5. a legacy extraEnv value that is no string -------------------------------------------

@pytest.mark.parametrize("value,kind", [("true", "boolean"), ("5", "number")])
def test_legacy_non_string_env_value_is_an_input_error(
        tmp_path: Path, gccheck_inproc: Callable[..., Run], value: str, kind: str) -> None:
    path = write(tmp_path, f"bucket: s3://acme-files\nextraEnv:\n  - name: {GC}\n"
                           f"    value: {value}\n")
    with pytest.raises(InputError, match=rf"extraEnv.0 \(line 3\) {GC}: value {value} is a "
                                         rf"YAML {kind}.*API server rejects.*quote it"):
        read(path)
    run = gccheck_inproc("check", "--hosting", "customer-managed-cloud", "--values", str(path))
    assert run.code == 2 and len(run.err.strip().splitlines()) == 1, run.err
    quoted = write(tmp_path, f"bucket: s3://acme-files\nextraEnv:\n  - name: {GC}\n"
                             f"    value: \"{value}\"\n", "quoted.yaml")
    assert read(quoted).get(GC) == value


# ---- 6. a templated value is unknown ---------------------------------------------------------

ENV_MAPS = [("app", "containers", "app", "env"), ("app", "env"), ("app", "extraEnv"),
            ("global", "env"), ("global", "extraEnv"), ("app", "sizing", "small", "env")]


def nested(path: tuple[str, ...], leaf: Any) -> dict[str, Any]:
    out: Any = leaf
    for key in reversed(path):
        out = {key: out}
    assert isinstance(out, dict)
    return out


@pytest.mark.parametrize("layer", ENV_MAPS, ids=".".join)
@pytest.mark.parametrize("form", ["plain", "value-map"])
def test_templated_value_is_unknown_in_every_env_map(tmp_path: Path, layer: tuple[str, ...],
                                                     form: str) -> None:
    template = "{{ .Values.global.gcEnabled }}"
    leaf = {GC: template if form == "plain" else {"value": template}}
    data = nested(layer, leaf)
    settings = read(write(tmp_path, yaml.safe_dump(data)))
    setting = settings.values[GC]
    assert setting.value is None and setting.unresolved is not None
    assert "run with --chart CHART to know" in setting.unresolved
    result = gc_result(settings)
    assert result.status is Status.UNKNOWN  # never fail, never pass
    assert "tpl" in result.summary


def test_templated_value_is_unknown_in_the_report(tmp_path: Path,
                                                  gccheck_inproc: Callable[..., Run]) -> None:
    path = write(tmp_path, f"""\
        global:
          gcEnabled: true
          extraEnv: {{{GC}: "{{{{ .Values.global.gcEnabled }}}}"}}
        """)
    run = gccheck_inproc("check", "--hosting", "on-prem", "--values", str(path),
                         "--format", "json")
    assert run.code != 2, run.err
    results = json.loads(run.out)["targets"][0]["results"]
    gc = next(r for r in results if r["id"] == "gc-env-var")
    assert gc["status"] == "unknown" and "--chart CHART" in gc["summary"]


def test_a_literal_value_beside_a_template_is_still_judged(tmp_path: Path) -> None:
    # app.env wins: the template in global.extraEnv does not matter.
    path = write(tmp_path, f"""\
        app: {{env: {{{GC}: "false"}}}}
        global: {{extraEnv: {{{GC}: "{{{{ .Values.x }}}}"}}}}
        """)
    assert gc_result(read(path)).status is Status.FAIL


# ---- 7. chart defaults: the default size is small --------------------------------------------

@pytest.mark.parametrize("sizes,expected", [
    ("", "true"),  # global.size defaults to small
    ("global: {size: small}\n", "true"),
    ("global: {size: medium}\n", None),
    ("global: {size: ''}\n", None),  # an empty size chooses none
    ("global: {size: null}\n", None),  # a null removes the default
    ("app: {size: medium}\n", None),  # app.size beats global.size (coalesce)
])
def test_default_size_map_applies(tmp_path: Path, sizes: str, expected: str | None) -> None:
    base = write(tmp_path, f"app:\n  sizing:\n    small:\n      env:\n        {GC}: \"true\"\n",
                 "base.yaml")
    settings = read(base, write(tmp_path, sizes or "{}\n", "sizes.yaml"))
    assert settings.get(GC) == expected
    if expected:
        assert "app.sizing.small.env" in settings.values[GC].origin


def test_size_map_is_below_every_other_env_map(tmp_path: Path) -> None:
    path = write(tmp_path, f"""\
        app:
          sizing: {{small: {{env: {{{GC}: "true"}}}}}}
        global:
          extraEnv: {{{GC}: "false"}}
        """)
    assert read(path).get(GC) == "false"


# ---- 8. the notes say what is modelled -------------------------------------------------------

def test_notes_say_which_chart_versions_the_model_follows(tmp_path: Path) -> None:
    settings = read(write(tmp_path, f"global:\n  extraEnv:\n    {GC}: \"false\"\n"))
    (note,) = settings.notes
    assert "operator-wandb 0.33+" in note and "0.20-0.32" in note and "--chart CHART" in note
    result = gc_result(settings)
    assert result.status is Status.FAIL and "--chart CHART" in result.detail
    legacy = read(write(tmp_path, "bucket: s3://acme\n", "legacy.yaml"))
    assert any("legacy wandb chart" in n and "--chart" in n for n in legacy.notes)


# ---- the real charts, where a mirror is at hand ------------------------------------------------

MIRROR = Path(os.environ.get("GCCHECK_HELM_CHARTS_MIRROR", "/work/.mirror/wandb+helm-charts/repo"))
CURRENT = "operator-wandb-0.43.8"
LEGACY = "HEAD"  # charts/wandb has only pull-request tags; its last version is on the branch
LICENSE = {"license": "not-a-real-license"}  # the legacy chart refuses to render without one


def _extract(ref: str, paths: list[str], into: Path) -> None:
    archive = subprocess.run(["git", "-C", str(MIRROR), "archive", ref, *paths],
                             capture_output=True, check=True, timeout=120).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")


def _render(chart: Path, values: Mapping[str, Any], namespace: str = "default"
            ) -> list[dict[str, Any]]:
    import helm_python as helm

    with helm.Chart.load(str(chart)) as loaded:
        rendered = loaded.render(dict(values), name="wandb", namespace=namespace)
    return [doc for name, text in rendered.items() if name.endswith((".yaml", ".yml"))
            for doc in yaml.safe_load_all(text) if doc]


def _app_env(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """name -> the env entry of the rendered W&B app container."""
    for doc in docs:
        if doc.get("kind") == "Deployment" and doc["metadata"]["name"].startswith("wandb-app"):
            for container in doc["spec"]["template"]["spec"]["containers"]:
                if container["name"] == "app":
                    return {e["name"]: e for e in container.get("env") or []}
    raise AssertionError("no app container rendered")


@pytest.mark.skipif(not (MIRROR / "HEAD").is_file() or shutil.which("git") is None,
                    reason="no mirror of wandb/helm-charts here")
class TestAgainstTheRealCharts:
    """The model's answer equals what the real chart renders (or, where it cannot know, is
    unknown and the chart indeed decides)."""

    @pytest.fixture(scope="class")
    @classmethod
    def operator(cls, tmp_path_factory: pytest.TempPathFactory) -> Path:
        into = tmp_path_factory.mktemp("charts")
        _extract(CURRENT, ["charts/operator-wandb", "charts/wandb-base"], into)
        chart = into / "charts" / "operator-wandb"
        shutil.copytree(into / "charts" / "wandb-base", chart / "charts" / "wandb-base")
        return chart

    @pytest.fixture(scope="class")
    @classmethod
    def legacy(cls, tmp_path_factory: pytest.TempPathFactory) -> Path:
        into = tmp_path_factory.mktemp("legacy")
        _extract(LEGACY, ["charts/wandb"], into)
        return into / "charts" / "wandb"

    def _both(self, tmp_path: Path, operator: Path, values: dict[str, Any]
              ) -> tuple[Settings, dict[str, Any]]:
        settings = read(write(tmp_path, yaml.safe_dump(values)))
        return settings, _app_env(_render(operator, values))

    @pytest.mark.parametrize("block", [{"bucket": {"name": "acme"}},
                                       {"defaultBucket": {"name": "acme", "provider": ""}}])
    def test_no_provider(self, tmp_path: Path, operator: Path, block: dict[str, Any]) -> None:
        settings, env = self._both(tmp_path, operator, {"global": block})
        assert not env["BUCKET"].get("value")  # `quote` of the empty url: "" or null
        assert settings.get("BUCKET") is None and settings.values["BUCKET"].unresolved

    def test_default_bucket_provider_defaults_to_s3(self, tmp_path: Path,
                                                    operator: Path) -> None:
        settings, env = self._both(tmp_path, operator, {"global": {"defaultBucket": {
            "name": "acme"}}})
        assert env["BUCKET"]["value"].replace("$(BUCKET_NAME)", "acme") == \
            settings.get("BUCKET") == "s3://acme"

    def test_secret_name_beats_inline_keys(self, tmp_path: Path, operator: Path) -> None:
        settings, env = self._both(tmp_path, operator, {"global": {"bucket": {
            "provider": "s3", "name": "acme", "accessKey": AK, "secretKey": SK,
            "secret": {"secretName": "wandb-bucket-keys"}}}})
        assert env["BUCKET_ACCESS_KEY"]["valueFrom"]["secretKeyRef"]["name"] == \
            "wandb-bucket-keys"
        assert "wandb-bucket-keys" in settings.values["BUCKET"].origin
        assert AK not in (settings.get("BUCKET") or "")

    @pytest.mark.parametrize("provider", ["s3", "cw", "gcs", "az"])
    def test_bucket_url_with_a_path(self, tmp_path: Path, operator: Path, provider: str) -> None:
        settings, env = self._both(tmp_path, operator, {"global": {"bucket": {
            "provider": provider, "name": "acme", "path": "team", "accessKey": "K",
            "secretKey": "S"}}})
        rendered = (env["BUCKET"]["value"].replace("$(BUCKET_ACCESS_KEY)", "K")
                    .replace("$(BUCKET_SECRET_KEY)", "S").replace("$(BUCKET_NAME)", "acme")
                    .replace("$(BUCKET_PATH)", "team"))
        assert settings.get("BUCKET") == rendered

    @pytest.mark.parametrize("size,expected", [(None, "true"), ("medium", None)])
    def test_default_size(self, tmp_path: Path, operator: Path, size: str | None,
                          expected: str | None) -> None:
        values: dict[str, Any] = {"app": {"sizing": {"small": {"env": {GC: "true"}}}}}
        if size:
            values["global"] = {"size": size}
        settings, env = self._both(tmp_path, operator, values)
        assert env.get(GC, {}).get("value") == expected == settings.get(GC)

    def test_template_is_rendered_by_the_chart(self, tmp_path: Path, operator: Path) -> None:
        settings, env = self._both(tmp_path, operator, {"global": {
            "gcEnabled": True, "extraEnv": {GC: "{{ .Values.global.gcEnabled }}"}}})
        assert env[GC]["value"] == "true"  # what the model cannot know without rendering
        assert gc_result(settings).status is Status.UNKNOWN

    @pytest.mark.parametrize("region,namespace", [("", "wandb-prod"), (None, "default")])
    def test_legacy_empty_region_is_the_namespace(self, tmp_path: Path, legacy: Path,
                                                  region: str | None, namespace: str) -> None:
        values = {**LICENSE, "bucket": "s3://acme", "bucketRegion": region}
        env = _app_env_legacy(_render(legacy, values, namespace))
        settings = read(write(tmp_path, yaml.safe_dump(values)), namespace=namespace)
        assert env["AWS_REGION"]["value"] == namespace == settings.get("AWS_REGION")

    def test_legacy_unquoted_boolean_renders_a_boolean(self, tmp_path: Path,
                                                       legacy: Path) -> None:
        values = {**LICENSE, "bucket": "s3://acme",
                  "extraEnv": [{"name": GC, "value": True}]}
        env = _app_env_legacy(_render(legacy, values))
        assert env[GC]["value"] is True  # not a string: the API server rejects the Deployment
        with pytest.raises(InputError, match="API server rejects"):
            read(write(tmp_path, yaml.safe_dump(values)))


def _app_env_legacy(docs: list[dict[str, Any]]) -> dict[str, Any]:
    for doc in docs:
        if doc.get("kind") == "Deployment":
            container = doc["spec"]["template"]["spec"]["containers"][0]
            return {e["name"]: e for e in container.get("env") or []}
    raise AssertionError("no Deployment rendered")
