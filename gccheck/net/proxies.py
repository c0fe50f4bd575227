"""Which proxy from the environment a request goes through, as the HTTP clients decide."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit
from urllib.request import (  # type: ignore[attr-defined]  # not in typeshed
    getproxies_environment,
    proxy_bypass_environment,
)

from gccheck.masking import mask_url
from gccheck.neutral import neutralise

# ---- proxies -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Proxy:
    """The proxy a request goes through, and the environment variable that named it."""

    url: str
    variable: str

    @property
    def shown(self) -> str:
        """The proxy as the report shows it: any user:password masked, neutralised."""
        return f"{neutralise(mask_url(self.url), 200)} ({neutralise(self.variable, 80)})"


def via_proxy(proxy: Proxy | None) -> str:
    """" via proxy URL (VARIABLE)", or "" for a direct connection."""
    return f" via proxy {proxy.shown}" if proxy is not None else ""


def proxy_for(url: str, environ: Mapping[str, str] | None = None, *,
              botocore: bool = False) -> Proxy | None:
    """The proxy from the environment that a request to `url` goes through, or None.

    As the clients gccheck uses decide it (all read the process environment):
    `urllib.request.getproxies()` (lower-case names win over upper-case; HTTP_PROXY is ignored
    when REQUEST_METHOD is set); NO_PROXY is matched as urllib's `proxy_bypass` does (a name
    or domain suffix, with or without the port, `*` for all). requests (google-auth, the
    Azure SDKs' transport) picks `<scheme>_proxy`, else `all_proxy`, and also bypasses an
    IPv4 address NO_PROXY names, alone or in a CIDR range (requests.utils.select_proxy,
    should_bypass_proxies). botocore (`botocore=True`) takes the scheme's proxy only, never
    ALL_PROXY, and matches NO_PROXY by urllib alone: no ranges
    (botocore.httpsession.ProxyConfiguration.proxy_url_for, botocore.utils.
    should_bypass_proxies). The kubernetes client decides on its own configuration (see
    sources/kubernetes/api.py).
    """
    env = os.environ if environ is None else environ
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host:
        return None
    proxies = _environ_proxies(env)
    scheme = parts.scheme.lower()
    chosen = (scheme if scheme in proxies
              else "all" if not botocore and "all" in proxies else None)
    if chosen is None or _bypassed(host, parts.netloc.rpartition("@")[2].lower(), proxies,
                                   ranges=not botocore):
        return None
    return Proxy(proxies[chosen], _proxy_variable(env, chosen, proxies[chosen]))


def _environ_proxies(env: Mapping[str, str]) -> dict[str, str]:
    if env is os.environ:
        return getproxies_environment()
    # The same rules as getproxies_environment, for a given mapping (tests).
    proxies: dict[str, str] = {}
    for name, value in env.items():
        if value and name.lower().endswith("_proxy"):
            proxies[name[:-6].lower()] = value
    if "REQUEST_METHOD" in env:
        proxies.pop("http", None)
    for name, value in env.items():
        if name.endswith("_proxy"):
            if value:
                proxies[name[:-6]] = value
            else:
                proxies.pop(name[:-6], None)
    return proxies


def _proxy_variable(env: Mapping[str, str], scheme: str, value: str) -> str:
    lower = f"{scheme}_proxy"
    if env.get(lower) == value:
        return lower
    for name, held in env.items():
        if held == value and name.lower() == lower:
            return name
    return lower.upper()


def _bypassed(host: str, host_and_port: str, proxies: Mapping[str, str], *,
              ranges: bool) -> bool:
    no_proxy = proxies.get("no", "")
    if not no_proxy:
        return False
    if proxy_bypass_environment(host, {"no": no_proxy}) or \
            proxy_bypass_environment(host_and_port, {"no": no_proxy}):
        return True
    if not ranges:
        return False
    try:
        address = ipaddress.IPv4Address(host)
    except ValueError:
        return False
    for entry in no_proxy.replace(" ", "").split(","):
        try:
            if address in ipaddress.ip_network(entry.strip(), strict=False):
                return True
        except ValueError:
            continue
    return False
