"""Settings of a live W&B workload (`--workload [NAMESPACE/]KIND/NAME[:CONTAINER]` or `auto`).

Reads a Deployment or StatefulSet through the official `kubernetes` client and builds the
container's environment the way the kubelet does (see envvars): `envFrom` ConfigMaps and
Secrets, then `env` with `valueFrom` configMapKeyRef / secretKeyRef / fieldRef, `$(VAR)`
expanded.

What stops the check (InputError, exit 2): a workload spec gccheck cannot parse, no kubeconfig,
a cluster it cannot reach or that refuses the credentials, a workload that does not exist or
may not be read, no W&B workload found by `auto`. What becomes `unknown`: a value gccheck may
not read (a Secret without `get secrets`), a ConfigMap or key that does not exist (the pod
could not start with it), a value known only inside the pod (fieldRef status.hostIP).

`auto` looks for the W&B app by the labels the charts set: operator-wandb's `app` service
(wandb-base `selectorLabels`: app.kubernetes.io/name=app, .../instance=<release>) and the legacy
wandb chart (app.kubernetes.io/name=wandb, app.kubernetes.io/component=local).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gccheck.errors import InputError
from gccheck.masking import describe_value, is_flag_word
from gccheck.model import Setting, Settings
from gccheck.sources.chart_bucket import without_keys
from gccheck.sources.envvars import (
    UNKNOWN_MARK,
    EnvEntry,
    IncompleteEnv,
    resolve,
)

log = logging.getLogger(__name__)

KINDS = {
    "deployment": "Deployment", "deployments": "Deployment", "deploy": "Deployment",
    "deployment.apps": "Deployment",
    "statefulset": "StatefulSet", "statefulsets": "StatefulSet", "sts": "StatefulSet",
    "statefulset.apps": "StatefulSet",
}
PLURAL = {"Deployment": "deployments", "StatefulSet": "statefulsets", "ConfigMap": "configmaps",
          "Secret": "secrets"}
AUTO_SELECTORS = ("app.kubernetes.io/name=app",
                  "app.kubernetes.io/name=wandb,app.kubernetes.io/component=local")
APP_CONTAINER_NAMES = ("app", "wandb", "local", "api")
APP_IMAGES = ("wandb/local", "wandb/megabinary")
IN_CLUSTER_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
SYNTAX = "[NAMESPACE/]KIND/NAME[:CONTAINER] (KIND: deployment or statefulset), or auto"


@dataclass(frozen=True)
class WorkloadRef:
    namespace: str | None
    kind: str  # "Deployment", "StatefulSet" or "auto"
    name: str | None
    container: str | None = None


def parse_workload(text: str) -> WorkloadRef:
    """Parse `[NAMESPACE/]KIND/NAME[:CONTAINER]`, `auto` or `NAMESPACE/auto`."""
    spec = text.strip()
    parts = spec.split("/")
    if parts[-1] == "auto" and len(parts) <= 2:
        return WorkloadRef(parts[0] if len(parts) == 2 and parts[0] else None, "auto", None)
    if len(parts) not in (2, 3) or not all(parts):
        raise InputError(f"--workload {text!r}: expected {SYNTAX}")
    namespace = parts[0] if len(parts) == 3 else None
    kind_text, rest = parts[-2], parts[-1]
    name, _, container = rest.partition(":")
    kind = KINDS.get(kind_text.lower())
    if kind is None:
        raise InputError(f"--workload {text!r}: unknown kind {kind_text!r}; expected {SYNTAX}")
    if not name or (":" in rest and not container):
        raise InputError(f"--workload {text!r}: expected {SYNTAX}")
    return WorkloadRef(namespace, kind, name, container or None)


@dataclass(frozen=True)
class WorkloadSource:
    """A live Deployment/StatefulSet, read through the Kubernetes API."""

    workload: str
    kubeconfig: str | None = None
    context: str | None = None
    timeout: float = 10.0
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)

    def read(self) -> Settings:
        ref = parse_workload(self.workload)
        kube = Kube.connect(self.kubeconfig, self.context, self.environ, self.timeout)
        try:
            namespace = ref.namespace or kube.namespace
            obj = kube.find_auto(namespace) if ref.kind == "auto" else kube.get_workload(
                ref.kind, namespace, ref.name or "")
            return workload_settings(kube, obj, ref.container)
        finally:
            kube.close()


# ---- the API ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fetched:
    """An object read from the API, or why it could not be."""

    data: Mapping[str, Any] | None
    problem: str | None = None
    missing: bool = False  # 404: may be fine when the reference is optional


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
        self.server = _shown_server(server)
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
        configuration, namespace = _load_within(timeout, kubeconfig, context, environ)
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
                    raise _HttpError(status, str(exc.reason or ""), attempts,
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
        detail = detail.split("] ", 1)[-1].split(" (_ssl.c", 1)[0]
        return (f"cannot reach the Kubernetes API at {self.server}: TLS failure ({detail[:160]}); "
                "is the kubeconfig's certificate-authority right?")

    def _redirect(self, status: int, headers: Any) -> str:
        location = str((headers or {}).get("Location") or "")
        parts = urlsplit(location)
        to = f" to {parts.scheme}://{parts.hostname}" if parts.scheme and parts.hostname else ""
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
        return f"cannot reach the Kubernetes API at {self.server}: {why}"

    def _api_problem(self, exc: _HttpError, what: str, verb: str, kind: str,
                     namespace: str) -> tuple[str, bool]:
        """What an HTTP error means for reading `what` ("Deployment wandb/x"), and whether
        it is a 404; InputError when it stops everything (401)."""
        tries = f" after {exc.attempts} attempts" if exc.attempts > 1 else ""
        waited = f", Retry-After {exc.retry_after:g} s" if exc.retry_after is not None else ""
        if exc.status == 401:
            raise InputError(f"the Kubernetes API at {self.server} refused the credentials "
                             "(401 Unauthorized): check the kubeconfig's user")
        if exc.status == 403:
            where = "" if what.endswith(f" in namespace {namespace}") else (
                f" in namespace {namespace}")
            return (f"cannot {verb_text(verb)} {what}: forbidden (needs '{verb} "
                    f"{PLURAL[kind]}'{where})"), False
        if exc.status == 404:
            return f"{what} not found", True
        if exc.status == 429:
            return (f"cannot {verb_text(verb)} {what}: throttled by the Kubernetes API at "
                    f"{self.server} (HTTP 429{waited}){tries}"), False
        if exc.status >= 500:
            return (f"cannot {verb_text(verb)} {what}: server error from the Kubernetes API at "
                    f"{self.server} (HTTP {exc.status} {exc.reason}{waited}){tries}"), False
        return (f"cannot {verb_text(verb)} {what}: HTTP {exc.status} {exc.reason} from the "
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

    def find_auto(self, namespace: str) -> Mapping[str, Any]:
        """The one W&B app workload in the namespace, found by the charts' labels."""
        from kubernetes import client

        apps = client.AppsV1Api(self.api_client)
        found: dict[str, Mapping[str, Any]] = {}
        for kind, method in (("Deployment", apps.list_namespaced_deployment),
                             ("StatefulSet", apps.list_namespaced_stateful_set)):
            for selector in AUTO_SELECTORS:
                try:
                    items = self._call(method, namespace, label_selector=selector,
                                       expect=f"{kind}List").get("items")
                except _HttpError as exc:
                    problem, _ = self._api_problem(exc, f"{PLURAL[kind]} in namespace "
                                                   f"{namespace}", "list", kind, namespace)
                    raise InputError(f"--workload auto: {problem}") from None
                except _Unreachable as exc:
                    raise InputError(str(exc)) from None
                for item in items if isinstance(items, list) else []:
                    if not isinstance(item, Mapping):
                        continue
                    item = {**item, "kind": kind}
                    found[f"{kind.lower()}/{_meta(item).get('name')}"] = item
        if len(found) == 1:
            return next(iter(found.values()))
        if not found:
            raise InputError(f"--workload auto: no W&B app workload in namespace {namespace} "
                             "(looked for labels app.kubernetes.io/name=app, or =wandb with "
                             "app.kubernetes.io/component=local); pass "
                             f"--workload {namespace}/deployment/NAME")
        raise InputError(f"--workload auto: several W&B app workloads in namespace {namespace} "
                         f"({', '.join(sorted(found))}); pick one with --workload "
                         f"{namespace}/KIND/NAME")

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
            return Fetched(None, f"{kind} {namespace}/{name} not read: {exc}")


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


