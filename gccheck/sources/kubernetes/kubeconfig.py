"""Loading Kubernetes credentials: a kubeconfig file (or KUBECONFIG's list), else in-cluster.

The kubeconfig is read the way gccheck reads every file (bounded, safe YAML) before the client
library reads it, and loading is bounded in time: a credential helper that waits for a login
must not hang gccheck.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gccheck import net
from gccheck.errors import InputError
from gccheck.masking import describe_value
from gccheck.net import Deadline

IN_CLUSTER_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"


def load_within(deadline: Deadline, kubeconfig: str | None, context: str | None,
                environ: Mapping[str, str]) -> tuple[Any, str]:
    """The client configuration and default namespace, given up on at the deadline.

    Loading runs the kubeconfig's credential helpers (an `exec` plugin such as aws eks
    get-token or kubelogin, an OIDC or gcp token refresh), which the client waits for without
    a limit: one waiting for a login or a dead network would hang gccheck. The helper itself
    cannot be stopped from here (the client keeps its process to itself); it runs on and ends
    with its own timeouts.
    """
    try:
        return net.run_within(lambda: _load_configuration(kubeconfig, context, environ),
                              deadline)
    except TimeoutError:
        raise InputError(f"kubeconfig: its credentials were not ready within "
                         f"{deadline.seconds:g} s (an exec plugin or token refresh waiting for "
                         "a login or the network? run kubectl once, or raise --timeout)") from None


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
