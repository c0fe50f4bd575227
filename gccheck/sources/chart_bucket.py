"""The bucket URL W&B's Helm charts render, and what to do when its keys are out of reach.

operator-wandb (`templates/_bucket.tpl`, helper `wandb.bucket`, read in wandb/helm-charts):

    {{- if .Values.global.bucket.name -}}   <- the whole global.bucket block ...
    {{- else -}}                            <- ... else the whole global.defaultBucket block
    ...
    {{- if eq $provider "s3" -}}
      {{- if or (and $accessKey $secretKey) .Values.global.bucket.secret.secretName -}}
        {{- $url = "s3://$(BUCKET_ACCESS_KEY):$(BUCKET_SECRET_KEY)@$(BUCKET_NAME)/$(BUCKET_PATH)" -}}
      {{- else -}}
        {{- $url = "s3://$(BUCKET_NAME)/$(BUCKET_PATH)" -}}
    (cw:// alike; az://$(BUCKET_NAME)/$(BUCKET_PATH); gs://$(BUCKET_NAME)/$(BUCKET_PATH);
     without a path the "/$(BUCKET_PATH)" part is left out; trimSuffix "/")

BUCKET_ACCESS_KEY / BUCKET_SECRET_KEY come from the Secret `secret.secretName` (keys
`secret.accessKeyName` / `secret.secretKeyName`, default ACCESS_KEY / SECRET_KEY), or from the
`<release>-bucket` Secret the chart writes from inline `accessKey` / `secretKey`. Kubernetes
substitutes them as they are (not URL-encoded), so neither does gccheck.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from gccheck.url_parts import endpoint_scheme, parse_bool, split_userinfo

# operator-wandb provider -> URL scheme.
SCHEMES = {"s3": "s3", "gcs": "gs", "az": "az", "cw": "cw"}


@dataclass(frozen=True)
class ChartBucket:
    """The bucket block operator-wandb uses, reduced to strings."""

    block: str  # "global.bucket" or "global.defaultBucket"
    provider: str
    name: str
    path: str
    region: str
    kms_key: str
    access_key: str
    secret_key: str
    secret_name: str  # global.bucket.secret.secretName: keys that live only in the cluster
    access_key_name: str
    secret_key_name: str
    provider_set: bool = True

    @property
    def scheme(self) -> str | None:
        return SCHEMES.get(self.provider)

    @property
    def keys_inline(self) -> bool:
        return bool(self.access_key and self.secret_key)

    @property
    def uses_keys(self) -> bool:
        """Whether the chart puts keys into the URL (s3 and cw only)."""
        return self.provider in ("s3", "cw") and (self.keys_inline or bool(self.secret_name))


def _text(block: Mapping[str, Any], key: str) -> str:
    from gccheck.sources.envvars import go_string

    value = block.get(key)
    return "" if value is None or isinstance(value, (dict, list)) else go_string(value)


def pick_bucket(global_values: Mapping[str, Any]) -> ChartBucket | None:
    """The block `wandb.bucket` reads, or None when neither block names a bucket."""
    bucket = global_values.get("bucket")
    bucket = bucket if isinstance(bucket, Mapping) else {}
    default = global_values.get("defaultBucket")
    default = default if isinstance(default, Mapping) else {}
    chosen, block = (bucket, "global.bucket") if _text(bucket, "name") else (
        default, "global.defaultBucket")
    if not _text(chosen, "name"):
        return None
    secret = bucket.get("secret")
    secret = secret if isinstance(secret, Mapping) else {}
    # No provider: s3, the chart's default for defaultBucket; global.bucket has none, and
    # then the chart renders BUCKET="" (provider_set False: the caller says so).
    return ChartBucket(
        # values.yaml gives defaultBucket.provider "s3" and global.bucket no provider.
        provider_set=bool(_text(chosen, "provider")) or (
            block == "global.defaultBucket" and chosen.get("provider") is None),
        block=block, provider=_text(chosen, "provider") or "s3", name=_text(chosen, "name"),
        path=_text(chosen, "path"), region=_text(chosen, "region"),
        kms_key=_text(chosen, "kmsKey"), access_key=_text(chosen, "accessKey"),
        secret_key=_text(chosen, "secretKey"), secret_name=_text(secret, "secretName"),
        access_key_name=_text(secret, "accessKeyName") or "ACCESS_KEY",
        secret_key_name=_text(secret, "secretKeyName") or "SECRET_KEY")


def chart_url(bucket: ChartBucket, keys: tuple[str, str] | None) -> str:
    """BUCKET as the chart renders it; `keys` None leaves the userinfo out."""
    scheme = bucket.scheme or bucket.provider
    where = f"{bucket.name}/{bucket.path}" if bucket.path else bucket.name
    userinfo = f"{keys[0]}:{keys[1]}@" if keys is not None and bucket.uses_keys else ""
    return f"{scheme}://{userinfo}{where}".rstrip("/")


def without_keys(url: str) -> tuple[str, str | None]:
    """The URL without its keys, and the S3 endpoint the keys made it name, if any.

    With keys, gccheck reads `s3://AK:SK@host.name/bucket` as an S3-compatible endpoint and a
    bucket (the W&B MinIO form); without keys the same text would read as an AWS bucket
    `host.name`. So that leaving the keys out does not change the bucket, the endpoint is
    returned for the caller to pass on (gccheck reads AWS_ENDPOINT_URL_S3 like --endpoint-url).
    The URL is split, and the endpoint's scheme chosen, by the bucket URL parser's own rules.
    """
    parts = split_userinfo(url)
    if parts is None or parts.userinfo is None:
        return url, None
    keyless = f"{parts.scheme}://{parts.rest}"
    location, _, query = parts.rest.partition("?")
    netloc, slash, path = location.partition("/")
    if parts.scheme.lower() != "s3" or not (slash and path.strip("/")) or not _endpoint_like(
            netloc):
        return keyless, None
    host, _port = _host_port(netloc)
    return keyless, f"{endpoint_scheme(host, _query_flag(query, 'tls'))}://{netloc}"


def _host_port(netloc: str) -> tuple[str, str]:
    if netloc.startswith("["):
        host, _, rest = netloc.partition("]")
        return host + "]", rest.lstrip(":")
    host, _, port = netloc.partition(":")
    return host, port


def _endpoint_like(netloc: str) -> bool:
    # The test gccheck's bucket URL parser applies to the host of s3://AK:SK@host/path.
    host, port = _host_port(netloc)
    return bool(port) or host == "localhost" or host.startswith("[") or "." in host


def _query_flag(query: str, name: str) -> bool | None:
    # The last value wins, as in the parser; one it cannot read is left for it to report.
    values = parse_qs(query, keep_blank_values=True).get(name)
    try:
        return parse_bool(values[-1]) if values else None
    except ValueError:
        return None
