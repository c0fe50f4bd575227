"""What every settings source tells about storage (Settings.storage: the S3 endpoint and region),
as typed settings with their origin, never as a variable the deployment does not have; and
Settings that answer `in` and `get` alike when a source could not be read."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from support.constants import FIXTURES

from gccheck.errors import InputError
from gccheck.masking import Redactor
from gccheck.matrix import load_matrix
from gccheck.model import Setting, Settings, Unread
from gccheck.rules import RULES
from gccheck.sources.dotenv import DotenvSource
from gccheck.sources.helm_values import HelmValuesSource
from gccheck.sources.process_env import InlineEnvSource, ProcessEnvSource
from gccheck.target import TargetSpec, ValuesFiles

VALUES = FIXTURES / "values"
GC = "GORILLA_ARTIFACT_GC_ENABLED"
INVENTED = "AWS_ENDPOINT_URL_S3"
MATRIX = load_matrix(None, RULES)


def write(tmp_path: Path, text: str, name: str = "values.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def prepared_endpoint(spec: TargetSpec, environ: dict[str, str] | None = None) -> str | None:
    """The endpoint the S3 probe would be given, through the audit's own preparation."""
    from gccheck.engine import prepare

    prepared = prepare(spec, MATRIX, environ or {}, Redactor())
    assert prepared.bucket is not None
    return prepared.bucket.endpoint_url


# ---- values files and resources ------------------------------------------------------------------

def test_minio_endpoint_of_a_values_file_is_a_typed_setting(tmp_path: Path) -> None:
    path = VALUES / "operator-minio-secret.yaml"  # keys in a Secret: left out of BUCKET
    settings = HelmValuesSource((str(path),)).read()
    endpoint = settings.storage.endpoint
    assert endpoint is not None and endpoint.value == "http://storage.corp.internal"
    assert endpoint.origin.startswith(f"{path}: global.bucket.name")
    assert "derived by gccheck" in endpoint.origin
    assert INVENTED not in settings.values  # not a variable of the W&B pod
    spec = TargetSpec(name="t", hosting="on-prem", source=ValuesFiles((str(path),)))
    assert prepared_endpoint(spec) == "http://storage.corp.internal"


