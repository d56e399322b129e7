"""The request context every decision sees: fixed at start-up, or read from a file and re-read when it changes.

Only the operator sets context (``--context`` or ``--context-file``); nothing an MCP client
sends, neither arguments nor ``_meta``, reaches it. A context file that stops being one
JSON object while the gateway runs denies every call (with AC803) until it is fixed:
deciding with a stale or guessed context would be failing open.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def parse_context(text: str, where: str) -> dict[str, Any] | str:
    """The context object, or a message saying why ``text`` is not one."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        return f"{where} is not JSON: {exc}"
    if not isinstance(data, dict):
        return f"{where} must be a JSON object, not {type(data).__name__}"
    return data


class ContextSource:
    """``current()`` is the context (a dict) or why there is none (a message); a file is re-read on change."""

    def __init__(self, static: dict[str, Any] | None = None, file: str | None = None) -> None:
        self._static = dict(static or {})
        self._file = Path(file) if file is not None else None
        self._stamp: tuple[int, int, int] | None = None
        self._value: dict[str, Any] | str = self._static

    def current(self) -> dict[str, Any] | str:
        if self._file is None:
            return self._value
        try:
            st = os.stat(self._file)
        except OSError as exc:
            self._stamp = None
            self._value = f"context file `{self._file}` cannot be read: {exc.strerror or exc}"
            return self._value
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if stamp != self._stamp:
            try:
                text = self._file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                self._value = f"context file `{self._file}` cannot be read: {exc}"
            else:
                self._value = parse_context(text, f"context file `{self._file}`")
            self._stamp = stamp
        return self._value
