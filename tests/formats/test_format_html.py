"""The HTML report: self-contained, escaped, and checked in a real headless browser."""

from __future__ import annotations

import shutil
import struct
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from support.run import missing_tool

from gccheck.formats.html import Format
from gccheck.model import Kind, Report, Result, Status, TargetReport

REQ, ADV = Kind.REQUIREMENT, Kind.ADVISORY
FIX = "aws s3api put-bucket-versioning --bucket wandb-eu --versioning-configuration Status=Enabled"


def _report() -> Report:
    return Report(targets=(
        TargetReport("prod-us", "customer-managed-cloud", "aws", "s3://wandb-us", (
            Result("gc-env-var", REQ, Status.PASS, "GORILLA_ARTIFACT_GC_ENABLED is 'true'"),
            Result("bucket-versioning", REQ, Status.PASS, "versioning is enabled"),
            Result("blob-soft-delete", REQ, Status.NOT_REQUIRED, "does not apply to AWS S3"),
            Result("ssc-provider", REQ, Status.NOT_REQUIRED, "not required"),
            Result("noncurrent-never-expire", ADV, Status.PASS, "noncurrent versions expire"),
        )),
        TargetReport("prod-eu <b>&", "on-prem", "aws", "s3://wandb-eu", (
            Result("gc-env-var", REQ, Status.FAIL, "GORILLA_ARTIFACT_GC_ENABLED is not set",
                   remediation="export GORILLA_ARTIFACT_GC_ENABLED=true"),
            Result("bucket-versioning", REQ, Status.FAIL, "versioning is suspended on wandb-eu",
                   remediation=FIX),
            Result("blob-soft-delete", REQ, Status.NOT_REQUIRED, "does not apply to AWS S3"),
            Result("ssc-provider", REQ, Status.NOT_REQUIRED, "not required"),
            Result("noncurrent-never-expire", ADV, Status.WARN, "no rule expires noncurrent",
                   remediation="aws s3api put-bucket-lifecycle-configuration ..."),
        ), notes=("bucket from values.yaml: global.bucket",)),
        TargetReport("azure-lab", "on-prem", "azure", "az://lab/files", (
            Result("gc-env-var", REQ, Status.PASS, "ok"),
            Result("bucket-versioning", REQ, Status.NOT_REQUIRED, "does not apply to Azure"),
            Result("blob-soft-delete", REQ, Status.UNKNOWN, "access denied: ... not allowed",
                   detail="missing permission: Microsoft.Storage/storageAccounts/blobServices/read"),
            Result("ssc-provider", REQ, Status.NOT_REQUIRED, "not required"),
            Result("immutability-policy", ADV, Status.PASS, "no immutability policy"),
        )),
    ), version="9.9.9", generated_at=1_700_000_000.0)


def test_self_contained_and_escaped() -> None:
    html = Format().render(_report())
    lowered = html.lower()
    for external in ("<script", "<link", "<img", "<iframe", " src=", "@import", "url(",
                     'href="http', "href='http"):
        assert external not in lowered
    assert "prod-eu &lt;b&gt;&amp;" in html and "prod-eu <b>" not in html
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert "2023-11-14 22:13 UTC" in html and "gccheck 9.9.9" in html


def test_summary_counts_and_grid_columns() -> None:
    html = Format().render(_report())
    assert '<span class="count ready" data-count="ready">1 ready</span>' in html
    assert 'data-count="not-ready">1 not ready</span>' in html
    assert 'data-count="unverified">1 unverified</span>' in html
    # Advisories of every provider get a column; where one does not apply the cell says so.
    assert 'data-check="immutability-policy" data-status=""' in html


def test_the_grid_shows_host_and_bucket_and_keeps_the_masked_url_in_the_tooltip() -> None:
    report = _report()
    minio = TargetReport("minio", "on-prem", "s3-compatible",
                         "s3://***:***@minio.corp.internal:9000/wandb-files",
                         report.targets[0].results)
    html = Format().render(Report(targets=(minio,), version="9.9.9", generated_at=0.0))
    assert ('<span class="sub" title="on-prem · s3://***:***@minio.corp.internal:9000/wandb-files"'
            '>on-prem · s3://minio.corp.internal:9000/wandb-files</span>') in html


