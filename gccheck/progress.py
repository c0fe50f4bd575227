"""A progress bar on stderr for `audit`: only on a terminal, never in logs or pipes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol, TextIO

from gccheck.model import Tally, TargetReport


class Progress(Protocol):
    def advance(self, report: TargetReport) -> None: ...

    def close(self) -> None: ...


class NoProgress:
    """What --quiet, a pipe or a log file get: nothing."""

    def advance(self, report: TargetReport) -> None:
        pass

    def close(self) -> None:
        pass


def render_bar(done: int, total: int, failing: int, unknown: int, width: int = 28) -> str:
    """One line: `[#####.......]  120/1000  3 failing  1 unknown`."""
    filled = width * done // total if total else width
    parts = [f"[{'#' * filled}{'.' * (width - filled)}]", f"{done:>{len(str(total))}}/{total}"]
    parts.append(f"{failing} failing")
    if unknown:
        parts.append(f"{unknown} unknown")
    return "gccheck audit " + "  ".join(parts)


class ProgressBar:
    """Redraws one line in place (carriage return), at most every `interval` seconds."""

    def __init__(self, total: int, stream: TextIO, *, strict: bool = False,
                 interval: float = 0.1, clock: Callable[[], float] = time.monotonic) -> None:
        self.total = total
        self.stream = stream
        self.strict = strict
        self.interval = interval
        self.clock = clock
        self.tally = Tally()
        self._drawn_at: float | None = None
        self._width = 0

    @property
    def done(self) -> int:
        return self.tally.total

    @property
    def failing(self) -> int:
        return self.tally.not_ready

    @property
    def unknown(self) -> int:
        return self.tally.unverified

    def advance(self, report: TargetReport) -> None:
        self.tally = self.tally.plus(report.verdict(self.strict))
        now = self.clock()
        if (self._drawn_at is None or now - self._drawn_at >= self.interval
                or self.done == self.total):
            self._draw(now)

    def _draw(self, now: float) -> None:
        line = render_bar(self.done, self.total, self.failing, self.unknown)
        # Pad to the last line's width so a shorter line leaves no leftovers.
        self.stream.write("\r" + line.ljust(self._width))
        self.stream.flush()
        self._width = len(line)
        self._drawn_at = now

    def close(self) -> None:
        """Erase the bar, so what follows on stderr starts on a clean line."""
        if self._drawn_at is not None:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()


def progress_for(total: int, stream: TextIO, *, quiet: bool = False,
                 strict: bool = False) -> Progress:
    """A bar when `stream` is a terminal and not --quiet; otherwise nothing at all."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real stream
        tty = False
    if quiet or not tty or total <= 0:
        return NoProgress()
    return ProgressBar(total, stream, strict=strict)
