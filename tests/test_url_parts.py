"""One bucket-URL grammar (issue 11, item 5): one user:password split, one true/false reading,
one endpoint-scheme rule, used by the parser, masking and the values sources alike."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gccheck.bucket_url import parse_bucket_url
from gccheck.errors import InputError
from gccheck.masking import MASK, Redactor, is_flag_word, mask_url_value
from gccheck.sources.chart_bucket import without_keys
from gccheck.sources.helm_values import HelmValuesSource, _url_secrets
from gccheck.url_parts import endpoint_scheme, parse_bool, split_credentials, split_userinfo


@pytest.mark.parametrize("host, tls, scheme", [
    ("s3.amazonaws.com", None, "https"),
    ("s3.cn-north-1.amazonaws.com.cn", None, "https"),  # chart_bucket said http
    ("cwobject.com", None, "https"),
    ("minio.example.com", None, "http"),
    ("minio.example.com", True, "https"),
    ("s3.amazonaws.com", False, "http"),
])
def test_one_endpoint_scheme_rule(host: str, tls: bool | None, scheme: str) -> None:
    assert endpoint_scheme(host, tls) == scheme


def test_the_chart_derivation_and_the_parser_agree_on_an_aws_china_endpoint() -> None:
    url = "s3://AK:SK@s3.cn-north-1.amazonaws.com.cn/bucket"
    keyless, endpoint = without_keys(url)
    assert keyless == "s3://s3.cn-north-1.amazonaws.com.cn/bucket"
    assert endpoint == parse_bucket_url(url).endpoint_url == \
        "https://s3.cn-north-1.amazonaws.com.cn"


@pytest.mark.parametrize("word, value", [
    ("true", True), ("YES", True), (" 1 ", True), ("false", False), ("No", False), ("0", False),
    ("", None), (None, None)])
def test_one_boolean_reading(word: str | None, value: bool | None) -> None:
    assert parse_bool(word) is value


@pytest.mark.parametrize("word", ["maybe", "on", "enabled", "tru"])
def test_a_word_that_is_not_true_or_false_is_refused_everywhere(tmp_path: Path, word: str) -> None:
    with pytest.raises(ValueError):
        parse_bool(word)
    with pytest.raises(InputError, match="is not true or false"):
        parse_bucket_url(f"s3://AK:SK@minio.local:9000/b?tls={word}")
    # The chart derivation leaves it to the parser (which refuses it) instead of reading http.
    assert without_keys(f"s3://AK:SK@minio.local/b?tls={word}")[1] == "http://minio.local"
    cr = tmp_path / "cr.yaml"
    cr.write_text(textwrap.dedent(f"""\
        apiVersion: apps.wandb.com/v2
        kind: WeightsAndBiases
        metadata: {{name: w}}
        spec:
          objectStore:
            default:
              externalObjectStore:
                provider: {{value: s3}}
                endpoint: {{value: "minio.local:9000"}}
                bucket: {{value: wandb}}
                tlsEnabled: {{value: "{word}"}}
        """))
    # The v2 resource read an unknown word as false (plain http) without a word.
    with pytest.raises(InputError, match=r"tlsEnabled \(line 11\): expected true or false"):
        HelmValuesSource((str(cr),)).read()


def test_a_bare_aws_endpoint_in_a_v2_resource_is_https(tmp_path: Path) -> None:
    cr = tmp_path / "cr.yaml"
    cr.write_text(textwrap.dedent("""\
        apiVersion: apps.wandb.com/v2
        kind: WeightsAndBiases
        metadata: {name: w}
        spec:
          objectStore:
            default:
              externalObjectStore:
                provider: {value: s3}
                endpoint: {value: "s3.eu-west-1.amazonaws.com"}
                bucket: {value: wandb}
        """))
    settings_ = HelmValuesSource((str(cr),)).read()
    endpoint = settings_.storage.endpoint
    # Without keys the endpoint is a typed setting apart; with the parser's rule it is https.
    assert endpoint is not None and endpoint.value == "https://s3.eu-west-1.amazonaws.com"


_secret = st.text(alphabet=st.sampled_from(list("aZ09/+=@:?#%'\" \\")), min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(key=_secret.filter(lambda k: ":" not in k), secret=_secret)
def test_parser_masking_and_sources_split_userinfo_alike(key: str, secret: str) -> None:
    url = f"s3://{key}:{secret}@minio.local:9000/bucket"
    parts = split_userinfo(url)
    assert parts is not None and split_credentials(parts.userinfo or "") == (key, secret)
    assert mask_url_value(url) == f"s3://{MASK}:{MASK}@minio.local:9000/bucket"
    assert set(_url_secrets(url)) >= {key, secret} - {""}
    redactor = Redactor()
    redactor.add_settings({"BUCKET": url})
    shown = redactor.redact(f"<Key>{key}</Key> <Secret>{secret}</Secret>")
    # Learnt whatever its length; flag words ('1', 'no') stay readable by design.
    assert is_flag_word(key) or f"<Key>{key}</Key>" not in shown
    assert is_flag_word(secret) or f"<Secret>{secret}</Secret>" not in shown