def test_an_empty_fleet_still_renders() -> None:
    html = Format().render(Report((), "1"))
    assert "0 deployments" in html and "Nothing to fix" in html


# ---- in a real browser ---------------------------------------------------------------------

BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage", "--mute-audio"]


@pytest.fixture(scope="module")
def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    missing_tool("no headless browser: install Debian's chromium (apt-get install chromium; "
                 ".ci/run does) to check the HTML report in a real browser")


def _browser(chromium: str, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run([chromium, *BROWSER_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=90, check=False)


class _Dom(HTMLParser):
    """What the browser's DOM holds: grid rows, cells, summary counts, fixes."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, dict[str, str]] = {}
        self.verdicts: dict[str, str] = {}
        self.counts: dict[str, str] = {}
        self.fixes: list[str] = []
        self.items: list[tuple[str, str, str]] = []
        self._row: str | None = None
        self._text: list[str] | None = None
        self._target: str | None = None
        self._count: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "tr" and "data-deployment" in a:
            self._row = a["data-deployment"]
            self.rows[self._row] = {}
            self.verdicts[self._row] = a["data-verdict"]
        elif tag == "td" and "data-check" in a and self._row is not None:
            self.rows[self._row][a["data-check"]] = a["data-status"]
        elif tag == "section" and "data-deployment" in a:
            self._target = a["data-deployment"]
        elif tag == "div" and "data-check" in a and self._target is not None:
            self.items.append((self._target, a["data-check"], a["data-status"]))
        elif tag == "pre" and "fix" in a.get("class", ""):
            self._text = []
        elif tag == "span" and "data-count" in a:
            self._count = a["data-count"]
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self._row = None
        elif tag == "pre" and self._text is not None:
            self.fixes.append("".join(self._text))
            self._text = None
        elif tag == "span" and self._count is not None and self._text is not None:
            self.counts[self._count] = "".join(self._text)
            self._count, self._text = None, None

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("html")
    path = folder / "report.html"
    path.write_text(Format().render(_report()), encoding="utf-8")
    yield path


def test_the_browser_shows_the_grid_statuses_and_fixes(chromium: str, page: Path,
                                                       tmp_path: Path) -> None:
    run = _browser(chromium, tmp_path, "--dump-dom", page.as_uri())
    assert run.returncode == 0, run.stderr[-2000:]
    dom = _Dom()
    dom.feed(run.stdout)
    report = _report()
    assert list(dom.rows) == [t.name for t in report.targets]
    for target in report.targets:
        statuses = {r.id: r.status.value for r in target.results}
        shown = {k: v for k, v in dom.rows[target.name].items() if v}
        assert shown == statuses
    assert dom.verdicts == {"prod-us": "ready", "prod-eu <b>&": "not ready",
                            "azure-lab": "unverified"}
    assert dom.counts == {"ready": "1 ready", "not-ready": "1 not ready",
                          "unverified": "1 unverified"}
    # Each failure (and warning) with its fix, in the section of its deployment.
    assert ("prod-eu <b>&", "bucket-versioning", "fail") in dom.items
    assert ("azure-lab", "blob-soft-delete", "unknown") in dom.items
    assert FIX in dom.fixes and "export GORILLA_ARTIFACT_GC_ENABLED=true" in dom.fixes
    assert not any(name == "prod-us" for name, _, _ in dom.items)  # nothing to fix there


def test_the_browser_renders_a_screenshot(chromium: str, page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    run = _browser(chromium, tmp_path, f"--screenshot={shot}", "--window-size=1280,900",
                   "--hide-scrollbars", page.as_uri())
    assert run.returncode == 0, run.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1280, 900)
    assert len(data) > 20_000  # a page with content, not a blank image
