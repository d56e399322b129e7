"""Inline suppression of one finding: ``# agentos: ignore[AC119]`` on the line it is reported on.

Works in YAML and in policy files (both use ``#`` comments); several codes are
separated by commas (``ignore[AC119, AC114]``). Like ``--ignore``, a suppression never
hides an error from ``admit`` (the caller decides which diagnostics may be dropped).
"""

from __future__ import annotations

import re
from pathlib import Path

_MARK = re.compile(r"#\s*agentos:\s*ignore\[([A-Za-z0-9_,\s]+)\]")


def codes_on_line(text: str, line: int) -> frozenset[str]:
    """The codes a comment on ``line`` (from 1) of ``text`` silences."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines) or "agentos" not in lines[line - 1]:
        return frozenset()
    out: set[str] = set()
    for m in _MARK.finditer(lines[line - 1]):
        out.update(c.strip().upper() for c in m.group(1).split(",") if c.strip())
    return frozenset(out)


class Suppressions:
    """Reads each file once (or uses the text already loaded) to answer ``is_suppressed``."""

    def __init__(self, texts: dict[str, str] | None = None) -> None:
        self.texts: dict[str, str | None] = dict(texts or {})

    def _text(self, file: str) -> str | None:
        if file not in self.texts:
            try:
                self.texts[file] = None if file.startswith("<") or file == "-" else Path(file).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                self.texts[file] = None
        return self.texts[file]

    def is_suppressed(self, file: str, line: int, code: str) -> bool:
        if line < 1:
            return False
        text = self._text(file)
        return text is not None and code in codes_on_line(text, line)
