"""The hook image's Dockerfile. No container engine here: test what the build would do.

The build stage's context (what .dockerignore lets through and the COPY lines take) is copied
to a temporary directory and built into a wheel there; the final stage's `pip install` line
then runs, as written, into a fresh virtual environment, and the installed `gccheck` runs.
Offline differences, on purpose: the wheel is built without build isolation (hatchling comes
from the test venv), and pip gets `--no-index` with the runtime dependencies made visible from
the test venv, so that it proves they are satisfied without downloading them.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from support.constants import REPO

import gccheck

DOCKERFILE = REPO / "Dockerfile"


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def parse_dockerfile(text: str) -> list[Stage]:
    """Stages with their (INSTRUCTION, arguments); continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "Dockerfile ends in a line continuation"
    stages: list[Stage] = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword, args = keyword.upper(), " ".join(args.split())
        if keyword == "FROM":
            match = re.fullmatch(r"(\S+)(?: AS (\S+))?", args, re.I)
            assert match, f"cannot read FROM {args}"
            stages.append(Stage(match.group(1), match.group(2)))
        else:
            assert stages, f"{keyword} before the first FROM"
            stages[-1].instructions.append((keyword, args))
    return stages


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse_dockerfile(DOCKERFILE.read_text())


def build_and_final(stages: list[Stage]) -> tuple[Stage, Stage]:
    assert len(stages) == 2
    return stages[0], stages[1]


# ---- what the Dockerfile says -----------------------------------------------------------------


def test_slim_python_base_and_two_stages(stages: list[Stage]) -> None:
    build, final = build_and_final(stages)
    assert build.base == final.base == "python:3.12-slim"
    assert build.name == "build"
    assert any(re.search(r"python -m build --wheel\b", run) for run in build.all("RUN"))
    # The final stage takes the wheel from the build stage, not the source tree.
    copies = final.all("COPY")
    assert copies and all(c.startswith("--from=build ") for c in copies)


def test_runs_as_non_root_with_gccheck_as_entrypoint(stages: list[Stage]) -> None:
    _, final = build_and_final(stages)
    users = final.all("USER")
    assert len(users) == 1
    uid, _, gid = users[0].partition(":")
    assert uid.isdigit() and int(uid) != 0, "a numeric UID lets Kubernetes check runAsNonRoot"
    assert gid.isdigit() and int(gid) != 0
    # The Helm chart runs as the image's user.
    values = yaml.safe_load((REPO / "charts" / "gccheck" / "values.yaml").read_text())
    assert values["podSecurityContext"]["runAsUser"] == int(uid)
    assert values["podSecurityContext"]["runAsGroup"] == int(gid)
    # USER comes after everything that needs root.
    keywords = [kw for kw, _ in final.instructions]
    assert "RUN" not in keywords[keywords.index("USER"):]
    entrypoints = final.all("ENTRYPOINT")
    assert len(entrypoints) == 1
    assert json.loads(entrypoints[0]) == ["gccheck"]


def test_labelled_with_the_version(stages: list[Stage]) -> None:
    _, final = build_and_final(stages)
    args = dict(a.split("=", 1) for a in final.all("ARG") if "=" in a)
    assert args.get("VERSION") == gccheck.__version__
    labels = dict(re.findall(r'(\S+?)="([^"]*)"', " ".join(final.all("LABEL"))))
    assert labels["org.opencontainers.image.version"] == "${VERSION}"
    assert labels["org.opencontainers.image.title"] == "gccheck"
    assert "org.opencontainers.image.licenses" in labels


# ---- the build context ------------------------------------------------------------------------


