"""A small local HTTP server that answers like the Kubernetes API, for the real `kubernetes` client.

No kube-apiserver can run here, so this serves API-shaped JSON for what gccheck reads:
Deployments and StatefulSets (get, and list with a labelSelector), ConfigMaps and Secrets
(get), `Status` bodies for 401/403/404, and optional delays. Objects are plain dicts shaped like
`kubectl get -o json` output; `write_kubeconfig` writes a real kubeconfig file that points the
client at the server.

For read-only and least-privilege proofs it also records every request as (method, path), answers
any write with 405, and can enforce RBAC: with `allowed` set to (verb, API group, resource)
triples, any other request gets the API server's 403 `Status`, worded as RBAC words it.
`failures` makes one resource answer an error status (for faults after the workload was read).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

TOKEN = "test-token-for-the-local-api"

# URL path segment -> (kind, API group path)
RESOURCES = {
    "deployments": ("Deployment", "/apis/apps/v1"),
    "statefulsets": ("StatefulSet", "/apis/apps/v1"),
    "configmaps": ("ConfigMap", "/api/v1"),
    "secrets": ("Secret", "/api/v1"),
}
_PATH = re.compile(r"^(/api/v1|/apis/apps/v1)/namespaces/([^/]+)/([a-z]+)(?:/([^/]+))?$")


@dataclass
class KubeAPI:
    """The state the server answers from; tests change it freely between requests."""

    objects: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    forbidden: set[tuple[str, str, str]] = field(default_factory=set)  # (resource, ns, name|*)
    delay: float = 0.0
    require_token: bool = True
    token: str = TOKEN  # the bearer token the server accepts
    requests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Every request, with its method: (method, path?query).
    calls: list[tuple[str, str]] = field(default_factory=list)
    # RBAC: the (verb, API group, resource) triples the caller holds; None allows everything.
    allowed: set[tuple[str, str, str]] | None = None
    # resource -> HTTP status every request for it gets (Status body), with `retry_after`.
    failures: dict[str, int] = field(default_factory=dict)
    retry_after: str | None = None

    def add(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        kind = obj["kind"]
        resource = next(r for r, (k, _) in RESOURCES.items() if k == kind)
        meta = obj["metadata"]
        self.objects[(resource, meta.get("namespace", "default"), meta["name"])] = dict(obj)
        return dict(obj)

    def forbid(self, resource: str, namespace: str, name: str = "*") -> None:
        self.forbidden.add((resource, namespace, name))

    def operations(self) -> list[str]:
        """Every recorded request as an RBAC-style operation: `get deployments`, `list
        secrets`, `watch ...`; anything that is not a GET of a known resource as `METHOD path`."""
        with self.lock:
            calls = list(self.calls)
        return [operation(method, path) for method, path in calls]


def operation(method: str, path: str) -> str:
    """The RBAC verb and resource of a request, as the API server would authorize it."""
    parts = urlsplit(path)
    match = _PATH.match(parts.path)
    if method != "GET" or not match or match.group(3) not in RESOURCES:
        return f"{method} {path}"
    return f"{_verb(method, match.group(4), parts.query)} {match.group(3)}"


def _verb(method: str, name: str | None, query: str) -> str:
    if method != "GET":
        return {"POST": "create", "PUT": "update", "PATCH": "patch",
                "DELETE": "delete"}.get(method, method.lower())
    if parse_qs(query).get("watch", ["false"])[0].lower() in ("true", "1"):
        return "watch"
    return "get" if name else "list"


def deployment(name: str, namespace: str = "wandb", *, containers: list[dict[str, Any]],
               labels: Mapping[str, str] | None = None, kind: str = "Deployment",
               annotations: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A Deployment (or StatefulSet) with the given pod containers."""
    return {
        "apiVersion": "apps/v1", "kind": kind,
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {}),
                     "annotations": dict(annotations or {}), "uid": f"uid-{name}"},
        "spec": {"replicas": 1, "selector": {"matchLabels": dict(labels or {"app": name})},
                 "template": {"metadata": {"labels": dict(labels or {"app": name})},
                              "spec": {"containers": containers}}},
    }


def config_map(name: str, data: Mapping[str, str], namespace: str = "wandb") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace}, "data": dict(data)}


def secret(name: str, data: Mapping[str, str], namespace: str = "wandb") -> dict[str, Any]:
    """A Secret as the API returns it: values base64-encoded under `data`."""
    encoded = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "namespace": namespace}, "data": encoded}


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


