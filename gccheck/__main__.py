"""`python -m gccheck`: Ctrl-C is caught before anything else of gccheck is imported."""

# ruff: noqa: E402
# The C half of `signal`, loaded with the interpreter (`signal` itself would import enum).
import _signal  # type: ignore[import-not-found]
import os
import sys


def _interrupted(signum: int, frame: object) -> None:
    """Ctrl-C: gccheck.cli's handler once it is loaded (it also removes a half-written
    --output file), else the same line and exit code."""
    handler = getattr(sys.modules.get("gccheck.cli"), "_interrupted", None)
    if handler is not None:
        handler(signum, frame)
    try:
        os.write(2, b"gccheck: interrupted\n")
    finally:
        os._exit(130)


# Only when run (not imported); ignored (nohup, a background job) stays ignored.
if __name__ == "__main__" and _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler:
    _signal.signal(_signal.SIGINT, _interrupted)

from gccheck.cli import main

if __name__ == "__main__":
    main()
