from __future__ import annotations

from typing import Any

import pytest

from gccheck.bucket_url import parse_bucket_url
from gccheck.errors import InputError


def test_plain_s3_is_aws_with_ambient_credentials() -> None:
    loc = parse_bucket_url("s3://wandb-prod/some/path")
    assert (loc.provider, loc.bucket, loc.path, loc.endpoint_url) == (
        "aws", "wandb-prod", "some/path", None)
    assert loc.access_key is None and loc.reading is None


def test_minio_form_with_host_port_and_query() -> None:
    loc = parse_bucket_url("s3://AK:SK@minio.local:9000/wandb/prefix?region=eu-west-1&tls=true"
                           "&forcePathStyle=true")
    assert loc.provider == "s3-compatible"
    assert loc.endpoint_url == "https://minio.local:9000"
    assert (loc.bucket, loc.path, loc.region) == ("wandb", "prefix", "eu-west-1")
    assert loc.force_path_style
    assert (loc.access_key, loc.secret_key) == ("AK", "SK")


def test_tls_false_gives_http_endpoint() -> None:
    loc = parse_bucket_url("s3://AK:SK@10.0.0.5:9000/wandb?tls=false")
    assert loc.endpoint_url == "http://10.0.0.5:9000"


def test_secret_with_unencoded_slash_and_encoded_chars() -> None:
    loc = parse_bucket_url("s3://AKIA123:abc/def%2Bghi@localhost:9000/bucket1")
    assert loc.secret_key == "abc/def+ghi"
    assert loc.bucket == "bucket1"
    assert "abc" not in loc.masked_url and "AKIA123" not in loc.masked_url
    assert "abc" not in repr(loc)


def test_aws_regional_endpoint_host_is_aws_with_https() -> None:
    loc = parse_bucket_url("s3://AK:SK@s3.eu-west-1.amazonaws.com/wandb")
    assert loc.provider == "aws"
    assert loc.endpoint_url == "https://s3.eu-west-1.amazonaws.com"


def test_operator_form_keys_and_bucket_is_aws() -> None:
    loc = parse_bucket_url("s3://AK:SK@wandb-bucket")
    assert (loc.provider, loc.bucket, loc.endpoint_url) == ("aws", "wandb-bucket", None)
    assert loc.reading is None


def test_ambiguous_url_says_how_it_was_read() -> None:
    as_bucket = parse_bucket_url("s3://AK:SK@wandb/files")
    assert (as_bucket.bucket, as_bucket.path) == ("wandb", "files")
    assert as_bucket.reading and "as the bucket" in as_bucket.reading
    as_endpoint = parse_bucket_url("s3://AK:SK@storage.example.com/wandb")
    assert (as_endpoint.bucket, as_endpoint.endpoint_url) == ("wandb", "http://storage.example.com")
    assert as_endpoint.reading and "endpoint" in as_endpoint.reading


def test_endpoint_url_settles_the_ambiguity() -> None:
    as_bucket = parse_bucket_url("s3://AK:SK@wandb/files", endpoint_url="http://127.0.0.1:9000")
    assert (as_bucket.bucket, as_bucket.path, as_bucket.endpoint_url) == (
        "wandb", "files", "http://127.0.0.1:9000")
    as_endpoint = parse_bucket_url("s3://AK:SK@storage.example.com/wandb",
                                   endpoint_url="https://storage.example.com")
    assert as_endpoint.bucket == "wandb"
    assert as_endpoint.reading and "endpoint" in as_endpoint.reading


def test_coreweave() -> None:
    loc = parse_bucket_url("cw://AK:SK@cwobject.com/wandb-cw?tls=true")
    assert (loc.provider, loc.bucket, loc.endpoint_url) == (
        "coreweave", "wandb-cw", "https://cwobject.com")
    bare = parse_bucket_url("cw://AK:SK@wandb-cw")
    assert (bare.bucket, bare.endpoint_url) == ("wandb-cw", "https://cwobject.com")


def test_gcs_forms() -> None:
    assert parse_bucket_url("gs://wandb-gcs/p").bucket == "wandb-gcs"
    keyed = parse_bucket_url(
        "gs://sa%40proj.iam.gserviceaccount.com:-----BEGIN%20PRIVATE%20KEY-----%0AMIIabc@wandb-gcs")
    assert keyed.provider == "gcp"
    assert keyed.access_key == "sa@proj.iam.gserviceaccount.com"
    assert keyed.secret_key and keyed.secret_key.startswith("-----BEGIN PRIVATE KEY-----\nMII")
    assert "MIIabc" not in keyed.masked_url


def test_azure_forms() -> None:
    loc = parse_bucket_url("az://wandbacct/wandb-files/prefix")
    assert (loc.provider, loc.account, loc.bucket, loc.path) == (
        "azure", "wandbacct", "wandb-files", "prefix")
    keyed = parse_bucket_url("az://:c2VjcmV0a2V5%3D%3D@wandbacct/wandb-files")
    assert keyed.secret_key == "c2VjcmV0a2V5=="
    assert "c2VjcmV0" not in keyed.masked_url


