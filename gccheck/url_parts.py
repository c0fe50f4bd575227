"""The lexical parts of a W&B bucket URL, shared by the URL parser, masking and the sources.

One user:password split, one true/false reading and one endpoint-scheme rule (issue 11):
bucket_url.py builds a BucketLocation from these; masking.py hides what split_userinfo finds;
the values sources build URLs and endpoints with the same rules. No imports from gccheck, so
that every layer can use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://(.*)$", re.S)
TRUE_WORDS = ("true", "1", "yes")
FALSE_WORDS = ("false", "0", "no")
# AWS and CoreWeave serve HTTPS only; an endpoint there is https unless tls= says otherwise.
HTTPS_ONLY_DOMAINS = ("amazonaws.com", "amazonaws.com.cn", "cwobject.com", "cwlota.com")


@dataclass(frozen=True)
class UrlParts:
    """scheme://[userinfo@]rest, split the way W&B's URLs are read."""

    scheme: str  # as written (not lower-cased)
    userinfo: str | None
    rest: str  # host[:port][/path][?query][#fragment]


def split_userinfo(url: str) -> UrlParts | None:
    """The URL's scheme, userinfo and the rest; None without `scheme://`.

    The last '@' ends the userinfo, before '?' and '#' are looked for: a secret may hold '/',
    '?', '#' or '@' unencoded (AWS keys often hold '/'), and W&B's query has no '@'.
    """
    match = _SCHEME.match(url)
    if not match:
        return None
    scheme, rest = match.group(1), match.group(2)
    if "@" not in rest:
        return UrlParts(scheme, None, rest)
    userinfo, _, rest = rest.rpartition("@")
    return UrlParts(scheme, userinfo, rest)


def split_credentials(userinfo: str) -> tuple[str, str] | None:
    """(key, secret) as written (not URL-decoded) from `key:secret`; None without a colon."""
    user, colon, password = userinfo.partition(":")
    return (user, password) if colon else None


def parse_bool(value: str | None) -> bool | None:
    """true/1/yes and false/0/no (any case, spaces ignored); None for empty; ValueError else."""
    if value is None or not value.strip():
        return None
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(value)


def in_domain(host: str, *domains: str) -> bool:
    host = host.lower()
    return any(host == d or host.endswith("." + d) for d in domains)


def endpoint_scheme(host: str, tls: bool | None) -> str:
    """'https' or 'http' for an S3 endpoint host: tls= when given, else https for the
    providers that serve only HTTPS (AWS, including amazonaws.com.cn, and CoreWeave)."""
    secure = tls if tls is not None else in_domain(host, *HTTPS_ONLY_DOMAINS)
    return "https" if secure else "http"
