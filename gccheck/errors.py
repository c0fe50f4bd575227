"""The one exception type for mistakes a user can make (bad flag value, file, URL, matrix)."""

from __future__ import annotations


class InputError(Exception):
    """A problem with what the user gave gccheck; the CLI prints it on one line, exit code 2.

    The message must already be safe to print: callers mask secrets before raising.
    """

    def __init__(self, message: str) -> None:
        # Keep it to one line whatever the caller passed in.
        super().__init__(" ".join(message.split()))
