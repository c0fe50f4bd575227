"""S3 and S3-compatible stores (AWS, MinIO, CoreWeave, ...) through boto3.

Read-only calls: GetBucketVersioning, GetBucketLifecycleConfiguration,
GetObjectLockConfiguration. boto3 is imported on first use.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from typing import Any

from gccheck.bucket_url import BucketLocation
from gccheck.model import (
    BucketFacts,
    DeleteProtection,
    LifecycleRule,
    Settings,
    Unavailable,
    UnavailableKind,
    VersioningState,
)
from gccheck.net import (
    SDK_IMPORT_LOCK,
    Deadline,
    Failure,
    MalformedAnswer,
    UnexpectedRedirect,
    answers_from,
    await_answer,
    classify_status,
    classify_transport,
    is_dns_failure,
    proxy_for,
    read_fact,
    server_text,
    unavailable,
    via_proxy,
    whole_number,
)
from gccheck.neutral import neutralise
from gccheck.probes.interface import ProbeOptions
from gccheck.probes.s3_wire import THROTTLED, attempts_in_flight, guard, timed_out

log = logging.getLogger(__name__)

# The facts S3 has (no blob soft delete).
FACTS = ("versioning", "lifecycle", "delete_protection")
# API call -> the IAM action AWS checks for it (named in `unknown` verdicts).
PERMISSIONS = {
    "get_bucket_versioning": "s3:GetBucketVersioning",
    "get_bucket_lifecycle_configuration": "s3:GetLifecycleConfiguration",
    "get_object_lock_configuration": "s3:GetBucketObjectLockConfiguration",
}
_DENIED = {"AccessDenied", "AllAccessDisabled", "403", "Forbidden", "AccountProblem"}
_CREDENTIALS_BAD = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken",
                    "InvalidToken", "TokenRefreshRequired"}
_MISSING = {"NoSuchBucket"}
_ABSENT = {"NoSuchLifecycleConfiguration", "ObjectLockConfigurationNotFoundError"}
_NOT_IMPLEMENTED = {"NotImplemented", "501", "XNotImplemented"}



class _Missing(Exception):
    """The bucket does not exist."""


class _Absent(Exception):
    """The configuration asked for was never set (no lifecycle rules, no object lock)."""


def classify(exc: BaseException, call: str, endpoint: str, timeout: float) -> Unavailable:
    """Turn a botocore exception into a fact that says why the answer is missing."""
    from botocore import exceptions as bex
    from botocore.parsers import ResponseParserError

    permission = PERMISSIONS.get(call)
    if isinstance(exc, bex.ClientError):
        error = exc.response.get("Error", {})
        code = server_text(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        # Rejected credentials come as 403 too: check them before "not allowed".
        if code in _CREDENTIALS_BAD:
            return Unavailable(UnavailableKind.NO_CREDENTIALS,
                               f"the credentials were rejected ({code})")
        if code in _DENIED or status == 403:
            return Unavailable(UnavailableKind.DENIED,
                               f"access denied: {permission} is not allowed", permission)
        said = f"HTTP {status} {code}".strip() if status else code
        if code in THROTTLED or status == 429:
            return unavailable(Failure.THROTTLED, endpoint, timeout, detail=said, attempts=None)
        failure = classify_status(status)
        if failure is not None:  # 5xx or a redirect botocore did not chase
            return unavailable(failure, endpoint, timeout, detail=said, attempts=None)
        if status == 404 and code in ("", "404", "NotFound"):
            # No S3 error document (S3 says NoSuchBucket): another server on that port, or a
            # proxy, answered.
            return Unavailable(UnavailableKind.ERROR,
                               f"HTTP 404 without an S3 error from {endpoint}: is it an S3 "
                               "endpoint (host, port, or a proxy in between)?")
        return Unavailable(UnavailableKind.ERROR, f"{call} failed: {code or status}")
    if isinstance(exc, bex.NoCredentialsError | bex.PartialCredentialsError):
        return Unavailable(UnavailableKind.NO_CREDENTIALS,
                           "no AWS credentials found (keys in the bucket URL, AWS_ACCESS_KEY_ID "
                           "and AWS_SECRET_ACCESS_KEY, a profile, or an instance/IRSA role)")
    if isinstance(exc, bex.InvalidRegionError):
        return Unavailable(UnavailableKind.ERROR,
                           f"the region {neutralise(str(exc.kwargs.get('region_name')), 80)!r} "
                           "is not a valid AWS region name (check ?region= or AWS_REGION)")
    if isinstance(exc, bex.ProfileNotFound):
        return Unavailable(UnavailableKind.NO_CREDENTIALS, f"AWS profile not found ({exc})")
    if isinstance(exc, UnexpectedRedirect):
        return unavailable(Failure.REDIRECT, endpoint, timeout, detail=f"HTTP {exc.status}")
    if isinstance(exc, MalformedAnswer):
        return unavailable(Failure.MALFORMED, endpoint, timeout, detail=str(exc))
    if isinstance(exc, bex.EndpointConnectionError | bex.ConnectionClosedError) \
            and not is_dns_failure(exc):
        return unavailable(Failure.REFUSED, endpoint, timeout)
    failure = classify_transport(exc)  # timeouts, TLS, DNS, wherever botocore wraps them
    if failure is not None:
        return unavailable(failure, endpoint, timeout)
    if isinstance(exc, ResponseParserError | bex.IncompleteReadError | ValueError):
        # ValueError: a field botocore could not convert (a lifecycle <Date> that is no date).
        return unavailable(Failure.MALFORMED, endpoint, timeout,
                           detail="a document botocore could not parse (truncated?)")
    return Unavailable(UnavailableKind.ERROR, f"{call} failed: {type(exc).__name__}")


def _lifecycle_rule(index: int, raw: dict[str, Any]) -> LifecycleRule:
    """One rule, typed strictly: Status Enabled or Disabled, a day count a whole number of at
    least 1 (PutBucketLifecycleConfiguration refuses others); else MalformedAnswer."""
    where = f"lifecycle rule {index + 1}"
    if raw.get("Status") not in ("Enabled", "Disabled"):
        raise MalformedAnswer(f"{where}: Status is {server_text(repr(raw.get('Status')), 40)}, "
                              "not Enabled or Disabled")
    expiration = raw.get("Expiration") or {}
    if "Days" in expiration:
        whole_number(expiration["Days"], f"{where}: Expiration.Days", 1)
    if "NoncurrentVersionExpiration" in raw:
        noncurrent = raw["NoncurrentVersionExpiration"] or {}
        whole_number(noncurrent.get("NoncurrentDays"),
                     f"{where}: NoncurrentVersionExpiration.NoncurrentDays", 1)
    expires_current = "Days" in expiration or "Date" in expiration
    scope = raw.get("Filter") or {}
    prefix = scope.get("Prefix", raw.get("Prefix")) if isinstance(scope, dict) else None
    parts = []
    if expires_current:
        when = server_text(expiration.get("Days", expiration.get("Date")))
        parts.append(f"expires current objects after {when}"
                     + (" days" if "Days" in expiration else ""))
    if "NoncurrentVersionExpiration" in raw:
        days = server_text(raw["NoncurrentVersionExpiration"].get("NoncurrentDays"))
        parts.append(f"expires noncurrent versions after {days} days")
    if prefix:
        parts.append(f"prefix {server_text(prefix)!r}")
    return LifecycleRule(
        id=server_text(raw.get("ID") or "(unnamed)"),
        enabled=raw.get("Status") == "Enabled",
        expires_current=expires_current,
        expires_noncurrent="NoncurrentVersionExpiration" in raw,
        description=", ".join(parts),
    )


def _lifecycle_rules(response: dict[str, Any]) -> tuple[LifecycleRule, ...]:
    return tuple(_lifecycle_rule(i, raw) for i, raw in enumerate(response.get("Rules", [])))


def _object_lock(raw: dict[str, Any]) -> DeleteProtection:
    config = raw.get("ObjectLockConfiguration") or {}
    if config.get("ObjectLockEnabled") != "Enabled":
        return DeleteProtection(False, "object lock is not enabled")
    retention = (config.get("Rule") or {}).get("DefaultRetention")
    if not retention:
        return DeleteProtection(False, "object lock is enabled without a default retention")
    length = (f"{whole_number(retention['Days'], 'DefaultRetention.Days', 1)} days"
              if "Days" in retention
              else f"{whole_number(retention['Years'], 'DefaultRetention.Years', 1)} years"
              if "Years" in retention else "of no length")
    return DeleteProtection(True, "object lock default retention "
                                  f"{server_text(retention.get('Mode'))} {length}")


class Probe:
    """Reads versioning, lifecycle rules and object lock; reuses clients across targets."""

    def __init__(self) -> None:
        self._clients: dict[tuple[Any, ...], Any] = {}
        # One boto3 Session per profile: a Session costs ~150 ms and ~12 MB (it loads the
        # service models), a client made from an existing one a few ms.
        self._sessions: dict[str | None, Any] = {}
        self._lock = threading.Lock()

    def _client(self, bucket: BucketLocation, settings: Settings, options: ProbeOptions) -> Any:
        access_key = bucket.access_key or settings.get("AWS_ACCESS_KEY_ID")
        secret_key = bucket.secret_key if bucket.access_key else settings.get(
            "AWS_SECRET_ACCESS_KEY")
        token = None if bucket.access_key else settings.get("AWS_SESSION_TOKEN")
        region = bucket.region or (settings.storage.region.value if settings.storage.region
                                   else None)
        key = (bucket.endpoint_url, access_key, secret_key, token, region, options.aws_profile,
               options.timeout, bucket.force_path_style)
        with self._lock:
            client = self._clients.get(key)
            if client is not None:
                return client
            with SDK_IMPORT_LOCK:
                import boto3
                from botocore.config import Config

            session = self._sessions.get(options.aws_profile)
            if session is None:
                session = boto3.session.Session(profile_name=options.aws_profile)
                self._sessions[options.aws_profile] = session
            config = Config(
                connect_timeout=options.timeout,
                read_timeout=options.timeout,
                retries={"total_max_attempts": 3, "mode": "standard"},
                s3={"addressing_style": "path" if bucket.force_path_style else "auto"},
                # Three calls per bucket for every deployment in flight (audit default 32).
                max_pool_connections=128,
                # The parameters are ours and always valid: skip the client-side check.
                parameter_validation=False,
                user_agent_extra="gccheck",
                # Only the endpoint gccheck decided (the deployment's, or AWS's): never
                # AWS_ENDPOINT_URL(_S3) from the shell or an AWS config profile's endpoint_url,
                # which would get the deployment's signed requests behind the report's back.
                ignore_configured_endpoint_urls=True,
            )
            client = session.client(
                "s3", endpoint_url=bucket.endpoint_url, region_name=region,
                aws_access_key_id=access_key if access_key and secret_key else None,
                aws_secret_access_key=secret_key if access_key and secret_key else None,
                aws_session_token=token if access_key and secret_key else None,
                config=config)
            log.debug("S3 client: endpoint %s, region %s, %s addressing, credentials from %s",
                      bucket.endpoint_url or "AWS's", region or "from the profile/default",
                      "path" if bucket.force_path_style else "auto",
                      _credential_source(bucket, access_key, secret_key, options.aws_profile))
            # Bodies are read capped as they arrive, before botocore buffers one whole.
            guard(client, custom_endpoint=bucket.endpoint_url is not None)
            self._clients[key] = client
            return client

    def probe(self, bucket: BucketLocation, settings: Settings,
              options: ProbeOptions) -> BucketFacts:
        facts = self._probe(bucket, settings, options)
        return replace(facts, notes=(_answers_from(bucket, settings), *facts.notes))

    def _probe(self, bucket: BucketLocation, settings: Settings,
               options: ProbeOptions) -> BucketFacts:
        endpoint = bucket.endpoint_url or "AWS S3"
        try:
            client = self._client(bucket, settings, options)
        except Exception as exc:  # bad profile, bad region name, ...
            failure = classify(exc, "client", endpoint, options.timeout)
            return BucketFacts.unavailable(bucket.provider, failure, facts=FACTS)
        # The deadline starts once the SDK is loaded and the client built (start-up, possibly
        # waiting for another probe's imports), as in the GCS and Azure probes.
        deadline = Deadline(options.timeout)

        attempts: dict[str, list[str]] = {name: [] for name in PERMISSIONS}

        def call(name: str) -> Callable[[], dict[str, Any]]:
            def run() -> dict[str, Any]:
                from botocore.exceptions import ClientError
                attempts_in_flight.record = attempts[name]
                try:
                    response: dict[str, Any] = getattr(client, name)(Bucket=bucket.bucket)
                    log.debug("%s on %s: HTTP %s", name, bucket.masked_url,
                              response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
                    return response
                except ClientError as exc:
                    code = exc.response.get("Error", {}).get("Code", "")
                    if code in _MISSING:
                        raise _Missing() from None
                    if code in _ABSENT:
                        raise _Absent() from None
                    if code in _NOT_IMPLEMENTED:
                        raise NotImplementedError(code) from None
                    raise
                finally:
                    attempts_in_flight.record = None

            return run

        futures: dict[str, Future[dict[str, Any]]] = {
            name: options.pool.submit(call(name)) for name in PERMISSIONS}
        answers = {name: await_answer(future, deadline) for name, future in futures.items()}
        if any(isinstance(a, _Missing) for a in answers.values()):
            return BucketFacts(provider=bucket.provider, missing=True,
                               missing_reason=f"bucket {bucket.bucket} does not exist"
                               + (f" at {bucket.endpoint_url}" if bucket.endpoint_url else ""))

        def fact(name: str, parse: Callable[[dict[str, Any]], Any], absent: Any) -> Any:
            answer = answers[name]
            if isinstance(answer, dict):
                return parse(answer)
            if isinstance(answer, _Absent):
                return absent
            if isinstance(answer, TimeoutError):
                return timed_out(endpoint, options.timeout, attempts[name])
            if isinstance(answer, NotImplementedError):
                if name == "get_object_lock_configuration":
                    return DeleteProtection(False, "the endpoint does not implement object lock")
                return Unavailable(UnavailableKind.ERROR,
                                   f"the endpoint does not implement {name}")
            log.debug("%s on %s failed", name, bucket.masked_url, exc_info=answer)
            return classify(answer, name, endpoint, options.timeout)

        # Each fact on its own: an odd answer to one call never erases another's verdict.
        def read(name: str, parse: Callable[[dict[str, Any]], Any], absent: Any) -> Any:
            return read_fact(lambda: fact(name, parse, absent),
                             f"{name} on {endpoint}")

        versioning = read("get_bucket_versioning", _versioning_state, None)
        lifecycle = read("get_bucket_lifecycle_configuration", _lifecycle_rules, ())
        lock = read("get_object_lock_configuration", _object_lock,
                    DeleteProtection(False, "object lock is not configured"))
        return BucketFacts(provider=bucket.provider, versioning=versioning, lifecycle=lifecycle,
                           delete_protection=lock)


def _answers_from(bucket: BucketLocation, settings: Settings) -> str:
    """Where the answers come from: the custom endpoint and who named it, or AWS's own."""
    if bucket.endpoint_url is None:
        region = bucket.region or settings.get("AWS_REGION") or settings.get("AWS_DEFAULT_REGION")
        where = neutralise(region, 80) if region else "from the profile"
        # The regional host stands in for AWS's: NO_PROXY may name either.
        aws = f"https://s3.{region}.amazonaws.com" if region else "https://s3.amazonaws.com"
        return (f"answers from AWS S3 (AWS's endpoint for region {where})"
                + via_proxy(proxy_for(aws, botocore=True)))
    # botocore proxies by the URL's scheme only, never ALL_PROXY (net.proxy_for).
    for name in ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"):
        setting = settings.values.get(name)
        if setting is not None and setting.value and \
                setting.value.strip().rstrip("/") == bucket.endpoint_url.rstrip("/"):
            return answers_from(bucket.endpoint_url, f"{name} from {setting.origin}",
                                botocore=True)
    return answers_from(bucket.endpoint_url, "the bucket URL or --endpoint-url",
                        botocore=True)


