"""The test suite's own guards: a tool .ci/run installs cannot go missing silently, and the
shared helpers keep one home (tests/support)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support.constants import TESTS
from support.run import missing_tool


def test_a_missing_tool_skips_locally_and_fails_when_required(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GCCHECK_REQUIRE_TOOLS", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no browser"):
        missing_tool("no browser")
    monkeypatch.setenv("GCCHECK_REQUIRE_TOOLS", "1")
    with pytest.raises(pytest.fail.Exception, match=r"no browser \(GCCHECK_REQUIRE_TOOLS=1"):
        missing_tool("no browser")


SHARED = ("REPO", "FIXTURES", "TEST_KEY", "TEST_SECRET", "GC_ON", "NONCURRENT_RULE")


@pytest.mark.parametrize("path", sorted(TESTS.rglob("test_*.py")),
                         ids=lambda p: str(p.relative_to(TESTS)))
def test_a_test_file_takes_shared_helpers_from_support(path: Path) -> None:
    """No helper is imported from conftest or a module moved into support/, no shared constant
    is defined again, and no path is built from the file's own place (it moves with the layout)."""
    text = path.read_text()
    stale = re.findall(r"^\s*(?:from|import) (conftest|cloud_servers|faults|k8s_api|recording_proxy|"
                       r"cpu_load)\b", text, re.M)
    assert stale == [], f"import these from support.*, not {stale}"
    copies = [name for name in SHARED if re.search(rf"^{name}\s*=", text, re.M)]
    assert copies == [], f"{copies} are in support/constants.py"
    own_place = "Path(" + "__file__)"  # spelt in two, so that this file passes its own test
    assert own_place not in text, "use REPO, TESTS or FIXTURES from support.constants"
