"""README.md says what gccheck does: each test compares a README passage with the real output.

Cheap checks only (no network): the Prometheus metrics the format writes, the matrix table
`gccheck matrix --format markdown` prints, the audit's stderr under `--quiet`, the fleet
example (loaded by the real fleet loader), and what the demo's Azure part needs.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from support.constants import REPO
from support.run import run_gccheck

README = (REPO / "README.md").read_text()


def section(heading: str) -> str:
    """The README text under `heading` (a whole line), up to the next heading of its level."""
    level = heading.split(" ", 1)[0]
    start = README.index(f"\n{heading}\n") + len(heading) + 2
    end = README.find(f"\n{level} ", start)
    return README[start:] if end == -1 else README[start:end]


def code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)


def markdown_table(text: str) -> list[list[str]]:
    """The first pipe table in `text`, as rows of cells (the delimiter row left out)."""
    rows: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(re.fullmatch(r":?-+:?", c) for c in cells):
                rows.append(cells)
        elif rows:
            break
    assert rows, "no table found"
    return rows


def plain(cell: str) -> str:
    """A cell's text without Markdown code spans or escapes, whitespace collapsed."""
    return " ".join(cell.replace("`", "").replace("\\", "").split())


# ---- Prometheus -------------------------------------------------------------------------------


def test_every_prometheus_metric_is_in_the_readme() -> None:
    from gccheck.formats import get_format
    from gccheck.model import Kind, Report, Result, Status, TargetReport

    target = TargetReport(
        name="prod", hosting="on-prem", provider="aws", bucket="s3://b",
        results=(Result("bucket-versioning", Kind.REQUIREMENT, Status.PASS, "ok"),
                 Result("noncurrent-never-expire", Kind.ADVISORY, Status.WARN, "no rule")))
    text = get_format("prometheus").render(Report(targets=(target,), version="0.0.0"))
    names = re.findall(r"^# TYPE (\S+) ", text, flags=re.MULTILINE)
    assert len(names) >= 5, text
    for name in names:
        samples = re.findall(rf"^{name}(?:\{{(.*?)\}})? ", text, flags=re.MULTILINE)
        assert samples, f"{name} has no sample in {text}"
        labels = re.findall(r'(\w+)="', samples[0])
        documented = f"{name}{{{','.join(labels)}}}" if labels else name
        assert f"`{documented}`" in README, f"README.md does not list {documented}"


# ---- the hosting matrix -----------------------------------------------------------------------


def hosting_id(cell: str) -> str:
    """`on-prem` from "`on-prem` (customer-managed)" or "Customer-managed on-prem (on-prem)"."""
    code = re.search(r"`([a-z-]+)`", cell)
    if code:
        return code.group(1)
    last = re.findall(r"\(([a-z-]+)\)", plain(cell))
    assert last, cell
    return last[-1]


def by_hosting(rows: list[list[str]]) -> dict[str, list[str]]:
    return {hosting_id(row[0]): [plain(c) for c in row[1:]] for row in rows[1:]}


def test_readme_matrix_table_is_what_gccheck_matrix_prints() -> None:
    result = run_gccheck("matrix", "--format", "markdown")
    assert result.code == 0, result.err
    printed = markdown_table(result.out)
    documented = markdown_table(section("## The hosting matrix"))
    assert [plain(c) for c in documented[0]] == [plain(c) for c in printed[0]]
    assert by_hosting(documented) == by_hosting(printed)


# ---- audit: --quiet ---------------------------------------------------------------------------


def test_quiet_drops_the_summary_line_as_the_readme_says(tmp_path: Path) -> None:
    # No bucket: nothing is sent anywhere, the storage requirements are unverified (exit 3).
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(yaml.safe_dump({"deployments": [
        {"name": "a", "hosting": "on-prem", "env": {"GORILLA_ARTIFACT_GC_ENABLED": "true"}}]}))
    loud = run_gccheck("audit", str(fleet))
    quiet = run_gccheck("audit", str(fleet), "--quiet")
    assert loud.code == quiet.code == 3
    summary = loud.err.strip().splitlines()[-1]
    assert summary.startswith("gccheck audit: ")
    assert quiet.err == "" and quiet.out == loud.out
    # The README quotes the line (other numbers allowed) and says --quiet silences it.
    shape = re.sub(r"\d+", r"\\d+", re.escape(summary)).replace(r"deployment:", r"deployments?:")
    audit = section("### 3. As a fleet audit")
    assert re.search(f"`{shape}`", audit), f"README.md does not show {summary!r}"
    assert re.search(r"progress bar[^.]*summary line[^.]*`--quiet` silences both", audit)


# ---- the fleet example ------------------------------------------------------------------------


def test_readme_fleet_example_loads_and_shows_endpoint_keys(tmp_path: Path) -> None:
    from gccheck.fleet import load_fleet
    from gccheck.matrix import load_matrix
    from gccheck.rules import RULES
    from gccheck.target import EnvFile, InlineEnv

    example = code_blocks(section("### 3. As a fleet audit"), "yaml")[0]
    (tmp_path / "fleet.yaml").write_text(example)
    (tmp_path / "lab.env").write_text("GORILLA_ARTIFACT_GC_ENABLED=true\nBUCKET=s3://wandb-lab\n")
    fleet = load_fleet(tmp_path / "fleet.yaml", load_matrix(None, RULES))
    with_endpoint = [s for s in fleet.specs if s.endpoint_url]
    assert {s.name for s in with_endpoint} >= {"minio-lab", "minio-ci"}
    # One shows keys in `env`, one keeps them out of the fleet file (env-file).
    assert any(isinstance(s.source, InlineEnv)
               and {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= set(s.source.env)
               for s in with_endpoint)
    assert any(isinstance(s.source, EnvFile) for s in with_endpoint)


# ---- quick start ------------------------------------------------------------------------------


def test_quick_start_says_what_the_azure_demo_needs() -> None:
    from gccheck.demo import azure

    quick_start = code_blocks(README, "sh")[0]
    assert "gccheck demo" in quick_start
    # The block holds just the two commands; what the Azure part needs follows it.
    assert [line for line in quick_start.splitlines()
            if line.strip() and not line.lstrip().startswith("#")] == [
        "python3 -m venv .venv && .venv/bin/pip install '.[demo]' && .venv/bin/gccheck demo",
        "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/pytest"]
    after = README.split(quick_start, 1)[1].split("\n\n", 2)[1]
    install = re.search(r"npm install [^ ]+ [^ ]+ azurite@[\d.]+", azure._INSTALL)
    assert install is not None, azure._INSTALL
    assert install.group(0) in after
    assert "Node.js" in after and "skipped" in after
    assert "Azure servers" not in quick_start and "GCS/Azure" not in quick_start



# ---- explain ----------------------------------------------------------------------------------


def test_the_cli_synopsis_shows_explain_without_an_id() -> None:
    synopsis = code_blocks(section("## CLI"), "")[0]
    assert "gccheck explain [ID]\n" in synopsis
    listed = run_gccheck("explain")
    assert listed.code == 0 and "bucket-versioning" in listed.out, listed.err
    assert "`gccheck explain` with no id lists the ids" in README