def verb_text(verb: str) -> str:
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


def _load_within(timeout: float, kubeconfig: str | None, context: str | None,
                 environ: Mapping[str, str]) -> tuple[Any, str]:
    """_load_configuration, given up on after `timeout` seconds.

    Loading runs the kubeconfig's credential helpers (an `exec` plugin such as aws eks
    get-token or kubelogin, an OIDC or gcp token refresh), which the client waits for without
    a limit: one waiting for a login or a dead network would hang gccheck. The helper itself
    cannot be stopped from here (the client keeps its process to itself); it runs on and ends
    with its own timeouts.
    """
    outcome: list[tuple[Any, str] | BaseException] = []

    def load() -> None:
        try:
            outcome.append(_load_configuration(kubeconfig, context, environ))
        except BaseException as exc:  # handed to the caller's thread below
            outcome.append(exc)

    worker = threading.Thread(target=load, name="gccheck-kubeconfig", daemon=True)
    worker.start()
    worker.join(timeout)
    if not outcome:
        raise InputError(f"kubeconfig: its credentials were not ready within {timeout:g} s (an "
                         "exec plugin or token refresh waiting for a login or the network? "
                         "run kubectl once, or raise --timeout)")
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result


def _load_configuration(kubeconfig: str | None, context: str | None,
                        environ: Mapping[str, str]) -> tuple[Any, str]:
    """Client configuration and default namespace: kubeconfig, else in-cluster config."""
    from kubernetes import config
    from kubernetes.client import Configuration

    # The client's config loaders carry no type hints.
    load_kube_config: Any = config.load_kube_config
    list_contexts: Any = config.list_kube_config_contexts
    load_incluster: Any = config.load_incluster_config

    configuration = Configuration()
    path = kubeconfig or environ.get("KUBECONFIG") or _home_kubeconfig()
    files = [p for p in path.split(os.pathsep) if p]
    kinds = {p: _file_kind(p) for p in files}
    for p, kind in kinds.items():
        if kind == "directory":
            raise InputError(f"kubeconfig {p}: is a directory, expected a file")
    if kubeconfig and "file" not in kinds.values():
        raise InputError(f"--kubeconfig {kubeconfig}: no such file")
    if "file" in kinds.values():
        for p, kind in kinds.items():
            if kind == "file":
                check_kubeconfig_file(p)
        try:
            load_kube_config(config_file=path, context=context,
                                    client_configuration=configuration, persist_config=False)
            contexts, active = list_contexts(config_file=path)
        except (config.ConfigException, ValueError, TypeError, KeyError, AttributeError,
                RecursionError) as exc:
            detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            raise InputError(f"kubeconfig {path}: {detail}") from None
        if not isinstance(active, Mapping) or not isinstance(contexts, list):
            raise InputError(f"kubeconfig {path}: no usable current-context")
        chosen = next((c for c in contexts if isinstance(c, Mapping)
                       and c.get("name") == (context or active.get("name"))), active)
        body = chosen.get("context")
        namespace = body.get("namespace") if isinstance(body, Mapping) else None
        return configuration, str(namespace or "default")
    if environ.get("KUBERNETES_SERVICE_HOST"):
        try:
            load_incluster(client_configuration=configuration)
        except config.ConfigException as exc:
            raise InputError(f"in-cluster Kubernetes config: {exc}") from None
        try:
            namespace = Path(IN_CLUSTER_NAMESPACE).read_text().strip() or "default"
        except OSError:
            namespace = "default"
        return configuration, namespace
    raise InputError(f"--workload: no kubeconfig at {path or '~/.kube/config'} and not running "
                     "in a cluster; pass --kubeconfig PATH")


