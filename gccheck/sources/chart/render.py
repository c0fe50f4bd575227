"""Render a Helm chart with Helm itself: the user's `helm` binary when it is on PATH (`helm
template`, the same engine and version that will install), else the Helm SDK through
helm-python-sdk (`pip install 'gccheck[helm]'`). gccheck never re-implements Helm's templates.

Values files are merged as `helm -f a -f b` merges them: the binary is given the files; for the
SDK each file is parsed by Helm's own YAML reader and merged by `merge_values` (Helm's
`mergeMaps`, pkg/cli/values/options.go), then the chart coalesces its defaults under them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from gccheck.errors import InputError
from gccheck.files import read_text
from gccheck.masking import Redactor
from gccheck.neutral import neutralise

INSTALL_HINT = ("--chart needs Helm: install the helm binary (https://helm.sh/docs/intro/install/) "
                "or the Helm SDK for Python: pip install 'gccheck[helm]'")
Manifest = dict[str, Any]


def render_chart(chart: str, values_files: Sequence[str], release: str, namespace: str,
                 timeout: float, *, environ: Mapping[str, str] | None = None) -> list[Manifest]:
    """The manifests `helm template RELEASE CHART -n NAMESPACE -f ...` renders.

    CHART is a chart directory or a packaged .tgz. InputError for a chart or values file that
    cannot be read, a chart Helm cannot render (Helm's message, secrets masked), no Helm at all,
    or a render that takes longer than `timeout` seconds.
    """
    path = chart_path(chart)
    redactor = _redactor(values_files)  # also checks that every file can be read
    env = os.environ if environ is None else environ
    binary = shutil.which("helm", path=env.get("PATH", os.defpath))
    if binary is not None:
        text = _with_binary(binary, path, values_files, release, namespace, timeout, env,
                            redactor)
        return _documents(text, redactor)
    try:
        import helm_python  # noqa: F401
    except ImportError:
        raise InputError(INSTALL_HINT) from None
    rendered = _within(timeout, chart, lambda: _with_sdk(path, values_files, release, namespace))
    if isinstance(rendered, BaseException):
        raise InputError(f"--chart {_shown(chart)}: Helm cannot render it: "
                         f"{_message(str(rendered), redactor)}")
    return _documents("\n---\n".join(text for name, text in sorted(rendered.items())
                                     if not name.endswith(".txt")), redactor)


def chart_path(chart: str) -> Path:
    """The chart as a path, checked: a directory with a Chart.yaml, or a .tgz file."""
    path = Path(chart)
    if path.is_dir():
        if not (path / "Chart.yaml").is_file():
            raise InputError(f"--chart {_shown(chart)}: no Chart.yaml in this directory")
        return path
    if path.is_file():
        if not tarfile.is_tarfile(path):
            raise InputError(f"--chart {_shown(chart)}: expected a chart directory or a "
                             "packaged chart (.tgz, as helm pull writes it)")
        return path
    raise InputError(f"--chart {_shown(chart)}: no such file or directory")


def chart_metadata(chart: str) -> Mapping[str, Any]:
    """The chart's Chart.yaml (of a directory, or the top chart of a .tgz); {} if unreadable."""
    path = chart_path(chart)
    text: str | None = None
    if path.is_dir():
        text = read_text(path / "Chart.yaml", "--chart")
    else:
        with tarfile.open(path) as archive:
            for member in archive:
                parts = member.name.split("/")
                if len(parts) == 2 and parts[1] == "Chart.yaml" and member.isfile():
                    handle = archive.extractfile(member)
                    if handle is not None:
                        text = handle.read(1 << 20).decode("utf-8", "replace")
                    break
    try:
        data = yaml.safe_load(text or "")
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, Mapping) else {}


def merge_values(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Helm's `mergeMaps` (pkg/cli/values/options.go): a later -f file's map merges into an
    earlier one key by key; anything else (a list, a scalar, null) replaces it."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge_values(out[key], value)
        else:
            out[key] = value
    return out


def _shown(text: str) -> str:
    return neutralise(text, 200)


def _redactor(values_files: Sequence[str]) -> Redactor:
    """Knows the secret values of the values files, to mask them in Helm's messages."""
    redactor = Redactor()
    for name in values_files:
        text = read_text(name, "--values")
        try:
            docs = list(yaml.safe_load_all(text))
        except yaml.YAMLError:
            continue  # Helm says what is wrong with it
        for doc in docs:
            _learn(doc, "", redactor)
    return redactor


def _learn(node: Any, key: str, redactor: Redactor) -> None:
    if isinstance(node, Mapping):
        for k, v in node.items():
            _learn(v, str(k), redactor)
    elif isinstance(node, list):
        for item in node:
            _learn(item, key, redactor)
    elif isinstance(node, str):
        redactor.add_settings({key: node})


def _message(text: str, redactor: Redactor) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    # Helm puts the cause last ("Error: ..."); keep the message to a few lines' worth.
    return neutralise(redactor.redact(" ".join(lines)), 600) or "no message"


def _with_binary(binary: str, path: Path, values_files: Sequence[str], release: str,
                 namespace: str, timeout: float, env: Mapping[str, str],
                 redactor: Redactor) -> str:
    args = [binary, "template", release, str(path), "--namespace", namespace]
    for name in values_files:
        args += ["--values", name]
    try:
        done = subprocess.run(args, capture_output=True, timeout=timeout, env=dict(env),
                              stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired:
        raise InputError(f"--chart {_shown(str(path))}: helm template did not finish within "
                         f"{timeout:g} s") from None
    except OSError as exc:
        raise InputError(f"--chart: cannot run {_shown(binary)}: {exc.strerror}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace") or done.stdout.decode("utf-8",
                                                                                "replace")
        raise InputError(f"--chart {_shown(str(path))}: Helm cannot render it: "
                         f"{_message(message, redactor)}")
    return done.stdout.decode("utf-8", "replace")


def _with_sdk(path: Path, values_files: Sequence[str], release: str,
              namespace: str) -> dict[str, str]:
    import helm_python as helm

    values: dict[str, Any] = {}
    for name in values_files:
        parsed = helm.values_from_yaml(read_text(name, "--values"))
        values = merge_values(values, parsed or {})
    with helm.Chart.load(path) as loaded:
        rendered: dict[str, str] = loaded.render(values, name=release, namespace=namespace,
                                                 is_install=True, is_upgrade=False)
    return rendered


def _within(timeout: float, chart: str,
            work: Callable[[], dict[str, str]]) -> dict[str, str] | BaseException:
    """Run the SDK call in a daemon thread, bounded by `timeout` (the call cannot be
    interrupted; a thread that runs on is abandoned)."""
    box: list[dict[str, str] | BaseException] = []

    def run() -> None:
        try:
            box.append(work())
        except Exception as exc:  # Helm's errors, handed back to the caller
            box.append(exc)

    worker = threading.Thread(target=run, name="gccheck-helm-render", daemon=True)
    worker.start()
    worker.join(timeout)
    if not box:
        raise InputError(f"--chart {_shown(chart)}: Helm did not render it within {timeout:g} s")
    result = box[0]
    if isinstance(result, InputError):
        raise result
    return result


def _documents(text: str, redactor: Redactor) -> list[Manifest]:
    try:
        # libyaml when PyYAML has it: a big chart renders thousands of lines.
        docs = list(yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    except yaml.YAMLError as exc:
        raise InputError(f"--chart: the rendered manifests are not valid YAML: "
                         f"{_message(str(exc), redactor)}") from None
    return [doc for doc in docs if isinstance(doc, dict) and doc.get("kind")]
