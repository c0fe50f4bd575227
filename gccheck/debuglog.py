"""Debug logging without importing `logging` at start-up (it costs ~10 ms of a 0.15 s budget).

`--debug` configures logging (with a redacting filter); until then these calls only import
logging on the rare paths that log.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    import logging

    from gccheck.masking import Redactor


_enabled = False


def debug(name: str, message: str, *args: Any, exc_info: bool = False) -> None:
    """logging.getLogger(name).debug(...) under --debug; otherwise nothing, not even the
    import of logging."""
    if not _enabled:
        return
    import logging

    logging.getLogger(name).debug(message, *args, exc_info=exc_info)


def configure(redactor: Redactor) -> None:
    """Send debug logs to stderr, every line through the run's redactor."""
    import logging
    import traceback

    global _enabled
    _enabled = True

    class RedactingFilter(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            record.msg = redactor.redact(record.getMessage())
            record.args = None
            if record.exc_info:
                record.exc_text = redactor.redact(
                    "".join(traceback.format_exception(*record.exc_info)))
                record.exc_info = None
            return True

    handler: logging.Handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("gccheck debug: %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG)
    for noisy in ("botocore", "urllib3", "azure", "google", "kubernetes", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.INFO)


def quiet_unless_configured() -> None:
    """Without --debug, drop SDK warnings (azure-core logs some with tracebacks) instead of
    letting Python's last-resort handler print them on stderr; verdicts carry the reasons."""
    import logging

    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.NullHandler())


def route_warnings(redactor: Redactor) -> Callable[[], None]:
    """Show Python warnings as one masked, neutralised line on stderr; returns a function that
    puts the previous hook back.

    google-cloud-storage warns "Unknown lifecycle rule type received: {rule}" with the
    server's rule in it: as Python prints it, an echoed key or a terminal escape in that
    answer would reach the terminal untouched.
    """
    import warnings

    from gccheck.neutral import neutralise

    previous = warnings.showwarning

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: TextIO | None = None, line: str | None = None) -> None:
        text = neutralise(redactor.redact(str(message)))
        with contextlib.suppress(OSError, ValueError):  # stderr closed: nothing to tell
            sys.stderr.write(f"gccheck: warning: {category.__name__}: {text}\n")

    warnings.showwarning = show

    def restore() -> None:
        warnings.showwarning = previous

    return restore
