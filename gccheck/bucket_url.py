"""W&B bucket URLs: parse every form W&B documents into a `BucketLocation`.

Forms (see README "Bucket URLs"):
  s3://bucket[/path]                                   AWS, ambient credentials
  s3://<key>:<secret>@host[:port]/bucket[/path]?region=&tls=&forcePathStyle=   S3-compatible
  s3://<key>:<secret>@bucket[/path]                    AWS with keys (operator chart form)
  cw://<key>:<secret>@cwobject.com/bucket[/path]       CoreWeave
  cw://[<key>:<secret>@]bucket[/path]                  CoreWeave, operator-wandb's form
  gs://bucket[/path], gs://<email>:<url-encoded-pem>@bucket[/path]
  az://account/container[/path], az://:<url-encoded-key>@account/container[/path]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from gccheck.errors import InputError
from gccheck.masking import mask_url_value
from gccheck.neutral import neutralise
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
# The longest real form is gs://EMAIL:URL-ENCODED-PEM@bucket, about 3,500 characters.
MAX_URL_LENGTH = 16 * 1024

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


# ---- naming rules, per provider, checked before any call ---------------------------------------
# S3: docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html (general purpose
# buckets; legacy us-east-1 buckets may hold uppercase letters and underscores, up to 255
# characters). GCS: cloud.google.com/storage/docs/buckets#naming. Azure: "Naming and
# Referencing Containers, Blobs, and Metadata" and the storage account name rule.

_IP_ADDRESS = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_S3_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_S3_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3")
_AZ_SPECIAL_CONTAINERS = ("$root", "$web", "$logs")


def _shown(name: str) -> str:
    return repr(neutralise(name, 80))


def _ends_alnum(name: str) -> bool:
    return name[:1].isascii() and name[:1].isalnum() and name[-1:].isascii() and \
        name[-1:].isalnum()


def s3_name_rules(name: str) -> tuple[list[str], list[str]]:
    """(rules no S3 store relaxes that the name breaks, rules only AWS's current ones enforce)."""
    broken: list[str] = []
    relaxed: list[str] = []
    if len(name) < 3 or len(name) > 255:
        broken.append(f"it must be 3 to 63 characters long (it has {len(name)})")
    elif len(name) > 63:
        relaxed.append(f"more than 63 characters ({len(name)})")
    if re.search(r"[^A-Za-z0-9._\-]", name):
        broken.append("only letters, digits, '.', '-' (and '_' in legacy buckets) are allowed")
    if name and not _ends_alnum(name):
        broken.append("it must begin and end with a letter or digit")
    if ".." in name:
        broken.append("it must not contain two adjacent periods")
    if _IP_ADDRESS.match(name):
        broken.append("it must not be formatted as an IP address")
    if broken:
        return broken, relaxed
    if any(ch.isupper() for ch in name):
        relaxed.append("uppercase letters")
    if "_" in name:
        relaxed.append("underscores")
    lowered = name.lower()
    relaxed += [f"the reserved prefix {p!r}" for p in _S3_RESERVED_PREFIXES
                if lowered.startswith(p)]
    relaxed += [f"the reserved suffix {p!r}" for p in _S3_RESERVED_SUFFIXES
                if lowered.endswith(p)]
    return broken, relaxed


def gcs_name_rules(name: str) -> list[str]:
    """The GCS naming rules the name breaks (GCS relaxes none of them)."""
    broken: list[str] = []
    limit = 222 if "." in name else 63
    if len(name) < 3 or len(name) > limit:
        broken.append(f"it must be 3 to 63 characters long, or up to 222 with dots (it has "
                      f"{len(name)})")
    if re.search(r"[^a-z0-9._\-]", name):
        broken.append("only lowercase letters, digits, '-', '_' and '.' are allowed")
    if name and not _ends_alnum(name):
        broken.append("it must begin and end with a letter or digit")
    if ".." in name:
        broken.append("it must not contain two adjacent periods")
    if any(len(part) > 63 for part in name.split(".")) and "." in name:
        broken.append("each dot-separated part must be at most 63 characters")
    if _IP_ADDRESS.match(name):
        broken.append("it must not be formatted as an IP address")
    if name.lower().startswith("goog") or re.search(r"g[o0]{2}g[l1]e", name.lower()):
        broken.append("it must not begin with 'goog' or contain 'google'")
    return broken


def azure_account_rules(name: str) -> list[str]:
    """The storage account naming rules the name breaks."""
    broken: list[str] = []
    if len(name) < 3 or len(name) > 24:
        broken.append(f"must be 3 to 24 characters long (it has {len(name)})")
    if re.search(r"[^a-z0-9]", name):
        broken.append("may hold only lowercase letters and digits")
    return broken


def azure_container_rules(name: str) -> list[str]:
    """The blob container naming rules the name breaks."""
    if name in _AZ_SPECIAL_CONTAINERS:
        return []
    broken: list[str] = []
    if len(name) < 3 or len(name) > 63:
        broken.append(f"it must be 3 to 63 characters long (it has {len(name)})")
    if re.search(r"[^a-z0-9\-]", name):
        broken.append("only lowercase letters, digits and '-' are allowed")
    if name and not _ends_alnum(name):
        broken.append("it must begin and end with a letter or digit")
    if "--" in name:
        broken.append("it must not contain two dashes in a row")
    return broken


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


def _check_s3_bucket(url: str, bucket: str, host_was_bucket: bool, provider: str) -> str | None:
    """InputError for a name no S3 store accepts; a note for one only some accept."""
    broken, relaxed = s3_name_rules(bucket)
    if broken:
        hint = (f"; if {_shown(bucket)} is an S3-compatible endpoint's host, pass "
                "--endpoint-url" if host_was_bucket else "")
        raise _fail(url, f"{_shown(bucket)} is not a valid bucket name: "
                         f"{'; '.join(broken)}{hint}")
    if not relaxed:
        return None
    where = ("AWS accepts it only for legacy buckets (us-east-1, before March 2018)"
             if provider == AWS else "some S3-compatible stores accept it")
    return (f"bucket name {_shown(bucket)} breaks S3's naming rules "
            f"({'; '.join(relaxed)}): {where}; checked as given")


def parse_bucket_url(url: str, endpoint_url: str | None = None) -> BucketLocation:
    """Parse a W&B bucket URL. `endpoint_url` (from --endpoint-url) settles ambiguous S3 URLs.

    Raises InputError, with the URL masked, when the URL is not one W&B accepts.
    """
    url = url.strip()
    if not url:
        raise InputError("invalid bucket URL '': empty")
    if len(url) > MAX_URL_LENGTH:
        raise InputError(f"invalid bucket URL: {len(url):,} characters long, more than the "
                         f"{MAX_URL_LENGTH:,} any W&B bucket URL needs (not shown)")
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
        broken = gcs_name_rules(netloc)
        if broken:
            raise _fail(url, f"{_shown(netloc)} is not a valid GCS bucket name: "
                             f"{'; '.join(broken)}")
        return BucketLocation(scheme="gs", provider=GCP, bucket=netloc, path=path.strip("/"),
                              endpoint_url=endpoint_url, access_key=access_key,
                              secret_key=secret_key, masked_url=masked)
    # az://account/container[/path]
    if not netloc:
        raise _fail(url, "expected az://ACCOUNT/CONTAINER with a 3-24 character lowercase account")
    broken = azure_account_rules(netloc)
    if broken:
        raise _fail(url, f"expected az://ACCOUNT/CONTAINER with a 3-24 character lowercase "
                         f"account: {_shown(netloc)} {'; '.join(broken)}")
    container, rest = _bucket_and_path(url, path, "container")
    broken = azure_container_rules(container)
    if broken:
        raise _fail(url, f"{_shown(container)} is not a valid container name: "
                         f"{'; '.join(broken)}")
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
    elif scheme == "cw" and not _looks_like_endpoint(host, port):
        # operator-wandb renders cw://K:S@NAME/PATH with NAME its global.bucket.name. CoreWeave
        # bucket names hold no dots, so a dotless host with no port is that bucket, not an
        # endpoint as in W&B's documented cw://K:S@cwobject.com/BUCKET.
        bucket, rest, endpoint = host, path.strip("/"), COREWEAVE_ENDPOINT
        reading = (f"read {host!r} as the CoreWeave bucket and {rest!r} as a path (the form "
                   "operator-wandb renders; a CoreWeave endpoint host has dots)")
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
    provider = _s3_provider_for(endpoint, scheme)
    name_note = _check_s3_bucket(url, bucket, bucket == host, provider)
    # Shown where the engine shows how the URL was read.
    reading = "; ".join(note for note in (reading, name_note) if note) or None
    return BucketLocation(
        scheme=scheme, provider=provider, bucket=bucket, path=rest, endpoint_url=endpoint,
        region=region,
        # MinIO and most S3-compatible stores only serve path-style requests.
        force_path_style=force_path_style or provider == S3_COMPATIBLE,
        access_key=access_key, secret_key=secret_key, reading=reading, masked_url=masked)
