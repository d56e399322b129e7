"""Diagnostics: the one shape every stage reports problems in.

Stages return findings as values (``Result``) instead of raising, so CI sees every
problem of a run at once; only the CLI turns them into exit codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Generic, Iterable, TypeVar

T = TypeVar("T")


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True, slots=True)
class Span:
    """A place in a source file; lines and columns count from 1 (code points)."""

    file: str
    line: int = 1
    column: int = 1
    end_line: int | None = None
    end_column: int | None = None

    @staticmethod
    def file_start(file: str) -> "Span":
        return Span(file, 1, 1)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding: where, how bad, which stable code, what and how to fix it."""

    span: Span
    severity: Severity
    code: str
    message: str
    path: str = ""
    hint: str = ""

    @property
    def file(self) -> str:
        return self.span.file

    @property
    def line(self) -> int:
        return self.span.line

    @property
    def column(self) -> int:
        return self.span.column

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.span.file, self.span.line, self.span.column, self.code, self.message)

    def to_json(self) -> dict[str, Any]:
        """The documented JSON shape (interfaces.md); keys are never renamed."""
        out: dict[str, Any] = {
            "file": self.span.file,
            "line": self.span.line,
            "column": self.span.column,
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
            "path": self.path,
            "hint": self.hint,
        }
        if self.span.end_line is not None:
            out["end_line"] = self.span.end_line
            out["end_column"] = self.span.end_column
        return out


def make(
    code: str,
    span: Span,
    message: str | None = None,
    *,
    path: str = "",
    hint: str | None = None,
    severity: Severity | None = None,
    **fmt: Any,
) -> Diagnostic:
    """Build a diagnostic from the code table, so titles, hints and severities live in one place."""
    from agentos_contracts.codes import CODES

    entry = CODES[code]
    msg = message if message is not None else entry.message.format(**fmt)
    hnt = hint if hint is not None else entry.hint.format(**fmt)
    return Diagnostic(span, severity or entry.severity, code, msg, path, hnt)


@dataclass(slots=True)
class Result(Generic[T]):
    """A stage's value plus everything it found on the way."""

    value: T | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)

    def extend(self, diags: Iterable[Diagnostic]) -> None:
        self.diagnostics.extend(diags)


def sort_diagnostics(diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sorted by file, line, column, code (interfaces.md) and without exact repeats."""
    seen: set[tuple[Any, ...]] = set()
    out: list[Diagnostic] = []
    for d in sorted(diags, key=Diagnostic.sort_key):
        key = (d.sort_key(), d.path, d.severity)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def has_errors(diags: Iterable[Diagnostic], warnings_as_errors: bool = False) -> bool:
    return any(d.is_error or (warnings_as_errors and d.severity is Severity.WARNING) for d in diags)
