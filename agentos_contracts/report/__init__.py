"""OUTPUT FORMATS: render decided results; nothing here decides.

Each format is one module exposing ``render(report, stream)`` over the same
``validate.ValidationReport``; the registry maps format names to module paths so a
command only imports the renderer it uses.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol, TextIO


class Reporter(Protocol):
    def render(self, report: Any, stream: TextIO) -> None: ...


REPORTERS = {
    "text": "agentos_contracts.report.text",
    "json": "agentos_contracts.report.json_",
    "sarif": "agentos_contracts.report.sarif",
    "junit": "agentos_contracts.report.junit",
    "github": "agentos_contracts.report.github",
}


def reporter(name: str) -> Reporter:
    return importlib.import_module(REPORTERS[name])  # type: ignore[return-value]