def _home_kubeconfig() -> str:
    try:
        return str(Path("~/.kube/config").expanduser())
    except RuntimeError:  # no home directory: nothing there to read
        return ""


def _file_kind(path: str) -> str:
    """'file', 'directory' or 'missing'; InputError when the name cannot be a file's."""
    try:
        p = Path(path)
        return "directory" if p.is_dir() else "file" if p.is_file() else "missing"
    except (OSError, ValueError) as exc:
        why = getattr(exc, "strerror", None) or "not a valid file name"
        raise InputError(f"kubeconfig {describe_value(path, 120)}: {why}") from None


def check_kubeconfig_file(path: str) -> None:
    """The kubeconfig read the way gccheck reads every file (bounded size, UTF-8, YAML loaded
    safely, aliases bounded) before the client library, which does none of that, reads it."""
    from gccheck.files import load_yaml
    from gccheck.sources.values_files import check_expanded_size

    data = load_yaml(path, "kubeconfig")
    if not isinstance(data, Mapping):
        raise InputError(f"kubeconfig {path}: expected a mapping (apiVersion: v1, kind: Config), "
                         f"got {'nothing' if data is None else type(data).__name__}")
    check_expanded_size(data, f"kubeconfig {path}")


# ---- the container's environment ----------------------------------------------------------------


