""""Did you mean": the closest known name to one the user mistyped."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, known: Iterable[str]) -> str | None:
    """The known name `word` most likely meant ('-' and '_' confused, or a typo), if any."""
    names = list(known)
    dashed = word.replace("_", "-").lower()
    for name in names:
        if name.replace("_", "-").lower() == dashed:
            return name
    found = difflib.get_close_matches(dashed, names, n=1, cutoff=0.7)
    return found[0] if found else None


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """' (did you mean 'x'?)' when a known name is close to `word`, else ''."""
    found = closest(word, known)
    return f" (did you mean {found!r}?)" if found is not None and found != word else ""
