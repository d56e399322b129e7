""""Did you mean" for unknown keys and names (difflib: no dependency needed)."""

from __future__ import annotations

import difflib
from typing import Iterable


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A hint naming the closest choice, or "" when nothing is close."""
    options = sorted(set(choices))
    exact = [c for c in options if c.lower() == word.lower()]
    close = exact or difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else ""


def expected(choices: Iterable[str]) -> str:
    return "expected one of: " + ", ".join(f"`{c}`" for c in sorted(set(choices)))