# What the API returns is read defensively: a field of an unexpected type is treated as absent.
def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return _map(obj.get("metadata"))


def _containers(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    pod = _map(_map(_map(obj.get("spec")).get("template")).get("spec"))
    return [c for c in _items(pod.get("containers")) if isinstance(c, Mapping)]


def _image_repository(image: str) -> str:
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)
    if ":" in last[-1]:
        name = name.rsplit(":", 1)[0]
    return name


def pick_container(obj: Mapping[str, Any], wanted: str | None,
                   label: str) -> tuple[Mapping[str, Any], str]:
    """The container to read, and why it was picked (shown in the report)."""
    containers = _containers(obj)
    names = [str(c.get("name")) for c in containers]
    if wanted is not None:
        for c in containers:
            if c.get("name") == wanted:
                return c, "as asked"
        raise InputError(f"{label} has no container {wanted!r} (containers: "
                         f"{', '.join(names) or 'none'})")
    if len(containers) == 1:
        return containers[0], "its only container"
    for name in APP_CONTAINER_NAMES:
        for c in containers:
            if c.get("name") == name:
                return c, "the W&B app container, by name; others: " + ", ".join(
                    n for n in names if n != name)
    for c in containers:
        repo = _image_repository(str(c.get("image", "")))
        if any(repo == image or repo.endswith("/" + image) for image in APP_IMAGES):
            return c, f"the W&B app container, by image {repo}"
    if not containers:
        raise InputError(f"{label} has no containers")
    raise InputError(f"{label} has containers {', '.join(names)} and none looks like the W&B "
                     "app (named app or wandb, image wandb/local): pick one with "
                     "--workload ...:CONTAINER")


