"""The demo's last step, after every part has run (the fleet audit issue extends it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from gccheck.masking import Redactor
from gccheck.matrix import Matrix

if TYPE_CHECKING:
    from gccheck.demo import DemoCase


def run(cases: Sequence[DemoCase], matrix: Matrix, redactor: Redactor) -> None:
    """Nothing yet beyond the individual checks."""
