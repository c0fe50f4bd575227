"""A stand-in `helm` binary that drives the real Helm SDK (helm-python-sdk).

No machine here can install a `helm` binary; this script answers `helm template` as Helm does,
with the same engine the SDK path uses, so the binary path of --chart is exercised for real.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

# A `helm` stand-in: `helm template RELEASE CHART --namespace NS --values F...` through the
# real Helm SDK, printing what `helm template` prints (documents with `# Source:` comments).
STAND_IN = textwrap.dedent("""\
    #!{python}
    import os, sys
    import helm_python as helm

    def merge(base, override):  # Helm's mergeMaps (pkg/cli/values/options.go)
        out = dict(base)
        for key, value in override.items():
            if isinstance(value, dict) and isinstance(out.get(key), dict):
                out[key] = merge(out[key], value)
            else:
                out[key] = value
        return out

    args = sys.argv[1:]
    with open(os.environ["HELM_STAND_IN_LOG"], "a") as log:
        log.write(" ".join(args) + "\\n")
    if args[:1] != ["template"]:
        sys.exit("Error: only `helm template` is stood in for")
    release, chart, namespace, values, rest = args[1], args[2], "default", {{}}, args[3:]
    while rest:
        flag, value, rest = rest[0], rest[1], rest[2:]
        if flag in ("-n", "--namespace"):
            namespace = value
        elif flag in ("-f", "--values"):
            with open(value) as handle:
                values = merge(values, helm.values_from_yaml(handle.read()) or {{}})
        else:
            sys.exit("Error: unknown flag: " + flag)
    try:
        with helm.Chart.load(chart) as loaded:
            rendered = loaded.render(values, name=release, namespace=namespace,
                                     is_install=True, is_upgrade=False)
    except helm.HelmError as exc:
        sys.stderr.write("Error: " + str(exc) + "\\n")
        sys.exit(1)
    for path, text in sorted(rendered.items()):
        if not path.endswith(".txt"):
            print("---\\n# Source: " + path + "\\n" + text)
""")


def install_stand_in(where: Path) -> dict[str, str]:
    """Write the stand-in as `where/bin/helm`; the environment whose PATH has only it (its
    calls are logged to `where/helm.log`)."""
    bin_dir = where / "bin"
    bin_dir.mkdir()
    script = bin_dir / "helm"
    script.write_text(STAND_IN.format(python=sys.executable))
    script.chmod(0o755)
    return {"PATH": str(bin_dir), "HELM_STAND_IN_LOG": str(where / "helm.log")}