def dockerignore_patterns() -> list[tuple[bool, str]]:
    patterns = []
    for line in (REPO / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            negated = line.startswith("!")
            patterns.append((negated, line.lstrip("!").strip("/")))
    return patterns


def _matches(pattern: str, path: str) -> bool:
    """A .dockerignore pattern matches the path or one of its parent directories."""
    parts = path.split("/")
    regex = re.escape(pattern).replace(r"\*\*/", "(?:.*/)?").replace(r"\*", "[^/]*")
    regex = regex.replace(r"\?", "[^/]")
    return any(re.fullmatch(regex, "/".join(parts[:i])) for i in range(1, len(parts) + 1))


def in_context(path: str) -> bool:
    """Docker's rule: the last pattern that matches decides."""
    included = True
    for negated, pattern in dockerignore_patterns():
        if _matches(pattern, path):
            included = negated
    return included


def build_context_files() -> list[Path]:
    files = []
    for path in REPO.rglob("*"):
        relative = path.relative_to(REPO).as_posix()
        if relative.startswith((".git/", ".venv/")) or not path.is_file():
            continue
        if in_context(relative):
            files.append(path)
    return files


def test_dockerignore_keeps_only_the_build_inputs() -> None:
    for needed in ("pyproject.toml", "README.md", "matrix.yaml", "gccheck/__init__.py",
                   "gccheck/cli.py"):
        assert in_context(needed), needed
    for left_out in (".venv/bin/python", ".git/HEAD", "tests/conftest.py", "charts/gccheck/Chart.yaml",
                     "gccheck/__pycache__/cli.cpython-312.pyc", "Dockerfile", "docs/helm-hook.md"):
        assert not in_context(left_out), left_out


@pytest.fixture(scope="module")
def wheel(stages: list[Stage], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel the build stage makes, from the files it copies out of the context."""
    build, _ = build_and_final(stages)
    context = {p.relative_to(REPO).as_posix() for p in build_context_files()}
    workdir = tmp_path_factory.mktemp("docker-build") / "src"
    workdir.mkdir()
    for copy in build.all("COPY"):
        *sources, _destination = shlex.split(copy)
        for source in sources:
            source = source.rstrip("/")
            chosen = [f for f in context if f == source or f.startswith(source + "/")]
            assert chosen, f"COPY {source}: not in the build context"
            for relative in chosen:
                target = workdir / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(REPO / relative, target)
    dist = workdir.parent / "dist"
    proc = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation",
                           "--outdir", str(dist), str(workdir)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    wheels = list(dist.glob("*.whl"))
    assert len(wheels) == 1
    return wheels[0]


def test_wheel_is_the_version_the_image_is_labelled_with(wheel: Path) -> None:
    assert wheel.name.startswith(f"gccheck-{gccheck.__version__}-")


def _runtime_site_packages(into: Path) -> Path:
    """The test venv's packages minus gccheck itself: the runtime dependencies, visible offline."""
    site = Path(sysconfig.get_paths()["purelib"])
    deps = into / "deps"
    deps.mkdir()
    for entry in site.iterdir():
        if entry.name.startswith(("gccheck", "_editable_impl_gccheck", "__editable__")):
            continue
        (deps / entry.name).symlink_to(entry)
    return deps


@pytest.fixture(scope="module")
def image_env(stages: list[Stage], wheel: Path,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv where the final stage's `pip install` line ran: the image's /usr/local."""
    _, final = build_and_final(stages)
    root = tmp_path_factory.mktemp("image")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    purelib = subprocess.run([str(venv / "bin" / "python"), "-c",
                              "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    (Path(purelib) / "gccheck-test-deps.pth").write_text(f"{_runtime_site_packages(root)}\n")

    (copy,) = final.all("COPY")
    source, destination = shlex.split(copy.removeprefix("--from=build "))
    assert source.rstrip("/") == "/dist"
    steps = [s.strip() for run in final.all("RUN") for s in run.split("&&")]
    installs = [s for s in steps if s.startswith("pip install")]
    assert len(installs) == 1, steps
    words = shlex.split(installs[0])[2:]
    targets = [w for w in words if not w.startswith("-")]
    # Only the wheel: no source tree, no extras, no requirements file, no editable install.
    assert targets == [destination.rstrip("/") + "/*.whl"], words
    assert not {"-e", "--editable", "-r", "--requirement"} & set(words)
    options = [w for w in words if w.startswith("-")]
    proc = subprocess.run([str(venv / "bin" / "pip"), "install", *options, "--no-index",
                           str(wheel)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    yield venv


def _run_installed(venv: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(venv.parent), "NO_COLOR": "1"}
    # cwd outside the repository: the installed wheel must be what runs.
    return subprocess.run([str(venv / "bin" / "gccheck"), *args], capture_output=True,
                          text=True, env=env, cwd=venv.parent, timeout=60)


def test_install_step_installs_the_wheel(image_env: Path) -> None:
    version = _run_installed(image_env, "--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"gccheck, version {gccheck.__version__}"
    where = subprocess.run([str(image_env / "bin" / "python"), "-c",
                            "import gccheck; print(gccheck.__file__)"], capture_output=True,
                           text=True, cwd=image_env.parent, check=True).stdout
    assert Path(where).resolve().is_relative_to(image_env.resolve())
    # matrix.yaml travels inside the wheel.
    matrix = _run_installed(image_env, "matrix", "--format", "json")
    assert matrix.returncode == 0, matrix.stderr
    assert "customer-managed-cloud" in json.loads(matrix.stdout)["hosting-types"]


def test_image_default_command_is_help(stages: list[Stage], image_env: Path) -> None:
    _, final = build_and_final(stages)
    (cmd,) = final.all("CMD")
    shown = _run_installed(image_env, *json.loads(cmd))
    assert shown.returncode == 0 and "check" in shown.stdout
    assert os.access(image_env / "bin" / "gccheck", os.X_OK)
