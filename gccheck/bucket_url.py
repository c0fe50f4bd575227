"""W&B bucket URLs: parse every form W&B documents into a `BucketLocation`.

Forms (see README "Bucket URLs"):
  s3://bucket[/path]                                   AWS, ambient credentials
  s3://<key>:<secret>@host[:port]/bucket[/path]?region=&tls=&forcePathStyle=   S3-compatible
  s3://<key>:<secret>@bucket[/path]                    AWS with keys (operator chart form)
  cw://<key>:<secret>@cwobject.com/bucket[/path]       CoreWeave
  gs://bucket[/path], gs://<email>:<url-encoded-pem>@bucket[/path]
  az://account/container[/path], az://:<url-encoded-key>@account/container[/path]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from gccheck.errors import InputError
from gccheck.masking import mask_url_value
from gccheck.url_parts import (
    endpoint_scheme,
    in_domain,
    parse_bool,
    split_credentials,
    split_userinfo,
)

AWS = "aws"
S3_COMPATIBLE = "s3-compatible"
COREWEAVE = "coreweave"
GCP = "gcp"
AZURE = "azure"

COREWEAVE_ENDPOINT = "https://cwobject.com"

_SCHEMES = {"s3", "cw", "gs", "az"}
_WRONG_SCHEMES = {
    "gcs": "gs://",
    "azure": "az://",
    "abfs": "az://",
    "wasb": "az://",
    "s3a": "s3://",
    "s3n": "s3://",
    "minio": "s3://<key>:<secret>@host:port/bucket",
    "http": "s3://<key>:<secret>@host:port/bucket or --endpoint-url",
    "https": "s3://<key>:<secret>@host:port/bucket or --endpoint-url",
}
# AWS's rules (3-63), lenient on case and '_' that legacy buckets and other stores allow.
_S3_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-_]{1,61}[a-z0-9]$", re.I)
_GCS_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._\-]{1,221}[a-z0-9]$")
_AZ_ACCOUNT = re.compile(r"^[a-z0-9]{3,24}$")
_AZ_CONTAINER = re.compile(r"^(?:\$root|[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62})$")
_HOST = re.compile(r"^(?:\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9\-_.]*[a-z0-9])?)$", re.I)


@dataclass(frozen=True)
class BucketLocation:
    """Where W&B keeps its files, and how to reach them. Secrets never appear in repr()."""

    scheme: str
    provider: str
    bucket: str
    path: str = ""
    endpoint_url: str | None = None
    region: str | None = None
    account: str | None = None  # Azure storage account
    force_path_style: bool = False
    access_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    # How an ambiguous URL was read; shown in the report.
    reading: str | None = None
    masked_url: str = ""

    @property
    def secrets(self) -> tuple[str, ...]:
        """The secret parts of the URL, for the run's redactor."""
        return tuple(s for s in (self.access_key, self.secret_key) if s)

    @property
    def display_name(self) -> str:
        """Bucket (and account, for Azure) in a form that is safe to print."""
        if self.provider == AZURE:
            return f"{self.account}/{self.bucket}"
        return self.bucket


def _fail(url: str, why: str) -> InputError:
    return InputError(f"invalid bucket URL {mask_url_value(url)!r}: {why}")


def _bool_param(url: str, params: dict[str, list[str]], name: str) -> bool | None:
    values = params.get(name)
    if not values:
        return None
    try:
        return parse_bool(values[-1])
    except ValueError:
        raise _fail(url, f"query parameter {name}={values[-1]!r} is not true or false") from None


def _split(url: str) -> tuple[str, str | None, str, str, str]:
    """scheme, userinfo, host[:port], path, query. Tolerates '/' inside unencoded secrets."""
    parts = split_userinfo(url)
    if parts is None:
        raise _fail(url, "expected SCHEME://..., e.g. s3://bucket, gs://bucket, az://account/container")
    rest, _, query = parts.rest.partition("?")
    rest, _, _fragment = rest.partition("#")
    netloc, slash, path = rest.partition("/")
    return parts.scheme.lower(), parts.userinfo, netloc, path if slash else "", query


