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


# The most of one debug record shown: an SDK logs a whole response body or a traceback that
# quotes one, and a server can make that 200 KB (a hostile <Code>); what it says is in the
# first few kilobytes.
RECORD_LIMIT = 8192


def shown(text: str, redactor: Redactor, limit: int = RECORD_LIMIT) -> str:
    """Text for a debug record or traceback on stderr: secrets redacted, then control, bidi and
    other invisible characters escaped (newlines and tabs kept, a traceback has lines), then
    cut to `limit` characters, saying how many were cut.

    Redacted before it is cut, so that a cut through a secret cannot hide it from the redactor.
    """
    from gccheck.neutral import neutralise

    text = neutralise(redactor.redact(text), None, multiline=True)
    if len(text) > limit:
        text = f"{text[:limit]}\n... ({len(text) - limit} more characters of this record cut)"
    return text


def configure(redactor: Redactor) -> None:
    """Send debug logs to stderr, every record (message, traceback and stack) redacted,
    neutralised and capped by `shown`."""
    import logging
    import traceback

    global _enabled
    _enabled = True

    class SafeRecordFilter(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            try:
                message = record.getMessage()
            except Exception:  # an SDK's bad format arguments: show what there is
                message = f"{record.msg!s} {record.args!r}"
            parts = [message]
            if record.exc_info:
                parts.append("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
            elif record.exc_text:
                parts.append(record.exc_text)
            if record.stack_info:
                parts.append(record.stack_info)
            # One text, so that the cap holds for the record as a whole.
            record.msg = shown("\n".join(parts), redactor)
            record.args = None
            record.exc_info = None
            record.exc_text = None
            record.stack_info = None
            return True

    handler: logging.Handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(SafeRecordFilter())
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
