"""`python -m gccheck`: Ctrl-C is caught before anything else of gccheck is imported.

Python imported the package first (gccheck/__init__.py, which installs the handler itself
only for the console script); its handler is used here too.
"""

# The C half of `signal`, loaded with the interpreter (`signal` itself would import enum).
import _signal  # type: ignore[import-not-found]

from gccheck import _interrupted

# Only when run (not imported); ignored (nohup, a background job) stays ignored.
if __name__ == "__main__" and _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler:
    _signal.signal(_signal.SIGINT, _interrupted)

from gccheck.cli import main

if __name__ == "__main__":
    main()
