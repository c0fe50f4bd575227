"""The few calls gccheck makes to a Kubernetes API server: GETs, bounded, retried, classified.

Every call is a get or a list through the official `kubernetes` client, bounded by the time
left of one budget; a 429 or 5xx is retried (honouring Retry-After, never past the deadline); a
redirect is not followed; a 2xx answer must be JSON of the kind asked for. What an error status
means is said in words that name the missing permission ("needs 'get secrets' in namespace X").
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from gccheck.errors import InputError
from gccheck.neutral import neutralise
from gccheck.sources.kubernetes.kubeconfig import load_within
from gccheck.sources.kubernetes.resolver import Fetched

PLURAL = {"Deployment": "deployments", "StatefulSet": "statefulsets", "ConfigMap": "configmaps",
          "Secret": "secrets"}


class Kube:
    """The few calls gccheck makes, each bounded by the time left of `timeout`.

    Every call is a GET (get or list). A 429 or 5xx is retried (at most MAX_ATTEMPTS per call,
    honouring Retry-After, never waiting past the deadline); a redirect is not followed; a 2xx
    answer must be JSON of the kind asked for.
    """

    def __init__(self, api_client: Any, namespace: str, server: str, timeout: float,
                 deadline: float | None = None) -> None:
        self.api_client = api_client
        self.namespace = namespace
        self.server = neutralise(_shown_server(server))
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout if deadline is None else deadline
        self._cache: dict[tuple[str, str, str], Fetched] = {}

    @classmethod
    def connect(cls, kubeconfig: str | None, context: str | None, environ: Mapping[str, str],
                timeout: float) -> Kube:
        import urllib3
        from kubernetes import client

        # One budget for loading the credentials and the calls: the audit gives a deployment
        # its timeout for reading settings, not one for each step.
        deadline = time.monotonic() + timeout
        configuration, namespace = load_within(timeout, kubeconfig, context, environ)
        # One attempt per request, no redirects followed: urllib3 would otherwise retry each
        # request 3 times, beyond --timeout, and follow a redirect anywhere. gccheck bounds
        # every call by the time left and retries 429/5xx itself.
        configuration.retries = urllib3.Retry(total=0, redirect=False)
        return cls(client.ApiClient(configuration), namespace, configuration.host, timeout,
                   deadline)

    def close(self) -> None:
        self.api_client.close()

    def _left(self) -> float:
        return self.deadline - time.monotonic()

    def _call(self, method: Any, *args: Any, expect: str, **kwargs: Any) -> Mapping[str, Any]:
        """Call a client method; returns the JSON body, an object of kind `expect`.

        Raises _HttpError for an HTTP error status (the caller decides what it means) and
        _Unreachable when there is no usable answer."""
        import urllib3
        from kubernetes.client.exceptions import ApiException

        attempts = 0
        while True:
            attempts += 1
            left = self._left()
            if left <= 0:
                raise _Unreachable(self._out_of_time())
            try:
                response = method(*args, _preload_content=False, _request_timeout=(left, left),
                                  **kwargs)
                body = response.data  # read here: a broken or slow body fails here
            except ApiException as exc:
                status = exc.status or 0
                if status == 0:  # the client reports TLS failures as status 0
                    raise _Unreachable(self._tls(str(exc.reason))) from None
                if 300 <= status < 400:
                    raise _Unreachable(self._redirect(status, exc.headers)) from None
                wait = self._retry_wait(exc, attempts)
                if wait is None:
                    raise _HttpError(status, neutralise(str(exc.reason or ""), 120), attempts,
                                     retry_after(exc.headers)) from None
                time.sleep(wait)
                continue
            except urllib3.exceptions.HTTPError as exc:
                raise _Unreachable(self._unreachable(exc)) from None
            return self._parse(body, expect)

    def _retry_wait(self, exc: Any, attempts: int) -> float | None:
        """Seconds to wait before the next attempt, or None: do not retry."""
        if exc.status not in RETRIED_STATUS or attempts >= MAX_ATTEMPTS:
            return None
        wait = max(BACKOFF * 2 ** (attempts - 1), retry_after(exc.headers) or 0.0)
        # Not past the deadline: better to say what the attempts got than "no answer".
        return wait if wait < self._left() - 0.05 else None

    def _parse(self, body: bytes | None, expect: str) -> Mapping[str, Any]:
        try:
            data = json.loads((body or b"").decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise _Unreachable(f"malformed answer from the Kubernetes API at {self.server}: "
                               f"expected a {expect} as JSON, got {_sniff(body)}") from None
        got = data.get("kind") if isinstance(data, Mapping) else None
        if not isinstance(data, Mapping) or got != expect:
            what = (f"a {got}" if isinstance(got, str) and got.isprintable() and len(got) < 64
                    else "JSON without a kind" if isinstance(data, Mapping) else "other JSON")
            raise _Unreachable(f"unexpected answer from the Kubernetes API at {self.server}: "
                               f"expected a {expect}, got {what} (is the server URL right?)")
        return data

    def _out_of_time(self) -> str:
        return f"cannot reach the Kubernetes API at {self.server}: no answer within " \
               f"{self.timeout:g}s"

    def _tls(self, reason: str) -> str:
        detail = reason.splitlines()[-1] if reason.strip() else "handshake failed"
        detail = neutralise(detail.split("] ", 1)[-1].split(" (_ssl.c", 1)[0][:160])
        return (f"cannot reach the Kubernetes API at {self.server}: TLS failure ({detail}); "
                "is the kubeconfig's certificate-authority right?")

    def _redirect(self, status: int, headers: Any) -> str:
        location = str((headers or {}).get("Location") or "")
        parts = urlsplit(location)
        to = (f" to {neutralise(parts.scheme, 16)}://{neutralise(parts.hostname, 253)}"
              if parts.scheme and parts.hostname else "")
        return (f"unexpected redirect (HTTP {status}{to}) from the Kubernetes API at "
                f"{self.server}, not followed: is the server URL in the kubeconfig right?")

    def _unreachable(self, exc: Exception) -> str:
        import urllib3

        reason = getattr(exc, "reason", None) or exc
        text = str(reason)
        if isinstance(reason, urllib3.exceptions.SSLError) or isinstance(
                exc, urllib3.exceptions.SSLError):
            return self._tls(text)
        if isinstance(exc, urllib3.exceptions.ProtocolError) and "IncompleteRead" in str(exc):
            return (f"malformed or truncated answer from the Kubernetes API at {self.server} "
                    "(the connection broke mid-body)")
        if "timed out" in text.lower():
            return self._out_of_time()
        if "refused" in text.lower():
            why = "connection refused"
        elif ("Name or service not known" in text or "nodename nor servname" in text
              or "Temporary failure in name resolution" in text
              or isinstance(reason, urllib3.exceptions.NameResolutionError)):
            why = "DNS lookup failed"
        elif isinstance(exc, urllib3.exceptions.ProtocolError):
            why = "the connection broke (" + text.split(": ")[-1][:120] + ")"
        else:
            why = text.split(": ")[-1][:120]
        return f"cannot reach the Kubernetes API at {self.server}: {neutralise(why)}"

    def _api_problem(self, exc: _HttpError, what: str, verb: str, kind: str,
                     namespace: str) -> tuple[str, bool]:
        """What an HTTP error means for reading `what` ("Deployment wandb/x"), and whether
        it is a 404; InputError when it stops everything (401)."""
        what, namespace = neutralise(what), neutralise(namespace)
        tries = f" after {exc.attempts} attempts" if exc.attempts > 1 else ""
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
        if exc.status == 429:
            return (f"cannot {_verb_text(verb)} {what}: throttled by the Kubernetes API at "
                    f"{self.server} (HTTP 429{waited}){tries}"), False
        if exc.status >= 500:
            return (f"cannot {_verb_text(verb)} {what}: server error from the Kubernetes API at "
                    f"{self.server} (HTTP {exc.status} {exc.reason}{waited}){tries}"), False
        return (f"cannot {_verb_text(verb)} {what}: HTTP {exc.status} {exc.reason} from the "
                f"Kubernetes API at {self.server}"), False

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


MAX_ATTEMPTS = 3
BACKOFF = 0.2  # seconds before the 2nd attempt, doubled for the 3rd (Retry-After wins)
RETRIED_STATUS = frozenset({429, 500, 502, 503, 504})


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


def retry_after(headers: Any) -> float | None:
    """Seconds the server asked to wait (Retry-After in seconds), if it said."""
    try:
        value = float(str((headers or {}).get("Retry-After") or "").strip())
    except ValueError:
        return None  # an HTTP date, or nothing: use the backoff
    return value if 0 <= value < 86400 else None


def _sniff(body: bytes | None) -> str:
    """What a body that is not JSON looks like, without quoting it."""
    head = (body or b"").lstrip()[:64].lower()
    if not head:
        return "an empty body"
    if head.startswith((b"<!doctype html", b"<html")):
        return "an HTML page"
    if head.startswith(b"<"):
        return "XML"
    return f"a body that is not JSON ({len(body or b'')} bytes)"


def _shown_server(server: str) -> str:
    """The API server URL as shown in messages: without any user:password."""
    parts = urlsplit(server)
    if parts.username is None and parts.password is None:
        return server
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return parts._replace(netloc=netloc).geturl()