@dataclass
class _Env:
    """What reading one container's environment gathers."""

    kube: Kube
    namespace: str
    workload: str  # "deployment/wandb-app"
    container: str
    managed_note: str
    secrets: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)

    def set_env_fix(self) -> str:
        return (f"kubectl set env {self.workload} -n {self.namespace} -c {self.container} "
                f"{{name}}={{value}}{self.managed_note}")

    def data_of(self, kind: str, name: str) -> tuple[Mapping[str, str] | None, Fetched]:
        fetched = self.kube.fetch(kind, self.namespace, name)
        if fetched.data is None:
            return None, fetched
        raw = _map(fetched.data.get("data"))
        if kind == "ConfigMap":
            return {str(k): str(v) for k, v in raw.items()}, fetched
        decoded = {}
        for key, value in raw.items():
            try:
                text = base64.b64decode(str(value), validate=True).decode("utf-8",
                                                                          "surrogateescape")
            except (binascii.Error, ValueError):
                continue
            decoded[str(key)] = text
            if not is_flag_word(text):
                self.secrets.append(text)
        return decoded, fetched

    def object_fix(self, kind: str, name: str, key: str) -> str:
        restart = f"\nkubectl rollout restart {self.workload} -n {self.namespace}"
        if kind == "ConfigMap":
            return (f"kubectl patch configmap {name} -n {self.namespace} --type merge -p "
                    f"'{{\"data\":{{\"{key}\":\"{{value}}\"}}}}'{restart}{self.managed_note}")
        return (f"set key {key} of Secret {self.namespace}/{name} to {{value}} (kubectl edit "
                f"secret {name} -n {self.namespace}){restart}{self.managed_note}")


def workload_settings(kube: Kube, obj: Mapping[str, Any], wanted: str | None) -> Settings:
    """The environment of the chosen container of a workload, with provenance."""
    meta = _meta(obj)
    kind = str(obj.get("kind") or "Deployment")
    namespace = str(meta.get("namespace") or kube.namespace)
    name = str(meta.get("name"))
    label = f"{kind} {namespace}/{name}"
    container, why = pick_container(obj, wanted, label)
    cname = str(container.get("name"))
    env = _Env(kube, namespace, f"{kind.lower()}/{name}", cname, _managed_note(meta, kind))
    base = _env_from(env, container, f"{label} container {cname}")
    entries = [e for e in (_env_entry(env, item, f"{label} container {cname}: env")
                           for item in _items(container.get("env")) if isinstance(item, Mapping))
               if e is not None]
    partial: dict[str, tuple[str, str]] = {}
    found = resolve(entries, base, partial)
    _rescue_bucket(found, partial)
    values: Mapping[str, Setting] = found
    if env.unreadable:
        values = IncompleteEnv(found, f"{label} container {cname}: envFrom",
                               "; ".join(env.unreadable))
    return Settings(description=f"{label} container {cname} ({why})", values=values,
                    fix_missing=env.set_env_fix(), secrets=tuple(dict.fromkeys(env.secrets)))


def _managed_note(meta: Mapping[str, Any], kind: str) -> str:
    labels = _map(meta.get("labels"))
    annotations = _map(meta.get("annotations"))
    owners = [o for o in _items(meta.get("ownerReferences")) if isinstance(o, Mapping)]
    release = annotations.get("meta.helm.sh/release-name")
    if release or labels.get("app.kubernetes.io/managed-by") == "Helm":
        name = f" (release {release})" if release else ""
        return (f"\n# this {kind} is managed by Helm{name}: the next upgrade undoes a manual "
                "change; set the variable in the release's values too (operator-wandb: "
                "global.extraEnv, or spec.values.global.extraEnv of the WeightsAndBiases "
                "resource)")
    if owners:
        owner = owners[0]
        return (f"\n# this {kind} is owned by {owner.get('kind')} {owner.get('name')}: change "
                "it there, or the change is undone")
    return ""


