"""OUTPUT FORMATS: render decided results; nothing here decides.

Each format is one module exposing ``render(report, stream)`` over the same
``validate.ValidationReport``; the registry maps format names to module paths so a
command only imports the renderer it uses.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO

from agentos_contracts.diagnostics import Diagnostic, has_errors


class Reporter(Protocol):
    def render(self, report: Any, stream: TextIO) -> None: ...


REPORTERS = {
    "text": "agentos_contracts.report.text",
    "json": "agentos_contracts.report.json_",
    "sarif": "agentos_contracts.report.sarif",
    "junit": "agentos_contracts.report.junit",
    "github": "agentos_contracts.report.github",
}


# notes that describe the run rather than the code (a folder scan skipped a file): kept out of
# code-scanning results and pull-request annotations; JUnit shows them as skipped test cases
NOT_FINDINGS = frozenset({"AC017"})


def findings(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.code not in NOT_FINDINGS]


def reporter(name: str) -> Reporter:
    return importlib.import_module(REPORTERS[name])  # type: ignore[return-value]


@dataclass(slots=True)
class Findings:
    """The diagnostics of any command in the shape every reporter reads (files, diagnostics, sources).

    ``validate`` renders its own ``ValidationReport``; ``test``, ``admit`` and ``sched`` wrap
    their findings in this to offer SARIF, JUnit and GitHub output as well.
    """

    command: str
    files: list[str]
    diagnostics: list[Diagnostic]
    sources: dict[str, str] = field(default_factory=dict)
    warnings_as_errors: bool = False

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics, self.warnings_as_errors)