def test_a_variable_the_values_set_beats_the_derived_endpoint(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        global:
          bucket:
            provider: s3
            name: storage.corp.internal
            path: wandb
            secret: {secretName: keys}
          extraEnv:
            AWS_ENDPOINT_URL: "http://generic:9000"
            AWS_ENDPOINT_URL_S3: "https://minio.corp.internal:9443"
        """)
    settings = HelmValuesSource((str(path),)).read()
    endpoint = settings.storage.endpoint
    assert endpoint is not None
    assert (endpoint.name, endpoint.value) == (INVENTED, "https://minio.corp.internal:9443")
    assert "global.extraEnv.AWS_ENDPOINT_URL_S3" in endpoint.origin
    spec = TargetSpec(name="t", hosting="on-prem", source=ValuesFiles((str(path),)))
    assert prepared_endpoint(spec) == "https://minio.corp.internal:9443"


def test_an_invalid_endpoint_is_named_where_it_was_found(tmp_path: Path) -> None:
    path = write(tmp_path, f"""\
        global:
          bucket: {{provider: s3, name: acme}}
          extraEnv: {{{INVENTED}: "minio:9000"}}
        """)
    spec = TargetSpec(name="t", hosting="on-prem", source=ValuesFiles((str(path),)))
    with pytest.raises(InputError, match=rf"^{INVENTED} \({path}: global.extraEnv.{INVENTED}"):
        prepared_endpoint(spec)


def test_cr_v2_endpoint_and_region_are_typed_settings() -> None:
    path = VALUES / "wandb-cr-v2.yaml"
    settings = HelmValuesSource((str(path),)).read()
    endpoint, region = settings.storage.endpoint, settings.storage.region
    assert endpoint is not None and endpoint.value == "https://minio.corp.internal:9000"
    assert "spec.objectStore.default.externalObjectStore" in endpoint.origin
    assert region is not None and region.value == "us-east-1"
    assert "externalObjectStore.region" in region.origin
    # neither is a variable the operator gives the pod
    assert INVENTED not in settings.values and "AWS_REGION" not in settings.values
    spec = TargetSpec(name="t", hosting="on-prem", source=ValuesFiles((str(path),)))
    assert prepared_endpoint(spec) == "https://minio.corp.internal:9000"


def test_chart_rendered_region_is_the_pods_variable_and_the_storage_region() -> None:
    settings = HelmValuesSource((str(VALUES / "operator-aws.yaml"),)).read()
    region = settings.storage.region
    assert settings.get("AWS_REGION") == "eu-west-1"  # the chart renders it: a real variable
    assert region is not None and (region.name, region.value) == ("AWS_REGION", "eu-west-1")
    assert settings.storage.endpoint is None  # AWS itself: no endpoint


# ---- environments: their AWS variables are the deployment's settings --------------------------

@pytest.mark.parametrize("environ,endpoint,region", [
    ({}, None, None),
    ({"AWS_ENDPOINT_URL": "http://a:1", "AWS_DEFAULT_REGION": "eu-north-1"},
     ("AWS_ENDPOINT_URL", "http://a:1"), ("AWS_DEFAULT_REGION", "eu-north-1")),
    ({"AWS_ENDPOINT_URL": "http://a:1", "AWS_ENDPOINT_URL_S3": "http://s3:2",
      "AWS_DEFAULT_REGION": "eu-north-1", "AWS_REGION": "us-west-2"},
     ("AWS_ENDPOINT_URL_S3", "http://s3:2"), ("AWS_REGION", "us-west-2")),
    ({"AWS_ENDPOINT_URL": "http://a:1", "AWS_ENDPOINT_URL_S3": "  ", "AWS_REGION": ""},
     ("AWS_ENDPOINT_URL", "http://a:1"), None),  # empty says nothing
])
def test_environment_sources(environ: dict[str, str], endpoint: tuple[str, str] | None,
                             region: tuple[str, str] | None) -> None:
    for source in (ProcessEnvSource(environ), InlineEnvSource(environ)):
        storage = source.read().storage
        assert (storage.endpoint.name, storage.endpoint.value) == endpoint if endpoint else \
            storage.endpoint is None
        assert (storage.region.name, storage.region.value) == region if region else \
            storage.region is None


def test_process_environment_endpoint_reaches_the_probe() -> None:
    environ = {"BUCKET": "s3://wandb", "AWS_ENDPOINT_URL": "http://127.0.0.1:9000"}
    spec = TargetSpec(name="t", hosting="on-prem")
    assert prepared_endpoint(spec, environ) == "http://127.0.0.1:9000"
    # ...but a gs:// bucket is never sent to an S3 endpoint
    from gccheck.engine import prepare

    prepared = prepare(spec, MATRIX, {**environ, "BUCKET": "gs://wandb"}, Redactor())
    assert prepared.bucket is not None and prepared.bucket.endpoint_url is None


def test_env_file_endpoint(tmp_path: Path) -> None:
    path = write(tmp_path, "BUCKET=s3://wandb\nAWS_ENDPOINT_URL_S3=http://127.0.0.1:9000\n",
                 "wandb.env")
    endpoint = DotenvSource(str(path)).read().storage.endpoint
    assert endpoint is not None and endpoint.origin == f"env file {path}: line 2"


# ---- a source that could not be read ---------------------------------------------------------

def test_unread_source_answers_in_and_get_alike() -> None:
    settings = Settings("pod", {"HOST": Setting("HOST", "h", "pod: env")},
                        unread=Unread("pod: envFrom", "Secret ns/s: forbidden"))
    assert "HOST" in settings.values and settings.values.get("HOST") is not None
    assert GC not in settings.values and settings.values.get(GC) is None
    gc = settings.setting(GC)  # what the server may see: unknown, naming the source
    assert gc is not None and gc.value is None and gc.origin == "pod: envFrom"
    assert gc.unresolved == "not set explicitly, and Secret ns/s: forbidden"
    assert settings.get(GC) is None and settings.get("HOST") == "h"
    assert Settings("env", {}).setting(GC) is None  # a complete environment: not set
