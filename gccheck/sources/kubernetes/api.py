"""The few calls gccheck makes to a Kubernetes API server: GETs, bounded, retried, classified.

Every call is a get or a list through the official `kubernetes` client, bounded by the time
left of one budget (`net.Deadline`); a 429 or 5xx is retried by `net.with_retries` (honouring
Retry-After, never past the deadline); a redirect is not followed; every answer's body is read
at most `MAX_ANSWER` bytes; a 2xx answer must be JSON of the kind asked for. Transport failures
are worded by `net.unavailable`, as the probes word theirs; what an error status means is said
in words that name the missing permission ("needs 'get secrets' in namespace X").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from gccheck import net
from gccheck.errors import InputError
from gccheck.net import Deadline, Failure
from gccheck.neutral import neutralise
from gccheck.sources.kubernetes.kubeconfig import load_within
from gccheck.sources.kubernetes.resolver import Fetched

PLURAL = {"Deployment": "deployments", "StatefulSet": "statefulsets", "ConfigMap": "configmaps",
          "Secret": "secrets"}

# The longest answer read. etcd stores an object in at most 1.5 MiB (its default request
# limit), and JSON shows a Secret's bytes in base64, a third longer: 4 MiB holds any one
# object, and the few workloads a label selector lists, with room. An endless or larger body
# is refused unread (a malformed answer): it cannot take the pod's memory.
MAX_ANSWER = 4 << 20


class Kube:
    """The few calls gccheck makes, each bounded by the time left of `timeout`.

    Every call is a GET (get or list). A 429 or 5xx is retried (at most net.MAX_ATTEMPTS per
    call, honouring Retry-After, never waiting past the deadline); a redirect is not followed;
    a body is read at most MAX_ANSWER bytes; a 2xx answer must be JSON of the kind asked for.
    """

    def __init__(self, api_client: Any, namespace: str, server: str, timeout: float,
                 deadline: Deadline | None = None, proxy: net.Proxy | None = None) -> None:
        self.api_client = api_client
        self.namespace = namespace
        # The proxy is named wherever the server is: the kubeconfig's token goes through it.
        self.server = neutralise(_shown_server(server)) + net.via_proxy(proxy)
        self.endpoint = f"the Kubernetes API at {self.server}"
        self.timeout = timeout
        self.deadline = Deadline(timeout) if deadline is None else deadline
        self._cache: dict[tuple[str, str, str], Fetched] = {}

    @classmethod
    def connect(cls, kubeconfig: str | None, context: str | None, environ: Mapping[str, str],
                timeout: float) -> Kube:
        import urllib3
        from kubernetes import client

        # One budget for loading the credentials and the calls: the audit gives a deployment
        # its timeout for reading settings, not one for each step.
        deadline = Deadline(timeout)
        configuration, namespace = load_within(deadline, kubeconfig, context, environ)
        # One attempt per request, no redirects followed: urllib3 would otherwise retry each
        # request 3 times, beyond --timeout, and follow a redirect anywhere. gccheck bounds
        # every call by the time left and retries 429/5xx itself.
        configuration.retries = urllib3.Retry(total=0, redirect=False)
        api_client = client.ApiClient(configuration)
        rest: Any = api_client.rest_client
        rest.pool_manager = _BoundedPool(rest.pool_manager)
        return cls(api_client, namespace, configuration.host, timeout, deadline,
                   _proxy(configuration))

    def close(self) -> None:
        self.api_client.close()

    def _call(self, method: Any, *args: Any, expect: str, **kwargs: Any) -> Mapping[str, Any]:
        """Call a client method; returns the JSON body, an object of kind `expect`.

        Raises _HttpError for an HTTP error status (the caller decides what it means) and
        _Unreachable when there is no usable answer."""
        import urllib3
        from kubernetes.client.exceptions import ApiException

        def once() -> Any:
            left = self.deadline.left()
            if left <= 0:
                raise TimeoutError("the time for the whole read is up")
            return method(*args, _preload_content=False, _request_timeout=(left, left),
                          **kwargs)

        failed: list[BaseException] = []
        try:
            # On its own thread: a server sending a byte at a time never times out a read.
            response = net.run_within(net.with_retries(once, self.deadline, failed, _status,
                                                       _headers), self.deadline)
        except ApiException as exc:
            attempts = len(failed) + (0 if failed and failed[-1] is exc else 1)
            status = exc.status or 0
            if status == 0:  # the client reports TLS failures as status 0
                raise _Unreachable(self._said(Failure.TLS)) from None
            if net.classify_status(status) is Failure.REDIRECT:
                raise _Unreachable(self._said(Failure.REDIRECT, _redirect(status, exc.headers))
                                   ) from None
            raise _HttpError(status, neutralise(str(exc.reason or ""), 120), attempts,
                             net.retry_after(exc.headers)) from None
        except (urllib3.exceptions.HTTPError, net.MalformedAnswer, OSError) as exc:
            failure = net.classify_transport(exc)
            if failure is None:
                raise _Unreachable(f"could not connect to {self.endpoint}: "
                                   f"{neutralise(str(exc).split(': ')[-1], 120)}") from None
            too_large = isinstance(exc, net.BodyTooLarge)
            raise _Unreachable(self._said(failure, _TOO_LARGE if too_large else "")) from None
        return self._parse(response.data, response.headers.get("Content-Type", ""), expect)

    def _said(self, failure: Failure, detail: str = "") -> str:
        return net.unavailable(failure, self.endpoint, self.timeout, detail=detail).reason

    def _parse(self, body: bytes | None, content_type: str, expect: str) -> Mapping[str, Any]:
        body = body or b""
        if net.looks_like_html(body, content_type):
            raise _Unreachable(self._said(Failure.HTML))
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            seen = f"a body that is not JSON ({len(body)} bytes)" if body else "an empty body"
            raise _Unreachable(self._said(Failure.MALFORMED,
                                          f"expected a {expect} as JSON, got {seen}")) from None
        got = data.get("kind") if isinstance(data, Mapping) else None
        if not isinstance(data, Mapping) or got != expect:
            what = (f"a {got}" if isinstance(got, str) and got.isprintable() and len(got) < 64
                    else "JSON without a kind" if isinstance(data, Mapping) else "other JSON")
            raise _Unreachable(self._said(Failure.MALFORMED, f"expected a {expect}, got {what} "
                                                             "(is the server URL right?)"))
        return data

    def _api_problem(self, exc: _HttpError, what: str, verb: str, kind: str,
                     namespace: str) -> tuple[str, bool]:
        """What an HTTP error means for reading `what` ("Deployment wandb/x"), and whether
        it is a 404; InputError when it stops everything (401)."""
        what, namespace = neutralise(what), neutralise(namespace)
        waited = f", Retry-After {exc.retry_after:g} s" if exc.retry_after is not None else ""
        if exc.status == 401:
            raise InputError(f"the Kubernetes API at {self.server} refused the credentials "
                             "(401 Unauthorized): check the kubeconfig's user")
        if exc.status == 403:
            where = "" if what.endswith(f" in namespace {namespace}") else (
                f" in namespace {namespace}")
            return (f"cannot {_verb_text(verb)} {what}: forbidden (needs '{verb} "
                    f"{PLURAL[kind]}'{where})"), False
        if exc.status == 404:
            return f"{what} not found", True
        failure = net.classify_status(exc.status)
        if failure is Failure.THROTTLED or failure is Failure.SERVER_ERROR:
            status = f"HTTP {exc.status}" + (f" {exc.reason}" if failure is not
                                             Failure.THROTTLED else "")
            said = net.unavailable(failure, self.endpoint, self.timeout,
                                   detail=f"{status}{waited}", attempts=exc.attempts)
            return f"cannot {_verb_text(verb)} {what}: {said.reason}", False
        return (f"cannot {_verb_text(verb)} {what}: HTTP {exc.status} {exc.reason} from "
                f"{self.endpoint}"), False

    def get_workload(self, kind: str, namespace: str, name: str) -> Mapping[str, Any]:
        from kubernetes import client

        apps = client.AppsV1Api(self.api_client)
        method = (apps.read_namespaced_deployment if kind == "Deployment"
                  else apps.read_namespaced_stateful_set)
        try:
            return self._call(method, name, namespace, expect=kind)
        except _HttpError as exc:
            problem, _ = self._api_problem(exc, f"{kind} {namespace}/{name}", "get", kind,
                                           namespace)
            raise InputError(problem) from None
        except _Unreachable as exc:
            raise InputError(str(exc)) from None

    def list_workloads(self, kind: str, namespace: str, selector: str,
                       purpose: str) -> list[Mapping[str, Any]]:
        """The Deployments or StatefulSets in `namespace` that match a label selector, each
        with its kind set; InputError (prefixed with `purpose`) when they cannot be listed."""
        from kubernetes import client

        apps = client.AppsV1Api(self.api_client)
        method = (apps.list_namespaced_deployment if kind == "Deployment"
                  else apps.list_namespaced_stateful_set)
        try:
            items = self._call(method, namespace, label_selector=selector,
                               expect=f"{kind}List").get("items")
        except _HttpError as exc:
            problem, _ = self._api_problem(exc, f"{PLURAL[kind]} in namespace {namespace}",
                                           "list", kind, namespace)
            raise InputError(f"{purpose}: {problem}") from None
        except _Unreachable as exc:
            raise InputError(str(exc)) from None
        return [{**item, "kind": kind} for item in (items if isinstance(items, list) else [])
                if isinstance(item, Mapping)]

    def fetch(self, kind: str, namespace: str, name: str) -> Fetched:
        """A ConfigMap or Secret (cached), or why it could not be read."""
        key = (kind, namespace, name)
        if key not in self._cache:
            self._cache[key] = self._fetch(kind, namespace, name)
        return self._cache[key]

    def _fetch(self, kind: str, namespace: str, name: str) -> Fetched:
        from kubernetes import client

        core = client.CoreV1Api(self.api_client)
        method = core.read_namespaced_config_map if kind == "ConfigMap" else (
            core.read_namespaced_secret)
        try:
            return Fetched(self._call(method, name, namespace, expect=kind))
        except _HttpError as exc:
            problem, missing = self._api_problem(exc, f"{kind} {namespace}/{name}", "get", kind,
                                                 namespace)
            return Fetched(None, problem, missing)
        except _Unreachable as exc:
            return Fetched(None, f"{kind} {neutralise(namespace)}/{neutralise(name)} not read: "
                                 f"{exc}")


class _Unreachable(Exception):
    """No usable answer from the API: refused, timed out, TLS, a redirect, a malformed body,
    or the time for the whole read is up."""


class _HttpError(Exception):
    """An HTTP error status that is the API's answer (after any retries)."""

    def __init__(self, status: int, reason: str, attempts: int,
                 retry_after: float | None) -> None:
        super().__init__(status)
        self.status = status
        self.reason = reason
        self.attempts = attempts
        self.retry_after = retry_after


