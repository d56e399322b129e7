"""The documented JSON shape: ``{"ok", "files", "diagnostics"}`` (interfaces.md)."""

from __future__ import annotations

import json
from typing import Any, TextIO


def render(report: Any, stream: TextIO) -> None:
    doc = {
        "ok": report.ok,
        "files": list(report.files),
        "diagnostics": [d.to_json() for d in report.diagnostics],
    }
    stream.write(json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
