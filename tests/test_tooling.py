"""The test suite's own guard: a tool .ci/run installs cannot go missing silently."""

from __future__ import annotations

import pytest
from support.run import missing_tool


def test_a_missing_tool_skips_locally_and_fails_when_required(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GCCHECK_REQUIRE_TOOLS", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no browser"):
        missing_tool("no browser")
    monkeypatch.setenv("GCCHECK_REQUIRE_TOOLS", "1")
    with pytest.raises(pytest.fail.Exception, match=r"no browser \(GCCHECK_REQUIRE_TOOLS=1"):
        missing_tool("no browser")