_REASONS = {429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable",
            504: "Timeout"}


def _group(resource: str) -> str:
    return "apps" if RESOURCES[resource][1] == "/apis/apps/v1" else ""


def forbidden_status(verb: str, group: str, resource: str, namespace: str,
                     name: str | None, user: str = "system:serviceaccount:wandb-ops:gccheck"
                     ) -> dict[str, Any]:
    """The 403 `Status` kube-apiserver sends when RBAC denies a request (same wording)."""
    qualified = f"{resource}.{group}" if group else resource
    subject = f'{qualified} "{name}"' if name else qualified
    body = _status(403, "Forbidden", (
        f'{subject} is forbidden: User "{user}" cannot {verb} resource "{resource}" in API '
        f'group "{group}" in the namespace "{namespace}"'))
    body["details"] = {**({"name": name} if name else {}), "group": group, "kind": resource}
    return body


def _matches(labels: Mapping[str, str], selector: str) -> bool:
    for term in filter(None, (t.strip() for t in selector.split(","))):
        key, _, value = term.partition("=")
        if labels.get(key) != value.lstrip("="):
            return False
    return True


class _Handler(BaseHTTPRequestHandler):
    api: KubeAPI

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        api = self.api
        with api.lock:
            api.requests.append(self.path)
            api.calls.append((self.command, self.path))
        if api.delay:
            time.sleep(api.delay)
        if api.require_token and self.headers.get("Authorization") != f"Bearer {api.token}":
            return self._send(401, _status(401, "Unauthorized", "Unauthorized"))
        parts = urlsplit(self.path)
        match = _PATH.match(parts.path)
        if not match or match.group(3) not in RESOURCES:
            return self._send(404, _status(404, "NotFound", "the server could not find the "
                                                            "requested resource"))
        _, namespace, resource, name = match.groups()
        kind, _ = RESOURCES[resource]
        if api.allowed is not None:
            verb, group = _verb(self.command, name, parts.query), _group(resource)
            if (verb, group, resource) not in api.allowed:
                return self._send(403, forbidden_status(verb, group, resource, namespace, name))
        if resource in api.failures:
            code = api.failures[resource]
            headers = {"Retry-After": api.retry_after} if api.retry_after else {}
            return self._send(code, _status(code, _REASONS.get(code, "InternalError"),
                                            f"injected failure {code}"), headers)
        if {(resource, namespace, name or "*"), (resource, namespace, "*")} & api.forbidden:
            verb = "get" if name else "list"
            return self._send(403, _status(403, "Forbidden", (
                f'{resource} "{name or ""}" is forbidden: User "system:serviceaccount:wandb:'
                f'gccheck" cannot {verb} resource "{resource}" in API group "" in the '
                f'namespace "{namespace}"')))
        if name:
            obj = api.objects.get((resource, namespace, name))
            if obj is None:
                return self._send(404, _status(404, "NotFound",
                                               f'{resource} "{name}" not found'))
            return self._send(200, obj)
        selector = parse_qs(parts.query).get("labelSelector", [""])[0]
        items = [o for (r, ns, _), o in sorted(api.objects.items())
                 if r == resource and ns == namespace
                 and _matches(o["metadata"].get("labels", {}), selector)]
        return self._send(200, {"kind": f"{kind}List", "apiVersion": "v1",
                                "metadata": {"resourceVersion": "1"}, "items": items})

    def _write(self) -> None:
        """Any write: recorded, then refused (gccheck must never send one)."""
        with self.api.lock:
            self.api.calls.append((self.command, self.path))
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self._send(405, _status(405, "MethodNotAllowed", "writes are not served here"))

    do_POST = do_PUT = do_PATCH = do_DELETE = _write

    def _send(self, code: int, body: Mapping[str, Any],
              headers: Mapping[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (a timeout test) breaks the pipe: expected, not noise.
        pass


@dataclass
class KubeServer:
    url: str
    api: KubeAPI
    _server: _QuietServer

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def start(api: KubeAPI | None = None) -> KubeServer:
    """Serve `api` on 127.0.0.1 on a free port, in a daemon thread."""
    state = api or KubeAPI()
    handler = type("Handler", (_Handler,), {"api": state})
    server = _QuietServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                     daemon=True).start()
    host, port = server.server_address[:2]
    return KubeServer(f"http://{host}:{port}", state, server)


def write_kubeconfig(path: Path, server: str, *, namespace: str | None = "wandb",
                     context: str = "test", token: str = TOKEN,
                     extra_contexts: Mapping[str, str] | None = None) -> Path:
    """A kubeconfig with one cluster/user and context `context` (current), plus other contexts
    named in `extra_contexts` (name -> namespace)."""
    ctx: dict[str, Any] = {"cluster": "local", "user": "tester"}
    if namespace:
        ctx["namespace"] = namespace
    contexts = [{"name": context, "context": ctx}]
    for name, ns in (extra_contexts or {}).items():
        contexts.append({"name": name, "context": {"cluster": "local", "user": "tester",
                                                   "namespace": ns}})
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": context,
        "clusters": [{"name": "local", "cluster": {"server": server}}],
        "users": [{"name": "tester", "user": {"token": token}}],
        "contexts": contexts,
    }
    path.write_text(yaml.safe_dump(config))
    return path