def _verb_text(verb: str) -> str:
    return "read" if verb == "get" else verb


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status", None)
    return status if isinstance(status, int) else None


def _headers(exc: BaseException) -> Any:
    return getattr(exc, "headers", None)


def _redirect(status: int, headers: Any) -> str:
    """A redirect's status and where it pointed (scheme and host only: a path or query may
    carry a token)."""
    parts = urlsplit(str((headers or {}).get("Location") or ""))
    to = (f" to {neutralise(parts.scheme, 16)}://{neutralise(parts.hostname, 253)}"
          if parts.scheme and parts.hostname else "")
    return f"HTTP {status}{to}"


_TOO_LARGE = (f"an answer over {MAX_ANSWER >> 20} MB, longer than any Kubernetes object "
              "(refused unread)")


class _BoundedPool:
    """The client's connection pool, each answer's body read at once, at most MAX_ANSWER.

    The client reads a body whole before anyone can look at it (an error status's too, for
    its exception), so the bound goes below it: the answer it gets holds the bytes read.
    """

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    def request(self, *args: Any, **kwargs: Any) -> Any:
        import urllib3

        kwargs["preload_content"] = False
        response = self._pool.request(*args, **kwargs)
        try:
            if net.declared_too_large(response.headers, MAX_ANSWER):
                raise net.BodyTooLarge(MAX_ANSWER)
            body = net.read_capped(response.stream(65536), MAX_ANSWER)
        except BaseException:
            response.close()  # the rest stays unread: the connection is not reused
            raise
        response.release_conn()
        # Already decoded (gzip): the copy must not be decoded again.
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-encoding"}
        return urllib3.HTTPResponse(body=body, headers=headers, status=response.status,
                                    reason=response.reason, preload_content=False)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


def _proxy(configuration: Any) -> net.Proxy | None:
    """The proxy the client's requests go through, decided as its RESTClientObject does:
    `configuration.proxy` (a kubeconfig cluster's proxy-url, else `<scheme>_proxy` or
    ALL_PROXY from the environment) unless `configuration.no_proxy` (NO_PROXY) covers the
    host."""
    proxy = getattr(configuration, "proxy", None)
    if not proxy:
        return None
    from kubernetes.client import rest

    bypass = getattr(rest, "should_bypass_proxies", None)
    if bypass is not None and bypass(configuration.host, configuration.no_proxy or ""):
        return None
    if getattr(configuration, "_proxy_from_env", False):
        # Which variable named it: net.proxy_for reads the environment as the client does.
        found = net.proxy_for(configuration.host)
        if found is not None and found.url == proxy:
            return found
        return net.Proxy(proxy, "the environment")
    return net.Proxy(proxy, "proxy-url in the kubeconfig")


def _shown_server(server: str) -> str:
    """The API server URL as shown in messages: without any user:password."""
    parts = urlsplit(server)
    if parts.username is None and parts.password is None:
        return server
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return parts._replace(netloc=netloc).geturl()
