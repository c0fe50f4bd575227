"""Bad input never crashes: any input ends in a result or in gccheck's own InputError."""

from __future__ import annotations

import contextlib

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.constants import REPO

from gccheck.bucket_url import parse_bucket_url
from gccheck.errors import InputError
from gccheck.matrix import load_matrix
from gccheck.rules import RULES
from gccheck.sources.dotenv import parse_dotenv

FAST = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

url_parts = st.sampled_from(["s3://", "gs://", "az://", "cw://", "gcs://", "", "s3:/", "http://"])
url_body = st.text(alphabet=st.characters(codec="utf-8"), max_size=80) | st.from_regex(
    r"[A-Za-z0-9%:/@?&=._\-+\[\]]{0,60}", fullmatch=True)


@FAST
@given(url_parts, url_body, st.none() | st.sampled_from(["http://127.0.0.1:9000", "https://x"]))
def test_bucket_url_parser_never_crashes(scheme: str, body: str, endpoint: str | None) -> None:
    try:
        loc = parse_bucket_url(scheme + body, endpoint_url=endpoint)
    except InputError as error:
        assert "\n" not in str(error)
        return
    assert loc.bucket and loc.provider in ("aws", "s3-compatible", "coreweave", "gcp", "azure")


@FAST
@given(st.text(max_size=400))
def test_dotenv_parser_never_crashes(text: str) -> None:
    try:
        parsed = parse_dotenv(text, "fuzz.env")
    except InputError as error:
        assert "fuzz.env: line" in str(error)
        return
    assert all(isinstance(v, str) for v, _ in parsed.values())


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12) | st.integers(), children, max_size=4),
    max_leaves=20)


def _shipped() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((REPO / "matrix.yaml").read_text())  # type: ignore[no-any-return]


@FAST
@given(st.sampled_from(["version", "providers", "secure-storage-connector", "requirements",
                        "advisories", "hosting-types", "extra"]), yaml_values)
def test_matrix_loader_never_crashes(tmp_path_factory, key: str, value: object) -> None:  # type: ignore[no-untyped-def]
    data = _shipped()
    data[key] = value
    path = tmp_path_factory.mktemp("m") / "matrix.yaml"
    path.write_text(yaml.safe_dump(data))
    try:
        load_matrix(path, RULES)
    except InputError as error:
        assert str(path) in str(error)


@FAST
@given(st.binary(max_size=300))
def test_matrix_loader_survives_arbitrary_bytes(tmp_path_factory, blob: bytes) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("m") / "matrix.yaml"
    path.write_bytes(blob)
    with contextlib.suppress(InputError):
        load_matrix(path, RULES)