def _credential_source(bucket: BucketLocation, access_key: str | None, secret_key: str | None,
                       profile: str | None) -> str:
    """Where the keys come from, never the keys."""
    if bucket.access_key:
        return "the bucket URL"
    if access_key and secret_key:
        return "the settings (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)"
    if profile:
        return f"AWS profile {profile}"
    return "boto3's default chain (environment, config files, web identity, instance role)"


def unknown_profile(name: str) -> str | None:
    """A one-line error when the AWS config and credentials files lack profile `name`.

    Read locally (no network), so a misspelt profile is an input error before anything is
    sent, as awscli treats it, rather than an `unknown` verdict per bucket.
    """
    return _unknown_profile(name, os.environ.get("AWS_CONFIG_FILE"),
                            os.environ.get("AWS_SHARED_CREDENTIALS_FILE"))


@functools.lru_cache(maxsize=32)
def _unknown_profile(name: str, config_file: str | None,
                     credentials_file: str | None) -> str | None:
    with SDK_IMPORT_LOCK:
        import botocore.exceptions
        import botocore.session

    try:
        profiles = botocore.session.Session().available_profiles
    except botocore.exceptions.BotoCoreError as exc:  # e.g. an unparsable config file
        return f"cannot read the AWS config files: {exc}"
    if name in profiles:
        return None
    return (f"AWS profile {name!r} is not defined in the AWS config or credentials files"
            + (f" (defined: {', '.join(sorted(profiles))})" if profiles else ""))


def _versioning_state(response: dict[str, Any]) -> VersioningState:
    status = response.get("Status")
    if status == "Enabled":
        return VersioningState.ENABLED
    if status == "Suspended":
        return VersioningState.SUSPENDED
    if status is None:  # no Status element: versioning was never enabled
        return VersioningState.NEVER_ENABLED
    raise MalformedAnswer(f"versioning Status is {server_text(repr(status), 40)}, not Enabled "
                          "or Suspended")