def iter_requests(api: KubeAPI) -> Iterator[str]:
    with api.lock:
        yield from list(api.requests)


GC_VARIABLE = "GORILLA_ARTIFACT_GC_ENABLED"
OPERATOR_LABELS = {"app.kubernetes.io/name": "app", "app.kubernetes.io/instance": "wandb",
                   "app.kubernetes.io/managed-by": "Helm"}
LEGACY_LABELS = {"app.kubernetes.io/name": "wandb", "app.kubernetes.io/component": "local"}


def wandb_install(api: KubeAPI, bucket_host: str, bucket: str, access_key: str, secret_key: str,
                  *, license_text: str = "license-0123456789abcdef", gc: str = "true") -> None:
    """Two W&B installs as the charts render them, reading every kind of reference gccheck
    follows: namespace `wandb` holds operator-wandb's Deployment `wandb-app`, namespace `legacy`
    the legacy chart's StatefulSet `wandb`. Each reads the GC flag from a ConfigMap
    (configMapKeyRef), the bucket keys from a Secret (secretKeyRef, expanded into BUCKET), and
    whole ConfigMaps and Secrets through envFrom."""
    for namespace, kind, name, labels in (("wandb", "Deployment", "wandb-app", OPERATOR_LABELS),
                                          ("legacy", "StatefulSet", "wandb", LEGACY_LABELS)):
        api.add(config_map("wandb-flags", {GC_VARIABLE: gc}, namespace))
        api.add(config_map("wandb-glue", {"GORILLA_GLUE_ARTIFACT_GC_ENABLED": "false"},
                           namespace))
        api.add(secret("wandb-bucket", {"ACCESS_KEY": access_key, "SECRET_KEY": secret_key},
                       namespace))
        api.add(secret("wandb-license", {"LICENSE": license_text}, namespace))
        ref = {"name": "wandb-bucket"}
        container = {
            "name": "app" if kind == "Deployment" else "wandb", "image": "wandb/local:0.70.0",
            "envFrom": [{"configMapRef": {"name": "wandb-glue"}},
                        {"secretRef": {"name": "wandb-license"}}],
            "env": [
                {"name": GC_VARIABLE, "valueFrom": {"configMapKeyRef": {
                    "name": "wandb-flags", "key": GC_VARIABLE}}},
                {"name": "BUCKET_ACCESS_KEY", "valueFrom": {"secretKeyRef": {
                    **ref, "key": "ACCESS_KEY"}}},
                {"name": "BUCKET_SECRET_KEY", "valueFrom": {"secretKeyRef": {
                    **ref, "key": "SECRET_KEY"}}},
                {"name": "BUCKET", "value": "s3://$(BUCKET_ACCESS_KEY):$(BUCKET_SECRET_KEY)@"
                                            f"{bucket_host}/{bucket}?region=us-east-1"},
            ]}
        api.add(deployment(name, namespace, containers=[container], labels=labels, kind=kind,
                           annotations={"meta.helm.sh/release-name": "wandb"}))


def role_grants(path: Path) -> set[tuple[str, str, str]]:
    """The (verb, API group, resource) triples the one Role in an RBAC manifest grants."""
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    roles = [d for d in docs if d.get("kind") == "Role"]
    assert len(roles) == 1, "expected exactly one Role"
    grants: set[tuple[str, str, str]] = set()
    for rule in roles[0]["rules"]:
        assert set(rule) <= {"apiGroups", "resources", "verbs", "resourceNames"}, rule
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                for verb in rule["verbs"]:
                    grants.add((verb, group, resource))
    return grants