def _credentials(url: str, userinfo: str | None) -> tuple[str | None, str | None]:
    if userinfo is None:
        return None, None
    credentials = split_credentials(userinfo)
    if credentials is None:
        raise _fail(url, "credentials must look like <key>:<secret>@")
    return unquote(credentials[0]) or None, unquote(credentials[1]) or None


def _host_and_port(url: str, netloc: str) -> tuple[str, int | None]:
    try:
        parts = urlsplit(f"//{netloc}")
        port = parts.port
    except ValueError as exc:
        raise _fail(url, f"bad host or port ({exc})") from None
    host = netloc.rsplit(":", 1)[0] if port is not None else netloc
    if not host or not _HOST.match(host):
        raise _fail(url, "missing or malformed host name")
    return host, port


_AWS_DOMAINS = ("amazonaws.com", "amazonaws.com.cn")
_COREWEAVE_DOMAINS = ("cwobject.com", "cwlota.com")


def _looks_like_endpoint(host: str, port: int | None) -> bool:
    return port is not None or host == "localhost" or host.startswith("[") or "." in host


def validate_endpoint_url(value: str, where: str = "--endpoint-url") -> str:
    """An http(s) URL with a host; raises InputError otherwise."""
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise InputError(f"{where}: {mask_url_value(value)!r} is not a valid URL ({exc})") from None
    if (parts.scheme not in ("http", "https") or not parts.hostname
            or any(ch.isspace() for ch in value.strip())):
        raise InputError(f"{where}: {mask_url_value(value)!r} must be an http:// or https:// URL "
                         "with a host, e.g. http://127.0.0.1:9000")
    return value.strip()


def _endpoint(host: str, port: int | None, tls: bool | None) -> str:
    hostport = f"{host}:{port}" if port is not None else host
    return f"{endpoint_scheme(host, tls)}://{hostport}"


def _bucket_and_path(url: str, path: str, what: str = "bucket") -> tuple[str, str]:
    bucket, _, rest = path.strip("/").partition("/")
    if not bucket:
        raise _fail(url, f"no {what} name")
    return bucket, rest


def _s3_provider_for(endpoint_url: str | None, scheme: str) -> str:
    if scheme == "cw":
        return COREWEAVE
    if endpoint_url is None:
        return AWS
    host = urlsplit(endpoint_url).hostname or ""
    if in_domain(host, *_AWS_DOMAINS):
        return AWS
    if in_domain(host, *_COREWEAVE_DOMAINS):
        return COREWEAVE
    return S3_COMPATIBLE


def _check_s3_bucket(url: str, bucket: str, host_was_bucket: bool) -> None:
    if not _S3_BUCKET.match(bucket):
        hint = (f"; if {bucket!r} is an S3-compatible endpoint's host, pass --endpoint-url"
                if host_was_bucket else "")
        raise _fail(url, f"{bucket!r} is not a valid bucket name (3-63 letters, digits, dots, "
                         f"hyphens){hint}")