@pytest.mark.parametrize("url, fragment", [
    ("gcs://bucket", "W&B uses gs://"),
    ("azure://acct/c", "W&B uses az://"),
    ("http://minio:9000/b", "unsupported scheme"),
    ("wandb-bucket", "expected SCHEME://"),
    ("s3://", "host"),
    ("s3://AK:SK@host:9000", "needs the bucket"),
    ("az://acct", "container"),
    ("az://ACCOUNT/c", "lowercase account"),
    ("gs://B", "not a valid GCS bucket"),
    ("s3://AK:SK@host:notaport/b", "port"),
    ("s3://AK:SK@host:9000/b?tls=maybe", "tls"),
    ("s3://AKONLY@host:9000/b", "<key>:<secret>"),
    ("", "empty"),
])
def test_malformed_urls_are_input_errors(url: str, fragment: str) -> None:
    with pytest.raises(InputError) as error:
        parse_bucket_url(url)
    assert fragment in str(error.value)
    assert "\n" not in str(error.value)


def test_error_message_masks_secrets() -> None:
    with pytest.raises(InputError) as error:
        parse_bucket_url("s3://AKIAEXAMPLE:SuperSecret/Key@host:99999/b")
    assert "SuperSecret" not in str(error.value) and "AKIAEXAMPLE" not in str(error.value)
    assert "***" in str(error.value)


# Naming rules, one place, before any call (issue 13, item 5). Each error names the rule.
@pytest.mark.parametrize("url, rule", [
    ("s3://ab", "3 to 63 characters long (it has 2)"),
    ("s3://Wandb_Bad..Name", "two adjacent periods"),
    ("s3://AK:SK@minio:9000/-wandb", "begin and end with a letter or digit"),
    ("s3://192.168.5.4", "formatted as an IP address"),
    ("s3://AK:SK@minio:9000/wandb%bucket", "only letters, digits"),
    ("s3://AK:SK@minio:9000/" + "b" * 256, "it has 256"),
    ("gs://Wandb", "only lowercase letters"),
    ("gs://wandb_", "begin and end with a letter or digit"),
    ("gs://goog-wandb", "'goog'"),
    ("gs://my-google-bucket", "contain 'google'"),
    ("gs://" + "b" * 64, "or up to 222 with dots"),
    ("gs://a." + "b" * 64 + ".c", "at most 63 characters"),
    ("az://wandb-acct/files", "lowercase letters and digits"),
    ("az://wandbacct/Files", "only lowercase letters, digits and '-'"),
    ("az://wandbacct/wandb--files", "two dashes in a row"),
    ("az://wandbacct/files-", "begin and end with a letter or digit"),
])
def test_bucket_names_are_checked_against_their_providers_rules(url: str, rule: str) -> None:
    with pytest.raises(InputError) as error:
        parse_bucket_url(url)
    assert rule in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("url, provider, note", [
    # AWS still serves legacy us-east-1 buckets with uppercase letters and underscores.
    ("s3://Bad_Name", "aws", "(uppercase letters; underscores): AWS accepts it only for "
                             "legacy buckets"),
    ("s3://" + "b" * 100, "aws", "more than 63 characters (100)"),
    ("s3://AK:SK@minio.local:9000/Wandb_Files", "s3-compatible",
     "some S3-compatible stores accept it"),
    ("s3://AK:SK@minio.local:9000/xn--wandb", "s3-compatible", "the reserved prefix 'xn--'"),
])
def test_names_legal_somewhere_are_checked_with_a_note(url: str, provider: str,
                                                       note: str) -> None:
    location = parse_bucket_url(url)
    assert location.provider == provider
    assert location.reading is not None and note in location.reading
    assert "checked as given" in location.reading


@pytest.mark.parametrize("url", [
    "s3://wandb-files", "s3://wandb.files.example.com", "gs://wandb_files.example.com",
    "az://devstoreaccount1/$root", "az://wandbacct/$web", "az://wandbacct/a-b-c",
])
def test_valid_names_pass_without_a_note(url: str) -> None:
    assert parse_bucket_url(url).reading is None


def test_a_bucket_name_note_is_shown_in_the_report(tmp_path: Any, gccheck_inproc: Any) -> None:
    run = gccheck_inproc("check", "--hosting", "dedicated-cloud", "--bucket", "s3://Legacy_Bucket",
                         env={"GORILLA_ARTIFACT_GC_ENABLED": "true"})
    assert "breaks S3's naming rules (uppercase letters; underscores)" in run.out + run.err


def test_a_bucket_url_longer_than_any_real_one_is_refused_unseen() -> None:
    with pytest.raises(InputError) as error:
        parse_bucket_url("s3://AK:" + "S" * 20_000 + "@minio:9000/b")
    assert "20,0" in str(error.value) and "SSSS" not in str(error.value)
    # A Google service account key in the URL (the longest real form) is well within it.
    pem = "%2D" * 5 + "BEGIN%20PRIVATE%20KEY" + "%2D" * 5 + "A" * 2300 + "%2D" * 5
    assert parse_bucket_url(f"gs://svc%40p.iam.gserviceaccount.com:{pem}@wandb-files").bucket \
        == "wandb-files"