def _env_from(env: _Env, container: Mapping[str, Any], label: str) -> dict[str, Setting]:
    """Variables from envFrom sources; a later source beats an earlier one."""
    base: dict[str, Setting] = {}
    for source in _items(container.get("envFrom")):
        if not isinstance(source, Mapping):
            continue
        prefix = str(source.get("prefix") or "")
        for field_name, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
            ref = source.get(field_name)
            if not isinstance(ref, Mapping):
                continue
            name = str(ref.get("name"))
            data, fetched = env.data_of(kind, name)
            if data is None:
                if not (fetched.missing and ref.get("optional")):
                    env.unreadable.append(f"envFrom {fetched.problem}")
                continue
            how = f"envFrom of {label}" + (f", prefix {prefix}" if prefix else "")
            for key, value in data.items():
                var = prefix + key
                base[var] = Setting(var, value, f"{kind} {env.namespace}/{name}: key {key} "
                                    f"({how})", fix=env.object_fix(kind, name, key))
    return base


def _env_entry(env: _Env, item: Mapping[str, Any], origin: str) -> EnvEntry | None:
    """One env item; None when an optional reference is missing (the variable is not set)."""
    name = str(item.get("name"))
    source = item.get("valueFrom")
    if not isinstance(source, Mapping):
        return EnvEntry(name, str(item.get("value") or ""), origin, env.set_env_fix())
    for field_name, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
        ref = source.get(field_name)
        if isinstance(ref, Mapping):
            return _key_ref(env, name, kind, ref, origin)
    field_ref = source.get("fieldRef")
    if isinstance(field_ref, Mapping):
        path = str(field_ref.get("fieldPath"))
        if path == "metadata.namespace":
            return EnvEntry(name, env.namespace, f"{origin} (fieldRef {path})", expand=False)
        return EnvEntry(name, None, f"{origin} (fieldRef {path})",
                        unresolved=f"fieldRef {path} is known only inside the running pod")
    what = next(iter(source), "valueFrom")
    return EnvEntry(name, None, origin, unresolved=f"{what} is known only inside the running pod")


def _key_ref(env: _Env, name: str, kind: str, ref: Mapping[str, Any],
             origin: str) -> EnvEntry | None:
    obj, key = str(ref.get("name")), str(ref.get("key"))
    where = f"{kind} {env.namespace}/{obj}: key {key}"
    fix = env.object_fix(kind, obj, key)
    data, fetched = env.data_of(kind, obj)
    if data is None:
        if fetched.missing and ref.get("optional"):
            return None
        why = fetched.problem or "unknown"
        if fetched.missing:
            why += " (the pod cannot start without it: CreateContainerConfigError)"
        return EnvEntry(name, None, where, fix, unresolved=why)
    if key not in data:
        if ref.get("optional"):
            return None
        return EnvEntry(name, None, where, fix, unresolved=(
            f"{kind} {env.namespace}/{obj} has no key {key} (the pod cannot start without it: "
            "CreateContainerConfigError)"))
    return EnvEntry(name, data[key], where, fix, expand=False)


def _rescue_bucket(found: dict[str, Setting], partial: Mapping[str, tuple[str, str]]) -> None:
    """BUCKET whose keys alone could not be read is still the bucket: use it without keys."""
    setting = found.get("BUCKET")
    if "BUCKET" not in partial or setting is None:
        return
    expanded, why = partial["BUCKET"]
    url, endpoint = without_keys(expanded)
    if UNKNOWN_MARK in url:
        return  # more than the keys is unknown
    found["BUCKET"] = Setting("BUCKET", url, f"{setting.origin} (its keys cannot be read: {why}; "
                              "left out, gccheck uses its own credentials)", fix=setting.fix)
    if endpoint is not None and "AWS_ENDPOINT_URL_S3" not in found:
        found["AWS_ENDPOINT_URL_S3"] = Setting(
            "AWS_ENDPOINT_URL_S3", endpoint, f"{setting.origin}: derived by gccheck from the "
            f"bucket host (read {endpoint} as the S3 endpoint; not a variable of the pod)")