def parse_bucket_url(url: str, endpoint_url: str | None = None) -> BucketLocation:
    """Parse a W&B bucket URL. `endpoint_url` (from --endpoint-url) settles ambiguous S3 URLs.

    Raises InputError, with the URL masked, when the URL is not one W&B accepts.
    """
    url = url.strip()
    if not url:
        raise InputError("invalid bucket URL '': empty")
    scheme, userinfo, netloc, path, query = _split(url)
    if scheme not in _SCHEMES:
        hint = _WRONG_SCHEMES.get(scheme)
        why = f"unsupported scheme {scheme}://" + (f" (W&B uses {hint})" if hint else "")
        raise _fail(url, why + "; supported: s3://, cw://, gs://, az://")
    params = parse_qs(query, keep_blank_values=True)
    access_key, secret_key = _credentials(url, userinfo)
    masked = mask_url_value(url)
    if scheme in ("s3", "cw"):
        return _parse_s3(url, scheme, netloc, path, params, access_key, secret_key, masked,
                         endpoint_url)
    if scheme == "gs":
        if not netloc:
            raise _fail(url, "no bucket name")
        if not _GCS_BUCKET.match(netloc):
            raise _fail(url, f"{netloc!r} is not a valid GCS bucket name")
        return BucketLocation(scheme="gs", provider=GCP, bucket=netloc, path=path.strip("/"),
                              endpoint_url=endpoint_url, access_key=access_key,
                              secret_key=secret_key, masked_url=masked)
    # az://account/container[/path]
    if not netloc or not _AZ_ACCOUNT.match(netloc):
        raise _fail(url, "expected az://ACCOUNT/CONTAINER with a 3-24 character lowercase account")
    container, rest = _bucket_and_path(url, path, "container")
    if not _AZ_CONTAINER.match(container):
        raise _fail(url, f"{container!r} is not a valid container name")
    return BucketLocation(scheme="az", provider=AZURE, bucket=container, path=rest,
                          account=netloc, endpoint_url=endpoint_url, access_key=access_key,
                          secret_key=secret_key, masked_url=masked)


def _parse_s3(url: str, scheme: str, netloc: str, path: str, params: dict[str, list[str]],
              access_key: str | None, secret_key: str | None, masked: str,
              endpoint_url: str | None) -> BucketLocation:
    tls = _bool_param(url, params, "tls")
    force_path_style = bool(_bool_param(url, params, "forcePathStyle"))
    region_values = params.get("region")
    region = region_values[-1] if region_values and region_values[-1] else None
    host, port = _host_and_port(url, netloc)
    has_path = bool(path.strip("/"))
    reading: str | None = None
    endpoint: str | None
    if endpoint_url:
        endpoint_url = validate_endpoint_url(endpoint_url)
        # --endpoint-url settles it: the host is the endpoint only if it is that endpoint.
        given = urlsplit(endpoint_url)
        host_is_endpoint = (given.hostname or "").lower() == host.lower() and (
            port is None or given.port == port)
        if host_is_endpoint:
            bucket, rest = _bucket_and_path(url, path)
        else:
            bucket, rest = host, path.strip("/")
        endpoint = endpoint_url.rstrip("/")
        if access_key is not None and has_path:
            role = "endpoint" if host_is_endpoint else "bucket"
            reading = f"read {host!r} as the {role}, as --endpoint-url says"
    elif scheme == "cw" and not has_path:
        bucket, rest, endpoint = host, "", COREWEAVE_ENDPOINT
    elif scheme == "cw" or (has_path and (port is not None or host == "localhost"
                                          or host.startswith("["))) or (
            access_key is not None and has_path
            and (_looks_like_endpoint(host, port) or tls is not None)):
        bucket, rest = _bucket_and_path(url, path)
        # CoreWeave only serves HTTPS.
        endpoint = _endpoint(host, port, True if scheme == "cw" and tls is None else tls)
        if scheme == "s3" and port is None and tls is None:
            reading = (f"read {host!r} as the S3 endpoint and {bucket!r} as the bucket; "
                       "if it is the bucket, pass --endpoint-url to say so")
    else:
        if port is not None:
            raise _fail(url, "a host:port needs the bucket in the path "
                             "(s3://<key>:<secret>@host:port/bucket)")
        bucket, rest, endpoint = host, path.strip("/"), None
        if access_key is not None and has_path:
            reading = (f"read {host!r} as the bucket and {rest!r} as a path (AWS); "
                       "for an S3-compatible endpoint, pass --endpoint-url")
    _check_s3_bucket(url, bucket, host_was_bucket=bucket == host)
    provider = _s3_provider_for(endpoint, scheme)
    return BucketLocation(
        scheme=scheme, provider=provider, bucket=bucket, path=rest, endpoint_url=endpoint,
        region=region,
        # MinIO and most S3-compatible stores only serve path-style requests.
        force_path_style=force_path_style or provider == S3_COMPATIBLE,
        access_key=access_key, secret_key=secret_key, reading=reading, masked_url=masked)
