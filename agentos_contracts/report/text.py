"""Compiler-style text: ``file:line:col: severity[CODE]: message``, the source line, a caret, the hint.

Colour only on a terminal, and never when ``NO_COLOR`` is set (no-color.org).
"""

from __future__ import annotations

import os
from typing import Any, Iterable, Mapping, TextIO

from agentos_contracts.diagnostics import Diagnostic, Severity

_COLOURS = {Severity.ERROR: "\x1b[1;31m", Severity.WARNING: "\x1b[1;33m", Severity.NOTE: "\x1b[1;36m"}
_BOLD, _DIM, _RESET, _CYAN = "\x1b[1m", "\x1b[2m", "\x1b[0m", "\x1b[36m"


def use_colour(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def format_diagnostic(d: Diagnostic, source: str | None, colour: bool = False) -> str:
    def c(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if colour else text

    head = f"{d.file}:{d.line}:{d.column}: " + c(_COLOURS[d.severity], f"{d.severity.value}[{d.code}]") + ": "
    lines = [head + c(_BOLD, d.message)]
    src_line = _line(source, d.line)
    if src_line is not None:
        num = str(d.line)
        pad = " " * len(num)
        width = 1
        if d.span.end_line == d.line and d.span.end_column and d.span.end_column > d.column:
            width = d.span.end_column - d.column
        width = max(1, min(width, len(src_line) - d.column + 1))
        lines.append(c(_DIM, f" {num} | ") + src_line.replace("\t", " "))
        lines.append(c(_DIM, f" {pad} | ") + " " * (d.column - 1) + c(_COLOURS[d.severity], "^" * width))
    if d.hint:
        lines.append(c(_CYAN, "  = hint: ") + d.hint)
    return "\n".join(lines)


def _line(source: str | None, line: int) -> str | None:
    if not source:
        return None
    parts = source.split("\n", line)
    if line - 1 < len(parts):
        return parts[line - 1].rstrip("\r")
    return None


def render_diagnostics(diags: Iterable[Diagnostic], sources: Mapping[str, str], stream: TextIO) -> None:
    colour = use_colour(stream)
    for d in diags:
        stream.write(format_diagnostic(d, sources.get(d.file), colour) + "\n")


def summary(diags: list[Diagnostic], files: int) -> str:
    errors = sum(1 for d in diags if d.severity is Severity.ERROR)
    warnings = sum(1 for d in diags if d.severity is Severity.WARNING)
    noun = "file" if files == 1 else "files"
    if not errors and not warnings:
        return f"ok: {files} {noun} checked, no problems"
    return f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''} in {files} {noun}"


def render(report: Any, stream: TextIO) -> None:
    render_diagnostics(report.diagnostics, report.sources, stream)
    stream.write(summary(report.diagnostics, len(report.files)) + "\n")
