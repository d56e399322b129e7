"""The documentation of one diagnostic code, for ``agentos explain AC112`` (ruff's ``rule``).

The text is the code's section of docs/codes.md, which ships inside the package; if
that file cannot be read (a trimmed install), the entry of the code table is used, so
the command always answers for every known code.
"""

from __future__ import annotations

import re

from agentos_contracts.codes import CODES


def _section(doc: str, code: str) -> str | None:
    start = re.search(rf"^### {code}\b.*$", doc, re.MULTILINE)
    if start is None:
        return None
    rest = doc[start.end():]
    end = re.search(r"^#{1,3} ", rest, re.MULTILINE)
    body = rest[: end.start()] if end else rest
    return (start.group(0).removeprefix("### ") + "\n\n" + body.strip()).strip() + "\n"


def explain(code: str) -> str | None:
    """Markdown-ish text for ``code`` (case-insensitive), or None for an unknown code."""
    code = code.strip().upper()
    entry = CODES.get(code)
    if entry is None:
        return None
    from agentos_contracts.resources import doc_text

    try:
        found = _section(doc_text("codes.md"), code)
    except OSError:
        found = None
    if found is not None:
        return found
    text = f"{code} `{entry.title}` ({entry.severity.value})\n\nMessage: {entry.message}\n"
    return text + (f"\nFix: {entry.hint}\n" if entry.hint else "")
