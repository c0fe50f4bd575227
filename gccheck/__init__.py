"""gccheck: will W&B Server's artifact garbage collection work on this deployment?"""

# The console script imports this package first: its Ctrl-C handler is installed here, before
# any other gccheck code runs, so an interrupt in start-up never shows gccheck's frames.
# `_signal` is the C half of `signal`, loaded with the interpreter.
import _signal  # type: ignore[import-not-found]

__version__ = "0.1.0"


def _interrupted(signum: int, frame: object) -> None:
    """Ctrl-C: gccheck.cli's handler once it is loaded (it also removes a half-written
    --output file and stops child processes), else one line and exit 130."""
    import os
    import sys

    handler = getattr(sys.modules.get("gccheck.cli"), "_interrupted", None)
    if handler is not None:
        handler(signum, frame)
    try:
        os.write(2, b"gccheck: interrupted\n")
    finally:
        os._exit(130)


def _started_as_console_script() -> bool:
    import sys

    main_file = getattr(sys.modules.get("__main__"), "__file__", None) or ""
    name = main_file.replace("\\", "/").rsplit("/", 1)[-1]
    return name.removesuffix(".exe").removesuffix("-script.py") == "gccheck"


# Only for the gccheck program, not a program that imports gccheck; SIGINT ignored (nohup, a
# background job) stays ignored.
if _started_as_console_script() and _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler:
    _signal.signal(_signal.SIGINT, _interrupted)
